//! The WindowPoSt circuit on real 2 KiB seals, in rust-fil-proofs' three
//! layers: the vanilla proof verifies; the circuit is satisfied by the
//! honest witness and not by tampered ones; a Groth16 proof verifies and
//! is refused for other inputs. Constraint count pinned.

mod common;

use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::field::Fr;
use cairn_proofs::post;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::cs::{Circuit, Counter, TestCs};
use cairn_proofs::snark::groth16;
use cairn_proofs::snark::post_circuit::{WindowPostCircuit, public_inputs};
use common::post_sector::{Sector, W, prove};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn satisfied(c: &WindowPostCircuit<'_>) -> bool {
    let mut cs = TestCs::new();
    c.synthesize(&mut cs).is_ok() && cs.is_satisfied()
}

#[test]
fn window_post_circuit_three_layers() {
    let parents = tempfile::tempdir().unwrap();
    let (a, b) = (
        Sector::seal(parents.path(), 1),
        Sector::seal(parents.path(), 2),
    );
    let r = PostRandomness::from_chain([0x44; 32]);
    let proof = prove(&[&a, &b], &r).unwrap();
    let public = [a.public(), b.public()];
    // 1. Vanilla.
    post::verify(W, &r, &public, &proof).unwrap();
    // 2. Circuit.
    let inputs = public_inputs(W, &r, &public).unwrap();
    let honest = WindowPostCircuit {
        post: W,
        inputs: Some(&inputs),
        proof: Some(&proof),
    };
    assert!(satisfied(&honest));
    let size = Counter::of(&WindowPostCircuit::blank(W)).unwrap();
    // rust-fil-proofs' fallback PoSt circuit at 2 KiB: 21,866.
    assert_eq!((size.constraints, size.inputs), (16_270, 22));
    let mut wrong_inputs = inputs.clone();
    wrong_inputs[0] += Fr::from(1u64);
    assert!(!satisfied(&WindowPostCircuit {
        inputs: Some(&wrong_inputs),
        ..honest.clone()
    }));
    let mut wrong_leaf = inputs.clone();
    // Another leaf than the challenged one (indices are below 64).
    wrong_leaf[1] = if inputs[1] == Fr::from(5u64) {
        Fr::from(6u64)
    } else {
        Fr::from(5u64)
    };
    assert!(!satisfied(&WindowPostCircuit {
        inputs: Some(&wrong_leaf),
        ..honest.clone()
    }));
    let mut tampered = proof.clone();
    tampered.sectors[1].paths[3].leaf[0] ^= 1;
    assert!(!satisfied(&WindowPostCircuit {
        proof: Some(&tampered),
        ..honest.clone()
    }));
    // One sector is padded to two, as rust-fil-proofs pads.
    let single = prove(&[&a], &r).unwrap();
    let single_inputs = public_inputs(W, &r, &public[..1]).unwrap();
    assert_eq!(single_inputs.len(), inputs.len());
    assert!(satisfied(&WindowPostCircuit {
        post: W,
        inputs: Some(&single_inputs),
        proof: Some(&single),
    }));

    // 3. Groth16.
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let pk = groth16::generate_keys(&WindowPostCircuit::blank(W), &mut rng).unwrap();
    let pvk = groth16::prepare(&pk.vk);
    let (g, _) = groth16::prove(&honest, &pk, &CpuBackend, &mut rng).unwrap();
    assert!(groth16::verify(&pvk, &inputs, &g));
    let bytes = groth16::proof_to_bytes(&g);
    assert_eq!(bytes.len(), 192);
    assert!(groth16::verify(
        &pvk,
        &inputs,
        &groth16::proof_from_bytes(&bytes).unwrap()
    ));
    assert!(!groth16::verify(&pvk, &wrong_inputs, &g));
    let r2 = PostRandomness::from_chain([0x45; 32]);
    assert!(!groth16::verify(
        &pvk,
        &public_inputs(W, &r2, &public).unwrap(),
        &g
    ));
    // A tampered witness gives a proof that does not verify.
    let (bad, _) = groth16::prove(
        &WindowPostCircuit {
            proof: Some(&tampered),
            ..honest.clone()
        },
        &pk,
        &CpuBackend,
        &mut rng,
    )
    .unwrap();
    assert!(!groth16::verify(&pvk, &inputs, &bad));
}
