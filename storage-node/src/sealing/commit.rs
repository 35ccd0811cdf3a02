//! The sealing shell's steps that meet the ledger: PreCommitSector,
//! the seed and Commit 1, Commit 2 (under the machine-wide lock) and
//! ProveCommitSector. Split from the shell's loop in `mod.rs`.

use std::path::Path;
use std::time::Instant;

use cairn_ledger::tx::TxBody;
use cairn_ledger::{CommR, DealId, Epoch, ProviderId, SectorNumber};
use cairn_proofs::porep::Commit1Output;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::{params, prove};
use cairn_sectors::sector::{Event, State};
use cairn_types::ledger::SectorsInfo;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

use super::submit::SubmitError;
use super::{Outcome, RETRY, Sealer, Shared, hex32};

impl Sealer {
    pub(super) async fn precommit(
        &mut self,
        n: u64,
        epoch: u64,
        provider: ProviderId,
        on_ledger: &SectorsInfo,
    ) {
        let Some(rec) = self.records.get(&n) else {
            return;
        };
        let ours = rec.sector.comm_r;
        if let Some(pc) = on_ledger.precommits.iter().find(|p| p.number == n) {
            if hex32(&pc.comm_r) != ours {
                // Not ours (a lost journal re-sealed the number): report.
                self.fail(n, format!(
                    "the ledger holds a pre-commit for sector {n} with CommR {}, not this sector's",
                    pc.comm_r
                ));
                return;
            }
            self.apply(n, Event::PreCommitLanded { epoch: pc.epoch });
            return;
        }
        if on_ledger.sectors.iter().any(|s| s.number == n) {
            self.fail(n, format!("sector {n} is already proven on the ledger"));
            return;
        }
        if self.waits.get(&n).is_some_and(|t| t.elapsed() < RETRY) {
            return;
        }
        let (Some(comm_r), Some(ticket_epoch), Some(params)) =
            (ours, rec.sector.ticket_epoch, self.params.clone())
        else {
            return;
        };
        let body = TxBody::PreCommitSector {
            provider,
            sector: SectorNumber(n),
            deals: rec.sector.pieces.iter().map(|p| DealId(p.deal)).collect(),
            comm_r: CommR(comm_r),
            ticket_epoch: Epoch(ticket_epoch),
            expiration: Epoch(rec.expiration()),
            deposit: params.min_precommit_deposit,
        };
        self.waits.insert(n, Instant::now());
        tracing::info!(
            "sector {n}: sending PreCommitSector (ticket epoch {ticket_epoch}, now {epoch})"
        );
        match self
            .sh
            .submitter
            .submit(body, params.blocks_per_epoch)
            .await
        {
            Ok(landed) => {
                if let Some(e) = landed.epoch {
                    self.apply(n, Event::PreCommitLanded { epoch: e });
                }
            }
            Err(SubmitError::Refused(why)) => {
                tracing::warn!("sector {n}: PreCommitSector refused: {why}");
                self.apply(n, Event::Refused(why));
            }
            Err(e) => tracing::warn!("sector {n}: PreCommitSector: {e}"),
        }
    }

    pub(super) async fn commit(
        &mut self,
        n: u64,
        epoch: u64,
        provider: ProviderId,
        on_ledger: &SectorsInfo,
    ) {
        let Some(rec) = self.records.get(&n) else {
            return;
        };
        let state = rec.sector.state;
        let Some(t) = self.timing() else {
            return;
        };
        let Some(seed_epoch) = rec.sector.seed_epoch(&t) else {
            return;
        };
        match state {
            State::C1 => {
                if !self.may_start(n) {
                    return;
                }
                let seed = match self.sh.ledger.randomness(seed_epoch).await {
                    Ok(Some(s)) => s,
                    _ => return,
                };
                // C1 is milliseconds: no slot of its own.
                self.spawn(n, "c1", None, move |sh| {
                    sh.sealing
                        .c1(n, seed)
                        .map(|c1| Outcome::C1(Box::new(c1)))
                        .map_err(|e| e.to_string())
                });
            }
            State::C2 => {
                if on_ledger.sectors.iter().any(|s| s.number == n) {
                    self.sh
                        .metrics
                        .proofs
                        .with_label_values(&["porep", "accepted"])
                        .inc();
                    self.apply(n, Event::ProveCommitLanded);
                    self.c1.remove(&n);
                    let sh = self.sh.clone();
                    tokio::task::spawn_blocking(move || sh.sealing.trim(n));
                    return;
                }
                if self.running.contains(&n) {
                    return;
                }
                if let Some(proof) = self.sh.sealing.load_proof(n) {
                    self.prove_commit(n, epoch, provider, proof).await;
                    return;
                }
                if !self.may_start(n) {
                    return;
                }
                let seed = match self.sh.ledger.randomness(seed_epoch).await {
                    Ok(Some(s)) => s,
                    _ => return,
                };
                if !self.memory_allows(n, "c2") {
                    return;
                }
                let Ok(permit) = self.c2_slots.clone().try_acquire_owned() else {
                    return;
                };
                let c1 = self.c1.get(&n).cloned();
                self.spawn(n, "c2", Some(permit), move |sh| c2(sh, n, c1, seed));
            }
            _ => {}
        }
    }

