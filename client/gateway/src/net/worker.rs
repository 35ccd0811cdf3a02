//! The gateway's background placement: every object PUT through S3 is
//! placed on the storage network after its PUT returned.
//!
//! An object commit queues its version in the store in the same write
//! (`Store::queue_placements`), so what a client was told is stored is
//! either placed or queued, across restarts. The worker takes the queue
//! oldest first: it streams the object's DAG as a CAR into piece files
//! (recording where each block's bytes fall), places the pieces with
//! [`Placer::place`] (its state saved to `DIR/ROOT/state.json` after every
//! step, so a restart resumes and `cairn status` shows progress), and on
//! publication records the block locations and turns the version into a
//! hot copy. A failure is retried later with a growing pause. Then the hot
//! copies are evicted, oldest first, while the local bytes (queued plus
//! hot objects) exceed the cache limit: an object's local copy goes only
//! once its deals are published.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_dag::car::{CarWriter, DagWalk, WalkOptions, car_header, frame_prefix};
use cairn_erasure::Layout;
use cairn_ledger::tx::MAX_DEALS_PER_TX;
use cairn_store::{ObjectVersionId, PlacementTask, Store, StoreError};
use tokio::sync::watch;

use super::place::{Placer, Policy, Spooler, Upload, load_state, piece_path, save_state};
use super::{NetError, providers};
use crate::s3::read::StoreSource;

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Makes the deals.
    pub placer: Placer,
    /// For buckets with no settings of their own.
    pub default_policy: Policy,
    /// Per bucket, from the gateway's config (a bucket created with its
    /// own settings keeps those).
    pub bucket_policies: BTreeMap<String, Policy>,
    /// Piece spools and placement states, one folder per root.
    pub dir: PathBuf,
    /// Local bytes kept before placed objects are evicted; `None` keeps all.
    pub hot_limit: Option<u64>,
    /// How often the queue is looked at when idle.
    pub poll: Duration,
}

/// Why one object could not be placed (this time).
#[derive(Debug, thiserror::Error)]
enum PlaceError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    #[error("reading the object's DAG: {0}")]
    Export(String),
    #[error("no registered provider asks at most {0} per byte-epoch")]
    NoProvider(u128),
    #[error("worker task: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The first pause after a failure; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How often the hot copies are checked against the limit when nothing
/// was placed (each placement checks them at once).
const EVICT_EVERY: Duration = Duration::from_secs(60);

