//! Reading files back out of a DAG, whole or by byte range.
//!
//! [`FileReader`] walks a UnixFS file depth-first, fetching each block from a
//! [`BlockSource`], checking it against its CID, and yielding the file's
//! bytes in order. Subtrees outside the requested range are skipped using
//! the parents' `blocksizes`, so a ranged read of a huge file touches only
//! the blocks on its path. Memory is one block plus the pending links of the
//! current path.

use std::collections::HashMap;

use cid::Cid;

use crate::pb::{PbError, PbNode};
use crate::unixfs::{DataType, UnixFsData, UnixFsError};
use crate::{CODEC_DAG_PB, CODEC_RAW, VerifyError, verify_block};

/// Where blocks come from: a local store, a CAR, the network.
pub trait BlockSource {
    /// The block named by `cid` (matched by multihash), or `None` if absent.
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError>;
}

/// An error from a [`BlockSource`] implementation.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

impl BlockSource for HashMap<Cid, Vec<u8>> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self.get(cid).cloned())
    }
}

/// How deep a DAG may be before we call it hostile.
pub const MAX_DEPTH: usize = 64;

/// Why a DAG could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DagError {
    /// A block the DAG links to is not available.
    #[error("block {cid} is missing")]
    MissingBlock {
        /// The absent block.
        cid: Cid,
    },
    /// The block source failed.
    #[error("reading block {cid}: {source}")]
    Source {
        /// The block being read.
        cid: Cid,
        /// The source's error.
        source: SourceError,
    },
    /// A block does not match its CID.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// A dag-pb block is malformed.
    #[error("block {cid}: {source}")]
    Pb {
        /// The block.
        cid: Cid,
        /// What was wrong.
        source: PbError,
    },
    /// A UnixFS data field is malformed.
    #[error("block {cid}: {source}")]
    UnixFs {
        /// The block.
        cid: Cid,
        /// What was wrong.
        source: UnixFsError,
    },
    /// A block of a codec that cannot be part of a UnixFS file.
    #[error("block {cid} has codec {codec:#x}, not dag-pb or raw")]
    UnsupportedCodec {
        /// The block.
        cid: Cid,
        /// Its codec.
        codec: u64,
    },
    /// The node is a directory, symlink or shard where a file was expected.
    #[error("{cid} is a {kind}, not a file")]
    NotAFile {
        /// The node.
        cid: Cid,
        /// What it is instead.
        kind: &'static str,
    },
    /// Sizes recorded in the DAG disagree with the blocks.
    #[error("block {cid} is inconsistent: {reason}")]
    Inconsistent {
        /// The block.
        cid: Cid,
        /// What disagreed.
        reason: &'static str,
    },
    /// The DAG is deeper than [`MAX_DEPTH`].
    #[error("DAG under {cid} is deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// The block where the limit was hit.
        cid: Cid,
    },
    /// A path names an entry its directory does not have.
    #[error("{path}: no such entry in directory {parent}")]
    NotFound {
        /// The path up to and including the missing segment, `/`-joined.
        path: String,
        /// The directory (or shard root) that was searched.
        parent: Cid,
    },
    /// A path segment was looked up in something that is not a directory.
    #[error("cannot resolve {segment:?} under {path:?}: {cid} is a {kind}, not a directory")]
    NotADirectory {
        /// The path of the node that is not a directory (`""` for the root).
        path: String,
        /// The segment that was to be looked up in it.
        segment: String,
        /// The node.
        cid: Cid,
        /// What it is instead.
        kind: &'static str,
    },
}

/// Fetches `cid` from `source` and checks it against its CID.
pub fn fetch_verified(source: &dyn BlockSource, cid: &Cid) -> Result<Vec<u8>, DagError> {
    let data = source
        .get_block(cid)
        .map_err(|source| DagError::Source { cid: *cid, source })?
        .ok_or(DagError::MissingBlock { cid: *cid })?;
    verify_block(cid, &data)?;
    Ok(data)
}

/// A file node's decoded content.
enum FileNode {
    Leaf(Vec<u8>),
    Branch {
        inline: Vec<u8>,
        children: Vec<(Cid, u64)>,
    },
}

