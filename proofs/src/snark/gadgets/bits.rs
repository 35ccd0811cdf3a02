//! Bits, booleans with constant folding, 32-bit words and numbers.
//!
//! A [`Boolean`] is a constant, a bit variable, or the negation of one:
//! negation and operations with constants cost nothing, so SHA-256 over
//! its constant IV and padding only pays for what varies. Word addition
//! sums any number of words (and a constant) as one linear combination
//! and decomposes the sum once: `bits(max sum) + 1` constraints however
//! many operands.

// Indices here run over fixed shapes (32-bit words, the 64-word schedule,
// a Poseidon width, a level's children) and are bounded by construction;
// no index comes from outside bytes.
#![allow(clippy::indexing_slicing)]

use ark_ff::{AdditiveGroup, BigInteger, One, PrimeField, Zero};

use super::super::cs::{ConstraintSystem, Lc, SynthesisError, Variable};
use crate::field::Fr;

/// A variable constrained to be 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bit {
    var: Variable,
    value: Option<bool>,
}

impl Bit {
    /// A new bit with its booleanity constraint `b · (1 - b) = 0`.
    pub fn alloc<CS: ConstraintSystem>(
        cs: &mut CS,
        value: Option<bool>,
    ) -> Result<Bit, SynthesisError> {
        let var = cs.alloc(value.map(Fr::from))?;
        cs.enforce(&Lc::var(var), &Lc::one().sub_lc(&Lc::var(var)), &Lc::zero());
        Ok(Bit { var, value })
    }

    /// A bit whose value the caller's own constraint already forces to be
    /// 0 or 1 (no booleanity constraint).
    fn alloc_unchecked<CS: ConstraintSystem>(
        cs: &mut CS,
        value: Option<bool>,
    ) -> Result<Bit, SynthesisError> {
        let var = cs.alloc(value.map(Fr::from))?;
        Ok(Bit { var, value })
    }

    /// The variable.
    pub fn var(&self) -> Variable {
        self.var
    }

    /// The value, when known.
    pub fn value(&self) -> Option<bool> {
        self.value
    }
}

/// A boolean: constant, bit, or negated bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boolean {
    /// Known at synthesis time.
    Const(bool),
    /// The bit.
    Is(Bit),
    /// One minus the bit.
    Not(Bit),
}

fn both<T, U>(a: Option<T>, b: Option<U>) -> Option<(T, U)> {
    Some((a?, b?))
}

impl Boolean {
    /// A new bit.
    pub fn alloc<CS: ConstraintSystem>(
        cs: &mut CS,
        value: Option<bool>,
    ) -> Result<Boolean, SynthesisError> {
        Ok(Boolean::Is(Bit::alloc(cs, value)?))
    }

    /// The value, when known.
    pub fn value(&self) -> Option<bool> {
        match self {
            Boolean::Const(b) => Some(*b),
            Boolean::Is(b) => b.value,
            Boolean::Not(b) => b.value.map(|v| !v),
        }
    }

    /// As a linear combination (0 or 1).
    pub fn lc(&self) -> Lc {
        match self {
            Boolean::Const(true) => Lc::one(),
            Boolean::Const(false) => Lc::zero(),
            Boolean::Is(b) => Lc::var(b.var),
            Boolean::Not(b) => Lc::one().add(-Fr::one(), b.var),
        }
    }

    /// Adds `coeff · self` to `lc`.
    pub fn add_to(&self, lc: Lc, coeff: Fr) -> Lc {
        match self {
            Boolean::Const(true) => lc.add(coeff, Variable::One),
            Boolean::Const(false) => lc,
            Boolean::Is(b) => lc.add(coeff, b.var),
            Boolean::Not(b) => lc.add(coeff, Variable::One).add(-coeff, b.var),
        }
    }

