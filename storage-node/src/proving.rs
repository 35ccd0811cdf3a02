//! The WindowPoSt scheduler.
//!
//! Once a second it reads the provider's deadlines from the ledger. When
//! the open deadline has sectors to prove and no accepted proof yet, it
//! raises the shared "proving" flag (sealing starts no new phase until it
//! drops), waits for the window's randomness, checks every sector's files
//! by opening its challenged leaves against CommRLast (what the proof
//! will do), proves the healthy ones with Groth16 and submits
//! SubmitWindowPost, logging how many epochs before the window's close it
//! landed. A sector that fails its check is never proven with made-up
//! data: it is declared faulty on the ledger (DeclareFaults, which takes
//! it out of the window's set, so the others are still proven and paid)
//! and reported to the sealing shell with the reason; the ledger charges
//! its fault fee when the window closes. Faulty
//! sectors whose files check out again are declared recovered
//! (DeclareRecovery), so they are proven at their next deadline.
//!
//! The WindowPoSt proving key is loaded on first use and kept: it is
//! small next to the PoRep key, and a deadline must not wait on a load.
//! Checks and proofs run on a thread pool of their own: in the global
//! pool they would queue behind a running Commit 2's parallel work for
//! its whole length, and a window can be shorter than one Commit 2.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cairn_ledger::ProviderId;
use cairn_ledger::SectorNumber;
use cairn_ledger::tx::TxBody;
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::post::ProvingSector;
use cairn_proofs::sdr::SectorId;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::groth16::ProvingKey;
use cairn_proofs::snark::{params, prove};
use cairn_types::ledger::{DeadlinesInfo, LedgerParams};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::sync::{mpsc, watch};

use crate::intake::LedgerView;
use crate::sealing::submit::SubmitError;
use crate::sealing::{Note, Shared};

const POLL: Duration = Duration::from_secs(1);
/// A failed attempt in an open window is tried again after this long.
const RETRY: Duration = Duration::from_secs(3);
/// How often a faulty sector's files are checked for recovery.
const RECOVERY_CHECK: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Window {
    deadline: u64,
    open: u64,
    close: u64,
    sectors: usize,
    proven: bool,
    /// Given up for this window: every sector left to prove failed its
    /// check and was declared faulty (not a missed deadline: the ledger
    /// was told).
    given_up: bool,
    last_try: Option<Instant>,
}

/// The WindowPoSt task.
pub struct Prover {
    sh: Arc<Shared>,
    view: watch::Receiver<LedgerView>,
    notes: mpsc::Sender<Note>,
    params: Option<LedgerParams>,
    pk: Option<Arc<ProvingKey>>,
    window: Option<Window>,
    recovery_checked: BTreeMap<u64, Instant>,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl std::fmt::Debug for Prover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover")
            .field("window", &self.window)
            .finish()
    }
}

impl Prover {
    /// A prover reporting to the sealing shell through `notes`.
    pub fn new(
        sh: Arc<Shared>,
        view: watch::Receiver<LedgerView>,
        notes: mpsc::Sender<Note>,
    ) -> Self {
        Self {
            sh,
            view,
            notes,
            params: None,
            pk: None,
            window: None,
            recovery_checked: BTreeMap::new(),
            pool: None,
        }
    }

