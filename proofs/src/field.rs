//! The BLS12-381 scalar field `Fr` and its 32-byte encoding.
//!
//! Filecoin's Poseidon-hashed values (CommC, CommRLast, CommR, tree nodes,
//! SDR labels read as field elements) are `Fr` elements stored as their
//! canonical little-endian representation: the bytes of
//! `filecoin_hashers::poseidon::PoseidonDomain`, which is
//! `blstrs::Scalar::to_repr()`. arkworks and blstrs implement the same
//! field, so these bytes move between the two unchanged.
//!
//! Decoding is strict: 32 bytes whose integer is not below the field
//! modulus `r` are rejected rather than reduced (rust-fil-proofs panics on
//! them in `from_repr_vartime(..).expect(..)`; a reduced value would hash to
//! a different commitment than the bytes claim).

use ark_ff::{BigInt, PrimeField};

pub use ark_bls12_381::Fr;

/// 32 bytes that are not the canonical encoding of an `Fr` element: read as
/// a little-endian integer, they are `>= r`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a canonical BLS12-381 scalar (little-endian value >= r): {}", Hex(.bytes))]
pub struct NotCanonical {
    /// The rejected bytes.
    pub bytes: [u8; 32],
}

/// Lowercase hex of a byte string, for error messages.
struct Hex<'a>(&'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The little-endian limbs of 32 little-endian bytes.
fn limbs_le(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
    }
    limbs
}

/// Decodes the canonical little-endian encoding of an `Fr` element; values
/// `>= r` are rejected.
pub fn fr_from_le_bytes(bytes: &[u8; 32]) -> Result<Fr, NotCanonical> {
    Fr::from_bigint(BigInt::new(limbs_le(bytes))).ok_or(NotCanonical { bytes: *bytes })
}

/// The canonical little-endian encoding of `x` (Filecoin's `PoseidonDomain`
/// bytes).
pub fn fr_to_le_bytes(x: Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(x.into_bigint().0) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, Zero};

    /// r, the BLS12-381 scalar field modulus, little-endian.
    const R_LE: [u8; 32] = {
        let be: [u8; 32] = [
            0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1,
            0xd8, 0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff,
            0x00, 0x00, 0x00, 0x01,
        ];
        let mut le = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            le[i] = be[31 - i];
            i += 1;
        }
        le
    };

    #[test]
    fn boundaries() {
        let mut r_minus_1 = R_LE;
        r_minus_1[0] -= 1;
        let mut r_plus_1 = R_LE;
        r_plus_1[0] += 1;
        // (bytes, expected) with the case each row hits.
        let cases: [([u8; 32], Option<Fr>); 6] = [
            ([0; 32], Some(Fr::zero())),              // zero
            (fr_to_le_bytes(Fr::ONE), Some(Fr::ONE)), // one
            (r_minus_1, Some(-Fr::ONE)),              // largest canonical
            (R_LE, None),                             // r itself
            (r_plus_1, None),                         // just above r
            ([0xff; 32], None),                       // top bits set
        ];
        for (bytes, expected) in cases {
            match (fr_from_le_bytes(&bytes), expected) {
                (Ok(x), Some(e)) => {
                    assert_eq!(x, e);
                    assert_eq!(fr_to_le_bytes(x), bytes, "round trip");
                }
                (Err(err), None) => assert_eq!(err.bytes, bytes),
                (got, want) => panic!("{bytes:02x?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn error_names_the_bytes() {
        let err = fr_from_le_bytes(&[0xff; 32]).unwrap_err();
        assert!(err.to_string().ends_with(&"ff".repeat(32)), "{err}");
    }
}
