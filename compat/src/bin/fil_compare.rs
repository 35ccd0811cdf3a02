//! `fil_compare`: cairn-proofs against rust-fil-proofs 19.1.0 on random
//! inputs, every intermediate value compared byte for byte.
//!
//! For each case (seeded, reproducible): random prover id, sector number,
//! ticket, PoRep seed, WindowPoSt randomness and data. Even cases hold one
//! piece filling the sector; odd cases several pieces of different
//! power-of-two sizes, in an order that needs alignment padding, followed by
//! the zero pieces that fill the sector (as Lotus adds them). Each piece's
//! payload is shorter than its piece (the rest is zeros): cairn gets the
//! payload and zero-fills it itself, filecoin-proofs gets the zero-filled
//! piece, as Lotus gives it.
//!
//! Both sides then seal the same sector (PC1, PC2, C1) and prove it
//! (WindowPoSt vanilla), each in its own folder, and the harness compares:
//! CommP of each piece (both `generate_piece_commitment` and `add_piece`),
//! the staged sector file, CommD (from the pieces and from PC1), the parent
//! cache file, the replica id, every label layer file, CommC, CommRLast,
//! CommR, the sealed replica, the PoRep challenges of every partition, every
//! Commit 1 opening (tree_d and tree_r_last paths, the 15 columns with their
//! tree_c paths), the WindowPoSt challenges and openings; and checks that
//! cairn's own verifiers accept cairn's Commit 1 and WindowPoSt proofs.
//!
//! Usage: fil_compare [--seed N] [--cases 2KiB=20,8MiB=5[,512MiB=1]]
//!                    [--only SIZE:CASE_SEED] [--work DIR] [--keep]
//!                    [--threads N] [--inject-fault]
//! Exit status 1 on any mismatch, with the first differing byte named.

#[path = "../fil/mod.rs"]
mod fil;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use cairn_proofs::challenges::{self, PostRandomness};
use cairn_proofs::commp;
use cairn_proofs::pieces::{self, PieceInfo as CPiece};
use cairn_proofs::porep::{self, Commit1Output};
use cairn_proofs::post::{self, ProvingSector, PublicSector};
use cairn_proofs::sdr::{self, ProverId, SectorId as CSectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs};
use cairn_proofs::sector::SealProof;
use cairn_proofs::tree::MerklePath;
use fil::Tree;
use filecoin_hashers::Domain;
use filecoin_hashers::poseidon::{PoseidonDomain, PoseidonHasher};
use filecoin_proofs::{PieceInfo as FPiece, PrivateReplicaInfo, SectorSize, UnpaddedBytesAmount};
use storage_proofs_core::merkle::{MerkleProofTrait, MerkleTreeTrait};
use storage_proofs_core::sector::SectorId;
use storage_proofs_porep::stacked::{self, ColumnProof};

/// The values compared, in table order.
const ROWS: &[&str] = &[
    "CommP (generate_piece_commitment)",
    "CommP (add_piece)",
    "staged sector file (bytes)",
    "CommD (compute_comm_d / pieces::comm_d)",
    "CommD (PC1)",
    "parent cache file (bytes)",
    "replica id",
    "label layer files (bytes)",
    "CommC",
    "CommRLast",
    "CommR",
    "sealed replica (bytes)",
    "PoRep challenges (per partition)",
    "C1 openings (per challenge)",
    "cairn verifies cairn's C1",
    "WindowPoSt challenges",
    "WindowPoSt openings",
    "cairn verifies cairn's WindowPoSt",
];

#[derive(Default)]
struct Tally {
    /// (row, size) -> (matched, total)
    cells: BTreeMap<(&'static str, &'static str), (u64, u64)>,
    mismatches: Vec<String>,
}

