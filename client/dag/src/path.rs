//! Walking UnixFS directories: resolving a path to a CID and listing a
//! directory's entries, through plain and HAMT-sharded directories alike.
//!
//! Every block is fetched through [`fetch_verified`], so a path resolves
//! only through blocks that match their CIDs. Goals: a lookup in a sharded
//! directory reads only the shards on the name's hash path (at most
//! `64 / log2(fanout)` of them), and a listing holds one shard per level,
//! never the whole directory. Non-goals: symlinks are not followed (a
//! symlink in the middle of a path is [`DagError::NotADirectory`], as on a
//! gateway), and segments are matched as given, bytewise, with no `.`/`..`
//! processing; callers normalize first.
//!
//! Shards are checked as they are read: the hash must be murmur3, the
//! bitfield must agree with the links, link names must carry their slot,
//! and an entry must sit in the slots its name hashes to, so a listing never
//! shows a name that resolution would not find.

use cid::Cid;

use crate::hamt::{HashBits, Shard, ShardLink};
use crate::pb::{PbLink, PbNode};
use crate::reader::{BlockSource, DagError, fetch_verified, kind_name};
use crate::unixfs::{DataType, UnixFsData};
use crate::{CODEC_DAG_PB, CODEC_RAW};

/// A decoded directory node.
enum DirNode {
    Plain(Vec<PbLink>),
    Sharded(Shard),
}

/// Fetches `cid` and decodes it as a directory or shard root; `path` and
/// `segment` name the lookup for the error if it is neither.
fn open_dir(
    source: &dyn BlockSource,
    cid: &Cid,
    path: &str,
    segment: &str,
) -> Result<DirNode, DagError> {
    let not_a_dir = |kind| DagError::NotADirectory {
        path: path.to_owned(),
        segment: segment.to_owned(),
        cid: *cid,
        kind,
    };
    match cid.codec() {
        CODEC_DAG_PB => {}
        CODEC_RAW => return Err(not_a_dir("file")),
        codec => return Err(DagError::UnsupportedCodec { cid: *cid, codec }),
    }
    let block = fetch_verified(source, cid)?;
    let node = PbNode::decode(&block).map_err(|source| DagError::Pb { cid: *cid, source })?;
    let data = node.data.as_deref().unwrap_or_default();
    let fs = UnixFsData::decode(data).map_err(|source| DagError::UnixFs { cid: *cid, source })?;
    match fs.kind {
        DataType::Directory => Ok(DirNode::Plain(node.links)),
        DataType::HamtShard => Shard::parse(cid, node, &fs).map(DirNode::Sharded),
        kind => Err(not_a_dir(kind_name(kind))),
    }
}

/// Fetches and decodes a sub-shard, which must be a shard of `fanout`.
fn open_subshard(source: &dyn BlockSource, cid: &Cid, fanout: u64) -> Result<Shard, DagError> {
    let bad = |reason| DagError::Inconsistent { cid: *cid, reason };
    if cid.codec() != CODEC_DAG_PB {
        return Err(bad("HAMT sub-shard is not dag-pb"));
    }
    let block = fetch_verified(source, cid)?;
    let node = PbNode::decode(&block).map_err(|source| DagError::Pb { cid: *cid, source })?;
    let data = node.data.as_deref().unwrap_or_default();
    let fs = UnixFsData::decode(data).map_err(|source| DagError::UnixFs { cid: *cid, source })?;
    if fs.kind != DataType::HamtShard {
        return Err(bad(
            "HAMT sub-shard link points at a node that is not a shard",
        ));
    }
    let shard = Shard::parse(cid, node, &fs)?;
    if shard.geometry.fanout != fanout {
        return Err(bad("HAMT sub-shard has a different fanout from its parent"));
    }
    Ok(shard)
}

/// Looks `name` up in the sharded directory rooted at `root`.
fn find_in_shard(
    source: &dyn BlockSource,
    root: Cid,
    shard: Shard,
    name: &str,
) -> Result<Option<Cid>, DagError> {
    let mut key = HashBits::new(name);
    let (mut cid, mut shard) = (root, shard);
    loop {
        let slot = key
            .next(shard.geometry.bits)
            .ok_or(DagError::Inconsistent {
                cid,
                reason: "HAMT is deeper than its 64-bit hash",
            })?;
        let next = match shard.slot_link(&cid, slot)? {
            None => return Ok(None),
            Some((link, ShardLink::Entry(found))) => return Ok((found == name).then_some(link.cid)),
            Some((link, ShardLink::SubShard)) => link.cid,
        };
        shard = open_subshard(source, &next, shard.geometry.fanout)?;
        cid = next;
    }
}