    async fn prove_commit(&mut self, n: u64, epoch: u64, provider: ProviderId, proof: Vec<u8>) {
        if self.waits.get(&n).is_some_and(|t| t.elapsed() < RETRY) {
            return;
        }
        let Some(bpe) = self.params.as_ref().map(|p| p.blocks_per_epoch) else {
            return;
        };
        self.waits.insert(n, Instant::now());
        tracing::info!("sector {n}: sending ProveCommitSector (epoch {epoch})");
        let body = TxBody::ProveCommitSector {
            provider,
            sector: SectorNumber(n),
            proof,
        };
        match self.sh.submitter.submit(body, bpe).await {
            Ok(_) => {
                // Activation is read back from the ledger on the next tick.
                self.apply(n, Event::ProofSent);
            }
            Err(SubmitError::Refused(why)) => {
                self.sh
                    .metrics
                    .proofs
                    .with_label_values(&["porep", "refused"])
                    .inc();
                tracing::warn!("sector {n}: ProveCommitSector refused: {why}");
                self.apply(n, Event::Refused(why));
            }
            Err(e) => tracing::warn!("sector {n}: ProveCommitSector: {e}"),
        }
    }
}

/// Commit 2 under the machine-wide lock: C1 (again, if the node restarted
/// since), the PoRep key loaded for this proof only, the Groth16 proof,
/// journaled.
fn c2(
    sh: &Shared,
    n: u64,
    c1: Option<Box<Commit1Output>>,
    seed: [u8; 32],
) -> Result<Outcome, String> {
    let lock = MachineLock::acquire(&sh.c2_lock, || {
        tracing::info!("sector {n}: waiting for another Commit 2 on this machine");
    })?;
    let t_locked = Instant::now();
    let c1 = match c1.or_else(|| sh.sealing.load_c1(n).map(Box::new)) {
        Some(c) if c.public.seed == seed => c,
        _ => Box::new(sh.sealing.c1(n, seed).map_err(|e| e.to_string())?),
    };
    let t0 = Instant::now();
    let (pk, _) = params::porep_keys(&sh.params_dir, sh.proof(), &mut |l| {
        tracing::info!("sector {n}: C2 parameters: {l}");
    })
    .map_err(|e| format!("PoRep parameters: {e}"))?;
    tracing::info!(
        "sector {n}: C2 proving ({} partitions; key loaded in {:.1} s)",
        c1.partitions.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut seed_bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed_bytes);
    let proof = prove::commit2(
        &c1,
        &pk,
        &CpuBackend,
        &mut ChaCha20Rng::from_seed(seed_bytes),
    )
    .map_err(|e| format!("Commit 2: {e}"))?;
    drop(pk);
    sh.sealing
        .save_proof(n, &proof)
        .map_err(|e| e.to_string())?;
    drop(lock);
    Ok(Outcome::C2 {
        proving_secs: t_locked.elapsed().as_secs_f64(),
    })
}

/// An exclusive advisory lock on a file (`flock`), held until dropped: every
/// node on the machine opens the same file, so one Commit 2 runs at a time
/// however many nodes share it. The kernel drops the lock with the process,
/// so a node killed mid-proof does not leave it held.
pub(crate) struct MachineLock {
    // Held for its lock; closing it releases the lock.
    _file: std::fs::File,
}

impl MachineLock {
    /// Takes the lock at `path` (created if missing), calling `waiting`
    /// once if another holder makes it wait.
    pub(crate) fn acquire(path: &Path, waiting: impl FnOnce()) -> Result<Self, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock().map_err(err)?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    use super::MachineLock;

    #[test]
    fn a_second_commit2_waits_for_the_first_to_release_the_machine_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c2.lock");
        let first = MachineLock::acquire(&path, || panic!("nobody holds it yet")).expect("first");
        let held = Arc::new(AtomicBool::new(false));
        let (waited_tx, waited_rx) = mpsc::channel();
        let second = {
            let (path, held) = (path.clone(), held.clone());
            std::thread::spawn(move || {
                let lock = MachineLock::acquire(&path, || {
                    let _ = waited_tx.send(());
                })
                .expect("second");
                held.store(true, Ordering::SeqCst);
                lock
            })
        };
        waited_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the second holder was not told to wait");
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !held.load(Ordering::SeqCst),
            "the second holder got the lock while the first held it"
        );
        drop(first);
        let second = second.join().expect("second thread");
        assert!(held.load(Ordering::SeqCst));
        // Released on drop: a third takes it without waiting.
        drop(second);
        MachineLock::acquire(&path, || panic!("released, yet still held")).expect("third");
    }
}