impl Tally {
    fn record(&mut self, row: &'static str, size: &'static str, ctx: &str, diff: Option<String>) {
        debug_assert!(ROWS.contains(&row), "{row}");
        let c = self.cells.entry((row, size)).or_default();
        c.1 += 1;
        match diff {
            None => c.0 += 1,
            Some(d) => {
                let m = format!("MISMATCH {size} {ctx}: {row}: {d}");
                eprintln!("{m}");
                self.mismatches.push(m);
            }
        }
    }

    fn bytes(
        &mut self,
        row: &'static str,
        size: &'static str,
        ctx: &str,
        ours: &[u8],
        theirs: &[u8],
    ) {
        self.record(row, size, ctx, fil::first_byte_diff(ours, theirs));
    }

    fn print(&self, sizes: &[&'static str]) {
        let w = ROWS.iter().map(|r| r.len()).max().unwrap_or(10);
        print!("| {:w$} |", "value");
        for s in sizes {
            print!(" {s:>9} |");
        }
        println!();
        print!("| {} |", "-".repeat(w));
        for _ in sizes {
            print!(" {}: |", "-".repeat(8));
        }
        println!();
        for r in ROWS {
            print!("| {r:w$} |");
            for s in sizes {
                match self.cells.get(&(*r, *s)) {
                    Some((m, t)) => print!(" {:>9} |", format!("{m}/{t}")),
                    None => print!(" {:>9} |", "-"),
                }
            }
            println!();
        }
    }
}

struct Args {
    seed: u64,
    cases: Vec<(SealProof, u64)>,
    only: Option<(SealProof, u64)>,
    work: PathBuf,
    keep: bool,
    threads: usize,
    /// Flip one bit of cairn's ticket in every case: everything from the
    /// replica id on must then be reported as differing (checks the harness).
    inject_fault: bool,
}

fn parse_args() -> Result<Args> {
    let mut seed = None;
    let mut cases = vec![
        (SealProof::StackedDrg2KiBV1_1, 20),
        (SealProof::StackedDrg8MiBV1_1, 5),
    ];
    let mut only = None;
    let mut work = None;
    let mut keep = false;
    let mut inject_fault = false;
    let mut threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seed" => seed = Some(val()?.parse()?),
            "--cases" => {
                cases = val()?
                    .split(',')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').context("--cases SIZE=N,...")?;
                        Ok((fil::parse_size(k)?, v.parse()?))
                    })
                    .collect::<Result<_>>()?;
            }
            "--only" => {
                let v = val()?;
                let (k, s) = v.split_once(':').context("--only SIZE:CASE_SEED")?;
                only = Some((fil::parse_size(k)?, s.parse()?));
            }
            "--work" => work = Some(PathBuf::from(val()?)),
            "--threads" => threads = val()?.parse()?,
            "--keep" => keep = true,
            "--inject-fault" => inject_fault = true,
            "-h" | "--help" => {
                println!(
                    "fil_compare [--seed N] [--cases 2KiB=20,8MiB=5,512MiB=1] [--only SIZE:CASE_SEED] [--work DIR] [--keep] [--threads N] [--inject-fault]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let work = work.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("fil-compare-{}", std::process::id()))
    });
    Ok(Args {
        seed,
        cases,
        only,
        work,
        keep,
        threads,
        inject_fault,
    })
}

/// One piece: its padded size and the payload (shorter than the piece).
struct Piece {
    padded: u64,
    payload: Vec<u8>,
}

impl Piece {
    fn unpadded(&self) -> u64 {
        self.padded / 128 * 127
    }
    /// The payload zero-filled to the piece: what filecoin-proofs reads.
    fn reader(&self) -> impl Read + '_ {
        (&self.payload[..]).chain(io::repeat(0).take(self.unpadded() - self.payload.len() as u64))
    }
}

struct Case {
    proof: SealProof,
    seed: u64,
    prover_id: [u8; 32],
    sector_id: u64,
    ticket: [u8; 32],
    porep_seed: [u8; 32],
    randomness: [u8; 32],
    pieces: Vec<Piece>,
}

