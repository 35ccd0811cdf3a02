//! Import profiles: the settings that decide a file's CID.
//!
//! The two profiles are IPIP-499's: `unixfs-v1-2025` (CIDv1, raw leaves,
//! 1 MiB chunks, 1024 links) and kubo's historical default, `kubo-legacy`
//! (CIDv0, dag-pb leaves, 256 KiB chunks, 174 links; IPIP-499 calls it
//! `unixfs-v0-2015`). The same bytes under the same profile give the same
//! CID as kubo and Helia.

use std::fmt;
use std::str::FromStr;

use cid::{Cid, Version};

use crate::{CODEC_DAG_PB, CODEC_RAW, sha256_multihash};

/// A named set of UnixFS import settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// CIDv1, raw leaves, 1 MiB chunks, 1024 links per node (the default).
    #[default]
    UnixfsV1_2025,
    /// CIDv0, dag-pb leaves, 256 KiB chunks, 174 links per node.
    KuboLegacy,
}

/// A profile name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}: expected unixfs-v1-2025, kubo-legacy or unixfs-v0-2015")]
pub struct UnknownProfile {
    /// The name given.
    pub name: String,
}

/// How a directory's size is estimated against the HAMT sharding threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardEstimate {
    /// Sum of link name lengths and CID byte lengths (kubo's historical rule).
    Links,
    /// The encoded size of the plain directory block (IPIP-499's rule).
    Block,
}

impl Profile {
    /// Every profile, for tests and help texts.
    pub const ALL: [Profile; 2] = [Profile::UnixfsV1_2025, Profile::KuboLegacy];

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Profile::UnixfsV1_2025 => "unixfs-v1-2025",
            Profile::KuboLegacy => "kubo-legacy",
        }
    }

    /// Bytes per leaf chunk.
    pub fn chunk_size(self) -> usize {
        match self {
            Profile::UnixfsV1_2025 => 1 << 20,
            Profile::KuboLegacy => 256 << 10,
        }
    }

    /// Links per internal file node.
    pub fn max_links(self) -> usize {
        match self {
            Profile::UnixfsV1_2025 => 1024,
            Profile::KuboLegacy => 174,
        }
    }

    /// Whether leaves are raw blocks (else dag-pb UnixFS file nodes).
    pub fn raw_leaves(self) -> bool {
        matches!(self, Profile::UnixfsV1_2025)
    }

    /// Directory size above which a directory becomes a HAMT shard.
    pub fn shard_threshold(self) -> usize {
        256 << 10
    }

    /// How the directory size is estimated.
    pub fn shard_estimate(self) -> ShardEstimate {
        match self {
            Profile::UnixfsV1_2025 => ShardEstimate::Block,
            Profile::KuboLegacy => ShardEstimate::Links,
        }
    }

    /// HAMT fan-out (buckets per shard node).
    pub fn hamt_fanout(self) -> usize {
        256
    }

    /// The CID version of dag-pb nodes (files' internal nodes, directories).
    pub fn cid_version(self) -> Version {
        match self {
            Profile::UnixfsV1_2025 => Version::V1,
            Profile::KuboLegacy => Version::V0,
        }
    }

    /// The file layout this profile uses.
    pub fn layout(self) -> Layout {
        Layout {
            chunk_size: self.chunk_size(),
            max_links: self.max_links(),
            raw_leaves: self.raw_leaves(),
            cid_version: self.cid_version(),
        }
    }

    /// The CID of a dag-pb block under this profile.
    pub fn dag_pb_cid(self, block: &[u8]) -> Cid {
        dag_pb_cid(self.cid_version(), block)
    }

    /// The CID of a raw block (always CIDv1).
    pub fn raw_leaf_cid(self, block: &[u8]) -> Cid {
        raw_cid(block)
    }
}

/// The sha2-256 CID of a dag-pb block, in CID `version`.
pub fn dag_pb_cid(version: Version, block: &[u8]) -> Cid {
    let mh = sha256_multihash(block);
    match version {
        // A sha2-256 multihash is always a valid CIDv0; the fallback is unreachable.
        Version::V0 => Cid::new_v0(mh).unwrap_or_else(|_| Cid::new_v1(CODEC_DAG_PB, mh)),
        Version::V1 => Cid::new_v1(CODEC_DAG_PB, mh),
    }
}

/// The sha2-256 CIDv1 of a raw block.
pub fn raw_cid(block: &[u8]) -> Cid {
    Cid::new_v1(CODEC_RAW, sha256_multihash(block))
}

