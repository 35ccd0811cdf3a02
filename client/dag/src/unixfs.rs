//! The UnixFS `Data` message carried in a dag-pb node's data field.
//!
//! Encoding writes the fields kubo writes, in field order, so that file and
//! directory nodes hash identically. Decoding accepts any valid protobuf
//! (field order, packed or unpacked `blocksizes`) but bounds every size.

use crate::varint;

/// The UnixFS node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataType {
    /// Raw bytes (legacy leaves produced by very old importers).
    Raw,
    /// A plain directory.
    Directory,
    /// A file, or part of one.
    File,
    /// Metadata (deprecated).
    Metadata,
    /// A symbolic link; `data` is the target.
    Symlink,
    /// A HAMT-sharded directory.
    HamtShard,
}

impl DataType {
    fn code(self) -> u64 {
        match self {
            DataType::Raw => 0,
            DataType::Directory => 1,
            DataType::File => 2,
            DataType::Metadata => 3,
            DataType::Symlink => 4,
            DataType::HamtShard => 5,
        }
    }

    fn from_code(code: u64) -> Option<DataType> {
        Some(match code {
            0 => DataType::Raw,
            1 => DataType::Directory,
            2 => DataType::File,
            3 => DataType::Metadata,
            4 => DataType::Symlink,
            5 => DataType::HamtShard,
            _ => return None,
        })
    }
}

/// A decoded UnixFS `Data` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixFsData {
    /// The node type.
    pub kind: DataType,
    /// Inline bytes: file contents, symlink target or HAMT bitfield.
    pub data: Option<Vec<u8>>,
    /// Total file bytes below this node.
    pub filesize: Option<u64>,
    /// File bytes under each link, in link order.
    pub blocksizes: Vec<u64>,
    /// HAMT hash function (0x22 = murmur3-x64-64).
    pub hash_type: Option<u64>,
    /// HAMT fan-out.
    pub fanout: Option<u64>,
    /// POSIX mode bits.
    pub mode: Option<u32>,
    /// Modification time: seconds and optional nanoseconds.
    pub mtime: Option<(i64, Option<u32>)>,
}

/// Why bytes are not a valid UnixFS `Data` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnixFsError {
    /// Malformed protobuf framing.
    #[error("unixfs: malformed protobuf at byte {offset}")]
    Malformed {
        /// Where decoding stopped.
        offset: usize,
    },
    /// The required Type field is missing.
    #[error("unixfs: missing Type")]
    MissingType,
    /// A Type value outside the spec.
    #[error("unixfs: unknown Type {code}")]
    UnknownType {
        /// The value found.
        code: u64,
    },
    /// More blocksizes than any node could have links.
    #[error("unixfs: {count} blocksizes exceed the limit")]
    TooManyBlocksizes {
        /// How many were found.
        count: usize,
    },
}

/// Upper bound on `blocksizes` entries accepted from outside bytes (a 2 MiB
/// block cannot hold more links than this).
const MAX_BLOCKSIZES: usize = 1 << 18;

impl UnixFsData {
    /// A file node with inline data or blocksizes.
    pub fn file(data: Option<Vec<u8>>, filesize: u64, blocksizes: Vec<u64>) -> UnixFsData {
        UnixFsData {
            kind: DataType::File,
            data,
            filesize: Some(filesize),
            blocksizes,
            hash_type: None,
            fanout: None,
            mode: None,
            mtime: None,
        }
    }

    /// A bare node of `kind` with no optional fields.
    pub fn of_kind(kind: DataType) -> UnixFsData {
        UnixFsData {
            kind,
            data: None,
            filesize: None,
            blocksizes: Vec::new(),
            hash_type: None,
            fanout: None,
            mode: None,
            mtime: None,
        }
    }

