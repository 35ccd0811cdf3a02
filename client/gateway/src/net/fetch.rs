//! Reading an upload back from its providers, with nothing but the ledger.
//!
//! [`locate`] reads the upload's manifest (layout and each shard's piece
//! CommPs) and its deals (which provider holds which piece) from the
//! ledger. A [`Fetcher`] then serves CAR byte ranges: each stripe it needs
//! comes from `k` shards fetched in parallel, data shards first (no
//! decoding), parity in their place for a provider that is down, slow or
//! refuses. Every block is checked against its CID ([`Fetcher::block`]);
//! a block that fails is decoded again without each suspect data shard in
//! turn, and the shard whose exclusion makes it verify is marked bad and
//! avoided from then on. Decoded stripes are cached (a few, bounded). A
//! provider that cannot be reached at the addresses the registry lists is
//! looked up once on Kademlia (through the other providers' routing
//! tables) and asked again where it is now.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use cairn_dag::car::{MAX_FRAME_LEN, MAX_HEADER_LEN};
use cairn_dag::varint;
use cairn_erasure::{Layout, StripeDecoder};
use cairn_ledger::CommP;
use cairn_types::ledger::{DealInfo, LedgerClient};
use cairn_types::p2p::Client;
use cairn_types::{RetrieveRequest, RetrieveResponse};
use cid::Cid;
use serde::Deserialize;

use super::{NetError, Provider, providers};

/// Decoded stripes kept.
const CACHE_STRIPES: usize = 32;
/// How long a Kademlia lookup of a provider's addresses may take.
/// (Above Kademlia's 10 s per-peer timeout, so one silent peer does not
/// sink the lookup.)
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(25);
/// Kademlia queries per lookup.
const LOOKUP_TRIES: usize = 3;
/// How long a stripe waits on its shards before asking one more, until
/// answers have been timed; then four times the typical answer, within
/// [`HEDGE_MIN`, `HEDGE_MAX`].
const HEDGE_AFTER: std::time::Duration = std::time::Duration::from_millis(300);
const HEDGE_MIN: std::time::Duration = std::time::Duration::from_millis(40);
const HEDGE_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// One shard of an upload: its pieces and who holds each.
#[derive(Debug, Clone)]
pub struct ShardSource {
    /// Per segment: the piece and its provider (if a live deal names one).
    pub pieces: Vec<(CommP, Option<Provider>)>,
}

/// Where an upload is, from the ledger.
#[derive(Debug, Clone)]
pub struct Located {
    /// The root CID's string.
    pub root: String,
    /// The layout.
    pub layout: Layout,
    /// Per shard.
    pub shards: Vec<ShardSource>,
}

#[derive(Debug, Deserialize)]
struct ManifestJson {
    car_len: u64,
    segment_size: u64,
    k: u8,
    m: u8,
    shards: Vec<Vec<String>>,
}

fn commp_hex(s: &str) -> Option<CommP> {
    let b: [u8; 32] = hex::decode(s).ok()?.try_into().ok()?;
    Some(CommP(b))
}

/// Reads the manifest and deals of `root` (the CID string the upload was
/// labelled with) from the ledger.
pub async fn locate(ledger: &LedgerClient, root: &str) -> Result<Located, NetError> {
    let bad = |reason: String| NetError::BadManifest {
        root: root.to_owned(),
        reason,
    };
    let manifests: Vec<ManifestJson> = ledger.get_as(&format!("/manifests/{root}")).await?;
    // The latest manifest of this root (a re-upload supersedes).
    let m = manifests
        .into_iter()
        .last()
        .ok_or_else(|| NetError::NoManifest(root.to_owned()))?;
    let layout = Layout::new(m.car_len, m.segment_size, m.k, m.m)?;
    if m.shards.len() != layout.shards()
        || m.shards.iter().any(|s| s.len() as u64 != layout.segments())
    {
        return Err(bad(format!(
            "{} shards of {} pieces expected",
            layout.shards(),
            layout.segments()
        )));
    }
    let deals: Vec<DealInfo> = ledger.get_as(&format!("/deals?label={root}")).await?;
    let registry: HashMap<u64, Provider> = providers(ledger)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // A piece's live deal names its provider; failing that, an ended one
    // (its provider may still hold the bytes, and every block is checked).
    let mut holder: HashMap<[u8; 32], (bool, u64)> = HashMap::new();
    for d in &deals {
        let live = matches!(d.state.as_str(), "Published" | "Active");
        if let Some(c) = commp_hex(&d.piece) {
            let e = holder.entry(c.0).or_insert((live, d.provider));
            if live && !e.0 {
                *e = (live, d.provider);
            }
        }
    }
    let mut shards = Vec::with_capacity(m.shards.len());
    for s in &m.shards {
        let mut pieces = Vec::with_capacity(s.len());
        for p in s {
            let c = commp_hex(p).ok_or_else(|| bad(format!("piece {p:?} is not a CommP")))?;
            let provider = holder
                .get(&c.0)
                .and_then(|(_, id)| registry.get(id))
                .cloned();
            pieces.push((c, provider));
        }
        shards.push(ShardSource { pieces });
    }
    Ok(Located {
        root: root.to_owned(),
        layout,
        shards,
    })
}

