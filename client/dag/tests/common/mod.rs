//! Helpers shared by the integration tests: the oracle's content generators
//! and directory layouts, and an in-memory block store.

#![allow(dead_code)]

use std::collections::HashMap;

use cairn_dag::{Block, DirBuilder, DirError, DirRoot, FileRoot, Profile, build_file};
use cid::Cid;

/// Blocks by CID; also a `BlockSource`.
pub type Store = HashMap<Cid, Vec<u8>>;

/// A sink that keeps every block in `store`.
pub fn keep(store: &mut Store) -> impl FnMut(Block) -> Result<(), DirError> + '_ {
    |b: Block| {
        store.insert(b.cid, b.data);
        Ok(())
    }
}

/// The oracle's xorshift64* content: state `0x9E3779B97F4A7C15 ^ n`, eight
/// bytes per step, little-endian, truncated to `n`.
#[derive(Debug)]
pub struct Xorshift {
    state: u64,
    left: u64,
}

impl Xorshift {
    pub fn new(n: u64) -> Xorshift {
        Xorshift {
            state: 0x9E37_79B9_7F4A_7C15 ^ n,
            left: n,
        }
    }

    /// The next piece (at most `max` bytes, a multiple of 8 unless it is the
    /// last); empty when done.
    pub fn fill(&mut self, buf: &mut Vec<u8>, max: usize) {
        buf.clear();
        let len = (self.left as usize).min(max);
        buf.reserve(len + 8);
        while buf.len() < len {
            let mut x = self.state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.state = x;
            buf.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
        buf.truncate(len);
        self.left -= len as u64;
    }
}

/// All `n` xorshift bytes at once (small sizes only).
pub fn xorshift_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    Xorshift::new(n as u64).fill(&mut out, n);
    out
}

/// The oracle's HAMT test directory entry names: `file-00000` and on.
pub fn hamt_name(i: usize) -> String {
    format!("file-{i:05}")
}

/// Builds the oracle's `hamt-N` directory: N files, each holding its own
/// name. Returns the directory root and the profile's size estimate; every
/// block lands in `store`.
pub fn hamt_dir(profile: Profile, n: usize, store: &mut Store) -> (DirRoot, u64) {
    let mut dir = DirBuilder::new(profile);
    for i in 0..n {
        let name = hamt_name(i);
        let file = file(profile, name.as_bytes(), store);
        dir.add_file(name, &file).unwrap_or_else(|e| panic!("{e}"));
    }
    let estimate = dir.estimated_size();
    (
        dir.finish(&mut keep(store))
            .unwrap_or_else(|e| panic!("{e}")),
        estimate,
    )
}

/// Builds one file into `store`.
pub fn file(profile: Profile, data: &[u8], store: &mut Store) -> FileRoot {
    build_file(profile, data, &mut keep(store)).unwrap_or_else(|e| panic!("{e}"))
}

/// The oracle's `small` directory: `{a.txt: "hello world", sub/b.bin:
/// xorshift(1000)}`. Returns (root, sub).
pub fn small_dir(profile: Profile, store: &mut Store) -> (DirRoot, DirRoot) {
    let mut sub = DirBuilder::new(profile);
    let b = file(profile, &xorshift_bytes(1000), store);
    sub.add_file("b.bin", &b).unwrap_or_else(|e| panic!("{e}"));
    let sub = sub
        .finish(&mut keep(store))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut root = DirBuilder::new(profile);
    let a = file(profile, b"hello world", store);
    root.add_file("a.txt", &a).unwrap_or_else(|e| panic!("{e}"));
    root.add_dir("sub", &sub).unwrap_or_else(|e| panic!("{e}"));
    let root = root
        .finish(&mut keep(store))
        .unwrap_or_else(|e| panic!("{e}"));
    (root, sub)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
