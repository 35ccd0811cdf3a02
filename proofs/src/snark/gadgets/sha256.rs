//! SHA-256 in R1CS.
//!
//! Bits travel in SHA-256's own order: bytes in sequence, each byte's most
//! significant bit first. A compression costs about 26 k constraints when
//! its block varies (per round: Σ0 and Σ1 2 per bit, Ch 1, Maj 2, two
//! word sums of 36; per scheduled word: σ0/σ1 and a sum); a block of
//! constants (padding) costs only the rounds, because the schedule folds.

// Indices here run over fixed shapes (32-bit words, the 64-word schedule,
// a Poseidon width, a level's children) and are bounded by construction;
// no index comes from outside bytes.
#![allow(clippy::indexing_slicing)]

use super::super::cs::{ConstraintSystem, SynthesisError};
use super::bits::{Boolean, Num, UInt32};

const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

const K: [u32; 64] = [
    0x428a_2f98,
    0x7137_4491,
    0xb5c0_fbcf,
    0xe9b5_dba5,
    0x3956_c25b,
    0x59f1_11f1,
    0x923f_82a4,
    0xab1c_5ed5,
    0xd807_aa98,
    0x1283_5b01,
    0x2431_85be,
    0x550c_7dc3,
    0x72be_5d74,
    0x80de_b1fe,
    0x9bdc_06a7,
    0xc19b_f174,
    0xe49b_69c1,
    0xefbe_4786,
    0x0fc1_9dc6,
    0x240c_a1cc,
    0x2de9_2c6f,
    0x4a74_84aa,
    0x5cb0_a9dc,
    0x76f9_88da,
    0x983e_5152,
    0xa831_c66d,
    0xb003_27c8,
    0xbf59_7fc7,
    0xc6e0_0bf3,
    0xd5a7_9147,
    0x06ca_6351,
    0x1429_2967,
    0x27b7_0a85,
    0x2e1b_2138,
    0x4d2c_6dfc,
    0x5338_0d13,
    0x650a_7354,
    0x766a_0abb,
    0x81c2_c92e,
    0x9272_2c85,
    0xa2bf_e8a1,
    0xa81a_664b,
    0xc24b_8b70,
    0xc76c_51a3,
    0xd192_e819,
    0xd699_0624,
    0xf40e_3585,
    0x106a_a070,
    0x19a4_c116,
    0x1e37_6c08,
    0x2748_774c,
    0x34b0_bcb5,
    0x391c_0cb3,
    0x4ed8_aa4a,
    0x5b9c_ca4f,
    0x682e_6ff3,
    0x748f_82ee,
    0x78a5_636f,
    0x84c8_7814,
    0x8cc7_0208,
    0x90be_fffa,
    0xa450_6ceb,
    0xbef9_a3f7,
    0xc671_78f2,
];

/// The SHA-256 state.
pub type State = [UInt32; 8];

/// The initial state, as constants.
pub fn iv() -> State {
    IV.map(UInt32::constant)
}

