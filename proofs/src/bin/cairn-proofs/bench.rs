//! `seal-bench`: seals and proves one sector of random data and times each
//! step, with the peak resident memory of each.
//!
//! Steps, in order (the names are what the report prints):
//!
//! | step | what |
//! | --- | --- |
//! | `add_piece` | ChaCha20 data, the sector's unpadded capacity, staged as one piece (CommP, fr32) |
//! | `pc1.parent_cache_generate` | the parent cache generated into an empty folder, its SHA-256 checked against the published one |
//! | `pc1.tree_d` | tree_d over the staged sector, CommD |
//! | `pc1.parent_cache_lookup` | the replica id, and PC1 finding the parent cache just generated |
//! | `pc1.labels` | every SDR label layer |
//! | `pc1.layer_digests` | SHA-256 of each layer file, for the PC1 output |
//! | `pc2.check_cache` | the cache folder checked against the PC1 output |
//! | `pc2.tree_c` | tree_c over the layers' columns, CommC |
//! | `pc2.encode` | the replica: data + last layer |
//! | `pc2.tree_r_last` | tree_r_last over the replica, CommR |
//! | `c1` | Commit 1: the vanilla PoRep openings for one seed |
//! | `porep.verify` | the vanilla PoRep verifier |
//! | `params.porep`, `params.window_post` | Groth16 parameters loaded from the cache (`--params-dir`), or generated into it on first use (each just before its prover) |
//! | `c2.synthesis`, `c2.fft`, `c2.msm` | Commit 2: one Groth16 proof per partition (witness, quotient FFTs, multi-scalar multiplications) |
//! | `verify` | the Groth16 PoRep verifier (prepared key, every partition) |
//! | `post.prove`, `post.verify` | vanilla WindowPoSt of a one-sector partition |
//! | `post.snark` | the WindowPoSt Groth16 proof of that partition |
//! | `post.snark_verify` | its Groth16 verification |
//!
//! `--json` prints one object whose `phases` and `peak_rss_bytes` have the
//! keys `params`, `add_piece`, `pc1`, `pc2`, `c1`, `c2`, `verify`,
//! `window_post_prove` (vanilla + SNARK) and `window_post_verify` (SNARK),
//! with `constraints`, `proof_bytes` and `verified` beside them (these
//! spellings are fixed: scripts read them), plus every step as above.
//!
//! rust-fil-proofs generates the parent cache once per machine and sector
//! size; its row is apart so that it can be left out. Peak RSS is
//! Linux's `VmHWM`, reset before each step through `/proc/self/clear_refs`.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::porep;
use cairn_proofs::post::{self, ProvingSector, PublicSector};
use cairn_proofs::sdr::{ProverId, SectorId, StackedGraph, Ticket, cache};
use cairn_proofs::seal::{self, Pc1Inputs, Step};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::groth16::{self, PROOF_BYTES};
use cairn_proofs::snark::params;
use cairn_proofs::snark::porep_circuit::{self, PorepCircuit};
use cairn_proofs::snark::post_circuit::{self, WindowPostCircuit};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::json;

use crate::data::{self, Payload};
use crate::job::size_name;
use crate::machine::{self, Machine};

/// Arguments of `seal-bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Sector size: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB.
    #[arg(long)]
    pub sector_size: SealProof,
    /// Work folder, kept afterwards. Default: a new folder in the system's
    /// temporary folder, removed afterwards. Needs about 2 sectors plus the
    /// layers (11 sectors at 32 GiB) plus the parent cache.
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Worker threads. Default: every CPU.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Groth16 parameter cache. Default: `$CAIRN_PARAMS_DIR`, else
    /// `~/.cache/cairn/params`.
    #[arg(long, value_name = "DIR")]
    pub params_dir: Option<PathBuf>,
}

struct Row {
    name: String,
    seconds: f64,
    peak_rss_kib: Option<u64>,
}

/// Times consecutive steps: each row covers the time since the previous.
struct Clock {
    last: Instant,
    rows: Vec<Row>,
}

impl Clock {
    fn start() -> Self {
        machine::reset_peak_rss();
        Self {
            last: Instant::now(),
            rows: Vec::new(),
        }
    }

