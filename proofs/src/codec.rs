//! The byte format of everything this crate writes for others to read back:
//! phase outputs (journalled by a storage node, reloaded after a crash) and
//! vanilla proofs (sent to the ledger).
//!
//! Canonical and explicit: fixed-width little-endian integers, 32-byte nodes
//! as is, lengths as u32 before every list and checked against a maximum
//! before anything is allocated, no trailing bytes. One encoding per value,
//! so a proof's bytes can be hashed and signed. Every document starts with a
//! header naming its kind and format version; journal documents end with a
//! SHA-256 of all that precedes, so a torn or corrupted write is refused as
//! such instead of being misread.
//!
//! Hand-written rather than serde + a binary format: the structures are
//! flat (nodes, integers, lists of them), the format must never change
//! under us with a dependency bump, and the decoder has to be total — every
//! input either decodes or returns a [`CodecError`] saying what was wrong,
//! which the fuzz targets check.

use sha2::{Digest, Sha256};

/// Leading bytes of every document.
pub const MAGIC: [u8; 4] = *b"CRNP";

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The input ended inside a field.
    #[error("truncated: input ended while reading {what}")]
    Truncated {
        /// The field being read.
        what: &'static str,
    },
    /// Not one of our documents.
    #[error("not a cairn-proofs document (bad magic)")]
    BadMagic,
    /// Another kind of document than the one expected.
    #[error("expected a {expected} document, found kind {found}")]
    WrongKind {
        /// Kind expected.
        expected: &'static str,
        /// Kind tag found.
        found: u8,
    },
    /// A format version this build cannot read.
    #[error("{kind} format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// Document kind.
        kind: &'static str,
        /// Version found.
        found: u16,
        /// Version supported.
        supported: u16,
    },
    /// The checksum at the end does not match the content.
    #[error("{kind} document is corrupt: checksum mismatch")]
    Checksum {
        /// Document kind.
        kind: &'static str,
    },
    /// A list longer than any valid document has.
    #[error("{what}: {len} entries, at most {max} allowed")]
    TooLong {
        /// The list.
        what: &'static str,
        /// Length found.
        len: u64,
        /// Largest valid length.
        max: u64,
    },
    /// A field holding a value outside its domain.
    #[error("invalid {what}: {why}")]
    Invalid {
        /// The field.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Bytes after the end of the document.
    #[error("{0} trailing bytes after the document")]
    Trailing(usize),
}

/// Document kinds: the byte after the magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// PreCommit 1 output.
    PreCommit1 = 1,
    /// PreCommit 2 output.
    PreCommit2 = 2,
    /// Commit 1 output (the vanilla PoRep proofs with their public inputs).
    Commit1 = 3,
    /// A vanilla PoRep proof of one partition.
    PorepPartition = 4,
    /// A vanilla WindowPoSt proof of one partition.
    WindowPost = 5,
}

impl Kind {
    /// Human name for errors.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PreCommit1 => "PreCommit1 output",
            Kind::PreCommit2 => "PreCommit2 output",
            Kind::Commit1 => "Commit1 output",
            Kind::PorepPartition => "PoRep partition proof",
            Kind::WindowPost => "WindowPoSt proof",
        }
    }
}

/// Builds a document.
#[derive(Debug, Default)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// Starts a document of `kind` at format `version`.
    pub fn new(kind: Kind, version: u16) -> Self {
        let mut e = Self {
            buf: Vec::with_capacity(256),
        };
        e.buf.extend_from_slice(&MAGIC);
        e.u8(kind as u8);
        e.u16(version);
        e
    }

    /// Appends a byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a u16, little-endian.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a u32, little-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a u64, little-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends 32 bytes.
    pub fn node(&mut self, v: &[u8; 32]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Appends a list length (callers then append the entries).
    pub fn len(&mut self, n: usize) -> &mut Self {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Appends a length-prefixed UTF-8 string.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    /// The document, without a checksum (proofs).
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// The document followed by the SHA-256 of its bytes (journal records).
    pub fn finish_checksummed(mut self) -> Vec<u8> {
        let sum: [u8; 32] = Sha256::digest(&self.buf).into();
        self.buf.extend_from_slice(&sum);
        self.buf
    }
}

/// Reads a document.
#[derive(Debug)]
pub struct Decoder<'a> {
    buf: &'a [u8],
    kind: Kind,
}

impl<'a> Decoder<'a> {
    /// Checks the header (and, for `checksummed` documents, the trailing
    /// SHA-256), and returns the decoder positioned on the body and the
    /// document's version, which must be at most `supported`.
    pub fn new(
        bytes: &'a [u8],
        kind: Kind,
        supported: u16,
        checksummed: bool,
    ) -> Result<(Self, u16), CodecError> {
        let mut body = bytes;
        if checksummed {
            let split = bytes
                .len()
                .checked_sub(32)
                .ok_or(CodecError::Truncated { what: "checksum" })?;
            let (content, sum) = bytes.split_at(split);
            if content.get(..4) == Some(&MAGIC[..]) && Sha256::digest(content).as_slice() != sum {
                return Err(CodecError::Checksum { kind: kind.name() });
            }
            body = content;
        }
        let mut d = Self { buf: body, kind };
        let magic = d.take(4, "magic")?;
        if magic != MAGIC {
            return Err(CodecError::BadMagic);
        }
        let found = d.u8("kind")?;
        if found != kind as u8 {
            return Err(CodecError::WrongKind {
                expected: kind.name(),
                found,
            });
        }
        let version = d.u16("version")?;
        if version == 0 || version > supported {
            return Err(CodecError::UnsupportedVersion {
                kind: kind.name(),
                found: version,
                supported,
            });
        }
        Ok((d, version))
    }

