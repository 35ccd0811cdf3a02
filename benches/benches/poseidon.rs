//! Poseidon (cairn-proofs: neptune 11's constants on arkworks), in hashes
//! per second, over 4,096 distinct pseudo-random preimages per arity:
//!
//! - `poseidon::hash/arity=A`: one at a time through the fast form
//!   (`hash2`, `hash8`, `hash11`): 2 for CommR and binary trees, 8 for
//!   tree_r_last and tree_c nodes, 11 for columns;
//! - `poseidon::reference/arity=8`: the round-by-round reference form, to
//!   show what the fast form saves;
//! - `poseidon::hash_many/arity=A,B`: the same 4,096 preimages through the
//!   batch API (`hash2_many`, `hash8_many`, `hash11_many`), with `B` the
//!   backend it picked on this CPU (`avx512ifma-x8`: eight at a time with
//!   AVX-512 IFMA; `scalar`: one at a time).
//!
//! All report `Throughput::Elements` in hashes. Run with
//! `cargo bench -p cairn-benches --bench poseidon`; for ark-ff's assembly
//! multiplication add `RUSTFLAGS='-C target-feature=+bmi2,+adx'` with a
//! separate `CARGO_TARGET_DIR`, so the shared one is not rebuilt.

use std::hint::black_box;
use std::time::Duration;

use cairn_benches::data::pseudo_random;
use cairn_proofs::field::{Fr, fr_from_le_bytes};
use cairn_proofs::poseidon::{
    Arity, batch_backend, constants, hash2, hash2_many, hash8, hash8_many, hash11, hash11_many,
    reference,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const N: usize = 4096;

/// `N` pseudo-random preimages of `A` field elements (top two bits of each
/// cleared: below r).
fn preimages<const A: usize>(seed: u64) -> Vec<[Fr; A]> {
    let elements: Vec<Fr> = pseudo_random(N * A * 32, seed)
        .chunks_exact(32)
        .map(|c| {
            let mut b: [u8; 32] = c.try_into().unwrap();
            b[31] &= 0x3f;
            fr_from_le_bytes(&b).unwrap()
        })
        .collect();
    elements
        .chunks_exact(A)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn one<const A: usize>(c: &mut Criterion, hash: impl Fn(&[Fr; A]) -> Fr) {
    let inputs = preimages::<A>(A as u64);
    let mut out = vec![Fr::from(0u64); N];
    // Generates the constants before timing.
    out[0] = hash(&inputs[0]);
    let id = BenchmarkId::from_parameter(format!("arity={A}"));

    let mut g = c.benchmark_group("poseidon::hash");
    g.throughput(Throughput::Elements(N as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    g.bench_function(id, |b| {
        b.iter(|| {
            for (o, p) in out.iter_mut().zip(black_box(&inputs)) {
                *o = hash(p);
            }
        })
    });
    g.finish();
}

type Many<const A: usize> =
    fn(&[[Fr; A]], &mut [Fr]) -> Result<(), cairn_proofs::poseidon::PoseidonError>;

fn many<const A: usize>(c: &mut Criterion, hash_many: Many<A>) {
    let inputs = preimages::<A>(A as u64);
    let mut out = vec![Fr::from(0u64); N];
    // Generates the constants before timing.
    hash_many(&inputs[..8], &mut out[..8]).unwrap();
    let id = BenchmarkId::from_parameter(format!("arity={A},{}", batch_backend()));

    let mut g = c.benchmark_group("poseidon::hash_many");
    g.throughput(Throughput::Elements(N as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    g.bench_function(id, |b| {
        b.iter(|| hash_many(black_box(&inputs), &mut out).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    one::<2>(c, |p| hash2(p[0], p[1]));
    one::<8>(c, hash8);
    one::<11>(c, hash11);
    many::<2>(c, hash2_many);
    many::<8>(c, hash8_many);
    many::<11>(c, hash11_many);

    let c8 = constants(Arity::A8);
    let p8 = preimages::<8>(1)[0];
    let mut g = c.benchmark_group("poseidon::reference");
    g.throughput(Throughput::Elements(1))
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::from_parameter("arity=8"), |b| {
        b.iter(|| reference::hash(c8, black_box(&p8)).unwrap())
    });
    g.finish();
}

criterion_group!(poseidon, benches);
criterion_main!(poseidon);