    /// Negation: free.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Boolean {
        match self {
            Boolean::Const(b) => Boolean::Const(!b),
            Boolean::Is(b) => Boolean::Not(b),
            Boolean::Not(b) => Boolean::Is(b),
        }
    }

    /// `a ⊕ b`: one constraint unless either is constant.
    pub fn xor<CS: ConstraintSystem>(
        cs: &mut CS,
        a: &Boolean,
        b: &Boolean,
    ) -> Result<Boolean, SynthesisError> {
        let (x, y, negate) = match (*a, *b) {
            (Boolean::Const(false), o) | (o, Boolean::Const(false)) => return Ok(o),
            (Boolean::Const(true), o) | (o, Boolean::Const(true)) => return Ok(o.not()),
            (Boolean::Is(x), Boolean::Is(y)) | (Boolean::Not(x), Boolean::Not(y)) => (x, y, false),
            (Boolean::Is(x), Boolean::Not(y)) | (Boolean::Not(x), Boolean::Is(y)) => (x, y, true),
        };
        // 2x · y = x + y - c  ⇔  c = x ⊕ y (boolean whenever x, y are).
        let c = Bit::alloc_unchecked(cs, both(x.value, y.value).map(|(x, y)| x ^ y))?;
        cs.enforce(
            &Lc::zero().add(Fr::from(2u64), x.var),
            &Lc::var(y.var),
            &Lc::var(x.var).add(Fr::one(), y.var).add(-Fr::one(), c.var),
        );
        Ok(if negate {
            Boolean::Not(c)
        } else {
            Boolean::Is(c)
        })
    }

    /// `a ∧ b`: one constraint unless either is constant.
    pub fn and<CS: ConstraintSystem>(
        cs: &mut CS,
        a: &Boolean,
        b: &Boolean,
    ) -> Result<Boolean, SynthesisError> {
        match (*a, *b) {
            (Boolean::Const(false), _) | (_, Boolean::Const(false)) => Ok(Boolean::Const(false)),
            (Boolean::Const(true), o) | (o, Boolean::Const(true)) => Ok(o),
            (x, y) => {
                let value = both(x.value(), y.value()).map(|(x, y)| x & y);
                let c = Bit::alloc_unchecked(cs, value)?;
                cs.enforce(&x.lc(), &y.lc(), &Lc::var(c.var));
                Ok(Boolean::Is(c))
            }
        }
    }

    /// SHA-256's `Ch`: `e ? f : g`, one constraint unless folded.
    pub fn ch<CS: ConstraintSystem>(
        cs: &mut CS,
        e: &Boolean,
        f: &Boolean,
        g: &Boolean,
    ) -> Result<Boolean, SynthesisError> {
        match (*e, *f, *g) {
            (Boolean::Const(true), f, _) => return Ok(f),
            (Boolean::Const(false), _, g) => return Ok(g),
            (e, Boolean::Const(fv), Boolean::Const(gv)) => {
                return Ok(match (fv, gv) {
                    (true, true) => Boolean::Const(true),
                    (false, false) => Boolean::Const(false),
                    (true, false) => e,
                    (false, true) => e.not(),
                });
            }
            _ => {}
        }
        let value = match (e.value(), f.value(), g.value()) {
            (Some(e), Some(f), Some(g)) => Some(if e { f } else { g }),
            _ => None,
        };
        // e · (f - g) = ch - g.
        let c = Bit::alloc_unchecked(cs, value)?;
        cs.enforce(
            &e.lc(),
            &f.lc().sub_lc(&g.lc()),
            &Lc::var(c.var).sub_lc(&g.lc()),
        );
        Ok(Boolean::Is(c))
    }

    /// SHA-256's `Maj`: the majority of three, two constraints unless
    /// folded.
    pub fn maj<CS: ConstraintSystem>(
        cs: &mut CS,
        a: &Boolean,
        b: &Boolean,
        c: &Boolean,
    ) -> Result<Boolean, SynthesisError> {
        // A constant decides: maj(1, y, z) = y ∨ z, maj(0, y, z) = y ∧ z.
        let consts = [*a, *b, *c];
        if let Some(k) = consts.iter().position(|x| matches!(x, Boolean::Const(_))) {
            let rest: Vec<Boolean> = consts
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != k)
                .map(|(_, x)| *x)
                .collect();
            let (y, z) = (rest[0], rest[1]);
            return if consts[k] == Boolean::Const(true) {
                Ok(Boolean::and(cs, &y.not(), &z.not())?.not())
            } else {
                Boolean::and(cs, &y, &z)
            };
        }
        // bc = b ∧ c; a · (b + c - 2bc) = maj - bc.
        let bc = Boolean::and(cs, b, c)?;
        let value = match (a.value(), b.value(), c.value()) {
            (Some(a), Some(b), Some(c)) => Some((a & b) | (a & c) | (b & c)),
            _ => None,
        };
        let m = Bit::alloc_unchecked(cs, value)?;
        cs.enforce(
            &a.lc(),
            &b.lc()
                .add_lc(Fr::one(), &c.lc())
                .add_lc(-Fr::from(2u64), &bc.lc()),
            &Lc::var(m.var).sub_lc(&bc.lc()),
        );
        Ok(Boolean::Is(m))
    }
}

