//! PreCommit 2 of an 8 MiB sector (2 layers, like 512 MiB): tree_c over
//! 2^18 column hashes (arity 2) and its arity-8 nodes, the replica
//! encoding, tree_r_last, CommR. Almost all of it is Poseidon.
//!
//! - `seal::precommit2/size=8MiB,threads=T,B`: `precommit2` with `T`
//!   tree-building threads, the label layers and tree_d made once by
//!   `precommit1` beforehand (pseudo-random data). `B` is the Poseidon
//!   batch backend (`avx512ifma-x8` or `scalar`); run the bench again with
//!   `CAIRN_POSEIDON_BACKEND=scalar` for the scalar figures.
//!
//! Reported as bytes of sector per second. Run with
//! `cargo bench -p cairn-benches --bench seal`.

use std::fs;
use std::hint::black_box;
use std::time::Duration;

use cairn_benches::data::pseudo_random;
use cairn_proofs::commp::commp;
use cairn_proofs::fr32;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::poseidon::batch_backend;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs};
use cairn_proofs::sector::SealProof;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn precommit2(c: &mut Criterion) {
    let proof = SealProof::StackedDrg8MiBV1_1;
    let dir = tempfile::tempdir().unwrap();
    let data = pseudo_random(proof.unpadded_sector_size() as usize, 8);
    let piece = commp(&data).unwrap();
    let staged = dir.path().join("staged");
    fs::write(&staged, fr32::pad(&data)).unwrap();
    let cache = dir.path().join("cache");
    let parents = dir.path().join("parents");
    fs::create_dir_all(&parents).unwrap();
    let pieces = [PieceInfo::new(piece.comm_p, piece.padded_size).unwrap()];
    let pc1 = seal::precommit1(&Pc1Inputs {
        proof,
        parent_cache_dir: &parents,
        staged: &staged,
        cache_dir: &cache,
        prover_id: ProverId([1; 32]),
        sector_id: SectorId(1),
        ticket: Ticket([2; 32]),
        pieces: &pieces,
        threads: 2,
    })
    .unwrap();
    let sealed = dir.path().join("sealed");

    let mut g = c.benchmark_group("seal::precommit2");
    g.throughput(Throughput::Bytes(proof.sector_size()))
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for threads in [1, 2] {
        let id = format!("size=8MiB,threads={threads},{}", batch_backend());
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| black_box(seal::precommit2(&pc1, &staged, &cache, &sealed, threads).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, precommit2);
criterion_main!(benches);