fn payload(rng: &mut rand_chacha::ChaCha20Rng, padded: u64) -> Vec<u8> {
    let unpadded = padded / 128 * 127;
    // Longer than half the piece (so the piece size is `padded`), at least
    // 65 bytes (the smallest piece go-fil-commp-hashhash accepts).
    let len = fil::range(rng, (unpadded / 2 + 1).max(65), unpadded);
    let mut v = vec![0u8; len as usize];
    rand_core::RngCore::fill_bytes(rng, &mut v);
    v
}

fn make_case(proof: SealProof, seed: u64, multi: bool) -> Case {
    let mut rng = fil::rng(seed);
    let prover_id = fil::bytes32(&mut rng);
    let sector_id = rand_core::RngCore::next_u64(&mut rng);
    let ticket = fil::bytes32(&mut rng);
    let porep_seed = fil::bytes32(&mut rng);
    let mut randomness = fil::bytes32(&mut rng);
    randomness[31] &= 0x3f; // canonical, as Lotus passes it
    let s = proof.sector_size();
    let mut pieces = Vec::new();
    if !multi {
        pieces.push(Piece {
            padded: s,
            payload: payload(&mut rng, s),
        });
    } else {
        // A small piece, then one at least twice as large (so it needs left
        // alignment), then random sizes in random order while they fit.
        let max_log = (s / 2).trailing_zeros() as u64; // pieces up to half the sector
        let first_log = fil::range(&mut rng, 7, max_log - 1);
        let second_log = fil::range(&mut rng, first_log + 1, max_log);
        let mut logs = vec![first_log, second_log];
        let mut off = 0u64;
        let place = |off: &mut u64, p: u64| -> bool {
            let start = off.next_multiple_of(p);
            if start + p > s {
                return false;
            }
            *off = start + p;
            true
        };
        for &l in &logs {
            assert!(place(&mut off, 1 << l));
        }
        for _ in 0..6 {
            let l = fil::range(&mut rng, 7, max_log);
            if place(&mut off, 1 << l) {
                logs.push(l);
            }
        }
        for l in logs {
            pieces.push(Piece {
                padded: 1 << l,
                payload: payload(&mut rng, 1 << l),
            });
        }
    }
    Case {
        proof,
        seed,
        prover_id,
        sector_id,
        ticket,
        porep_seed,
        randomness,
        pieces,
    }
}

fn le32(d: &impl Domain) -> [u8; 32] {
    let v = d.into_bytes();
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    out
}

/// A Merkle path as (index, siblings) per level, leaves up, plus the leaf.
type Levels = (Vec<u8>, Vec<(usize, Vec<[u8; 32]>)>);

fn fil_levels<P: MerkleProofTrait>(p: &P) -> Levels {
    (
        le32(&p.leaf()).to_vec(),
        p.path()
            .into_iter()
            .map(|(sibs, i)| (i, sibs.iter().map(le32).collect()))
            .collect(),
    )
}

fn cairn_levels(p: &MerklePath) -> Levels {
    (
        p.leaf.to_vec(),
        p.levels
            .iter()
            .map(|l| (usize::from(l.index), l.siblings.clone()))
            .collect(),
    )
}

fn levels_diff(what: &str, ours: &Levels, theirs: &Levels) -> Option<String> {
    if let Some(d) = fil::first_byte_diff(&ours.0, &theirs.0) {
        return Some(format!("{what}: leaf: {d}"));
    }
    if ours.1.len() != theirs.1.len() {
        return Some(format!(
            "{what}: {} levels, filecoin-proofs {}",
            ours.1.len(),
            theirs.1.len()
        ));
    }
    for (lvl, ((ia, sa), (ib, sb))) in ours.1.iter().zip(&theirs.1).enumerate() {
        if ia != ib {
            return Some(format!(
                "{what}: level {lvl}: index cairn {ia}, filecoin-proofs {ib}"
            ));
        }
        if sa.len() != sb.len() {
            return Some(format!(
                "{what}: level {lvl}: {} siblings, filecoin-proofs {}",
                sa.len(),
                sb.len()
            ));
        }
        for (j, (a, b)) in sa.iter().zip(sb).enumerate() {
            if let Some(d) = fil::first_byte_diff(a, b) {
                return Some(format!("{what}: level {lvl} sibling {j}: {d}"));
            }
        }
    }
    None
}