/// A 32-bit word, least significant bit first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UInt32 {
    bits: [Boolean; 32],
}

impl UInt32 {
    /// A constant word.
    pub fn constant(v: u32) -> UInt32 {
        UInt32 {
            bits: std::array::from_fn(|i| Boolean::Const((v >> i) & 1 == 1)),
        }
    }

    /// A word from 32 booleans, least significant first.
    pub fn from_bits_le(bits: [Boolean; 32]) -> UInt32 {
        UInt32 { bits }
    }

    /// A word from 32 booleans in SHA-256's big-endian byte order (most
    /// significant bit first).
    pub fn from_bits_be(bits: &[Boolean]) -> Result<UInt32, SynthesisError> {
        if bits.len() != 32 {
            return Err(SynthesisError::Malformed(format!(
                "{} bits for a word",
                bits.len()
            )));
        }
        Ok(UInt32 {
            bits: std::array::from_fn(|i| bits[31 - i]),
        })
    }

    /// The bits, least significant first.
    pub fn bits_le(&self) -> &[Boolean; 32] {
        &self.bits
    }

    /// The bits, most significant first.
    pub fn bits_be(&self) -> impl Iterator<Item = Boolean> + '_ {
        self.bits.iter().rev().copied()
    }

    /// The value, when known.
    pub fn value(&self) -> Option<u32> {
        self.bits
            .iter()
            .enumerate()
            .try_fold(0u32, |acc, (i, b)| Some(acc | (u32::from(b.value()?) << i)))
    }

    /// Rotation right by `n`: free.
    pub fn rotr(&self, n: usize) -> UInt32 {
        UInt32 {
            bits: std::array::from_fn(|i| self.bits[(i + n) % 32]),
        }
    }

    /// Shift right by `n`: free.
    pub fn shr(&self, n: usize) -> UInt32 {
        UInt32 {
            bits: std::array::from_fn(|i| {
                self.bits
                    .get(i + n)
                    .copied()
                    .unwrap_or(Boolean::Const(false))
            }),
        }
    }

    /// `f` on the three words' bits, position by position.
    fn bitwise3<CS: ConstraintSystem>(
        cs: &mut CS,
        words: [&UInt32; 3],
        f: fn(&mut CS, &Boolean, &Boolean, &Boolean) -> Result<Boolean, SynthesisError>,
    ) -> Result<UInt32, SynthesisError> {
        let [a, b, c] = words;
        let mut bits = [Boolean::Const(false); 32];
        for (i, out) in bits.iter_mut().enumerate() {
            *out = f(cs, &a.bits[i], &b.bits[i], &c.bits[i])?;
        }
        Ok(UInt32 { bits })
    }

    /// `a ⊕ b ⊕ c`, bit by bit.
    pub fn xor3<CS: ConstraintSystem>(
        cs: &mut CS,
        a: &UInt32,
        b: &UInt32,
        c: &UInt32,
    ) -> Result<UInt32, SynthesisError> {
        UInt32::bitwise3(cs, [a, b, c], |cs, x, y, z| {
            let xy = Boolean::xor(cs, x, y)?;
            Boolean::xor(cs, &xy, z)
        })
    }

    /// `Ch(e, f, g)`, bit by bit.
    pub fn ch<CS: ConstraintSystem>(
        cs: &mut CS,
        e: &UInt32,
        f: &UInt32,
        g: &UInt32,
    ) -> Result<UInt32, SynthesisError> {
        UInt32::bitwise3(cs, [e, f, g], Boolean::ch)
    }

    /// `Maj(a, b, c)`, bit by bit.
    pub fn maj<CS: ConstraintSystem>(
        cs: &mut CS,
        a: &UInt32,
        b: &UInt32,
        c: &UInt32,
    ) -> Result<UInt32, SynthesisError> {
        UInt32::bitwise3(cs, [a, b, c], Boolean::maj)
    }

    /// `Σ operands + constant mod 2^32`: the sum as one linear combination,
    /// decomposed into `bits(max)` new bits (booleanity each) with one
    /// packing constraint; the low 32 are the result.
    pub fn add_many<CS: ConstraintSystem>(
        cs: &mut CS,
        operands: &[&UInt32],
        constant: u32,
    ) -> Result<UInt32, SynthesisError> {
        let mut lc = Lc::zero();
        let mut max = u64::from(constant);
        let mut value = Some(u64::from(constant));
        let mut all_const = true;
        for op in operands {
            let mut coeff = Fr::one();
            for b in &op.bits {
                lc = b.add_to(lc, coeff);
                coeff.double_in_place();
                all_const &= matches!(b, Boolean::Const(_));
            }
            max += u64::from(u32::MAX);
            value = both(value, op.value()).map(|(s, v)| s + u64::from(v));
        }
        if all_const {
            return Ok(UInt32::constant(value.unwrap_or(0) as u32));
        }
        lc = lc.add(Fr::from(u64::from(constant)), Variable::One);
        let width = 64 - max.leading_zeros() as usize;
        let mut packed = Lc::zero();
        let mut coeff = Fr::one();
        let mut bits = [Boolean::Const(false); 32];
        for i in 0..width {
            let b = Bit::alloc(cs, value.map(|v| (v >> i) & 1 == 1))?;
            packed = packed.add(coeff, b.var);
            coeff.double_in_place();
            if let Some(slot) = bits.get_mut(i) {
                *slot = Boolean::Is(b);
            }
        }
        cs.enforce(&lc, &Lc::one(), &packed);
        Ok(UInt32 { bits })
    }
}

