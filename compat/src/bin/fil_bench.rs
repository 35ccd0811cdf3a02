//! `fil_bench`: cairn-proofs and rust-fil-proofs 19.1.0 timed side by side
//! on the same sector of random data, phase by phase, in the same run.
//!
//! Phases: CommP of the sector-sized piece, add piece (fr32 staging), the
//! parent cache (generated from scratch), PC1 (parent cache warm), PC2, C1
//! (vanilla), vanilla PoRep verification and the WindowPoSt vanilla proof.
//! Every phase runs in a child process of its own (this binary, with
//! `--phase`), so that its peak RSS is its own; the child times the phase
//! alone (not loading its inputs) and reports wall time, CPU time and
//! `ru_maxrss`. Outputs pass between phases through files, as a storage
//! node journals them.
//!
//! Built with `--features multicore-sdr`, it also runs rust-fil-proofs' PC1
//! with `FIL_PROOFS_USE_MULTICORE_SDR=1` (a third column) and checks that its
//! label layers are the single-threaded ones.
//!
//! Timings are only meaningful on a quiet machine: before each size it waits
//! (up to `--wait-quiet` minutes) for a 1-minute load average under 0.6 and
//! no `rustc`/`cargo` process, and for every phase it reports the CPU time
//! that other processes used meanwhile (`other CPU s`).
//!
//! Usage: fil_bench [--sizes 2KiB,8MiB,512MiB] [--seed N] [--work DIR]
//!                  [--threads N] [--wait-quiet MIN] [--json FILE]
//!                  [--phases P,..] [--keep] [--reuse]
//!
//! `--keep` leaves each size's sector folders in the work folder;
//! `--reuse` (implies `--keep`) starts from them instead of new data, so
//! that `--phases pc1,pc2` can time phases again (each phase needs the
//! outputs of the ones before it: add_piece, parents, pc1, pc2, then c1,
//! verify or wpost).

#[path = "../fil/mod.rs"]
mod fil;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::commp::CommPHasher;
use cairn_proofs::pieces::{self, PieceInfo as CPiece};
use cairn_proofs::porep::{self, Commit1Output};
use cairn_proofs::post::{self, ProvingSector, PublicSector};
use cairn_proofs::sdr::{self, ProverId, SectorId as CSectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::params as snark_params;
use cairn_proofs::snark::{groth16, porep_circuit, post_circuit};
use fil::Tree;
use filecoin_hashers::Domain;
use filecoin_hashers::poseidon::PoseidonDomain;
use filecoin_hashers::sha256::{Sha256Domain, Sha256Hasher};
use filecoin_proofs::{
    PieceInfo as FPiece, PrivateReplicaInfo, SealCommitPhase1Output, SealPreCommitOutput,
    SealPreCommitPhase1Output, UnpaddedBytesAmount,
};
use serde_json::{Value, json};
use rand_core::SeedableRng;
use storage_proofs_core::compound_proof::CompoundProof;
use storage_proofs_core::proof::ProofScheme;
use storage_proofs_core::sector::SectorId;
use storage_proofs_porep::stacked::{self, StackedCompound, StackedDrg};
use storage_proofs_post::fallback::{FallbackPoSt, FallbackPoStCircuit, FallbackPoStCompound};

const PHASES: &[&str] = &[
    "commp",
    "add_piece",
    "parents",
    "pc1",
    "pc2",
    "c1",
    "verify",
    "wpost",
    "params",
    "c2",
    "wpost_snark",
];

const PHASE_NAMES: &[(&str, &str)] = &[
    ("commp", "CommP (whole piece)"),
    ("add_piece", "add piece (fr32 staging)"),
    ("parents", "parent cache generation"),
    ("pc1", "PC1 (parent cache warm)"),
    ("pc2", "PC2"),
    ("c1", "C1 (vanilla)"),
    ("verify", "vanilla PoRep verify"),
    ("wpost", "WindowPoSt vanilla prove"),
    ("params", "Groth16 parameter generation (PoRep + WindowPoSt)"),
    ("c2", "C2 (params load + Groth16 prove + verify)"),
    ("wpost_snark", "WindowPoSt prove (params load + vanilla + Groth16)"),
];

fn multicore() -> bool {
    cfg!(feature = "multicore-sdr")
}

// ---------------------------------------------------------------------------
// The child: one phase of one side.

/// The inputs of a sector, written by the parent as `inputs.json`.
struct Inputs {
    proof: SealProof,
    prover_id: [u8; 32],
    sector_id: u64,
    ticket: [u8; 32],
    seed: [u8; 32],
    randomness: [u8; 32],
}

fn b32(v: &Value, k: &str) -> Result<[u8; 32]> {
    let s = v[k].as_str().with_context(|| format!("{k} missing"))?;
    let mut out = [0u8; 32];
    ensure!(s.len() == 64, "{k}: not 32 bytes of hex");
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)?;
    }
    Ok(out)
}

