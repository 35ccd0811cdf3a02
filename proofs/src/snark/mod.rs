//! SNARKs: the PoRep and WindowPoSt circuits and Groth16 over BLS12-381.
//!
//! - [`cs`]: the constraint-system interface circuits are written against;
//! - [`gadgets`]: bits and words, SHA-256, Poseidon, Merkle paths.

pub mod backend;
pub mod cs;
pub mod gadgets;
pub mod groth16;
pub mod params;
pub mod porep_circuit;
pub mod post_circuit;
