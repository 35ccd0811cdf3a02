//! The operator commands: `sectors list|status`, `proving
//! deadlines|faults`, `wallet balance`. Each reads the node's home (the
//! journal read-only, so the node may be running) and, where it needs
//! to, the ledger the node follows. `--json` prints one JSON value whose
//! field names and state spellings are fixed (scripts depend on them).

use std::path::Path;

use anyhow::{Context, Result};
use cairn_node::config::Home;
use cairn_node::sealing::journal::{self, Record};
use cairn_proofs::seal::{comm_d_cid, comm_r_cid};
use cairn_types::keys::Keypair;
use cairn_types::ledger::LedgerClient;
use serde_json::{Value, json};

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

fn sector_json(r: &Record) -> Value {
    let s = &r.sector;
    json!({
        "number": s.number,
        "state": s.state.name(),
        "deals": s.pieces.iter().map(|p| p.deal).collect::<Vec<_>>(),
        "comm_r": s.comm_r.map(|c| comm_r_cid(&c).to_string()),
        "comm_d": s.comm_d.map(|c| comm_d_cid(&c).to_string()),
        "pieces": s.pieces.iter().map(|p| json!({
            "deal": p.deal,
            "piece": hex::encode(p.comm_p),
            "padded_size": p.padded,
            "start": p.start_epoch,
            "end": p.end_epoch,
        })).collect::<Vec<_>>(),
        "ticket_epoch": s.ticket_epoch,
        "precommit_epoch": s.precommit_epoch,
        "expiration": r.expiration(),
        "opened": r.opened,
        "updated": r.updated,
        "error": s.error,
    })
}

fn records(home: &Home) -> Result<Vec<Record>> {
    Ok(journal::load_read_only(&home.data_dir())?
        .into_values()
        .collect())
}

