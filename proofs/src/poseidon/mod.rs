//! Poseidon over BLS12-381 `Fr`, byte-identical to neptune 11, the Poseidon
//! of rust-fil-proofs 19.x.
//!
//! Filecoin hashes with Poseidon wherever a value must later be proven in a
//! circuit: the nodes of the replica tree (tree_r_last, arity 8), the column
//! hashes of the sealed layers (arity 2 or 11, by layer count), the tree of
//! column hashes (tree_c, arity 8), and CommR = H(CommC, CommRLast)
//! (arity 2). To produce the same CommR, this module must compute exactly
//! neptune's function: the same round numbers, round constants, MDS matrix
//! and domain tag, generated as neptune generates them
//! ([`PoseidonConstants`]; its module docs list every detail, quirks
//! included), and the same framing:
//!
//! - `PoseidonConstants::new()` in filecoin-hashers is
//!   `Strength::Standard` with `HashType::MerkleTree`: the domain tag is
//!   `2^arity - 1`, put in state element 0, the preimage fills elements
//!   `1..=arity`;
//! - the output is state element 1 after the permutation;
//! - field elements travel as 32-byte little-endian canonical encodings
//!   ([`crate::field`]).
//!
//! # Two forms
//!
//! [`reference`](mod@reference) is the permutation as defined, one round after another,
//! each with its own constants and a dense `t x t` mix. The fast form
//! (neptune's `OptimizedStatic`) moves the round constants past the linear
//! layers and factors the partial rounds' mixes into sparse matrices: for
//! arity 8, about 2,000 field multiplications per hash where the reference
//! needs about 5,700. The tests check the two agree on random inputs, that
//! the fast form's derived constants equal neptune's, and that both equal
//! neptune's own outputs.
//!
//! # Parameters for circuits
//!
//! [`constants`] gives the plain parameters per [`Arity`] (round constants,
//! MDS matrix, round counts, domain tag), computed once per process (a few
//! milliseconds per arity) and cached. An R1CS gadget must use exactly
//! these, in the order [`reference::permute`] uses them.
//!
//! # Non-goals
//!
//! Other strengths (neptune's `Strengthened`), other domain tags
//! (constant-length, sponge), other fields.

mod constants;
mod fast;
mod matrix;
pub mod reference;

use std::sync::OnceLock;

use ark_ff::AdditiveGroup;

pub use constants::PoseidonConstants;
use fast::Fast;

use crate::field::Fr;

/// The arities Filecoin instantiates Poseidon with (filecoin-hashers'
/// `POSEIDON_CONSTANTS_*`). The state width is one more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arity {
    /// Binary trees, CommR = H(CommC, CommRLast), columns of 2 layers.
    A2,
    /// Quad trees.
    A4,
    /// Oct trees: tree_r_last and tree_c.
    A8,
    /// Columns of 11 layers (every production sector size).
    A11,
    /// 16-ary trees.
    A16,
    /// 24-ary trees.
    A24,
    /// 36-ary (filecoin-hashers' `hash_md`).
    A36,
}

impl Arity {
    /// Every supported arity, ascending.
    pub const ALL: [Arity; 7] = [
        Arity::A2,
        Arity::A4,
        Arity::A8,
        Arity::A11,
        Arity::A16,
        Arity::A24,
        Arity::A36,
    ];

    /// The number of preimage elements.
    pub const fn get(self) -> usize {
        match self {
            Arity::A2 => 2,
            Arity::A4 => 4,
            Arity::A8 => 8,
            Arity::A11 => 11,
            Arity::A16 => 16,
            Arity::A24 => 24,
            Arity::A36 => 36,
        }
    }

    /// The state width, `arity + 1`.
    pub const fn width(self) -> usize {
        self.get() + 1
    }
}

impl TryFrom<usize> for Arity {
    type Error = PoseidonError;

