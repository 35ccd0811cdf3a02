//! The dag-pb codec (multicodec 0x70): protobuf `PBNode { Links, Data }`.
//!
//! Encoding follows the dag-pb spec byte for byte (links first, then data;
//! inside a link: Hash, Name, Tsize), which is what kubo and Helia hash.
//! Decoding is strict in the same way: fields in canonical order, each at
//! most once, no unknown fields, so one node has exactly one encoding and a
//! hostile block cannot smuggle bytes past a CID check.

use cid::Cid;

use crate::varint;

/// A link from a dag-pb node to a child block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbLink {
    /// The child's CID.
    pub cid: Cid,
    /// The link name; UnixFS file nodes use an empty (present) name.
    pub name: Option<String>,
    /// The cumulative size of the child's DAG, as the producer recorded it.
    pub tsize: Option<u64>,
}

/// A decoded dag-pb node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PbNode {
    /// Links, in order.
    pub links: Vec<PbLink>,
    /// The opaque data field (UnixFS metadata in practice).
    pub data: Option<Vec<u8>>,
}

/// Why bytes are not a valid dag-pb node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PbError {
    /// A protobuf varint (tag, length or value) is malformed.
    #[error("dag-pb: bad varint at byte {offset}: {source}")]
    Varint {
        /// Byte offset within the enclosing message.
        offset: usize,
        /// What was wrong with it.
        source: varint::VarintError,
    },
    /// A length-delimited field runs past the end of its message.
    #[error("dag-pb: field at byte {offset} claims {len} bytes but only {available} remain")]
    Truncated {
        /// Byte offset of the field.
        offset: usize,
        /// Claimed length.
        len: u64,
        /// Bytes left in the message.
        available: usize,
    },
    /// A field number or wire type that dag-pb does not define.
    #[error("dag-pb: unexpected field {field} (wire type {wire_type}) in {message}")]
    UnexpectedField {
        /// The protobuf message being decoded (`PBNode` or `PBLink`).
        message: &'static str,
        /// Field number.
        field: u64,
        /// Wire type.
        wire_type: u64,
    },
    /// Fields out of canonical order or repeated where only one is allowed.
    #[error("dag-pb: field {field} of {message} is out of order or repeated")]
    NonCanonical {
        /// The protobuf message being decoded.
        message: &'static str,
        /// Field number.
        field: u64,
    },
    /// A link without its required Hash.
    #[error("dag-pb: link {index} has no Hash")]
    MissingHash {
        /// The link's position.
        index: usize,
    },
    /// A link's Hash is not a CID.
    #[error("dag-pb: link {index} has an invalid CID: {reason}")]
    BadCid {
        /// The link's position.
        index: usize,
        /// The parser's complaint.
        reason: String,
    },
    /// A link name that is not UTF-8.
    #[error("dag-pb: link {index} name is not UTF-8")]
    BadName {
        /// The link's position.
        index: usize,
    },
}

const NODE: &str = "PBNode";
const LINK: &str = "PBLink";

impl PbNode {
    /// Encodes the node canonically.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding of the node to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        for link in &self.links {
            out.push(0x12);
            varint::encode(link.encoded_len() as u64, out);
            link.encode_into(out);
        }
        if let Some(data) = &self.data {
            out.push(0x0a);
            varint::encode(data.len() as u64, out);
            out.extend_from_slice(data);
        }
    }

    /// Length of [`PbNode::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        let links: usize = self
            .links
            .iter()
            .map(|l| {
                let n = l.encoded_len();
                1 + varint::encoded_len(n as u64) + n
            })
            .sum();
        let data = self
            .data
            .as_ref()
            .map_or(0, |d| 1 + varint::encoded_len(d.len() as u64) + d.len());
        links + data
    }

    /// Decodes a node, refusing anything but the canonical form.
    pub fn decode(bytes: &[u8]) -> Result<PbNode, PbError> {
        let mut node = PbNode::default();
        let mut pos = 0;
        let mut seen_data = false;
        while pos < bytes.len() {
            let (field, wire_type, body) = read_field(bytes, &mut pos, NODE)?;
            match (field, wire_type) {
                (2, 2) if !seen_data => {
                    let index = node.links.len();
                    node.links.push(PbLink::decode(body, index)?);
                }
                (1, 2) if !seen_data => {
                    seen_data = true;
                    node.data = Some(body.to_vec());
                }
                (1 | 2, 2) => {
                    return Err(PbError::NonCanonical {
                        message: NODE,
                        field,
                    });
                }
                _ => {
                    return Err(PbError::UnexpectedField {
                        message: NODE,
                        field,
                        wire_type,
                    });
                }
            }
        }
        Ok(node)
    }
}

impl PbLink {
    fn encoded_len(&self) -> usize {
        let hash = self.cid.encoded_len();
        let mut n = 1 + varint::encoded_len(hash as u64) + hash;
        if let Some(name) = &self.name {
            n += 1 + varint::encoded_len(name.len() as u64) + name.len();
        }
        if let Some(tsize) = self.tsize {
            n += 1 + varint::encoded_len(tsize);
        }
        n
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(0x0a);
        varint::encode(self.cid.encoded_len() as u64, out);
        // Writing a CID into a Vec cannot fail.
        let _ = self.cid.write_bytes(&mut *out);
        if let Some(name) = &self.name {
            out.push(0x12);
            varint::encode(name.len() as u64, out);
            out.extend_from_slice(name.as_bytes());
        }
        if let Some(tsize) = self.tsize {
            out.push(0x18);
            varint::encode(tsize, out);
        }
    }

