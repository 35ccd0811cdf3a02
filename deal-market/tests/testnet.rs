//! Four real `cairn-validator` processes on loopback: they finalize
//! blocks; a transfer submitted through one API is applied on all; one
//! validator is killed (SIGKILL) and the other three keep finalizing; it
//! restarts from its disk and catches up to the same state root.

mod common;

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use cairn_ledger::ids::Address;
use cairn_ledger::tx::{SignedTx, TxBody};
use common::{Validator, demo_account, logs, sign, testnet, wait_for};
use serde_json::Value;

fn transfer(
    dir: &std::path::Path,
    to_index: usize,
    amount: u128,
) -> anyhow::Result<(SignedTx, Address)> {
    let (key, _) = demo_account(dir, 0)?;
    let (_, to) = demo_account(dir, to_index)?;
    Ok((sign(&key, 0, TxBody::Transfer { to, amount }), to))
}

#[test]
fn four_validators_finalize_survive_a_crash_and_catch_up() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("net");
    let mut vs: Vec<Validator> = testnet(&dir, 4, &["--blocks-per-epoch", "5"])?;
    for v in &mut vs {
        v.start()?;
    }

    // 1. All four finalize.
    wait_for(
        "height 3 on all validators",
        Duration::from_secs(40),
        || vs.iter().all(|v| v.height().is_some_and(|h| h >= 3)),
    )
    .with_context(|| logs(&vs))?;
    eprintln!("finalizing after {:?}", t0.elapsed());

    // 2. A transfer through validator 1's API is applied.
    let (tx, to) = transfer(&dir, 1, 12_345)?;
    let submitted = Instant::now();
    let receipt = vs[1].submit(&tx)?;
    ensure!(receipt["ok"] == Value::Bool(true), "receipt: {receipt}");
    assert_eq!(receipt["events"][0]["kind"], "Transferred", "{receipt}");
    assert_eq!(receipt["events"][0]["to"], hex::encode(to.0), "{receipt}");
    assert_eq!(receipt["events"][0]["amount"], "12345", "{receipt}");
    let included = receipt["height"].as_u64().context("receipt height")?;
    eprintln!(
        "transfer finalized in block {included}, {:?} after submission",
        submitted.elapsed()
    );
    wait_for(
        "validator 2 at the transfer's height",
        Duration::from_secs(20),
        || vs[2].height().is_some_and(|h| h >= included),
    )?;
    let acc = vs[2].get(&format!("/accounts/{}", hex::encode(to.0)))?;
    assert_eq!(
        acc["balance"],
        Value::String((1_000_000_000u128 + 12_345).to_string())
    );
    // Validator 3 may lag a block; it has the transaction once it is at
    // that height (asked in this order: the height first, then the tx).
    if vs[3].height().is_some_and(|h| h >= included) {
        let by_hash = vs[3].get(&format!("/tx/{}", hex::encode(tx.hash())))?;
        assert_eq!(by_hash["height"].as_u64(), Some(included));
    }

    // 3. Kill validator 3; the other three keep finalizing.
    vs[3].kill();
    let before = vs[0].height().context("height of 0")?;
    // Long enough that the restarted validator needs marshal's backfill,
    // not only the certificates of the views it rejoins in.
    let gap = 8;
    wait_for(
        "blocks without validator 3",
        Duration::from_secs(40),
        || {
            vs[..3]
                .iter()
                .all(|v| v.height().is_some_and(|h| h >= before + gap))
        },
    )
    .with_context(|| logs(&vs))?;
    eprintln!(
        "3 validators finalized {before}..{} after {:?}",
        before + gap,
        t0.elapsed()
    );

    // 4. Restart it: it recovers from disk and catches up.
    vs[3].start()?;
    let target = vs[0].height().context("height of 0")?;
    wait_for("validator 3 to catch up", Duration::from_secs(40), || {
        vs[3].height().is_some_and(|h| h >= target)
    })
    .with_context(|| logs(&vs))?;
    let roots: Vec<Value> = vs
        .iter()
        .map(|v| {
            v.get(&format!("/blocks/{target}"))
                .map(|b| b["state_root"].clone())
        })
        .collect::<anyhow::Result<_>>()?;
    assert!(
        roots.iter().all(|r| r == &roots[0] && r.is_string()),
        "roots differ: {roots:?}"
    );
    eprintln!("validator 3 caught up to {target} after {:?}", t0.elapsed());
    Ok(())
}
