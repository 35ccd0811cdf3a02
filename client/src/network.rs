//! `cairn place` and `cairn get --ledger`: the storage network from the
//! command line.
//!
//! `cairn place CID` erasure-codes a DAG held in the local store and makes
//! one deal per piece with `k + m` distinct providers from the ledger's
//! registry, publishing the deals and the upload's manifest in one
//! transaction (the gateway does the same in the background for what is
//! PUT through S3). `cairn get CID -o OUT --ledger URL` needs no local
//! copy: it reads the manifest and deals from the ledger, fetches stripes
//! from the providers (parity where one is missing or lies), verifies every
//! block against its CID and writes the file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use cairn_dag::car::{WalkOptions, export_car};
use cairn_dag::reader::FileReader;
use cairn_erasure::Layout;
use cairn_gateway::net::fetch::{Fetcher, locate};
use cairn_gateway::net::place::{Placement, Placer, Policy, Spooler, Upload};
use cairn_gateway::net::{NetError, providers};
use cairn_gateway::s3::read::StoreSource;
use cairn_ledger::tx::MAX_DEALS_PER_TX;
use cairn_store::Store;
use cairn_types::keys::Keypair;
use cairn_types::ledger::LedgerClient;
use cairn_types::p2p::Client;
use cid::Cid;

use crate::local::open_store;
use crate::progress;

/// How long one libp2p request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

fn p2p() -> Result<Client> {
    Client::spawn(
        libp2p::identity::Keypair::generate_ed25519(),
        REQUEST_TIMEOUT,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Options of `cairn place`.
#[derive(Debug)]
pub struct PlaceArgs<'a> {
    /// The DAG's root.
    pub cid: &'a str,
    /// The local store.
    pub data_dir: &'a Path,
    /// The validator API.
    pub ledger: &'a str,
    /// The paying wallet.
    pub wallet: &'a Path,
    /// Erasure coding, duration, price cap.
    pub policy: Policy,
    /// One JSON object instead of a table.
    pub json: bool,
}

/// `cairn place`.
pub fn place(a: PlaceArgs<'_>) -> Result<()> {
    let root: Cid = a
        .cid
        .parse()
        .with_context(|| format!("{:?} is not a CID", a.cid))?;
    let store = open_store(a.data_dir)?;
    let wallet = Arc::new(Keypair::load(a.wallet)?);
    let ledger = LedgerClient::new(a.ledger)?;
    let source = StoreSource(store.clone());
    let car_len = export_car(&source, root, WalkOptions::default(), std::io::sink())
        .with_context(|| format!("reading the DAG under {root} from {}", a.data_dir.display()))?;
    let rt = runtime()?;
    let sector = rt
        .block_on(providers(&ledger))?
        .iter()
        .filter(|p| p.price_per_byte_epoch <= a.policy.max_price_per_byte_epoch)
        .map(|p| p.sector_size)
        .min()
        .context("no registered provider asks at most the price cap")?;
    let shards = u64::from(a.policy.k) + u64::from(a.policy.m);
    let layout = Layout::plan(
        car_len,
        a.policy.k,
        a.policy.m,
        sector,
        (MAX_DEALS_PER_TX as u64 / shards.max(1)).max(1),
    )?;
    let dir = a.data_dir.join("placement").join(root.to_string());
    let state_path = dir.join("state.json");
    let mut spool = Spooler::new(layout, &dir)?;
    let bar = progress::bytes(Some(car_len), "encoding");
    export_car(
        &source,
        root,
        WalkOptions::default(),
        Counted(&mut spool, &bar),
    )?;
    bar.finish_and_clear();
    let pieces = spool.finish()?;
    let up = Upload {
        root: root.to_string(),
        layout,
        pieces,
        dir: dir.clone(),
    };
    let mut state: Placement = cairn_gateway::net::place::load_state(&state_path)?;
    let placer = rt.block_on(async {
        Ok::<_, anyhow::Error>(Placer {
            ledger,
            p2p: p2p()?,
            wallet,
        })
    })?;
    let save = |s: &Placement| {
        if let Err(e) = cairn_gateway::net::place::save_state(&state_path, s) {
            tracing::warn!("saving {}: {e}", state_path.display());
        }
    };
    eprintln!(
        "placing {root}: {car_len} bytes, {}+{} shards of {} pieces",
        layout.k(),
        layout.m(),
        layout.segments()
    );
    let r = rt.block_on(placer.place(&up, &a.policy, &mut state, save));
    print_rows(
        &root.to_string(),
        u64::from(layout.k()),
        u64::from(layout.m()),
        &placement_rows(&state)?,
        a.json,
    );
    r?;
    // The deals are on the ledger: the spooled pieces are no longer needed.
    for i in 0..layout.shards() {
        for j in 0..layout.segments() {
            let _ = std::fs::remove_file(cairn_gateway::net::place::piece_path(&dir, i, j));
        }
    }
    Ok(())
}

/// One shard's line of `cairn status` / `cairn place`.
type ShardRow = (usize, Option<u64>, Option<u64>, String);

fn placement_rows(state: &Placement) -> Result<Vec<ShardRow>> {
    state
        .shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = serde_json::to_value(s.state)?
                .as_str()
                .unwrap_or("proposed")
                .to_owned();
            let deal = state.deal_ids.get(i).and_then(|d| d.first()).copied();
            Ok((i, s.provider, deal, st))
        })
        .collect()
}

