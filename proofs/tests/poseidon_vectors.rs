//! Poseidon against neptune 11 and against Filecoin's commitments.
//!
//! - `fixtures/neptune-11-vectors.json`: hashes computed by neptune 11.0.0
//!   itself (compat/src/bin/neptune_vectors.rs), for every arity;
//! - `fixtures/fil-proofs-19.1.0-sdr-vectors.json`: sealed sectors from
//!   filecoin-proofs 19.1.0, whose CommR is `hash2(CommC, CommRLast)`;
//! - the fast form against the reference form on random inputs;
//! - the batch functions (`hash_many` and the others ending in `_many`:
//!   AVX-512 IFMA where the CPU has it) against the one-at-a-time hash,
//!   with the scalar backend forced too (`CAIRN_POSEIDON_BACKEND=scalar`,
//!   in a child process).

use ark_ff::{Field, PrimeField};
use cairn_proofs::field::{Fr, NotCanonical, fr_from_le_bytes, fr_to_le_bytes};
use cairn_proofs::poseidon::{
    self, Arity, PoseidonError, batch_backend, constants, hash, hash_column, hash_column_many,
    hash_many, hash2, hash2_many, hash8, hash8_many, hash11_many, reference,
};
use proptest::prelude::*;
use serde_json::Value;

const NEPTUNE: &str = include_str!("fixtures/neptune-11-vectors.json");
const SDR: &str = include_str!("fixtures/fil-proofs-19.1.0-sdr-vectors.json");

