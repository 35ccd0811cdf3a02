//! `seal`: one sector from data to a verified vanilla PoRep, each phase's
//! output journalled before the next phase starts, so that rerunning the
//! same command after a crash resumes where it stopped.
//!
//! The work folder:
//!
//! | path | what |
//! | --- | --- |
//! | `staged` | the staged sector: the data as one fr32-padded piece, zero-filled |
//! | `cache/` | PC1's label layers and tree_d, PC2's tree_c and tree_r_last |
//! | `sealed` | the replica (PC2) |
//! | `parent-cache/` | the parent cache, unless `--parent-cache` names another folder |
//! | `journal/job.json` | the inputs (seal proof, prover, sector, ticket, seed, data) and the staged piece |
//! | `journal/pc1.bin` | [`Pc1Output`] bytes |
//! | `journal/pc2.bin` | [`Pc2Output`] bytes |
//! | `journal/c1.bin` | [`Commit1Output`] bytes |
//! | `journal/lock` | held (flock) by the running `seal`; a second one in the folder is refused |
//!
//! Every journal entry is written under a temporary name, fsynced and
//! renamed ([`seal::write_output`]), after the files it describes are
//! complete; so an entry's presence means its phase finished. A rerun goes
//! through the phases in order and, for each, loads its entry:
//!
//! - absent: the phase runs (this and every later entry is removed first);
//! - refused by its checksum or decoder, or its files fail the checks
//!   ([`Pc1Output::check_cache`], [`Pc2Output::check_cache`], the staged
//!   and sealed files' sizes): reported under `discarded`, and the phase
//!   reruns from scratch, as do all after it;
//! - decodes but is for other inputs (another sector size, prover, sector
//!   id, ticket, seed or data): the command stops with an error naming the
//!   difference, and touches nothing. A folder belongs to one seal.
//!
//! Phases are deterministic, so a phase redone gives the bytes the lost
//! run would have. Staging is the one phase whose redoing keeps the later
//! entries: it rewrites the same staged sector, and each later entry names
//! the inputs it was made for and is checked on its own. With `--data`, a
//! rerun reads the file again to check that its CommP is the journalled
//! piece's (one pass, no writes). The record formats: [`crate::job`] for
//! `job.json`, `cairn_proofs::codec` for the others.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::porep::{self, Commit1Output, PorepPublic};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output, Step};
use cairn_proofs::sector::SealProof;
use serde_json::{Map, Value, json};

use crate::Hex32;
use crate::data::{self, Payload};
use crate::job::{DataRecord, Inputs, JOB_FORMAT, JOB_VERSION, JobBody, PieceRecord, difference};

/// Arguments of `seal`.
#[derive(Debug, clap::Args)]
pub struct SealArgs {
    /// Sector size: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB (or a seal proof name).
    #[arg(long)]
    pub sector_size: SealProof,
    /// Work folder: staged sector, cache folder, replica and journal.
    #[arg(long)]
    pub work: PathBuf,
    /// The data to seal, as one piece: at most the sector's unpadded
    /// capacity (size × 127/128), zero-filled to the sector.
    #[arg(long, conflicts_with = "random_seed")]
    pub data: Option<PathBuf>,
    /// Seal the sector's full unpadded capacity of ChaCha20 bytes seeded
    /// with N (rand_chacha 0.3 `seed_from_u64`), generated as it is
    /// staged. Without --data this is the default, with N = 0.
    #[arg(long, value_name = "N")]
    pub random_seed: Option<u64>,
    /// Prover id, 32 bytes in hex. Default: zeros.
    #[arg(long, value_name = "HEX")]
    pub prover_id: Option<Hex32>,
    /// Sector number.
    #[arg(long, default_value_t = 0)]
    pub sector_id: u64,
    /// Sealing ticket, 32 bytes in hex. Default: zeros.
    #[arg(long, value_name = "HEX")]
    pub ticket: Option<Hex32>,
    /// Interactive seed for Commit 1, 32 bytes in hex. Default: zeros.
    #[arg(long, value_name = "HEX")]
    pub seed: Option<Hex32>,
    /// Parent cache folder, shared by all sectors of a size (56 GiB for
    /// 32 GiB sectors). Default: WORK/parent-cache.
    #[arg(long, value_name = "DIR")]
    pub parent_cache: Option<PathBuf>,
    /// Worker threads. Default: every CPU.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Testing: after journalling this phase, wait to be killed.
    #[arg(long, hide = true, value_enum)]
    pub pause_after: Option<Phase>,
}