pub(crate) fn kind_name(kind: DataType) -> &'static str {
    match kind {
        DataType::Directory => "directory",
        DataType::HamtShard => "sharded directory",
        DataType::Symlink => "symlink",
        DataType::Metadata => "metadata node",
        DataType::Raw | DataType::File => "file",
    }
}

fn decode_file_node(cid: &Cid, block: Vec<u8>) -> Result<(FileNode, u64), DagError> {
    match cid.codec() {
        CODEC_RAW => {
            let len = block.len() as u64;
            Ok((FileNode::Leaf(block), len))
        }
        CODEC_DAG_PB => {
            let node =
                PbNode::decode(&block).map_err(|source| DagError::Pb { cid: *cid, source })?;
            let data = node.data.unwrap_or_default();
            let fs = UnixFsData::decode(&data)
                .map_err(|source| DagError::UnixFs { cid: *cid, source })?;
            if !matches!(fs.kind, DataType::File | DataType::Raw) {
                return Err(DagError::NotAFile {
                    cid: *cid,
                    kind: kind_name(fs.kind),
                });
            }
            let inline = fs.data.unwrap_or_default();
            if node.links.is_empty() {
                let len = inline.len() as u64;
                return Ok((FileNode::Leaf(inline), len));
            }
            if fs.blocksizes.len() != node.links.len() {
                return Err(DagError::Inconsistent {
                    cid: *cid,
                    reason: "blocksizes and links differ in number",
                });
            }
            let below: u64 = fs
                .blocksizes
                .iter()
                .try_fold(0u64, |a, &b| a.checked_add(b))
                .ok_or(DagError::Inconsistent {
                    cid: *cid,
                    reason: "blocksizes overflow",
                })?;
            let total = below + inline.len() as u64;
            if fs.filesize.is_some_and(|f| f != total) {
                return Err(DagError::Inconsistent {
                    cid: *cid,
                    reason: "filesize is not the sum of blocksizes",
                });
            }
            let children = node
                .links
                .into_iter()
                .map(|l| l.cid)
                .zip(fs.blocksizes)
                .collect();
            Ok((FileNode::Branch { inline, children }, total))
        }
        codec => Err(DagError::UnsupportedCodec { cid: *cid, codec }),
    }
}

/// The byte size of the file rooted at `root` (one block read).
pub fn file_size(source: &dyn BlockSource, root: &Cid) -> Result<u64, DagError> {
    let block = fetch_verified(source, root)?;
    decode_file_node(root, block).map(|(_, size)| size)
}

struct Pending {
    cid: Cid,
    offset: u64,
    size: Option<u64>,
    depth: usize,
}

/// Streams a file's bytes (or a range of them) in order.
pub struct FileReader<'a> {
    source: &'a dyn BlockSource,
    stack: Vec<Pending>,
    start: u64,
    end: u64,
}

impl std::fmt::Debug for FileReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("pending", &self.stack.len())
            .field("start", &self.start)
            .field("end", &self.end)
            .finish()
    }
}

