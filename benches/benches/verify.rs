//! The ledger's proof checks, with real 2 KiB proofs and the development
//! parameters' verifying keys, through `cairn_ledger::Groth16Verifier` (what
//! every validator runs for each ProveCommitSector and SubmitWindowPost):
//!
//! - `verify::porep/2KiB`: one Commit 2 proof (its public inputs derived
//!   from the sector's commitments, ticket and seed, then the pairing check);
//! - `verify::window_post/2KiB`: one WindowPoSt partition over one sector.
//!
//! Setup seals one sector and proves it (a Commit 2 takes about 30 s on 2
//! cores; the parameters are generated into the cache first if missing).
//! Verifications per second are 1 / the time per iteration. Run with
//! `cargo bench -p cairn-benches --bench verify`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cairn_ledger::genesis::PinnedKeys;
use cairn_ledger::verifier::{Groth16Verifier, ProofVerifier, SizeKeys, vk_digest};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces;
use cairn_proofs::porep;
use cairn_proofs::post::{ProvingSector, PublicSector};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::{params, prove};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const P: SealProof = SealProof::StackedDrg2KiBV1_1;

struct Fixture {
    verifier: Groth16Verifier,
    porep_public: cairn_proofs::porep::PorepPublic,
    porep_proof: Vec<u8>,
    randomness: PostRandomness,
    sectors: Vec<PublicSector>,
    post_proof: Vec<u8>,
}

fn fixture(work: &Path) -> anyhow::Result<Fixture> {
    let dir = params::default_dir();
    let mut say = |l: &str| eprintln!("{l}");
    let (cache, parents, staged, sealed) = (
        work.join("cache"),
        work.join("parents"),
        work.join("staged"),
        work.join("sealed"),
    );
    std::fs::create_dir_all(&cache)?;
    std::fs::create_dir_all(&parents)?;
    let data: Vec<u8> = (0..2032u32).map(|i| (i * 13 % 251) as u8).collect();
    let mut out = std::fs::File::create(&staged)?;
    let added = pieces::add_piece(&data[..], &mut out, P.sector_size(), &[], 2032)?;
    pieces::fill_staged_sector(&mut out, P.sector_size(), added.written_unpadded)?;
    drop(out);
    let infos = [added.info];
    let pc1 = seal::precommit1(&Pc1Inputs {
        proof: P,
        parent_cache_dir: &parents,
        staged: &staged,
        cache_dir: &cache,
        prover_id: ProverId([1; 32]),
        sector_id: SectorId(1),
        ticket: Ticket([2; 32]),
        pieces: &infos,
        threads: 2,
    })?;
    let pc2 = seal::precommit2(&pc1, &staged, &cache, &sealed, 2)?;
    let c1 = porep::commit1(&pc1, &pc2, [3; 32], &staged, &sealed, &cache)?;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (porep_pk, _) = params::porep_keys(&dir, P, &mut say)?;
    let porep_proof = prove::commit2(&c1, &porep_pk, &CpuBackend, &mut rng)?;
    let porep_vk = porep_pk.vk.clone();
    drop(porep_pk);
    let (post_pk, _) = params::window_post_keys(&dir, P.window_post(), &mut say)?;
    let randomness = PostRandomness::from_chain([4; 32]);
    let sector = ProvingSector {
        sector_id: pc2.sector_id,
        comm_c: pc2.comm_c,
        comm_r_last: pc2.comm_r_last,
        cache_dir: &cache,
        sealed: &sealed,
    };
    let post_proof = prove::window_post(
        P.window_post(),
        &randomness,
        &[sector],
        &post_pk,
        &CpuBackend,
        &mut rng,
    )?;
    let keys = SizeKeys {
        porep: porep_vk,
        window_post: post_pk.vk.clone(),
    };
    let pins = PinnedKeys {
        porep: vk_digest(&keys.porep),
        window_post: vk_digest(&keys.window_post),
    };
    let verifier =
        Groth16Verifier::new(&BTreeMap::from([(P, pins)]), &BTreeMap::from([(P, keys)]))?;
    Ok(Fixture {
        verifier,
        porep_public: c1.public,
        porep_proof,
        randomness,
        sectors: vec![PublicSector {
            sector_id: pc2.sector_id,
            comm_r: pc2.comm_r,
        }],
        post_proof,
    })
}

fn setup() -> anyhow::Result<(tempfile::TempDir, Fixture)> {
    let work = tempfile::tempdir()?;
    let fx = fixture(work.path())?;
    // Both proofs verify before they are timed.
    fx.verifier
        .verify_porep(P, &fx.porep_public, &fx.porep_proof)?;
    fx.verifier
        .verify_window_post(P.window_post(), &fx.randomness, &fx.sectors, &fx.post_proof)?;
    Ok((work, fx))
}

fn bench(c: &mut Criterion) {
    let (_work, fx) = match setup() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("verify bench setup failed: {e:#}");
            std::process::exit(1);
        }
    };
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("porep/2KiB", |b| {
        b.iter(|| {
            fx.verifier
                .verify_porep(P, &fx.porep_public, &fx.porep_proof)
                .is_ok()
        })
    });
    g.bench_function("window_post/2KiB", |b| {
        b.iter(|| {
            fx.verifier
                .verify_window_post(P.window_post(), &fx.randomness, &fx.sectors, &fx.post_proof)
                .is_ok()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
