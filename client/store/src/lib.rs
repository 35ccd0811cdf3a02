//! Cairn's embedded store: content blocks, S3 buckets and objects, multipart
//! state, crash safety and garbage collection, on one RocksDB.
//!
//! # Why
//!
//! The S3 gateway and the `cairn` CLI need one place that keeps UnixFS blocks
//! deduplicated by multihash and frees each block exactly when the last
//! object, pin or upload that needs it goes away, even across `kill -9`. The
//! store does that with per-block refcounts maintained in the same atomic
//! RocksDB batches that commit objects.
//!
//! It is synchronous and thread-safe: [`Store`] is `Clone + Send + Sync`; async
//! callers use `spawn_blocking`. It depends on no other Cairn crate.
//!
//! # Tour
//!
//! - [`store`](Store): [`Store::open`], locking, recovery, block reads, stats and
//!   the refcount core (read its module docs for the durability argument).
//! - `upload`: [`Upload`], the only way blocks get in; commit as an object or a pin.
//! - `object`: [`ObjectRecord`], [`Store::open_object`] read leases, delete.
//! - `list`: [`Store::list_objects`] with S3 delimiter semantics.
//! - `bucket`: [`BucketInfo`] and bucket lifecycle.
//! - `multipart`: part files, [`PartWriter`], [`Store::complete_multipart`].
//! - `fsck`: [`Store::fsck`] checks the refcount invariants.
//! - `keys`: the on-disk layout and [`FORMAT_VERSION`].
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cairn_store::{ObjectRecord, Store};
//! use multihash::Multihash;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(dir.path())?;
//! store.create_bucket("photos", "standard", 0)?;
//!
//! let bytes = b"hello";
//! let mh = Multihash::<64>::wrap(0x12, &[0xab; 32])?; // the DAG builder's hash
//! let mut upload = store.begin_upload()?;
//! upload.put_block(&mh, bytes)?;
//! let record = ObjectRecord {
//!     root_cid: cid::Cid::new_v1(0x55, mh),
//!     size: 5,
//!     etag: "etag".into(),
//!     content_type: None,
//!     user_metadata: vec![],
//!     content_encoding: None,
//!     content_disposition: None,
//!     content_language: None,
//!     cache_control: None,
//!     expires: None,
//!     checksums: vec![],
//!     last_modified: 0,
//!     profile: "standard".into(),
//!     parts: None,
//! };
//! upload.commit_object("photos", "cat.txt", record)?;
//!
//! let handle = store.open_object("photos", "cat.txt")?.ok_or("missing")?;
//! assert_eq!(handle.get_block(&mh)?.as_deref(), Some(&bytes[..]));
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! None. RocksDB is linked from the system library (see `.cargo/config.toml`).

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(missing_docs)]

mod bucket;
mod error;
mod fsck;
mod keys;
mod list;
mod multipart;
mod object;
mod placement;
mod store;
mod upload;

pub use bucket::{BucketInfo, BucketPlacement};
pub use error::{NameKind, Result, StoreError};
pub use fsck::{FsckProblem, FsckReport};
pub use keys::{FORMAT_VERSION, ObjectVersionId, UploadId};
pub use list::{ListPage, ListQuery};
pub use multipart::{
    CompletedMultipart, MAX_PART_NUMBER, MultipartMeta, MultipartUpload, PartRecord, PartWriter,
    PartsPage, UploadsPage,
};
pub use object::{ObjectHandle, ObjectRecord};
pub use placement::{BlockLocation, HotCopy, PlacementTask};
pub use store::{Store, StoreStats};
pub use upload::Upload;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_clone_send_sync() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        fn assert_send<T: Send>() {}
        assert_traits::<Store>();
        assert_send::<Upload>();
        assert_send::<ObjectHandle>();
        assert_send::<PartWriter>();
    }
}
