//! A sealing `cairn-node` that loses a sector's replica after its
//! PreCommit landed: killed -9 in the seed wait (or later, before
//! ProveCommit), its `sealed` file and Commit 1 output removed, then
//! restarted. The sector must be reported with the missing file named,
//! keep its number, CommR and pre-commit, and never be sealed again: the
//! commitments on the ledger belong to the replica that was lost.

mod common;

use std::process::Command;
use std::time::Duration;

use cairn_ledger::tx::TxBody;
use cairn_ledger::{DealProposal, Epoch};
use common::*;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// `cairn-node sectors <args> --json`.
fn sectors_json(home: &std::path::Path, args: &[&str]) -> Value {
    let out = Command::new(node_bin())
        .arg("sectors")
        .args(args)
        .arg("--home")
        .arg(home)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sectors {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_lost_after_precommit_is_reported_not_sealed_again() {
    let tmp = tempfile::tempdir().unwrap();
    let net = Testnet::start(tmp.path()).await;
    let client = &net.accounts[1];
    net.ok(client, TxBody::EscrowAdd { amount: 10_000_000 })
        .await;
    let home = init_node(
        tmp.path(),
        "node",
        &net.url,
        &["--collateral", "5000", "--escrow", "5000"],
    );
    // Sealing on, a sector closed as soon as a deal fills it, and its own
    // parameter folder (its Commit 2 must never be reached here).
    let params = tmp.path().join("params");
    set_config(
        &home,
        &[
            ("enabled", "true"),
            ("lead", "40"),
            ("params_dir", &format!("{:?}", params.display().to_string())),
        ],
    );
    let owner = owner_of(&home);
    net.ok(
        &net.accounts[0],
        TxBody::Transfer {
            to: owner.address(),
            amount: 1_000_000,
        },
    )
    .await;
    let mut node = run_node(&home);
    let me = net.provider_of(&owner, &node).await;
    let to = peer_of(&me);
    escrow_deposited(&net, &owner, &node, 5000).await;
    let c = p2p_client();
    let epoch = poll("answering asks", 30, &node, || async {
        match c
            .deal(to.0, to.1.clone(), cairn_types::DealRequest::Ask)
            .await
        {
            Ok(cairn_types::DealResponse::Ask(a)) => Some(a.epoch.0),
            _ => None,
        }
    })
    .await;

    // One deal whose 2,048-byte piece fills a 2 KiB sector, starting late
    // enough to be sealed.
    let mut payload = vec![0u8; 2000];
    rand::rngs::StdRng::seed_from_u64(11).fill(&mut payload[..]);
    let d = make_deal(client, me.id, epoch, payload, "bafkreilost");
    let d = sign(
        client,
        DealProposal {
            start: Epoch(epoch + 400),
            end: Epoch(epoch + 500),
            ..d.signed.proposal
        },
        d.payload,
    );
    let provider_sig = take_deal(&c, &to, &d).await;
    publish(&net, client, &d, provider_sig).await;

    // Its sector is sealed and pre-committed.
    let (n, comm_r) = poll("a sector pre-committed", 120, &node, || async {
        let list = sectors_json(&home, &["list"]);
        let s = list.as_array()?.first()?.clone();
        matches!(s["state"].as_str()?, "waiting_seed" | "c1" | "c2")
            .then(|| (s["number"].as_u64().unwrap(), s["comm_r"].clone()))
    })
    .await;
    node.child.kill().unwrap();
    node.child.wait().unwrap();
    let on_ledger = net.ledger.sectors(me.id).await.unwrap();
    let precommit = |info: &cairn_types::ledger::SectorsInfo| {
        info.precommits
            .iter()
            .map(|p| (p.number, p.comm_r.clone()))
            .collect::<Vec<_>>()
    };
    let precommits = precommit(&on_ledger);
    assert_eq!(precommits.len(), 1, "{on_ledger:?}");
    assert_eq!(precommits[0].0, n);

    // The replica is lost, with the Commit 1 output drawn from it.
    let dir = home.join("data/sectors").join(n.to_string());
    std::fs::remove_file(dir.join("sealed")).unwrap();
    let _ = std::fs::remove_file(dir.join("c1.out"));
    assert!(
        !dir.join("proof").exists(),
        "Commit 2 finished before the kill"
    );
    let node = run_node(&home);
    let status = poll("the lost replica reported", 90, &node, || async {
        let v = sectors_json(&home, &["status", &n.to_string()]);
        v["error"].as_str().is_some().then_some(v)
    })
    .await;
    let why = status["error"].as_str().unwrap_or_default();
    eprintln!("sector {n} reported: {why}");
    assert!(
        why.contains(&dir.join("sealed").display().to_string()),
        "the error does not name the missing replica: {why}"
    );
    // Reported, and kept as it was: same number, CommR and pre-commit,
    // and no PC1 or PC2 run again to make a new replica.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let list = sectors_json(&home, &["list"]);
    let all = list.as_array().unwrap();
    assert_eq!(all.len(), 1, "a new sector was started: {list}");
    assert_eq!(all[0]["number"], n);
    assert_eq!(all[0]["comm_r"], comm_r);
    assert!(
        matches!(all[0]["state"].as_str(), Some("waiting_seed" | "c1" | "c2")),
        "{list}"
    );
    assert!(
        !dir.join("sealed").exists(),
        "the replica was made again under the pre-committed CommR"
    );
    let after = precommit(&net.ledger.sectors(me.id).await.unwrap());
    assert_eq!(after, precommits, "the pre-commit changed");
    let log = node.log();
    assert!(
        log.contains(&format!("sector {n}:")) && log.contains("sealed"),
        "the log does not report the sector:\n{log}"
    );
}