    fn mark(&mut self, name: &str) {
        let seconds = self.last.elapsed().as_secs_f64();
        self.push(name, seconds);
    }

    /// Records a step whose own duration is known (part of a longer one).
    fn push(&mut self, name: &str, seconds: f64) {
        let peak_rss_kib = machine::peak_rss_kib();
        eprintln!("cairn-proofs seal-bench: {name} {seconds:.3} s");
        self.rows.push(Row {
            name: name.to_owned(),
            seconds,
            peak_rss_kib,
        });
        machine::reset_peak_rss();
        self.last = Instant::now();
    }

    /// The largest peak RSS of the rows starting with `prefix`, in bytes.
    fn peak(&self, prefix: &str) -> Option<u64> {
        self.rows
            .iter()
            .filter(|r| r.name.starts_with(prefix))
            .filter_map(|r| r.peak_rss_kib)
            .max()
            .map(|k| k * 1024)
    }

    fn sum(&self, prefix: &str) -> f64 {
        self.rows
            .iter()
            .filter(|r| r.name.starts_with(prefix))
            .map(|r| r.seconds)
            .sum()
    }
}

/// A library step's row name; PC1's own parent cache step only finds the
/// file generated just before.
fn step_name(s: Step) -> String {
    match s {
        Step::ParentCache => "pc1.parent_cache_lookup".into(),
        Step::TreeD | Step::Labels | Step::LayerDigests => format!("pc1.{}", s.name()),
        _ => format!("pc2.{}", s.name()),
    }
}

/// Runs `seal-bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    let proof = args.sector_size;
    let threads = crate::threads(args.threads);
    let (work, remove_after) = match &args.work {
        Some(w) => (w.clone(), false),
        None => (
            std::env::temp_dir().join(format!("cairn-seal-bench-{}", std::process::id())),
            true,
        ),
    };
    let result = bench(args, proof, threads, &work);
    if remove_after {
        // Best effort: a leftover temporary folder is not worth an error.
        let _ = fs::remove_dir_all(&work);
    }
    result
}

