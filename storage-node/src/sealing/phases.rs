//! The sealing phases on one sector's files, synchronous (run on blocking
//! threads by the shell).
//!
//! A sector `N` lives in `DATA/sectors/N/`:
//!
//! | file | written by | kept after ProveCommit |
//! | --- | --- | --- |
//! | `staged` | staging (before PC1): the pieces, fr32-padded, zero-filled | no (the pieces stay in `pieces/` for retrieval) |
//! | `cache/` | PC1 (label layers, tree_d), PC2 (tree_c, tree_r_last) | tree_r_last only |
//! | `sealed` | PC2: the replica | yes: WindowPoSt reads it |
//! | `pc1.out`, `pc2.out`, `c1.out` | the phases' checked outputs | `pc2.out` |
//! | `proof` | C2: the Groth16 proof bytes | no |
//!
//! Every output is written under a temporary name, synced and renamed,
//! so a node killed in a phase finds either nothing or a whole file and
//! runs the phase again. Phases are deterministic given the ticket the
//! journal fixed, so a repeated PC1/PC2 gives the same CommR. A phase that
//! finds an earlier phase's files missing or damaged fails with that
//! reason; the shell reports it and never quietly seals again under
//! commitments already on the ledger.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use cairn_ledger::CommP;
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces::{self, PieceInfo};
use cairn_proofs::porep::{self, Commit1Output};
use cairn_proofs::post::{self, ProvingSector};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output};
use cairn_proofs::sector::SealProof;
use cairn_sectors::pack::Piece;

use crate::store::PieceStore;

