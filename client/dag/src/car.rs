//! CAR v1: writing DAGs out, and reading them in with every block checked.
//!
//! Writing: [`CarWriter`] frames blocks; [`DagWalk`] yields a DAG's blocks
//! depth-first (the order trustless gateways promise), skipping duplicates
//! unless asked, and can limit itself to one block, one UnixFS entity, or a
//! byte range of a file.
//!
//! Reading: [`CarReader`] streams blocks from any `Read`, checking each
//! against its CID as it arrives, remembering which links it has seen and
//! which it still needs, and at [`CarReader::finish`] refuses a CAR whose
//! DAG is incomplete or whose root is absent. Each way a CAR can be wrong
//! has its own [`CarError`] variant. CAR v2 files are read through their
//! inner v1 payload.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use cid::Cid;

use crate::cbor::{self, Value};
use crate::pb::PbNode;
use crate::reader::{BlockSource, DagError, fetch_verified};
use crate::unixfs::{DataType, UnixFsData};
use crate::{Block, CODEC_DAG_PB, VerifyError, block_links, varint, verify_block};

/// Largest header we accept.
pub const MAX_HEADER_LEN: u64 = 1 << 20;
/// Largest block frame (CID + data) we accept: IPFS blocks are at most 2 MiB.
pub const MAX_FRAME_LEN: u64 = 4 << 20;

/// Why a CAR was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CarError {
    /// The header is not a valid CAR header.
    #[error("bad CAR header: {reason}")]
    BadHeader {
        /// What was wrong.
        reason: String,
    },
    /// A CAR version we cannot read.
    #[error("unsupported CAR version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u64,
    },
    /// A length prefix is not a valid varint.
    #[error("bad varint at byte {offset} of the CAR: {source}")]
    BadVarint {
        /// Offset of the varint.
        offset: u64,
        /// What was wrong.
        source: varint::VarintError,
    },
    /// A frame is longer than any block may be.
    #[error("block frame at byte {offset} claims {len} bytes, over the {MAX_FRAME_LEN}-byte limit")]
    FrameTooLarge {
        /// Offset of the frame.
        offset: u64,
        /// Claimed length.
        len: u64,
    },
    /// The CAR ends inside a block.
    #[error("truncated block at byte {offset}: frame claims {expected} bytes, only {got} present")]
    TruncatedBlock {
        /// Offset of the frame.
        offset: u64,
        /// Frame length claimed.
        expected: u64,
        /// Bytes that were there.
        got: u64,
    },
    /// A frame does not start with a valid CID.
    #[error("invalid CID in the block at byte {offset}: {reason}")]
    BadCid {
        /// Offset of the frame.
        offset: u64,
        /// The parser's complaint.
        reason: String,
    },
    /// A block's bytes do not hash to its CID.
    #[error("block at byte {offset}: {source}")]
    HashMismatch {
        /// Offset of the frame.
        offset: u64,
        /// Which CID and what the bytes hash to.
        source: VerifyError,
    },
    /// A dag-pb block that does not decode, so its links cannot be checked.
    #[error("block {cid} at byte {offset} is not valid dag-pb: {reason}")]
    BadBlock {
        /// Offset of the frame.
        offset: u64,
        /// The block.
        cid: Cid,
        /// The decoder's complaint.
        reason: String,
    },
    /// The DAG links to a block the CAR does not contain.
    #[error("the CAR is incomplete: block {cid} is linked but missing")]
    MissingBlock {
        /// The first missing block.
        cid: Cid,
    },
    /// A root named in the header is not in the CAR.
    #[error("root {cid} named in the CAR header is not in the CAR")]
    RootNotInCar {
        /// The absent root.
        cid: Cid,
    },
    /// Reading failed.
    #[error("reading the CAR: {0}")]
    Io(#[from] io::Error),
}

/// Writes CAR v1 framing to `W`.
#[derive(Debug)]
pub struct CarWriter<W> {
    out: W,
    written: u64,
}

impl<W: Write> CarWriter<W> {
    /// Writes the header naming `roots`.
    pub fn new(mut out: W, roots: &[Cid]) -> io::Result<CarWriter<W>> {
        let header = car_header(roots);
        out.write_all(&header)?;
        Ok(CarWriter {
            out,
            written: header.len() as u64,
        })
    }