    fn try_from(arity: usize) -> Result<Self, PoseidonError> {
        Arity::ALL
            .into_iter()
            .find(|a| a.get() == arity)
            .ok_or(PoseidonError::UnsupportedArity { arity })
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// Why a Poseidon hash could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoseidonError {
    /// A preimage length no [`Arity`] has.
    #[error("no Poseidon instance of arity {arity} (supported: 2, 4, 8, 11, 16, 24, 36)")]
    UnsupportedArity {
        /// The preimage length given.
        arity: usize,
    },
    /// Filecoin hashes columns of 2 or 11 layers only.
    #[error("a column of {height} elements (Filecoin hashes columns of 2 or 11)")]
    UnsupportedColumn {
        /// The column's length.
        height: usize,
    },
    /// A preimage that does not fit the instance.
    #[error("preimage of {len} elements for Poseidon of arity {arity}")]
    WrongPreimageLength {
        /// The instance's arity.
        arity: usize,
        /// The preimage's length.
        len: usize,
    },
    /// A state that does not fit the instance.
    #[error("state of {len} elements for Poseidon of width {width}")]
    WrongWidth {
        /// The instance's width.
        width: usize,
        /// The state's length.
        len: usize,
    },
}

/// One arity's constants in both forms.
#[derive(Debug)]
struct Instance<const T: usize> {
    plain: PoseidonConstants,
    fast: Fast<T>,
}

impl<const T: usize> Instance<T> {
    fn new(arity: Arity) -> Self {
        let plain = PoseidonConstants::generate(arity);
        // Fails only if the width does not match the arity or the MDS matrix
        // (or a minor of a derived matrix) were singular: fixed by the
        // arity, not by any input, and exercised for every arity by the
        // tests, which also compare the result with neptune's.
        #[allow(clippy::expect_used)]
        let fast =
            Fast::derive(&plain).expect("Poseidon fast-form constants derive for every arity");
        Instance { plain, fast }
    }

    /// The hash of an `A`-element preimage (`A + 1 == T`).
    #[inline]
    fn hash<const A: usize>(&self, preimage: &[Fr; A]) -> Fr {
        const { assert!(A + 1 == T && T >= 2) };
        let mut state = [Fr::ZERO; T];
        let framed = std::iter::once(self.plain.domain_tag()).chain(preimage.iter().copied());
        for (s, x) in state.iter_mut().zip(framed) {
            *s = x;
        }
        self.fast.permute(&mut state);
        // In bounds: T >= 2, checked at compile time above.
        #[allow(clippy::indexing_slicing)]
        state[1]
    }
}

macro_rules! instances {
    ($($name:ident: $arity:ident, $t:literal;)*) => {
        $(
            fn $name() -> &'static Instance<$t> {
                static CELL: OnceLock<Instance<$t>> = OnceLock::new();
                CELL.get_or_init(|| Instance::new(Arity::$arity))
            }
        )*

        /// The plain parameters for `arity`, generated on first use and
        /// cached for the life of the process.
        pub fn constants(arity: Arity) -> &'static PoseidonConstants {
            match arity {
                $(Arity::$arity => &$name().plain,)*
            }
        }
    };
}

instances! {
    instance2: A2, 3;
    instance4: A4, 5;
    instance8: A8, 9;
    instance11: A11, 12;
    instance16: A16, 17;
    instance24: A24, 25;
    instance36: A36, 37;
}

/// `H(a, b)` with the arity-2 instance: Filecoin's `hash2`, binary tree
/// nodes, and CommR = `hash2(CommC, CommRLast)`.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    instance2().hash(&[a, b])
}

/// The hash of 4 elements (quad-tree node).
pub fn hash4(preimage: &[Fr; 4]) -> Fr {
    instance4().hash(preimage)
}

/// The hash of 8 elements: a node of tree_r_last and tree_c.
pub fn hash8(preimage: &[Fr; 8]) -> Fr {
    instance8().hash(preimage)
}

/// The hash of 11 elements: a column of 11 layers.
pub fn hash11(preimage: &[Fr; 11]) -> Fr {
    instance11().hash(preimage)
}

/// The hash of 16 elements.
pub fn hash16(preimage: &[Fr; 16]) -> Fr {
    instance16().hash(preimage)
}

/// The hash of 24 elements.
pub fn hash24(preimage: &[Fr; 24]) -> Fr {
    instance24().hash(preimage)
}

/// The hash of 36 elements.
pub fn hash36(preimage: &[Fr; 36]) -> Fr {
    instance36().hash(preimage)
}

/// The hash of a preimage of any supported arity, chosen by its length (as
/// filecoin-hashers' `shared_hash_frs` does for 2, 4, 8 and 16).
pub fn hash(preimage: &[Fr]) -> Result<Fr, PoseidonError> {
    fn fixed<const A: usize>(p: &[Fr], f: fn(&[Fr; A]) -> Fr) -> Result<Fr, PoseidonError> {
        let p: &[Fr; A] = p
            .try_into()
            .map_err(|_| PoseidonError::UnsupportedArity { arity: p.len() })?;
        Ok(f(p))
    }
    match Arity::try_from(preimage.len())? {
        Arity::A2 => fixed::<2>(preimage, |p| instance2().hash(p)),
        Arity::A4 => fixed(preimage, hash4),
        Arity::A8 => fixed(preimage, hash8),
        Arity::A11 => fixed(preimage, hash11),
        Arity::A16 => fixed(preimage, hash16),
        Arity::A24 => fixed(preimage, hash24),
        Arity::A36 => fixed(preimage, hash36),
    }
}