    /// The proving pool (one thread per core, built on first use).
    fn pool(&mut self) -> Result<Arc<rayon::ThreadPool>, String> {
        if let Some(p) = &self.pool {
            return Ok(p.clone());
        }
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("window-post-{i}"))
            .build()
            .map_err(|e| format!("starting the WindowPoSt threads: {e}"))?;
        let pool = Arc::new(pool);
        self.pool = Some(pool.clone());
        Ok(pool)
    }

    /// Runs until the task is aborted.
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_error = String::new();
        loop {
            tick.tick().await;
            match self.step().await {
                Ok(()) => last_error.clear(),
                Err(e) => {
                    if e != last_error {
                        tracing::warn!("proving: {e}");
                        last_error = e;
                    }
                }
            }
        }
    }

    async fn step(&mut self) -> Result<(), String> {
        let Some(provider) = self.view.borrow().provider else {
            return Ok(());
        };
        if self.params.is_none() {
            self.params = Some(self.sh.ledger.params().await.map_err(|e| e.to_string())?);
        }
        let dl = self
            .sh
            .ledger
            .deadlines(provider.0)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(w) = &self.window
            && w.open != dl.current_window_open
        {
            if w.given_up {
                tracing::info!(
                    "deadline {}: window [{}, {}) closed with its failing sectors declared faulty",
                    w.deadline,
                    w.open,
                    w.close
                );
            } else if !w.proven {
                self.sh.metrics.deadlines_missed.inc();
                tracing::warn!(
                    "deadline {}: window [{}, {}) closed without a proof for its {} sectors",
                    w.deadline,
                    w.open,
                    w.close,
                    w.sectors
                );
            }
            self.window = None;
        }
        let due = !dl.to_prove.is_empty() && !dl.current_proven;
        if dl.current_proven
            && let Some(w) = &mut self.window
        {
            w.proven = true;
        }
        let w = self.window.get_or_insert(Window {
            deadline: dl.current_deadline,
            open: dl.current_window_open,
            close: dl.current_window_close,
            sectors: dl.to_prove.len(),
            proven: dl.current_proven || dl.to_prove.is_empty(),
            given_up: false,
            last_try: None,
        });
        let busy = due && !w.given_up;
        self.sh.post_busy.store(busy, Ordering::Release);
        if busy && w.last_try.is_none_or(|t| t.elapsed() >= RETRY) {
            w.last_try = Some(Instant::now());
            self.prove(provider, &dl).await?;
        } else if !busy {
            self.recover(provider, &dl).await?;
        }
        Ok(())
    }

    async fn proving_key(&mut self) -> Result<Arc<ProvingKey>, String> {
        if let Some(pk) = &self.pk {
            return Ok(pk.clone());
        }
        let dir = self.sh.params_dir.clone();
        let post = self.sh.proof().window_post();
        let pk = tokio::task::spawn_blocking(move || {
            params::window_post_keys(&dir, post, &mut |l| {
                tracing::info!("WindowPoSt parameters: {l}");
            })
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("WindowPoSt parameters: {e}"))?;
        let pk = Arc::new(pk.0);
        self.pk = Some(pk.clone());
        Ok(pk)
    }

    /// The epoch whose randomness challenges this window: its opening.
    ///
    /// Test hook: with `CAIRN_NODE_STALE_POST` set, the same deadline's
    /// opening one proving period earlier, so a test can watch the ledger
    /// refuse a stale proof sent through the node's real submission path.
    fn challenge_epoch(&self, dl: &DeadlinesInfo) -> u64 {
        let open = dl.current_window_open;
        if std::env::var_os("CAIRN_NODE_STALE_POST").is_some()
            && let Some(p) = &self.params
        {
            let period = p.deadlines_per_period * p.deadline_window;
            if open >= period {
                tracing::warn!(
                    "deadline {}: proving against epoch {}'s randomness, a period stale (CAIRN_NODE_STALE_POST)",
                    dl.current_deadline,
                    open - period
                );
                return open - period;
            }
        }
        open
    }

    async fn prove(&mut self, provider: ProviderId, dl: &DeadlinesInfo) -> Result<(), String> {
        let Some(randomness) = self
            .sh
            .ledger
            .randomness(self.challenge_epoch(dl))
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let t0 = Instant::now();
        let sectors = dl.to_prove.clone();
        let sh = self.sh.clone();
        let pool = self.pool()?;
        let checked = {
            let sectors = sectors.clone();
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || {
                pool.install(|| {
                    sectors
                        .iter()
                        .map(|&n| {
                            (
                                n,
                                sh.sealing.check(n, randomness).map_err(|e| e.to_string()),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .await
            .map_err(|e| e.to_string())?
        };
        let bad: Vec<(u64, String)> = checked
            .into_iter()
            .filter_map(|(n, r)| r.err().map(|e| (n, e)))
            .collect();
        let bpe = self.params.as_ref().map_or(1, |p| p.blocks_per_epoch);
        let mut sectors = sectors;
        if !bad.is_empty() {
            for (n, why) in &bad {
                tracing::error!("sector {n} failed its WindowPoSt check: {why}");
                let _ = self.notes.send(Note::Fault(*n, why.clone())).await;
            }
            // Declared faulty, they leave this window's set, so the rest
            // can still be proven (never with made-up data).
            let body = TxBody::DeclareFaults {
                provider,
                sectors: bad.iter().map(|(n, _)| SectorNumber(*n)).collect(),
            };
            match self.sh.submitter.submit(body, bpe).await {
                Ok(_) => {
                    self.sh.metrics.faults_declared.inc_by(bad.len() as u64);
                    tracing::warn!(
                        "deadline {}: declared {} of its {} sectors faulty; they pay the fault fee when the window closes at epoch {}",
                        dl.current_deadline,
                        bad.len(),
                        sectors.len(),
                        dl.current_window_close
                    );
                }
                Err(e) => {
                    // Retried on the next tick; nothing is proven for a
                    // set the ledger still counts the bad sectors in.
                    return Err(format!("DeclareFaults: {e}"));
                }
            }
            sectors.retain(|n| bad.iter().all(|(b, _)| b != n));
            if sectors.is_empty() {
                if let Some(w) = &mut self.window {
                    w.given_up = true;
                }
                self.sh.post_busy.store(false, Ordering::Release);
                return Ok(());
            }
        }
        let proven = sectors.len();
        let pk = self.proving_key().await?;
        let sh = self.sh.clone();
        let proof = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            let mut loaded = Vec::with_capacity(sectors.len());
            for &n in &sectors {
                let pc2 = sh.sealing.load_pc2(n).map_err(|e| e.to_string())?;
                loaded.push((
                    n,
                    pc2,
                    sh.sealing.files.cache(n),
                    sh.sealing.files.sealed(n),
                ));
            }
            let proving: Vec<ProvingSector<'_>> = loaded
                .iter()
                .map(|(n, pc2, cache, sealed)| ProvingSector {
                    sector_id: SectorId(*n),
                    comm_c: pc2.comm_c,
                    comm_r_last: pc2.comm_r_last,
                    cache_dir: cache,
                    sealed,
                })
                .collect();
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            pool.install(|| {
                prove::window_post(
                    sh.proof().window_post(),
                    &PostRandomness::from_chain(randomness),
                    &proving,
                    &pk,
                    &CpuBackend,
                    &mut ChaCha20Rng::from_seed(seed),
                )
            })
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        let proved_in = t0.elapsed().as_secs_f64();
        let body = TxBody::SubmitWindowPost {
            provider,
            deadline: dl.current_deadline,
            proof,
        };
        match self.sh.submitter.submit(body, bpe).await {
            Ok(landed) => {
                let at = landed.epoch.unwrap_or(dl.epoch);
                let margin = dl.current_window_close.saturating_sub(at);
                self.sh
                    .metrics
                    .proofs
                    .with_label_values(&["window_post", "accepted"])
                    .inc();
                self.sh
                    .metrics
                    .post_seconds
                    .with_label_values(&["accepted"])
                    .observe(proved_in);
                self.sh
                    .metrics
                    .post_margin_epochs
                    .set(i64::try_from(margin).unwrap_or(i64::MAX));
                tracing::info!(
                    "deadline {}: WindowPoSt for {proven} sectors landed at epoch {at}, {margin} epochs before the window closes at {} (proved in {proved_in:.1} s)",
                    dl.current_deadline,
                    dl.current_window_close
                );
                if let Some(w) = &mut self.window {
                    w.proven = true;
                }
                self.sh.post_busy.store(false, Ordering::Release);
            }
            Err(SubmitError::Refused(why)) => {
                self.sh
                    .metrics
                    .proofs
                    .with_label_values(&["window_post", "refused"])
                    .inc();
                self.sh
                    .metrics
                    .post_seconds
                    .with_label_values(&["refused"])
                    .observe(proved_in);
                tracing::error!(
                    "deadline {}: WindowPoSt refused: {why}",
                    dl.current_deadline
                );
            }
            Err(e) => tracing::warn!("deadline {}: WindowPoSt: {e}", dl.current_deadline),
        }
        Ok(())
    }

    /// Declares recovery for faulty sectors whose files check out again.
    async fn recover(&mut self, provider: ProviderId, dl: &DeadlinesInfo) -> Result<(), String> {
        let due: Vec<u64> = dl
            .faulty
            .iter()
            .copied()
            .filter(|n| {
                self.recovery_checked
                    .get(n)
                    .is_none_or(|t| t.elapsed() >= RECOVERY_CHECK)
            })
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let Some(randomness) = self
            .sh
            .ledger
            .randomness(dl.epoch.saturating_sub(1))
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        for n in &due {
            self.recovery_checked.insert(*n, Instant::now());
        }
        let sh = self.sh.clone();
        let healthy = tokio::task::spawn_blocking(move || {
            due.into_iter()
                .filter(|&n| sh.sealing.check(n, randomness).is_ok())
                .collect::<Vec<u64>>()
        })
        .await
        .map_err(|e| e.to_string())?;
        if healthy.is_empty() {
            return Ok(());
        }
        let bpe = self.params.as_ref().map_or(1, |p| p.blocks_per_epoch);
        let body = TxBody::DeclareRecovery {
            provider,
            sectors: healthy.iter().map(|&n| SectorNumber(n)).collect(),
        };
        match self.sh.submitter.submit(body, bpe).await {
            Ok(_) => {
                tracing::info!(
                    "sectors {healthy:?} check out again: declared recovering, proven at their next deadline"
                );
                for n in healthy {
                    let _ = self.notes.send(Note::Recovered(n)).await;
                }
            }
            Err(e) => tracing::warn!("DeclareRecovery for {healthy:?}: {e}"),
        }
        Ok(())
    }
}
