//! The smallest strict dag-cbor subset needed for CAR headers.
//!
//! A CAR v1 header is `{"roots": [CID...], "version": 1}`; a CAR v2 file
//! opens with the pragma `{"version": 2}`. This reader understands maps,
//! arrays, unsigned integers, text, byte strings, tag 42 (CIDs) and the
//! simple values, with every length bounded by the input it was given.

use cid::Cid;

/// A decoded CBOR value (the subset above).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Uint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Cid(Cid),
    Simple(u8),
}

pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

const MAX_NESTING: usize = 16;

impl<'a> Decoder<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder {
            bytes,
            pos: 0,
            depth: 0,
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or("input ends inside a CBOR item")?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n).map_err(|_| "CBOR length too large")?;
        let end = self.pos.checked_add(n).ok_or("CBOR length too large")?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or("input ends inside a CBOR string")?;
        self.pos = end;
        Ok(out)
    }

    fn argument(&mut self, info: u8) -> Result<u64, String> {
        let width = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Err(format!("unsupported CBOR additional info {info}")),
        };
        let bytes = self.take(width)?;
        let value = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let minimal = match width {
            1 => value >= 24,
            2 => value > 0xff,
            4 => value > 0xffff,
            _ => value > 0xffff_ffff,
        };
        if !minimal {
            return Err("CBOR integer is not minimally encoded".into());
        }
        Ok(value)
    }

    pub(crate) fn value(&mut self) -> Result<Value, String> {
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        if major == 7 {
            return match info {
                20..=22 => Ok(Value::Simple(info)),
                _ => Err(format!("unsupported CBOR simple value {info}")),
            };
        }
        let arg = self.argument(info)?;
        match major {
            0 => Ok(Value::Uint(arg)),
            2 => Ok(Value::Bytes(self.take(arg)?.to_vec())),
            3 => {
                let raw = self.take(arg)?;
                let text = std::str::from_utf8(raw).map_err(|_| "CBOR text is not UTF-8")?;
                Ok(Value::Text(text.to_owned()))
            }
            4 | 5 => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err("CBOR nesting too deep".into());
                }
                // Every item takes at least one byte: bound the count by the input.
                let remaining = (self.bytes.len() - self.pos) as u64;
                if arg > remaining {
                    return Err("CBOR container longer than its input".into());
                }
                // Reserve no more than a small bound up front: the count is
                // attacker-controlled, growth past it is paid as items arrive.
                let reserve = (arg as usize).min(64);
                let out = if major == 4 {
                    let mut items = Vec::with_capacity(reserve);
                    for _ in 0..arg {
                        items.push(self.value()?);
                    }
                    Value::Array(items)
                } else {
                    let mut entries = Vec::with_capacity(reserve);
                    for _ in 0..arg {
                        let k = self.value()?;
                        let v = self.value()?;
                        entries.push((k, v));
                    }
                    Value::Map(entries)
                };
                self.depth -= 1;
                Ok(out)
            }
            6 if arg == 42 => {
                // A CID is a tag-42 byte string: nothing else may sit under
                // the tag, which also keeps tags from nesting without bound.
                if self.bytes.get(self.pos).map(|b| b >> 5) != Some(2) {
                    return Err("tag 42 must wrap a byte string".into());
                }
                match self.value()? {
                    Value::Bytes(b) if b.first() == Some(&0) => {
                        let raw = b.get(1..).unwrap_or_default();
                        let cid = Cid::try_from(raw)
                            .map_err(|e| format!("invalid CID in header: {e}"))?;
                        if cid.to_bytes() != raw {
                            return Err("CID in header is not canonically encoded".into());
                        }
                        Ok(Value::Cid(cid))
                    }
                    _ => Err("tag 42 must wrap bytes starting with 0x00".into()),
                }
            }
            6 => Err(format!("unsupported CBOR tag {arg}")),
            _ => Err(format!("unsupported CBOR major type {major}")),
        }
    }
}

fn head(major: u8, value: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if value < 24 {
        out.push(m | value as u8);
    } else if value <= 0xff {
        out.extend_from_slice(&[m | 24, value as u8]);
    } else if value <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(value as u16).to_be_bytes());
    } else if value <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(value as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&value.to_be_bytes());
    }
}

/// Encodes a CAR v1 header body: `{"roots": [...], "version": 1}` in
/// dag-cbor's canonical key order.
pub(crate) fn encode_car_header(roots: &[Cid]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + roots.len() * 40);
    head(5, 2, &mut out);
    head(3, 5, &mut out);
    out.extend_from_slice(b"roots");
    head(4, roots.len() as u64, &mut out);
    for cid in roots {
        let bytes = cid.to_bytes();
        head(6, 42, &mut out);
        head(2, bytes.len() as u64 + 1, &mut out);
        out.push(0);
        out.extend_from_slice(&bytes);
    }
    head(3, 7, &mut out);
    out.extend_from_slice(b"version");
    head(0, 1, &mut out);
    out
}