/// One compression of a 512-bit block into `state`.
pub fn compress<CS: ConstraintSystem>(
    cs: &mut CS,
    state: &State,
    block: &[Boolean],
) -> Result<State, SynthesisError> {
    if block.len() != 512 {
        return Err(SynthesisError::Malformed(format!(
            "a SHA-256 block is 512 bits, not {}",
            block.len()
        )));
    }
    let mut w: Vec<UInt32> = Vec::with_capacity(64);
    for word in block.chunks_exact(32) {
        w.push(UInt32::from_bits_be(word)?);
    }
    for t in 16..64 {
        let s0 = {
            let x = &w[t - 15];
            UInt32::xor3(cs, &x.rotr(7), &x.rotr(18), &x.shr(3))?
        };
        let s1 = {
            let x = &w[t - 2];
            UInt32::xor3(cs, &x.rotr(17), &x.rotr(19), &x.shr(10))?
        };
        let next = UInt32::add_many(cs, &[&w[t - 16], &s0, &w[t - 7], &s1], 0)?;
        w.push(next);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state.clone();
    for (t, wt) in w.iter().enumerate() {
        let big_s1 = UInt32::xor3(cs, &e.rotr(6), &e.rotr(11), &e.rotr(25))?;
        let ch = UInt32::ch(cs, &e, &f, &g)?;
        let big_s0 = UInt32::xor3(cs, &a.rotr(2), &a.rotr(13), &a.rotr(22))?;
        let maj = UInt32::maj(cs, &a, &b, &c)?;
        // T1 = h + Σ1 + Ch + K + W is never materialised: the new e and a
        // each sum it with their other terms in one addition.
        let new_e = UInt32::add_many(cs, &[&d, &h, &big_s1, &ch, wt], K[t])?;
        let new_a = UInt32::add_many(cs, &[&h, &big_s1, &ch, wt, &big_s0, &maj], K[t])?;
        h = g;
        g = f;
        f = e;
        e = new_e;
        d = c;
        c = b;
        b = a;
        a = new_a;
    }
    let out = [a, b, c, d, e, f, g, h];
    let mut next: Vec<UInt32> = Vec::with_capacity(8);
    for (s, o) in state.iter().zip(&out) {
        // A constant state word joins as a constant, not an operand.
        let sum = match s.value().filter(|_| is_constant(s)) {
            Some(k) => UInt32::add_many(cs, &[o], k)?,
            None => UInt32::add_many(cs, &[s, o], 0)?,
        };
        next.push(sum);
    }
    next.try_into()
        .map_err(|_| SynthesisError::Malformed("state".into()))
}

fn is_constant(w: &UInt32) -> bool {
    w.bits_le().iter().all(|b| matches!(b, Boolean::Const(_)))
}

/// The state as 256 bits, the digest's order.
pub fn state_bits(state: &State) -> Vec<Boolean> {
    state.iter().flat_map(|w| w.bits_be()).collect()
}

/// SHA-256 of a message of whole bytes (its bits in SHA order): the
/// 256-bit digest.
pub fn sha256<CS: ConstraintSystem>(
    cs: &mut CS,
    message: &[Boolean],
) -> Result<Vec<Boolean>, SynthesisError> {
    if !message.len().is_multiple_of(8) {
        return Err(SynthesisError::Malformed(format!(
            "{} bits is not whole bytes",
            message.len()
        )));
    }
    let mut padded = message.to_vec();
    padded.push(Boolean::Const(true));
    while padded.len() % 512 != 448 {
        padded.push(Boolean::Const(false));
    }
    let len = message.len() as u64;
    padded.extend((0..64).rev().map(|i| Boolean::Const((len >> i) & 1 == 1)));
    let mut state = iv();
    for block in padded.chunks_exact(512) {
        state = compress(cs, &state, block)?;
    }
    Ok(state_bits(&state))
}

/// The 32 bytes of a field element below 2^254 (little-endian, as
/// Filecoin stores nodes) as SHA bits: the `bits` (least significant
/// first, 254 of them) placed byte by byte, the top two bits zero.
pub fn fr_bits_to_sha_order(bits: &[Boolean]) -> Vec<Boolean> {
    (0..256)
        .map(|pos| {
            // SHA position `pos` is byte pos/8, bit 7 - pos%8 of it.
            let k = (pos / 8) * 8 + (7 - pos % 8);
            bits.get(k).copied().unwrap_or(Boolean::Const(false))
        })
        .collect()
}

/// A digest read as Filecoin reads a node: little-endian bytes with the
/// top two bits cleared (truncation to 254 bits), as a number. Free.
pub fn digest_to_num(digest: &[Boolean]) -> Num {
    let le: Vec<Boolean> = (0..254)
        .map(|k| {
            let pos = (k / 8) * 8 + (7 - k % 8);
            digest.get(pos).copied().unwrap_or(Boolean::Const(false))
        })
        .collect();
    Num::from_bits_le(&le)
}

#[cfg(test)]
mod tests {
    use ark_ff::PrimeField;
    use sha2::{Digest, Sha256};

    use super::super::super::cs::{Counter, TestCs};
    use super::*;
    use crate::field::{Fr, fr_from_le_bytes};

    fn bits_of(bytes: &[u8], cs: &mut TestCs) -> Vec<Boolean> {
        bytes
            .iter()
            .flat_map(|&byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1))
            .map(|b| Boolean::alloc(cs, Some(b)).unwrap())
            .collect()
    }

    fn bytes_of(bits: &[Boolean]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| {
                c.iter()
                    .fold(0u8, |acc, b| (acc << 1) | u8::from(b.value().unwrap()))
            })
            .collect()
    }

    #[test]
    fn matches_sha2_on_several_lengths() {
        for len in [0usize, 3, 55, 56, 64, 100] {
            let msg: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut cs = TestCs::new();
            let bits = bits_of(&msg, &mut cs);
            let digest = sha256(&mut cs, &bits).unwrap();
            assert_eq!(
                bytes_of(&digest),
                Sha256::digest(&msg).to_vec(),
                "len {len}"
            );
            assert!(cs.is_satisfied());
        }
    }

    #[test]
    fn a_tampered_witness_is_unsatisfied() {
        let mut cs = TestCs::new();
        let bits = bits_of(b"cairn", &mut cs);
        sha256(&mut cs, &bits).unwrap();
        assert!(cs.is_satisfied());
        // Flip a variable in the middle of the computation.
        let i = cs.values.aux.len() / 2;
        cs.values.aux[i] += Fr::from(1u64);
        assert!(!cs.is_satisfied());
    }

    /// Pinned: a compression of a variable block, and one of a constant
    /// block on a variable state (the second block of a 64-byte message).
    #[test]
    fn compression_sizes() {
        let mut cs = Counter::default();
        let block: Vec<Boolean> = (0..512)
            .map(|_| Boolean::alloc(&mut cs, None).unwrap())
            .collect();
        let before = cs.constraints;
        let s = compress(&mut cs, &iv(), &block).unwrap();
        let first = cs.constraints - before;
        let before = cs.constraints;
        let pad: Vec<Boolean> = (0..512).map(|i| Boolean::Const(i == 0)).collect();
        compress(&mut cs, &s, &pad).unwrap();
        let second = cs.constraints - before;
        assert_eq!((first, second), (26_064, 19_216));
    }

    #[test]
    fn node_bits_round_trip() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(29).wrapping_add(1);
        }
        bytes[31] &= 0x3f;
        let x = fr_from_le_bytes(&bytes).unwrap();
        let mut cs = TestCs::new();
        let n = Num::alloc(&mut cs, Some(x)).unwrap();
        let bits = n.to_bits_le(&mut cs, 254).unwrap();
        let sha_bits = fr_bits_to_sha_order(&bits);
        assert_eq!(bytes_of(&sha_bits), bytes.to_vec());
        assert_eq!(digest_to_num(&sha_bits).value(), Some(x));
        assert!(cs.is_satisfied());
        let _ = Fr::MODULUS_BIT_SIZE;
    }
}
