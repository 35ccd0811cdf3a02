//! Dense G1 multi-scalar multiplication, the H query of Groth16's prover:
//!
//! - `msm::g1_dense/impl=cairn,n=N`: `cairn_proofs::snark::msm::msm_g1`
//!   (signed 16-bit windows, batch-affine buckets);
//! - `msm::g1_dense/impl=arkworks,n=N`: `ark-ec` 0.6's
//!   `VariableBaseMSM::msm_unchecked` (extended-Jacobian buckets), the
//!   backend before it.
//!
//! Points are distinct pseudo-random multiples of the generator, scalars
//! uniform in the field: what the H query sees. Both report
//! `Throughput::Elements` in points. Run with
//! `cargo bench -p cairn-benches --bench msm`.

use std::time::Duration;

use ark_bls12_381::{G1Affine, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::UniformRand;
use cairn_proofs::field::Fr;
use cairn_proofs::snark::msm;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn inputs(n: usize) -> (Vec<G1Affine>, Vec<Fr>) {
    let mut rng = ChaCha20Rng::seed_from_u64(20261206);
    let step = G1Projective::generator() * Fr::rand(&mut rng);
    let mut acc = G1Projective::generator();
    let points: Vec<G1Projective> = (0..n)
        .map(|_| {
            acc += step;
            acc
        })
        .collect();
    let scalars = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    (G1Projective::normalize_batch(&points), scalars)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("msm::g1_dense");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for log in [18u32, 20] {
        let n = 1usize << log;
        let (bases, scalars) = inputs(n);
        assert_eq!(
            msm::msm_g1(&bases, &scalars),
            G1Projective::msm_unchecked(&bases, &scalars),
            "the two MSMs disagree"
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("impl=cairn", format!("n=2^{log}")), |b| {
            b.iter(|| msm::msm_g1(&bases, &scalars))
        });
        g.bench_function(
            BenchmarkId::new("impl=arkworks", format!("n=2^{log}")),
            |b| b.iter(|| G1Projective::msm_unchecked(&bases, &scalars)),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