/// The hash of one column of labels (one node's label in every layer), as
/// storage-proofs-porep's `hash_single_column`: 2 or 11 elements.
pub fn hash_column(column: &[Fr]) -> Result<Fr, PoseidonError> {
    match column.len() {
        2 | 11 => hash(column),
        height => Err(PoseidonError::UnsupportedColumn { height }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    use crate::field::fr_to_le_bytes;

    const VECTORS: &str = include_str!("../../tests/fixtures/neptune-11-vectors.json");

    fn digest<'a>(xs: impl IntoIterator<Item = &'a Fr>) -> String {
        let mut h = Sha256::new();
        for x in xs {
            h.update(fr_to_le_bytes(*x));
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn hex_fr(x: &Fr) -> String {
        fr_to_le_bytes(*x)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn neptune(arity: Arity) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        v["arities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["arity"] == arity.get())
            .unwrap_or_else(|| panic!("no neptune constants for arity {arity}"))
            .clone()
    }

    /// Each plain parameter, and each derived constant of the fast form,
    /// equals neptune's for every arity.
    #[test]
    fn constants_equal_neptune() {
        for arity in Arity::ALL {
            let n = neptune(arity);
            let c = constants(arity);
            assert_eq!(n["width"], c.width(), "{arity}");
            assert_eq!(n["full_rounds"], c.full_rounds(), "{arity}");
            assert_eq!(n["partial_rounds"], c.partial_rounds(), "{arity}");
            assert_eq!(n["domain_tag"], hex_fr(&c.domain_tag()), "{arity}");
            let rc = &n["round_constants"];
            assert_eq!(rc["count"], c.round_constants().len(), "{arity}");
            assert_eq!(rc["first"], hex_fr(&c.round_constants()[0]), "{arity}");
            assert_eq!(rc["sha256"], digest(c.round_constants()), "{arity}");
            assert_eq!(
                n["mds"]["sha256"],
                digest(c.mds().iter().flatten()),
                "{arity}"
            );
        }
    }

    fn fast_matches<const T: usize>(arity: Arity, instance: &Instance<T>) {
        let n = neptune(arity);
        let fast = &instance.fast;
        let compressed = fast.compressed_round_constants();
        let nc = &n["compressed_round_constants"];
        assert_eq!(nc["count"], compressed.len(), "{arity}");
        assert_eq!(nc["sha256"], digest(&compressed), "{arity}");
        assert_eq!(
            n["pre_sparse_matrix_sha256"],
            digest(&fast.neptune_pre_sparse()),
            "{arity}"
        );
        assert_eq!(
            n["sparse_matrices"]["sha256"],
            digest(&fast.neptune_sparse()),
            "{arity}"
        );
    }

    #[test]
    fn fast_form_constants_equal_neptune() {
        fast_matches(Arity::A2, instance2());
        fast_matches(Arity::A4, instance4());
        fast_matches(Arity::A8, instance8());
        fast_matches(Arity::A11, instance11());
        fast_matches(Arity::A16, instance16());
        fast_matches(Arity::A24, instance24());
        fast_matches(Arity::A36, instance36());
    }

    #[test]
    fn derive_rejects_a_width_mismatch() {
        assert!(Fast::<4>::derive(constants(Arity::A2)).is_none());
    }

    #[test]
    fn arity_conversions() {
        for a in Arity::ALL {
            assert_eq!(Arity::try_from(a.get()), Ok(a));
        }
        for bad in [0, 1, 3, 12, 37] {
            assert_eq!(
                Arity::try_from(bad),
                Err(PoseidonError::UnsupportedArity { arity: bad })
            );
        }
    }

    #[test]
    fn the_domain_tag_is_in_element_0() {
        // A hash with the tag zeroed is a different function.
        let c = constants(Arity::A2);
        let (a, b) = (Fr::from(1u64), Fr::from(2u64));
        let mut state = [c.domain_tag(), a, b];
        reference::permute(c, &mut state).unwrap();
        assert_eq!(state[1], hash2(a, b));
        let mut untagged = [Fr::ZERO, a, b];
        reference::permute(c, &mut untagged).unwrap();
        assert_ne!(untagged[1], hash2(a, b));
    }
}