/// A field element in the circuit: a linear combination with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Num {
    lc: Lc,
    value: Option<Fr>,
}

impl Num {
    /// A new private variable.
    pub fn alloc<CS: ConstraintSystem>(
        cs: &mut CS,
        value: Option<Fr>,
    ) -> Result<Num, SynthesisError> {
        let v = cs.alloc(value)?;
        Ok(Num {
            lc: Lc::var(v),
            value,
        })
    }

    /// A new public input.
    pub fn alloc_input<CS: ConstraintSystem>(
        cs: &mut CS,
        value: Option<Fr>,
    ) -> Result<Num, SynthesisError> {
        let v = cs.alloc_input(value)?;
        Ok(Num {
            lc: Lc::var(v),
            value,
        })
    }

    /// A constant.
    pub fn constant(c: Fr) -> Num {
        Num {
            lc: Lc::constant(c),
            value: Some(c),
        }
    }

    /// A combination and its value.
    pub fn from_lc(lc: Lc, value: Option<Fr>) -> Num {
        Num { lc, value }
    }

    /// The combination.
    pub fn lc(&self) -> &Lc {
        &self.lc
    }

    /// The value, when known.
    pub fn value(&self) -> Option<Fr> {
        self.value
    }

    /// The constant this is, if it is one.
    pub fn as_constant(&self) -> Option<Fr> {
        self.lc.as_constant()
    }

