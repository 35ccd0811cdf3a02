//! The devnet's demonstration: a sample stored through S3, read back
//! through S3 and by CID, its deals awaited on the ledger, then followed
//! until every deal's sector is sealed and proven and the deal is paid.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use cairn_dag::car::CarReader;
use cairn_dag::reader::FileReader;
use cairn_dag::{Profile, file_cid};
use cairn_gateway::s3::CID_HEADER;
use cairn_types::ledger::{DealInfo, LedgerClient};
use cid::Cid;
use http::Method;
use serde_json::Value;

use super::Endpoints;
use super::children::{Children, Waiting};
use crate::s3client::{S3Client, http_get};

/// The S3 and by-CID round trip, then the sample's placement on the ledger.
pub(super) async fn run_demo(e: &Endpoints, logs: &Path, children: &mut Children) -> Result<()> {
    let client = S3Client {
        endpoint: e.s3.clone(),
        access_key: e.access_key.clone(),
        secret_key: e.secret_key.clone(),
        region: "us-east-1".into(),
    };
    let cid = demonstrate(&client, &e.http).await?;

    let ledger = LedgerClient::new(&e.ledger)?;
    let wait = Waiting::start(
        "placement: waiting for the sample's manifest on the ledger",
        Duration::from_secs(120),
        format!(
            "{} and {}",
            logs.join("gateway.log").display(),
            logs.join("node-*.log").display()
        ),
    );
    loop {
        let now = match ledger
            .get_as::<Vec<Value>>(&format!("/manifests/{cid}"))
            .await
        {
            Ok(m) if !m.is_empty() => break,
            Ok(_) => "not published yet".to_owned(),
            Err(err) => err.to_string(),
        };
        wait.tick(children, &now).await?;
    }
    wait.done("published");
    let deals: Vec<DealInfo> = ledger
        .get_as(&format!("/deals?label={cid}"))
        .await
        .context("reading the sample's deals")?;
    ensure!(
        !deals.is_empty(),
        "the manifest is published but no deal is"
    );
    println!("deals for {cid}:");
    println!("    deal  provider  state       piece");
    for d in &deals {
        println!(
            "  {:>6}  {:>8}  {:<10}  {}",
            d.id, d.provider, d.state, d.piece
        );
    }
    seal_prove_pay(&ledger, &cid, &deals, logs, children).await
}

