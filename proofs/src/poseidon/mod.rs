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
//! # Batches
//!
//! Tree rows and sector columns are many independent hashes of one arity.
//! [`hash_many`] (and [`hash2_many`], [`hash8_many`], [`hash11_many`],
//! [`hash_column_many`]) hash them eight at a time with AVX-512 IFMA on
//! x86_64 CPUs that have it (the `ifma` module: 52-bit limbs, eight
//! states per vector, arities 2 to 16), one at a time otherwise and for the
//! remainder; the choice is made at run time, once per process
//! ([`batch_backend`] names it), and `CAIRN_POSEIDON_BACKEND=scalar` in the
//! environment forces the scalar path. Every backend gives the same values:
//! the tests hold each to the one-at-a-time hash and to neptune's vectors.
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

mod batch;
mod constants;
mod fast;
#[cfg(target_arch = "x86_64")]
mod ifma;
mod matrix;
pub mod reference;

use std::sync::OnceLock;

use ark_ff::AdditiveGroup;

use batch::Backend;
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
    /// A batch whose inputs do not make exactly one preimage per output.
    #[error("batch of {inputs} elements for {outputs} hashes of arity {arity}")]
    BatchLength {
        /// The arity (column height for columns).
        arity: usize,
        /// Input elements given.
        inputs: usize,
        /// Outputs asked for.
        outputs: usize,
    },
}

