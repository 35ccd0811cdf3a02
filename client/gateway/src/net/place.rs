//! Placing an upload: its CAR stream spooled into piece files, one deal per
//! piece with `k + m` distinct providers, the countersigned deals and the
//! upload's manifest published on the ledger in one transaction.
//!
//! The state of a placement ([`Placement`]) is plain data the caller
//! persists after every step (`save`), so a placement interrupted by a
//! restart resumes: shards already countersigned are not sent again. A
//! provider that fails a shard (unreachable, refuses, vanishes
//! mid-transfer after retries) is replaced by one that holds no shard of
//! this upload; when none is left the shard is `failed` and the placement
//! returns an error for the caller to retry later. Nothing is published
//! until every shard is countersigned, so an upload is never half placed
//! on the ledger.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_erasure::{Chunk, Encoder, Layout, PieceHashers};
use cairn_ledger::codec::{Decode as _, Encode as _};
use cairn_ledger::tx::{CLIENT_DEAL_DOMAIN, Manifest, PROVIDER_DEAL_DOMAIN, TxBody};
use cairn_ledger::{Amount, CommP, DealProposal, Epoch, ProviderId, SignedDeal};
use cairn_proofs::commp::PieceCommitment;
use cairn_types::keys::Keypair;
use cairn_types::ledger::LedgerClient;
use cairn_types::p2p::Client;
use cairn_types::{Ask, ClientDeal, DealRequest, DealResponse, MAX_CHUNK};
use serde::{Deserialize, Serialize};

use super::{NetError, Provider, providers};

/// How an upload is placed (per bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Data shards.
    pub k: u8,
    /// Parity shards.
    pub m: u8,
    /// Epochs each deal lasts.
    pub duration: u64,
    /// The most paid per padded byte per epoch.
    pub max_price_per_byte_epoch: Amount,
    /// Epochs added to a provider's sealing allowance when choosing a start.
    pub start_margin: u64,
    /// The longest sealing allowance accepted from a provider, in epochs
    /// (with the margin it must stay within the ledger's start limit).
    pub max_start_delay: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            k: 4,
            m: 2,
            duration: 2_000,
            max_price_per_byte_epoch: 10,
            start_margin: 20,
            max_start_delay: 900,
        }
    }
}

/// Where one shard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardState {
    /// Waiting for a provider or its answer.
    #[default]
    Proposed,
    /// Bytes going to its provider.
    Transferring,
    /// Every piece countersigned.
    Signed,
    /// On the ledger.
    Published,
    /// No provider could take it (retried later).
    Failed,
}

/// One shard's placement.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShardPlacement {
    /// Its provider.
    pub provider: Option<u64>,
    /// Providers that failed it; never asked again for this upload.
    pub failed: Vec<u64>,
    /// Per segment, the countersigned deal (hex of its encoding).
    pub signed: Vec<Option<String>>,
    /// Where it is.
    pub state: ShardState,
    /// The last error, for `cairn status`.
    pub error: Option<String>,
}

/// A whole placement's state; persist it after every `save`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Placement {
    /// The pieces it was made for (CommP hex, per shard, per segment): a
    /// state for other pieces (a re-planned layout) is started over.
    #[serde(default)]
    pub pieces: Vec<Vec<String>>,
    /// Per shard.
    pub shards: Vec<ShardPlacement>,
    /// Deal ids, per shard then segment, once published.
    pub deal_ids: Vec<Vec<u64>>,
    /// The manifest's id, once published.
    pub manifest: Option<u64>,
}

/// An upload ready to place: its layout, piece commitments and files.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The root CID's string (the deals' label and the manifest's root).
    pub root: String,
    /// Its layout.
    pub layout: Layout,
    /// Per shard, per segment.
    pub pieces: Vec<Vec<PieceCommitment>>,
    /// Where the piece files are.
    pub dir: PathBuf,
}

/// Reads a placement state saved by [`save_state`]; none saved is a fresh
/// start, a file that does not parse is an error (starting over could
/// publish the upload twice).
pub fn load_state(path: &Path) -> Result<Placement, NetError> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| NetError::Io {
            what: format!("reading the placement state {}", path.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Placement::default()),
        Err(e) => Err(NetError::Io {
            what: format!("reading the placement state {}", path.display()),
            source: e,
        }),
    }
}

/// Saves a placement state atomically: a temporary file, synced, renamed
/// over the old one, and the folder synced, so a crash leaves the old
/// state or the new one, never a torn file.
pub fn save_state(path: &Path, state: &Placement) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A piece file's path.
pub fn piece_path(dir: &Path, shard: usize, segment: u64) -> PathBuf {
    dir.join(format!("{shard}-{segment}"))
}

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> NetError {
    move |source| NetError::Io { what, source }
}