/// Prints shard rows: a table, or the fixed JSON shape
/// `{"cid", "k", "m", "shards": [{"index", "provider", "deal_id", "state"}]}`.
fn print_rows(root: &str, k: u64, m: u64, rows: &[ShardRow], json: bool) {
    if json {
        let shards: Vec<serde_json::Value> = rows
            .iter()
            .map(|(i, p, d, s)| serde_json::json!({"index": i, "provider": p, "deal_id": d, "state": s}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"cid": root, "k": k, "m": m, "shards": shards})
        );
    } else {
        println!("{root}  {k}+{m}");
        println!("{:>5} {:>9} {:>8}  state", "shard", "provider", "deal");
        for (i, p, d, s) in rows {
            println!(
                "{i:>5} {:>9} {:>8}  {s}",
                p.map_or("-".into(), |p| p.to_string()),
                d.map_or("-".into(), |d| d.to_string())
            );
        }
    }
}

/// `cairn get CID -o OUT --ledger URL` when the local store lacks `cid`.
pub fn get(cid: &Cid, output: &Path, ledger: &str) -> Result<()> {
    let ledger = LedgerClient::new(ledger)?;
    let rt = runtime()?;
    let tmp = tempfile::Builder::new()
        .prefix(".cairn-get")
        .tempdir_in(
            output
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .context("creating a scratch store next to the output")?;
    let store = Store::open(tmp.path())?;
    let mut upload = store.begin_upload()?;
    let root = cid.to_string();
    let located = rt.block_on(locate(&ledger, &root)).or_else(|e| match e {
        // The manifest names the root as it was uploaded: try the other CID version.
        NetError::NoManifest(_) => {
            let other = if cid.version() == cid::Version::V0 {
                Cid::new_v1(0x70, *cid.hash()).to_string()
            } else {
                Cid::new_v0(*cid.hash())
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            };
            rt.block_on(locate(&ledger, &other))
        }
        e => Err(e),
    })?;
    let car_len = located.layout.car_len();
    let bar = progress::bytes(Some(car_len), "fetching");
    let fetcher = rt.block_on(async { Ok::<_, anyhow::Error>(Fetcher::new(p2p()?, located)) })?;
    rt.block_on(fetcher.blocks(|c, data| {
        bar.inc(data.len() as u64);
        upload.put_block(c.hash(), &data).map_err(|e| NetError::Io {
            what: "the scratch store".into(),
            source: std::io::Error::other(e),
        })
    }))
    .with_context(|| format!("fetching {root} from its providers"))?;
    bar.finish_and_clear();
    let bad = fetcher.lying_shards();
    if !bad.is_empty() {
        eprintln!("shards {bad:?} served bad bytes and were rebuilt from parity");
    }
    upload.commit_pin(*cid)?;
    let source = StoreSource(store);
    let tmp_out = output.with_extension("cairn-partial");
    let result = (|| -> Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp_out)?);
        for piece in FileReader::new(&source, *cid) {
            let piece = piece.with_context(|| format!("reading {cid}"))?;
            std::io::Write::write_all(&mut out, &piece)?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp_out, output).with_context(|| format!("writing {}", output.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp_out);
    }
    result
}

