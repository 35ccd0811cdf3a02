//! Hashes per second of neptune 11.0.0 on this machine (one thread), the
//! baseline for cairn-proofs' Poseidon: `hash2`, `hash8` and `hash11` as
//! filecoin-hashers calls them. A plain timing loop, not a statistical
//! benchmark: run it on a quiet machine and compare with
//! `cargo bench -p cairn-benches --bench poseidon` from the same session.

use std::hint::black_box;
use std::time::{Duration, Instant};

use blstrs::Scalar as Fr;
use ff::Field;
use generic_array::typenum::{U2, U8, U11};
use neptune::Arity;
use neptune::poseidon::{Poseidon, PoseidonConstants};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn rate<A: Arity<Fr>>(name: &str, rng: &mut ChaCha20Rng) {
    let constants = PoseidonConstants::<Fr, A>::new();
    let preimage: Vec<Fr> = (0..constants.arity())
        .map(|_| Fr::random(&mut *rng))
        .collect();
    let run = |n: u64| {
        let start = Instant::now();
        for _ in 0..n {
            black_box(Poseidon::new_with_preimage(black_box(&preimage), &constants).hash());
        }
        start.elapsed()
    };
    // Warm up, then size the run to about 3 seconds.
    let mut n = 100;
    while run(n) < Duration::from_millis(300) {
        n *= 2;
    }
    let n = n * 10;
    let elapsed = run(n);
    println!(
        "neptune::{name}: {:.0} hashes/s ({:.2} us/hash, {n} hashes)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / n as f64
    );
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    rate::<U2>("hash/arity=2", &mut rng);
    rate::<U8>("hash/arity=8", &mut rng);
    rate::<U11>("hash/arity=11", &mut rng);
}
