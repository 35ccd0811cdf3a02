//! UnixFS directories, built the way `ipfs add -r` builds them.
//!
//! A [`DirBuilder`] collects a directory's entries (name, CID, DAG size) —
//! files from [`crate::FileBuilder`], subdirectories from a finished
//! [`DirBuilder`] — and emits the directory's block(s) through the same kind
//! of sink the file builder uses. Below the profile's threshold the result is
//! one plain UnixFS `Directory` node; above it, a HAMT ([`crate::hamt`]).
//!
//! # When a directory is sharded
//!
//! Kubo (boxo's `ipld/unixfs/io/directory.go`) shards a directory once its
//! *estimated* size is strictly greater than [`Profile::shard_threshold`]:
//! - [`ShardEstimate::Links`] (`kubo-legacy`): the sum over entries of the
//!   name's byte length plus the CID's byte length;
//! - [`ShardEstimate::Block`] (`unixfs-v1-2025`): the exact encoded size of
//!   the plain directory node, Tsize varints and framing included.
//!
//! Kubo evaluates this after every change, but for an import, which only
//! adds, the estimate only grows, so the result is the same as evaluating it
//! once over the final entries, which is what [`DirBuilder::finish`] does.
//! Subdirectories count like any other entry, with their final CID and DAG
//! size: that is kubo's rule (its MFS adds the child's link up front and
//! replaces it when the child is flushed). The JS importer (Helia,
//! `ipfs-unixfs-importer`) differs: it counts a subdirectory as 0 bytes, so a
//! directory whose size near the threshold comes from many subdirectories can
//! stay flat there and shard here. Files, symlinks and the threshold vectors
//! agree between all three.

use std::collections::BTreeMap;

use cid::Cid;

use crate::pb::{PbLink, PbNode};
use crate::profile::ShardEstimate;
use crate::unixfs::{DataType, UnixFsData};
use crate::{Block, FileRoot, Profile, hamt, varint};

/// One directory entry, as its parent links to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name (one path segment).
    pub name: String,
    /// The entry's root CID.
    pub cid: Cid,
    /// The entry's cumulative DAG size, recorded as the link's Tsize.
    pub dag_size: u64,
}

/// A finished directory DAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirRoot {
    /// The directory's root CID.
    pub cid: Cid,
    /// Bytes of every block below and including the root, counted per link
    /// (what a parent records as Tsize).
    pub dag_size: u64,
    /// Whether the directory is a HAMT shard.
    pub sharded: bool,
    /// Directory blocks emitted (one for a plain directory; entries' own
    /// blocks are not counted).
    pub blocks: u64,
}

/// Why a directory cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirError {
    /// A name that cannot be a UnixFS path segment.
    #[error("invalid directory entry name {name:?}: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same name twice in one directory.
    #[error("directory entry {name:?} is added twice")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// Two names whose 64-bit HAMT hashes are equal: no shard can separate
    /// them (kubo: "sharded directory too deep").
    #[error(
        "cannot shard the directory: {name:?} shares its whole 64-bit HAMT hash with another entry"
    )]
    HashCollision {
        /// One of the colliding names.
        name: String,
    },
    /// A profile fan-out the HAMT layout cannot use.
    #[error("HAMT fanout {fanout} is not a power of two in 2..=65536")]
    BadFanout {
        /// The fan-out.
        fanout: u64,
    },
}

/// Checks that `name` can be one path segment.
pub fn check_name(name: &str) -> Result<(), DirError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "a relative path component"
    } else if name.contains('/') {
        "contains '/'"
    } else if name.contains('\0') {
        "contains NUL"
    } else {
        return Ok(());
    };
    Err(DirError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

/// The size `profile` estimates for a directory of `entries`, to compare
/// with [`Profile::shard_threshold`].
pub fn estimated_size<'a>(profile: Profile, entries: impl IntoIterator<Item = &'a Entry>) -> u64 {
    match profile.shard_estimate() {
        ShardEstimate::Links => entries
            .into_iter()
            .map(|e| (e.name.len() + e.cid.encoded_len()) as u64)
            .sum(),
        ShardEstimate::Block => {
            // PBNode.Data holding UnixFS {Type: Directory}: 0a 02 08 01.
            let data_field = 4u64;
            let links: u64 = entries.into_iter().map(link_encoded_len).sum();
            data_field + links
        }
    }
}

/// Bytes one named link with a Tsize adds to a dag-pb node.
fn link_encoded_len(e: &Entry) -> u64 {
    let field = |len: usize| 1 + varint::encoded_len(len as u64) as u64 + len as u64;
    let inner = field(e.cid.encoded_len())
        + field(e.name.len())
        + 1
        + varint::encoded_len(e.dag_size) as u64;
    1 + varint::encoded_len(inner) as u64 + inner
}

/// Collects one directory's entries and builds its block(s).
#[derive(Debug, Clone)]
pub struct DirBuilder {
    profile: Profile,
    entries: BTreeMap<String, Entry>,
}

impl DirBuilder {
    /// An empty directory under `profile`.
    pub fn new(profile: Profile) -> DirBuilder {
        DirBuilder {
            profile,
            entries: BTreeMap::new(),
        }
    }