/// Runs until `stop` turns true.
pub async fn run(store: Store, cfg: WorkerConfig, mut stop: watch::Receiver<bool>) {
    let mut backoff: HashMap<ObjectVersionId, (Instant, Duration)> = HashMap::new();
    // Eviction reads every queued and hot record: at start, after a
    // placement, and now and then, not on every poll.
    let mut evict_due = true;
    let mut evicted_at = Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let queue = {
            let s = store.clone();
            tokio::task::spawn_blocking(move || s.placement_queue()).await
        };
        let queue = match queue {
            Ok(Ok(q)) => q,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "reading the placement queue");
                Vec::new()
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the placement queue");
                Vec::new()
            }
        };
        backoff.retain(|v, _| queue.iter().any(|t| t.version == *v));
        for task in &queue {
            if *stop.borrow() {
                return;
            }
            if backoff
                .get(&task.version)
                .is_some_and(|(at, _)| Instant::now() < *at)
            {
                continue;
            }
            let started = Instant::now();
            let placed = tokio::select! {
                r = place_one(&store, &cfg, task) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            match placed {
                Ok(()) => {
                    evict_due = true;
                    backoff.remove(&task.version);
                    tracing::info!(root = %task.root, bucket = %task.bucket, key = %task.key, secs = started.elapsed().as_secs_f64(), "object placed");
                }
                Err(e) => {
                    let pause = backoff
                        .get(&task.version)
                        .map_or(FIRST_BACKOFF, |(_, p)| (*p * 2).min(MAX_BACKOFF));
                    backoff.insert(task.version, (Instant::now() + pause, pause));
                    tracing::warn!(root = %task.root, bucket = %task.bucket, key = %task.key, error = %e, retry_in_s = pause.as_secs(), "placement failed; will retry");
                }
            }
        }
        if let Some(limit) = cfg.hot_limit
            && (evict_due || evicted_at.elapsed() >= EVICT_EVERY)
        {
            evict_due = false;
            evicted_at = Instant::now();
            let s = store.clone();
            match tokio::task::spawn_blocking(move || evict_to(&s, limit)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(evicted = n, limit, "hot copies evicted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "evicting hot copies"),
                Err(e) => tracing::warn!(error = %e, "evicting hot copies"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.poll) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Evicts hot copies, oldest first, until queued plus hot bytes are at
/// most `limit`; returns how many went.
pub fn evict_to(store: &Store, limit: u64) -> Result<usize, StoreError> {
    let queued: u64 = store.placement_queue()?.iter().map(|t| t.size).sum();
    let hot = store.hot_copies()?;
    let mut total = queued + hot.iter().map(|h| h.size).sum::<u64>();
    let mut evicted = 0;
    for h in hot {
        if total <= limit {
            break;
        }
        if store.evict(h.version)? {
            total = total.saturating_sub(h.size);
            evicted += 1;
        }
    }
    Ok(evicted)
}

/// The policy for `task`'s bucket.
fn policy_for(store: &Store, cfg: &WorkerConfig, bucket: &str) -> Result<Policy, StoreError> {
    let mut policy = cfg
        .bucket_policies
        .get(bucket)
        .cloned()
        .unwrap_or_else(|| cfg.default_policy.clone());
    if let Some(p) = store.head_bucket(bucket)?.and_then(|b| b.placement) {
        policy.k = p.k;
        policy.m = p.m;
        policy.duration = p.duration;
        policy.max_price_per_byte_epoch = p.max_price;
    }
    Ok(policy)
}

/// Where `root`'s spool and state live.
pub fn placement_dir(dir: &Path, root: &cid::Cid) -> PathBuf {
    dir.join(root.to_string())
}

async fn place_one(
    store: &Store,
    cfg: &WorkerConfig,
    task: &PlacementTask,
) -> Result<(), PlaceError> {
    let (s, t) = (store.clone(), task.clone());
    let (current, placed) = tokio::task::spawn_blocking(move || {
        Ok::<_, StoreError>((
            s.is_current(&t.bucket, &t.key, t.version)?,
            s.is_placed(&t.root)?,
        ))
    })
    .await??;
    if !current {
        let s = store.clone();
        let v = task.version;
        tokio::task::spawn_blocking(move || s.drop_placement(v)).await??;
        remove_dir(&placement_dir(&cfg.dir, &task.root));
        return Ok(());
    }
    if placed {
        // The same content was placed for another object: its blocks'
        // locations are already recorded.
        let (s, t) = (store.clone(), task.clone());
        tokio::task::spawn_blocking(move || s.placement_done(&t, &[])).await??;
        return Ok(());
    }
    let (s, t) = (store.clone(), task.bucket.clone());
    let policy = {
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || policy_for(&s, &c, &t)).await??
    };

    // The CAR's length first (the layout depends on it), then the spool.
    let started = std::time::Instant::now();
    let (s, root) = (store.clone(), task.root);
    let car_len = tokio::task::spawn_blocking(move || car_length(&s, root)).await??;
    let sector = providers(&cfg.placer.ledger)
        .await?
        .iter()
        .filter(|p| p.price_per_byte_epoch <= policy.max_price_per_byte_epoch)
        .map(|p| p.sector_size)
        .min()
        .ok_or(PlaceError::NoProvider(policy.max_price_per_byte_epoch))?;
    let shards = u64::from(policy.k) + u64::from(policy.m);
    let layout = Layout::plan(
        car_len,
        policy.k,
        policy.m,
        sector,
        (MAX_DEALS_PER_TX as u64 / shards.max(1)).max(1),
    )
    .map_err(NetError::from)?;
    let dir = placement_dir(&cfg.dir, &task.root);
    // The spool is rebuilt from the store on a retry: whatever happens
    // below (an error, a stop, success), the piece files go.
    let _pieces = PieceFiles {
        dir: dir.clone(),
        layout,
    };
    let (s, d) = (store.clone(), dir.clone());
    let (pieces, locations) =
        tokio::task::spawn_blocking(move || spool(&s, root, layout, &d)).await??;
    tracing::info!(
        root = %task.root,
        car_len,
        segments = layout.segments(),
        shards = layout.shards(),
        secs = started.elapsed().as_secs_f64(),
        "spooled into pieces"
    );
    let up = Upload {
        root: task.root.to_string(),
        layout,
        pieces,
        dir: dir.clone(),
    };
    let state_path = dir.join("state.json");
    let mut state = load_state(&state_path)?;
    let save = |s: &super::place::Placement| {
        if let Err(e) = save_state(&state_path, s) {
            tracing::warn!("saving {}: {e}", state_path.display());
        }
    };
    cfg.placer.place(&up, &policy, &mut state, save).await?;
    let (s, t) = (store.clone(), task.clone());
    tokio::task::spawn_blocking(move || s.placement_done(&t, &locations)).await??;
    // On the ledger now (`cairn status` reads it there): the state goes too.
    remove_dir(&dir);
    Ok(())
}

/// Removes a placement's folder (best effort: it only costs disk).
fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("removing {}: {e}", dir.display());
    }
}

/// A spool's piece files, removed when dropped.
struct PieceFiles {
    dir: PathBuf,
    layout: Layout,
}

impl Drop for PieceFiles {
    fn drop(&mut self) {
        for i in 0..self.layout.shards() {
            for j in 0..self.layout.segments() {
                let _ = std::fs::remove_file(piece_path(&self.dir, i, j));
            }
        }
    }
}

/// The length of the CAR of the DAG under `root`.
fn car_length(store: &Store, root: cid::Cid) -> Result<u64, PlaceError> {
    let source = StoreSource(store.clone());
    let mut len = car_header(&[root]).len() as u64;
    for block in DagWalk::new(&source, root, WalkOptions::default()) {
        let b = block.map_err(|e| PlaceError::Export(e.to_string()))?;
        len += (frame_prefix(&b.cid, b.data.len()).len() + b.data.len()) as u64;
    }
    Ok(len)
}

/// Block locations: multihash bytes and the CAR range of the block's data.
type Locations = Vec<(Vec<u8>, Range<u64>)>;

/// Streams the CAR of `root` into piece files under `dir`; returns the
/// pieces' commitments and every block's location.
fn spool(
    store: &Store,
    root: cid::Cid,
    layout: Layout,
    dir: &Path,
) -> Result<(Vec<Vec<cairn_proofs::commp::PieceCommitment>>, Locations), PlaceError> {
    let source = StoreSource(store.clone());
    let spooler = Spooler::new(layout, dir)?;
    let io = |e: std::io::Error| PlaceError::Export(e.to_string());
    let mut car = CarWriter::new(spooler, &[root]).map_err(io)?;
    let mut locations = Vec::new();
    for block in DagWalk::new(&source, root, WalkOptions::default()) {
        let b = block.map_err(|e| PlaceError::Export(e.to_string()))?;
        let start = car.bytes_written() + frame_prefix(&b.cid, b.data.len()).len() as u64;
        car.write_block(&b.cid, &b.data).map_err(io)?;
        locations.push((b.cid.hash().to_bytes(), start..start + b.data.len() as u64));
    }
    if car.bytes_written() != layout.car_len() {
        return Err(PlaceError::Export(format!(
            "the DAG changed while it was read: {} CAR bytes, {} planned",
            car.bytes_written(),
            layout.car_len()
        )));
    }
    let mut spooler = car.finish().map_err(io)?;
    spooler.flush().map_err(io)?;
    Ok((spooler.finish()?, locations))
}