impl Inputs {
    fn load(dir: &Path) -> Result<Self> {
        let v: Value = serde_json::from_slice(&fs::read(dir.join("inputs.json"))?)?;
        Ok(Self {
            proof: SealProof::from_id(v["seal_proof_id"].as_u64().context("seal_proof_id")?)?,
            prover_id: b32(&v, "prover_id")?,
            sector_id: v["sector_id"].as_u64().context("sector_id")?,
            ticket: b32(&v, "ticket")?,
            seed: b32(&v, "seed")?,
            randomness: b32(&v, "randomness")?,
        })
    }
}

fn rusage() -> (f64, u64) {
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let cpu = ru.ru_utime.tv_sec as f64
        + ru.ru_utime.tv_usec as f64 / 1e6
        + ru.ru_stime.tv_sec as f64
        + ru.ru_stime.tv_usec as f64 / 1e6;
    (cpu, ru.ru_maxrss as u64)
}

fn json_write(path: &Path, v: &impl serde::Serialize) -> Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    serde_json::to_writer(&mut w, v)?;
    w.flush()?;
    Ok(())
}

fn json_read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    Ok(serde_json::from_slice(
        &fs::read(path).with_context(|| path.display().to_string())?,
    )?)
}

/// Runs `phase` of `side` ("cairn", "fil", "fil-mc") in `dir`; returns the
/// seconds the phase itself took.
fn child(side: &str, phase: &str, dir: &Path, threads: usize) -> Result<f64> {
    let inp = Inputs::load(dir)?;
    let p = inp.proof;
    let s = p.sector_size();
    let unpadded = p.unpadded_sector_size();
    let data = dir.join("data");
    let sd = dir.join(side);
    fs::create_dir_all(sd.join("cache"))?;
    let staged = sd.join("staged");
    let cache = sd.join("cache");
    let sealed = sd.join("sealed");
    let cfg = fil::porep_config(p);
    let sid = SectorId::from(inp.sector_id);
    let t: Instant;
    match (side, phase) {
        ("cairn", "commp") => {
            let mut f = File::open(&data)?;
            let mut buf = vec![0u8; 1 << 20];
            t = Instant::now();
            let mut h = CommPHasher::new();
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            let c = h.finish()?;
            let e = t.elapsed();
            fs::write(sd.join("commp"), fil::hex(&c.comm_p))?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "commp") => {
            let f = File::open(&data)?;
            t = Instant::now();
            let info =
                filecoin_proofs::generate_piece_commitment(f, UnpaddedBytesAmount(unpadded))?;
            let e = t.elapsed();
            fs::write(sd.join("commp"), fil::hex(&info.commitment))?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "add_piece") => {
            let src = File::open(&data)?;
            t = Instant::now();
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&staged)?);
            let a = pieces::add_piece(src, &mut w, s, &[], unpadded)?;
            w.flush()?;
            drop(w);
            let e = t.elapsed();
            fs::write(
                sd.join("pieces.json"),
                json!([{"comm_p": fil::hex(&a.info.comm_p), "padded": a.info.padded_size}])
                    .to_string(),
            )?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "add_piece") => {
            let src = File::open(&data)?;
            t = Instant::now();
            let (info, _) = filecoin_proofs::add_piece(
                src,
                File::create(&staged)?,
                UnpaddedBytesAmount(unpadded),
                &[],
            )?;
            let e = t.elapsed();
            json_write(&sd.join("pieces.json"), &vec![info])?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "parents") => {
            let parents = dir.join("../cairn-parents");
            fs::create_dir_all(&parents)?;
            let graph = sdr::StackedGraph::for_proof(p);
            let file = parents.join(sdr::parent_cache_file_name(&graph));
            let _ = fs::remove_file(&file);
            t = Instant::now();
            sdr::cache::ensure_parent_cache(p, &parents, threads, false)?;
            return Ok(t.elapsed().as_secs_f64());
        }
        ("fil", "parents") => {
            let parents = PathBuf::from(
                std::env::var_os("FIL_PROOFS_PARENT_CACHE").context("FIL_PROOFS_PARENT_CACHE")?,
            );
            let pp = filecoin_proofs::parameters::public_params::<Tree>(&cfg)?;
            // Remove this graph's cache (and anything beside it, such as a
            // digest file) to time its generation. fil_compare checks that
            // both libraries name (and fill) the file alike.
            let name = sdr::parent_cache_file_name(&sdr::StackedGraph::for_proof(p));
            for e in fs::read_dir(&parents)? {
                let e = e?.path();
                if e.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&name))
                {
                    fs::remove_file(&e)?;
                }
            }
            t = Instant::now();
            let _cache = pp.graph.parent_cache()?;
            return Ok(t.elapsed().as_secs_f64());
        }
        ("cairn", "pc1") => {
            let pieces: Value = serde_json::from_slice(&fs::read(dir.join("cairn/pieces.json"))?)?;
            let comm_p = b32(&pieces[0], "comm_p")?;
            let padded = pieces[0]["padded"].as_u64().context("padded")?;
            let pieces = [CPiece::new(comm_p, padded)?];
            let parents = dir.join("../cairn-parents");
            t = Instant::now();
            let out = seal::precommit1(&Pc1Inputs {
                proof: p,
                parent_cache_dir: &parents,
                staged: &staged,
                cache_dir: &cache,
                prover_id: ProverId(inp.prover_id),
                sector_id: CSectorId(inp.sector_id),
                ticket: Ticket(inp.ticket),
                pieces: &pieces,
                threads,
            })?;
            let e = t.elapsed();
            fs::write(sd.join("pc1.bin"), out.to_bytes())?;
            return Ok(e.as_secs_f64());
        }
        ("fil" | "fil-mc", "pc1") => {
            let infos: Vec<FPiece> = json_read(&dir.join("fil/pieces.json"))?;
            let in_path = dir.join("fil/staged");
            File::create(&sealed)?;
            // rust-fil-proofs skips a layer whose file is already in the
            // cache folder (to resume), so a rerun would time nothing.
            for layer in 1..=p.layers() {
                let _ = fs::remove_file(cache.join(sdr::layer_file_name(layer)));
            }
            t = Instant::now();
            let out = filecoin_proofs::seal_pre_commit_phase1::<_, _, _, Tree>(
                &cfg,
                &cache,
                &in_path,
                &sealed,
                inp.prover_id,
                sid,
                inp.ticket,
                &infos,
            )?;
            let e = t.elapsed();
            json_write(&sd.join("pc1.json"), &out)?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "pc2") => {
            let pc1 = Pc1Output::from_bytes(&fs::read(sd.join("pc1.bin"))?)?;
            t = Instant::now();
            let out = seal::precommit2(&pc1, &staged, &cache, &sealed, threads)?;
            let e = t.elapsed();
            fs::write(sd.join("pc2.bin"), out.to_bytes())?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "pc2") => {
            let pc1: SealPreCommitPhase1Output<Tree> = json_read(&sd.join("pc1.json"))?;
            t = Instant::now();
            let out =
                filecoin_proofs::seal_pre_commit_phase2::<_, _, Tree>(&cfg, pc1, &cache, &sealed)?;
            let e = t.elapsed();
            json_write(&sd.join("pc2.json"), &out)?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "c1") => {
            let pc1 = Pc1Output::from_bytes(&fs::read(sd.join("pc1.bin"))?)?;
            let pc2 = Pc2Output::from_bytes(&fs::read(sd.join("pc2.bin"))?)?;
            t = Instant::now();
            let out = porep::commit1(&pc1, &pc2, inp.seed, &staged, &sealed, &cache)?;
            let e = t.elapsed();
            fs::write(sd.join("c1.bin"), out.to_bytes())?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "c1") => {
            let pc2: SealPreCommitOutput = json_read(&sd.join("pc2.json"))?;
            let infos: Vec<FPiece> = json_read(&sd.join("pieces.json"))?;
            t = Instant::now();
            let out = filecoin_proofs::seal_commit_phase1::<PathBuf, Tree>(
                &cfg,
                cache.clone(),
                sealed.clone(),
                inp.prover_id,
                sid,
                inp.ticket,
                inp.seed,
                pc2,
                &infos,
            )?;
            let e = t.elapsed();
            json_write(&sd.join("c1.json"), &out)?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "verify") => {
            let c1 = Commit1Output::from_bytes(&fs::read(sd.join("c1.bin"))?)?;
            t = Instant::now();
            porep::verify(&c1.public, &c1.partitions)?;
            return Ok(t.elapsed().as_secs_f64());
        }
        ("fil", "verify") => {
            let c1: SealCommitPhase1Output<Tree> = json_read(&sd.join("c1.json"))?;
            t = Instant::now();
            let pp = filecoin_proofs::parameters::public_params::<Tree>(&cfg)?;
            let public = stacked::PublicInputs::<PoseidonDomain, Sha256Domain> {
                replica_id: c1.replica_id,
                tau: Some(stacked::Tau {
                    comm_d: Sha256Domain::try_from_bytes(&c1.comm_d)?,
                    comm_r: PoseidonDomain::try_from_bytes(&c1.comm_r)?,
                }),
                k: None,
                seed: Some(c1.seed),
            };
            let ok = StackedDrg::<Tree, Sha256Hasher>::verify_all_partitions(
                &pp,
                &public,
                &c1.vanilla_proofs,
            )?;
            let e = t.elapsed();
            ensure!(ok, "filecoin-proofs refused its own vanilla proof");
            return Ok(e.as_secs_f64());
        }
        ("cairn", "wpost") => {
            let pc2 = Pc2Output::from_bytes(&fs::read(sd.join("pc2.bin"))?)?;
            let rand = PostRandomness::new(inp.randomness)?;
            t = Instant::now();
            let proof = post::prove(
                p.window_post(),
                &rand,
                &[ProvingSector {
                    sector_id: CSectorId(inp.sector_id),
                    comm_c: pc2.comm_c,
                    comm_r_last: pc2.comm_r_last,
                    cache_dir: &cache,
                    sealed: &sealed,
                }],
            )?;
            let e = t.elapsed();
            fs::write(sd.join("wpost.bin"), proof.to_bytes())?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "wpost") => {
            let pc2: SealPreCommitOutput = json_read(&sd.join("pc2.json"))?;
            let post_cfg = fil::post_config(p)?;
            t = Instant::now();
            let ch = filecoin_proofs::generate_fallback_sector_challenges::<Tree>(
                &post_cfg,
                &inp.randomness,
                &[sid],
                inp.prover_id,
            )?;
            let ch = ch.get(&sid).context("no challenges")?;
            let replica =
                PrivateReplicaInfo::<Tree>::new(sealed.clone(), pc2.comm_r, cache.clone())?;
            let proof = filecoin_proofs::generate_single_vanilla_proof::<Tree>(
                &post_cfg, sid, &replica, ch,
            )?;
            let e = t.elapsed();
            json_write(&sd.join("wpost.json"), &proof)?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "params") => {
            let dir_p = dir.join("../cairn-params");
            let _ = fs::remove_dir_all(&dir_p);
            t = Instant::now();
            snark_params::porep_keys(&dir_p, p, &mut |_| {})?;
            snark_params::window_post_keys(&dir_p, p.window_post(), &mut |_| {})?;
            return Ok(t.elapsed().as_secs_f64());
        }
        ("fil", "params") => {
            // Generate from scratch: empty the reference's cache folder.
            let cache_dir = PathBuf::from(
                std::env::var_os("FIL_PROOFS_PARAMETER_CACHE")
                    .context("FIL_PROOFS_PARAMETER_CACHE")?,
            );
            for e in fs::read_dir(&cache_dir)? {
                fs::remove_file(e?.path())?;
            }
            let pp = filecoin_proofs::parameters::public_params::<Tree>(&cfg)?;
            let post_cfg = fil::post_config(p)?;
            let post_pp = filecoin_proofs::parameters::window_post_public_params::<Tree>(&post_cfg)?;
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
            t = Instant::now();
            <StackedCompound<Tree, Sha256Hasher> as CompoundProof<
                StackedDrg<'_, Tree, Sha256Hasher>,
                _,
            >>::groth_params(Some(&mut rng), &pp)?;
            <FallbackPoStCompound<Tree> as CompoundProof<
                FallbackPoSt<'_, Tree>,
                FallbackPoStCircuit<Tree>,
            >>::groth_params(Some(&mut rng), &post_pp)?;
            return Ok(t.elapsed().as_secs_f64());
        }
        ("cairn", "c2") => {
            let c1 = Commit1Output::from_bytes(&fs::read(sd.join("c1.bin"))?)?;
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
            t = Instant::now();
            let (pk, _) = snark_params::porep_keys(&dir.join("../cairn-params"), p, &mut |_| {})?;
            let pvk = groth16::prepare(&pk.vk);
            let mut proofs = Vec::new();
            for (k, part) in c1.partitions.iter().enumerate() {
                let inputs = porep_circuit::public_inputs(&c1.public, k)?;
                let circuit = porep_circuit::PorepCircuit {
                    proof: p,
                    inputs: Some(&inputs),
                    witness: Some(part),
                };
                let (g, _) = groth16::prove(&circuit, &pk, &CpuBackend, &mut rng)?;
                ensure!(groth16::verify(&pvk, &inputs, &g), "Cairn's own C2 proof does not verify");
                proofs.extend_from_slice(&groth16::proof_to_bytes(&g));
            }
            let e = t.elapsed();
            fs::write(sd.join("c2.bin"), proofs)?;
            return Ok(e.as_secs_f64());
        }
        ("fil", "c2") => {
            let c1: SealCommitPhase1Output<Tree> = json_read(&sd.join("c1.json"))?;
            t = Instant::now();
            // Loads the parameters, proves, and verifies its own proof.
            let out = filecoin_proofs::seal_commit_phase2::<Tree>(&cfg, c1, inp.prover_id, sid)?;
            let e = t.elapsed();
            fs::write(sd.join("c2.bin"), &out.proof)?;
            return Ok(e.as_secs_f64());
        }
        ("cairn", "wpost_snark") => {
            let pc2 = Pc2Output::from_bytes(&fs::read(sd.join("pc2.bin"))?)?;
            let rand = PostRandomness::new(inp.randomness)?;
            let post_proof = p.window_post();
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
            t = Instant::now();
            let (pk, _) =
                snark_params::window_post_keys(&dir.join("../cairn-params"), post_proof, &mut |_| {})?;
            let vanilla = post::prove(
                post_proof,
                &rand,
                &[ProvingSector {
                    sector_id: CSectorId(inp.sector_id),
                    comm_c: pc2.comm_c,
                    comm_r_last: pc2.comm_r_last,
                    cache_dir: &cache,
                    sealed: &sealed,
                }],
            )?;
            let public = [PublicSector {
                sector_id: CSectorId(inp.sector_id),
                comm_r: pc2.comm_r,
            }];
            let inputs = post_circuit::public_inputs(post_proof, &rand, &public)?;
            let circuit = post_circuit::WindowPostCircuit {
                post: post_proof,
                inputs: Some(&inputs),
                proof: Some(&vanilla),
            };
            let (g, _) = groth16::prove(&circuit, &pk, &CpuBackend, &mut rng)?;
            let e = t.elapsed();
            ensure!(
                groth16::verify(&groth16::prepare(&pk.vk), &inputs, &g),
                "Cairn's own WindowPoSt proof does not verify"
            );
            return Ok(e.as_secs_f64());
        }
        ("fil", "wpost_snark") => {
            let pc2: SealPreCommitOutput = json_read(&sd.join("pc2.json"))?;
            let post_cfg = fil::post_config(p)?;
            let replica = PrivateReplicaInfo::<Tree>::new(sealed.clone(), pc2.comm_r, cache.clone())?;
            let replicas = BTreeMap::from([(sid, replica)]);
            // The SNARK path takes the prover id as a field element (the
            // vanilla one never does): clear the top bits as Lotus does.
            let mut prover_id = inp.prover_id;
            prover_id[31] &= 0x3f;
            t = Instant::now();
            let proof = filecoin_proofs::generate_window_post::<Tree>(
                &post_cfg,
                &inp.randomness,
                &replicas,
                prover_id,
            )?;
            let e = t.elapsed();
            ensure!(!proof.is_empty(), "empty WindowPoSt proof");
            return Ok(e.as_secs_f64());
        }
        _ => bail!("no phase {phase} for {side}"),
    }
}

