//! CAR responses: the blocks of a content path and of the DAG at its end,
//! as a CAR v1 stream in depth-first order.
//!
//! The stream is: header (roots = the request's root CID), the blocks the
//! path went through (root first), then [`DagWalk`]'s blocks below the
//! terminus for the request's `dag-scope` / `entity-bytes` / `dups`. Each
//! block is fetched and verified again as it is written, so nothing that
//! does not match its CID is ever framed. Identity-CID blocks are left out,
//! as the spec requires; their bytes are inside their CIDs.

use cairn_dag::car::{DagWalk, Scope, WalkOptions, car_header, frame_prefix};
use cairn_dag::reader::fetch_verified;
use cairn_dag::{BlockSource, DagError, MH_IDENTITY};
use cid::Cid;
use sha2::{Digest, Sha256};

use super::error::GatewayError;
use super::request::{CarParams, DagScope, ResolvedBytes};
use super::resolve::{Entity, Resolved, classify};
use super::stream::{ChunkSink, ClientGone};

/// What a CAR stream will contain, settled before the response starts.
#[derive(Debug, Clone)]
pub struct CarPlan {
    /// The root named in the CAR header.
    pub root: Cid,
    /// Blocks of the path, root first.
    pub path_blocks: Vec<Cid>,
    /// The path's terminus.
    pub terminus: Cid,
    /// The walk below the terminus.
    pub walk: WalkOptions,
}

/// Why a CAR stream stopped part-way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CarStreamError {
    /// A block could not be read or failed verification.
    #[error(transparent)]
    Dag(Box<DagError>),
    /// The client disconnected.
    #[error(transparent)]
    ClientGone(#[from] ClientGone),
}

impl From<DagError> for CarStreamError {
    fn from(e: DagError) -> Self {
        CarStreamError::Dag(Box::new(e))
    }
}

/// Turns the request's CAR parameters into a plan for `resolved`.
///
/// `entity-bytes` implies `dag-scope=entity`. On a file it is resolved
/// against the size in the file's root block: a range that resolves to no
/// bytes is answered like `dag-scope=block`, and one that starts past the
/// end is a 400 (the spec's SHOULD for ranges known to be outside upfront).
/// On anything else it is ignored.
pub fn plan(root: Cid, resolved: &Resolved, params: &CarParams) -> Result<CarPlan, GatewayError> {
    let mut walk = WalkOptions {
        scope: scope(params.scope),
        dups: params.dups,
        range: None,
    };
    if let Some(bytes) = params.entity_bytes {
        walk.scope = Scope::Entity;
        if let Entity::File { size } = classify(&resolved.terminus, &resolved.block)? {
            match bytes.resolve(size) {
                ResolvedBytes::Range(start, end) => walk.range = Some((start, end)),
                ResolvedBytes::Empty => walk.scope = Scope::Block,
                ResolvedBytes::Outside => {
                    return Err(GatewayError::EntityBytesOutside {
                        requested: bytes.to_string(),
                        size,
                    });
                }
            }
        }
    }
    Ok(CarPlan {
        root,
        path_blocks: resolved.path_blocks.clone(),
        terminus: resolved.terminus,
        walk,
    })
}

fn scope(scope: DagScope) -> Scope {
    match scope {
        DagScope::All => Scope::All,
        DagScope::Entity => Scope::Entity,
        DagScope::Block => Scope::Block,
    }
}

/// The weak ETag of a CAR response: the root CID plus a digest of
/// everything else that shapes the bytes (path, scope, range, dups, order),
/// as the spec asks ("unique prefix based on the passed scope type",
/// "augment ... based on the passed entity-bytes"). Weak because another
/// gateway version could order ties differently, not because ours varies.
pub fn etag(root: &Cid, segments: &[String], params: &CarParams) -> String {
    let mut h = Sha256::new();
    for s in segments {
        h.update(s.as_bytes());
        h.update([0]);
    }
    h.update(params.scope.as_str());
    h.update(
        params
            .entity_bytes
            .map(|b| b.to_string())
            .unwrap_or_default(),
    );
    h.update(if params.dups { "dups=y" } else { "dups=n" });
    h.update("order=dfs;version=1");
    let digest = h.finalize();
    let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{root}.car.{short}\"")
}

/// Writes the planned CAR to `sink`. Runs on the blocking pool.
pub fn write_car(
    source: &dyn BlockSource,
    plan: &CarPlan,
    sink: &mut ChunkSink,
) -> Result<(), CarStreamError> {
    sink.write(&car_header(&[plan.root]))?;
    for cid in &plan.path_blocks {
        let data = fetch_verified(source, cid)?;
        write_block(sink, cid, data)?;
    }
    for block in DagWalk::new(source, plan.terminus, plan.walk) {
        let block = block?;
        write_block(sink, &block.cid, block.data)?;
    }
    Ok(())
}

fn write_block(sink: &mut ChunkSink, cid: &Cid, data: Vec<u8>) -> Result<(), ClientGone> {
    if cid.hash().code() == MH_IDENTITY {
        return Ok(());
    }
    sink.write(&frame_prefix(cid, data.len()))?;
    sink.write_owned(data)
}