    /// `self + other`: free.
    pub fn add(&self, other: &Num) -> Num {
        Num {
            lc: self.lc.clone().add_lc(Fr::one(), &other.lc),
            value: both(self.value, other.value).map(|(a, b)| a + b),
        }
    }

    /// Enforces `self = other`.
    pub fn enforce_equal<CS: ConstraintSystem>(&self, cs: &mut CS, other: &Num) {
        cs.enforce(&self.lc, &Lc::one(), &other.lc);
    }

    /// `self²`... as a new variable: one constraint.
    pub fn square<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<Num, SynthesisError> {
        self.mul(cs, self)
    }

    /// `self · other` as a new variable: one constraint (or none with a
    /// constant).
    pub fn mul<CS: ConstraintSystem>(
        &self,
        cs: &mut CS,
        other: &Num,
    ) -> Result<Num, SynthesisError> {
        let value = both(self.value, other.value).map(|(a, b)| a * b);
        if let Some(k) = self.as_constant() {
            return Ok(Num::from_lc(Lc::zero().add_lc(k, &other.lc), value));
        }
        if let Some(k) = other.as_constant() {
            return Ok(Num::from_lc(Lc::zero().add_lc(k, &self.lc), value));
        }
        let v = cs.alloc(value)?;
        cs.enforce(&self.lc, &other.lc, &Lc::var(v));
        Ok(Num {
            lc: Lc::var(v),
            value,
        })
    }

    /// Decomposes a value known to be below 2^`n` (n ≤ 254) into `n` new
    /// bits, least significant first: `n` booleanity constraints and one
    /// packing constraint. With n ≤ 254 < log2(p) the decomposition is
    /// unique, so the bits are bound to the value.
    pub fn to_bits_le<CS: ConstraintSystem>(
        &self,
        cs: &mut CS,
        n: usize,
    ) -> Result<Vec<Boolean>, SynthesisError> {
        if n > 254 {
            return Err(SynthesisError::Malformed(format!(
                "{n}-bit decomposition is not unique"
            )));
        }
        let repr = self.value.map(|v| v.into_bigint());
        let mut bits = Vec::with_capacity(n);
        let mut packed = Lc::zero();
        let mut coeff = Fr::one();
        for i in 0..n {
            let b = Bit::alloc(cs, repr.as_ref().map(|r| r.get_bit(i)))?;
            packed = packed.add(coeff, b.var);
            coeff.double_in_place();
            bits.push(Boolean::Is(b));
        }
        cs.enforce(&self.lc, &Lc::one(), &packed);
        Ok(bits)
    }

