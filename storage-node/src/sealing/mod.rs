//! The sealing shell: published deals' pieces into sectors, each sector
//! through PC1, PC2, PreCommitSector, the seed, C1, C2 and
//! ProveCommitSector, journaled at every step.
//!
//! The decisions are `cairn-sectors`' pure state machines ([`Packer`],
//! [`Sector`]); this module owns the clock (the ledger's epochs), the
//! journal ([`journal`]), the files and phases ([`phases`]) and the
//! ledger. Once a second it reads the provider's deals and sectors from
//! the ledger, packs new pieces, and moves every sector one step:
//!
//! - a phase runs on a blocking thread when its slot is free (`[sealing]`
//!   `pc1_slots`, `pc2_slots`, `c2_slots`), and never starts while one of
//!   the node's WindowPoSt deadlines is open and unproven (proving first);
//! - Commit 2 also takes a machine-wide file lock, so that nodes sharing a
//!   machine run one at a time, and loads the PoRep proving key only for
//!   its own run;
//! - the journal record is written (synced) after each event and before
//!   the phase it asks for starts, so a node killed anywhere resumes from
//!   its journal and, the ticket being fixed, reaches the same CommR;
//! - a sector whose earlier files are gone or damaged stops with the
//!   reason in its record (`cairn-node sectors status N`) and in the log.
//!
//! A refused PreCommit (a ticket too old, say) seals again with a new
//! ticket; a sector not prove-committed within the ledger's limit is
//! terminated with the reason. Deals that start too soon to be sealed are
//! reported once, with the reason, in the log and in `cairn-node deals
//! list` (kept in `sectors/unsealable.json`, see [`journal`]).

mod commit;
pub mod journal;
pub mod phases;
pub mod submit;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cairn_ledger::{CommP, ProviderId};
use cairn_proofs::porep::Commit1Output;
use cairn_proofs::sector::SealProof;
use cairn_sectors::pack::{Packer, Piece, Policy};
use cairn_sectors::sector::{Action, Event, Sector, State, Timing};
use cairn_types::ledger::{DealInfo, LedgerClient, LedgerParams, SectorsInfo};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::config::SealingConfig;
use crate::intake::LedgerView;
use crate::metrics::Metrics;
use crate::store::PieceStore;
use journal::Record;
use phases::Sealing;
use submit::Submitter;

/// How often the shell reads the ledger.
const POLL: Duration = Duration::from_secs(1);
/// A failed phase or submission is tried again after this long.
const RETRY: Duration = Duration::from_secs(20);

/// What the proving task tells the sealing shell about its sectors.
#[derive(Debug, Clone)]
pub enum Note {
    /// The sector failed its WindowPoSt check (or missed a window).
    Fault(u64, String),
    /// Its files check out again and DeclareRecovery landed.
    Recovered(u64),
}

/// What both tasks share.
#[derive(Debug)]
pub struct Shared {
    /// Pieces and the journal.
    pub store: Arc<PieceStore>,
    /// The validator API.
    pub ledger: LedgerClient,
    /// The worker's transactions.
    pub submitter: Submitter,
    /// The phases.
    pub sealing: Sealing,
    /// Metrics.
    pub metrics: Metrics,
    /// Set while one of the node's deadlines is open and unproven.
    pub post_busy: AtomicBool,
    /// Groth16 parameters.
    pub params_dir: PathBuf,
    /// The machine-wide Commit 2 lock file.
    pub c2_lock: PathBuf,
}

impl Shared {
    /// The node's seal proof.
    pub fn proof(&self) -> SealProof {
        self.sealing.proof
    }
}

enum Outcome {
    Pc1,
    Pc2 {
        comm_d: [u8; 32],
        comm_r: [u8; 32],
    },
    C1(Box<Commit1Output>),
    /// Seconds of the proof itself (the job's time also counts the wait
    /// for the machine-wide lock).
    C2 {
        proving_secs: f64,
    },
}

struct Done {
    sector: u64,
    phase: &'static str,
    secs: f64,
    result: Result<Outcome, String>,
}

