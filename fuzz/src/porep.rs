//! Target `porep_proof`: one partition's vanilla PoRep proof from outside
//! bytes (`PartitionProof::from_bytes`, what a prover sends the ledger),
//! then `porep::verify_partition` against the public inputs of the fixture
//! sector (`proofs_fixture`: a real 2 KiB seal, compiled in).
//!
//! Oracle:
//! - no panic in the decoder or the verifier, whatever the bytes;
//! - the codec is canonical: a decoded proof re-encodes to the input;
//! - the verifier accepts the input exactly when it is the fixture's honest
//!   proof: every opening, label and commitment of a partition proof is
//!   bound by a hash to the public inputs, so the honest proof is the only
//!   valid one, and the fuzzer cannot make another without sealing.

use cairn_proofs::porep::{self, PartitionProof};

use crate::proofs_fixture;

/// The `porep_proof` target.
pub fn porep_proof(data: &[u8]) {
    let Ok(proof) = PartitionProof::from_bytes(data) else {
        return;
    };
    assert!(
        proof.to_bytes() == data,
        "PartitionProof decoded from non-canonical bytes:\n {}",
        hex::encode(data)
    );
    let fx = proofs_fixture::porep();
    let verdict = porep::verify_partition(&fx.public, 0, &proof);
    if data == fx.partition_bytes.as_slice() {
        assert!(
            verdict.is_ok(),
            "the honest PoRep proof is refused: {verdict:?}"
        );
    } else {
        assert!(
            verdict.is_err(),
            "verify_partition accepted a proof that is not the honest one: {proof:?}"
        );
    }
}