    /// The document kind being read.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::Truncated { what });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// Reads a byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = self.take(1, what)?;
        Ok(b.first().copied().unwrap_or(0))
    }

    /// Reads a u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, CodecError> {
        let mut a = [0u8; 2];
        a.copy_from_slice(self.take(2, what)?);
        Ok(u16::from_le_bytes(a))
    }

    /// Reads a u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, CodecError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(a))
    }

    /// Reads a u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads 32 bytes.
    pub fn node(&mut self, what: &'static str) -> Result<[u8; 32], CodecError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32, what)?);
        Ok(a)
    }

    /// Reads a list length, refusing more than `max` entries, and more than
    /// the remaining bytes could hold at `min_entry_bytes` each.
    pub fn len(
        &mut self,
        what: &'static str,
        max: u64,
        min_entry_bytes: usize,
    ) -> Result<usize, CodecError> {
        let n = u64::from(self.u32(what)?);
        let fits = (self.buf.len() / min_entry_bytes.max(1)) as u64;
        if n > max {
            return Err(CodecError::TooLong { what, len: n, max });
        }
        if n > fits {
            return Err(CodecError::Truncated { what });
        }
        Ok(n as usize)
    }

    /// Reads a length-prefixed UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, what: &'static str, max: u64) -> Result<String, CodecError> {
        let n = self.len(what, max, 1)?;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|e| CodecError::Invalid {
            what,
            why: e.to_string(),
        })
    }

    /// Ends the document: no bytes may remain.
    pub fn finish(self) -> Result<(), CodecError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(CodecError::Trailing(self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(checksummed: bool) -> Vec<u8> {
        let mut e = Encoder::new(Kind::PreCommit1, 1);
        e.u64(7).node(&[9; 32]).len(2).u32(1).u32(2).str("sc-02");
        if checksummed {
            e.finish_checksummed()
        } else {
            e.finish()
        }
    }

    fn read(
        bytes: &[u8],
        checksummed: bool,
    ) -> Result<(u64, [u8; 32], Vec<u32>, String), CodecError> {
        let (mut d, v) = Decoder::new(bytes, Kind::PreCommit1, 1, checksummed)?;
        assert_eq!(v, 1);
        let a = d.u64("a")?;
        let n = d.node("n")?;
        let k = d.len("list", 10, 4)?;
        let l = (0..k).map(|_| d.u32("entry")).collect::<Result<_, _>>()?;
        let s = d.str("name", 64)?;
        d.finish()?;
        Ok((a, n, l, s))
    }

    #[test]
    fn round_trip_and_every_refusal() {
        for cs in [false, true] {
            let bytes = doc(cs);
            assert_eq!(
                read(&bytes, cs).unwrap(),
                (7, [9; 32], vec![1, 2], "sc-02".into())
            );
            // Every truncation is refused, never a panic.
            for cut in 0..bytes.len() {
                assert!(read(&bytes[..cut], cs).is_err(), "cut {cut}");
            }
        }
        let mut bytes = doc(true);
        bytes[10] ^= 1;
        assert_eq!(
            read(&bytes, true),
            Err(CodecError::Checksum {
                kind: "PreCommit1 output"
            })
        );
        let mut bytes = doc(false);
        bytes.push(0);
        assert_eq!(read(&bytes, false), Err(CodecError::Trailing(1)));
        let mut bytes = doc(false);
        bytes[0] = b'X';
        assert_eq!(read(&bytes, false), Err(CodecError::BadMagic));
        let mut bytes = doc(false);
        bytes[4] = Kind::Commit1 as u8;
        assert!(matches!(
            read(&bytes, false),
            Err(CodecError::WrongKind { found: 3, .. })
        ));
        let mut bytes = doc(false);
        bytes[5] = 2;
        assert!(matches!(
            read(&bytes, false),
            Err(CodecError::UnsupportedVersion { found: 2, .. })
        ));
        // A huge declared length is refused before allocating.
        let mut e = Encoder::new(Kind::PreCommit1, 1);
        e.u64(7).node(&[9; 32]).u32(u32::MAX);
        assert!(matches!(
            read(&e.finish(), false),
            Err(CodecError::TooLong { .. })
        ));
        let mut e = Encoder::new(Kind::PreCommit1, 1);
        e.u64(7).node(&[9; 32]).u32(9);
        assert!(matches!(
            read(&e.finish(), false),
            Err(CodecError::Truncated { what: "list" })
        ));
    }
}
