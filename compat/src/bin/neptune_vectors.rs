//! Poseidon reference vectors from neptune 11.0.0, the version
//! filecoin-proofs 19.1.0 hashes with.
//!
//! For each arity Filecoin instantiates (2, 4, 8, 11, 16, 24, 36) this prints
//! the hash of several preimages, computed exactly as filecoin-hashers and
//! storage-proofs-porep do: `PoseidonConstants::<Fr, A>::new()` (standard
//! strength, Merkle-tree domain tag) and
//! `Poseidon::new_with_preimage(&preimage, &constants).hash()`. It also
//! prints the constants neptune derives (round numbers, domain tag, and
//! SHA-256 digests of the round constants, the MDS matrix and the
//! pre-processed constants of its fast path), so a reimplementation can pin
//! each of them and not just the end result.
//!
//! Field elements are written as 32-byte little-endian hex (`Fr::to_repr`),
//! the bytes of Filecoin's `PoseidonDomain`. Output: JSON on stdout.

use std::process::ExitCode;

use blstrs::Scalar as Fr;
use ff::{Field, PrimeField};
use generic_array::typenum::{U2, U4, U8, U11, U16, U24, U36};
use neptune::Arity;
use neptune::poseidon::{HashMode, Poseidon, PoseidonConstants};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Seed of the pseudo-random preimages (ChaCha20, `Fr::random`).
const SEED: [u8; 32] = *b"cairn neptune-11 poseidon vector";
/// Pseudo-random preimages per arity.
const RANDOM_CASES: usize = 4;

fn hex_fr(f: &Fr) -> String {
    hex::encode(f.to_repr())
}

fn digest<'a>(elements: impl IntoIterator<Item = &'a Fr>) -> String {
    let mut h = Sha256::new();
    for f in elements {
        h.update(f.to_repr());
    }
    hex::encode(h.finalize())
}

/// Hash `preimage` in all three of neptune's modes; they must agree.
fn hash<A: Arity<Fr>>(preimage: &[Fr], constants: &PoseidonConstants<Fr, A>) -> Result<Fr, String> {
    let fast = Poseidon::new_with_preimage(preimage, constants).hash();
    let correct = Poseidon::new_with_preimage(preimage, constants).hash_in_mode(HashMode::Correct);
    let dynamic =
        Poseidon::new_with_preimage(preimage, constants).hash_in_mode(HashMode::OptimizedDynamic);
    if fast != correct || fast != dynamic {
        return Err(format!(
            "neptune's hash modes disagree for arity {}: static {} correct {} dynamic {}",
            preimage.len(),
            hex_fr(&fast),
            hex_fr(&correct),
            hex_fr(&dynamic)
        ));
    }
    Ok(fast)
}

fn arity_vectors<A: Arity<Fr>>(rng: &mut ChaCha20Rng) -> Result<Value, String> {
    let constants = PoseidonConstants::<Fr, A>::new();
    let arity = constants.arity();

    let mut preimages: Vec<(String, Vec<Fr>)> = vec![
        ("zeros".into(), vec![Fr::ZERO; arity]),
        ("small".into(), (0..arity as u64).map(Fr::from).collect()),
        ("minus-one".into(), vec![-Fr::ONE; arity]),
    ];
    for i in 0..RANDOM_CASES {
        let p = (0..arity).map(|_| Fr::random(&mut *rng)).collect();
        preimages.push((format!("random-{i}"), p));
    }

    let mut cases = Vec::new();
    for (name, preimage) in &preimages {
        let h = hash(preimage, &constants)?;
        cases.push(json!({
            "name": name,
            "preimage": preimage.iter().map(hex_fr).collect::<Vec<_>>(),
            "hash": hex_fr(&h),
        }));
    }

    let round_constants = constants
        .round_constants
        .as_ref()
        .ok_or("neptune constants without round constants")?;
    let mds = &constants.mds_matrices.m;
    let sparse: Vec<&Fr> = constants
        .sparse_matrixes
        .iter()
        .flat_map(|s| s.w_hat.iter().chain(s.v_rest.iter()))
        .collect();

    Ok(json!({
        "arity": arity,
        "width": constants.width(),
        "full_rounds": constants.full_rounds,
        "partial_rounds": constants.partial_rounds,
        "domain_tag": hex_fr(&constants.domain_tag),
        "round_constants": {
            "count": round_constants.len(),
            "first": round_constants.first().map(hex_fr),
            "last": round_constants.last().map(hex_fr),
            "sha256": digest(round_constants),
        },
        "mds": {
            "first_row": mds.first().map(|r| r.iter().map(hex_fr).collect::<Vec<_>>()),
            "sha256": digest(mds.iter().flatten()),
        },
        "compressed_round_constants": {
            "count": constants.compressed_round_constants.len(),
            "sha256": digest(&constants.compressed_round_constants),
        },
        "pre_sparse_matrix_sha256": digest(constants.pre_sparse_matrix.iter().flatten()),
        "sparse_matrices": {
            "count": constants.sparse_matrixes.len(),
            "sha256": digest(sparse),
        },
        "cases": cases,
    }))
}

fn run() -> Result<Value, String> {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    let arities = vec![
        arity_vectors::<U2>(&mut rng)?,
        arity_vectors::<U4>(&mut rng)?,
        arity_vectors::<U8>(&mut rng)?,
        arity_vectors::<U11>(&mut rng)?,
        arity_vectors::<U16>(&mut rng)?,
        arity_vectors::<U24>(&mut rng)?,
        arity_vectors::<U36>(&mut rng)?,
    ];
    Ok(json!({
        "about": {
            "generator": "compat/src/bin/neptune_vectors.rs (cargo run --release --bin neptune_vectors in compat/)",
            "library": "neptune 11.0.0 over blstrs 0.7 Scalar (BLS12-381 Fr), as filecoin-proofs 19.1.0 uses it",
            "constants": "PoseidonConstants::<Fr, A>::new(): Strength::Standard, HashType::MerkleTree",
            "hash": "Poseidon::new_with_preimage(&preimage, &constants).hash() (OptimizedStatic), checked equal to HashMode::Correct and HashMode::OptimizedDynamic",
            "encoding": "field elements as 32-byte little-endian hex (Fr::to_repr, Filecoin's PoseidonDomain bytes); *_sha256 are SHA-256 over the concatenated 32-byte little-endian elements: matrices row by row, sparse matrices as w_hat then v_rest for each in order of use",
            "random_preimages": "Fr::random(ChaCha20Rng::from_seed(*b\"cairn neptune-11 poseidon vector\")), drawn arity by arity in the order listed",
        },
        "arities": arities,
    }))
}

fn main() -> ExitCode {
    match run().and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string())) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("neptune_vectors: {e}");
            ExitCode::FAILURE
        }
    }
}
