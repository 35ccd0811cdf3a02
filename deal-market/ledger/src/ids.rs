//! Typed identifiers, keys and signatures.
//!
//! Every id is a newtype with `Display` (never a bare integer or byte
//! array), so a deal id cannot be passed where a sector number is meant.
//! An [`Address`] is derived from an ed25519 public key (the first 20
//! bytes of a domain-separated SHA-256), as Ethereum and Cosmos derive
//! theirs: short, and it commits to the key without revealing it before
//! the first signature.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};

fn hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// An ed25519 public key (32 bytes, as sent; checked when a signature is
/// verified).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; 32]);

/// An ed25519 signature (64 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

/// An account: the first 20 bytes of SHA-256("cairn/address/v1" ‖ key).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl PublicKey {
    /// The address this key controls.
    pub fn address(&self) -> Address {
        let h = Sha256::new()
            .chain_update(b"cairn/address/v1")
            .chain_update(self.0)
            .finalize();
        let mut a = [0u8; 20];
        a.copy_from_slice(h.get(..20).unwrap_or(&[0; 20]));
        Address(a)
    }

    /// Whether `sig` is this key's signature of `msg` under `domain`
    /// (strict verification: no malleable or small-order encodings).
    pub fn verify(&self, domain: &[u8], msg: &[u8], sig: &Signature) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        key.verify_strict(&signing_bytes(domain, msg), &sig).is_ok()
    }
}

/// The bytes actually signed: a domain tag (its length first) then the
/// message, so a signature for one purpose is never valid for another.
pub fn signing_bytes(domain: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + domain.len() + msg.len());
    out.push(u8::try_from(domain.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(domain);
    out.extend_from_slice(msg);
    out
}

macro_rules! bytes_display {
    ($t:ident, $short:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                hex(f, &self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($short, "("))?;
                hex(f, self.0.get(..4).unwrap_or(&[]))?;
                write!(f, "…)")
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.array(&self.0);
            }
        }
        impl Decode for $t {
            const MIN_LEN: usize = std::mem::size_of::<$t>();
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($t(r.array(stringify!($t))?))
            }
        }
    };
}

bytes_display!(PublicKey, "key");
bytes_display!(Signature, "sig");
bytes_display!(Address, "addr");

/// A 32-byte commitment: CommP (piece) or CommR (sealed sector), a
/// BLS12-381 scalar field element in little-endian bytes.
macro_rules! commitment {
    ($(#[$m:meta])* $t:ident, $short:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $t(pub [u8; 32]);

        bytes_display!($t, $short);
    };
}

commitment!(
    /// A piece commitment (the digest of a v1 piece CID).
    CommP,
    "commp"
);
commitment!(
    /// A sealed sector's replica commitment.
    CommR,
    "commr"
);

impl CommP {
    /// Whether the bytes are a sha2-256-trunc254 digest, as every CommP
    /// is (top two bits clear).
    pub fn is_valid(&self) -> bool {
        self.0[31] & 0xc0 == 0
    }
}

impl CommR {
    /// Whether the bytes are a canonical field element, as a Poseidon
    /// root is (below the modulus; its top byte can reach 0x73, so the
    /// trunc254 test of [`CommP::is_valid`] would refuse honest roots).
    pub fn is_valid(&self) -> bool {
        cairn_proofs::field::fr_from_le_bytes(&self.0).is_ok()
    }
}

macro_rules! int_id {
    ($(#[$m:meta])* $t:ident, $short:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $t(pub u64);

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($short, "{}"), self.0)
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.u64(self.0);
            }
        }
        impl Decode for $t {
            const MIN_LEN: usize = 8;
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok($t(r.u64(stringify!($t))?))
            }
        }
    };
}

int_id!(
    /// A storage provider, numbered in registration order (also its
    /// 32-byte prover id: the number little-endian, zero-padded, as
    /// Filecoin pads actor ids).
    ProviderId,
    "p"
);
int_id!(
    /// A published deal, numbered in publication order.
    DealId,
    "deal"
);
int_id!(
    /// A sector's number within its provider.
    SectorNumber,
    "s"
);
int_id!(
    /// A ledger epoch: a fixed number of blocks (a genesis parameter).
    Epoch,
    "e"
);
int_id!(
    /// A published upload manifest, numbered in publication order.
    ManifestId,
    "m"
);

impl ProviderId {
    /// The prover id used in replica ids.
    pub fn prover_id(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (o, b) in out.iter_mut().zip(self.0.to_le_bytes()) {
            *o = b;
        }
        out
    }
}

impl Epoch {
    /// `self + n`, saturating.
    pub fn plus(self, n: u64) -> Epoch {
        Epoch(self.0.saturating_add(n))
    }
}

/// Token amounts: whole indivisible units (atto-CRN), `u128` so that
/// price × size × duration cannot overflow for any realistic deal; every
/// operation on them is checked.
pub type Amount = u128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_a_domain_separated_hash() {
        let a = PublicKey([7; 32]).address();
        assert_ne!(a, PublicKey([8; 32]).address());
        assert_eq!(a.to_string().len(), 40);
        assert!(!PublicKey([7; 32]).verify(b"d", b"m", &Signature([0; 64])));
        assert_eq!(ProviderId(0x0102).prover_id()[..3], [2, 1, 0]);
    }

    #[test]
    fn comm_r_is_any_canonical_field_element() {
        // The modulus r = 0x73eda753...00000001 (little-endian bytes).
        let mut r = [0u8; 32];
        let hex_be = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";
        for (i, b) in (0..32).rev().zip(0..) {
            r[i] = u8::from_str_radix(&hex_be[2 * b..2 * b + 2], 16).unwrap();
        }
        let mut below = r;
        below[0] -= 1; // r - 1: the largest element
        assert!(CommR(below).is_valid(), "r - 1 is a field element");
        assert!(!CommR(r).is_valid(), "r is not");
        let mut high = [0u8; 32];
        high[31] = 0x40; // 2^254 < r: a Poseidon root can look like this
        assert!(CommR(high).is_valid());
        assert!(!CommP(high).is_valid(), "a CommP is trunc254");
        assert!(!CommR([0xff; 32]).is_valid());
    }
}
