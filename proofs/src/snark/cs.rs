//! Rank-1 constraint systems: the one interface every circuit is written
//! against, and the systems that consume it.
//!
//! A circuit allocates variables (public inputs and private witnesses) and
//! enforces constraints `⟨a, z⟩ · ⟨b, z⟩ = ⟨c, z⟩`, where `a`, `b`, `c` are
//! linear combinations ([`Lc`]) of the variables `z` (with the constant
//! [`Variable::One`] first). The same synthesis code runs against:
//!
//! - [`Counter`]: counts constraints and variables (sizes, pinned in tests);
//! - [`TestCs`]: keeps every constraint and value and names the first
//!   unsatisfied constraint (the circuit tests);
//! - the Groth16 key generator and prover in [`super::groth16`], which
//!   evaluate each constraint as it is enforced instead of storing matrices
//!   (bellperson's design: the 2.7 M-constraint PoRep circuit never exists
//!   as a matrix in memory).
//!
//! This is our own small interface rather than `ark-relations`' because
//! the prover needs exactly that streaming evaluation, and because
//! gadgets here fold constants and share linear combinations in ways that
//! keep the PoRep circuit at rust-fil-proofs' size (see ARCHITECTURE.md).

use ark_ff::{One, Zero};

use crate::field::Fr;

/// A variable of the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variable {
    /// The constant 1.
    One,
    /// Public input `i` (0-based, not counting `One`).
    Input(u32),
    /// Private witness `i`.
    Aux(u32),
}

/// A linear combination `Σ coeff · var`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lc {
    terms: Vec<(Variable, Fr)>,
}

impl Lc {
    /// The empty combination (zero).
    pub fn zero() -> Self {
        Lc { terms: Vec::new() }
    }

    /// `1 · var`.
    pub fn var(v: Variable) -> Self {
        Lc {
            terms: vec![(v, Fr::one())],
        }
    }

    /// The constant `c`.
    pub fn constant(c: Fr) -> Self {
        if c.is_zero() {
            return Lc::zero();
        }
        Lc {
            terms: vec![(Variable::One, c)],
        }
    }

    /// The constant 1.
    pub fn one() -> Self {
        Lc::var(Variable::One)
    }

    /// Adds `coeff · v`.
    pub fn add(mut self, coeff: Fr, v: Variable) -> Self {
        if !coeff.is_zero() {
            self.terms.push((v, coeff));
        }
        self
    }

    /// Adds `coeff · other`.
    pub fn add_lc(mut self, coeff: Fr, other: &Lc) -> Self {
        if coeff.is_one() {
            self.terms.extend_from_slice(&other.terms);
        } else if !coeff.is_zero() {
            self.terms
                .extend(other.terms.iter().map(|&(v, c)| (v, c * coeff)));
        }
        self
    }

    /// `self - other`.
    pub fn sub_lc(self, other: &Lc) -> Self {
        self.add_lc(-Fr::one(), other)
    }

    /// The terms, as added (not necessarily merged).
    pub fn terms(&self) -> &[(Variable, Fr)] {
        &self.terms
    }

    /// Merges terms of the same variable and drops zero ones.
    pub fn compact(mut self) -> Self {
        if self.terms.len() < 2 {
            self.terms.retain(|(_, c)| !c.is_zero());
            return self;
        }
        self.terms.sort_unstable_by_key(|&(v, _)| v);
        let mut out: Vec<(Variable, Fr)> = Vec::with_capacity(self.terms.len());
        for (v, c) in self.terms {
            match out.last_mut() {
                Some((lv, lc)) if *lv == v => *lc += c,
                _ => out.push((v, c)),
            }
        }
        out.retain(|(_, c)| !c.is_zero());
        Lc { terms: out }
    }

    /// The constant this combination is, if it uses no variable but `One`.
    pub fn as_constant(&self) -> Option<Fr> {
        self.terms.iter().try_fold(Fr::zero(), |acc, &(v, c)| {
            (v == Variable::One).then(|| acc + c)
        })
    }