/// The shape of a file DAG: what a [`Profile`] fixes for files, spelled out.
///
/// Every profile has one ([`Profile::layout`]); other layouts exist for
/// reproducing DAGs that other tools built with non-default settings (for
/// example `ipfs add --chunker=size-1024 --raw-leaves --cid-version=1`, or
/// the scaled-down trees in the oracle vectors). Directories are not covered:
/// they always follow a [`Profile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Bytes per leaf chunk, `1..=`[`Layout::MAX_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// Links per internal node, `2..=`[`Layout::MAX_LINKS`].
    pub max_links: usize,
    /// Leaves are raw blocks (always CIDv1) rather than dag-pb UnixFS file nodes.
    pub raw_leaves: bool,
    /// CID version of the dag-pb nodes.
    pub cid_version: Version,
}

/// A [`Layout`] that no importer would produce or that breaks block limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The chunk size is zero or above [`Layout::MAX_CHUNK_SIZE`].
    #[error("chunk size {chunk_size} is outside 1..={}", Layout::MAX_CHUNK_SIZE)]
    ChunkSize {
        /// The size asked for.
        chunk_size: usize,
    },
    /// The link count is below 2 or above [`Layout::MAX_LINKS`].
    #[error("max links {max_links} is outside 2..={}", Layout::MAX_LINKS)]
    MaxLinks {
        /// The count asked for.
        max_links: usize,
    },
}

impl Layout {
    /// The largest chunk kubo's chunkers accept (1 MiB), which keeps every
    /// leaf under the 2 MiB block limit peers enforce.
    pub const MAX_CHUNK_SIZE: usize = 1 << 20;
    /// The most links per node we build: a node of this many CIDv1 links is
    /// about 0.5 MiB, well under the block limit.
    pub const MAX_LINKS: usize = 8192;

    /// Checks the limits documented on the fields.
    pub fn validate(&self) -> Result<(), LayoutError> {
        if self.chunk_size == 0 || self.chunk_size > Layout::MAX_CHUNK_SIZE {
            return Err(LayoutError::ChunkSize {
                chunk_size: self.chunk_size,
            });
        }
        if self.max_links < 2 || self.max_links > Layout::MAX_LINKS {
            return Err(LayoutError::MaxLinks {
                max_links: self.max_links,
            });
        }
        Ok(())
    }

    /// The CID of a dag-pb block under this layout.
    pub fn dag_pb_cid(&self, block: &[u8]) -> Cid {
        dag_pb_cid(self.cid_version, block)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Profile, UnknownProfile> {
        match s {
            "unixfs-v1-2025" => Ok(Profile::UnixfsV1_2025),
            "kubo-legacy" | "unixfs-v0-2015" => Ok(Profile::KuboLegacy),
            other => Err(UnknownProfile {
                name: other.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse(), Ok(p));
        }
        assert_eq!("unixfs-v0-2015".parse(), Ok(Profile::KuboLegacy));
        assert!("kubo".parse::<Profile>().is_err());
        assert_eq!(Profile::default(), Profile::UnixfsV1_2025);
    }

    #[test]
    fn profile_layouts_are_valid_and_limits_are_enforced() {
        for p in Profile::ALL {
            assert_eq!(p.layout().validate(), Ok(()), "{p}");
        }
        let base = Profile::UnixfsV1_2025.layout();
        // Each row hits one boundary of `validate`.
        let rows = [
            (0, 1024, Err(LayoutError::ChunkSize { chunk_size: 0 })),
            (1, 2, Ok(())),
            (Layout::MAX_CHUNK_SIZE, Layout::MAX_LINKS, Ok(())),
            (
                Layout::MAX_CHUNK_SIZE + 1,
                2,
                Err(LayoutError::ChunkSize {
                    chunk_size: Layout::MAX_CHUNK_SIZE + 1,
                }),
            ),
            (1024, 1, Err(LayoutError::MaxLinks { max_links: 1 })),
            (
                1024,
                Layout::MAX_LINKS + 1,
                Err(LayoutError::MaxLinks {
                    max_links: Layout::MAX_LINKS + 1,
                }),
            ),
        ];
        for (chunk_size, max_links, want) in rows {
            let layout = Layout {
                chunk_size,
                max_links,
                ..base
            };
            assert_eq!(layout.validate(), want, "{chunk_size}/{max_links}");
        }
    }
}
