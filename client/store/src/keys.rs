//! Database layout: column families, key encodings, ids and the value codec.
//!
//! All of the on-disk format lives here so that a format change is one diff.
//!
//! | column family | key | value |
//! | --- | --- | --- |
//! | `blocks` | multihash bytes | block bytes (blob files for values ≥ 4 KiB) |
//! | `refcounts` | multihash bytes | `u64` BE: number of distinct holders |
//! | `refs` | holder id (`u64` BE) ‖ multihash bytes | empty |
//! | `objects` | bucket ‖ `0x00` ‖ key | [`StoredObject`](crate::object) (codec below) |
//! | `meta` | one-byte tag ‖ … (see the `tag` constants) | per tag |
//!
//! Object keys sort as `(bucket, key)` because bucket names never contain `0x00`
//! and `0x00` is the smallest byte; within a bucket, keys sort by their UTF-8
//! bytes, which is S3's listing order.
//!
//! Values are `[CODEC_VERSION] ‖ serde_json`, so a record change is detectable.

use std::fmt;

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{NameKind, Result, StoreError, show_key};

/// Column family of block bytes.
pub(crate) const CF_BLOCKS: &str = "blocks";
/// Column family of per-block refcounts.
pub(crate) const CF_REFCOUNTS: &str = "refcounts";
/// Column family of (holder, block) references.
pub(crate) const CF_REFS: &str = "refs";
/// Column family of object records.
pub(crate) const CF_OBJECTS: &str = "objects";
/// Column family of everything small: format, buckets, markers, pins, multipart.
pub(crate) const CF_META: &str = "meta";

/// Every column family, in open order.
pub(crate) const ALL_CFS: [&str; 5] = [CF_BLOCKS, CF_REFCOUNTS, CF_REFS, CF_OBJECTS, CF_META];

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// One-byte prefixes of `meta` keys.
pub(crate) mod tag {
    /// `"format"` → `u32` BE format version.
    pub(crate) const FORMAT: &[u8] = b"\x00format";
    /// `"epoch"` → `u64` BE, bumped on every open; high bits of holder ids.
    pub(crate) const EPOCH: &[u8] = b"\x00epoch";
    /// `b` ‖ bucket → bucket record.
    pub(crate) const BUCKET: u8 = b'b';
    /// `p` ‖ holder → pending-upload marker (empty).
    pub(crate) const PENDING: u8 = b'p';
    /// `d` ‖ holder → deferred release: a released version still leased.
    pub(crate) const DEFERRED: u8 = b'd';
    /// `n` ‖ CID bytes → pin holder (`u64` BE).
    pub(crate) const PIN: u8 = b'n';
    /// `u` ‖ upload id → multipart upload record.
    pub(crate) const MP_UPLOAD: u8 = b'u';
    /// `m` ‖ bucket ‖ 0 ‖ key ‖ 0 ‖ upload id → empty (listing index).
    pub(crate) const MP_INDEX: u8 = b'm';
    /// `t` ‖ upload id ‖ 0 ‖ part number (`u32` BE) → part entry.
    pub(crate) const MP_PART: u8 = b't';
    /// `c` ‖ upload id → completed multipart record.
    pub(crate) const MP_DONE: u8 = b'c';
    /// `q` ‖ holder → object version queued for network placement.
    pub(crate) const PLACE_QUEUE: u8 = b'q';
    /// `h` ‖ holder → placed version whose blocks are still local.
    pub(crate) const HOT: u8 = b'h';
    /// `e` ‖ holder → placed version whose local blocks were evicted (empty).
    pub(crate) const EVICTED: u8 = b'e';
    /// `r` ‖ root multihash → the root's upload is placed (empty).
    pub(crate) const PLACED: u8 = b'r';
    /// `l` ‖ block multihash → start, end (`u64` BE) ‖ root CID: the block's
    /// bytes in a placed upload's CAR stream.
    pub(crate) const LOCATION: u8 = b'l';
}

/// Version byte in front of every JSON record.
const CODEC_VERSION: u8 = 1;

/// Identifies one holder of block references: an upload in progress, a committed
/// object version, or a pin. An upload's id becomes its object version's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectVersionId(pub(crate) u64);