/// The phases, in order. Verification is not journalled: it reruns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Phase {
    /// The data staged as one piece.
    Stage,
    /// PreCommit 1.
    Pc1,
    /// PreCommit 2.
    Pc2,
    /// Commit 1.
    C1,
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Stage, Phase::Pc1, Phase::Pc2, Phase::C1];

    fn name(self) -> &'static str {
        match self {
            Phase::Stage => "stage",
            Phase::Pc1 => "pc1",
            Phase::Pc2 => "pc2",
            Phase::C1 => "c1",
        }
    }

    fn entry(self) -> &'static str {
        match self {
            Phase::Stage => "journal/job.json",
            Phase::Pc1 => "journal/pc1.bin",
            Phase::Pc2 => "journal/pc2.bin",
            Phase::C1 => "journal/c1.bin",
        }
    }
}

fn refuse(work: &Path, entry: &str, what: &str) -> anyhow::Error {
    anyhow!(
        "{}/{entry} was journalled for another seal ({what}); use a fresh --work folder, \
         or remove this one to start over",
        work.display()
    )
}

/// Where things are in the work folder, which this process holds locked.
struct Layout {
    work: PathBuf,
    staged: PathBuf,
    sealed: PathBuf,
    cache: PathBuf,
    parent_cache: PathBuf,
    /// `journal/lock`, locked (flock) while this process lives: two seals
    /// in one folder would overwrite each other's files.
    _lock: fs::File,
}