/// Encodes a CAR stream, written to it, into one file per piece under a
/// directory, committing to each piece as it goes. Blocking; memory is one
/// stripe row plus a write buffer per shard.
pub struct Spooler {
    dir: PathBuf,
    enc: Encoder,
    hashers: PieceHashers,
    open: Vec<Option<BufWriter<File>>>,
}

impl std::fmt::Debug for Spooler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spooler")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Spooler {
    /// A spooler for `layout` writing into `dir` (created).
    pub fn new(layout: Layout, dir: &Path) -> Result<Self, NetError> {
        std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            enc: Encoder::new(layout),
            hashers: PieceHashers::new(&layout),
            open: (0..layout.shards()).map(|_| None).collect(),
        })
    }

    /// Checks the whole CAR arrived; every piece's commitment, per shard,
    /// per segment.
    pub fn finish(self) -> Result<Vec<Vec<PieceCommitment>>, NetError> {
        self.enc.finish()?;
        Ok(self.hashers.finish())
    }
}

impl Write for Spooler {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Self {
            dir,
            enc,
            hashers,
            open,
        } = self;
        let mut sink = |c: Chunk<'_>| -> std::io::Result<()> {
            let i = usize::from(c.shard);
            hashers.update(&c).map_err(std::io::Error::other)?;
            let slot = open
                .get_mut(i)
                .ok_or_else(|| std::io::Error::other("shard out of range"))?;
            if slot.is_none() {
                *slot = Some(BufWriter::with_capacity(
                    1 << 20,
                    File::create(piece_path(dir, i, c.segment))?,
                ));
            }
            if let Some(w) = slot.as_mut() {
                w.write_all(c.bytes)?;
            }
            if c.last
                && let Some(w) = slot.take()
            {
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
            Ok(())
        };
        enc.write(buf, &mut sink).map_err(|e| match e {
            cairn_erasure::EncodeError::Sink(e) => e,
            other => std::io::Error::other(other),
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Makes deals for uploads on behalf of one wallet.
#[derive(Debug, Clone)]
pub struct Placer {
    /// The ledger.
    pub ledger: LedgerClient,
    /// The libp2p client.
    pub p2p: Client,
    /// The wallet that signs proposals and pays.
    pub wallet: Arc<Keypair>,
}

/// Whether a stored signed deal (hex) starts at or before `epoch`
/// (an undecodable one counts as stale).
fn starts_by(deal: Option<&str>, epoch: u64) -> bool {
    deal.and_then(|h| hex::decode(h).ok())
        .and_then(|b| SignedDeal::from_bytes(&b).ok())
        .is_none_or(|d| d.proposal.start.0 <= epoch)
}

/// Push retries per piece before a provider is given up on.
const ATTEMPTS: usize = 3;

impl Placer {
    /// Places `up` by `policy`, resuming from `state`; `save` is called
    /// whenever `state` changed. Returns once the deals are published.
    pub async fn place(
        &self,
        up: &Upload,
        policy: &Policy,
        state: &mut Placement,
        mut save: impl FnMut(&Placement),
    ) -> Result<(), NetError> {
        let n = up.layout.shards();
        let segments = usize::try_from(up.layout.segments()).unwrap_or(usize::MAX);
        let pieces: Vec<Vec<String>> = up
            .pieces
            .iter()
            .map(|s| s.iter().map(|p| hex::encode(p.comm_p)).collect())
            .collect();
        if state.pieces != pieces || state.shards.len() != n {
            *state = Placement {
                pieces,
                shards: vec![ShardPlacement::default(); n],
                ..Placement::default()
            };
        }
        for s in &mut state.shards {
            s.signed.resize(segments, None);
        }
        if state.manifest.is_some() {
            return Ok(());
        }
        let biggest = (0..up.layout.segments())
            .map(|j| up.layout.piece_size(j))
            .max()
            .unwrap_or(0);
        let mut candidates: Vec<Provider> = providers(&self.ledger)
            .await?
            .into_iter()
            .filter(|p| {
                p.sector_size >= biggest
                    && p.price_per_byte_epoch <= policy.max_price_per_byte_epoch
            })
            .collect();
        candidates.sort_by_key(|p| (p.price_per_byte_epoch, p.id));

        for _round in 0..=(candidates.len() + 1) {
            self.assign(state, &candidates).await;
            save(state);
            if let Some((i, s)) = state
                .shards
                .iter()
                .enumerate()
                .find(|(_, s)| s.provider.is_none())
            {
                return Err(NetError::NotEnoughProviders {
                    need: n,
                    have: candidates.len(),
                    why: format!(
                        "shard {i}: {}",
                        s.error.clone().unwrap_or_else(|| "no provider left".into())
                    ),
                });
            }
            // Signed deals that would start before they could be published
            // are proposed again (to the same provider).
            let epoch = self.ledger.status().await?.epoch;
            for s in &mut state.shards {
                if s.state == ShardState::Signed
                    && s.signed.iter().any(|d| starts_by(d.as_deref(), epoch + 2))
                {
                    s.signed = vec![None; segments];
                    s.state = ShardState::Proposed;
                }
            }
            let pending: Vec<usize> = (0..n)
                .filter(|&i| {
                    state
                        .shards
                        .get(i)
                        .is_some_and(|s| s.state != ShardState::Signed)
                })
                .collect();
            if pending.is_empty() {
                break;
            }
            for &i in &pending {
                if let Some(s) = state.shards.get_mut(i) {
                    s.state = ShardState::Transferring;
                }
            }
            save(state);
            let jobs = pending.iter().map(|&i| {
                let provider = state
                    .shards
                    .get(i)
                    .and_then(|s| s.provider)
                    .and_then(|id| candidates.iter().find(|p| p.id == id))
                    .cloned();
                async move {
                    let r = match provider {
                        Some(p) => self.transfer_shard(up, policy, i, &p).await,
                        None => Err("its provider left the registry".to_string()),
                    };
                    (i, r)
                }
            });
            for (i, r) in futures::future::join_all(jobs).await {
                let Some(s) = state.shards.get_mut(i) else {
                    continue;
                };
                match r {
                    Ok(signed) => {
                        s.signed = signed.into_iter().map(Some).collect();
                        s.state = ShardState::Signed;
                        s.error = None;
                    }
                    Err(e) => {
                        tracing::warn!(shard = i, provider = ?s.provider, "shard placement failed: {e}");
                        if let Some(p) = s.provider.take() {
                            s.failed.push(p);
                        }
                        s.signed = vec![None; segments];
                        s.state = ShardState::Proposed;
                        s.error = Some(e);
                    }
                }
            }
            save(state);
        }
        if state.shards.iter().any(|s| s.state != ShardState::Signed) {
            return Err(NetError::NotEnoughProviders {
                need: n,
                have: candidates.len(),
                why: "providers kept failing".into(),
            });
        }
        self.publish(up, state).await?;
        save(state);
        Ok(())
    }

    /// Gives every shard without a provider the cheapest reachable one
    /// that holds no other shard of this upload and has not failed it.
    async fn assign(&self, state: &mut Placement, candidates: &[Provider]) {
        let mut used: BTreeSet<u64> = state.shards.iter().filter_map(|s| s.provider).collect();
        for s in state.shards.iter_mut().filter(|s| s.provider.is_none()) {
            s.state = ShardState::Proposed;
            let mut chosen = None;
            for p in candidates {
                if used.contains(&p.id) || s.failed.contains(&p.id) {
                    continue;
                }
                match self.ask(p).await {
                    Ok(_) => {
                        chosen = Some(p.id);
                        break;
                    }
                    Err(e) => {
                        tracing::info!(provider = p.id, "provider skipped: {e}");
                        s.failed.push(p.id);
                    }
                }
            }
            match chosen {
                Some(id) => {
                    used.insert(id);
                    s.provider = Some(id);
                    s.error = None;
                }
                None => {
                    s.state = ShardState::Failed;
                    s.error =
                        Some("no provider left that holds no other shard of this upload".into());
                }
            }
        }
    }

    async fn ask(&self, p: &Provider) -> Result<Ask, String> {
        match self
            .p2p
            .deal(p.peer, p.addrs.clone(), DealRequest::Ask)
            .await
        {
            Ok(DealResponse::Ask(a)) => Ok(a),
            Ok(DealResponse::Refused(r)) => Err(r.to_string()),
            Ok(other) => Err(format!("unexpected answer {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn request(&self, p: &Provider, req: DealRequest) -> Result<DealResponse, String> {
        match self.p2p.deal(p.peer, p.addrs.clone(), req).await {
            Ok(DealResponse::Refused(r)) => Err(format!("provider {} refused: {r}", p.id)),
            Ok(r) => Ok(r),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Every piece of shard `i` to provider `p`: proposed, pushed (resumed
    /// after a broken request), countersigned. Returns the signed deals.
    async fn transfer_shard(
        &self,
        up: &Upload,
        policy: &Policy,
        i: usize,
        p: &Provider,
    ) -> Result<Vec<String>, String> {
        let ask = self.ask(p).await?;
        // The provider's terms are its word, not the ledger's: hold them to
        // the policy before signing anything.
        if ask.price_per_byte_epoch > policy.max_price_per_byte_epoch {
            return Err(format!(
                "provider {} asks {} per byte per epoch, over the cap of {}",
                p.id, ask.price_per_byte_epoch, policy.max_price_per_byte_epoch
            ));
        }
        if ask.provider.0 != p.id {
            return Err(format!(
                "provider {} answers as provider {}",
                p.id, ask.provider.0
            ));
        }
        if ask.start_delay > policy.max_start_delay {
            return Err(format!(
                "provider {} needs {} epochs to seal, over the {} accepted",
                p.id, ask.start_delay, policy.max_start_delay
            ));
        }
        let epoch = self.ledger.status().await.map_err(|e| e.to_string())?.epoch;
        let start = epoch
            .checked_add(ask.start_delay)
            .and_then(|e| e.checked_add(policy.start_margin))
            .map(Epoch)
            .ok_or("start epoch overflows")?;
        let pieces = up.pieces.get(i).ok_or("no such shard")?;
        let mut out = Vec::with_capacity(pieces.len());
        for (j, piece) in pieces.iter().enumerate() {
            let proposal = DealProposal {
                piece: CommP(piece.comm_p),
                piece_size: piece.padded_size,
                client: self.wallet.address(),
                provider: ProviderId(p.id),
                label: up.root.as_bytes().to_vec(),
                // One epoch apart per piece, so identical pieces of one
                // shard still make distinct proposals.
                start: start.plus(j as u64),
                end: start.plus(j as u64).plus(policy.duration),
                price_per_epoch: ask
                    .price_per_byte_epoch
                    .saturating_mul(Amount::from(piece.padded_size)),
                provider_collateral: 0,
                client_collateral: 0,
            };
            let deal = ClientDeal {
                client_sig: self.wallet.sign(CLIENT_DEAL_DOMAIN, &proposal.to_bytes()),
                client_key: self.wallet.public_key(),
                proposal,
            };
            let id = deal.id();
            let path = piece_path(&up.dir, i, j as u64);
            let mut file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let total = piece.payload_size;
            let mut last_err = String::new();
            let mut signed = None;
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(500 << attempt)).await;
                }
                let proposed = self
                    .p2p
                    .deal(p.peer, p.addrs.clone(), DealRequest::Propose(deal.clone()))
                    .await;
                let mut received = match proposed {
                    Ok(DealResponse::Accepted { received, .. }) => received,
                    // Signed already (its answer to Finish was lost): ask
                    // for the signature again.
                    Ok(DealResponse::Refused(cairn_types::DealRefusal::Replayed(_))) => total,
                    Ok(DealResponse::Refused(r)) => {
                        return Err(format!("provider {} refused: {r}", p.id));
                    }
                    Ok(other) => return Err(format!("unexpected answer {other:?}")),
                    Err(e) => {
                        last_err = e.to_string();
                        continue;
                    }
                };
                let mut buf = vec![0u8; MAX_CHUNK];
                let pushed = loop {
                    if received >= total {
                        break Ok(());
                    }
                    let n = usize::try_from((total - received).min(MAX_CHUNK as u64))
                        .unwrap_or(MAX_CHUNK);
                    let chunk = buf.get_mut(..n).ok_or("chunk")?;
                    file.seek(SeekFrom::Start(received))
                        .and_then(|_| file.read_exact(chunk))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    match self
                        .request(
                            p,
                            DealRequest::Push {
                                deal: id,
                                offset: received,
                                data: chunk.to_vec(),
                            },
                        )
                        .await
                    {
                        Ok(DealResponse::Received { received: r, .. }) => received = r,
                        Ok(other) => break Err(format!("unexpected answer {other:?}")),
                        Err(e) => break Err(e),
                    }
                };
                if let Err(e) = pushed {
                    last_err = e;
                    continue;
                }
                match self.request(p, DealRequest::Finish { deal: id }).await {
                    Ok(DealResponse::Signed { provider_sig, .. }) => {
                        signed = Some(provider_sig);
                        break;
                    }
                    Ok(other) => return Err(format!("unexpected answer {other:?}")),
                    Err(e) => last_err = e,
                }
            }
            let Some(provider_sig) = signed else {
                return Err(format!("piece {j} to provider {}: {last_err}", p.id));
            };
            // A bad countersignature would get the whole publication refused.
            if !p.worker.verify(
                PROVIDER_DEAL_DOMAIN,
                &deal.proposal.to_bytes(),
                &provider_sig,
            ) {
                return Err(format!(
                    "provider {}'s countersignature does not verify with its registered worker key",
                    p.id
                ));
            }
            let sd = SignedDeal {
                proposal: deal.proposal,
                client_key: deal.client_key,
                client_sig: deal.client_sig,
                provider_sig,
            };
            out.push(hex::encode(sd.to_bytes()));
        }
        Ok(out)
    }

    /// Publishes every shard's deals with the manifest, topping up escrow
    /// first if it does not cover them.
    async fn publish(&self, up: &Upload, state: &mut Placement) -> Result<(), NetError> {
        let mut deals = Vec::new();
        for s in &state.shards {
            for d in &s.signed {
                let bytes = d
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .ok_or_else(|| NetError::Publish("a shard is not countersigned".into()))?;
                deals.push(SignedDeal::from_bytes(&bytes).map_err(|e| {
                    NetError::Publish(format!("a stored deal does not decode: {e}"))
                })?);
            }
        }
        let need: Amount = deals
            .iter()
            .map(|d| {
                d.proposal
                    .total_price()
                    .unwrap_or(Amount::MAX)
                    .saturating_add(d.proposal.client_collateral)
            })
            .fold(0, Amount::saturating_add);
        let status = self.ledger.status().await?;
        let me = self.wallet.address();
        let account = self.ledger.account(&me).await?;
        let mut nonce = account.nonce;
        if account.escrow.free < need {
            let add = need - account.escrow.free;
            if add > account.balance {
                return Err(NetError::Publish(format!(
                    "the deals need {need} in escrow; wallet {me} has {} free escrow and {} balance",
                    account.escrow.free, account.balance
                )));
            }
            let tx = self
                .wallet
                .sign_tx(status.chain_id, nonce, TxBody::EscrowAdd { amount: add });
            self.ledger
                .submit(&tx)
                .await?
                .events()
                .map_err(|e| NetError::Publish(format!("adding escrow: {e}")))?;
            nonce += 1;
        }
        let manifest = Manifest {
            root: up.root.as_bytes().to_vec(),
            car_len: up.layout.car_len(),
            segment_size: up.layout.segment_size(),
            k: up.layout.k(),
            m: up.layout.m(),
            shards: up
                .pieces
                .iter()
                .map(|s| s.iter().map(|p| CommP(p.comm_p)).collect())
                .collect(),
        };
        let tx = self.wallet.sign_tx(
            status.chain_id,
            nonce,
            TxBody::PublishDeals {
                deals,
                manifest: Some(manifest),
            },
        );
        let submitted = self.ledger.submit(&tx).await?;
        let receipt = match submitted {
            cairn_types::ledger::Submitted::Pending(_) => {
                // Admitted, not final yet: wait for its receipt rather than
                // submitting again (a second try would be a replay).
                let path = format!("/tx/{}", hex::encode(tx.hash()));
                let mut found = None;
                for _ in 0..120 {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    if let Ok(r) = self.ledger.get(&path).await {
                        found = Some(cairn_types::ledger::Submitted::Receipt(r));
                        break;
                    }
                }
                found.ok_or_else(|| {
                    NetError::Publish(
                        "the publication was admitted but not finalized within 60 s".into(),
                    )
                })?
            }
            other => other,
        };
        let events = receipt.events().map_err(NetError::Publish)?;
        let ids: Vec<u64> = events
            .iter()
            .filter(|e| e.get("kind").and_then(|k| k.as_str()) == Some("DealPublished"))
            .filter_map(|e| e.get("deal").and_then(serde_json::Value::as_u64))
            .collect();
        state.manifest = events
            .iter()
            .find(|e| e.get("kind").and_then(|k| k.as_str()) == Some("ManifestPublished"))
            .and_then(|e| e.get("manifest").and_then(serde_json::Value::as_u64));
        let per_shard = usize::try_from(up.layout.segments()).unwrap_or(1).max(1);
        state.deal_ids = ids.chunks(per_shard).map(<[u64]>::to_vec).collect();
        for s in &mut state.shards {
            s.state = ShardState::Published;
        }
        tracing::info!(root = %up.root, deals = ids.len(), manifest = ?state.manifest, "deals published");
        Ok(())
    }
}
