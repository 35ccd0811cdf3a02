//! Target `groth16_keys`: Groth16 keys from outside bytes. The first byte
//! picks the parser, the rest is its input:
//! - even: a verifying key (`params::vk_from_bytes`, what a validator
//!   loads for the keys its genesis pins);
//! - odd: a parameter file (`params::params_from_reader`, what a provider
//!   loads from its cache folder).
//!
//! Oracle: no panic, whatever the bytes; a decoded verifying key
//! re-encodes to exactly its input and has an input-commitment point per
//! public input plus one; a parameter file decodes only when its header's
//! digest matches its payload.

use std::path::Path;

use ark_serialize::CanonicalSerialize;
use cairn_proofs::snark::params::{params_from_reader, vk_from_bytes};
use sha2::{Digest, Sha256};

/// The `groth16_keys` target.
pub fn groth16_keys(data: &[u8]) {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        let Ok(vk) = vk_from_bytes(input) else { return };
        let mut again = Vec::new();
        let _ = vk.serialize_compressed(&mut again);
        assert!(
            again == input,
            "verifying key decoded from non-canonical bytes: {}",
            hex::encode(input)
        );
        assert!(
            !vk.gamma_abc_g1.is_empty(),
            "a verifying key without input points decoded"
        );
    } else if params_from_reader(input, Path::new("fuzz-input")).is_ok() {
        let digest_ok =
            input.len() >= 38 && Sha256::digest(&input[38..]).as_slice() == &input[6..38];
        assert!(
            digest_ok,
            "a parameter file decoded although its digest does not match"
        );
    }
}
