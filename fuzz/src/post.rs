//! Target `post_proof`: a WindowPoSt partition proof from outside bytes
//! (`WindowPostPartition::from_bytes`, what a provider sends the ledger each
//! deadline), then `post::verify` against the fixture's public inputs
//! (`proofs_fixture`: two real 2 KiB sectors and fixed randomness).
//!
//! Oracle:
//! - no panic in the decoder or the verifier, whatever the bytes;
//! - the codec is canonical: a decoded proof re-encodes to the input;
//! - against both fixture sectors, the verifier accepts exactly the honest
//!   proof's bytes;
//! - a proof of `n` sectors is also checked against the first `n` public
//!   sectors (`n` up to 2: a partition with the others declared faulty),
//!   and must be accepted exactly when it is the 2 KiB PoSt type with the
//!   honest proof's first `n` sector proofs. Each sector's CommC and
//!   CommRLast are bound to its CommR and each opening to its challenged
//!   leaf, so nothing else can verify.

use cairn_proofs::post::{self, WindowPostPartition};

use crate::proofs_fixture::{self, POST_PROOF};

/// The `post_proof` target.
pub fn post_proof(data: &[u8]) {
    let Ok(proof) = WindowPostPartition::from_bytes(data) else {
        return;
    };
    assert!(
        proof.to_bytes() == data,
        "WindowPostPartition decoded from non-canonical bytes:\n {}",
        hex::encode(data)
    );
    let fx = proofs_fixture::post();
    let verdict = post::verify(POST_PROOF, &fx.randomness, &fx.public, &proof);
    if data == proofs_fixture::WINDOW_POST_BYTES {
        assert!(
            verdict.is_ok(),
            "the honest WindowPoSt proof is refused: {verdict:?}"
        );
    } else {
        assert!(
            verdict.is_err(),
            "post::verify accepted a proof that is not the honest one: {proof:?}"
        );
    }
    let n = proof.sectors.len();
    let (Some(public), Some(honest)) = (fx.public.get(..n), fx.proof.sectors.get(..n)) else {
        return;
    };
    let verdict = post::verify(POST_PROOF, &fx.randomness, public, &proof);
    let honest = proof.post == POST_PROOF && proof.sectors == honest;
    assert_eq!(
        verdict.is_ok(),
        honest,
        "post::verify over the first {n} sectors: {verdict:?}, for a proof that is{} the honest one's prefix",
        if honest { "" } else { " not" }
    );
}