impl<'a> FileReader<'a> {
    /// Reads the whole file.
    pub fn new(source: &'a dyn BlockSource, root: Cid) -> FileReader<'a> {
        FileReader::range(source, root, 0, u64::MAX)
    }

    /// Reads bytes `start..end` of the file (clamped to its size).
    pub fn range(source: &'a dyn BlockSource, root: Cid, start: u64, end: u64) -> FileReader<'a> {
        FileReader {
            source,
            stack: vec![Pending {
                cid: root,
                offset: 0,
                size: None,
                depth: 0,
            }],
            start,
            end,
        }
    }

    fn step(&mut self) -> Result<Option<Vec<u8>>, DagError> {
        while let Some(item) = self.stack.pop() {
            if let Some(size) = item.size
                && (item.offset.saturating_add(size) <= self.start || item.offset >= self.end)
                && !(size == 0 && item.offset == self.start)
            {
                continue;
            }
            if item.depth > MAX_DEPTH {
                return Err(DagError::TooDeep { cid: item.cid });
            }
            let block = fetch_verified(self.source, &item.cid)?;
            let (node, size) = decode_file_node(&item.cid, block)?;
            if item.size.is_some_and(|s| s != size) {
                return Err(DagError::Inconsistent {
                    cid: item.cid,
                    reason: "size differs from the parent's blocksizes",
                });
            }
            match node {
                FileNode::Leaf(data) => return Ok(Some(self.clip(item.offset, data))),
                FileNode::Branch { inline, children } => {
                    let mut offset = item.offset + inline.len() as u64;
                    let mut pending = Vec::with_capacity(children.len());
                    for (cid, size) in children {
                        pending.push(Pending {
                            cid,
                            offset,
                            size: Some(size),
                            depth: item.depth + 1,
                        });
                        offset += size;
                    }
                    self.stack.extend(pending.into_iter().rev());
                    if !inline.is_empty() {
                        return Ok(Some(self.clip(item.offset, inline)));
                    }
                }
            }
        }
        Ok(None)
    }

    fn clip(&self, offset: u64, mut data: Vec<u8>) -> Vec<u8> {
        let len = data.len() as u64;
        let from = self.start.saturating_sub(offset).min(len);
        let to = self.end.saturating_sub(offset).min(len);
        if to <= from {
            return Vec::new();
        }
        if from == 0 && to == len {
            return data;
        }
        data.truncate(to as usize);
        data.drain(..from as usize);
        data
    }
}

impl Iterator for FileReader<'_> {
    type Item = Result<Vec<u8>, DagError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.step() {
                Ok(Some(data)) if data.is_empty() && !self.stack.is_empty() => continue,
                Ok(Some(data)) if data.is_empty() => return None,
                Ok(Some(data)) => return Some(Ok(data)),
                Ok(None) => return None,
                Err(e) => {
                    self.stack.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Block, Profile, build_file};

    fn store(profile: Profile, data: &[u8]) -> (Cid, HashMap<Cid, Vec<u8>>) {
        let mut blocks = HashMap::new();
        let root = build_file(profile, data, &mut |b: Block| {
            blocks.insert(b.cid, b.data);
            Ok::<(), ()>(())
        });
        (root.map(|r| r.cid).unwrap_or_default(), blocks)
    }

    fn read(source: &HashMap<Cid, Vec<u8>>, root: Cid, start: u64, end: u64) -> Vec<u8> {
        FileReader::range(source, root, start, end)
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.concat())
            .unwrap_or_else(|e| panic!("read failed: {e}"))
    }

    #[test]
    fn whole_and_ranged_reads_return_the_bytes() {
        let data: Vec<u8> = (0..(600 << 10) + 5).map(|i| (i % 253) as u8).collect();
        for profile in Profile::ALL {
            let (root, blocks) = store(profile, &data);
            assert_eq!(read(&blocks, root, 0, u64::MAX), data, "{profile}");
            assert_eq!(file_size(&blocks, &root).ok(), Some(data.len() as u64));
            for (start, end) in [
                (0, 1),
                (262_143, 262_145),
                (100, 600_000),
                (614_000, 700_000),
            ] {
                let want = &data[start as usize..(end as usize).min(data.len())];
                assert_eq!(
                    read(&blocks, root, start, end),
                    want,
                    "{profile} {start}..{end}"
                );
            }
        }
    }

    #[test]
    fn missing_and_corrupt_blocks_are_named() {
        let data = vec![7u8; 300 << 10];
        let (root, mut blocks) = store(Profile::KuboLegacy, &data);
        let leaf = blocks
            .keys()
            .copied()
            .find(|c| *c != root)
            .unwrap_or_default();
        blocks.insert(leaf, b"corrupt".to_vec());
        let err = FileReader::new(&blocks, root).find_map(Result::err);
        assert!(
            matches!(err, Some(DagError::Verify(VerifyError::HashMismatch { cid, .. })) if cid == leaf)
        );
        blocks.remove(&leaf);
        let err = FileReader::new(&blocks, root).find_map(Result::err);
        assert!(matches!(err, Some(DagError::MissingBlock { cid }) if cid == leaf));
    }
}