    /// Evaluates the combination on an assignment.
    pub fn eval(&self, inputs: &[Fr], aux: &[Fr]) -> Option<Fr> {
        let mut acc = Fr::zero();
        for &(v, c) in &self.terms {
            let x = match v {
                Variable::One => Fr::one(),
                Variable::Input(i) => *inputs.get(i as usize)?,
                Variable::Aux(i) => *aux.get(i as usize)?,
            };
            acc += c * x;
        }
        Some(acc)
    }
}

/// Why synthesis failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SynthesisError {
    /// A prover needed a value the circuit was not given.
    #[error("a witness value is missing")]
    AssignmentMissing,
    /// The witness does not have the shape the circuit expects (for
    /// example a Merkle path of the wrong height).
    #[error("malformed witness: {0}")]
    Malformed(String),
}

/// What circuits are written against.
pub trait ConstraintSystem {
    /// Whether this system computes values: a prover or checker (true) or
    /// a key generator or counter (false), which gets `None` for every
    /// value and may not need any.
    fn needs_values(&self) -> bool;

    /// A new private variable.
    fn alloc(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError>;

    /// A new public input.
    fn alloc_input(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError>;

    /// Enforces `a · b = c`.
    fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc);
}

/// A circuit: a function from a constraint system to constraints.
pub trait Circuit {
    /// Allocates the circuit's variables (inputs first, in the order the
    /// verifier's public inputs list them) and enforces its constraints.
    fn synthesize<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<(), SynthesisError>;
}

/// Counts constraints and variables; needs no values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Constraints enforced.
    pub constraints: usize,
    /// Public inputs allocated (not counting `One`).
    pub inputs: usize,
    /// Private variables allocated.
    pub aux: usize,
}

impl Counter {
    /// Sizes of `circuit`.
    pub fn of<C: Circuit>(circuit: &C) -> Result<Counter, SynthesisError> {
        let mut cs = Counter::default();
        circuit.synthesize(&mut cs)?;
        Ok(cs)
    }
}

impl ConstraintSystem for Counter {
    fn needs_values(&self) -> bool {
        false
    }

    fn alloc(&mut self, _: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.aux += 1;
        Ok(Variable::Aux(self.aux as u32 - 1))
    }

    fn alloc_input(&mut self, _: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.inputs += 1;
        Ok(Variable::Input(self.inputs as u32 - 1))
    }

    fn enforce(&mut self, _: &Lc, _: &Lc, _: &Lc) {
        self.constraints += 1;
    }
}

/// The values of the variables allocated so far: what a checker keeps.
#[derive(Debug, Default, Clone)]
pub struct Assignment {
    /// Public input values (not counting `One`).
    pub inputs: Vec<Fr>,
    /// Private values.
    pub aux: Vec<Fr>,
}

impl Assignment {
    fn alloc(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.aux
            .push(value.ok_or(SynthesisError::AssignmentMissing)?);
        Ok(Variable::Aux(self.aux.len() as u32 - 1))
    }

    fn alloc_input(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.inputs
            .push(value.ok_or(SynthesisError::AssignmentMissing)?);
        Ok(Variable::Input(self.inputs.len() as u32 - 1))
    }

    /// The value of a variable.
    pub fn value(&self, v: Variable) -> Option<Fr> {
        match v {
            Variable::One => Some(Fr::one()),
            Variable::Input(i) => self.inputs.get(i as usize).copied(),
            Variable::Aux(i) => self.aux.get(i as usize).copied(),
        }
    }

    /// Whether `a · b = c` holds on these values.
    fn holds(&self, a: &Lc, b: &Lc, c: &Lc) -> bool {
        let ev = |l: &Lc| l.eval(&self.inputs, &self.aux);
        matches!((ev(a), ev(b), ev(c)), (Some(a), Some(b), Some(c)) if a * b == c)
    }
}

