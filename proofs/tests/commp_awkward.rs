//! CommP of payloads of awkward lengths (65, 126–128, 254/255, 1016/1017,
//! 2032, 1 MiB ± 1, 127 × 8192 and one more), all zeros and ChaCha20 bytes,
//! against filecoin-proofs 19.1.0's `generate_piece_commitment` over the
//! payload zero-extended to its piece size
//! (`fixtures/commp-awkward-vectors.json`, made by
//! `compat/src/bin/commp_vectors.rs`). Streams in odd-sized writes too.

use cairn_proofs::commp::{CommPHasher, commp};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::Value;

#[test]
fn commp_matches_filecoin_for_awkward_sizes() {
    let doc: Value =
        serde_json::from_str(include_str!("fixtures/commp-awkward-vectors.json")).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 28);
    for c in cases {
        let len = c["payload_len"].as_u64().unwrap() as usize;
        let mut data = vec![0u8; len];
        if c["data"] == "chacha20" {
            ChaCha20Rng::from_seed([0x5a; 32]).fill_bytes(&mut data);
        }
        let got = commp(&data).unwrap();
        let what = format!("{} bytes of {}", len, c["data"]);
        assert_eq!(
            hex::encode(got.comm_p),
            c["comm_p_hex"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(
            got.padded_size,
            c["padded_piece_size"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            got.unpadded_size(),
            c["unpadded_piece_size"].as_u64().unwrap(),
            "{what}"
        );
        let mut h = CommPHasher::new();
        for chunk in data.chunks(4099) {
            h.update(chunk);
        }
        assert_eq!(h.finish().unwrap(), got, "{what}, streamed");
    }
}