/// Whether the local store (if free) holds `cid`'s root block.
pub fn held_locally(dir: &Path, cid: &Cid) -> bool {
    match Store::open(dir) {
        Ok(s) => s.get_block(cid.hash()).ok().flatten().is_some(),
        // Held by a running gateway: let the gateway answer.
        Err(cairn_store::StoreError::Locked { .. }) => true,
        Err(_) => false,
    }
}

/// A writer that advances a progress bar.
struct Counted<'a, W>(&'a mut W, &'a indicatif::ProgressBar);

impl<W: std::io::Write> std::io::Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.inc(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The spelling of a ledger deal state in `cairn status`.
fn deal_state(ledger_state: &str) -> &'static str {
    match ledger_state {
        "Published" => "published",
        "Active" => "active",
        "Expired" => "expired",
        // Terminated for faults, or cancelled for never being sealed: the
        // provider's collateral went.
        _ => "slashed",
    }
}

/// Rank of a state, least advanced first (a shard with several pieces
/// reports its least advanced one).
fn rank(state: &str) -> u8 {
    match state {
        "failed" => 0,
        "proposed" => 1,
        "transferring" => 2,
        "published" => 3,
        "active" => 4,
        "expired" => 5,
        _ => 6,
    }
}

/// `cairn status CID`: each shard's provider, deal and deal state, from the
/// ledger, or from a placement still in progress in the local data dir.
pub fn status(cid: &str, data_dir: &Path, ledger: &str, json: bool) -> Result<()> {
    let root: Cid = cid
        .parse()
        .with_context(|| format!("{cid:?} is not a CID"))?;
    let root_s = root.to_string();
    let ledger = LedgerClient::new(ledger)?;
    let rt = runtime()?;
    let manifests: Vec<serde_json::Value> =
        rt.block_on(ledger.get_as(&format!("/manifests/{root_s}")))?;
    let mut rows: Vec<ShardRow> = Vec::new();
    let (k, m);
    if let Some(man) = manifests.last() {
        k = man["k"].as_u64().unwrap_or(0);
        m = man["m"].as_u64().unwrap_or(0);
        let deals: Vec<cairn_types::ledger::DealInfo> =
            rt.block_on(ledger.get_as(&format!("/deals?label={root_s}")))?;
        let shards = man["shards"].as_array().cloned().unwrap_or_default();
        for (i, pieces) in shards.iter().enumerate() {
            let mut worst: Option<(u64, u64, &'static str)> = None;
            for p in pieces.as_array().into_iter().flatten() {
                let piece = p.as_str().unwrap_or_default();
                // The latest deal for the piece.
                let Some(d) = deals
                    .iter()
                    .filter(|d| d.piece == piece)
                    .max_by_key(|d| d.id)
                else {
                    continue;
                };
                let s = deal_state(&d.state);
                if worst.is_none_or(|w| rank(s) < rank(w.2)) {
                    worst = Some((d.provider, d.id, s));
                }
            }
            match worst {
                Some((p, d, s)) => rows.push((i, Some(p), Some(d), s.to_owned())),
                None => rows.push((i, None, None, "failed".to_owned())),
            }
        }
    } else {
        // Not on the ledger yet: the local placement, if one is running.
        let state_path = data_dir.join("placement").join(&root_s).join("state.json");
        let state: Placement = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .with_context(|| {
                format!("{root_s} has no manifest on the ledger and no placement here")
            })?;
        k = 0;
        m = 0;
        rows = placement_rows(&state)?;
    }
    print_rows(&root_s, k, m, &rows, json);
    Ok(())
}
