//! Streaming UnixFS file builder with kubo's balanced layout.
//!
//! Bytes go in through [`FileBuilder::write`] in pieces of any size; blocks
//! come out through a sink as soon as they are complete, leaves first and
//! each parent right after its last child. Memory is one chunk plus one
//! pending node per tree level (at most `max_links` links each), whatever
//! the file size.
//!
//! The layout is kubo's "balanced" builder: fixed-size chunks, every leaf at
//! the same depth, each level filled left to right, a one-chunk file is its
//! own leaf, and an internal node may have a single child. Chunk size, width,
//! leaf kind and CID version come from a [`Profile`], or from an explicit
//! [`Layout`] to reproduce DAGs built with other settings.

use cid::Cid;

use crate::pb::{PbLink, PbNode};
use crate::profile::{Layout, LayoutError, raw_cid};
use crate::unixfs::UnixFsData;
use crate::varint;
use crate::{Block, Profile};

/// A finished file DAG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRoot {
    /// The root CID.
    pub cid: Cid,
    /// File bytes.
    pub size: u64,
    /// Bytes of every block in the DAG (the link `Tsize` a parent records).
    pub dag_size: u64,
    /// Number of blocks emitted, duplicates included.
    pub blocks: u64,
}

#[derive(Debug, Clone)]
struct Child {
    cid: Cid,
    file_size: u64,
    dag_size: u64,
}

/// Builds one file's DAG from a byte stream.
#[derive(Debug)]
pub struct FileBuilder {
    layout: Layout,
    chunk: Vec<u8>,
    /// `levels[0]` holds leaves waiting for a parent, `levels[1]` their
    /// parents, and so on.
    levels: Vec<Vec<Child>>,
    size: u64,
    blocks: u64,
}

impl FileBuilder {
    /// A builder for `profile`.
    pub fn new(profile: Profile) -> FileBuilder {
        FileBuilder::unchecked(profile.layout())
    }

    /// A builder for an explicit layout, refused if it breaks
    /// [`Layout::validate`]'s limits.
    pub fn with_layout(layout: Layout) -> Result<FileBuilder, LayoutError> {
        layout.validate()?;
        Ok(FileBuilder::unchecked(layout))
    }

    fn unchecked(layout: Layout) -> FileBuilder {
        FileBuilder {
            layout,
            chunk: Vec::new(),
            levels: vec![Vec::new()],
            size: 0,
            blocks: 0,
        }
    }

    /// The layout in use.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// File bytes taken so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes more file bytes, emitting every block they complete.
    pub fn write<E>(
        &mut self,
        mut data: &[u8],
        sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
    ) -> Result<(), E> {
        let chunk_size = self.layout.chunk_size;
        while !data.is_empty() {
            let room = chunk_size - self.chunk.len();
            let (head, tail) = data.split_at(room.min(data.len()));
            let want = self.chunk.len() + head.len();
            if self.chunk.capacity() < want {
                // A small file's first write gets a buffer its size; anything
                // more gets a whole chunk, so `add -r` of many small files
                // does not map 1 MiB per file.
                let target = if self.chunk.is_empty() {
                    want
                } else {
                    chunk_size
                };
                self.chunk.reserve_exact(target - self.chunk.len());
            }
            self.chunk.extend_from_slice(head);
            self.size += head.len() as u64;
            data = tail;
            if self.chunk.len() == chunk_size {
                self.flush_chunk(sink)?;
            }
        }
        Ok(())
    }

    /// Ends the file: emits the last leaf and every pending parent, and
    /// returns the root.
    pub fn finish<E>(
        mut self,
        sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
    ) -> Result<FileRoot, E> {
        let no_leaves = self.levels.iter().all(Vec::is_empty);
        if !self.chunk.is_empty() || no_leaves {
            self.flush_chunk(sink)?;
        }
        let mut level = 0;
        loop {
            let is_top = level + 1 == self.levels.len();
            let Some(slot) = self.levels.get_mut(level) else {
                // Unreachable: the top level always holds the root. Should
                // it ever be empty, end the file with an empty leaf rather
                // than panic.
                self.flush_chunk(sink)?;
                level = 0;
                continue;
            };
            let mut pending = std::mem::take(slot);
            if is_top
                && pending.len() == 1
                && let Some(root) = pending.pop()
            {
                return Ok(FileRoot {
                    cid: root.cid,
                    size: self.size,
                    dag_size: root.dag_size,
                    blocks: self.blocks,
                });
            }
            if !pending.is_empty() {
                let parent = self.make_parent(pending, sink)?;
                self.push(level + 1, parent, sink)?;
            }
            level += 1;
        }
    }

    fn flush_chunk<E>(
        &mut self,
        sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
    ) -> Result<(), E> {
        let file_size = self.chunk.len() as u64;
        let block = if self.layout.raw_leaves {
            let data = std::mem::take(&mut self.chunk);
            Block {
                cid: raw_cid(&data),
                data,
            }
        } else {
            // Encoded in one exact-size buffer; the chunk buffer is reused.
            let bytes = legacy_leaf(&self.chunk);
            self.chunk.clear();
            Block {
                cid: self.layout.dag_pb_cid(&bytes),
                data: bytes,
            }
        };
        let leaf = Child {
            cid: block.cid,
            file_size,
            dag_size: block.data.len() as u64,
        };
        self.blocks += 1;
        sink(block)?;
        self.push(0, leaf, sink)
    }

