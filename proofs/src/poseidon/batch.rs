//! Many preimages of one arity at once: eight at a time on AVX-512 IFMA
//! where the CPU has it (the `ifma` module, widths up to 17: arities 2, 4,
//! 8, 11, 16), one at a time with the fast form otherwise and for the
//! last `n mod 8`. Both give the same values; the tests hold them to each
//! other and to neptune's.

use std::sync::OnceLock;

use ark_ff::{BigInt, PrimeField};

use super::Instance;
#[cfg(target_arch = "x86_64")]
use super::ifma::{self, LANES};
use crate::field::{Fr, fr_from_le_bytes, fr_to_le_bytes};

/// What the 256-bit integers going in and out of the SIMD path mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// The field element itself (`< p`): encodings and `into_bigint`.
    Canonical,
    /// arkworks' internal Montgomery form, `x·2^256 mod p` (`< p`): the
    /// limbs of `Fr`'s field `.0`.
    Ark,
}

/// How a batch is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// One hash at a time with the fast form.
    Scalar,
    /// Eight at a time with AVX-512 IFMA.
    #[cfg(target_arch = "x86_64")]
    Ifma,
}

/// The environment variable that, set to `scalar`, makes batches use the
/// scalar backend on any CPU.
pub(crate) const BACKEND_ENV: &str = "CAIRN_POSEIDON_BACKEND";

impl Backend {
    /// The backend batches use: the fastest this CPU runs, unless
    /// [`BACKEND_ENV`] is `scalar`. Decided once per process.
    pub(crate) fn detect() -> Self {
        static CHOSEN: OnceLock<Backend> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            if std::env::var_os(BACKEND_ENV).is_some_and(|v| v == "scalar") {
                Backend::Scalar
            } else {
                Self::fastest()
            }
        })
    }

    /// The fastest backend this CPU runs.
    fn fastest() -> Self {
        #[cfg(target_arch = "x86_64")]
        if ifma::available() {
            return Backend::Ifma;
        }
        Backend::Scalar
    }

    /// Every backend this CPU runs, the scalar one first, for tests.
    #[cfg(test)]
    pub(crate) fn all() -> Vec<Self> {
        let fastest = Some(Self::fastest()).filter(|b| *b != Backend::Scalar);
        std::iter::once(Backend::Scalar).chain(fastest).collect()
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Backend::Ifma => "avx512ifma-x8",
        }
    }
}

/// Little-endian 64-bit limbs of 32 little-endian bytes.
fn limbs_le(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
    }
    limbs
}

/// Whether little-endian limbs are below `p`.
fn is_canonical(limbs: [u64; 4]) -> bool {
    let [a, b, c, d] = limbs;
    let [p0, p1, p2, p3] = Fr::MODULUS.0;
    (d, c, b, a) < (p3, p2, p1, p0)
}

fn bytes_le(limbs: [u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(limbs) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

impl<const T: usize> Instance<T> {
    #[cfg(target_arch = "x86_64")]
    fn x8(&self) -> &ifma::X8<T> {
        self.x8
            .get_or_init(|| ifma::X8::new(&self.fast, self.plain.domain_tag()))
    }

    /// Hashes preimages `0..n` rounded down to a multiple of 8 with IFMA if
    /// `backend` says so (element `j` of preimage `k` is `input(k, j)`, an
    /// integer `< p` in `form`; hash `k` goes to `output(k, ..)`). Returns
    /// how many it hashed: the caller does the rest one at a time.
    #[cfg(target_arch = "x86_64")]
    fn simd_prefix(
        &self,
        backend: Backend,
        n: usize,
        form: Form,
        input: impl Fn(usize, usize) -> [u64; 4],
        mut output: impl FnMut(usize, [u64; 4]),
    ) -> usize {
        if backend != Backend::Ifma || T > ifma::MAX_WIDTH {
            return 0;
        }
        let x8 = self.x8();
        let mut lanes = [[[0u64; 4]; LANES]; ifma::MAX_WIDTH - 1];
        let Some(lanes) = lanes.get_mut(..T - 1) else {
            return 0;
        };
        for first in (0..n / LANES).map(|b| b * LANES) {
            for (j, elements) in lanes.iter_mut().enumerate() {
                for (k, slot) in elements.iter_mut().enumerate() {
                    *slot = input(first + k, j);
                }
            }
            let Some(hashes) = x8.hash(lanes, form) else {
                return first;
            };
            for (k, h) in hashes.into_iter().enumerate() {
                output(first + k, h);
            }
        }
        n / LANES * LANES
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn simd_prefix(
        &self,
        _: Backend,
        _: usize,
        _: Form,
        _: impl Fn(usize, usize) -> [u64; 4],
        _: impl FnMut(usize, [u64; 4]),
    ) -> usize {
        0
    }

    /// `out[k]` = the hash of preimage `k`, whose element `j` is
    /// `elem(k, j)`.
    pub(super) fn hash_many_by(
        &self,
        backend: Backend,
        elem: impl Fn(usize, usize) -> Fr,
        out: &mut [Fr],
    ) {
        let done = self.simd_prefix(
            backend,
            out.len(),
            Form::Ark,
            // `Fr`'s field is its Montgomery form: the `Form::Ark` limbs,
            // `< p` (the ifma tests pin that premise).
            |k, j| elem(k, j).0.0,
            |k, h| {
                if let Some(o) = out.get_mut(k) {
                    *o = Fr::new_unchecked(BigInt(h));
                }
            },
        );
        for (k, o) in out.iter_mut().enumerate().skip(done) {
            *o = self.hash_iter((0..T - 1).map(|j| elem(k, j)));
        }
    }

    /// `out[k]` = the encoded hash of preimage `k`, whose element `j` is
    /// encoded as `elem(k, j)`; `poison` for a preimage with a
    /// non-canonical encoding. Returns how many were poisoned.
    pub(super) fn hash_le_many_by(
        &self,
        backend: Backend,
        elem: impl Fn(usize, usize) -> [u8; 32],
        out: &mut [[u8; 32]],
        poison: [u8; 32],
    ) -> usize {
        // Non-canonical inputs (< 2^256) stay within the IFMA path's
        // bounds; their preimages are poisoned below.
        let done = self.simd_prefix(
            backend,
            out.len(),
            Form::Canonical,
            |k, j| limbs_le(&elem(k, j)),
            |k, h| {
                if let Some(o) = out.get_mut(k) {
                    *o = bytes_le(h);
                }
            },
        );
        let mut poisoned = 0;
        for (k, o) in out.iter_mut().enumerate() {
            if !(0..T - 1).all(|j| is_canonical(limbs_le(&elem(k, j)))) {
                *o = poison;
                poisoned += 1;
            } else if k >= done {
                let h = self.hash_iter(
                    (0..T - 1).map(|j| fr_from_le_bytes(&elem(k, j)).unwrap_or_default()),
                );
                *o = fr_to_le_bytes(h);
            }
        }
        poisoned
    }
}
