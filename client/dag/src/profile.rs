//! Import profiles: the settings that decide a file's CID.
//!
//! The two profiles are IPIP-499's: `unixfs-v1-2025` (CIDv1, raw leaves,
//! 1 MiB chunks, 1024 links) and kubo's historical default, `kubo-legacy`
//! (CIDv0, dag-pb leaves, 256 KiB chunks, 174 links; IPIP-499 calls it
//! `unixfs-v0-2015`). The same bytes under the same profile give the same
//! CID as kubo and Helia.

use std::fmt;
use std::str::FromStr;

use cid::Cid;

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

    /// The CID of a dag-pb block under this profile.
    pub fn dag_pb_cid(self, block: &[u8]) -> Cid {
        let mh = sha256_multihash(block);
        match self {
            Profile::KuboLegacy => Cid::new_v0(mh).unwrap_or_else(|_| Cid::new_v1(CODEC_DAG_PB, mh)),
            Profile::UnixfsV1_2025 => Cid::new_v1(CODEC_DAG_PB, mh),
        }
    }

    /// The CID of a raw block (always CIDv1).
    pub fn raw_leaf_cid(self, block: &[u8]) -> Cid {
        Cid::new_v1(CODEC_RAW, sha256_multihash(block))
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
            other => Err(UnknownProfile { name: other.to_owned() }),
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
}
