//! The deal market's full lifecycle through four real validator processes,
//! with real proofs at the 2 KiB sector size: a provider registers, a
//! client and the provider publish a deal, the provider seals the piece
//! (PreCommit 1 and 2, Commit 1, a Groth16 Commit 2 with the development
//! parameters), pre-commits, waits for the interactive seed, prove-commits,
//! proves its deadline window after window with Groth16 WindowPoSt proofs,
//! misses the last window on purpose, and the deal expires. Forged and
//! mismatched proofs are refused on the way. At the end every balance is
//! the one docs/ledger.md's rules predict, computed here from the deal's
//! terms and the epochs the receipts report, not read back from the ledger.
//!
//! Epochs are one block (about a second), so the whole run takes about
//! three minutes, most of it the wait for the deal's start.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use cairn_ledger::codec::Encode as _;
use cairn_ledger::ids::signing_bytes;
use cairn_ledger::tx::{CLIENT_DEAL_DOMAIN, PROVIDER_DEAL_DOMAIN};
use cairn_ledger::{
    CommP, CommR, DealId, DealProposal, Epoch, ProviderId, PublicKey, Registration, SectorNumber,
    Signature, SignedDeal, TxBody,
};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces::{self, PieceInfo};
use cairn_proofs::porep;
use cairn_proofs::post::ProvingSector;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc2Output};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::groth16::ProvingKey;
use cairn_proofs::snark::{params, prove};
use common::{Validator, demo_account, logs, sign, testnet, wait_for};
use ed25519_dalek::{Signer as _, SigningKey};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{Value, json};

const P: SealProof = SealProof::StackedDrg2KiBV1_1;

/// The ledger's rules for this run: one block per epoch, two deadlines of
/// eight epochs (a sixteen-epoch proving period).
const BLOCKS_PER_EPOCH: u64 = 1;
const DEADLINES: u64 = 2;
const WINDOW: u64 = 8;
const SEED_WAIT: u64 = 2;
const FAULT_FEE: u128 = 50;
const REWARD: u128 = 1_000;
const DEMO: u128 = 1_000_000_000;

/// The deal: 100 per epoch for three proving periods.
const PRICE: u128 = 100;
const DURATION: u64 = 3 * DEADLINES * WINDOW;
const CLIENT_COLLATERAL: u128 = 1_000;
const PROVIDER_COLLATERAL: u128 = 1_000;
/// Epochs between publication and the deal's start: sealing and a Groth16
/// Commit 2 on 2 busy cores must fit.
const START_DELAY: u64 = 80;
const REGISTERED_COLLATERAL: u128 = 10_000;
const CLIENT_ESCROW: u128 = 20_000;
const OWNER_ESCROW: u128 = 2_000;
const DEPOSIT: u128 = 100;

fn params_file(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let p = json!({
        "blocks_per_epoch": BLOCKS_PER_EPOCH,
        "deadlines_per_period": DEADLINES,
        "deadline_window": WINDOW,
        "min_deal_duration": 2 * WINDOW,
        "max_deal_duration": 10_000,
        "max_deal_start_delay": 1_000,
        "seed_wait": SEED_WAIT,
        "max_prove_commit_wait": 400,
        "max_ticket_age": 200,
        "min_precommit_deposit": DEPOSIT.to_string(),
        "min_provider_collateral": "1000",
        "fault_fee": FAULT_FEE.to_string(),
        "max_consecutive_faults": 3,
        "reward_per_epoch": REWARD.to_string(),
    });
    let path = dir.join("params.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&p)?)?;
    Ok(path)
}

/// One demo account signing in nonce order.
struct Signer {
    key: SigningKey,
    nonce: u64,
}

impl Signer {
    fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// Submits `body` and returns the receipt, ok or not. A refusal leaves
    /// the nonce unused, as the ledger does.
    fn send(&mut self, v: &Validator, body: TxBody) -> anyhow::Result<Value> {
        let r = v.submit(&sign(&self.key, self.nonce, body))?;
        if r["ok"] == Value::Bool(true) {
            self.nonce += 1;
        }
        Ok(r)
    }

    /// Submits `body` and requires success.
    fn ok(&mut self, v: &Validator, body: TxBody) -> anyhow::Result<Value> {
        let r = self.send(v, body)?;
        ensure!(r["ok"] == Value::Bool(true), "refused: {r}");
        Ok(r)
    }
}

/// The epoch a receipt's transaction ran at.
fn epoch_of(receipt: &Value) -> anyhow::Result<u64> {
    let h = receipt["height"].as_u64().context("receipt height")?;
    Ok((h - 1) / BLOCKS_PER_EPOCH)
}

fn event<'a>(receipt: &'a Value, kind: &str) -> anyhow::Result<&'a Value> {
    receipt["events"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["kind"] == kind))
        .with_context(|| format!("no {kind} event in {receipt}"))
}