    /// Writes one block.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> io::Result<()> {
        let frame = frame_prefix(cid, data.len());
        self.out.write_all(&frame)?;
        self.out.write_all(data)?;
        self.written += (frame.len() + data.len()) as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The header bytes (length prefix included) of a CAR v1 with `roots`.
pub fn car_header(roots: &[Cid]) -> Vec<u8> {
    let body = cbor::encode_car_header(roots);
    let mut out = Vec::with_capacity(body.len() + 2);
    varint::encode(body.len() as u64, &mut out);
    out.extend_from_slice(&body);
    out
}

/// The frame prefix (length varint + CID bytes) that precedes a block's data.
pub fn frame_prefix(cid: &Cid, data_len: usize) -> Vec<u8> {
    let cid_bytes = cid.to_bytes();
    let mut out = Vec::with_capacity(cid_bytes.len() + 10);
    varint::encode((cid_bytes.len() + data_len) as u64, &mut out);
    out.extend_from_slice(&cid_bytes);
    out
}

/// Which blocks a [`DagWalk`] yields (the trustless gateway's `dag-scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every block reachable from the root.
    #[default]
    All,
    /// The blocks needed to read the root as one UnixFS entity: a whole
    /// file (or the byte range asked for), or a directory's own nodes
    /// without its children.
    Entity,
    /// Only the root block.
    Block,
}

/// Options for [`DagWalk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalkOptions {
    /// Which blocks to yield.
    pub scope: Scope,
    /// Yield a block again each time it is reached (`dups=y`).
    pub dups: bool,
    /// For [`Scope::Entity`] on a file: the byte range `start..end` to cover.
    pub range: Option<(u64, u64)>,
}

struct Step {
    cid: Cid,
    offset: u64,
    entity: bool,
}

/// Depth-first, pre-order walk of a DAG's blocks, each one verified.
pub struct DagWalk<'a> {
    source: &'a dyn BlockSource,
    options: WalkOptions,
    stack: Vec<Step>,
    seen: HashSet<Vec<u8>>,
}

impl std::fmt::Debug for DagWalk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DagWalk")
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> DagWalk<'a> {
    /// A walk from `root`.
    pub fn new(source: &'a dyn BlockSource, root: Cid, options: WalkOptions) -> DagWalk<'a> {
        DagWalk {
            source,
            options,
            stack: vec![Step {
                cid: root,
                offset: 0,
                entity: true,
            }],
            seen: HashSet::new(),
        }
    }

    fn step(&mut self) -> Result<Option<Block>, DagError> {
        while let Some(step) = self.stack.pop() {
            if !self.options.dups && !self.seen.insert(step.cid.hash().to_bytes()) {
                continue;
            }
            let data = fetch_verified(self.source, &step.cid)?;
            if self.options.scope != Scope::Block {
                self.push_children(&step, &data)?;
            }
            return Ok(Some(Block {
                cid: step.cid,
                data,
            }));
        }
        Ok(None)
    }

    fn push_children(&mut self, step: &Step, data: &[u8]) -> Result<(), DagError> {
        if step.cid.codec() != CODEC_DAG_PB {
            return Ok(());
        }
        let node = PbNode::decode(data).map_err(|source| DagError::Pb {
            cid: step.cid,
            source,
        })?;
        let entity_only = self.options.scope == Scope::Entity;
        let fs = node
            .data
            .as_deref()
            .and_then(|d| UnixFsData::decode(d).ok());
        let mut next = Vec::with_capacity(node.links.len());
        match fs.as_ref().map(|f| f.kind) {
            Some(DataType::File | DataType::Raw) if entity_only => {
                // Keep only the children that overlap the range asked for.
                let (start, end) = self.options.range.unwrap_or((0, u64::MAX));
                let Some(fs) = fs else { return Ok(()) };
                let mut offset = step.offset + fs.data.as_ref().map_or(0, |d| d.len() as u64);
                for (link, size) in node.links.iter().zip(fs.blocksizes.iter()) {
                    let overlaps =
                        offset < end && offset + size > start || (*size == 0 && offset == start);
                    if overlaps {
                        next.push(Step {
                            cid: link.cid,
                            offset,
                            entity: true,
                        });
                    }
                    offset += size;
                }
            }
            Some(DataType::Directory) if entity_only && step.entity => {}
            Some(DataType::HamtShard) if entity_only && step.entity => {
                // A shard's own sub-shards belong to the entity; entries do not.
                for link in &node.links {
                    if link.name.as_deref().is_some_and(|n| n.len() == 2) {
                        next.push(Step {
                            cid: link.cid,
                            offset: 0,
                            entity: true,
                        });
                    }
                }
            }
            _ => {
                for link in &node.links {
                    next.push(Step {
                        cid: link.cid,
                        offset: 0,
                        entity: !entity_only,
                    });
                }
            }
        }
        self.stack.extend(next.into_iter().rev());
        Ok(())
    }
}