/// Resolves `segments` below `root`, one directory level per segment, and
/// returns the CID the last one names (`root` itself for no segments).
///
/// Errors: [`DagError::NotFound`] when a directory has no such entry,
/// [`DagError::NotADirectory`] when a segment is looked up in a file or
/// symlink, and the block errors of [`fetch_verified`] and the decoders.
pub fn resolve_path(
    source: &dyn BlockSource,
    root: Cid,
    segments: &[&str],
) -> Result<Cid, DagError> {
    let mut current = root;
    let mut path = String::new();
    for segment in segments {
        let parent_path = path.clone();
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(segment);
        let found = match open_dir(source, &current, &parent_path, segment)? {
            DirNode::Plain(links) => links
                .into_iter()
                .find(|l| l.name.as_deref() == Some(*segment))
                .map(|l| l.cid),
            DirNode::Sharded(shard) => find_in_shard(source, current, shard, segment)?,
        };
        current = found.ok_or_else(|| DagError::NotFound {
            path: path.clone(),
            parent: current,
        })?;
    }
    Ok(current)
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirLink {
    /// The entry's name.
    pub name: String,
    /// The entry's CID.
    pub cid: Cid,
    /// The Tsize its directory records (its cumulative DAG size), if any.
    pub size: Option<u64>,
}

/// One shard being listed: its links, the next one to visit, and the slots
/// that lead to it (which an entry's hash must start with).
struct Frame {
    cid: Cid,
    shard: Shard,
    next: usize,
    slots: Vec<usize>,
}

/// The entries of a directory, streamed: plain directories in link (name)
/// order, sharded ones in slot order, depth first.
pub struct DirList<'a> {
    source: &'a dyn BlockSource,
    plain: std::vec::IntoIter<PbLink>,
    plain_cid: Cid,
    stack: Vec<Frame>,
}

impl std::fmt::Debug for DirList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirList")
            .field("plain_left", &self.plain.len())
            .field("shard_depth", &self.stack.len())
            .finish()
    }
}

/// Lists the directory `cid` (plain or sharded). The first block is read
/// now, so a CID that is not a directory fails here rather than mid-listing.
pub fn list_dir(source: &dyn BlockSource, cid: Cid) -> Result<DirList<'_>, DagError> {
    let mut list = DirList {
        source,
        plain: Vec::new().into_iter(),
        plain_cid: cid,
        stack: Vec::new(),
    };
    match open_dir(source, &cid, "", "")? {
        DirNode::Plain(links) => list.plain = links.into_iter(),
        DirNode::Sharded(shard) => list.stack.push(Frame {
            cid,
            shard,
            next: 0,
            slots: Vec::new(),
        }),
    }
    Ok(list)
}

impl DirList<'_> {
    fn step(&mut self) -> Result<Option<DirLink>, DagError> {
        if let Some(link) = self.plain.next() {
            let name = link.name.ok_or(DagError::Inconsistent {
                cid: self.plain_cid,
                reason: "directory link has no name",
            })?;
            return Ok(Some(DirLink {
                name,
                cid: link.cid,
                size: link.tsize,
            }));
        }
        while let Some(frame) = self.stack.last_mut() {
            let Some(link) = frame.shard.links.get(frame.next) else {
                self.stack.pop();
                continue;
            };
            frame.next += 1;
            let (slot, kind) = frame.shard.link_kind(&frame.cid, link)?;
            match kind {
                ShardLink::Entry(name) => {
                    let mut key = HashBits::new(name);
                    let placed = frame
                        .slots
                        .iter()
                        .chain([&slot])
                        .all(|&s| key.next(frame.shard.geometry.bits) == Some(s));
                    if !placed {
                        return Err(DagError::Inconsistent {
                            cid: frame.cid,
                            reason: "HAMT entry is in a slot its name does not hash to",
                        });
                    }
                    return Ok(Some(DirLink {
                        name: name.to_owned(),
                        cid: link.cid,
                        size: link.tsize,
                    }));
                }
                ShardLink::SubShard => {
                    let child = link.cid;
                    let fanout = frame.shard.geometry.fanout;
                    let mut slots = frame.slots.clone();
                    slots.push(slot);
                    if slots.len() as u32 * frame.shard.geometry.bits > 64 {
                        return Err(DagError::Inconsistent {
                            cid: frame.cid,
                            reason: "HAMT is deeper than its 64-bit hash",
                        });
                    }
                    let shard = open_subshard(self.source, &child, fanout)?;
                    self.stack.push(Frame {
                        cid: child,
                        shard,
                        next: 0,
                        slots,
                    });
                }
            }
        }
        Ok(None)
    }
}

impl Iterator for DirList<'_> {
    type Item = Result<DirLink, DagError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(link)) => Some(Ok(link)),
            Ok(None) => None,
            Err(e) => {
                self.stack.clear();
                self.plain = Vec::new().into_iter();
                Some(Err(e))
            }
        }
    }
}
