//! Gadgets: the building blocks the circuits are made of.

pub mod bits;
pub mod merkle;
pub mod poseidon;
pub mod sha256;