type TreeProof = <Tree as MerkleTreeTrait>::Proof;

/// A column opening of the reference: its labels and its tree_c path. The
/// fields are crate-private, so they go through serde (the struct derives
/// it with these field names).
fn fil_column(cp: &ColumnProof<TreeProof>) -> Result<(Vec<[u8; 32]>, Levels)> {
    let v = serde_json::to_value(cp)?;
    let rows: Vec<PoseidonDomain> =
        serde_json::from_value(v["column"]["rows"].clone()).context("ColumnProof.column.rows")?;
    let proof: TreeProof = serde_json::from_value(v["inclusion_proof"].clone())
        .context("ColumnProof.inclusion_proof")?;
    Ok((rows.iter().map(le32).collect(), fil_levels(&proof)))
}

fn cairn_pieces_of(infos: &[pieces::AddedPiece]) -> Vec<CPiece> {
    infos.iter().map(|a| a.info).collect()
}

struct SizeState {
    parent_cache_checked: bool,
}

#[allow(clippy::too_many_lines)]
fn run_case(
    args: &Args,
    tally: &mut Tally,
    state: &mut SizeState,
    fil_parents: &Path,
    cairn_parents: &Path,
    c: &Case,
    label: &str,
) -> Result<()> {
    let proof = c.proof;
    let size = fil::size_name(proof);
    let s = proof.sector_size();
    let ctx = format!("{label} (case seed {})", c.seed);
    let mismatches_before = tally.mismatches.len();
    let dir = args.work.join(format!("{size}-{}", c.seed));
    let (fdir, cdir) = (dir.join("fil"), dir.join("cairn"));
    for d in [&fdir, &cdir] {
        if d.exists() {
            fs::remove_dir_all(d)?;
        }
        fs::create_dir_all(d.join("cache"))?;
    }
    let (f_staged, c_staged) = (fdir.join("staged"), cdir.join("staged"));
    let (f_cache, c_cache) = (fdir.join("cache"), cdir.join("cache"));
    let (f_sealed, c_sealed) = (fdir.join("sealed"), cdir.join("sealed"));
    let cfg = fil::porep_config(proof);
    ensure!(
        fil::fil_porep_id(proof) == *proof.porep_id().as_bytes(),
        "PoRep id layouts differ"
    );

    // Pieces: CommP, add_piece, fill.
    let mut f_infos: Vec<FPiece> = Vec::new();
    let mut f_lengths: Vec<UnpaddedBytesAmount> = Vec::new();
    let mut c_added: Vec<pieces::AddedPiece> = Vec::new();
    {
        let mut fw = BufWriter::new(File::create(&f_staged)?);
        let mut cw = BufWriter::new(File::create(&c_staged)?);
        for (i, p) in c.pieces.iter().enumerate() {
            let pctx = format!(
                "{ctx} piece {i} ({} B padded, {} B payload)",
                p.padded,
                p.payload.len()
            );
            let ours = commp::commp(&p.payload)?;
            let theirs = filecoin_proofs::generate_piece_commitment(
                p.reader(),
                UnpaddedBytesAmount(p.unpadded()),
            )?;
            tally.bytes(
                "CommP (generate_piece_commitment)",
                size,
                &pctx,
                &ours.comm_p,
                &theirs.commitment,
            );
            ensure!(
                ours.padded_size == p.padded,
                "cairn piece size {}",
                ours.padded_size
            );

            let (f_info, _) = filecoin_proofs::add_piece(
                p.reader(),
                &mut fw,
                UnpaddedBytesAmount(p.unpadded()),
                &f_lengths,
            )?;
            f_lengths.push(UnpaddedBytesAmount(p.unpadded()));
            let existing: Vec<u64> = c_added.iter().map(|a| a.info.unpadded_size()).collect();
            let added = pieces::add_piece(
                &p.payload[..],
                &mut cw,
                s,
                &existing,
                p.payload.len() as u64,
            )?;
            tally.bytes(
                "CommP (add_piece)",
                size,
                &pctx,
                &added.info.comm_p,
                &f_info.commitment,
            );
            f_infos.push(f_info);
            c_added.push(added);
        }
        // Fill the rest of the sector: zero pieces through filecoin-proofs'
        // add_piece (as Lotus does), zeros through cairn's fill.
        let existing: Vec<u64> = c_added.iter().map(|a| a.info.unpadded_size()).collect();
        let written = pieces::staged_len_unpadded(&existing);
        for padded in fil::fill_pieces(written / 127 * 128, s) {
            let unpadded = padded / 128 * 127;
            let (info, _) = filecoin_proofs::add_piece(
                io::repeat(0).take(unpadded),
                &mut fw,
                UnpaddedBytesAmount(unpadded),
                &f_lengths,
            )?;
            f_lengths.push(UnpaddedBytesAmount(unpadded));
            f_infos.push(info);
        }
        pieces::fill_staged_sector(&mut cw, s, written)?;
        fw.flush()?;
        cw.flush()?;
    }
    tally.record(
        "staged sector file (bytes)",
        size,
        &ctx,
        fil::first_file_diff(&c_staged, &f_staged)?,
    );
    let c_pieces = cairn_pieces_of(&c_added);
    let ours_d = pieces::comm_d(s, &c_pieces)?;
    let theirs_d = filecoin_proofs::compute_comm_d(SectorSize(s), &f_infos)?;
    tally.bytes(
        "CommD (compute_comm_d / pieces::comm_d)",
        size,
        &ctx,
        &ours_d,
        &theirs_d,
    );

    // PreCommit 1.
    let prover = c.prover_id;
    let sid = SectorId::from(c.sector_id);
    File::create(&f_sealed)?;
    let t = Instant::now();
    let f_pc1 = filecoin_proofs::seal_pre_commit_phase1::<_, _, _, Tree>(
        &cfg, &f_cache, &f_staged, &f_sealed, prover, sid, c.ticket, &f_infos,
    )?;
    let f_pc1_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let c_pc1 = seal::precommit1(&Pc1Inputs {
        proof,
        parent_cache_dir: cairn_parents,
        staged: &c_staged,
        cache_dir: &c_cache,
        prover_id: ProverId(prover),
        sector_id: CSectorId(c.sector_id),
        ticket: Ticket(if args.inject_fault {
            let mut t = c.ticket;
            t[0] ^= 1;
            t
        } else {
            c.ticket
        }),
        pieces: &c_pieces,
        threads: args.threads,
    })?;
    let c_pc1_s = t.elapsed().as_secs_f64();
    tally.bytes("CommD (PC1)", size, &ctx, &c_pc1.comm_d, &f_pc1.comm_d);
    // The replica id as the reference's PC1 derives it (the same call, on
    // its CommD); checked below against its Commit 1 output too.
    let f_replica_id = stacked::generate_replica_id::<PoseidonHasher, _>(
        &prover,
        c.sector_id,
        &c.ticket,
        f_pc1.comm_d,
        &cfg.porep_id,
    );
    tally.bytes(
        "replica id",
        size,
        &ctx,
        c_pc1.replica_id.as_bytes(),
        &le32(&f_replica_id),
    );

    if !state.parent_cache_checked {
        state.parent_cache_checked = true;
        let ours = sdr::cache::ensure_parent_cache(proof, cairn_parents, args.threads, false)?;
        let name = ours.file_name().context("parent cache name")?;
        let theirs = fil_parents.join(name);
        let diff = if theirs.exists() {
            fil::first_file_diff(&ours, &theirs)?
        } else {
            Some(format!(
                "filecoin-proofs wrote no {} in {} (file names differ)",
                name.to_string_lossy(),
                fil_parents.display()
            ))
        };
        tally.record("parent cache file (bytes)", size, &ctx, diff);
    }

    for layer in 1..=proof.layers() {
        let name = sdr::layer_file_name(layer);
        let diff = fil::first_file_diff(&c_cache.join(&name), &f_cache.join(&name))?
            .map(|d| format!("layer {layer}: {d}"));
        tally.record("label layer files (bytes)", size, &ctx, diff);
    }

    // PreCommit 2.
    let t = Instant::now();
    let f_pc2 =
        filecoin_proofs::seal_pre_commit_phase2::<_, _, Tree>(&cfg, f_pc1, &f_cache, &f_sealed)?;
    let f_pc2_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let c_pc2 = seal::precommit2(&c_pc1, &c_staged, &c_cache, &c_sealed, args.threads)?;
    let c_pc2_s = t.elapsed().as_secs_f64();
    let replica = PrivateReplicaInfo::<Tree>::new(f_sealed.clone(), f_pc2.comm_r, f_cache.clone())?;
    tally.bytes(
        "CommC",
        size,
        &ctx,
        &c_pc2.comm_c,
        &le32(&replica.safe_comm_c()),
    );
    tally.bytes(
        "CommRLast",
        size,
        &ctx,
        &c_pc2.comm_r_last,
        &le32(&replica.safe_comm_r_last()),
    );
    tally.bytes("CommR", size, &ctx, &c_pc2.comm_r, &f_pc2.comm_r);
    tally.record(
        "sealed replica (bytes)",
        size,
        &ctx,
        fil::first_file_diff(&c_sealed, &f_sealed)?,
    );

    // Commit 1.
    let f_c1 = filecoin_proofs::seal_commit_phase1::<PathBuf, Tree>(
        &cfg,
        f_cache.clone(),
        f_sealed.clone(),
        prover,
        sid,
        c.ticket,
        c.porep_seed,
        f_pc2.clone(),
        &f_infos,
    )?;
    let c_c1: Commit1Output =
        porep::commit1(&c_pc1, &c_pc2, c.porep_seed, &c_staged, &c_sealed, &c_cache)?;
    ensure!(
        f_c1.replica_id == f_replica_id,
        "filecoin-proofs' C1 replica id is not generate_replica_id's"
    );
    ensure!(
        f_c1.vanilla_proofs.len() == proof.partitions(),
        "filecoin-proofs gave {} partitions, cairn expects {}",
        f_c1.vanilla_proofs.len(),
        proof.partitions()
    );
    // The reference's own challenge derivation, to check its C1 output
    // against (a harness self-check: they must agree).
    let pp = filecoin_proofs::parameters::public_params::<Tree>(&cfg)?;
    let pub_in = stacked::PublicInputs::<PoseidonDomain, filecoin_hashers::sha256::Sha256Domain> {
        replica_id: f_c1.replica_id,
        seed: Some(c.porep_seed),
        tau: None,
        k: None,
    };
    for (k, f_part) in f_c1.vanilla_proofs.iter().enumerate() {
        let theirs: Vec<u64> = f_part
            .iter()
            .map(|p| p.comm_d_proofs.path_index() as u64)
            .collect();
        let derived: Vec<u64> = pub_in
            .challenges(&pp.challenges, proof.nodes() as usize, Some(k))
            .into_iter()
            .map(|x| x as u64)
            .collect();
        ensure!(
            theirs == derived,
            "filecoin-proofs' C1 leaves {theirs:?} are not its InteractiveChallenges {derived:?}"
        );
        let c_part = c_c1.partitions.get(k).context("cairn partition missing")?;
        let ours: Vec<u64> = c_part.challenges.iter().map(|ch| ch.node).collect();
        let indep = challenges::porep_challenges(
            u64::from(proof.nodes()),
            c_pc1.replica_id.as_bytes(),
            &c.porep_seed,
            proof.challenges_per_partition(),
            k,
        )?;
        let diff = if ours != theirs {
            Some(format!(
                "partition {k}: cairn {ours:?}, filecoin-proofs {theirs:?}"
            ))
        } else if indep != theirs {
            Some(format!(
                "partition {k}: challenges::porep_challenges {indep:?}, filecoin-proofs {theirs:?}"
            ))
        } else {
            None
        };
        tally.record("PoRep challenges (per partition)", size, &ctx, diff);

        for (i, (fp, cp)) in f_part.iter().zip(&c_part.challenges).enumerate() {
            let mut diff = levels_diff(
                "tree_d path",
                &cairn_levels(&cp.data_path),
                &fil_levels(&fp.comm_d_proofs),
            )
            .or_else(|| {
                levels_diff(
                    "tree_r_last path",
                    &cairn_levels(&cp.replica_path),
                    &fil_levels(&fp.comm_r_last_proof),
                )
            });
            if diff.is_none() {
                let rc = &fp.replica_column_proofs;
                let f_cols: Vec<&ColumnProof<TreeProof>> = std::iter::once(&rc.c_x)
                    .chain(rc.drg_parents.iter())
                    .chain(rc.exp_parents.iter())
                    .collect();
                if f_cols.len() != cp.columns.len() {
                    diff = Some(format!(
                        "{} columns, filecoin-proofs {}",
                        cp.columns.len(),
                        f_cols.len()
                    ));
                }
                for (j, (fc, cc)) in f_cols.iter().zip(&cp.columns).enumerate() {
                    if diff.is_some() {
                        break;
                    }
                    let (labels, path) = fil_column(fc)?;
                    let ours: Vec<u8> = cc.labels.concat();
                    let theirs: Vec<u8> = labels.concat();
                    diff = fil::first_byte_diff(&ours, &theirs)
                        .map(|d| format!("column {j} labels: {d}"))
                        .or_else(|| {
                            levels_diff(
                                &format!("column {j} tree_c path"),
                                &cairn_levels(&cc.path),
                                &path,
                            )
                        });
                }
            }
            let diff = diff.map(|d| format!("partition {k} challenge {i} (node {}): {d}", cp.node));
            tally.record("C1 openings (per challenge)", size, &ctx, diff);
        }
    }
    tally.record(
        "cairn verifies cairn's C1",
        size,
        &ctx,
        porep::verify(&c_c1.public, &c_c1.partitions)
            .err()
            .map(|e| format!("refused: {e}")),
    );

    // WindowPoSt.
    let post_cfg = fil::post_config(proof)?;
    let f_ch = filecoin_proofs::generate_fallback_sector_challenges::<Tree>(
        &post_cfg,
        &c.randomness,
        &[sid],
        prover,
    )?;
    let f_ch = f_ch
        .get(&sid)
        .context("no challenges for the sector")?
        .clone();
    let rand = PostRandomness::new(c.randomness)?;
    let wpost = proof.window_post();
    let c_ch = challenges::window_post_challenges(
        &rand,
        c.sector_id,
        u64::from(proof.nodes()),
        wpost.challenge_count(),
    )?;
    tally.record(
        "WindowPoSt challenges",
        size,
        &ctx,
        (c_ch != f_ch).then(|| format!("cairn {c_ch:?}, filecoin-proofs {f_ch:?}")),
    );
    let f_post =
        filecoin_proofs::generate_single_vanilla_proof::<Tree>(&post_cfg, sid, &replica, &f_ch)?;
    let c_post = post::prove(
        wpost,
        &rand,
        &[ProvingSector {
            sector_id: CSectorId(c.sector_id),
            comm_c: c_pc2.comm_c,
            comm_r_last: c_pc2.comm_r_last,
            cache_dir: &c_cache,
            sealed: &c_sealed,
        }],
    )?;
    let f_paths = &f_post
        .vanilla_proof
        .sectors
        .first()
        .context("no sector proof")?
        .inclusion_proofs;
    let c_paths = &c_post.sectors.first().context("no sector proof")?.paths;
    let mut diff = (f_paths.len() != c_paths.len()).then(|| {
        format!(
            "{} openings, filecoin-proofs {}",
            c_paths.len(),
            f_paths.len()
        )
    });
    for (i, (fp, cp)) in f_paths.iter().zip(c_paths).enumerate() {
        if diff.is_some() {
            break;
        }
        diff = levels_diff(&format!("opening {i}"), &cairn_levels(cp), &fil_levels(fp));
    }
    tally.record("WindowPoSt openings", size, &ctx, diff);
    tally.record(
        "cairn verifies cairn's WindowPoSt",
        size,
        &ctx,
        post::verify(
            wpost,
            &rand,
            &[PublicSector {
                sector_id: CSectorId(c.sector_id),
                comm_r: c_pc2.comm_r,
            }],
            &c_post,
        )
        .err()
        .map(|e| format!("refused: {e}")),
    );

    println!(
        "  {ctx}: {} piece(s), PC1 {c_pc1_s:.2}s/{f_pc1_s:.2}s, PC2 {c_pc2_s:.2}s/{f_pc2_s:.2}s (cairn/fil)",
        c.pieces.len()
    );
    if tally.mismatches.len() > mismatches_before {
        println!("  kept {} for inspection", dir.display());
    } else if !args.keep {
        fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let (fil_parents, cairn_parents) = fil::init_env(&fil::default_cache_base())?;
    fs::create_dir_all(&args.work)?;
    println!(
        "fil_compare: cairn-proofs vs filecoin-proofs 19.1.0 (interactive PoRep v1.1, WindowPoSt v1.2)"
    );
    println!("run seed {} ; work dir {}", args.seed, args.work.display());
    println!(
        "parent caches: filecoin-proofs {} ; cairn {}",
        fil_parents.display(),
        cairn_parents.display()
    );
    let mut tally = Tally::default();
    let mut sizes: Vec<&'static str> = Vec::new();
    let plan: Vec<(SealProof, Vec<(u64, bool)>)> = match args.only {
        Some((p, s)) => vec![(p, vec![(s, false), (s, true)])],
        None => args
            .cases
            .iter()
            .map(|&(p, n)| {
                (
                    p,
                    (0..n)
                        .map(|i| (fil::case_seed(args.seed, p.sector_size(), i), i % 2 == 1))
                        .collect(),
                )
            })
            .collect(),
    };
    let started = Instant::now();
    for (proof, cases) in plan {
        let size = fil::size_name(proof);
        if !sizes.contains(&size) {
            sizes.push(size);
        }
        println!("{size}: {} case(s)", cases.len());
        let mut state = SizeState {
            parent_cache_checked: false,
        };
        for (i, (seed, multi)) in cases.into_iter().enumerate() {
            let case = make_case(proof, seed, multi);
            let label = format!(
                "case {i} ({})",
                if multi { "multi-piece" } else { "one piece" }
            );
            run_case(
                &args,
                &mut tally,
                &mut state,
                &fil_parents,
                &cairn_parents,
                &case,
                &label,
            )
            .with_context(|| format!("{size} {label}, case seed {seed}"))?;
        }
    }
    println!();
    tally.print(&sizes);
    println!();
    println!("{:.0} s", started.elapsed().as_secs_f64());
    if let Some(first) = tally.mismatches.first() {
        println!("{} mismatch(es); first: {first}", tally.mismatches.len());
        std::process::exit(1);
    }
    if !args.keep {
        let _ = fs::remove_dir(&args.work);
    }
    println!("all values match");
    Ok(())
}