/// `cairn-node sectors list`.
pub fn sectors_list(home: &Path, as_json: bool) -> Result<()> {
    let home = Home::load(home)?;
    let recs = records(&home)?;
    if as_json {
        let v: Vec<Value> = recs.iter().map(sector_json).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "{:>6}  {:<13} {:<14} {:<24}  problem",
        "sector", "state", "deals", "CommR"
    );
    for r in &recs {
        let s = &r.sector;
        let deals = s
            .pieces
            .iter()
            .map(|p| p.deal.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let comm_r = s.comm_r.map_or_else(
            || "-".to_owned(),
            |c| {
                let cid = comm_r_cid(&c).to_string();
                format!("{}…", cid.chars().take(22).collect::<String>())
            },
        );
        println!(
            "{:>6}  {:<13} {:<14} {:<24}  {}",
            s.number,
            s.state.name(),
            deals,
            comm_r,
            s.error.as_deref().unwrap_or("")
        );
    }
    if recs.is_empty() {
        println!("(no sectors yet: deals' pieces are packed once their deals are published)");
    }
    Ok(())
}

/// `cairn-node sectors status N`: the journal record, the files, and the
/// ledger's view.
pub fn sectors_status(home: &Path, n: u64, as_json: bool) -> Result<()> {
    let home = Home::load(home)?;
    let rec = journal::load_read_only(&home.data_dir())?
        .remove(&n)
        .with_context(|| format!("sector {n} is not in this node's journal"))?;
    let dir = home.data_dir().join("sectors").join(n.to_string());
    let mut files = serde_json::Map::new();
    for f in ["staged", "sealed", "pc1.out", "pc2.out", "c1.out", "proof"] {
        let len = std::fs::metadata(dir.join(f)).ok().map(|m| m.len());
        files.insert(f.into(), json!(len));
    }
    let on_ledger = runtime()?.block_on(async {
        let ledger = LedgerClient::new(&home.config.ledger).ok()?;
        let id = provider_id(&home, &ledger).await.ok()??;
        let v = ledger.get(&format!("/sectors/{id}")).await.ok()?;
        let find = |k: &str| {
            v.get(k)?
                .as_array()?
                .iter()
                .find(|s| s.get("number").and_then(Value::as_u64) == Some(n))
                .cloned()
        };
        Some(json!({ "sector": find("sectors"), "precommit": find("precommits") }))
    });
    let mut v = sector_json(&rec);
    if let Some(o) = v.as_object_mut() {
        o.insert("files".into(), Value::Object(files));
        o.insert("ledger".into(), on_ledger.unwrap_or(Value::Null));
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = &rec.sector;
    println!("sector      {}", s.number);
    println!("state       {}", s.state.name());
    for p in &s.pieces {
        println!(
            "deal        {} (piece {}…, {} bytes, epochs {}..{})",
            p.deal,
            &hex::encode(p.comm_p)[..16],
            p.padded,
            p.start_epoch,
            p.end_epoch
        );
    }
    if let Some(c) = s.comm_d {
        println!("CommD       {}", comm_d_cid(&c));
    }
    if let Some(c) = s.comm_r {
        println!("CommR       {}", comm_r_cid(&c));
    }
    if let Some(e) = s.ticket_epoch {
        println!("ticket      epoch {e}");
    }
    if let Some(e) = s.precommit_epoch {
        println!("precommit   epoch {e}");
    }
    println!("expiration  epoch {}", rec.expiration());
    if let Some(e) = &s.error {
        println!("problem     {e}");
    }
    for (f, len) in v["files"].as_object().into_iter().flatten() {
        println!(
            "file        {f}: {}",
            len.as_u64()
                .map_or_else(|| "absent".to_owned(), |l| format!("{l} bytes"))
        );
    }
    match &v["ledger"] {
        Value::Null => println!("ledger      (not reachable)"),
        l => println!("ledger      {l}"),
    }
    Ok(())
}

async fn provider_id(home: &Home, ledger: &LedgerClient) -> Result<Option<u64>> {
    let owner = Keypair::load(&home.path(&home.config.owner_key))?.address();
    let worker = Keypair::load(&home.path(&home.config.worker_key))?.public_key();
    let owner = owner.to_string();
    let worker = worker.to_string();
    Ok(ledger
        .providers()
        .await?
        .into_iter()
        .filter(|p| p.owner == owner && p.worker == worker)
        .map(|p| p.id)
        .max())
}

async fn registered(home: &Home, ledger: &LedgerClient) -> Result<u64> {
    provider_id(home, ledger).await?.with_context(|| {
        format!(
            "this node is not registered on {} yet (is it running?)",
            home.config.ledger
        )
    })
}

/// `cairn-node proving deadlines`.
pub fn proving_deadlines(home: &Path, as_json: bool) -> Result<()> {
    let home = Home::load(home)?;
    let v = runtime()?.block_on(async {
        let ledger = LedgerClient::new(&home.config.ledger)?;
        let id = registered(&home, &ledger).await?;
        anyhow::Ok(ledger.get(&format!("/deadlines/{id}")).await?)
    })?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "epoch {}, deadline {} open [{}, {}){}",
        v["epoch"],
        v["current_deadline"],
        v["current_window_open"],
        v["current_window_close"],
        if v["current_proven"].as_bool() == Some(true) {
            ", proven"
        } else if v["to_prove"].as_array().is_some_and(|a| !a.is_empty()) {
            ", NOT YET PROVEN"
        } else {
            ""
        }
    );
    println!(
        "{:>8}  {:>14}  {:>6}  {:>12}  sectors",
        "deadline", "window", "open", "last proven"
    );
    for d in v["deadlines"].as_array().into_iter().flatten() {
        println!(
            "{:>8}  {:>14}  {:>6}  {:>12}  {}",
            d["index"].to_string(),
            format!("[{}, {})", d["window_open"], d["window_close"]),
            if d["open_now"].as_bool() == Some(true) {
                "yes"
            } else {
                ""
            },
            d["last_proven_window"]
                .as_u64()
                .map_or_else(|| "-".into(), |e| e.to_string()),
            d["sectors"]
        );
    }
    Ok(())
}

/// `cairn-node proving faults`: faulty and recovering sectors on the
/// ledger, with the node's own reason where it has one.
pub fn proving_faults(home: &Path, as_json: bool) -> Result<()> {
    let home = Home::load(home)?;
    let local = journal::load_read_only(&home.data_dir())?;
    let v = runtime()?.block_on(async {
        let ledger = LedgerClient::new(&home.config.ledger)?;
        let id = registered(&home, &ledger).await?;
        anyhow::Ok(ledger.get(&format!("/sectors/{id}")).await?)
    })?;
    let faults: Vec<Value> = v["sectors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| matches!(s["status"].as_str(), Some("Faulty" | "Recovering")))
        .map(|s| {
            let n = s["number"].as_u64().unwrap_or(0);
            json!({
                "number": n,
                "status": s["status"],
                "faults": s["faults"],
                "deadline": s["deadline"],
                "last_proven": s["last_proven"],
                "reason": local.get(&n).and_then(|r| r.sector.error.clone()),
            })
        })
        .collect();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&faults)?);
        return Ok(());
    }
    if faults.is_empty() {
        println!("no faulty sectors");
        return Ok(());
    }
    println!(
        "{:>6}  {:<10}  {:>6}  {:>8}  reason",
        "sector", "status", "missed", "deadline"
    );
    for f in &faults {
        println!(
            "{:>6}  {:<10}  {:>6}  {:>8}  {}",
            f["number"].to_string(),
            f["status"].as_str().unwrap_or(""),
            f["faults"].to_string(),
            f["deadline"].to_string(),
            f["reason"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

/// `cairn-node wallet balance`: the owner's and worker's accounts and the
/// provider's collateral.
pub fn wallet_balance(home: &Path, as_json: bool) -> Result<()> {
    let home = Home::load(home)?;
    let owner = Keypair::load(&home.path(&home.config.owner_key))?.address();
    let worker = Keypair::load(&home.path(&home.config.worker_key))?.address();
    let (o, w, p) = runtime()?.block_on(async {
        let ledger = LedgerClient::new(&home.config.ledger)?;
        let o = ledger.get(&format!("/accounts/{owner}")).await?;
        let w = ledger.get(&format!("/accounts/{worker}")).await?;
        let p = match provider_id(&home, &ledger).await? {
            Some(id) => ledger.get(&format!("/providers/{id}")).await?,
            None => Value::Null,
        };
        anyhow::Ok((o, w, p))
    })?;
    let v = json!({
        "owner": { "address": owner.to_string(), "balance": o["balance"], "escrow": o["escrow"] },
        "worker": { "address": worker.to_string(), "balance": w["balance"] },
        "provider": p,
    });
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    println!("owner     {owner}");
    println!("  balance         {}", s(&o["balance"]));
    println!("  escrow free     {}", s(&o["escrow"]["free"]));
    println!("  escrow locked   {}", s(&o["escrow"]["locked"]));
    println!("worker    {worker}");
    println!("  balance         {}", s(&w["balance"]));
    if p.is_null() {
        println!("provider  not registered yet");
    } else {
        println!("provider  {}", p["id"]);
        println!("  collateral      {}", s(&p["collateral"]));
        if let Some(d) = p.get("deposits") {
            println!("  deposits        {}", s(d));
        }
    }
    Ok(())
}
