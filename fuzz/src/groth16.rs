//! Target `groth16_proof`: a Groth16 proof from outside bytes
//! (`snark::groth16::proof_from_bytes`, what the ledger receives in every
//! ProveCommitSector and SubmitWindowPoSt).
//!
//! Oracle:
//! - no panic, whatever the bytes;
//! - only 192-byte inputs decode, and a decoded proof re-encodes to exactly
//!   the input (one encoding per proof);
//! - every decoded point is on its curve and in the prime-order subgroup.

use cairn_proofs::snark::groth16::{PROOF_BYTES, proof_from_bytes, proof_to_bytes};

/// The `groth16_proof` target.
pub fn groth16_proof(data: &[u8]) {
    let Ok(proof) = proof_from_bytes(data) else {
        return;
    };
    assert_eq!(
        data.len(),
        PROOF_BYTES,
        "a proof decoded from {} bytes",
        data.len()
    );
    assert!(
        proof_to_bytes(&proof) == data,
        "proof decoded from non-canonical bytes:\n {}",
        hex::encode(data)
    );
    for (name, ok) in [
        (
            "A",
            proof.a.is_on_curve() && proof.a.is_in_correct_subgroup_assuming_on_curve(),
        ),
        (
            "B",
            proof.b.is_on_curve() && proof.b.is_in_correct_subgroup_assuming_on_curve(),
        ),
        (
            "C",
            proof.c.is_on_curve() && proof.c.is_in_correct_subgroup_assuming_on_curve(),
        ),
    ] {
        assert!(
            ok,
            "proof point {name} decoded off the curve or outside the subgroup: {}",
            hex::encode(data)
        );
    }
}