    fn decode(bytes: &[u8], index: usize) -> Result<PbLink, PbError> {
        let mut pos = 0;
        let mut last_field = 0;
        let mut cid = None;
        let mut name = None;
        let mut tsize = None;
        while pos < bytes.len() {
            let start = pos;
            let (field, wire_type) = read_tag(bytes, &mut pos)?;
            if field <= last_field {
                return Err(PbError::NonCanonical {
                    message: LINK,
                    field,
                });
            }
            last_field = field;
            match (field, wire_type) {
                (1, 2) => {
                    pos = start;
                    let (_, _, body) = read_field(bytes, &mut pos, LINK)?;
                    let parsed = Cid::try_from(body).map_err(|e| PbError::BadCid {
                        index,
                        reason: e.to_string(),
                    })?;
                    // The parser ignores trailing bytes and accepts overlong
                    // varints; a canonical node has exactly the CID's bytes.
                    if parsed.to_bytes() != body {
                        return Err(PbError::BadCid {
                            index,
                            reason: "hash field is not a canonically encoded CID".into(),
                        });
                    }
                    cid = Some(parsed);
                }
                (2, 2) => {
                    pos = start;
                    let (_, _, body) = read_field(bytes, &mut pos, LINK)?;
                    let text = std::str::from_utf8(body).map_err(|_| PbError::BadName { index })?;
                    name = Some(text.to_owned());
                }
                (3, 0) => {
                    let (value, used) = varint::decode(bytes.get(pos..).unwrap_or_default())
                        .map_err(|source| PbError::Varint {
                            offset: pos,
                            source,
                        })?;
                    pos += used;
                    tsize = Some(value);
                }
                _ => {
                    return Err(PbError::UnexpectedField {
                        message: LINK,
                        field,
                        wire_type,
                    });
                }
            }
        }
        let cid = cid.ok_or(PbError::MissingHash { index })?;
        Ok(PbLink { cid, name, tsize })
    }
}

fn read_tag(bytes: &[u8], pos: &mut usize) -> Result<(u64, u64), PbError> {
    let (tag, used) = varint::decode(bytes.get(*pos..).unwrap_or_default()).map_err(|source| {
        PbError::Varint {
            offset: *pos,
            source,
        }
    })?;
    *pos += used;
    Ok((tag >> 3, tag & 7))
}

/// Reads a tag and, for length-delimited fields, the body. Other wire types
/// return an empty body and leave `pos` at the value.
fn read_field<'a>(
    bytes: &'a [u8],
    pos: &mut usize,
    message: &'static str,
) -> Result<(u64, u64, &'a [u8]), PbError> {
    let (field, wire_type) = read_tag(bytes, pos)?;
    if wire_type != 2 {
        return Err(PbError::UnexpectedField {
            message,
            field,
            wire_type,
        });
    }
    let offset = *pos;
    let (len, used) = varint::decode(bytes.get(offset..).unwrap_or_default())
        .map_err(|source| PbError::Varint { offset, source })?;
    let start = offset + used;
    let available = bytes.len().saturating_sub(start);
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| start.checked_add(l))
        .filter(|&end| end <= bytes.len())
        .ok_or(PbError::Truncated {
            offset,
            len,
            available,
        })?;
    *pos = end;
    Ok((field, wire_type, bytes.get(start..end).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profile;

    fn sample() -> PbNode {
        let leaf = Profile::UnixfsV1_2025.raw_leaf_cid(b"hello");
        PbNode {
            links: vec![
                PbLink {
                    cid: leaf,
                    name: Some(String::new()),
                    tsize: Some(5),
                },
                PbLink {
                    cid: leaf,
                    name: Some("a/b".into()),
                    tsize: None,
                },
            ],
            data: Some(vec![8, 2]),
        }
    }

    #[test]
    fn round_trip_and_length() {
        let node = sample();
        let bytes = node.encode();
        assert_eq!(bytes.len(), node.encoded_len());
        assert_eq!(PbNode::decode(&bytes), Ok(node));
        assert_eq!(PbNode::decode(&[]), Ok(PbNode::default()));
    }

    #[test]
    fn refuses_non_canonical_forms() {
        let node = sample();
        let mut bytes = node.encode();
        // Data before links.
        let mut swapped = vec![0x0a, 0x02, 8, 2];
        swapped.extend_from_slice(&bytes[..bytes.len() - 4]);
        assert!(matches!(
            PbNode::decode(&swapped),
            Err(PbError::NonCanonical { .. })
        ));
        // Data twice.
        bytes.extend_from_slice(&[0x0a, 0x00]);
        assert!(matches!(
            PbNode::decode(&bytes),
            Err(PbError::NonCanonical { .. })
        ));
        // An unknown field.
        assert!(matches!(
            PbNode::decode(&[0x18, 0x01]),
            Err(PbError::UnexpectedField { field: 3, .. })
        ));
        // A link with no hash.
        assert_eq!(
            PbNode::decode(&[0x12, 0x02, 0x18, 0x01]),
            Err(PbError::MissingHash { index: 0 })
        );
        // A length past the end.
        assert!(matches!(
            PbNode::decode(&[0x0a, 0x05, 1]),
            Err(PbError::Truncated { .. })
        ));
    }
}