/// Follows the sample's deals until every one is in a proven sector and
/// has been paid by a WindowPoSt (docs/ledger.md, "Devnet timing").
async fn seal_prove_pay(
    ledger: &LedgerClient,
    cid: &str,
    deals: &[DealInfo],
    logs: &Path,
    children: &mut Children,
) -> Result<()> {
    let status = ledger.status().await?;
    let first_start = deals.iter().map(|d| d.start).min().unwrap_or(0);
    let node_logs = logs.join("node-*.log").display().to_string();
    let wait = Waiting::start(
        format!(
            "sealing: every node seals its pieces (PreCommit 1 and 2, PreCommitSector, the seed, \
             Commit 2 one node at a time); deals start at epoch {first_start}, waiting from epoch {}",
            status.epoch
        ),
        Duration::from_secs(1800),
        node_logs.clone(),
    );
    let fetch = |id: u64| async move { ledger.get(&format!("/deals/{id}")).await };
    loop {
        let mut active = 0;
        for d in deals {
            let v = fetch(d.id).await?;
            match v["state"].as_str().unwrap_or_default() {
                "Active" => active += 1,
                s @ ("Cancelled" | "Terminated") => bail!(
                    "deal {} of {cid} is {s}: provider {} did not prove its sector before epoch {} (see {node_logs})",
                    d.id,
                    d.provider,
                    d.start
                ),
                _ => {}
            }
        }
        if active == deals.len() {
            break;
        }
        wait.tick(
            children,
            &format!("{active} of {} deals in proven sectors", deals.len()),
        )
        .await?;
    }
    let epoch = ledger.status().await.map_or(0, |s| s.epoch);
    wait.done(&format!(
        "every deal is in a sector proven with a Groth16 PoRep by epoch {epoch}"
    ));
    let wait = Waiting::start(
        format!("proving: waiting for WindowPoSt payments (deals start at epoch {first_start})"),
        Duration::from_secs(1800),
        node_logs,
    );
    let rows = loop {
        let mut rows = Vec::with_capacity(deals.len());
        for d in deals {
            rows.push(fetch(d.id).await?);
        }
        let paid = rows
            .iter()
            .filter(|v| v["paid"].as_str().is_some_and(|p| p != "0"))
            .count();
        if paid == deals.len() {
            break rows;
        }
        let epoch = ledger.status().await.map_or(0, |s| s.epoch);
        wait.tick(
            children,
            &format!("epoch {epoch}: {paid} of {} deals paid", deals.len()),
        )
        .await?;
    };
    let epoch = ledger.status().await.map_or(0, |s| s.epoch);
    wait.done(&format!(
        "every deal paid by a verified WindowPoSt by epoch {epoch}"
    ));
    println!("    deal  provider  sector  state    paid so far");
    for v in &rows {
        println!(
            "  {:>6}  {:>8}  {:>6}  {:<7}  {}",
            v["id"].to_string(),
            v["provider"].to_string(),
            v["sector"].to_string(),
            v["state"].as_str().unwrap_or_default(),
            v["paid"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

pub(super) fn sample() -> Vec<u8> {
    // 3 MiB + 1 byte: four leaves and a root under the default profile.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..(3 << 20) + 1)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub(super) async fn step<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let started = Instant::now();
    let out = f.await.with_context(|| what.to_owned())?;
    println!(
        "  ok  {what:<58} {:>7.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(out)
}

/// Stores the sample through S3 and reads it back through S3 and by CID;
/// returns its CID.
pub(super) async fn demonstrate(s3: &S3Client, http: &str) -> Result<String> {
    let data = sample();
    let expected = file_cid(Profile::default(), &data);
    println!(
        "demonstration: a {} byte sample file, CID {expected}",
        data.len()
    );
    step("CreateBucket demo", async {
        let resp = s3.send(Method::PUT, "demo", None, Bytes::new()).await?;
        ensure!(
            resp.status.is_success() || resp.status.as_u16() == 409,
            "CreateBucket answered {}",
            resp.status
        );
        Ok(())
    })
    .await?;
    let cid = step(
        "PutObject demo/sample.bin (x-cairn-cid = local CID)",
        async {
            let resp = s3
                .send_ok(
                    Method::PUT,
                    "demo",
                    Some("sample.bin"),
                    Bytes::from(data.clone()),
                )
                .await?;
            let cid = resp
                .headers
                .get(CID_HEADER)
                .and_then(|v| v.to_str().ok())
                .context("no x-cairn-cid header")?
                .to_owned();
            ensure!(
                cid == expected.to_string(),
                "gateway says {cid}, local build says {expected}"
            );
            Ok(cid)
        },
    )
    .await?;
    step("GetObject demo/sample.bin (bytes identical)", async {
        let resp = s3
            .send_ok(Method::GET, "demo", Some("sample.bin"), Bytes::new())
            .await?;
        ensure!(
            resp.body.as_ref() == data.as_slice(),
            "GetObject returned different bytes"
        );
        Ok(())
    })
    .await?;
    step("GET /ipfs/<cid>?format=car (every block verified)", async {
        let resp = http_get(http, &format!("/ipfs/{cid}?format=car")).await?;
        ensure!(resp.status.is_success(), "answered {}", resp.status);
        let mut reader = CarReader::new(std::io::Cursor::new(resp.body.to_vec()))?;
        let mut blocks = HashMap::new();
        while let Some(b) = reader.next_block()? {
            blocks.insert(b.cid, b.data);
        }
        let summary = reader.finish()?;
        let root: Cid = cid.parse()?;
        ensure!(
            summary.roots == vec![root],
            "CAR roots are {:?}",
            summary.roots
        );
        let mut bytes = Vec::with_capacity(data.len());
        for piece in FileReader::new(&blocks, root) {
            bytes.extend_from_slice(&piece?);
        }
        ensure!(bytes == data, "the CAR's file differs from the sample");
        Ok(())
    })
    .await?;
    step("GET /ipfs/<cid> (plain bytes identical)", async {
        let resp = http_get(http, &format!("/ipfs/{cid}")).await?;
        ensure!(resp.status.is_success(), "answered {}", resp.status);
        if resp.body.as_ref() != data.as_slice() {
            bail!("the gateway's bytes differ from the sample");
        }
        Ok(())
    })
    .await?;
    Ok(cid)
}