fn randomness(v: &Validator, epoch: u64) -> anyhow::Result<[u8; 32]> {
    let r = v.get(&format!("/randomness/{epoch}"))?;
    let bytes = hex::decode(r["randomness"].as_str().context("randomness")?)?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("randomness length"))
}

fn wait_epoch(vs: &[Validator], epoch: u64, timeout: Duration) -> anyhow::Result<()> {
    wait_for(&format!("epoch {epoch}"), timeout, || {
        vs[0].epoch().is_some_and(|e| e >= epoch)
    })
    .with_context(|| logs(vs))
}

fn amount(v: &Value) -> anyhow::Result<u128> {
    v.as_str()
        .context("amount is not a string")?
        .parse()
        .context("amount")
}

/// The sealed sector's files and commitments.
struct Sealed {
    _work: tempfile::TempDir,
    cache: std::path::PathBuf,
    staged: std::path::PathBuf,
    sealed: std::path::PathBuf,
    pc1: seal::Pc1Output,
    pc2: Pc2Output,
}

/// Stages `data` as the sector's one piece.
fn stage(data: &[u8], staged: &Path) -> anyhow::Result<PieceInfo> {
    let mut out = std::fs::File::create(staged)?;
    let added = pieces::add_piece(data, &mut out, P.sector_size(), &[], data.len() as u64)?;
    pieces::fill_staged_sector(&mut out, P.sector_size(), added.written_unpadded)?;
    out.sync_all()?;
    Ok(added.info)
}

/// PreCommit 1 and 2 of the staged sector for `provider`'s `sector` with
/// the ledger's ticket.
fn seal_sector(
    work: tempfile::TempDir,
    piece: PieceInfo,
    provider: ProviderId,
    sector: u64,
    ticket: [u8; 32],
) -> anyhow::Result<Sealed> {
    let cache = work.path().join("cache");
    let parents = work.path().join("parents");
    let staged = work.path().join("staged");
    let sealed = work.path().join("sealed");
    std::fs::create_dir_all(&cache)?;
    std::fs::create_dir_all(&parents)?;
    let pieces = [piece];
    let pc1 = seal::precommit1(&Pc1Inputs {
        proof: P,
        parent_cache_dir: &parents,
        staged: &staged,
        cache_dir: &cache,
        prover_id: ProverId(provider.prover_id()),
        sector_id: SectorId(sector),
        ticket: Ticket(ticket),
        pieces: &pieces,
        threads: 2,
    })?;
    let pc2 = seal::precommit2(&pc1, &staged, &cache, &sealed, 2)?;
    Ok(Sealed {
        _work: work,
        cache,
        staged,
        sealed,
        pc1,
        pc2,
    })
}

/// A Groth16 WindowPoSt over the sector for the randomness `r`.
fn window_post(s: &Sealed, r: [u8; 32], pk: &ProvingKey) -> anyhow::Result<Vec<u8>> {
    let sector = ProvingSector {
        sector_id: s.pc2.sector_id,
        comm_c: s.pc2.comm_c,
        comm_r_last: s.pc2.comm_r_last,
        cache_dir: &s.cache,
        sealed: &s.sealed,
    };
    Ok(prove::window_post(
        P.window_post(),
        &PostRandomness::from_chain(r),
        &[sector],
        pk,
        &CpuBackend,
        &mut ChaCha20Rng::seed_from_u64(2),
    )?)
}