fn bytes32(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

fn fr(hex_str: &str) -> Fr {
    fr_from_le_bytes(&bytes32(hex_str)).unwrap()
}

/// Every arity-specific entry point for one preimage.
fn all_entry_points(preimage: &[Fr]) -> Vec<(&'static str, Fr)> {
    let mut out = vec![("hash", hash(preimage).unwrap())];
    let arity = Arity::try_from(preimage.len()).unwrap();
    out.push((
        "reference",
        reference::hash(constants(arity), preimage).unwrap(),
    ));
    match arity {
        Arity::A2 => out.push(("hash2", hash2(preimage[0], preimage[1]))),
        Arity::A4 => out.push(("hash4", poseidon::hash4(preimage.try_into().unwrap()))),
        Arity::A8 => {
            out.push(("hash8", hash8(preimage.try_into().unwrap())));
        }
        Arity::A11 => {
            out.push(("hash11", poseidon::hash11(preimage.try_into().unwrap())));
            out.push(("hash_column", hash_column(preimage).unwrap()));
        }
        Arity::A16 => out.push(("hash16", poseidon::hash16(preimage.try_into().unwrap()))),
        Arity::A24 => out.push(("hash24", poseidon::hash24(preimage.try_into().unwrap()))),
        Arity::A36 => out.push(("hash36", poseidon::hash36(preimage.try_into().unwrap()))),
    }
    if arity == Arity::A2 {
        out.push(("hash_column", hash_column(preimage).unwrap()));
    }
    out
}

/// The neptune cases of one arity through the batch functions: each case
/// in several lanes of three batches of 8 and a remainder.
fn neptune_cases_in_batches(arity: Arity, cases: &[Value]) {
    let chosen: Vec<&Value> = cases.iter().cycle().take(27).collect();
    let preimages: Vec<Fr> = chosen
        .iter()
        .flat_map(|c| c["preimage"].as_array().unwrap())
        .map(|x| fr(x.as_str().unwrap()))
        .collect();
    let a = arity.get();
    let n = chosen.len();
    let mut outs: Vec<(&str, Vec<Fr>)> = Vec::new();
    let mut out = vec![Fr::from(0u64); n];
    hash_many(arity, &preimages, &mut out).unwrap();
    outs.push(("hash_many", out.clone()));
    let arrays = |k: usize| preimages.chunks_exact(k);
    match arity {
        Arity::A2 => {
            let p: Vec<[Fr; 2]> = arrays(2).map(|c| c.try_into().unwrap()).collect();
            hash2_many(&p, &mut out).unwrap();
            outs.push(("hash2_many", out.clone()));
        }
        Arity::A8 => {
            let p: Vec<[Fr; 8]> = arrays(8).map(|c| c.try_into().unwrap()).collect();
            hash8_many(&p, &mut out).unwrap();
            outs.push(("hash8_many", out.clone()));
        }
        Arity::A11 => {
            let p: Vec<[Fr; 11]> = arrays(11).map(|c| c.try_into().unwrap()).collect();
            hash11_many(&p, &mut out).unwrap();
            outs.push(("hash11_many", out.clone()));
        }
        _ => {}
    }
    if matches!(arity, Arity::A2 | Arity::A11) {
        // Columns: layer l holds element l of every preimage.
        let layers: Vec<Vec<Fr>> = (0..a)
            .map(|l| (0..n).map(|k| preimages[k * a + l]).collect())
            .collect();
        let layers: Vec<&[Fr]> = layers.iter().map(Vec::as_slice).collect();
        hash_column_many(&layers, &mut out).unwrap();
        outs.push(("hash_column_many", out.clone()));
    }
    for (entry, got) in outs {
        for (k, (case, h)) in chosen.iter().zip(&got).enumerate() {
            assert_eq!(
                hex::encode(fr_to_le_bytes(*h)),
                case["hash"].as_str().unwrap(),
                "arity {arity} case {} (lane {k}) via {entry} on {}",
                case["name"],
                batch_backend()
            );
        }
    }
}

#[test]
fn neptune_vectors_in_batches() {
    let v: Value = serde_json::from_str(NEPTUNE).unwrap();
    for a in v["arities"].as_array().unwrap() {
        let arity = Arity::try_from(a["arity"].as_u64().unwrap() as usize).unwrap();
        neptune_cases_in_batches(arity, a["cases"].as_array().unwrap());
    }
}

/// Runs this file's batch tests again in a child process with the scalar
/// backend forced, so the fallback is tested on CPUs with IFMA too.
#[test]
fn batch_tests_with_the_scalar_backend_forced() {
    if std::env::var_os("CAIRN_POSEIDON_BACKEND").is_some() {
        // The child (or a run with the variable set by hand).
        assert_eq!(batch_backend(), "scalar");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["batch", "--test-threads=1"])
        .env("CAIRN_POSEIDON_BACKEND", "scalar")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // This test, the vectors and the random batches ran in the child.
    assert!(stdout.contains("3 passed"), "{stdout}");
}

#[test]
fn neptune_vectors() {
    let v: Value = serde_json::from_str(NEPTUNE).unwrap();
    let arities = v["arities"].as_array().unwrap();
    let seen: Vec<u64> = arities
        .iter()
        .map(|a| a["arity"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, [2, 4, 8, 11, 16, 24, 36]);
    let mut checked = 0;
    for a in arities {
        for case in a["cases"].as_array().unwrap() {
            let preimage: Vec<Fr> = case["preimage"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| fr(x.as_str().unwrap()))
                .collect();
            assert_eq!(preimage.len() as u64, a["arity"].as_u64().unwrap());
            let expected = case["hash"].as_str().unwrap();
            for (entry, got) in all_entry_points(&preimage) {
                assert_eq!(
                    hex::encode(fr_to_le_bytes(got)),
                    expected,
                    "arity {} case {} via {entry}",
                    a["arity"],
                    case["name"]
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 7 * 7);
}

/// CommR = Poseidon hash2(CommC, CommRLast) for every sealed sector
/// filecoin-proofs 19.1.0 produced in the fixture.
#[test]
fn comm_r_is_hash2_of_comm_c_and_comm_r_last() {
    let v: Value = serde_json::from_str(SDR).unwrap();
    let mut checked = 0;
    for size in v["sector_sizes"].as_array().unwrap() {
        for case in size["cases"].as_array().unwrap() {
            let comm_c = fr(case["comm_c_hex"].as_str().unwrap());
            let comm_r_last = fr(case["comm_r_last_hex"].as_str().unwrap());
            let comm_r = bytes32(case["comm_r_hex"].as_str().unwrap());
            assert_eq!(
                fr_to_le_bytes(hash2(comm_c, comm_r_last)),
                comm_r,
                "{} case {}",
                size["sector_size_name"],
                case["name"]
            );
            // Swapped operands give another value: the check can fail.
            assert_ne!(fr_to_le_bytes(hash2(comm_r_last, comm_c)), comm_r);
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} cases");
}

#[test]
fn non_canonical_bytes_are_rejected() {
    let v: Value = serde_json::from_str(SDR).unwrap();
    let comm_r = bytes32(
        v["sector_sizes"][0]["cases"][0]["comm_r_hex"]
            .as_str()
            .unwrap(),
    );
    assert!(fr_from_le_bytes(&comm_r).is_ok());
    // Setting the top bit of a commitment pushes it past r.
    let mut bad = comm_r;
    bad[31] |= 0x80;
    assert_eq!(fr_from_le_bytes(&bad), Err(NotCanonical { bytes: bad }));
    assert!(fr_from_le_bytes(&[0xff; 32]).is_err());
}

#[test]
fn unsupported_lengths_are_typed_errors() {
    let xs = vec![Fr::from(7u64); 37];
    for len in [0, 1, 3, 5, 9, 12, 37] {
        assert_eq!(
            hash(&xs[..len]),
            Err(PoseidonError::UnsupportedArity { arity: len })
        );
    }
    for len in [0, 1, 4, 8, 12] {
        assert_eq!(
            hash_column(&xs[..len]),
            Err(PoseidonError::UnsupportedColumn { height: len })
        );
    }
    let c = constants(Arity::A8);
    assert_eq!(
        reference::hash(c, &xs[..2]),
        Err(PoseidonError::WrongPreimageLength { arity: 8, len: 2 })
    );
    let mut state = vec![Fr::from(0u64); 3];
    assert_eq!(
        reference::permute(c, &mut state),
        Err(PoseidonError::WrongWidth { width: 9, len: 3 })
    );
}

#[test]
fn published_parameters() {
    for arity in Arity::ALL {
        let c = constants(arity);
        assert_eq!(c.width(), arity.get() + 1);
        assert_eq!(c.full_rounds(), 8);
        assert_eq!(c.round_constants().len(), c.rounds() * c.width());
        assert_eq!(c.mds().len(), c.width());
        assert_eq!(c.domain_tag(), Fr::from((1u64 << arity.get()) - 1));
        assert!(c.round_constants_for(c.rounds() - 1).is_some());
        assert!(c.round_constants_for(c.rounds()).is_none());
    }
    let partial: Vec<usize> = Arity::ALL
        .iter()
        .map(|a| constants(*a).partial_rounds())
        .collect();
    assert_eq!(partial, [55, 56, 57, 57, 59, 59, 60]);
}

fn any_fr() -> impl Strategy<Value = Fr> {
    any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fast_equals_reference(
        arity in prop::sample::select(Arity::ALL.to_vec()),
        xs in prop::collection::vec(any_fr(), 36),
    ) {
        let preimage = &xs[..arity.get()];
        prop_assert_eq!(
            hash(preimage).unwrap(),
            reference::hash(constants(arity), preimage).unwrap()
        );
    }

    /// Batches of random preimages, some elements replaced by edge values
    /// (0, 1, r - 1, around 2^254), equal one-at-a-time hashing.
    #[test]
    fn random_batches_equal_one_at_a_time(
        arity in prop::sample::select(Arity::ALL.to_vec()),
        n in 0usize..20,
        xs in prop::collection::vec(any_fr(), 20 * 36),
        edges in prop::collection::vec((any::<prop::sample::Index>(), 0usize..6), 0..8),
    ) {
        let two = Fr::from(2u64);
        let edge = [
            Fr::from(0u64),
            Fr::from(1u64),
            -Fr::from(1u64),
            two.pow([254]),
            two.pow([254]) - Fr::from(1u64),
            -two.pow([254]),
        ];
        let mut preimages = xs[..n * arity.get()].to_vec();
        if !preimages.is_empty() {
            for (at, e) in edges {
                let i = at.index(preimages.len());
                preimages[i] = edge[e];
            }
        }
        let want: Vec<Fr> = preimages
            .chunks_exact(arity.get())
            .map(|p| hash(p).unwrap())
            .collect();
        let mut got = vec![Fr::from(0u64); n];
        hash_many(arity, &preimages, &mut got).unwrap();
        prop_assert_eq!(got, want, "{}", batch_backend());
    }

    #[test]
    fn fr_bytes_round_trip(x in any_fr()) {
        prop_assert_eq!(fr_from_le_bytes(&fr_to_le_bytes(x)), Ok(x));
    }
}