fn bench(args: &BenchArgs, proof: SealProof, threads: usize, work: &std::path::Path) -> Result<()> {
    let staged = work.join("staged");
    let sealed = work.join("sealed");
    let cache_dir = work.join("cache");
    let parents = work.join("parent-cache");
    for d in [&cache_dir, &parents] {
        fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let graph = StackedGraph::for_proof(proof);
    let parent_file = parents.join(cache::parent_cache_file_name(&graph));
    if parent_file.exists() {
        fs::remove_file(&parent_file)
            .with_context(|| format!("removing {}", parent_file.display()))?;
    }
    let machine = Machine::read();
    let load_before = machine::load_1min();
    let started = Instant::now();
    let mut clock = Clock::start();

    let params_dir = args.params_dir.clone().unwrap_or_else(params::default_dir);
    let post_proof = proof.window_post();
    let mut say = |l: &str| eprintln!("cairn-proofs seal-bench: {l}");

    let (piece, _) = data::stage(proof, &Payload::Random(0), &staged)?;
    clock.mark("add_piece");

    let generated = cache::generate_parent_cache(&graph, &parents, threads)?;
    if generated.sha256_hex() != proof.parent_cache_sha256() {
        bail!(
            "parent cache digest {} is not the published {}",
            generated.sha256_hex(),
            proof.parent_cache_sha256()
        );
    }
    clock.mark("pc1.parent_cache_generate");

    let pieces: [PieceInfo; 1] = [piece];
    let pc1 = seal::precommit1_observed(
        &Pc1Inputs {
            proof,
            parent_cache_dir: &parents,
            staged: &staged,
            cache_dir: &cache_dir,
            prover_id: ProverId([1; 32]),
            sector_id: SectorId(1),
            ticket: Ticket([2; 32]),
            pieces: &pieces,
            threads,
        },
        &mut |s| clock.mark(&step_name(s)),
    )?;
    let pc2 = seal::precommit2_observed(&pc1, &staged, &cache_dir, &sealed, threads, &mut |s| {
        clock.mark(&step_name(s))
    })?;

    let c1 = porep::commit1(&pc1, &pc2, [3; 32], &staged, &sealed, &cache_dir)?;
    clock.mark("c1");
    porep::verify(&c1.public, &c1.partitions)?;
    clock.mark("porep.verify");

    // Parameters are loaded only now, so that the sealing steps above are
    // measured (time and peak memory) without 1.7 GB of keys resident.
    let (porep_pk, porep_src) = params::porep_keys(&params_dir, proof, &mut say)?;
    let porep_size = params::porep_size(proof)?;
    clock.mark("params.porep");
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut porep_inputs = Vec::with_capacity(c1.partitions.len());
    let mut porep_proofs = Vec::with_capacity(c1.partitions.len());
    let mut c2 = groth16::ProveTimings::default();
    for (k, part) in c1.partitions.iter().enumerate() {
        let inputs = porep_circuit::public_inputs(&c1.public, k)?;
        let circuit = PorepCircuit {
            proof,
            inputs: Some(&inputs),
            witness: Some(part),
        };
        let (g, t) = groth16::prove(&circuit, &porep_pk, &CpuBackend, &mut rng)?;
        c2.synthesis_s += t.synthesis_s;
        c2.fft_s += t.fft_s;
        c2.msm_s += t.msm_s;
        porep_inputs.push(inputs);
        porep_proofs.push(groth16::proof_to_bytes(&g));
    }
    let c2_total = clock.last.elapsed().as_secs_f64();
    clock.push("c2.synthesis", c2.synthesis_s);
    clock.push("c2.fft", c2.fft_s);
    clock.push("c2.msm", (c2_total - c2.synthesis_s - c2.fft_s).max(0.0));
    let porep_pvk = groth16::prepare(&porep_pk.vk);
    let mut verified = true;
    for (inputs, bytes) in porep_inputs.iter().zip(&porep_proofs) {
        let g = groth16::proof_from_bytes(bytes)?;
        verified &= groth16::verify(&porep_pvk, inputs, &g);
    }
    clock.mark("verify");

    let randomness = PostRandomness::from_chain([4; 32]);
    let sector = ProvingSector {
        sector_id: pc2.sector_id,
        comm_c: pc2.comm_c,
        comm_r_last: pc2.comm_r_last,
        cache_dir: &cache_dir,
        sealed: &sealed,
    };
    let partition = post::prove(post_proof, &randomness, &[sector])?;
    clock.mark("post.prove");
    let public = PublicSector {
        sector_id: pc2.sector_id,
        comm_r: pc2.comm_r,
    };
    post::verify(post_proof, &randomness, &[public], &partition)?;
    clock.mark("post.verify");
    drop(porep_pk);
    let (post_pk, post_src) = params::window_post_keys(&params_dir, post_proof, &mut say)?;
    let post_size = params::window_post_size(post_proof)?;
    clock.mark("params.window_post");
    let post_inputs = post_circuit::public_inputs(post_proof, &randomness, &[public])?;
    let (post_g, _) = groth16::prove(
        &WindowPostCircuit {
            post: post_proof,
            inputs: Some(&post_inputs),
            proof: Some(&partition),
        },
        &post_pk,
        &CpuBackend,
        &mut rng,
    )?;
    let post_bytes = groth16::proof_to_bytes(&post_g);
    clock.mark("post.snark");
    let post_pvk = groth16::prepare(&post_pk.vk);
    verified &= groth16::verify(
        &post_pvk,
        &post_inputs,
        &groth16::proof_from_bytes(&post_bytes)?,
    );
    clock.mark("post.snark_verify");
    let total = started.elapsed().as_secs_f64();
    let load_after = machine::load_1min();
    let peak = clock.rows.iter().filter_map(|r| r.peak_rss_kib).max();

    let totals = [
        ("pc1", clock.sum("pc1.")),
        ("pc2", clock.sum("pc2.")),
        (
            "seal",
            clock.sum("add_piece") + clock.sum("pc1.") + clock.sum("pc2."),
        ),
        ("total", total),
    ];
    // The fixed report: each phase as the sum of its steps.
    let phase = |prefixes: &[&str]| -> (f64, Option<u64>) {
        let secs = prefixes.iter().map(|p| clock.sum(p)).sum();
        let peak = prefixes.iter().filter_map(|p| clock.peak(p)).max();
        (secs, peak)
    };
    let phases: Vec<(&str, (f64, Option<u64>))> = vec![
        ("params", phase(&["params."])),
        ("add_piece", phase(&["add_piece"])),
        ("pc1", phase(&["pc1."])),
        ("pc2", phase(&["pc2."])),
        ("c1", phase(&["c1"])),
        ("c2", phase(&["c2."])),
        ("verify", phase(&["verify"])),
        ("window_post_prove", phase(&["post.prove", "post.snark"])),
        ("window_post_verify", phase(&["post.snark_verify"])),
    ];
    // "post.snark" is a prefix of "post.snark_verify": take it out again.
    let phases: Vec<(&str, (f64, Option<u64>))> = phases
        .into_iter()
        .map(|(k, (secs, peak))| {
            if k == "window_post_prove" {
                (k, (secs - clock.sum("post.snark_verify"), peak))
            } else {
                (k, (secs, peak))
            }
        })
        .collect();
    let porep_proof_bytes = PROOF_BYTES * porep_proofs.len();
    if args.json {
        let out = json!({
            "sector_size": proof.sector_size(),
            "phases": phases.iter().map(|(k, (s, _))| ((*k).to_owned(), json!(s))).collect::<serde_json::Map<_, _>>(),
            "peak_rss_bytes": phases.iter().map(|(k, (_, p))| ((*k).to_owned(), json!(p))).collect::<serde_json::Map<_, _>>(),
            "constraints": { "porep": porep_size.constraints, "window_post": post_size.constraints },
            "proof_bytes": { "porep": porep_proof_bytes, "window_post": post_bytes.len() },
            "verified": verified,
            "params_source": { "porep": format!("{porep_src:?}"), "window_post": format!("{post_src:?}") },
            "seal_proof": proof.name(),
            "threads": threads,
            "machine": machine,
            "load_1min_before": load_before,
            "load_1min_after": load_after,
            "steps": clock.rows.iter().map(|r| json!({
                "name": r.name, "seconds": r.seconds, "peak_rss_kib": r.peak_rss_kib,
            })).collect::<Vec<_>>(),
            "totals_seconds": totals.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "peak_rss_kib": peak,
            "comm_r": hex::encode(pc2.comm_r),
            "comm_r_cid": seal::comm_r_cid(&pc2.comm_r).to_string(),
        });
        println!("{out}");
    } else {
        println!(
            "seal-bench {} ({}), {threads} threads",
            size_name(proof.sector_size()),
            proof.name()
        );
        println!(
            "machine: {}, {} cores ({} CPUs), {} MiB RAM, Linux {}; 1-min load {} before, {} after",
            machine.cpu,
            machine.cores,
            machine.logical_cpus,
            machine.mem_total_kib.unwrap_or(0) / 1024,
            machine.kernel,
            load_before.map_or("?".into(), |l| format!("{l:.2}")),
            load_after.map_or("?".into(), |l| format!("{l:.2}")),
        );
        println!("{:<26} {:>10} {:>14}", "step", "seconds", "peak RSS MiB");
        for r in &clock.rows {
            println!(
                "{:<26} {:>10.3} {:>14}",
                r.name,
                r.seconds,
                r.peak_rss_kib
                    .map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
            );
        }
        for (k, v) in totals {
            println!("{:<26} {v:>10.3}", format!("= {k}"));
        }
        println!("{:<26} {:>10} {:>14}", "phase", "seconds", "peak RSS MiB");
        for (k, (secs, p)) in &phases {
            println!(
                "{k:<26} {secs:>10.3} {:>14}",
                p.map_or("?".into(), |b| format!(
                    "{:.1}",
                    b as f64 / (1 << 20) as f64
                ))
            );
        }
        println!(
            "constraints: PoRep {} ({} partition(s)), WindowPoSt {}; proof bytes: PoRep {porep_proof_bytes}, WindowPoSt {}",
            porep_size.constraints,
            porep_proofs.len(),
            post_size.constraints,
            post_bytes.len()
        );
        println!(
            "parameters: PoRep {porep_src:?}, WindowPoSt {post_src:?} ({}); verified: {verified}",
            params_dir.display()
        );
        println!(
            "peak RSS {} MiB; CommR {}",
            peak.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            seal::comm_r_cid(&pc2.comm_r)
        );
    }
    Ok(())
}