    /// Adds `child` at `level`, first closing that level into a parent if it
    /// is full.
    fn push<E>(
        &mut self,
        level: usize,
        child: Child,
        sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
    ) -> Result<(), E> {
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        let full = match self.levels.get_mut(level) {
            Some(pending) if pending.len() == self.layout.max_links => {
                Some(std::mem::take(pending))
            }
            _ => None,
        };
        if let Some(full) = full {
            let parent = self.make_parent(full, sink)?;
            self.push(level + 1, parent, sink)?;
        }
        if let Some(pending) = self.levels.get_mut(level) {
            pending.push(child);
        }
        Ok(())
    }

    fn make_parent<E>(
        &mut self,
        children: Vec<Child>,
        sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
    ) -> Result<Child, E> {
        let file_size = children.iter().map(|c| c.file_size).sum();
        let child_dag: u64 = children.iter().map(|c| c.dag_size).sum();
        let blocksizes = children.iter().map(|c| c.file_size).collect();
        let links = children
            .into_iter()
            .map(|c| PbLink {
                cid: c.cid,
                name: Some(String::new()),
                tsize: Some(c.dag_size),
            })
            .collect();
        let node = PbNode {
            links,
            data: Some(UnixFsData::file(None, file_size, blocksizes).encode()),
        };
        let bytes = node.encode();
        let cid = self.layout.dag_pb_cid(&bytes);
        let dag_size = bytes.len() as u64 + child_dag;
        self.blocks += 1;
        sink(Block { cid, data: bytes })?;
        Ok(Child {
            cid,
            file_size,
            dag_size,
        })
    }
}

/// A dag-pb leaf holding `chunk`: `PBNode { Data: UnixFS { Type: File,
/// Data: chunk (absent when empty), filesize } }`, byte for byte what
/// [`PbNode::encode`] of that node gives, in one allocation and one copy.
fn legacy_leaf(chunk: &[u8]) -> Vec<u8> {
    let n = chunk.len() as u64;
    let data_field = if n > 0 {
        1 + varint::encoded_len(n) as u64 + n
    } else {
        0
    };
    let unixfs_len = 2 + data_field + 1 + varint::encoded_len(n) as u64;
    let mut out = Vec::with_capacity(1 + varint::encoded_len(unixfs_len) + unixfs_len as usize);
    out.push(0x0a);
    varint::encode(unixfs_len, &mut out);
    out.extend_from_slice(&[0x08, 0x02]);
    if n > 0 {
        out.push(0x12);
        varint::encode(n, &mut out);
        out.extend_from_slice(chunk);
    }
    out.push(0x18);
    varint::encode(n, &mut out);
    out
}

/// Builds the DAG of `data` in one call; blocks go to `sink`.
pub fn build_file<E>(
    profile: Profile,
    data: &[u8],
    sink: &mut (impl FnMut(Block) -> Result<(), E> + ?Sized),
) -> Result<FileRoot, E> {
    let mut builder = FileBuilder::new(profile);
    builder.write(data, sink)?;
    builder.finish(sink)
}

/// The root CID of `data` under `profile`, keeping no blocks.
pub fn file_cid(profile: Profile, data: &[u8]) -> Cid {
    let result: Result<FileRoot, std::convert::Infallible> =
        build_file(profile, data, &mut |_| Ok(()));
    match result {
        Ok(root) => root.cid,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_hello_world_vectors() {
        assert_eq!(
            file_cid(Profile::KuboLegacy, b"hello world").to_string(),
            "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
        );
        assert_eq!(
            file_cid(Profile::UnixfsV1_2025, b"hello world").to_string(),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
    }

    #[test]
    fn legacy_leaf_is_the_generic_encoding() {
        for chunk in [&b""[..], b"x", &[7u8; 300][..], &vec![1u8; 256 << 10][..]] {
            let inline = (!chunk.is_empty()).then(|| chunk.to_vec());
            let node = PbNode {
                links: Vec::new(),
                data: Some(UnixFsData::file(inline, chunk.len() as u64, Vec::new()).encode()),
            };
            assert_eq!(legacy_leaf(chunk), node.encode(), "{} bytes", chunk.len());
        }
    }

    #[test]
    fn empty_files() {
        assert_eq!(
            file_cid(Profile::KuboLegacy, b"").to_string(),
            "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
        );
        assert_eq!(
            file_cid(Profile::UnixfsV1_2025, b"").to_string(),
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
    }

    #[test]
    fn write_split_does_not_change_the_cid() {
        let data: Vec<u8> = (0..(3 * (256 << 10) + 17))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let whole = file_cid(Profile::KuboLegacy, &data);
        let mut b = FileBuilder::new(Profile::KuboLegacy);
        let mut sink = |_: Block| Ok::<(), ()>(());
        for piece in data.chunks(1000) {
            assert!(b.write(piece, &mut sink).is_ok());
        }
        let root = b.finish(&mut sink);
        assert_eq!(
            root.map(|r| (r.cid, r.size)),
            Ok((whole, data.len() as u64))
        );
    }
}