/// One arity's constants in both forms, and in the SIMD form once a batch
/// needs it.
#[derive(Debug)]
struct Instance<const T: usize> {
    plain: PoseidonConstants,
    fast: Fast<T>,
    #[cfg(target_arch = "x86_64")]
    x8: OnceLock<ifma::X8<T>>,
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
        Instance {
            plain,
            fast,
            #[cfg(target_arch = "x86_64")]
            x8: OnceLock::new(),
        }
    }

    /// The hash of an `A`-element preimage (`A + 1 == T`).
    #[inline]
    fn hash<const A: usize>(&self, preimage: &[Fr; A]) -> Fr {
        const { assert!(A + 1 == T && T >= 2) };
        self.hash_iter(preimage.iter().copied())
    }

    /// The hash of the preimage `elements` yields (the first `T - 1` of
    /// them; zeros if there are fewer).
    #[inline]
    fn hash_iter(&self, elements: impl IntoIterator<Item = Fr>) -> Fr {
        let mut state = [Fr::ZERO; T];
        let framed = std::iter::once(self.plain.domain_tag()).chain(elements);
        for (s, x) in state.iter_mut().zip(framed) {
            *s = x;
        }
        self.fast.permute(&mut state);
        state.get(1).copied().unwrap_or_default()
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

        /// Runs `$body` with `$inst` bound to `arity`'s instance.
        macro_rules! with_instance {
            ($arity_expr:expr, $inst:ident => $body:expr) => {
                match $arity_expr {
                    $(Arity::$arity => {
                        let $inst = $name();
                        $body
                    })*
                }
            };
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

/// Which implementation the batch functions ([`hash_many`] and the
/// others ending in `_many`) use in this process: `"avx512ifma-x8"` (eight
/// hashes at once, x86_64 with AVX-512 IFMA, arities 2 to 16) or
/// `"scalar"` (other CPUs, or `CAIRN_POSEIDON_BACKEND=scalar` in the
/// environment). Both give the same values.
pub fn batch_backend() -> &'static str {
    Backend::detect().name()
}

/// Hashes many preimages of one arity: `preimages` holds `out.len()`
/// preimages of `arity` elements, one after another, and `out[k]` becomes
/// the hash of preimage `k` (as [`hash`] would compute it). Uses AVX-512
/// IFMA where the CPU has it, eight at a time ([`batch_backend`]).
pub fn hash_many(arity: Arity, preimages: &[Fr], out: &mut [Fr]) -> Result<(), PoseidonError> {
    hash_many_with(Backend::detect(), arity, preimages, out)
}

fn hash_many_with(
    backend: Backend,
    arity: Arity,
    preimages: &[Fr],
    out: &mut [Fr],
) -> Result<(), PoseidonError> {
    let a = arity.get();
    if out.len().checked_mul(a) != Some(preimages.len()) {
        return Err(PoseidonError::BatchLength {
            arity: a,
            inputs: preimages.len(),
            outputs: out.len(),
        });
    }
    let elem = |k: usize, j: usize| preimages.get(k * a + j).copied().unwrap_or_default();
    with_instance!(arity, inst => inst.hash_many_by(backend, elem, out));
    Ok(())
}

/// [`hash2`] of each pair: `out[k] = hash2(inputs[k][0], inputs[k][1])`.
pub fn hash2_many(inputs: &[[Fr; 2]], out: &mut [Fr]) -> Result<(), PoseidonError> {
    hash_many(Arity::A2, inputs.as_flattened(), out)
}

/// [`hash8`] of each preimage.
pub fn hash8_many(inputs: &[[Fr; 8]], out: &mut [Fr]) -> Result<(), PoseidonError> {
    hash_many(Arity::A8, inputs.as_flattened(), out)
}

/// [`hash11`] of each preimage.
pub fn hash11_many(inputs: &[[Fr; 11]], out: &mut [Fr]) -> Result<(), PoseidonError> {
    hash_many(Arity::A11, inputs.as_flattened(), out)
}

fn column_arity(height: usize) -> Result<Arity, PoseidonError> {
    match height {
        2 => Ok(Arity::A2),
        11 => Ok(Arity::A11),
        height => Err(PoseidonError::UnsupportedColumn { height }),
    }
}

/// Column hashes of label layers: `layers[l][k]` is node `k`'s label in
/// layer `l + 1`, every layer holds `out.len()` labels, and `out[k]`
/// becomes [`hash_column`] of node `k`'s column. 2 or 11 layers.
pub fn hash_column_many(layers: &[&[Fr]], out: &mut [Fr]) -> Result<(), PoseidonError> {
    hash_column_many_with(Backend::detect(), layers, out)
}

fn hash_column_many_with(
    backend: Backend,
    layers: &[&[Fr]],
    out: &mut [Fr],
) -> Result<(), PoseidonError> {
    let arity = column_arity(layers.len())?;
    if layers.iter().any(|l| l.len() != out.len()) {
        return Err(PoseidonError::BatchLength {
            arity: layers.len(),
            inputs: layers.iter().map(|l| l.len()).sum(),
            outputs: out.len(),
        });
    }
    let elem = |k: usize, j: usize| {
        layers
            .get(j)
            .and_then(|l| l.get(k))
            .copied()
            .unwrap_or_default()
    };
    with_instance!(arity, inst => inst.hash_many_by(backend, elem, out));
    Ok(())
}

/// Like [`hash_many`] on encoded elements (32-byte little-endian, the
/// bytes of Filecoin's tree nodes), encoded hashes out. A preimage with a
/// non-canonical encoding gets `poison`; returns how many did.
pub(crate) fn hash_le_many(
    arity: Arity,
    preimages: &[[u8; 32]],
    out: &mut [[u8; 32]],
    poison: [u8; 32],
) -> Result<usize, PoseidonError> {
    hash_le_many_with(Backend::detect(), arity, preimages, out, poison)
}

fn hash_le_many_with(
    backend: Backend,
    arity: Arity,
    preimages: &[[u8; 32]],
    out: &mut [[u8; 32]],
    poison: [u8; 32],
) -> Result<usize, PoseidonError> {
    let a = arity.get();
    if out.len().checked_mul(a) != Some(preimages.len()) {
        return Err(PoseidonError::BatchLength {
            arity: a,
            inputs: preimages.len(),
            outputs: out.len(),
        });
    }
    let elem = |k: usize, j: usize| preimages.get(k * a + j).copied().unwrap_or_default();
    Ok(with_instance!(arity, inst => inst.hash_le_many_by(backend, elem, out, poison)))
}

/// Like [`hash_column_many`] on encoded labels: `labels` holds the layers
/// one after another, `out.len()` labels each. A column with a
/// non-canonical label gets `poison`; returns how many did.
pub(crate) fn hash_column_le_many(
    labels: &[[u8; 32]],
    out: &mut [[u8; 32]],
    poison: [u8; 32],
) -> Result<usize, PoseidonError> {
    hash_column_le_many_with(Backend::detect(), labels, out, poison)
}

fn hash_column_le_many_with(
    backend: Backend,
    labels: &[[u8; 32]],
    out: &mut [[u8; 32]],
    poison: [u8; 32],
) -> Result<usize, PoseidonError> {
    let n = out.len();
    let height = labels.len().checked_div(n).unwrap_or(0);
    let arity = column_arity(height)?;
    if height * n != labels.len() {
        return Err(PoseidonError::BatchLength {
            arity: height,
            inputs: labels.len(),
            outputs: n,
        });
    }
    let elem = |k: usize, j: usize| labels.get(j * n + k).copied().unwrap_or_default();
    Ok(with_instance!(arity, inst => inst.hash_le_many_by(backend, elem, out, poison)))
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

/// The batch functions against the one-at-a-time ones, for every backend
/// this CPU runs (the scalar fallback always among them).
#[cfg(test)]
mod batch_tests {
    use super::*;
    use ark_ff::{BigInt, Field, PrimeField};
    use proptest::prelude::*;

    use crate::field::{fr_from_le_bytes, fr_to_le_bytes};

    const VECTORS: &str = include_str!("../../tests/fixtures/neptune-11-vectors.json");

    /// `p - 1 - d` as four limbs.
    fn below_p(d: u64) -> BigInt<4> {
        let mut x = Fr::MODULUS;
        ark_ff::BigInteger::sub_with_borrow(&mut x, &BigInt::from(d + 1));
        x
    }

    /// Values at the edges of both representations: canonical 0, 1, r-1,
    /// around 2^254 and the 52-bit limb boundaries, and elements whose
    /// arkworks Montgomery limbs (what the SIMD path reads) are 0, 1,
    /// r-1, r-2 or around 2^254.
    fn edge_values() -> Vec<Fr> {
        let two = Fr::from(2u64);
        let mut v = vec![
            Fr::ZERO,
            Fr::ONE,
            -Fr::ONE,
            -two,
            two.pow([254]),
            two.pow([254]) - Fr::ONE,
            two.pow([254]) + Fr::ONE,
            two.pow([253]),
            two.pow([52]) - Fr::ONE,
            two.pow([52]),
            two.pow([208]) - Fr::ONE,
            two.pow([208]),
        ];
        for raw in [
            BigInt::from(0u64),
            BigInt::from(1u64),
            below_p(0),
            below_p(1),
            BigInt([0, 0, 0, 1 << 62]),
            BigInt([u64::MAX, u64::MAX, u64::MAX, (1 << 62) - 1]),
        ] {
            v.push(Fr::new_unchecked(raw));
        }
        v
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<Fr> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                let mut bytes = [0u8; 32];
                for chunk in bytes.chunks_exact_mut(8) {
                    s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = s;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
                }
                Fr::from_le_bytes_mod_order(&bytes)
            })
            .collect()
    }

    fn one_at_a_time(arity: Arity, preimages: &[Fr]) -> Vec<Fr> {
        preimages
            .chunks_exact(arity.get())
            .map(|p| hash(p).unwrap())
            .collect()
    }

    fn check(arity: Arity, preimages: &[Fr]) {
        let want = one_at_a_time(arity, preimages);
        for backend in Backend::all() {
            let mut got = vec![Fr::ZERO; want.len()];
            hash_many_with(backend, arity, preimages, &mut got).unwrap();
            assert_eq!(got, want, "arity {arity}, {}", backend.name());
            // The same through the encoded path.
            let enc: Vec<[u8; 32]> = preimages.iter().map(|x| fr_to_le_bytes(*x)).collect();
            let mut out = vec![[0u8; 32]; want.len()];
            let poisoned = hash_le_many_with(backend, arity, &enc, &mut out, [0xff; 32]).unwrap();
            assert_eq!(poisoned, 0);
            let want_enc: Vec<[u8; 32]> = want.iter().map(|x| fr_to_le_bytes(*x)).collect();
            assert_eq!(out, want_enc, "arity {arity}, encoded, {}", backend.name());
        }
    }

    #[test]
    fn the_scalar_fallback_is_always_a_backend() {
        assert_eq!(Backend::all().first(), Some(&Backend::Scalar));
        assert!(Backend::all().contains(&Backend::detect()));
        assert!(["scalar", "avx512ifma-x8"].contains(&batch_backend()));
    }

    #[test]
    fn edge_values_every_arity_and_batch_size() {
        let edges = edge_values();
        for arity in Arity::ALL {
            let a = arity.get();
            // Every edge value in every position, with the remainders.
            for n in [0, 1, 7, 8, 9, 16, 23] {
                let preimages: Vec<Fr> =
                    edges.iter().copied().cycle().skip(n).take(n * a).collect();
                check(arity, &preimages);
            }
            // A whole preimage of one edge value, per lane.
            for x in &edges {
                check(arity, &vec![*x; 8 * a]);
            }
        }
    }

    #[test]
    fn neptune_vectors_through_the_batch_path() {
        let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
        for a in v["arities"].as_array().unwrap() {
            let arity = Arity::try_from(a["arity"].as_u64().unwrap() as usize).unwrap();
            let cases = a["cases"].as_array().unwrap();
            // 7 cases, repeated to 3 batches of 8 and a remainder of 3.
            let chosen: Vec<&serde_json::Value> = cases.iter().cycle().take(27).collect();
            let preimages: Vec<Fr> = chosen
                .iter()
                .flat_map(|c| c["preimage"].as_array().unwrap())
                .map(|x| {
                    let b: [u8; 32] = hex::decode(x.as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap();
                    fr_from_le_bytes(&b).unwrap()
                })
                .collect();
            for backend in Backend::all() {
                let mut got = vec![Fr::ZERO; chosen.len()];
                hash_many_with(backend, arity, &preimages, &mut got).unwrap();
                for (c, h) in chosen.iter().zip(&got) {
                    assert_eq!(
                        hex::encode(fr_to_le_bytes(*h)),
                        c["hash"].as_str().unwrap(),
                        "arity {arity} case {} via {}",
                        c["name"],
                        backend.name()
                    );
                }
            }
        }
    }

    #[test]
    fn columns_in_layer_order() {
        for height in [2, 11] {
            let n = 21;
            let labels = pseudo_random(height * n, height as u64);
            let layers: Vec<&[Fr]> = labels.chunks_exact(n).collect();
            let want: Vec<Fr> = (0..n)
                .map(|k| {
                    let col: Vec<Fr> = layers.iter().map(|l| l[k]).collect();
                    hash_column(&col).unwrap()
                })
                .collect();
            for backend in Backend::all() {
                let mut got = vec![Fr::ZERO; n];
                hash_column_many_with(backend, &layers, &mut got).unwrap();
                assert_eq!(got, want, "height {height}, {}", backend.name());
                let enc: Vec<[u8; 32]> = labels.iter().map(|x| fr_to_le_bytes(*x)).collect();
                let mut out = vec![[0u8; 32]; n];
                assert_eq!(
                    hash_column_le_many_with(backend, &enc, &mut out, [0xff; 32]),
                    Ok(0)
                );
                let want_enc: Vec<[u8; 32]> = want.iter().map(|x| fr_to_le_bytes(*x)).collect();
                assert_eq!(
                    out,
                    want_enc,
                    "height {height}, encoded, {}",
                    backend.name()
                );
            }
        }
    }

    #[test]
    fn non_canonical_encodings_poison_their_preimage_only() {
        let a = 8;
        let n = 19;
        let xs = pseudo_random(n * a, 7);
        let mut enc: Vec<[u8; 32]> = xs.iter().map(|x| fr_to_le_bytes(*x)).collect();
        let r = Fr::MODULUS.0;
        let mut r_bytes = [0u8; 32];
        for (c, l) in r_bytes.chunks_exact_mut(8).zip(r) {
            c.copy_from_slice(&l.to_le_bytes());
        }
        // r itself (in a SIMD batch), all ones (in another), and a value
        // >= r in the scalar remainder.
        enc[3 * a + 2] = r_bytes;
        enc[9 * a + 7] = [0xff; 32];
        enc[17 * a] = r_bytes;
        let want = one_at_a_time(Arity::A8, &xs);
        for backend in Backend::all() {
            let mut out = vec![[0u8; 32]; n];
            let poisoned =
                hash_le_many_with(backend, Arity::A8, &enc, &mut out, [0xee; 32]).unwrap();
            assert_eq!(poisoned, 3, "{}", backend.name());
            for (k, (o, w)) in out.iter().zip(&want).enumerate() {
                if [3, 9, 17].contains(&k) {
                    assert_eq!(*o, [0xee; 32], "{k} {}", backend.name());
                } else {
                    assert_eq!(*o, fr_to_le_bytes(*w), "{k} {}", backend.name());
                }
            }
        }
    }

    #[test]
    fn batch_length_errors() {
        let xs = vec![Fr::ONE; 17];
        let mut out = vec![Fr::ZERO; 8];
        assert_eq!(
            hash_many(Arity::A2, &xs, &mut out),
            Err(PoseidonError::BatchLength {
                arity: 2,
                inputs: 17,
                outputs: 8
            })
        );
        assert_eq!(hash_many(Arity::A2, &xs[..16], &mut out), Ok(()));
        let layers: [&[Fr]; 3] = [&xs[..8], &xs[..8], &xs[..8]];
        assert_eq!(
            hash_column_many(&layers, &mut out),
            Err(PoseidonError::UnsupportedColumn { height: 3 })
        );
        let layers: [&[Fr]; 2] = [&xs[..8], &xs[..7]];
        assert_eq!(
            hash_column_many(&layers, &mut out),
            Err(PoseidonError::BatchLength {
                arity: 2,
                inputs: 15,
                outputs: 8
            })
        );
        let enc = vec![[0u8; 32]; 17];
        let mut eout = vec![[0u8; 32]; 8];
        assert!(hash_le_many(Arity::A2, &enc, &mut eout, [0xff; 32]).is_err());
        assert!(hash_column_le_many(&enc, &mut eout, [0xff; 32]).is_err());
        assert_eq!(
            hash_column_le_many(&enc[..16], &mut eout, [0xff; 32]),
            Ok(0)
        );
        // No outputs: nothing to do, whatever the input length.
        assert!(hash_column_le_many(&enc, &mut [], [0xff; 32]).is_err());
        assert_eq!(hash_many(Arity::A8, &[], &mut []), Ok(()));
    }

    fn any_fr() -> impl Strategy<Value = Fr> {
        any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn random_batches_equal_one_at_a_time(
            arity in prop::sample::select(Arity::ALL.to_vec()),
            n in 0usize..20,
            seed in any::<u64>(),
            edge in any_fr(),
            at in any::<prop::sample::Index>(),
        ) {
            let mut preimages = pseudo_random(n * arity.get(), seed);
            if !preimages.is_empty() {
                let i = at.index(preimages.len());
                preimages[i] = edge;
            }
            check(arity, &preimages);
        }
    }
}