    /// The number `Σ 2^i bits[i]` (least significant first): free.
    pub fn from_bits_le(bits: &[Boolean]) -> Num {
        let mut lc = Lc::zero();
        let mut value = Some(Fr::zero());
        let mut coeff = Fr::one();
        for b in bits {
            lc = b.add_to(lc, coeff);
            value = both(value, b.value()).map(|(v, b)| if b { v + coeff } else { v });
            coeff.double_in_place();
        }
        Num { lc, value }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::cs::{Counter, TestCs};
    use super::*;

    fn alloc_word(cs: &mut TestCs, v: u32) -> UInt32 {
        UInt32::from_bits_le(std::array::from_fn(|i| {
            Boolean::alloc(cs, Some((v >> i) & 1 == 1)).unwrap()
        }))
    }

    #[test]
    fn boolean_ops_match_their_truth_tables() {
        for bits in 0..8u8 {
            let (a, b, c) = (bits & 1 == 1, bits & 2 == 2, bits & 4 == 4);
            for consts in 0..8u8 {
                let mut cs = TestCs::new();
                let mut mk = |v: bool, k: bool| {
                    if k {
                        Boolean::Const(v)
                    } else {
                        Boolean::alloc(&mut cs, Some(v)).unwrap()
                    }
                };
                let (x, y, z) = (
                    mk(a, consts & 1 == 1),
                    mk(b, consts & 2 == 2),
                    mk(c, consts & 4 == 4),
                );
                let xor = Boolean::xor(&mut cs, &x, &y.not()).unwrap();
                let and = Boolean::and(&mut cs, &x.not(), &z).unwrap();
                let ch = Boolean::ch(&mut cs, &x, &y, &z).unwrap();
                let maj = Boolean::maj(&mut cs, &x, &y, &z).unwrap();
                assert_eq!(xor.value(), Some(a ^ !b));
                assert_eq!(and.value(), Some(!a & c));
                assert_eq!(ch.value(), Some(if a { b } else { c }));
                assert_eq!(maj.value(), Some((a & b) | (a & c) | (b & c)));
                assert!(cs.is_satisfied(), "{bits} {consts}");
            }
        }
    }

    #[test]
    fn a_wrong_xor_output_is_unsatisfied() {
        let mut cs = TestCs::new();
        let x = Boolean::alloc(&mut cs, Some(true)).unwrap();
        let y = Boolean::alloc(&mut cs, Some(false)).unwrap();
        let z = Boolean::xor(&mut cs, &x, &y).unwrap();
        assert!(cs.is_satisfied());
        let Boolean::Is(bit) = z else { panic!() };
        let Variable::Aux(i) = bit.var() else {
            panic!()
        };
        cs.values.aux[i as usize] = Fr::zero();
        assert!(!cs.is_satisfied());
    }

    #[test]
    fn add_many_wraps_mod_2_32() {
        let mut cs = TestCs::new();
        let vals = [u32::MAX, 0x8000_0001, 12345, 0xdead_beef];
        let words: Vec<UInt32> = vals.iter().map(|&v| alloc_word(&mut cs, v)).collect();
        let refs: Vec<&UInt32> = words.iter().collect();
        let before = cs.constraints();
        let sum = UInt32::add_many(&mut cs, &refs, 0x428a_2f98).unwrap();
        let want = vals.iter().fold(0x428a_2f98u32, |a, &v| a.wrapping_add(v));
        assert_eq!(sum.value(), Some(want));
        // 4 words + a constant < 5 · 2^32: 35 bits, 35 booleanity + 1.
        assert_eq!(cs.constraints() - before, 36);
        assert!(cs.is_satisfied());
        let c = UInt32::add_many(&mut cs, &[&UInt32::constant(7)], 9).unwrap();
        assert_eq!(c.value(), Some(16));
    }

    #[test]
    fn bit_decomposition_round_trips_and_binds() {
        let mut cs = TestCs::new();
        let x = Num::alloc(&mut cs, Some(Fr::from(0b1011_0110u64))).unwrap();
        let bits = x.to_bits_le(&mut cs, 10).unwrap();
        assert_eq!(Num::from_bits_le(&bits).value(), x.value());
        assert!(cs.is_satisfied());
        let mut count = Counter::default();
        let y = Num::alloc(&mut count, None).unwrap();
        y.to_bits_le(&mut count, 254).unwrap();
        assert_eq!(count.constraints, 255);
        // Too large for 10 bits: the packing constraint fails.
        let mut cs = TestCs::new();
        let x = Num::alloc(&mut cs, Some(Fr::from(5000u64))).unwrap();
        x.to_bits_le(&mut cs, 10).unwrap();
        assert!(!cs.is_satisfied());
    }
}