impl Iterator for DagWalk<'_> {
    type Item = Result<Block, DagError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => {
                self.stack.clear();
                Some(Err(e))
            }
        }
    }
}

/// Writes the DAG under `root` as a CAR v1 to `out`; returns bytes written.
pub fn export_car<W: Write>(
    source: &dyn BlockSource,
    root: Cid,
    options: WalkOptions,
    out: W,
) -> Result<u64, ExportError> {
    let mut car = CarWriter::new(out, &[root])?;
    for block in DagWalk::new(source, root, options) {
        let block = block?;
        car.write_block(&block.cid, &block.data)?;
    }
    let written = car.bytes_written();
    car.finish()?;
    Ok(written)
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The DAG could not be read.
    #[error(transparent)]
    Dag(#[from] DagError),
    /// The output could not be written.
    #[error("writing the CAR: {0}")]
    Io(#[from] io::Error),
}

/// What a fully read CAR contained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarSummary {
    /// The header's roots.
    pub roots: Vec<Cid>,
    /// Blocks read (duplicates included).
    pub blocks: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Streams and verifies the blocks of a CAR.
#[derive(Debug)]
pub struct CarReader<R> {
    input: R,
    offset: u64,
    roots: Vec<Cid>,
    seen: HashSet<Vec<u8>>,
    needed: HashSet<Vec<u8>>,
    needed_cids: Vec<Cid>,
    blocks: u64,
}

impl<R: Read> CarReader<R> {
    /// Reads and checks the header.
    pub fn new(mut input: R) -> Result<CarReader<Box<dyn Read + Send>>, CarError>
    where
        R: Send + 'static,
    {
        let (header, mut offset) = read_header(&mut input)?;
        let version = header_version(&header)?;
        let roots = match version {
            1 => header_roots(&header)?,
            2 => {
                let mut fixed = [0u8; 40];
                input
                    .read_exact(&mut fixed)
                    .map_err(|_| CarError::BadHeader {
                        reason: "CAR v2 header is truncated".into(),
                    })?;
                offset += 40;
                let word = |i: usize| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(fixed.get(i..i + 8).unwrap_or(&[0; 8]));
                    u64::from_le_bytes(w)
                };
                let (data_offset, data_size) = (word(16), word(24));
                if data_offset < offset {
                    return Err(CarError::BadHeader {
                        reason: "CAR v2 data offset overlaps its header".into(),
                    });
                }
                io::copy(
                    &mut (&mut input).take(data_offset - offset),
                    &mut io::sink(),
                )?;
                let mut inner: Box<dyn Read + Send> = Box::new(input.take(data_size));
                let (header, inner_offset) = read_header(&mut inner)?;
                if header_version(&header)? != 1 {
                    return Err(CarError::BadHeader {
                        reason: "CAR v2 payload is not CAR v1".into(),
                    });
                }
                let roots = header_roots(&header)?;
                return Ok(CarReader::with_roots(
                    inner,
                    data_offset + inner_offset,
                    roots,
                ));
            }
            version => return Err(CarError::UnsupportedVersion { version }),
        };
        Ok(CarReader::with_roots(Box::new(input), offset, roots))
    }
}

impl CarReader<Box<dyn Read + Send>> {
    fn with_roots(input: Box<dyn Read + Send>, offset: u64, roots: Vec<Cid>) -> Self {
        let needed = roots.iter().map(|c| c.hash().to_bytes()).collect();
        CarReader {
            input,
            offset,
            needed_cids: roots.clone(),
            roots,
            seen: HashSet::new(),
            needed,
            blocks: 0,
        }
    }

    /// The roots the header names.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// The next verified block, or `None` at the end of the CAR.
    pub fn next_block(&mut self) -> Result<Option<Block>, CarError> {
        let frame_offset = self.offset;
        let len = match varint::read(&mut self.input)? {
            None => return Ok(None),
            Some(Err(source)) => {
                return Err(CarError::BadVarint {
                    offset: frame_offset,
                    source,
                });
            }
            Some(Ok(len)) => len,
        };
        self.offset += varint::encoded_len(len) as u64;
        if len > MAX_FRAME_LEN {
            return Err(CarError::FrameTooLarge {
                offset: frame_offset,
                len,
            });
        }
        // Read the CID from a small head, then the data into one buffer of
        // exactly its size: no copy of the frame, no over-allocation.
        let mut head = [0u8; 128];
        let head_len = (len as usize).min(head.len());
        let head = head.get_mut(..head_len).unwrap_or_default();
        let got = read_full(&mut self.input, head)? as u64;
        if got < head_len as u64 {
            self.offset += got;
            return Err(CarError::TruncatedBlock {
                offset: frame_offset,
                expected: len,
                got,
            });
        }
        let mut cursor = io::Cursor::new(&head[..]);
        let cid = Cid::read_bytes(&mut cursor).map_err(|e| CarError::BadCid {
            offset: frame_offset,
            reason: e.to_string(),
        })?;
        let cid_len = cursor.position() as usize;
        let mut data = Vec::with_capacity(len as usize - cid_len);
        data.extend_from_slice(head.get(cid_len..).unwrap_or_default());
        let rest = len - head_len as u64;
        let more = (&mut self.input).take(rest).read_to_end(&mut data)? as u64;
        self.offset += head_len as u64 + more;
        if more < rest {
            return Err(CarError::TruncatedBlock {
                offset: frame_offset,
                expected: len,
                got: head_len as u64 + more,
            });
        }
        verify_block(&cid, &data).map_err(|source| CarError::HashMismatch {
            offset: frame_offset,
            source,
        })?;
        let links = block_links(&cid, &data).map_err(|e| CarError::BadBlock {
            offset: frame_offset,
            cid,
            reason: e.to_string(),
        })?;
        self.seen.insert(cid.hash().to_bytes());
        for link in links {
            if self.needed.insert(link.hash().to_bytes()) {
                self.needed_cids.push(link);
            }
        }
        self.blocks += 1;
        Ok(Some(Block { cid, data }))
    }

    /// Checks that every root is present and no linked block is missing.
    /// Call after [`CarReader::next_block`] returned `None`.
    pub fn finish(self) -> Result<CarSummary, CarError> {
        for root in &self.roots {
            if !self.seen.contains(&root.hash().to_bytes()) {
                return Err(CarError::RootNotInCar { cid: *root });
            }
        }
        for cid in &self.needed_cids {
            if !self.seen.contains(&cid.hash().to_bytes()) {
                return Err(CarError::MissingBlock { cid: *cid });
            }
        }
        Ok(CarSummary {
            roots: self.roots,
            blocks: self.blocks,
            bytes: self.offset,
        })
    }
}

/// Fills `buf` as far as the input allows; returns the bytes read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_header<R: Read>(input: &mut R) -> Result<(Value, u64), CarError> {
    let len = match varint::read(input)? {
        None => {
            return Err(CarError::BadHeader {
                reason: "the input is empty".into(),
            });
        }
        Some(Err(source)) => return Err(CarError::BadVarint { offset: 0, source }),
        Some(Ok(len)) => len,
    };
    if len == 0 || len > MAX_HEADER_LEN {
        return Err(CarError::BadHeader {
            reason: format!("header length {len} is out of range"),
        });
    }
    let mut body = Vec::with_capacity(len as usize);
    input.take(len).read_to_end(&mut body)?;
    if (body.len() as u64) < len {
        return Err(CarError::BadHeader {
            reason: "the input ends inside the header".into(),
        });
    }
    let mut decoder = cbor::Decoder::new(&body);
    let value = decoder
        .value()
        .map_err(|reason| CarError::BadHeader { reason })?;
    if !decoder.at_end() {
        return Err(CarError::BadHeader {
            reason: "trailing bytes after the header map".into(),
        });
    }
    Ok((value, varint::encoded_len(len) as u64 + len))
}

fn header_field<'v>(header: &'v Value, name: &str) -> Option<&'v Value> {
    match header {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == name))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn header_version(header: &Value) -> Result<u64, CarError> {
    if !matches!(header, Value::Map(_)) {
        return Err(CarError::BadHeader {
            reason: "header is not a map".into(),
        });
    }
    match header_field(header, "version") {
        Some(Value::Uint(v)) => Ok(*v),
        Some(_) => Err(CarError::BadHeader {
            reason: "version is not an integer".into(),
        }),
        None => Err(CarError::BadHeader {
            reason: "header has no version".into(),
        }),
    }
}

fn header_roots(header: &Value) -> Result<Vec<Cid>, CarError> {
    let Some(Value::Array(items)) = header_field(header, "roots") else {
        return Err(CarError::BadHeader {
            reason: "header has no roots array".into(),
        });
    };
    if items.is_empty() {
        return Err(CarError::BadHeader {
            reason: "header names no roots".into(),
        });
    }
    items
        .iter()
        .map(|v| match v {
            Value::Cid(c) => Ok(*c),
            _ => Err(CarError::BadHeader {
                reason: "a root is not a CID".into(),
            }),
        })
        .collect()
}