// ---------------------------------------------------------------------------
// The parent: sizes, phases, machine state, the table.

#[derive(Debug, Clone, Default)]
struct Sample {
    wall_s: f64,
    cpu_s: f64,
    maxrss_kib: u64,
    other_cpu_s: f64,
}

/// Busy (non-idle, non-iowait) CPU seconds of the whole machine so far.
fn machine_busy_s() -> f64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = v
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, x)| x)
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    busy as f64 / hz
}

fn load1() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(99.0)
}

/// Other processes named rustc or cargo.
fn compilers() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Ok(c) = fs::read_to_string(e.path().join("comm")) {
                let c = c.trim();
                if c == "rustc" || c == "cargo" {
                    out.push(format!("{c}({})", e.file_name().to_string_lossy()));
                }
            }
        }
    }
    out
}

/// Waits up to `minutes` for a quiet machine; returns its state in words.
fn wait_quiet(minutes: u64) -> String {
    let start = Instant::now();
    loop {
        let (l, c) = (load1(), compilers());
        if l < 0.6 && c.is_empty() {
            return format!("quiet (load {l:.2}, no rustc/cargo)");
        }
        if start.elapsed() >= Duration::from_secs(minutes * 60) {
            return format!(
                "machine busy (load {l:.2}{}; waited {} min)",
                if c.is_empty() {
                    String::new()
                } else {
                    format!(", {}", c.join(" "))
                },
                minutes
            );
        }
        eprintln!(
            "  waiting for a quiet machine: load {l:.2}, {} compiler(s)",
            c.len()
        );
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn run_child(
    side: &str,
    phase: &str,
    dir: &Path,
    threads: usize,
    env: &[(&str, &str)],
) -> Result<Sample> {
    let exe = std::env::current_exe()?;
    let busy0 = machine_busy_s();
    let mut cmd = Command::new(exe);
    cmd.args(["--phase", side, phase, "--dir"])
        .arg(dir)
        .args(["--threads", &threads.to_string()]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    let busy = machine_busy_s() - busy0;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{side} {phase} failed ({}): {}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .with_context(|| format!("{side} {phase}: no RESULT line in {stdout}"))?;
    let v: Value = serde_json::from_str(line)?;
    let cpu_s = v["cpu_s"].as_f64().unwrap_or(0.0);
    Ok(Sample {
        wall_s: v["wall_s"].as_f64().unwrap_or(0.0),
        cpu_s,
        maxrss_kib: v["maxrss_kib"].as_u64().unwrap_or(0),
        other_cpu_s: (busy - cpu_s).max(0.0),
    })
}

fn write_data(path: &Path, len: u64, seed: u64) -> Result<()> {
    let mut rng = fil::rng(seed);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rand_core::RngCore::fill_bytes(&mut rng, &mut buf[..n]);
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    w.flush()?;
    Ok(())
}

fn fmt_s(s: f64) -> String {
    if s < 0.1 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn fmt_rss(kib: u64) -> String {
    if kib >= 1 << 20 {
        format!("{:.2} GiB", kib as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} MiB", kib as f64 / 1024.0)
    }
}

fn main() -> Result<()> {
    let mut it = std::env::args().skip(1).peekable();
    let mut sizes = vec![SealProof::StackedDrg2KiBV1_1, SealProof::StackedDrg8MiBV1_1];
    let mut seed: Option<u64> = None;
    let mut work: Option<PathBuf> = None;
    let mut threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut wait_min = 20u64;
    let mut json_out: Option<PathBuf> = None;
    let mut phase: Option<(String, String)> = None;
    let mut dir: Option<PathBuf> = None;
    let mut only: Option<Vec<String>> = None;
    let mut keep = false;
    let mut reuse = false;
    let mut only_sides: Option<Vec<String>> = None;
    while let Some(a) = it.next() {
        let mut val = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--sizes" => {
                sizes = val()?
                    .split(',')
                    .map(fil::parse_size)
                    .collect::<Result<_>>()?;
            }
            "--seed" => seed = Some(val()?.parse()?),
            "--work" => work = Some(PathBuf::from(val()?)),
            "--threads" => threads = val()?.parse()?,
            "--wait-quiet" => wait_min = val()?.parse()?,
            "--json" => json_out = Some(PathBuf::from(val()?)),
            "--phases" => only = Some(val()?.split(',').map(str::to_owned).collect()),
            "--keep" => keep = true,
            "--sides" => only_sides = Some(val()?.split(',').map(str::to_owned).collect()),
            "--reuse" => {
                reuse = true;
                keep = true;
            }
            "--phase" => {
                let side = val()?;
                let ph = it.next().context("--phase SIDE PHASE")?;
                phase = Some((side, ph));
            }
            "--dir" => dir = Some(PathBuf::from(val()?)),
            "-h" | "--help" => {
                println!(
                    "fil_bench [--sizes 2KiB,8MiB,512MiB] [--seed N] [--work DIR] [--threads N] [--wait-quiet MIN] [--json FILE] [--phases commp,add_piece,parents,pc1,pc2,c1,verify,wpost] [--sides cairn,fil,fil-mc] [--keep] [--reuse]"
                );
                return Ok(());
            }
            other => bail!("unknown argument {other}"),
        }
    }

    if let Some((side, ph)) = phase {
        let dir = dir.context("--phase needs --dir")?;
        let wall = child(&side, &ph, &dir, threads)?;
        let (cpu, rss) = rusage();
        println!(
            "RESULT {}",
            json!({"wall_s": wall, "cpu_s": cpu, "maxrss_kib": rss})
        );
        return Ok(());
    }

    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let work = work.unwrap_or_else(|| std::env::temp_dir().join("fil-bench"));
    fs::create_dir_all(&work)?;
    let fil_parents = work.join("fil-parents");
    fs::create_dir_all(&fil_parents)?;
    let fil_parents_s = fil_parents.to_string_lossy().into_owned();
    let params = work.join("fil-params");
    fs::create_dir_all(&params)?;
    let params_s = params.to_string_lossy().into_owned();
    let base_env: Vec<(&str, &str)> = vec![
        ("FIL_PROOFS_PARENT_CACHE", &fil_parents_s),
        ("FIL_PROOFS_PARAMETER_CACHE", &params_s),
        ("FIL_PROOFS_USE_MULTICORE_SDR", "0"),
    ];
    let mut mc_env = base_env.clone();
    mc_env.retain(|(k, _)| *k != "FIL_PROOFS_USE_MULTICORE_SDR");
    mc_env.push(("FIL_PROOFS_USE_MULTICORE_SDR", "1"));

    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    println!(
        "fil_bench: cairn-proofs vs filecoin-proofs 19.1.0{}",
        if multicore() {
            " (built with multicore-sdr)"
        } else {
            ""
        }
    );
    println!(
        "machine: {} ; {date} ; seed {seed} ; cairn threads {threads}",
        fil::machine()
    );
    let mut report = Vec::new();
    for p in sizes {
        let size = fil::size_name(p);
        let dir = work.join(size);
        let reusing = reuse && dir.join("inputs.json").exists() && dir.join("data").exists();
        if reusing {
            println!(
                "{size}: reusing {} (inputs, data and earlier phases' outputs)",
                dir.display()
            );
        } else {
            if dir.exists() {
                fs::remove_dir_all(&dir)?;
            }
            fs::create_dir_all(&dir)?;
        }
        let mut rng = fil::rng(fil::case_seed(seed, p.sector_size(), 0));
        let mut randomness = fil::bytes32(&mut rng);
        randomness[31] &= 0x3f;
        let inputs = json!({
            "seal_proof_id": p.id(),
            "prover_id": fil::hex(&fil::bytes32(&mut rng)),
            "sector_id": rand_core::RngCore::next_u64(&mut rng),
            "ticket": fil::hex(&fil::bytes32(&mut rng)),
            "seed": fil::hex(&fil::bytes32(&mut rng)),
            "randomness": fil::hex(&randomness),
        });
        if !reusing {
            fs::write(dir.join("inputs.json"), inputs.to_string())?;
            write_data(
                &dir.join("data"),
                p.unpadded_sector_size(),
                rand_core::RngCore::next_u64(&mut rng),
            )?;
        }

        let state = wait_quiet(wait_min);
        println!("\n{size}: {state}");
        let mut rows: BTreeMap<&str, BTreeMap<&str, Sample>> = BTreeMap::new();
        for &ph in PHASES {
            if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == ph)) {
                continue;
            }
            let mut sides = vec!["cairn", "fil"];
            if multicore() && (ph == "pc1") {
                sides.push("fil-mc");
            }
            sides.retain(|s| only_sides.as_ref().is_none_or(|o| o.iter().any(|x| x == s)));
            for &side in &sides {
                let env = if side == "fil-mc" { &mc_env } else { &base_env };
                let smp = run_child(side, ph, &dir, threads, env)?;
                println!(
                    "  {ph:9} {side:6} wall {:>10}  cpu {:>10}  peak RSS {:>9}  other CPU {:.1} s",
                    fmt_s(smp.wall_s),
                    fmt_s(smp.cpu_s),
                    fmt_rss(smp.maxrss_kib),
                    smp.other_cpu_s
                );
                rows.entry(ph).or_default().insert(side, smp);
            }
            // Both sides computed the same thing: check it, so a timing is
            // never reported for a wrong result.
            match ph {
                "commp" => {
                    let (a, b) = (
                        fs::read(dir.join("cairn/commp"))?,
                        fs::read(dir.join("fil/commp"))?,
                    );
                    ensure!(a == b, "CommP differs");
                }
                "pc1" => {
                    for layer in 1..=p.layers() {
                        let n = sdr::layer_file_name(layer);
                        // Every side that ran against the first one.
                        let pairs: Vec<(&str, &str)> =
                            sides.iter().skip(1).map(|&x| (x, sides[0])).collect();
                        for (x, y) in pairs {
                            if let Some(d) = fil::first_file_diff(
                                &dir.join(x).join("cache").join(&n),
                                &dir.join(y).join("cache").join(&n),
                            )? {
                                bail!("{size} layer {layer}: {x} vs {y}: {d}");
                            }
                        }
                    }
                }
                "pc2" => {
                    let c = Pc2Output::from_bytes(&fs::read(dir.join("cairn/pc2.bin"))?)?;
                    let f: SealPreCommitOutput = json_read(&dir.join("fil/pc2.json"))?;
                    ensure!(
                        c.comm_r == f.comm_r && c.comm_d == f.comm_d,
                        "CommR/CommD differ"
                    );
                }
                _ => {}
            }
        }
        report.push((size, state, rows));
        // Free the disk before the next size, unless asked to keep it.
        if !keep {
            for side in ["cairn", "fil", "fil-mc"] {
                let _ = fs::remove_dir_all(dir.join(side));
            }
        }
    }

    // The table.
    println!();
    let mut jrep = Vec::new();
    for (size, state, rows) in &report {
        println!("### {size} ({state})\n");
        let mc = multicore();
        print!(
            "| phase | cairn wall | cairn peak RSS | filecoin-proofs wall | filecoin-proofs peak RSS | fil / cairn |"
        );
        println!(
            "{}",
            if mc {
                " fil multicore-sdr wall | fil mc peak RSS |"
            } else {
                ""
            }
        );
        println!(
            "| --- | ---: | ---: | ---: | ---: | ---: |{}",
            if mc { " ---: | ---: |" } else { "" }
        );
        for (ph, name) in PHASE_NAMES {
            let Some(r) = rows.get(ph) else { continue };
            let (Some(c), Some(f)) = (r.get("cairn"), r.get("fil")) else {
                continue;
            };
            let busy = |s: &Sample| {
                if s.other_cpu_s > 0.1 * s.wall_s.max(1.0) {
                    " (busy)"
                } else {
                    ""
                }
            };
            print!(
                "| {name} | {}{} | {} | {}{} | {} | {:.2}x |",
                fmt_s(c.wall_s),
                busy(c),
                fmt_rss(c.maxrss_kib),
                fmt_s(f.wall_s),
                busy(f),
                fmt_rss(f.maxrss_kib),
                f.wall_s / c.wall_s.max(1e-9)
            );
            match r.get("fil-mc") {
                Some(m) => println!(
                    " {}{} | {} |",
                    fmt_s(m.wall_s),
                    busy(m),
                    fmt_rss(m.maxrss_kib)
                ),
                None if mc => println!(" | |"),
                None => println!(),
            }
            for (side, s) in r {
                jrep.push(json!({
                    "size": size, "phase": ph, "side": side, "wall_s": s.wall_s,
                    "cpu_s": s.cpu_s, "maxrss_kib": s.maxrss_kib, "other_cpu_s": s.other_cpu_s,
                }));
            }
        }
        println!();
    }
    if let Some(j) = json_out {
        fs::write(
            &j,
            serde_json::to_string_pretty(&json!({
                "machine": fil::machine(), "date": date, "seed": seed, "threads": threads,
                "multicore_sdr_build": multicore(),
                "states": report.iter().map(|(s, st, _)| json!({"size": s, "state": st})).collect::<Vec<_>>(),
                "samples": jrep,
            }))?,
        )?;
    }
    Ok(())
}