/// The sealing task.
pub struct Sealer {
    sh: Arc<Shared>,
    cfg: SealingConfig,
    view: watch::Receiver<LedgerView>,
    notes: mpsc::Receiver<Note>,
    params: Option<LedgerParams>,
    packer: Option<Packer>,
    records: BTreeMap<u64, Record>,
    running: BTreeSet<u64>,
    c1: BTreeMap<u64, Box<Commit1Output>>,
    /// Deals the packer refused, with the reason (journaled beside the
    /// sector records).
    refused_deals: BTreeMap<u64, String>,
    memory_warned: BTreeSet<(u64, &'static str)>,
    /// Last submission or failure per sector: retried after [`RETRY`].
    waits: BTreeMap<u64, Instant>,
    pc1_slots: Arc<Semaphore>,
    pc2_slots: Arc<Semaphore>,
    c2_slots: Arc<Semaphore>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("sectors", &self.records.len())
            .finish()
    }
}

fn timing(p: &LedgerParams) -> Timing {
    Timing {
        seed_wait: p.seed_wait,
        max_prove_commit_wait: p.max_prove_commit_wait,
        max_ticket_age: p.max_ticket_age,
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

impl Sealer {
    /// A sealer; `notes` carries the proving task's findings.
    pub fn new(
        sh: Arc<Shared>,
        cfg: SealingConfig,
        view: watch::Receiver<LedgerView>,
        notes: mpsc::Receiver<Note>,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            pc1_slots: Arc::new(Semaphore::new(cfg.pc1_slots)),
            pc2_slots: Arc::new(Semaphore::new(cfg.pc2_slots)),
            c2_slots: Arc::new(Semaphore::new(cfg.c2_slots)),
            sh,
            cfg,
            view,
            notes,
            params: None,
            packer: None,
            records: BTreeMap::new(),
            running: BTreeSet::new(),
            c1: BTreeMap::new(),
            refused_deals: BTreeMap::new(),
            memory_warned: BTreeSet::new(),
            waits: BTreeMap::new(),
            done_tx,
            done_rx,
        }
    }

    /// Runs until the task is aborted.
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_error = String::new();
        loop {
            tokio::select! {
                Some(done) = self.done_rx.recv() => self.finish(done),
                Some(note) = self.notes.recv() => self.note(note),
                _ = tick.tick() => match self.step().await {
                    Ok(()) => last_error.clear(),
                    Err(e) => {
                        if e != last_error {
                            tracing::warn!("sealing: {e}");
                            last_error = e;
                        }
                    }
                },
            }
        }
    }

    fn timing(&self) -> Option<Timing> {
        self.params.as_ref().map(timing)
    }

    /// Applies `event` to sector `n`, journals it, and returns the actions.
    fn apply(&mut self, n: u64, event: Event) -> Vec<Action> {
        let Some(t) = self.timing() else {
            return Vec::new();
        };
        let Some(rec) = self.records.get_mut(&n) else {
            return Vec::new();
        };
        let before = rec.sector.clone();
        let actions = match rec.sector.apply(event, &t) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("{e}");
                return Vec::new();
            }
        };
        if rec.sector != before
            && let Err(e) = journal::save(&self.sh.store, rec)
        {
            // The record stays as it was on disk: undo, and try again
            // on the next tick.
            tracing::error!("sector {n}: journal write failed: {e}");
            rec.sector = before;
            return Vec::new();
        }
        for a in &actions {
            if let Action::Report(msg) = a {
                tracing::info!("{msg}");
            }
        }
        actions
    }

    fn finish(&mut self, d: Done) {
        self.running.remove(&d.sector);
        match d.result {
            Ok(outcome) => {
                let secs = match outcome {
                    Outcome::C2 { proving_secs } => proving_secs,
                    _ => d.secs,
                };
                self.sh
                    .metrics
                    .phase_seconds
                    .with_label_values(&[d.phase])
                    .observe(secs);
                tracing::info!(
                    "sector {}: {} done in {secs:.1} s ({:.1} s with waits)",
                    d.sector,
                    d.phase,
                    d.secs
                );
                self.waits.remove(&d.sector);
                let event = match outcome {
                    Outcome::Pc1 => Event::Pc1Done,
                    Outcome::Pc2 { comm_d, comm_r } => Event::Pc2Done { comm_d, comm_r },
                    Outcome::C1(c1) => {
                        self.c1.insert(d.sector, c1);
                        Event::C1Done
                    }
                    // C2 leaves the sector in `c2` until ProveCommit lands.
                    Outcome::C2 { .. } => return,
                };
                self.apply(d.sector, event);
            }
            Err(why) => {
                tracing::error!("sector {}: {} failed: {why}", d.sector, d.phase);
                self.waits.insert(d.sector, Instant::now());
                if let Some(rec) = self.records.get_mut(&d.sector) {
                    rec.sector.error = Some(format!("{}: {why}", d.phase));
                    if let Err(e) = journal::save(&self.sh.store, rec) {
                        tracing::error!("sector {}: journal write failed: {e}", d.sector);
                    }
                }
            }
        }
    }

    fn note(&mut self, note: Note) {
        match note {
            Note::Fault(n, why) => {
                if self
                    .records
                    .get(&n)
                    .is_some_and(|r| r.sector.state == State::Proving)
                {
                    self.apply(n, Event::Fault(why));
                }
            }
            Note::Recovered(n) => {
                if self
                    .records
                    .get(&n)
                    .is_some_and(|r| r.sector.state == State::Faulty)
                {
                    self.apply(n, Event::Recovered);
                }
            }
        }
    }

    async fn step(&mut self) -> Result<(), String> {
        let view = *self.view.borrow();
        let Some(provider) = view.provider else {
            return Ok(());
        };
        let sh = self.sh.clone();
        let ledger = &sh.ledger;
        if self.params.is_none() {
            self.params = Some(ledger.params().await.map_err(|e| e.to_string())?);
        }
        let status = ledger.status().await.map_err(|e| e.to_string())?;
        let epoch = status.epoch;
        let on_ledger = ledger
            .sectors(provider.0)
            .await
            .map_err(|e| e.to_string())?;
        if self.packer.is_none() {
            self.resume(&on_ledger)?;
        }
        let deals = ledger
            .deals_of_provider(provider.0)
            .await
            .map_err(|e| e.to_string())?;
        self.pack(&deals, epoch);
        let numbers: Vec<u64> = self.records.keys().copied().collect();
        for n in numbers {
            self.drive(n, epoch, provider, &on_ledger).await;
        }
        for s in State::ALL {
            let count = self
                .records
                .values()
                .filter(|r| r.sector.state == s)
                .count();
            self.sh
                .metrics
                .sectors
                .with_label_values(&[s.name()])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        Ok(())
    }

    /// Loads the journal and rebuilds the packer's open sectors.
    fn resume(&mut self, on_ledger: &SectorsInfo) -> Result<(), String> {
        self.records = journal::load(&self.sh.store).map_err(|e| e.to_string())?;
        // A damaged report only costs weighing those deals again (they are
        // refused again and the file rewritten), so it does not stop sealing.
        self.refused_deals = journal::load_unsealable(self.sh.store.dir()).unwrap_or_else(|e| {
            tracing::error!("{e}; weighing its deals again");
            BTreeMap::new()
        });
        // New sectors are numbered after every sector the journal or the
        // ledger knows (a lost journal must not reuse a number).
        let first = self
            .records
            .keys()
            .copied()
            .chain(on_ledger.sectors.iter().map(|s| s.number))
            .chain(on_ledger.precommits.iter().map(|p| p.number))
            .max()
            .map_or(1, |m| m + 1);
        let mut packer = Packer::new(
            Policy {
                sector_size: self.sh.proof().sector_size(),
                max_wait: self.cfg.max_wait,
                lead: self.cfg.lead,
            },
            first,
        );
        for (n, r) in &self.records {
            if r.sector.state == State::Packing
                && r.sector.ticket_epoch.is_none()
                && r.sector.error.is_none()
            {
                packer.reopen(*n, r.sector.pieces.clone(), r.opened);
            }
        }
        let unfinished = self
            .records
            .values()
            .filter(|r| !matches!(r.sector.state, State::Proving | State::Terminated))
            .count();
        tracing::info!(
            "sealing: {} sectors in the journal, {unfinished} not yet proving",
            self.records.len()
        );
        self.packer = Some(packer);
        Ok(())
    }

    /// Offers newly published deals to the packer and closes sectors that
    /// are due.
    fn pack(&mut self, deals: &[DealInfo], epoch: u64) {
        let Some(mut packer) = self.packer.take() else {
            return;
        };
        let packed: BTreeSet<u64> = self
            .records
            .values()
            .flat_map(|r| r.sector.pieces.iter().map(|p| p.deal))
            .collect();
        let mut closed = Vec::new();
        let mut touched = BTreeSet::new();
        let mut refused = false;
        for d in deals {
            if d.state != "Published"
                || d.sector.is_some()
                || packed.contains(&d.id)
                || packer.holds(d.id)
                || self.refused_deals.contains_key(&d.id)
            {
                continue;
            }
            let Some(comm_p) = hex32(&d.piece) else {
                continue;
            };
            // Only pieces this node holds (a deal published before its
            // transfer finished here would fail staging).
            if !matches!(self.sh.store.piece_len(&CommP(comm_p)), Ok(Some(_))) {
                continue;
            }
            let piece = Piece {
                deal: d.id,
                comm_p,
                padded: d.piece_size,
                start_epoch: d.start,
                end_epoch: d.end,
            };
            match packer.add(piece, epoch) {
                Ok((n, full)) => {
                    tracing::info!("deal {} goes into sector {n}", d.id);
                    touched.insert(n);
                    closed.extend(full);
                }
                Err(e) => {
                    tracing::warn!("deal {} cannot be sealed: {e}", d.id);
                    self.refused_deals.insert(d.id, e.to_string());
                    refused = true;
                }
            }
        }
        if refused
            && let Err(e) = journal::save_unsealable(self.sh.store.dir(), &self.refused_deals)
        {
            tracing::error!("{e}");
        }
        closed.extend(packer.tick(epoch));
        // Journal the open sectors that changed.
        for (n, _, pieces) in packer.open_sectors() {
            if !touched.contains(&n) {
                continue;
            }
            let opened = packer.opened(n).unwrap_or(epoch);
            let rec = self
                .records
                .entry(n)
                .or_insert_with(|| Record::new(Sector::new(n, Vec::new()), opened));
            rec.sector.pieces = pieces.to_vec();
            if let Err(e) = journal::save(&self.sh.store, rec) {
                tracing::error!("sector {n}: journal write failed: {e}");
            }
        }
        self.packer = Some(packer);
        for c in closed {
            tracing::info!(
                "sector {} closed ({:?}): {} pieces, {} of {} bytes",
                c.sector,
                c.reason,
                c.pieces.len(),
                c.used,
                self.sh.proof().sector_size()
            );
            let rec = self
                .records
                .entry(c.sector)
                .or_insert_with(|| Record::new(Sector::new(c.sector, Vec::new()), epoch));
            rec.sector.pieces = c.pieces;
            self.apply(
                c.sector,
                Event::Staged {
                    ticket_epoch: epoch.saturating_sub(1),
                },
            );
        }
    }

    fn may_start(&self, n: u64) -> bool {
        !self.running.contains(&n)
            && !self.sh.post_busy.load(Ordering::Acquire)
            && self.waits.get(&n).is_none_or(|t| t.elapsed() >= RETRY)
    }

    /// Whether the machine has the memory `phase` needs now (phases wait
    /// otherwise; the slots bound how many run, this bounds how much they
    /// hold).
    fn memory_allows(&mut self, n: u64, phase: &'static str) -> bool {
        let need = self.sh.sealing.memory_need(phase);
        let Some(available) = available_memory() else {
            return true;
        };
        if available >= need {
            return true;
        }
        if !self.memory_warned.contains(&(n, phase)) {
            tracing::warn!(
                "sector {n}: {phase} waits for memory: needs about {} MiB, {} MiB available",
                need >> 20,
                available >> 20
            );
            self.memory_warned.insert((n, phase));
        }
        false
    }

    fn spawn(
        &mut self,
        n: u64,
        phase: &'static str,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
        job: impl FnOnce(&Shared) -> Result<Outcome, String> + Send + 'static,
    ) {
        self.running.insert(n);
        let sh = self.sh.clone();
        let tx = self.done_tx.clone();
        tracing::info!("sector {n}: {phase} started");
        tokio::task::spawn_blocking(move || {
            let t0 = Instant::now();
            let result = job(&sh);
            drop(permit);
            let _ = tx.send(Done {
                sector: n,
                phase,
                secs: t0.elapsed().as_secs_f64(),
                result,
            });
        });
    }

    async fn drive(&mut self, n: u64, epoch: u64, provider: ProviderId, on_ledger: &SectorsInfo) {
        let Some(rec) = self.records.get(&n) else {
            return;
        };
        let state = rec.sector.state;
        let ledger_sector = on_ledger.sectors.iter().find(|s| s.number == n);
        match state {
            State::Packing => {
                // Back from a refused PreCommit: seal again, new ticket.
                let in_packer = self.packer.as_ref().is_some_and(|p| p.opened(n).is_some());
                if !in_packer && rec.sector.error.is_some() && self.may_start(n) {
                    self.apply(
                        n,
                        Event::Staged {
                            ticket_epoch: epoch.saturating_sub(1),
                        },
                    );
                }
            }
            State::Pc1 => {
                if !self.may_start(n) {
                    return;
                }
                let Some(ticket_epoch) = rec.sector.ticket_epoch else {
                    return;
                };
                let ticket = match self.sh.ledger.randomness(ticket_epoch).await {
                    Ok(Some(t)) => t,
                    _ => return,
                };
                let pieces = rec.sector.pieces.clone();
                if !self.memory_allows(n, "pc1") {
                    return;
                }
                let Ok(permit) = self.pc1_slots.clone().try_acquire_owned() else {
                    return;
                };
                let prover_id = provider.prover_id();
                self.spawn(n, "pc1", Some(permit), move |sh| {
                    sh.sealing
                        .pc1(&sh.store, n, &pieces, ticket, prover_id)
                        .map(|()| Outcome::Pc1)
                        .map_err(|e| e.to_string())
                });
            }
            State::Pc2 => {
                if !self.may_start(n) {
                    return;
                }
                if !self.memory_allows(n, "pc2") {
                    return;
                }
                let Ok(permit) = self.pc2_slots.clone().try_acquire_owned() else {
                    return;
                };
                self.spawn(n, "pc2", Some(permit), move |sh| {
                    sh.sealing
                        .pc2(n)
                        .map(|(comm_d, comm_r)| Outcome::Pc2 { comm_d, comm_r })
                        .map_err(|e| e.to_string())
                });
            }
            State::PreCommitted => self.precommit(n, epoch, provider, on_ledger).await,
            State::WaitingSeed | State::C1 | State::C2 => {
                self.apply(n, Event::Epoch(epoch));
                self.commit(n, epoch, provider, on_ledger).await;
            }
            State::Proving | State::Faulty => {
                let Some(s) = ledger_sector else {
                    return;
                };
                match (state, s.status.as_str()) {
                    (_, "Terminated" | "Expired") => {
                        self.apply(n, Event::Ended);
                    }
                    (State::Proving, "Faulty") => {
                        self.apply(
                            n,
                            Event::Fault("the ledger marked it faulty (a window missed)".into()),
                        );
                    }
                    (State::Faulty, "Active" | "Recovering") => {
                        self.apply(n, Event::Recovered);
                    }
                    _ => {}
                }
            }
            State::Terminated => {}
        }
    }

    /// Records a problem that needs the operator, and stops retrying soon.
    fn fail(&mut self, n: u64, why: String) {
        self.waits.insert(n, Instant::now());
        if let Some(rec) = self.records.get_mut(&n)
            && rec.sector.error.as_deref() != Some(why.as_str())
        {
            tracing::error!("sector {n}: {why}");
            rec.sector.error = Some(why);
            if let Err(e) = journal::save(&self.sh.store, rec) {
                tracing::error!("sector {n}: journal write failed: {e}");
            }
        }
    }
}

/// `MemAvailable` from /proc/meminfo (None where there is none).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