    /// Encodes in field order, as kubo does.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.data.as_ref().map_or(0, Vec::len));
        out.push(0x08);
        varint::encode(self.kind.code(), &mut out);
        if let Some(data) = &self.data {
            out.push(0x12);
            varint::encode(data.len() as u64, &mut out);
            out.extend_from_slice(data);
        }
        if let Some(size) = self.filesize {
            out.push(0x18);
            varint::encode(size, &mut out);
        }
        for size in &self.blocksizes {
            out.push(0x20);
            varint::encode(*size, &mut out);
        }
        if let Some(hash_type) = self.hash_type {
            out.push(0x28);
            varint::encode(hash_type, &mut out);
        }
        if let Some(fanout) = self.fanout {
            out.push(0x30);
            varint::encode(fanout, &mut out);
        }
        if let Some(mode) = self.mode {
            out.push(0x38);
            varint::encode(u64::from(mode), &mut out);
        }
        if let Some((secs, nanos)) = self.mtime {
            let mut inner = vec![0x08];
            varint::encode(secs as u64, &mut inner);
            if let Some(n) = nanos {
                inner.push(0x15);
                inner.extend_from_slice(&n.to_le_bytes());
            }
            out.push(0x42);
            varint::encode(inner.len() as u64, &mut out);
            out.extend_from_slice(&inner);
        }
        out
    }

    /// Decodes a `Data` message.
    pub fn decode(bytes: &[u8]) -> Result<UnixFsData, UnixFsError> {
        let mut node = UnixFsData::of_kind(DataType::Raw);
        let mut kind = None;
        let mut r = Cursor { bytes, pos: 0 };
        while !r.done() {
            let tag = r.varint()?;
            match (tag >> 3, tag & 7) {
                (1, 0) => {
                    let code = r.varint()?;
                    kind =
                        Some(DataType::from_code(code).ok_or(UnixFsError::UnknownType { code })?);
                }
                (2, 2) => node.data = Some(r.bytes()?.to_vec()),
                (3, 0) => node.filesize = Some(r.varint()?),
                (4, 0) => node.blocksizes.push(r.varint()?),
                (4, 2) => {
                    let mut packed = Cursor {
                        bytes: r.bytes()?,
                        pos: 0,
                    };
                    while !packed.done() {
                        node.blocksizes.push(packed.varint()?);
                        if node.blocksizes.len() > MAX_BLOCKSIZES {
                            break;
                        }
                    }
                }
                (5, 0) => node.hash_type = Some(r.varint()?),
                (6, 0) => node.fanout = Some(r.varint()?),
                (7, 0) => node.mode = Some(r.varint()? as u32),
                (8, 2) => {
                    let mut t = Cursor {
                        bytes: r.bytes()?,
                        pos: 0,
                    };
                    let mut secs = 0i64;
                    let mut nanos = None;
                    while !t.done() {
                        match t.varint()? {
                            0x08 => secs = t.varint()? as i64,
                            0x15 => nanos = Some(u32::from_le_bytes(t.fixed4()?)),
                            _ => return Err(UnixFsError::Malformed { offset: r.pos }),
                        }
                    }
                    node.mtime = Some((secs, nanos));
                }
                _ => r.skip(tag & 7)?,
            }
            if node.blocksizes.len() > MAX_BLOCKSIZES {
                return Err(UnixFsError::TooManyBlocksizes {
                    count: node.blocksizes.len(),
                });
            }
        }
        node.kind = kind.ok_or(UnixFsError::MissingType)?;
        Ok(node)
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn err(&self) -> UnixFsError {
        UnixFsError::Malformed { offset: self.pos }
    }

    fn varint(&mut self) -> Result<u64, UnixFsError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let (v, used) = varint::decode(rest).map_err(|_| self.err())?;
        self.pos += used;
        Ok(v)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], UnixFsError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.err())?;
        let out = self.bytes.get(self.pos..end).ok_or_else(|| self.err())?;
        self.pos = end;
        Ok(out)
    }

    fn bytes(&mut self) -> Result<&'a [u8], UnixFsError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.err())?;
        self.take(len)
    }

    fn fixed4(&mut self) -> Result<[u8; 4], UnixFsError> {
        let b = self.take(4)?;
        let mut out = [0u8; 4];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn skip(&mut self, wire_type: u64) -> Result<(), UnixFsError> {
        match wire_type {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.bytes().map(drop),
            5 => self.take(4).map(drop),
            _ => Err(self.err()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_matches_kubo_bytes() {
        // kubo's empty file node data: Type=File, filesize=0, no Data field.
        assert_eq!(
            UnixFsData::file(None, 0, vec![]).encode(),
            vec![0x08, 0x02, 0x18, 0x00]
        );
        assert_eq!(
            UnixFsData::of_kind(DataType::Directory).encode(),
            vec![0x08, 0x01]
        );
    }

    #[test]
    fn round_trip_all_fields() {
        let node = UnixFsData {
            kind: DataType::HamtShard,
            data: Some(vec![1, 2, 3]),
            filesize: Some(9),
            blocksizes: vec![1, 300, 70_000],
            hash_type: Some(0x22),
            fanout: Some(256),
            mode: Some(0o644),
            mtime: Some((1_700_000_000, Some(5))),
        };
        assert_eq!(UnixFsData::decode(&node.encode()), Ok(node));
    }

    #[test]
    fn accepts_packed_blocksizes_and_rejects_garbage() {
        let packed = [0x08, 0x02, 0x22, 0x03, 0x01, 0xac, 0x02];
        assert_eq!(
            UnixFsData::decode(&packed).map(|d| d.blocksizes),
            Ok(vec![1, 300])
        );
        assert_eq!(
            UnixFsData::decode(&[0x18, 0x00]),
            Err(UnixFsError::MissingType)
        );
        assert_eq!(
            UnixFsData::decode(&[0x08, 0x09]),
            Err(UnixFsError::UnknownType { code: 9 })
        );
        assert!(matches!(
            UnixFsData::decode(&[0x12, 0x05, 0x00]),
            Err(UnixFsError::Malformed { .. })
        ));
    }
}
