//! SNARKs: the PoRep and WindowPoSt circuits and Groth16 over BLS12-381.
//!
//! - [`cs`]: the constraint-system interface circuits are written against;
//! - [`gadgets`]: bits and words, SHA-256, Poseidon, Merkle paths;
//! - [`groth16`], [`params`], [`backend`], [`msm`]: proving, keys, the
//!   prover backend seam and the dense G1 MSM;
//! - [`prove`]: Commit 2 and WindowPoSt proofs as the ledger takes them.

pub mod backend;
pub mod cs;
pub mod gadgets;
pub mod groth16;
pub mod msm;
pub mod params;
pub mod porep_circuit;
pub mod post_circuit;
pub mod prove;
