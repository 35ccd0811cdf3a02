//! Cairn's gateways: the S3 API and the IPFS trustless HTTP gateway.
//!
//! Both sit on one [`cairn_store::Store`]. The S3 side ([`s3`]) stores each
//! object as a UnixFS DAG under its bucket's profile, so every object has a
//! CID; the HTTP side ([`ipfs`]) serves any stored block or DAG by CID, as
//! raw blocks, CARs or plain bytes. [`server`] binds them to their sockets
//! next to the Prometheus [`metrics`] endpoint.
//!
//! The store is the seam where, in later versions, "blocks live in the local
//! store" becomes "pieces live with providers": handlers only use the
//! store's upload/commit/lease API and the `BlockSource` trait.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod control;
pub mod ipfs;
pub mod metrics;
#[cfg(feature = "network")]
pub mod net;
pub mod s3;
pub mod server;