/// Decoded stripes by (segment, stripe), with their insertion order.
type StripeCache = (HashMap<(u64, u64), Arc<Vec<u8>>>, VecDeque<(u64, u64)>);

/// Serves verified CAR ranges and blocks of one located upload.
#[derive(Debug)]
pub struct Fetcher {
    p2p: Client,
    located: Located,
    /// Shards found serving bad bytes or failing: asked last.
    bad: Mutex<BTreeSet<u8>>,
    /// Shards found serving bad bytes.
    liars: Mutex<BTreeSet<u8>>,
    cache: Mutex<StripeCache>,
    /// Providers looked up on Kademlia after failing at their registered
    /// addresses: the addresses found.
    found: Mutex<HashMap<u64, Vec<libp2p::Multiaddr>>>,
    /// Moving average of a shard answer's time, in seconds (0: none yet).
    answer_secs: Mutex<f64>,
}

impl Fetcher {
    /// A fetcher over the libp2p client.
    pub fn new(p2p: Client, located: Located) -> Self {
        Self {
            p2p,
            located,
            bad: Mutex::new(BTreeSet::new()),
            liars: Mutex::new(BTreeSet::new()),
            cache: Mutex::new((HashMap::new(), VecDeque::new())),
            found: Mutex::new(HashMap::new()),
            answer_secs: Mutex::new(0.0),
        }
    }

    /// The upload's layout.
    pub fn layout(&self) -> &Layout {
        &self.located.layout
    }