/// A phase that failed, with the reason an operator reads.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhaseError {
    /// A file operation.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A piece the sector needs is not in the store.
    #[error("deal {deal}: piece {piece} is not held (its file is gone)")]
    MissingPiece {
        /// The deal.
        deal: u64,
        /// Its CommP.
        piece: String,
    },
    /// A piece's bytes no longer hash to its CommP.
    #[error("deal {deal}: the stored piece does not match its CommP (damaged on disk)")]
    PieceMismatch {
        /// The deal.
        deal: u64,
    },
    /// Staging.
    #[error("staging: {0}")]
    Pieces(#[from] pieces::PieceError),
    /// PC1, PC2, C1 or the checks of their outputs.
    #[error(transparent)]
    Seal(#[from] seal::SealError),
    /// A phase output that does not decode.
    #[error("{path}: {why}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The sector failed its WindowPoSt check.
    #[error(transparent)]
    Post(#[from] post::PostError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PhaseError + '_ {
    move |source| PhaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where sectors' files live.
#[derive(Debug, Clone)]
pub struct SectorFiles {
    root: PathBuf,
}

impl SectorFiles {
    /// Sectors under `root` (`DATA/sectors`).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The sector's folder.
    pub fn dir(&self, n: u64) -> PathBuf {
        self.root.join(n.to_string())
    }
    /// The staged (unsealed) sector.
    pub fn staged(&self, n: u64) -> PathBuf {
        self.dir(n).join("staged")
    }
    /// The replica.
    pub fn sealed(&self, n: u64) -> PathBuf {
        self.dir(n).join("sealed")
    }
    /// The cache folder (layers and trees).
    pub fn cache(&self, n: u64) -> PathBuf {
        self.dir(n).join("cache")
    }
    /// PC1's output.
    pub fn pc1_out(&self, n: u64) -> PathBuf {
        self.dir(n).join("pc1.out")
    }
    /// PC2's output.
    pub fn pc2_out(&self, n: u64) -> PathBuf {
        self.dir(n).join("pc2.out")
    }
    /// C1's output.
    pub fn c1_out(&self, n: u64) -> PathBuf {
        self.dir(n).join("c1.out")
    }
    /// The Groth16 PoRep.
    pub fn proof(&self, n: u64) -> PathBuf {
        self.dir(n).join("proof")
    }
    /// The parent cache shared by the node's sectors.
    pub fn parents(&self) -> PathBuf {
        self.root.join("parents")
    }
}

/// What the phases need besides the sector's number.
#[derive(Debug, Clone)]
pub struct Sealing {
    /// The files.
    pub files: SectorFiles,
    /// The provider's seal proof.
    pub proof: SealProof,
    /// Worker threads per phase.
    pub threads: usize,
}

fn read(path: &Path) -> Result<Vec<u8>, PhaseError> {
    fs::read(path).map_err(io(path))
}

/// Test hook: `CAIRN_NODE_HOLD_PHASE=pc1` (or `pc2`, `c2`) stops that phase
/// before it writes its output, so a test can kill the node mid-phase.
fn hold(phase: &str) {
    if std::env::var("CAIRN_NODE_HOLD_PHASE").is_ok_and(|v| v == phase) {
        tracing::warn!("holding in {phase} (CAIRN_NODE_HOLD_PHASE)");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

impl Sealing {
    /// Writes the staged sector from the pieces in `store`, in order, and
    /// checks each against its CommP; returns the pieces' infos.
    pub fn stage(
        &self,
        store: &PieceStore,
        n: u64,
        pieces: &[Piece],
    ) -> Result<Vec<PieceInfo>, PhaseError> {
        let dir = self.files.dir(n);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let staged = self.files.staged(n);
        let tmp = staged.with_extension("tmp");
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io(&tmp))?);
        let sector_size = self.proof.sector_size();
        let mut existing = Vec::with_capacity(pieces.len());
        let mut infos = Vec::with_capacity(pieces.len());
        for p in pieces {
            let commp = CommP(p.comm_p);
            let missing = || PhaseError::MissingPiece {
                deal: p.deal,
                piece: commp.to_string(),
            };
            let len = store
                .piece_len(&commp)
                .map_err(|e| PhaseError::Output {
                    path: store.dir().to_path_buf(),
                    why: e.to_string(),
                })?
                .ok_or_else(missing)?;
            let path = store.piece_path(&commp);
            let f = File::open(&path).map_err(|_| missing())?;
            let added = pieces::add_piece(
                BufReader::with_capacity(1 << 20, f),
                &mut out,
                sector_size,
                &existing,
                len,
            )?;
            if added.info.comm_p != p.comm_p || added.info.padded_size != p.padded {
                return Err(PhaseError::PieceMismatch { deal: p.deal });
            }
            existing.push(added.info.unpadded_size());
            infos.push(added.info);
        }
        let written = pieces::staged_len_unpadded(&existing);
        pieces::fill_staged_sector(&mut out, sector_size, written)?;
        let f = out.into_inner().map_err(|e| PhaseError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &staged).map_err(io(&staged))?;
        Ok(infos)
    }

    /// Stages the pieces and runs PreCommit 1 with `ticket` for the
    /// provider whose prover id is `prover_id`.
    pub fn pc1(
        &self,
        store: &PieceStore,
        n: u64,
        pieces: &[Piece],
        ticket: [u8; 32],
        prover_id: [u8; 32],
    ) -> Result<(), PhaseError> {
        let infos = self.stage(store, n, pieces)?;
        let parents = self.files.parents();
        fs::create_dir_all(&parents).map_err(io(&parents))?;
        let cache = self.files.cache(n);
        let t0 = std::time::Instant::now();
        let mut progress = |step: seal::Step| {
            tracing::info!(
                "sector {n}: pc1 {} done ({:.1} s)",
                step.name(),
                t0.elapsed().as_secs_f64()
            );
        };
        let out = seal::precommit1_observed(
            &Pc1Inputs {
                proof: self.proof,
                parent_cache_dir: &parents,
                staged: &self.files.staged(n),
                cache_dir: &cache,
                prover_id: ProverId(prover_id),
                sector_id: SectorId(n),
                ticket: Ticket(ticket),
                pieces: &infos,
                threads: self.threads,
            },
            &mut progress,
        )?;
        hold("pc1");
        seal::write_output(&self.files.pc1_out(n), &out.to_bytes())?;
        Ok(())
    }

    fn load_pc1(&self, n: u64) -> Result<Pc1Output, PhaseError> {
        Ok(Pc1Output::from_bytes(&read(&self.files.pc1_out(n))?)?)
    }

    /// PC2's output, as journaled.
    pub fn load_pc2(&self, n: u64) -> Result<Pc2Output, PhaseError> {
        Ok(Pc2Output::from_bytes(&read(&self.files.pc2_out(n))?)?)
    }

    /// PreCommit 2; returns (CommD, CommR).
    pub fn pc2(&self, n: u64) -> Result<([u8; 32], [u8; 32]), PhaseError> {
        let pc1 = self.load_pc1(n)?;
        let t0 = std::time::Instant::now();
        let out = seal::precommit2_observed(
            &pc1,
            &self.files.staged(n),
            &self.files.cache(n),
            &self.files.sealed(n),
            self.threads,
            &mut |step| {
                tracing::info!(
                    "sector {n}: pc2 {} done ({:.1} s)",
                    step.name(),
                    t0.elapsed().as_secs_f64()
                );
            },
        )?;
        hold("pc2");
        seal::write_output(&self.files.pc2_out(n), &out.to_bytes())?;
        Ok((out.comm_d, out.comm_r))
    }

    /// Commit 1 for `seed`.
    pub fn c1(&self, n: u64, seed: [u8; 32]) -> Result<Commit1Output, PhaseError> {
        let pc1 = self.load_pc1(n)?;
        let pc2 = self.load_pc2(n)?;
        let out = porep::commit1(
            &pc1,
            &pc2,
            seed,
            &self.files.staged(n),
            &self.files.sealed(n),
            &self.files.cache(n),
        )?;
        seal::write_output(&self.files.c1_out(n), &out.to_bytes())?;
        Ok(out)
    }

    /// C1's journaled output, if it is there and whole.
    pub fn load_c1(&self, n: u64) -> Option<Commit1Output> {
        let bytes = fs::read(self.files.c1_out(n)).ok()?;
        Commit1Output::from_bytes(&bytes).ok()
    }

    /// The Groth16 proof, if C2 finished.
    pub fn load_proof(&self, n: u64) -> Option<Vec<u8>> {
        fs::read(self.files.proof(n)).ok()
    }

    /// Journals the Groth16 proof.
    pub fn save_proof(&self, n: u64, proof: &[u8]) -> Result<(), PhaseError> {
        hold("c2");
        seal::write_output(&self.files.proof(n), proof)?;
        Ok(())
    }

    /// Bytes of memory a phase needs at its peak, roughly (measured on
    /// this code, docs/BENCHMARKS.md §6-7): PC1 holds two label layers and
    /// the parent cache, PC2 a few layers' columns, C2 the proving key and
    /// its FFT domains.
    pub fn memory_need(&self, phase: &str) -> u64 {
        let size = self.proof.sector_size();
        const GIB: u64 = 1 << 30;
        match phase {
            // Two layers, plus 14 four-byte parents per 32-byte node.
            "pc1" => 2 * size + size / 32 * 56,
            "pc2" => 2 * size,
            // Peaks measured: 2.2 GiB at 2 KiB, 3.2 GiB at 8 MiB, 4.3 GB
            // at 512 MiB.
            "c2" if size <= 64 << 10 => GIB * 23 / 10,
            "c2" if size <= 32 << 20 => GIB * 33 / 10,
            "c2" => GIB * 9 / 2,
            _ => 0,
        }
    }

    /// After ProveCommit: drops what only sealing needed (the staged
    /// copy, label layers, tree_d, tree_c, C1's output and the proof);
    /// the replica, tree_r_last and PC2's output stay for WindowPoSt.
    pub fn trim(&self, n: u64) {
        let cache = self.files.cache(n);
        let mut gone = vec![
            self.files.staged(n),
            self.files.c1_out(n),
            self.files.proof(n),
            cache.join(seal::TREE_D),
            cache.join(seal::TREE_C),
        ];
        for l in 1..=self.proof.layers() {
            gone.push(cache.join(cairn_proofs::sdr::layer_file_name(l)));
        }
        for p in gone {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!("removing {}: {e}", p.display()),
            }
        }
    }

    /// The WindowPoSt check: opens the challenged leaves of the replica
    /// for `randomness` and checks them against CommRLast, as the proof
    /// will. A sector that fails it must not be proven.
    pub fn check(&self, n: u64, randomness: [u8; 32]) -> Result<(), PhaseError> {
        let pc2 = self.load_pc2(n)?;
        let cache = self.files.cache(n);
        let sealed = self.files.sealed(n);
        post::prove(
            self.proof.window_post(),
            &PostRandomness::from_chain(randomness),
            &[ProvingSector {
                sector_id: SectorId(n),
                comm_c: pc2.comm_c,
                comm_r_last: pc2.comm_r_last,
                cache_dir: &cache,
                sealed: &sealed,
            }],
        )?;
        Ok(())
    }
}