fn signed_deal(client: &SigningKey, worker: &SigningKey, proposal: DealProposal) -> SignedDeal {
    let bytes = proposal.to_bytes();
    let sig = |k: &SigningKey, domain: &[u8]| {
        Signature(k.sign(&signing_bytes(domain, &bytes)).to_bytes())
    };
    SignedDeal {
        client_key: PublicKey(client.verifying_key().to_bytes()),
        client_sig: sig(client, CLIENT_DEAL_DOMAIN),
        provider_sig: sig(worker, PROVIDER_DEAL_DOMAIN),
        proposal,
    }
}

#[test]
fn lifecycle_with_real_proofs_through_four_validators() -> anyhow::Result<()> {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("net");
    std::fs::create_dir_all(&dir)?;
    let pfile = params_file(tmp.path())?;
    let pfile = pfile.to_str().context("path")?;
    let mut vs = testnet(&dir, 4, &["--params", pfile, "--sector-sizes", "2KiB"])?;
    for v in &mut vs {
        v.start()?;
    }
    wait_for("height 2", Duration::from_secs(60), || {
        vs.iter().all(|v| v.height().is_some_and(|h| h >= 2))
    })
    .with_context(|| logs(&vs))?;
    let v = &vs[1];

    let (ck, client_addr) = demo_account(&dir, 0)?;
    let (ok_, owner_addr) = demo_account(&dir, 1)?;
    let (wk, _) = demo_account(&dir, 2)?;
    let mut client = Signer { key: ck, nonce: 0 };
    let mut owner = Signer { key: ok_, nonce: 0 };
    let mut worker = Signer { key: wk, nonce: 0 };

    // Register, and fund both escrows.
    let r = owner.ok(
        v,
        TxBody::RegisterProvider(Registration {
            worker: worker.public(),
            peer_id: vec![0x00, 0x24, 0x08, 0x01],
            multiaddrs: vec!["/ip4/127.0.0.1/tcp/4001".into()],
            seal_proof: P,
            price_per_byte_epoch: 0,
            capacity: 1 << 30,
            collateral: REGISTERED_COLLATERAL,
        }),
    )?;
    let provider = ProviderId(
        event(&r, "ProviderRegistered")?["provider"]
            .as_u64()
            .context("provider")?,
    );
    client.ok(
        v,
        TxBody::EscrowAdd {
            amount: CLIENT_ESCROW,
        },
    )?;
    owner.ok(
        v,
        TxBody::EscrowAdd {
            amount: OWNER_ESCROW,
        },
    )?;

    // The piece, and the deal for it.
    let work = tempfile::tempdir()?;
    let data: Vec<u8> = (0..2032u32).map(|i| (i * 7 % 251) as u8).collect();
    let piece = stage(&data, &work.path().join("staged"))?;
    let now = v.epoch().context("epoch")?;
    // Deals start on a period boundary, so the windows are easy to follow.
    let period = DEADLINES * WINDOW;
    let start = (now + START_DELAY).div_ceil(period) * period;
    let end = start + DURATION;
    let proposal = DealProposal {
        piece: CommP(piece.comm_p),
        piece_size: piece.padded_size,
        client: client_addr,
        provider,
        label: b"bafkreilifecycle".to_vec(),
        start: Epoch(start),
        end: Epoch(end),
        price_per_epoch: PRICE,
        provider_collateral: PROVIDER_COLLATERAL,
        client_collateral: CLIENT_COLLATERAL,
    };
    // Signed by one side only: refused.
    let mut one_sided = signed_deal(&client.key, &worker.key, proposal.clone());
    one_sided.provider_sig = one_sided.client_sig;
    let r = client.send(
        v,
        TxBody::PublishDeals {
            deals: vec![one_sided],
            manifest: None,
        },
    )?;
    ensure!(
        r["ok"] == Value::Bool(false),
        "one-sided deal accepted: {r}"
    );
    let r = client.ok(
        v,
        TxBody::PublishDeals {
            deals: vec![signed_deal(&client.key, &worker.key, proposal)],
            manifest: None,
        },
    )?;
    let deal = DealId(
        event(&r, "DealPublished")?["deal"]
            .as_u64()
            .context("deal")?,
    );
    eprintln!(
        "deal {} published, start {start}, end {end} ({:?})",
        deal.0,
        t0.elapsed()
    );

    // Seal with the ticket of the previous epoch, pre-commit.
    let ticket_epoch = v.epoch().context("epoch")? - 1;
    let ticket = randomness(v, ticket_epoch)?;
    let s = seal_sector(work, piece, provider, 1, ticket)?;
    let comm_r = s.pc2.comm_r;
    let r = worker.ok(
        v,
        TxBody::PreCommitSector {
            provider,
            sector: SectorNumber(1),
            deals: vec![deal],
            comm_r: CommR(comm_r),
            ticket_epoch: Epoch(ticket_epoch),
            expiration: Epoch(end),
            deposit: DEPOSIT,
        },
    )?;
    let seed_epoch = event(&r, "SectorPreCommitted")?["seed_epoch"]
        .as_u64()
        .context("seed epoch")?;
    wait_epoch(&vs, seed_epoch + 1, Duration::from_secs(60))?;
    let seed = randomness(v, seed_epoch)?;
    let c1 = porep::commit1(&s.pc1, &s.pc2, seed, &s.staged, &s.sealed, &s.cache)?;
    let t_c2 = Instant::now();
    let (porep_pk, _) = params::porep_keys(&params::default_dir(), P, &mut |l| eprintln!("{l}"))?;
    let proof = prove::commit2(
        &c1,
        &porep_pk,
        &CpuBackend,
        &mut ChaCha20Rng::seed_from_u64(1),
    )?;
    drop(porep_pk);
    eprintln!("Commit 2 in {:?}", t_c2.elapsed());

    // A forged proof (one flipped byte) and a proof for other public
    // values (another seed) are refused by the real verifier.
    let mut forged = proof.clone();
    forged[100] ^= 1;
    let r = worker.send(
        v,
        TxBody::ProveCommitSector {
            provider,
            sector: SectorNumber(1),
            proof: forged,
        },
    )?;
    ensure!(
        r["ok"] == Value::Bool(false)
            && r["refusal"]
                .as_str()
                .is_some_and(|x| x.contains("PoRep proof refused")),
        "forged PoRep: {r}"
    );
    let r = worker.ok(
        v,
        TxBody::ProveCommitSector {
            provider,
            sector: SectorNumber(1),
            proof,
        },
    )?;
    let activation = epoch_of(&r)?;
    let deadline = event(&r, "SectorActivated")?["deadline"]
        .as_u64()
        .context("deadline")?;
    ensure!(
        activation < start,
        "activated at {activation}, after the deal's start {start}"
    );
    eprintln!(
        "sector 1 active at epoch {activation}, deadline {deadline} ({:?})",
        t0.elapsed()
    );

    // Prove every window of the sector's deadline that is due, but the
    // last; follow the payments by the rules of docs/ledger.md.
    let (post_pk, _) =
        params::window_post_keys(&params::default_dir(), P.window_post(), &mut |l| {
            eprintln!("{l}")
        })?;
    // A proof for the randomness of another epoch than the window's, made
    // ahead (windows are short).
    let stale = window_post(&s, randomness(v, activation)?, &post_pk)?;
    let mut stale = Some(stale);
    let mut settled = start;
    let mut paid = 0u128;
    let mut refunded = 0u128;
    // The first window of the deadline opening after activation.
    let mut open = (activation / period) * period + deadline * WINDOW;
    while open <= activation {
        open += period;
    }
    let last_close;
    loop {
        let stretch_end = (open + WINDOW).min(end);
        let stretch = stretch_end.saturating_sub(settled);
        let is_last = open + WINDOW >= end;
        wait_epoch(&vs, open, Duration::from_secs(300))?;
        if is_last {
            // Missed on purpose: the stretch goes back to the client.
            refunded += PRICE * u128::from(stretch);
            last_close = open + WINDOW;
            eprintln!("window [{open}, {}) left unproven", open + WINDOW);
            break;
        }
        let r_open = randomness(v, open)?;
        if let Some(stale) = stale.take() {
            // A proof for the randomness of another epoch is refused.
            let r = worker.send(
                v,
                TxBody::SubmitWindowPost {
                    provider,
                    deadline,
                    proof: stale,
                },
            )?;
            ensure!(
                r["ok"] == Value::Bool(false)
                    && r["refusal"]
                        .as_str()
                        .is_some_and(|x| x.contains("WindowPoSt proof refused")),
                "WindowPoSt for other randomness: {r}"
            );
        }
        let proof = window_post(&s, r_open, &post_pk)?;
        let r = worker.ok(
            v,
            TxBody::SubmitWindowPost {
                provider,
                deadline,
                proof,
            },
        )?;
        let at = epoch_of(&r)?;
        ensure!(at < open + WINDOW, "proof landed at {at}, after the window");
        paid += PRICE * u128::from(stretch);
        settled = settled.max(stretch_end);
        eprintln!(
            "window [{open}, {}) proven at epoch {at}: pays {}",
            open + WINDOW,
            PRICE * u128::from(stretch)
        );
        open += period;
    }
    if open + WINDOW < end {
        bail!("the loop ended before the deal's end");
    }
    // The missed window closes; the deal expires with it.
    wait_epoch(&vs, last_close + 1, Duration::from_secs(60))?;
    let _ = vs[0].height(); // keep the first validator's API warm in logs

    // Expected by the rules, from the epochs above.
    let rewards = REWARD * u128::from(last_close - activation);
    let client_escrow_free = CLIENT_ESCROW - paid;
    let owner_escrow_free = OWNER_ESCROW + paid;
    let owner_balance = DEMO - REGISTERED_COLLATERAL - OWNER_ESCROW + rewards;
    let collateral = REGISTERED_COLLATERAL - FAULT_FEE;
    ensure!(
        paid + refunded == PRICE * u128::from(DURATION),
        "every epoch of the deal is paid or refunded: {paid} + {refunded}"
    );

    let c = v.get(&format!("/accounts/{client_addr}"))?;
    let o = v.get(&format!("/accounts/{owner_addr}"))?;
    let p = v.get(&format!("/providers/{}", provider.0))?;
    let d = v.get(&format!("/deals/{}", deal.0))?;
    eprintln!("client {c}\nowner {o}\nprovider {p}\ndeal {d}");
    assert_eq!(
        amount(&c["balance"])?,
        DEMO - CLIENT_ESCROW,
        "client balance"
    );
    assert_eq!(
        amount(&c["escrow"]["free"])?,
        client_escrow_free,
        "client escrow"
    );
    assert_eq!(amount(&c["escrow"]["locked"])?, 0, "client lock");
    assert_eq!(
        amount(&o["balance"])?,
        owner_balance,
        "owner balance (rewards)"
    );
    assert_eq!(
        amount(&o["escrow"]["free"])?,
        owner_escrow_free,
        "owner escrow"
    );
    assert_eq!(amount(&o["escrow"]["locked"])?, 0, "owner lock");
    assert_eq!(amount(&p["collateral"])?, collateral, "provider collateral");
    assert_eq!(amount(&p["deposits"])?, 0, "deposits");

    // Every validator holds the same state at one height.
    let h = vs[1].height().context("height")?;
    wait_for("all at one height", Duration::from_secs(30), || {
        vs.iter().all(|x| x.height().is_some_and(|y| y >= h))
    })?;
    let roots: Vec<Value> = vs
        .iter()
        .map(|x| {
            x.get(&format!("/blocks/{h}"))
                .map(|b| b["state_root"].clone())
        })
        .collect::<anyhow::Result<_>>()?;
    assert!(
        roots.iter().all(|r| r == &roots[0]),
        "roots differ: {roots:?}"
    );
    eprintln!("lifecycle done in {:?}", t0.elapsed());
    Ok(())
}
