//! Content path resolution: `/ipfs/{cid}/a/b` to the CID at its end, with
//! every block on the way fetched and verified.
//!
//! Names are looked up with [`cairn_dag::resolve_path`], through plain and
//! HAMT-sharded UnixFS directories alike, one segment at a time so that each
//! segment's CID is known (`X-Ipfs-Roots`). A [`Recording`] source notes
//! every block the lookups read: directory nodes and, for sharded
//! directories, the shards on the name's hash path. Those are exactly the
//! blocks a CAR must carry before the terminus for a client to verify the
//! path. Raw blocks and files have no named children (404); other codecs
//! cannot be pathed into here (501).
//!
//! Also here: [`classify`], which says what the terminus is (file and its
//! size, directory, ...), and [`IdentityAware`], the block source wrapper
//! that answers identity CIDs from the CID itself.

use std::cell::RefCell;
use std::sync::Arc;

use cairn_dag::pb::PbNode;
use cairn_dag::reader::{SourceError, fetch_verified};
use cairn_dag::unixfs::{DataType, UnixFsData};
use cairn_dag::{BlockSource, CODEC_DAG_PB, CODEC_RAW, DagError, MH_IDENTITY, resolve_path};
use cid::Cid;

use super::error::GatewayError;

/// A [`BlockSource`] that answers identity CIDs (whose "hash" is the data)
/// itself and asks the store for everything else. Stores never hold
/// identity blocks, yet DAGs may link to them and the spec's probe CID
/// `bafkqaaa` is one.
#[derive(Clone)]
pub struct IdentityAware(pub Arc<dyn BlockSource + Send + Sync>);

impl std::fmt::Debug for IdentityAware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityAware")
    }
}

impl BlockSource for IdentityAware {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        if cid.hash().code() == MH_IDENTITY {
            return Ok(Some(cid.hash().digest().to_vec()));
        }
        self.0.get_block(cid)
    }
}

/// A resolved content path.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The CID at the end of the path.
    pub terminus: Cid,
    /// The terminus block, verified.
    pub block: Vec<u8>,
    /// Blocks traversed before the terminus, root first (what a CAR must
    /// carry so the client can verify the path).
    pub path_blocks: Vec<Cid>,
    /// One CID per logical path segment, root first (`X-Ipfs-Roots`).
    pub roots: Vec<Cid>,
}

/// Resolves `segments` below `root`.
pub fn resolve(
    source: &dyn BlockSource,
    root: Cid,
    segments: &[String],
) -> Result<Resolved, GatewayError> {
    let root_block = match fetch_verified(source, &root) {
        Err(DagError::MissingBlock { cid }) => return Err(GatewayError::NotFound { cid }),
        other => other?,
    };
    if segments.is_empty() {
        return Ok(Resolved {
            terminus: root,
            block: root_block,
            path_blocks: Vec::new(),
            roots: vec![root],
        });
    }
    let recording = Recording {
        inner: source,
        read: RefCell::new(Vec::new()),
    };
    let mut current = root;
    let mut roots = vec![root];
    for segment in segments {
        if !matches!(current.codec(), CODEC_DAG_PB | CODEC_RAW) {
            let codec = current.codec();
            return Err(GatewayError::UnsupportedCodec {
                cid: current,
                codec,
                action: "path through",
            });
        }
        current = resolve_path(&recording, current, &[segment.as_str()])?;
        roots.push(current);
    }
    let block = fetch_verified(source, &current)?;
    let mut path_blocks = recording.read.into_inner();
    let mut seen = std::collections::HashSet::new();
    path_blocks.retain(|c| seen.insert(c.hash().to_bytes()));
    Ok(Resolved {
        terminus: current,
        block,
        path_blocks,
        roots,
    })
}

/// A source that remembers, in order, every block read through it.
struct Recording<'a> {
    inner: &'a dyn BlockSource,
    read: RefCell<Vec<Cid>>,
}

impl BlockSource for Recording<'_> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        self.read.borrow_mut().push(*cid);
        self.inner.get_block(cid)
    }
}

fn decode_pb(cid: &Cid, block: &[u8]) -> Result<PbNode, GatewayError> {
    PbNode::decode(block).map_err(|source| GatewayError::from(DagError::Pb { cid: *cid, source }))
}

fn kind_name(kind: DataType) -> &'static str {
    match kind {
        DataType::Directory => "directory",
        DataType::HamtShard => "sharded directory",
        DataType::Symlink => "symlink",
        DataType::Metadata => "metadata node",
        DataType::File | DataType::Raw => "file",
        _ => "unknown node",
    }
}

/// What a terminus is, for deserialized responses and `entity-bytes`.
#[derive(Debug, Clone)]
pub enum Entity {
    /// A UnixFS file or raw block of `size` bytes.
    File {
        /// Its size as its root records it (readers check it).
        size: u64,
    },
    /// A UnixFS directory, plain or HAMT-sharded.
    Directory,
    /// A UnixFS node of another type (symlink, metadata).
    Other {
        /// Its type's name.
        kind: &'static str,
    },
    /// A block of a codec that is not UnixFS.
    NotUnixFs {
        /// Its codec.
        codec: u64,
    },
}

/// Classifies the terminus block `block` of `cid`.
pub fn classify(cid: &Cid, block: &[u8]) -> Result<Entity, GatewayError> {
    match cid.codec() {
        CODEC_RAW => {
            return Ok(Entity::File {
                size: block.len() as u64,
            });
        }
        CODEC_DAG_PB => {}
        codec => return Ok(Entity::NotUnixFs { codec }),
    }
    let node = decode_pb(cid, block)?;
    let Some(data) = node.data.as_deref() else {
        return Ok(Entity::Other {
            kind: "dag-pb node without UnixFS data",
        });
    };
    let fs = UnixFsData::decode(data)
        .map_err(|source| GatewayError::from(DagError::UnixFs { cid: *cid, source }))?;
    Ok(match fs.kind {
        DataType::File | DataType::Raw => {
            let inline = fs.data.as_ref().map_or(0, |d| d.len() as u64);
            let below = fs.blocksizes.iter().fold(0u64, |a, &b| a.saturating_add(b));
            let size = if node.links.is_empty() {
                inline
            } else {
                fs.filesize.unwrap_or(below.saturating_add(inline))
            };
            Entity::File { size }
        }
        DataType::Directory | DataType::HamtShard => Entity::Directory,
        kind => Entity::Other {
            kind: kind_name(kind),
        },
    })
}