    /// Shards that failed or served bad bytes so far (asked last).
    pub fn bad_shards(&self) -> BTreeSet<u8> {
        self.bad.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Shards found serving bytes that failed a CID check.
    pub fn lying_shards(&self) -> BTreeSet<u8> {
        self.liars.lock().map(|b| b.clone()).unwrap_or_default()
    }

    async fn shard_bytes(&self, shard: u8, segment: u64, stripe: u64) -> Result<Vec<u8>, String> {
        let layout = &self.located.layout;
        let (piece, provider) = self
            .located
            .shards
            .get(usize::from(shard))
            .and_then(|s| s.pieces.get(usize::try_from(segment).ok()?))
            .ok_or("no such piece")?;
        let p = provider.as_ref().ok_or("no deal names a provider")?;
        let r = layout.stripe_in_piece(segment, stripe);
        let req = RetrieveRequest {
            piece: *piece,
            offset: r.start,
            len: u32::try_from(r.end - r.start).map_err(|_| "stripe too wide")?,
        };
        let want = r.end - r.start;
        let known = self.found.lock().ok().and_then(|f| f.get(&p.id).cloned());
        let addrs = match &known {
            Some(a) if !a.is_empty() => a.clone(),
            _ => p.addrs.clone(),
        };
        match self.p2p.retrieve(p.peer, addrs, req).await {
            Err(e) if known.is_none() => {
                // Not at its registered addresses: ask the Kademlia network
                // (entered through the other providers) where it is now.
                let moved = self.lookup(p).await;
                if moved.is_empty() {
                    return Err(format!("provider {}: {e}", p.id));
                }
                tracing::info!(provider = p.id, addrs = ?moved, "provider found on Kademlia at new addresses");
                let again = self.p2p.retrieve(p.peer, moved, req).await;
                answer(p.id, want, again)
            }
            other => answer(p.id, want, other),
        }
    }

    /// Records one shard answer's time.
    fn timed(&self, took: std::time::Duration) {
        if let Ok(mut a) = self.answer_secs.lock() {
            let x = took.as_secs_f64();
            *a = if *a == 0.0 { x } else { 0.8 * *a + 0.2 * x };
        }
    }

    /// How long to wait on a stripe's shards before asking one more.
    fn hedge_after(&self) -> std::time::Duration {
        match self.answer_secs.lock().map(|a| *a) {
            Ok(a) if a > 0.0 => {
                std::time::Duration::from_secs_f64(4.0 * a).clamp(HEDGE_MIN, HEDGE_MAX)
            }
            _ => HEDGE_AFTER,
        }
    }

    /// `p`'s addresses according to Kademlia (remembered per provider).
    async fn lookup(&self, p: &Provider) -> Vec<libp2p::Multiaddr> {
        let bootstrap: Vec<_> = self
            .located
            .shards
            .iter()
            .flat_map(|s| s.pieces.iter().filter_map(|(_, q)| q.as_ref()))
            .filter(|q| q.peer != p.peer)
            .map(|q| (q.peer, q.addrs.clone()))
            .collect();
        // A second query starts from what the first one put in the
        // routing table (the first may end before it reached the peer).
        let mut addrs = Vec::new();
        for _ in 0..LOOKUP_TRIES {
            let lookup = self
                .p2p
                .find_peer(p.peer, p.addrs.clone(), bootstrap.clone());
            if let Ok(Ok(a)) = tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await
                && !a.is_empty()
            {
                addrs = a;
                break;
            }
        }
        // Only an answer is remembered: after "nobody knows", a later
        // failure asks again.
        if !addrs.is_empty()
            && let Ok(mut f) = self.found.lock()
        {
            f.insert(p.id, addrs.clone());
        }
        addrs
    }

    /// The CAR bytes of one stripe from `k` shards, never from `exclude`.
    async fn stripe(
        &self,
        segment: u64,
        stripe: u64,
        exclude: &BTreeSet<u8>,
    ) -> Result<Arc<Vec<u8>>, NetError> {
        let use_cache = exclude.is_empty();
        if use_cache
            && let Some(hit) = self
                .cache
                .lock()
                .ok()
                .and_then(|c| c.0.get(&(segment, stripe)).cloned())
        {
            return Ok(hit);
        }
        let layout = self.located.layout;
        let k = usize::from(layout.k());
        let n = layout.shards();
        let bad = self.bad_shards();
        // Data shards first (no decoding needed), known-bad ones last.
        let mut order: Vec<u8> = (0..u8::try_from(n).unwrap_or(u8::MAX))
            .filter(|s| !exclude.contains(s))
            .collect();
        order.sort_by_key(|s| (bad.contains(s), usize::from(*s) >= k, *s));
        let mut got: Vec<Option<Vec<u8>>> = vec![None; n];
        let mut reasons = Vec::new();
        let mut order = order.into_iter();
        let mut inflight = futures::stream::FuturesUnordered::new();
        let ask = |s: u8| async move {
            let t = std::time::Instant::now();
            let r = self.shard_bytes(s, segment, stripe).await;
            if r.is_ok() {
                self.timed(t.elapsed());
            }
            (s, r)
        };
        let hedge_after = self.hedge_after();
        let mut asked: BTreeSet<u8> = BTreeSet::new();
        for s in order.by_ref().take(k) {
            asked.insert(s);
            inflight.push(ask(s));
        }
        let mut have = 0;
        // A shard that has not answered within the hedge delay gets company:
        // the next shard in line is asked too, and the first k answers win
        // (a slow or silent provider costs one delay, not its timeout).
        let hedge = tokio::time::sleep(hedge_after);
        tokio::pin!(hedge);
        while have < k {
            tokio::select! {
                done = futures::StreamExt::next(&mut inflight) => {
                    let Some((s, r)) = done else { break };
                    asked.remove(&s);
                    match r {
                        Ok(d) => {
                            if let Some(slot) = got.get_mut(usize::from(s)) {
                                *slot = Some(d);
                                have += 1;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(shard = s, segment, stripe, "shard fetch failed: {e}");
                            // Asked last from now on: a dead provider
                            // costs one failure, not one per stripe.
                            if let Ok(mut b) = self.bad.lock() {
                                b.insert(s);
                            }
                            reasons.push(format!("shard {s}: {e}"));
                            if let Some(next) = order.next() {
                                asked.insert(next);
                                inflight.push(ask(next));
                            }
                        }
                    }
                }
                () = &mut hedge, if have + inflight.len() < n => {
                    if let Some(next) = order.next() {
                        tracing::debug!(shard = next, segment, stripe, "a shard is slow: asking another");
                        asked.insert(next);
                        inflight.push(ask(next));
                    }
                    hedge.as_mut().reset(tokio::time::Instant::now() + hedge_after);
                }
            }
        }
        drop(inflight);
        // Shards that had not answered when k others had: asked last from
        // now on, so the next stripes do not wait on them again.
        if !asked.is_empty()
            && let Ok(mut b) = self.bad.lock()
        {
            b.extend(asked.iter().copied());
        }
        if have < k {
            return Err(NetError::Unavailable {
                segment,
                stripe,
                have,
                need: k,
                reasons: reasons.join("; "),
            });
        }
        let refs: Vec<Option<&[u8]>> = got.iter().map(|g| g.as_deref()).collect();
        let mut out = Vec::new();
        StripeDecoder::new(layout).decode(segment, stripe, &refs, &mut out)?;
        let out = Arc::new(out);
        if use_cache && let Ok(mut c) = self.cache.lock() {
            c.0.insert((segment, stripe), out.clone());
            c.1.push_back((segment, stripe));
            while c.1.len() > CACHE_STRIPES {
                if let Some(old) = c.1.pop_front() {
                    c.0.remove(&old);
                }
            }
        }
        Ok(out)
    }

    /// CAR bytes `r`, decoded without the shards in `exclude`.
    pub async fn range(&self, r: Range<u64>, exclude: &BTreeSet<u8>) -> Result<Vec<u8>, NetError> {
        let layout = self.located.layout;
        let mut out =
            Vec::with_capacity(usize::try_from(r.end.saturating_sub(r.start)).unwrap_or(0));
        for (j, t) in layout.stripes_for(r.clone()) {
            let bytes = self.stripe(j, t, exclude).await?;
            let sr = layout.stripe_range(j, t);
            let from = r.start.max(sr.start) - sr.start;
            let to = r.end.min(sr.end) - sr.start;
            out.extend_from_slice(
                bytes
                    .get(usize::try_from(from).unwrap_or(0)..usize::try_from(to).unwrap_or(0))
                    .unwrap_or_default(),
            );
        }
        Ok(out)
    }

    /// A block at CAR bytes `r`, checked against `cid`; a failing block is
    /// rebuilt without each suspect data shard in turn.
    pub async fn block(&self, cid: &Cid, r: Range<u64>) -> Result<Vec<u8>, NetError> {
        let data = self.range(r.clone(), &BTreeSet::new()).await?;
        if cairn_dag::verify_block(cid, &data).is_ok() {
            return Ok(data);
        }
        let layout = self.located.layout;
        // The shards that hold the block's first and last bytes first; then
        // every other shard, parity included (a lying parity shard matters
        // when it stood in for a missing data shard).
        let mut suspects = Vec::new();
        for x in [r.start, r.end.saturating_sub(1)] {
            if let Some(l) = layout.locate(x)
                && !suspects.contains(&l.shard)
            {
                suspects.push(l.shard);
            }
        }
        let n = u8::try_from(layout.shards()).unwrap_or(u8::MAX);
        let rest: Vec<u8> = (0..n).filter(|s| !suspects.contains(s)).collect();
        suspects.extend(rest);
        for s in suspects {
            let exclude = BTreeSet::from([s]);
            let Ok(d) = self.range(r.clone(), &exclude).await else {
                continue;
            };
            if cairn_dag::verify_block(cid, &d).is_ok() {
                self.mark_bad(s, "a block");
                return Ok(d);
            }
        }
        Err(NetError::Corrupt {
            cid: cid.to_string(),
        })
    }

    fn mark_bad(&self, shard: u8, what: &str) {
        tracing::warn!(root = %self.located.root, shard, "a provider served bad bytes ({what}); its shard was rebuilt from parity");
        if let Ok(mut b) = self.bad.lock() {
            b.insert(shard);
        }
        if let Ok(mut l) = self.liars.lock() {
            l.insert(shard);
        }
        if let Ok(mut c) = self.cache.lock() {
            c.0.clear();
            c.1.clear();
        }
    }

    /// The CAR header's length and roots, decoded without `exclude`.
    async fn header(&self, exclude: &BTreeSet<u8>) -> Result<(u64, Vec<Cid>), NetError> {
        let car_len = self.located.layout.car_len();
        let bad_car = |reason: String| NetError::BadCar { offset: 0, reason };
        let head = self.range(0..car_len.min(16), exclude).await?;
        let (hlen, used) = varint::decode(&head).map_err(|e| bad_car(e.to_string()))?;
        if hlen > MAX_HEADER_LEN {
            return Err(bad_car(format!(
                "header of {hlen} bytes is over the {MAX_HEADER_LEN} limit"
            )));
        }
        let end = (used as u64).saturating_add(hlen);
        if end > car_len {
            return Err(bad_car(format!("header of {hlen} bytes runs past the CAR")));
        }
        let header = self.range(0..end, exclude).await?;
        let roots = cairn_dag::car::CarReader::new(std::io::Cursor::new(header))
            .map_err(|e| bad_car(e.to_string()))?
            .roots()
            .to_vec();
        if !roots.iter().any(|r| {
            r.to_string() == self.located.root
                || r.hash().to_bytes() == root_hash(&self.located.root)
        }) {
            return Err(bad_car(format!(
                "the header's roots {roots:?} do not include {}",
                self.located.root
            )));
        }
        Ok((end, roots))
    }

    /// The frame at `offset`: its CID and the CAR range of its data, read
    /// without `exclude`.
    async fn frame(
        &self,
        offset: u64,
        exclude: &BTreeSet<u8>,
    ) -> Result<(Cid, Range<u64>), NetError> {
        let car_len = self.located.layout.car_len();
        let bad_car = |reason: String| NetError::BadCar { offset, reason };
        let prefix = self
            .range(offset..car_len.min(offset + 10 + 80), exclude)
            .await?;
        let (flen, vlen) = varint::decode(&prefix).map_err(|e| bad_car(e.to_string()))?;
        if flen > MAX_FRAME_LEN {
            return Err(bad_car(format!(
                "frame of {flen} bytes is over the {MAX_FRAME_LEN} limit"
            )));
        }
        let body = prefix.get(vlen..).unwrap_or_default();
        let mut cursor = std::io::Cursor::new(body);
        let cid = Cid::read_bytes(&mut cursor).map_err(|e| bad_car(format!("CID: {e}")))?;
        let start = offset + vlen as u64 + cursor.position();
        let end = (offset + vlen as u64).saturating_add(flen);
        if end > car_len || start > end {
            return Err(bad_car(format!("frame of {flen} bytes runs past the CAR")));
        }
        Ok((cid, start..end))
    }

    /// Every block of the CAR in order, each verified, passed to `each`;
    /// returns the header's roots. Whatever fails to parse or verify is
    /// read again without each data shard in turn.
    pub async fn blocks(
        &self,
        mut each: impl FnMut(Cid, Vec<u8>) -> Result<(), NetError>,
    ) -> Result<Vec<Cid>, NetError> {
        let car_len = self.located.layout.car_len();
        let n = u8::try_from(self.located.layout.shards()).unwrap_or(u8::MAX);
        let none = BTreeSet::new();
        let (mut offset, roots) = match self.header(&none).await {
            Ok(h) => h,
            // Too few shards answered: not a provider's lie to hunt for.
            Err(first @ (NetError::Unavailable { .. } | NetError::Host(_))) => return Err(first),
            Err(first) => {
                let mut found = None;
                for s in 0..n {
                    if let Ok(h) = self.header(&BTreeSet::from([s])).await {
                        self.mark_bad(s, "the CAR header");
                        found = Some(h);
                        break;
                    }
                }
                found.ok_or(first)?
            }
        };
        while offset < car_len {
            let normal = match self.frame(offset, &none).await {
                Ok((cid, r)) => self.block(&cid, r.clone()).await.map(|d| (cid, r, d)),
                Err(e) => Err(e),
            };
            let (cid, r, data) = match normal {
                Ok(x) => x,
                Err(first @ (NetError::Unavailable { .. } | NetError::Host(_))) => {
                    return Err(first);
                }
                Err(first) => {
                    let mut found = None;
                    for s in 0..n {
                        let ex = BTreeSet::from([s]);
                        let Ok((cid, r)) = self.frame(offset, &ex).await else {
                            continue;
                        };
                        if let Ok(d) = self.range(r.clone(), &ex).await
                            && cairn_dag::verify_block(&cid, &d).is_ok()
                        {
                            self.mark_bad(s, "a frame header");
                            found = Some((cid, r, d));
                            break;
                        }
                    }
                    found.ok_or(first)?
                }
            };
            each(cid, data)?;
            offset = r.end;
        }
        Ok(roots)
    }
}

/// A retrieval's answer as the stripe's bytes, or why not.
fn answer(
    provider: u64,
    want: u64,
    r: Result<RetrieveResponse, cairn_types::p2p::RequestError>,
) -> Result<Vec<u8>, String> {
    match r {
        Ok(RetrieveResponse::Data(d)) if d.len() as u64 == want => Ok(d),
        Ok(RetrieveResponse::Data(d)) => Err(format!(
            "provider {provider} sent {} bytes, not {want}",
            d.len()
        )),
        Ok(RetrieveResponse::Refused(why)) => Err(format!("provider {provider}: {why}")),
        Ok(other) => Err(format!("provider {provider}: unexpected {other:?}")),
        Err(e) => Err(format!("provider {provider}: {e}")),
    }
}

/// The multihash bytes of a CID string (empty if it does not parse).
fn root_hash(root: &str) -> Vec<u8> {
    root.parse::<Cid>()
        .map(|c| c.hash().to_bytes())
        .unwrap_or_default()
}
