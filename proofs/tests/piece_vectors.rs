//! CommP and v1 piece CIDs against filecoin-proofs 19.1.0's
//! `generate_piece_commitment`, for all-zero and ChaCha20 pieces filling 2 KiB
//! and 8 MiB sectors (see `fixtures/piece_vectors.json`).

use std::io::Write;

use cairn_proofs::commp::{CommPHasher, commp};
use sha2::{Digest, Sha256};

/// ChaCha20 keystream as rand_chacha 0.3's `ChaCha20Rng::fill_bytes` yields
/// it: key = seed, 64-bit block counter from 0, stream (nonce) 0, words
/// little-endian, blocks in order.
fn chacha20_bytes(seed: [u8; 32], len: usize) -> Vec<u8> {
    fn qr(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(16);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(12);
        s[a] = s[a].wrapping_add(s[b]);
        s[d] = (s[d] ^ s[a]).rotate_left(8);
        s[c] = s[c].wrapping_add(s[d]);
        s[b] = (s[b] ^ s[c]).rotate_left(7);
    }
    let mut key = [0u32; 8];
    for (k, c) in key.iter_mut().zip(seed.chunks_exact(4)) {
        *k = u32::from_le_bytes(c.try_into().unwrap());
    }
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u64 = 0;
    while out.len() < len {
        let mut init = [0u32; 16];
        init[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
        init[4..12].copy_from_slice(&key);
        init[12] = counter as u32;
        init[13] = (counter >> 32) as u32;
        let mut s = init;
        for _ in 0..10 {
            qr(&mut s, 0, 4, 8, 12);
            qr(&mut s, 1, 5, 9, 13);
            qr(&mut s, 2, 6, 10, 14);
            qr(&mut s, 3, 7, 11, 15);
            qr(&mut s, 0, 5, 10, 15);
            qr(&mut s, 1, 6, 11, 12);
            qr(&mut s, 2, 7, 8, 13);
            qr(&mut s, 3, 4, 9, 14);
        }
        for (w, i) in s.iter().zip(init.iter()) {
            out.extend_from_slice(&w.wrapping_add(*i).to_le_bytes());
        }
        counter += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn commp_matches_filecoin_vectors() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/piece_vectors.json",
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = format!("{} {}", case["sector"], case["data"]);
        let unpadded = case["unpadded_size"].as_u64().unwrap() as usize;
        let data = match case["data"].as_str().unwrap() {
            "zeros" => vec![0u8; unpadded],
            "chacha20" => chacha20_bytes([0x5a; 32], unpadded),
            other => panic!("unknown data {other}"),
        };
        // The generator is right before we trust anything computed from it.
        assert_eq!(
            hex::encode(Sha256::digest(&data)),
            case["data_sha256"].as_str().unwrap(),
            "{name}: data"
        );

        // Stream in odd-sized writes to exercise chunk boundaries.
        let mut h = CommPHasher::new();
        for part in data.chunks(4099) {
            h.write_all(part).unwrap();
        }
        let c = h.finish().unwrap();
        assert_eq!(c, commp(&data).unwrap(), "{name}: streaming vs whole");
        assert_eq!(
            hex::encode(c.comm_p),
            case["comm_p_hex"].as_str().unwrap(),
            "{name}: CommP"
        );
        assert_eq!(
            c.cid_v1().unwrap().to_string(),
            case["piece_cid"].as_str().unwrap(),
            "{name}: CID"
        );
        assert_eq!(
            c.padded_size,
            case["padded_size"].as_u64().unwrap(),
            "{name}: padded"
        );
        assert_eq!(c.unpadded_size(), unpadded as u64, "{name}: unpadded");
        assert_eq!(c.padding(), 0);

        // A one-byte change must change CommP.
        let mut flipped = data.clone();
        flipped[unpadded / 2] ^= 1;
        assert_ne!(commp(&flipped).unwrap().comm_p, c.comm_p, "{name}: flip");
    }
}