impl Layout {
    fn new(work: &Path, parent_cache: Option<&Path>) -> Result<Self> {
        let cache = work.join("cache");
        let parent_cache = parent_cache.map_or_else(|| work.join("parent-cache"), Path::to_owned);
        for d in [&work.join("journal"), &cache, &parent_cache] {
            fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        let lock_path = work.join("journal").join("lock");
        let lock = fs::File::create(&lock_path)
            .with_context(|| format!("creating {}", lock_path.display()))?;
        if let Err(e) = lock.try_lock() {
            bail!(
                "{}: another cairn-proofs seal is using this --work folder ({e})",
                lock_path.display()
            );
        }
        Ok(Self {
            staged: work.join("staged"),
            sealed: work.join("sealed"),
            cache,
            parent_cache,
            work: work.to_owned(),
            _lock: lock,
        })
    }

    fn entry(&self, phase: Phase) -> PathBuf {
        self.work.join(phase.entry())
    }

    /// Removes the entry of `phase` and, past staging, of every later phase.
    fn forget(&self, phase: Phase) -> Result<()> {
        let later = |p: Phase| phase != Phase::Stage && p > phase;
        for p in Phase::ALL.into_iter().filter(|&p| p == phase || later(p)) {
            let path = self.entry(p);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
    }
}

fn file_len_is(path: &Path, want: u64) -> Result<(), String> {
    match fs::metadata(path) {
        Ok(m) if m.len() == want => Ok(()),
        Ok(m) => Err(format!(
            "{} is {} bytes, expected {want}",
            path.display(),
            m.len()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// What happened to each phase, for the final report.
#[derive(Default)]
struct Report {
    phases: Map<String, Value>,
    resumed: Vec<&'static str>,
    run: Vec<&'static str>,
    discarded: Vec<Value>,
}

impl Report {
    fn discard(&mut self, phase: Phase, why: &str) {
        progress(&format!(
            "{} refused ({why}); redoing {}",
            phase.entry(),
            phase.name()
        ));
        self.discarded
            .push(json!({"entry": phase.entry(), "why": why}));
    }

    fn resumed(&mut self, phase: &'static str, took: Duration) {
        progress(&format!("{phase} resumed from the journal"));
        self.resumed.push(phase);
        self.phases.insert(
            phase.into(),
            json!({"status": "resumed", "seconds": took.as_secs_f64()}),
        );
    }

    fn ran(&mut self, phase: &'static str, took: Duration, steps: Map<String, Value>) {
        progress(&format!("{phase} done in {:.3} s", took.as_secs_f64()));
        self.run.push(phase);
        let mut v = json!({"status": "run", "seconds": took.as_secs_f64()});
        if !steps.is_empty() {
            v["steps"] = Value::Object(steps);
        }
        self.phases.insert(phase.into(), v);
    }
}

fn progress(msg: &str) {
    eprintln!("cairn-proofs seal: {msg}");
}

/// Times the steps a phase reports through its observer.
struct StepClock {
    phase: &'static str,
    last: Instant,
    steps: Map<String, Value>,
}

impl StepClock {
    fn new(phase: &'static str) -> Self {
        progress(&format!("{phase} started"));
        Self {
            phase,
            last: Instant::now(),
            steps: Map::new(),
        }
    }

    fn step(&mut self, s: Step) {
        let t = self.last.elapsed().as_secs_f64();
        self.last = Instant::now();
        progress(&format!("{}: {} done in {t:.3} s", self.phase, s.name()));
        self.steps.insert(s.name().into(), json!(t));
    }
}

/// One seal: its inputs, folder and report.
struct Seal<'a> {
    args: &'a SealArgs,
    proof: SealProof,
    threads: usize,
    payload: Payload,
    payload_len: u64,
    prover_id: ProverId,
    sector_id: SectorId,
    ticket: Ticket,
    seed: [u8; 32],
    inputs: Inputs,
    l: Layout,
    report: Report,
}

impl Seal<'_> {
    /// Resumes `phase` from its journal entry, or redoes it.
    ///
    /// The entry is decoded with `decode` (a refusal: redo); `identity`
    /// says what other seal a decoded entry is for, if it is (an error:
    /// stop); `check` says why its files cannot be trusted, if they cannot
    /// (redo). Redoing removes the entry (and later ones, see
    /// [`Layout::forget`]), runs `work` and journals the bytes it returns.
    fn phase<T, E: std::fmt::Display>(
        &mut self,
        phase: Phase,
        decode: impl FnOnce(&[u8]) -> Result<T, E>,
        identity: impl FnOnce(&Self, &T) -> Result<Option<String>>,
        check: impl FnOnce(&Self, &T) -> Result<(), String>,
        work: impl FnOnce(&Self, &mut StepClock) -> Result<(T, Vec<u8>)>,
    ) -> Result<T> {
        let started = Instant::now();
        let path = self.l.entry(phase);
        let found = match fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                self.report.discard(phase, &format!("unreadable: {e}"));
                None
            }
            Ok(bytes) => match decode(&bytes) {
                Err(e) => {
                    self.report.discard(phase, &e.to_string());
                    None
                }
                Ok(v) => {
                    if let Some(what) = identity(self, &v)? {
                        return Err(refuse(&self.l.work, phase.entry(), &what));
                    }
                    match check(self, &v) {
                        Ok(()) => Some(v),
                        Err(why) => {
                            self.report.discard(phase, &why);
                            None
                        }
                    }
                }
            },
        };
        let out = match found {
            Some(v) => {
                self.report.resumed(phase.name(), started.elapsed());
                v
            }
            None => {
                self.l.forget(phase)?;
                let mut clock = StepClock::new(phase.name());
                let (v, bytes) = work(self, &mut clock)?;
                seal::write_output(&path, &bytes)?;
                self.report
                    .ran(phase.name(), started.elapsed(), clock.steps);
                v
            }
        };
        if self.args.pause_after == Some(phase) {
            progress(&format!("paused after {}", phase.name()));
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Ok(out)
    }

    /// The data, staged as one piece; `job.json` is written once the
    /// staged sector is complete.
    fn stage(&mut self) -> Result<PieceInfo> {
        let job = self.phase(
            Phase::Stage,
            JobBody::from_bytes,
            |s, job| {
                if let Some(what) = difference(&job.inputs, &s.inputs) {
                    return Ok(Some(what));
                }
                if let Payload::File(p) = &s.payload {
                    let now = data::piece_of(s.proof, &s.payload)?;
                    if now != job.piece()? {
                        return Ok(Some(format!(
                            "data: the journal's piece has CommP {}, --data {} has {}",
                            job.piece.comm_p,
                            p.display(),
                            hex::encode(now.comm_p)
                        )));
                    }
                }
                Ok(None)
            },
            |s, _| file_len_is(&s.l.staged, s.proof.sector_size()),
            |s, _| {
                let (piece, len) = data::stage(s.proof, &s.payload, &s.l.staged)?;
                let job = JobBody {
                    format: JOB_FORMAT.into(),
                    version: JOB_VERSION,
                    inputs: s.inputs.clone(),
                    piece: PieceRecord {
                        comm_p: hex::encode(piece.comm_p),
                        padded_size: piece.padded_size,
                        payload_len: len,
                    },
                };
                let bytes = job.to_bytes()?;
                Ok((job, bytes))
            },
        )?;
        job.piece()
    }

    fn pc1(&mut self, piece: PieceInfo) -> Result<Pc1Output> {
        self.phase(
            Phase::Pc1,
            Pc1Output::from_bytes,
            |s, pc1| {
                Ok(if pc1.proof != s.proof {
                    Some(format!(
                        "sector size: {}, not {}",
                        pc1.proof.name(),
                        s.proof.name()
                    ))
                } else if pc1.prover_id != s.prover_id {
                    Some(format!("prover id {}, not {}", pc1.prover_id, s.prover_id))
                } else if pc1.sector_id != s.sector_id {
                    Some(format!("sector id {}, not {}", pc1.sector_id, s.sector_id))
                } else if pc1.ticket != s.ticket {
                    Some(format!("ticket {}, not {}", pc1.ticket, s.ticket))
                } else if pc1.pieces != [piece] {
                    Some("data: another piece".into())
                } else {
                    None
                })
            },
            |s, pc1| pc1.check_cache(&s.l.cache).map_err(|e| e.to_string()),
            |s, clock| {
                let pieces = [piece];
                let inp = Pc1Inputs {
                    proof: s.proof,
                    parent_cache_dir: &s.l.parent_cache,
                    staged: &s.l.staged,
                    cache_dir: &s.l.cache,
                    prover_id: s.prover_id,
                    sector_id: s.sector_id,
                    ticket: s.ticket,
                    pieces: &pieces,
                    threads: s.threads,
                };
                let pc1 = seal::precommit1_observed(&inp, &mut |step| clock.step(step))
                    .context("PreCommit 1")?;
                let bytes = pc1.to_bytes();
                Ok((pc1, bytes))
            },
        )
    }

    fn pc2(&mut self, pc1: &Pc1Output) -> Result<Pc2Output> {
        self.phase(
            Phase::Pc2,
            Pc2Output::from_bytes,
            |_, pc2| {
                let same = pc2.proof == pc1.proof
                    && pc2.sector_id == pc1.sector_id
                    && pc2.replica_id == pc1.replica_id
                    && pc2.comm_d == pc1.comm_d;
                Ok((!same).then(|| {
                    format!(
                        "sector {} with replica id {}, PreCommit 1 has sector {} with replica id {}",
                        pc2.sector_id, pc2.replica_id, pc1.sector_id, pc1.replica_id
                    )
                }))
            },
            |s, pc2| {
                pc2.check_cache(&s.l.cache)
                    .map_err(|e| e.to_string())
                    .and_then(|()| file_len_is(&s.l.sealed, s.proof.sector_size()))
            },
            |s, clock| {
                let pc2 = seal::precommit2_observed(
                    pc1,
                    &s.l.staged,
                    &s.l.cache,
                    &s.l.sealed,
                    s.threads,
                    &mut |step| clock.step(step),
                )
                .context("PreCommit 2")?;
                let bytes = pc2.to_bytes();
                Ok((pc2, bytes))
            },
        )
    }

    fn c1(&mut self, pc1: &Pc1Output, pc2: &Pc2Output) -> Result<Commit1Output> {
        let public = PorepPublic {
            proof: self.proof,
            prover_id: self.prover_id,
            sector_id: self.sector_id,
            ticket: self.ticket,
            seed: self.seed,
            comm_d: pc1.comm_d,
            comm_r: pc2.comm_r,
        };
        self.phase(
            Phase::C1,
            Commit1Output::from_bytes,
            |_, c1| {
                let p = &c1.public;
                Ok((p != &public).then(|| {
                    format!(
                        "its public inputs are sector {} seed {} CommR {}, this seal's are sector {} seed {} CommR {}",
                        p.sector_id,
                        hex::encode(p.seed),
                        hex::encode(p.comm_r),
                        public.sector_id,
                        hex::encode(public.seed),
                        hex::encode(public.comm_r)
                    )
                }))
            },
            |_, _| Ok(()),
            |s, _| {
                let c1 = porep::commit1(pc1, pc2, s.seed, &s.l.staged, &s.l.sealed, &s.l.cache)
                    .context("Commit 1")?;
                let bytes = c1.to_bytes();
                Ok((c1, bytes))
            },
        )
    }
}

/// Runs `seal`.
pub fn run(args: &SealArgs) -> Result<()> {
    let started = Instant::now();
    let proof = args.sector_size;
    let payload = match (&args.data, args.random_seed) {
        (Some(p), _) => Payload::File(p.clone()),
        (None, seed) => Payload::Random(seed.unwrap_or(0)),
    };
    let payload_len = payload.len(proof)?;
    let prover_id = ProverId(args.prover_id.unwrap_or_default().0);
    let ticket = Ticket(args.ticket.unwrap_or_default().0);
    let seed = args.seed.unwrap_or_default().0;
    let inputs = Inputs {
        seal_proof: proof.name().into(),
        prover_id: hex::encode(prover_id.0),
        sector_id: args.sector_id,
        ticket: hex::encode(ticket.0),
        seed: hex::encode(seed),
        data: match &payload {
            Payload::File(p) => DataRecord::File {
                path: p.display().to_string(),
                len: payload_len,
            },
            Payload::Random(s) => DataRecord::Random {
                seed: *s,
                len: payload_len,
            },
        },
    };
    let mut s = Seal {
        args,
        proof,
        threads: crate::threads(args.threads),
        payload,
        payload_len,
        prover_id,
        sector_id: SectorId(args.sector_id),
        ticket,
        seed,
        inputs,
        l: Layout::new(&args.work, args.parent_cache.as_deref())?,
        report: Report::default(),
    };

    let piece = s.stage()?;
    let pc1 = s.pc1(piece)?;
    let pc2 = s.pc2(&pc1)?;
    let c1 = s.c1(&pc1, &pc2)?;

    // Vanilla verification, from the public inputs alone; never journalled.
    let t = Instant::now();
    porep::verify(&c1.public, &c1.partitions)
        .map_err(|e| anyhow!("the vanilla PoRep proof does not verify: {e}"))?;
    s.report.ran("verify", t.elapsed(), Map::new());

    let out = json!({
        "seal_proof": proof.name(),
        "sector_size": proof.sector_size(),
        "sector_id": s.sector_id.0,
        "prover_id": s.inputs.prover_id,
        "ticket": s.inputs.ticket,
        "seed": s.inputs.seed,
        "piece": {
            "cid": seal::comm_d_cid(&piece.comm_p).to_string(),
            "padded_size": piece.padded_size,
            "payload_bytes": s.payload_len,
        },
        "comm_d": hex::encode(pc1.comm_d),
        "comm_d_cid": seal::comm_d_cid(&pc1.comm_d).to_string(),
        "comm_r": hex::encode(pc2.comm_r),
        "comm_r_cid": seal::comm_r_cid(&pc2.comm_r).to_string(),
        "verified": true,
        "resumed": s.report.resumed,
        "run": s.report.run,
        "discarded": s.report.discarded,
        "phases": s.report.phases,
        "threads": s.threads,
        "work": s.l.work.display().to_string(),
        "total_seconds": started.elapsed().as_secs_f64(),
    });
    println!("{out}");
    Ok(())
}
