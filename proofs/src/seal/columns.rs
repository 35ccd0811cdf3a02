//! The label layers of a sector read as tree_c's leaves: each node's
//! column of labels, hashed with Poseidon in batches on a prover backend.

use std::fs::File;
use std::io;
use std::path::Path;

use super::{SealError, io_err};
use crate::commp::Node;
use crate::field::{Fr, fr_from_le_bytes, fr_to_le_bytes};
use crate::poseidon;
use crate::sdr::layer_file_name;
use crate::snark::backend::{CpuBackend, ProverBackend};
use crate::tree::{LeafSource, NodeFile};

/// The label layers of a sector as tree_c's leaves: node `i`'s leaf is the
/// Poseidon hash of its labels in every layer.
#[derive(Debug)]
pub struct Columns<'a> {
    layers: Vec<File>,
    backend: &'a dyn ProverBackend,
}

impl Columns<'static> {
    /// Opens the `layers` layer files in `cache_dir`; columns hash on the
    /// CPU.
    pub fn open(cache_dir: &Path, layers: u32) -> Result<Self, SealError> {
        Columns::open_with(cache_dir, layers, &CpuBackend)
    }
}

impl<'a> Columns<'a> {
    /// Opens the `layers` layer files in `cache_dir`; columns hash on
    /// `backend`.
    pub fn open_with(
        cache_dir: &Path,
        layers: u32,
        backend: &'a dyn ProverBackend,
    ) -> Result<Self, SealError> {
        let files = (1..=layers)
            .map(|l| {
                let p = cache_dir.join(layer_file_name(l));
                File::open(&p).map_err(io_err(&p))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            layers: files,
            backend,
        })
    }

    /// Labels of `node` in every layer, layer 1 first.
    pub fn column(&self, node: u64) -> io::Result<Vec<Node>> {
        let mut col = Vec::with_capacity(self.layers.len());
        for f in &self.layers {
            let mut n = [[0u8; 32]];
            NodeFile::read_at(f, node, &mut n)?;
            col.extend_from_slice(&n);
        }
        Ok(col)
    }
}

/// The Poseidon hash of one column of labels (2 or 11 of them).
pub fn hash_column(labels: &[Node]) -> io::Result<Node> {
    let frs: Vec<Fr> = labels
        .iter()
        .map(fr_from_le_bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    poseidon::hash_column(&frs)
        .map(fr_to_le_bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

impl LeafSource for Columns<'_> {
    /// Hashes the columns in batches on the backend (the CPU's: eight at a
    /// time with AVX-512 IFMA where present).
    fn read_leaves(&self, start: u64, out: &mut [Node]) -> io::Result<()> {
        let n = out.len();
        if n == 0 {
            return Ok(());
        }
        // Layer after layer: the layout the batch hash takes.
        let mut rows = vec![[0u8; 32]; n * self.layers.len()];
        for (f, row) in self.layers.iter().zip(rows.chunks_exact_mut(n)) {
            NodeFile::read_at(f, start, row)?;
        }
        let invalid = |e| io::Error::new(io::ErrorKind::InvalidData, e);
        let poisoned = self
            .backend
            .poseidon_columns(&rows, out, [0xff; 32])
            .map_err(invalid)?;
        if poisoned > 0 {
            // Name a label that is not a field element, as `hash_column`.
            if let Some(Err(e)) = rows.iter().map(fr_from_le_bytes).find(Result::is_err) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
        Ok(())
    }
}