/// Keeps everything, for tests: which constraint fails, if any, also after
/// a test changes a value.
#[derive(Debug, Default)]
pub struct TestCs {
    /// The values; tests may tamper with them and check again.
    pub values: Assignment,
    constraints: Vec<(Lc, Lc, Lc)>,
}

impl TestCs {
    /// An empty system.
    pub fn new() -> Self {
        TestCs::default()
    }

    /// Constraints enforced so far.
    pub fn constraints(&self) -> usize {
        self.constraints.len()
    }

    /// The index of the first unsatisfied constraint, if any.
    pub fn which_unsatisfied(&self) -> Option<usize> {
        self.constraints
            .iter()
            .position(|(a, b, c)| !self.values.holds(a, b, c))
    }

    /// Whether every constraint holds.
    pub fn is_satisfied(&self) -> bool {
        self.which_unsatisfied().is_none()
    }
}

impl ConstraintSystem for TestCs {
    fn needs_values(&self) -> bool {
        true
    }

    fn alloc(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.values.alloc(value)
    }

    fn alloc_input(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.values.alloc_input(value)
    }

    fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc) {
        self.constraints.push((a.clone(), b.clone(), c.clone()));
    }
}

/// Checks a witness as it is synthesized, keeping only values: for
/// circuits too large to keep every constraint (the PoRep circuit).
#[derive(Debug, Default)]
pub struct CheckCs {
    values: Assignment,
    constraints: usize,
    first_unsatisfied: Option<usize>,
}

impl CheckCs {
    /// An empty system.
    pub fn new() -> Self {
        CheckCs::default()
    }

    /// Constraints enforced so far.
    pub fn constraints(&self) -> usize {
        self.constraints
    }

    /// The index of the first unsatisfied constraint, if any.
    pub fn which_unsatisfied(&self) -> Option<usize> {
        self.first_unsatisfied
    }

    /// Whether every constraint held.
    pub fn is_satisfied(&self) -> bool {
        self.first_unsatisfied.is_none()
    }

    /// The public inputs allocated (not counting `One`).
    pub fn inputs(&self) -> &[Fr] {
        &self.values.inputs
    }
}

impl ConstraintSystem for CheckCs {
    fn needs_values(&self) -> bool {
        true
    }

    fn alloc(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.values.alloc(value)
    }

    fn alloc_input(&mut self, value: Option<Fr>) -> Result<Variable, SynthesisError> {
        self.values.alloc_input(value)
    }

    fn enforce(&mut self, a: &Lc, b: &Lc, c: &Lc) {
        if self.first_unsatisfied.is_none() && !self.values.holds(a, b, c) {
            self.first_unsatisfied = Some(self.constraints);
        }
        self.constraints += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_merges_and_drops() {
        let x = Variable::Aux(0);
        let y = Variable::Input(0);
        let lc = Lc::var(x)
            .add(Fr::from(2u64), y)
            .add(Fr::from(3u64), x)
            .add(-Fr::from(2u64), y)
            .compact();
        assert_eq!(lc.terms(), &[(x, Fr::from(4u64))]);
        assert_eq!(
            Lc::constant(Fr::from(5u64)).as_constant(),
            Some(Fr::from(5u64))
        );
        assert_eq!(lc.as_constant(), None);
    }

    #[test]
    fn test_cs_finds_the_failing_constraint() {
        let mut cs = TestCs::new();
        let x = cs.alloc(Some(Fr::from(3u64))).unwrap();
        let y = cs.alloc_input(Some(Fr::from(9u64))).unwrap();
        cs.enforce(&Lc::var(x), &Lc::var(x), &Lc::var(y));
        assert!(cs.is_satisfied());
        cs.enforce(&Lc::var(x), &Lc::one(), &Lc::var(y));
        assert_eq!(cs.which_unsatisfied(), Some(1));
        assert!(matches!(
            cs.alloc(None),
            Err(SynthesisError::AssignmentMissing)
        ));
    }
}
