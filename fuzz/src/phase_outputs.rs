//! Target `proofs_phase_outputs`: the journalled sealing phase outputs of
//! `cairn-proofs`, `Pc1Output::from_bytes`, `Pc2Output::from_bytes` and
//! `Commit1Output::from_bytes`, over arbitrary bytes.
//!
//! These documents end in a SHA-256 of what precedes it, so almost every
//! mutation of a real one fails the checksum before its body is read. Each
//! input is therefore decoded twice: as it is, and followed by its own
//! SHA-256 (so the input is the body and the target seals it). Seeds come
//! in both forms: `*.bin` whole documents, `body-*.bin` without the sum.
//!
//! Oracle, for each decoder and each of the two byte strings:
//! - no panic, whatever the bytes;
//! - the codec is canonical: a decoded value re-encodes (`to_bytes`) to
//!   exactly the bytes decoded;
//! - a decoded Commit 1 output that `porep::verify` accepts is the fixture
//!   sector's own (see `proofs_fixture`): a fuzzer cannot seal, so no other
//!   PoRep can be valid.

use cairn_proofs::porep::{self, Commit1Output};
use cairn_proofs::seal::{Pc1Output, Pc2Output};
use sha2::{Digest, Sha256};

use crate::proofs_fixture;

fn check(bytes: &[u8]) {
    if let Ok(pc1) = Pc1Output::from_bytes(bytes) {
        assert!(
            pc1.to_bytes() == bytes,
            "Pc1Output decoded from non-canonical bytes:\n {}",
            hex::encode(bytes)
        );
    }
    if let Ok(pc2) = Pc2Output::from_bytes(bytes) {
        assert!(
            pc2.to_bytes() == bytes,
            "Pc2Output decoded from non-canonical bytes:\n {}",
            hex::encode(bytes)
        );
    }
    if let Ok(c1) = Commit1Output::from_bytes(bytes) {
        assert!(
            c1.to_bytes() == bytes,
            "Commit1Output decoded from non-canonical bytes:\n {}",
            hex::encode(bytes)
        );
        if porep::verify(&c1.public, &c1.partitions).is_ok() {
            assert!(
                bytes == proofs_fixture::COMMIT1_BYTES,
                "porep::verify accepted a Commit 1 output that is not the fixture's: {c1:?}"
            );
        }
    }
}

/// The `proofs_phase_outputs` target.
pub fn proofs_phase_outputs(data: &[u8]) {
    check(data);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&Sha256::digest(data));
    check(&sealed);
}