    /// The profile in use.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Adds an entry: a name and the CID and DAG size of what it names.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        cid: Cid,
        dag_size: u64,
    ) -> Result<(), DirError> {
        let name = name.into();
        check_name(&name)?;
        match self.entries.entry(name) {
            std::collections::btree_map::Entry::Occupied(slot) => Err(DirError::DuplicateName {
                name: slot.key().clone(),
            }),
            std::collections::btree_map::Entry::Vacant(slot) => {
                let name = slot.key().clone();
                slot.insert(Entry {
                    name,
                    cid,
                    dag_size,
                });
                Ok(())
            }
        }
    }

    /// Adds a file built by [`crate::FileBuilder`].
    pub fn add_file(&mut self, name: impl Into<String>, file: &FileRoot) -> Result<(), DirError> {
        self.add(name, file.cid, file.dag_size)
    }

    /// Adds a finished subdirectory.
    pub fn add_dir(&mut self, name: impl Into<String>, dir: &DirRoot) -> Result<(), DirError> {
        self.add(name, dir.cid, dir.dag_size)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in name (byte) order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The profile's size estimate of the directory as it stands.
    pub fn estimated_size(&self) -> u64 {
        estimated_size(self.profile, self.entries.values())
    }

    /// Whether [`DirBuilder::finish`] would build a HAMT.
    pub fn will_shard(&self) -> bool {
        self.estimated_size() > self.profile.shard_threshold() as u64
    }

    /// Emits the directory's block(s), children before parents, and returns
    /// the root.
    pub fn finish<E>(self, sink: &mut impl FnMut(Block) -> Result<(), E>) -> Result<DirRoot, E>
    where
        E: From<DirError>,
    {
        if self.will_shard() {
            let entries: Vec<Entry> = self.entries.into_values().collect();
            return hamt::build(self.profile, &entries, sink);
        }
        let mut below = 0u64;
        let links = self
            .entries
            .into_values()
            .map(|e| {
                below = below.saturating_add(e.dag_size);
                PbLink {
                    cid: e.cid,
                    name: Some(e.name),
                    tsize: Some(e.dag_size),
                }
            })
            .collect();
        let node = PbNode {
            links,
            data: Some(UnixFsData::of_kind(DataType::Directory).encode()),
        };
        let bytes = node.encode();
        let cid = self.profile.dag_pb_cid(&bytes);
        let dag_size = (bytes.len() as u64).saturating_add(below);
        sink(Block { cid, data: bytes })?;
        Ok(DirRoot {
            cid,
            dag_size,
            sharded: false,
            blocks: 1,
        })
    }
}

/// The block of a UnixFS symlink to `target`, as kubo adds one: a dag-pb
/// node with no links and data `{Type: Symlink, Data: target}`.
pub fn symlink_block(profile: Profile, target: &[u8]) -> Block {
    let data = UnixFsData {
        data: Some(target.to_vec()),
        ..UnixFsData::of_kind(DataType::Symlink)
    };
    let bytes = PbNode {
        links: Vec::new(),
        data: Some(data.encode()),
    }
    .encode();
    Block {
        cid: profile.dag_pb_cid(&bytes),
        data: bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(builder: DirBuilder) -> (DirRoot, Vec<Block>) {
        let mut blocks = Vec::new();
        let root = builder.finish(&mut |b: Block| {
            blocks.push(b);
            Ok::<(), DirError>(())
        });
        (root.unwrap_or_else(|e| panic!("{e}")), blocks)
    }

    #[test]
    fn empty_directories_match_the_published_cids() {
        let rows = [
            (
                Profile::KuboLegacy,
                "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
            ),
            (
                Profile::UnixfsV1_2025,
                "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354",
            ),
        ];
        for (profile, want) in rows {
            let (root, blocks) = collect(DirBuilder::new(profile));
            assert_eq!(root.cid.to_string(), want);
            assert_eq!((root.dag_size, root.sharded, blocks.len()), (4, false, 1));
        }
    }

    #[test]
    fn names_are_checked_and_unique() {
        let cid = Profile::UnixfsV1_2025.raw_leaf_cid(b"x");
        let mut dir = DirBuilder::new(Profile::UnixfsV1_2025);
        // Each row is one rule of `check_name`.
        for bad in ["", ".", "..", "a/b", "nul\0"] {
            assert!(
                matches!(dir.add(bad, cid, 1), Err(DirError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        for good in ["...", ".hidden", "a b", "ünï"] {
            assert_eq!(dir.add(good, cid, 1), Ok(()), "{good:?}");
        }
        assert_eq!(
            dir.add("a b", cid, 1),
            Err(DirError::DuplicateName { name: "a b".into() })
        );
        assert_eq!(dir.len(), 4);
    }

    #[test]
    fn links_are_sorted_bytewise() {
        let cid = Profile::KuboLegacy.raw_leaf_cid(b"x");
        let mut dir = DirBuilder::new(Profile::KuboLegacy);
        for name in ["b", "B", "a", "ä", "A0", "_"] {
            assert_eq!(dir.add(name, cid, 1), Ok(()));
        }
        let (_, blocks) = collect(dir);
        let node = PbNode::decode(&blocks[0].data).unwrap_or_default();
        let names: Vec<_> = node.links.iter().filter_map(|l| l.name.clone()).collect();
        assert_eq!(names, ["A0", "B", "_", "a", "b", "ä"]);
    }

    #[test]
    fn block_estimate_is_the_encoded_size() {
        let mut dir = DirBuilder::new(Profile::UnixfsV1_2025);
        for (i, size) in [0u64, 127, 128, 1 << 20, u64::MAX].into_iter().enumerate() {
            let cid = Profile::UnixfsV1_2025.dag_pb_cid(&[i as u8]);
            assert_eq!(dir.add("x".repeat(1 + i * 70), cid, size), Ok(()));
        }
        let estimate = dir.estimated_size();
        let (_, blocks) = collect(dir);
        assert_eq!(estimate, blocks[0].data.len() as u64);
    }

    #[test]
    fn symlinks_encode_type_and_target_only() {
        let block = symlink_block(Profile::UnixfsV1_2025, b"../target");
        assert_eq!(
            block.data,
            [&[0x0a, 0x0d, 0x08, 0x04, 0x12, 0x09][..], b"../target"].concat()
        );
    }
}