impl ObjectVersionId {
    /// The id as a number (unique for the life of the store).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ObjectVersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Internal name for holder ids; same space as [`ObjectVersionId`].
pub(crate) type HolderId = u64;

/// A multipart upload id: 1 to 64 characters of `[A-Za-z0-9_-]`, so it is
/// URL-safe and can name a directory without path tricks.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct UploadId(String);

impl TryFrom<String> for UploadId {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self> {
        UploadId::parse(&s)
    }
}

impl From<UploadId> for String {
    fn from(id: UploadId) -> String {
        id.0
    }
}

impl UploadId {
    /// Parses an id received from a client; a malformed id is `NoSuchUpload`,
    /// which is what S3 answers for it.
    pub fn parse(s: &str) -> Result<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(UploadId(s.to_owned()))
        } else {
            Err(StoreError::NoSuchUpload {
                upload_id: s.to_owned(),
            })
        }
    }

    /// A fresh random id.
    pub(crate) fn random() -> Self {
        UploadId(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Rejects names the key encoding cannot hold.
pub(crate) fn check_name(kind: NameKind, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(StoreError::InvalidName {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// `tag ‖ bytes`.
pub(crate) fn meta_key(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(tag);
    k.extend_from_slice(rest);
    k
}

/// `tag ‖ holder BE`.
pub(crate) fn holder_key(tag: u8, holder: HolderId) -> Vec<u8> {
    meta_key(tag, &holder.to_be_bytes())
}

/// Key in `refs`: `holder BE ‖ multihash`.
pub(crate) fn ref_key(holder: HolderId, mh: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + mh.len());
    k.extend_from_slice(&holder.to_be_bytes());
    k.extend_from_slice(mh);
    k
}

/// Key in `objects`: `bucket ‖ 0 ‖ key`.
pub(crate) fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = bucket_prefix(bucket);
    k.extend_from_slice(key.as_bytes());
    k
}

/// `bucket ‖ 0`: the prefix of every object key in `bucket`.
pub(crate) fn bucket_prefix(bucket: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k
}

/// The smallest byte string greater than every string starting with `prefix`,
/// or `None` when no such string exists (all bytes `0xff`).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xff {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// Reads a `u64` BE value.
pub(crate) fn decode_u64(what: &'static str, key: &[u8], v: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = v.try_into().map_err(|_| StoreError::Corrupt {
        what,
        key: show_key(key),
    })?;
    Ok(u64::from_be_bytes(arr))
}

/// Encodes a record as `[CODEC_VERSION] ‖ json`.
pub(crate) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = vec![CODEC_VERSION];
    // Serialising our own plain structs to a Vec cannot fail: no maps with
    // non-string keys, no I/O.
    if let Err(e) = serde_json::to_writer(&mut out, v) {
        tracing::error!(error = %e, "record failed to serialise");
    }
    out
}

/// Decodes a record written by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(what: &'static str, key: &[u8], v: &[u8]) -> Result<T> {
    match v.split_first() {
        Some((&CODEC_VERSION, json)) => {
            serde_json::from_slice(json).map_err(|_| StoreError::Corrupt {
                what,
                key: show_key(key),
            })
        }
        _ => Err(StoreError::Corrupt {
            what,
            key: show_key(key),
        }),
    }
}

/// Serde adapter storing a [`cid::Cid`] as its string form.
pub(crate) mod cid_str {
    use cid::Cid;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(c: &Cid, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(c)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cid, D::Error> {
        let s = String::deserialize(d)?;
        Cid::try_from(s.as_str()).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_id_parse_table() {
        // (input, accepted, case)
        let long = "a".repeat(65);
        let cases: [(&str, bool, &str); 7] = [
            ("abc123", true, "alnum"),
            ("a-b_c", true, "dash and underscore"),
            ("", false, "empty"),
            ("../etc", false, "path traversal"),
            ("a/b", false, "slash"),
            (&long, false, "too long"),
            ("a b", false, "space"),
        ];
        for (input, ok, case) in cases {
            assert_eq!(UploadId::parse(input).is_ok(), ok, "{case}");
        }
        let r = UploadId::random();
        assert!(UploadId::parse(r.as_str()).is_ok(), "random ids parse");
        assert_ne!(r, UploadId::random(), "random ids differ");
    }

    #[test]
    fn prefix_successor_table() {
        assert_eq!(
            prefix_successor(b"a/"),
            Some(b"a0".to_vec()),
            "last byte bumped"
        );
        assert_eq!(
            prefix_successor(b"a\xff"),
            Some(b"b".to_vec()),
            "carry drops 0xff"
        );
        assert_eq!(prefix_successor(b"\xff\xff"), None, "no successor");
        assert_eq!(
            prefix_successor(b""),
            None,
            "empty prefix covers everything"
        );
    }

    #[test]
    fn object_keys_sort_by_bucket_then_key() {
        // `a` < `a/b` < `a0` inside one bucket; bucket `ab` after all of `a`'s keys.
        let mut keys = vec![
            object_key("ab", ""),
            object_key("a", "a0"),
            object_key("a", "a/b"),
            object_key("a", "a"),
            object_key("a", "\u{10ffff}"),
        ];
        keys.sort();
        assert_eq!(
            keys,
            vec![
                object_key("a", "a"),
                object_key("a", "a/b"),
                object_key("a", "a0"),
                object_key("a", "\u{10ffff}"),
                object_key("ab", ""),
            ]
        );
    }

    #[test]
    fn codec_rejects_unknown_version_and_garbage() {
        let bytes = encode(&vec![1u32, 2]);
        assert_eq!(decode::<Vec<u32>>("t", b"k", &bytes).ok(), Some(vec![1, 2]));
        let mut wrong = bytes.clone();
        wrong[0] = 2;
        assert!(matches!(
            decode::<Vec<u32>>("t", b"k", &wrong),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Vec<u32>>("t", b"k", b""),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Vec<u32>>("t", b"k", b"\x01{"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn check_name_table() {
        assert!(check_name(NameKind::Key, "a/b c").is_ok());
        assert!(check_name(NameKind::Key, "").is_err());
        assert!(check_name(NameKind::Bucket, "a\0b").is_err());
    }
}
