//! Content addressing for Cairn: UnixFS DAGs, dag-pb and CAR v1.
//!
//! Everything here is pure and streaming: bytes in, blocks out, no I/O but
//! the readers and writers it is handed, except [`fs`], which walks a
//! directory on disk for `cairn add -r` and feeds the pure builders. Root
//! CIDs equal kubo's for the same bytes and [`Profile`] (files, directories
//! and HAMT shards alike), and every block read from elsewhere is checked
//! against its CID before it is believed.
//!
//! Module tour:
//! - [`varint`]: LEB128 varints (protobuf, multiformats, CAR framing);
//! - [`pb`]: the dag-pb codec;
//! - [`unixfs`]: the UnixFS `Data` message;
//! - [`profile`]: import settings (`unixfs-v1-2025`, `kubo-legacy`);
//! - [`file`](mod@file): the streaming balanced file builder;
//! - [`dir`]: directories, plain or sharded by kubo's size rule;
//! - [`hamt`]: the HAMT shard layout, murmur3 and shard decoding;
//! - [`fs`]: `add -r` for a directory on disk (the one module that does
//!   its own I/O);
//! - [`reader`]: file reads (whole or ranged) from any [`BlockSource`];
//! - [`path`]: path resolution and directory listing over any [`BlockSource`];
//! - [`car`]: CAR v1 writer and verifying streaming reader.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]
#![deny(missing_docs)]

pub mod car;
mod cbor;
pub mod dir;
pub mod file;
pub mod fs;
pub mod hamt;
pub mod path;
pub mod pb;
pub mod profile;
pub mod reader;
pub mod unixfs;
pub mod varint;

use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};

pub use dir::{DirBuilder, DirError, DirRoot};
pub use file::{FileBuilder, FileRoot, build_file, file_cid};
pub use fs::{AddError, AddOptions, add_dir};
pub use path::{DirLink, list_dir, resolve_path};
pub use profile::{Layout, Profile};
pub use reader::{BlockSource, DagError};

/// Multicodec of dag-pb blocks.
pub const CODEC_DAG_PB: u64 = 0x70;
/// Multicodec of raw blocks.
pub const CODEC_RAW: u64 = 0x55;
/// Multicodec of dag-cbor blocks.
pub const CODEC_DAG_CBOR: u64 = 0x71;
/// Multihash code of sha2-256.
pub const MH_SHA2_256: u64 = 0x12;
/// Multihash code of the identity "hash".
pub const MH_IDENTITY: u64 = 0x00;

/// A block: its CID and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The block's CID.
    pub cid: Cid,
    /// The block's bytes.
    pub data: Vec<u8>,
}

/// The sha2-256 multihash of `data`.
pub fn sha256_multihash(data: &[u8]) -> Multihash<64> {
    let digest = Sha256::digest(data);
    // A 32-byte digest always fits a 64-byte multihash.
    Multihash::wrap(MH_SHA2_256, digest.as_slice()).unwrap_or_default()
}

/// Why a block does not match its CID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bytes hash to something else.
    #[error("block {cid} does not match its CID: its bytes hash to {actual}")]
    HashMismatch {
        /// The CID the block claimed.
        cid: Cid,
        /// Hex of the digest the bytes actually have.
        actual: String,
    },
    /// A hash function we cannot check.
    #[error("block {cid} uses multihash code {code:#x}, which Cairn cannot verify")]
    UnsupportedHash {
        /// The CID.
        cid: Cid,
        /// Its multihash code.
        code: u64,
    },
}

/// Checks that `data` is the block `cid` names.
pub fn verify_block(cid: &Cid, data: &[u8]) -> Result<(), VerifyError> {
    let mh = cid.hash();
    match mh.code() {
        MH_SHA2_256 => {
            let digest = Sha256::digest(data);
            if digest.as_slice() == mh.digest() {
                Ok(())
            } else {
                Err(VerifyError::HashMismatch {
                    cid: *cid,
                    actual: hex(digest.as_slice()),
                })
            }
        }
        MH_IDENTITY => {
            if mh.digest() == data {
                Ok(())
            } else {
                Err(VerifyError::HashMismatch {
                    cid: *cid,
                    actual: hex(data),
                })
            }
        }
        code => Err(VerifyError::UnsupportedHash { cid: *cid, code }),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The links of a block, for traversal: dag-pb links in order, none for raw
/// blocks and for codecs whose links Cairn does not read.
pub fn block_links(cid: &Cid, data: &[u8]) -> Result<Vec<Cid>, pb::PbError> {
    if cid.codec() == CODEC_DAG_PB {
        Ok(pb::PbNode::decode(data)?
            .links
            .into_iter()
            .map(|l| l.cid)
            .collect())
    } else {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_the_block_and_rejects_others() {
        let cid = Profile::UnixfsV1_2025.raw_leaf_cid(b"abc");
        assert_eq!(verify_block(&cid, b"abc"), Ok(()));
        assert!(matches!(
            verify_block(&cid, b"abd"),
            Err(VerifyError::HashMismatch { .. })
        ));
    }
}
