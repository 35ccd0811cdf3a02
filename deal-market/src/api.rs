//! The validator's HTTP JSON API (axum), and its metrics listener.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /status` | chain id, height, digest, state root, epoch, mempool size |
//! | `POST /tx` | a signed transaction (canonical ledger encoding; raw bytes, hex text, or `{"tx": hex}`): checked against the finalized state plus the mempool: if the ledger refuses it, 422 with the refusal's receipt at once; else admitted, then its receipt once a finalized block includes it (`?wait=false`: 202 at once) |
//! | `GET /tx/{hash}` | the receipt of a finalized transaction |
//! | `GET /accounts/{addr}` | balance, nonce, escrow |
//! | `GET /providers`, `GET /providers/{id}` | registered providers |
//! | `GET /deals/{id}`, `GET /deals?label=&provider=&client=` | deals (filters intersect; at least one) |
//! | `GET /manifests/{root}` | upload manifests of a root CID |
//! | `GET /sectors/{provider}` | proven sectors and pending pre-commits |
//! | `GET /deadlines/{provider}` | each deadline's window, sectors and last proof |
//! | `GET /blocks/{height}` | a finalized block: header, transaction ids, receipts, tick events |
//! | `GET /randomness/{epoch}` | the beacon value of an epoch (tickets, seeds, PoSt challenges) |
//! | `GET /events` | SSE: one `block` event per finalized block, as `/blocks/{height}` |
//!
//! Queries read the finalized state. Labels and manifest roots are matched
//! as the UTF-8 bytes of the path or query string (a CID in text form).
//! Errors are `{"error": "..."}` with a 4xx/5xx status; amounts are decimal
//! strings.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_ledger::codec::{Decode as _, Encode as _};
use cairn_ledger::ids::{Address, DealId, ProviderId};
use cairn_ledger::state::{Deal, Provider, Sector};
use cairn_ledger::{Manifest, SignedTx, State};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chain::{Chain, Rejected};

/// How long `POST /tx` waits for inclusion.
pub const INCLUSION_WAIT: Duration = Duration::from_secs(30);

type Shared = Arc<Chain>;

/// An API error: its status and message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl ToString) -> Self {
        Self {
            status,
            message: message.to_string(),
        }
    }
    fn bad(message: impl ToString) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn not_found(what: impl ToString) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{} not found", what.to_string()),
        )
    }
    fn internal(message: impl ToString) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

type ApiResult = Result<axum::Json<Value>, ApiError>;

/// The API's routes.
pub fn router(chain: Shared) -> Router {
    Router::new()
        .route("/status", get(handle_status))
        .route("/params", get(handle_params))
        .route("/tx", post(handle_submit))
        .route("/tx/{hash}", get(handle_tx))
        .route("/accounts/{addr}", get(handle_account))
        .route("/providers", get(handle_providers))
        .route("/providers/{id}", get(handle_provider))
        .route("/deals", get(handle_deals))
        .route("/deals/{id}", get(handle_deal))
        .route("/manifests/{root}", get(handle_manifests))
        .route("/sectors/{provider}", get(handle_sectors))
        .route("/deadlines/{provider}", get(handle_deadlines))
        .route("/blocks/{height}", get(handle_block))
        .route("/randomness/{epoch}", get(handle_randomness))
        .route("/events", get(handle_events))
        .with_state(chain)
}

/// Serves the API on `listener` until the process stops.
pub async fn serve(listener: tokio::net::TcpListener, chain: Shared) -> std::io::Result<()> {
    axum::serve(listener, router(chain)).await
}

/// Serves `GET /metrics` on `listener`.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    chain: Shared,
) -> std::io::Result<()> {
    let app = Router::new()
        .route(
            "/metrics",
            get(|AxState(c): AxState<Shared>| async move { c.metrics().render() }),
        )
        .with_state(chain);
    axum::serve(listener, app).await
}

fn amount(a: u128) -> Value {
    Value::String(a.to_string())
}

/// The beacon value of an epoch: the ticket, seed and PoSt challenge
/// source a provider proves against (docs/ledger.md).
async fn handle_randomness(AxState(chain): AxState<Shared>, Path(epoch): Path<u64>) -> ApiResult {
    let (_, state) = chain.finalized();
    let r = state
        .randomness(cairn_ledger::ids::Epoch(epoch))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "randomness of epoch {epoch} (now {}; old values are pruned)",
                state.epoch().0
            ))
        })?;
    Ok(axum::Json(
        json!({ "epoch": epoch, "randomness": hex::encode(r) }),
    ))
}

async fn handle_status(AxState(chain): AxState<Shared>) -> ApiResult {
    let (tip, state) = chain.finalized();
    Ok(axum::Json(json!({
        "chain_id": state.chain_id(),
        "height": tip.height,
        "digest": hex::encode(tip.digest),
        "state_root": hex::encode(tip.root),
        "epoch": state.epoch().0,
        "validators": chain.spec().participants.len(),
        "mempool": chain.metrics().mempool.get(),
    })))
}

/// The genesis parameters: what a provider's sealing and proving must
/// fit (docs/ledger.md).
async fn handle_params(AxState(chain): AxState<Shared>) -> ApiResult {
    let (_, state) = chain.finalized();
    let p = state.params();
    Ok(axum::Json(json!({
        "blocks_per_epoch": p.blocks_per_epoch,
        "deadlines_per_period": p.deadlines_per_period,
        "deadline_window": p.deadline_window,
        "min_deal_duration": p.min_deal_duration,
        "max_deal_duration": p.max_deal_duration,
        "max_deal_start_delay": p.max_deal_start_delay,
        "seed_wait": p.seed_wait,
        "max_prove_commit_wait": p.max_prove_commit_wait,
        "max_ticket_age": p.max_ticket_age,
        "min_precommit_deposit": amount(p.min_precommit_deposit),
        "min_provider_collateral": amount(p.min_provider_collateral),
        "fault_fee": amount(p.fault_fee),
        "max_consecutive_faults": p.max_consecutive_faults,
        "reward_per_epoch": amount(p.reward_per_epoch),
    })))
}

#[derive(Debug, Deserialize)]
struct SubmitQuery {
    wait: Option<bool>,
}

/// The transaction bytes in a request body: `{"tx": hex}`, hex text, or raw.
fn tx_bytes(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(h) = v.get("tx").and_then(Value::as_str)
    {
        return hex::decode(h.trim()).map_err(|e| ApiError::bad(format!("tx hex: {e}")));
    }
    let text = body.trim_ascii();
    if !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit) {
        return hex::decode(text).map_err(|e| ApiError::bad(format!("tx hex: {e}")));
    }
    Ok(body.to_vec())
}

async fn handle_submit(
    AxState(chain): AxState<Shared>,
    Query(q): Query<SubmitQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bytes = tx_bytes(&body)?;
    let tx = SignedTx::from_bytes(&bytes).map_err(|e| ApiError::bad(format!("tx: {e}")))?;
    let hash = hex::encode(tx.hash());
    let tx_hash = tx.hash();
    let waiter = match chain.submit(tx) {
        Ok(w) => w,
        // The ledger's refusal, as a receipt: nothing was admitted.
        Err(Rejected::Refused(refusal)) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(crate::chain::refusal_json(&tx_hash, &refusal)),
            )
                .into_response());
        }
        Err(e @ Rejected::Full) => return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e)),
        Err(e) => return Err(ApiError::bad(e)),
    };
    if q.wait == Some(false) {
        return Ok((
            StatusCode::ACCEPTED,
            axum::Json(json!({ "tx": hash, "status": "pending" })),
        )
            .into_response());
    }
    match tokio::time::timeout(INCLUSION_WAIT, waiter).await {
        Ok(Ok(included)) => Ok(axum::Json(included.receipt).into_response()),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("tx {hash} left the mempool: its nonce was used by another transaction"),
        )),
        Err(_) => Ok((
            StatusCode::ACCEPTED,
            axum::Json(json!({ "tx": hash, "status": "pending" })),
        )
            .into_response()),
    }
}

fn block_record(chain: &Chain, height: u64) -> Result<Value, ApiError> {
    let bytes = chain
        .store()
        .receipts(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("block {height}")))?;
    serde_json::from_slice(&bytes).map_err(ApiError::internal)
}

async fn handle_tx(AxState(chain): AxState<Shared>, Path(hash): Path<String>) -> ApiResult {
    let h: [u8; 32] = hex::decode(&hash)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ApiError::bad("tx hash: 64 hex digits"))?;
    let loc = chain
        .store()
        .tx(&h)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("tx {hash}")))?;
    let record = block_record(&chain, loc.height)?;
    record
        .get("receipts")
        .and_then(|r| r.get(loc.index as usize))
        .cloned()
        .map(axum::Json)
        .ok_or_else(|| ApiError::internal("receipt index out of range"))
}

async fn handle_block(AxState(chain): AxState<Shared>, Path(height): Path<u64>) -> ApiResult {
    block_record(&chain, height).map(axum::Json)
}

fn parse_addr(s: &str) -> Result<Address, ApiError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .map(Address)
        .ok_or_else(|| ApiError::bad("address: 40 hex digits"))
}

async fn handle_account(AxState(chain): AxState<Shared>, Path(addr): Path<String>) -> ApiResult {
    let a = parse_addr(&addr)?;
    let (_, state) = chain.finalized();
    let acc = state.account(&a);
    let esc = state.escrow(&a);
    Ok(axum::Json(json!({
        "address": a.to_string(),
        "balance": amount(acc.balance),
        "nonce": acc.nonce,
        "escrow": { "free": amount(esc.free), "locked": amount(esc.locked) },
    })))
}

fn provider_json(id: ProviderId, p: &Provider) -> Value {
    json!({
        "id": id.0,
        "owner": p.owner.to_string(),
        "worker": p.worker.to_string(),
        "peer_id": hex::encode(&p.peer_id),
        "multiaddrs": p.multiaddrs,
        "seal_proof": p.seal_proof.name(),
        "sector_size": p.seal_proof.sector_size(),
        "price_per_byte_epoch": amount(p.price_per_byte_epoch),
        "capacity": p.capacity,
        "collateral": amount(p.collateral),
        "deposits": amount(p.deposits),
        "proven": p.proven.iter().map(|(d, e)| json!({ "deadline": d, "window_open": e.0 })).collect::<Vec<_>>(),
    })
}

async fn handle_providers(AxState(chain): AxState<Shared>) -> ApiResult {
    let (_, state) = chain.finalized();
    Ok(axum::Json(Value::Array(
        state
            .providers()
            .map(|(id, p)| provider_json(id, p))
            .collect(),
    )))
}

async fn handle_provider(AxState(chain): AxState<Shared>, Path(id): Path<u64>) -> ApiResult {
    let (_, state) = chain.finalized();
    state
        .provider(ProviderId(id))
        .map(|p| axum::Json(provider_json(ProviderId(id), p)))
        .ok_or_else(|| ApiError::not_found(format!("provider {id}")))
}

fn deal_json(id: DealId, d: &Deal) -> Value {
    let p = &d.proposal;
    json!({
        "id": id.0,
        "state": format!("{:?}", d.state),
        "proposal": hex::encode(cairn_ledger::proposal_hash(&p.to_bytes())),
        "piece": p.piece.to_string(),
        "piece_size": p.piece_size,
        "client": p.client.to_string(),
        "provider": p.provider.0,
        "label": String::from_utf8_lossy(&p.label),
        "start": p.start.0,
        "end": p.end.0,
        "price_per_epoch": amount(p.price_per_epoch),
        "provider_collateral": amount(p.provider_collateral),
        "client_collateral": amount(p.client_collateral),
        "sector": d.sector.map(|s| s.0),
        "settled": d.settled.0,
        "paid": amount(d.paid),
    })
}

async fn handle_deal(AxState(chain): AxState<Shared>, Path(id): Path<u64>) -> ApiResult {
    let (_, state) = chain.finalized();
    state
        .deal(DealId(id))
        .map(|d| axum::Json(deal_json(DealId(id), d)))
        .ok_or_else(|| ApiError::not_found(format!("deal {id}")))
}

#[derive(Debug, Deserialize)]
struct DealsQuery {
    label: Option<String>,
    provider: Option<u64>,
    client: Option<String>,
}

async fn handle_deals(AxState(chain): AxState<Shared>, Query(q): Query<DealsQuery>) -> ApiResult {
    let (_, state) = chain.finalized();
    let mut sets: Vec<BTreeSet<DealId>> = Vec::new();
    if let Some(l) = &q.label {
        sets.push(state.deals_by_label(l.as_bytes()).into_iter().collect());
    }
    if let Some(p) = q.provider {
        sets.push(state.deals_by_provider(ProviderId(p)).into_iter().collect());
    }
    if let Some(c) = &q.client {
        let a = parse_addr(c)?;
        sets.push(state.deals_by_client(&a).into_iter().collect());
    }
    let Some(mut ids) = sets.pop() else {
        return Err(ApiError::bad(
            "give at least one of label, provider, client",
        ));
    };
    for s in sets {
        ids = ids.intersection(&s).copied().collect();
    }
    Ok(axum::Json(Value::Array(
        ids.into_iter()
            .filter_map(|id| state.deal(id).map(|d| deal_json(id, d)))
            .collect(),
    )))
}

fn manifest_json(id: u64, m: &Manifest) -> Value {
    json!({
        "id": id,
        "root": String::from_utf8_lossy(&m.root),
        "car_len": m.car_len,
        "segment_size": m.segment_size,
        "k": m.k,
        "m": m.m,
        "shards": m.shards.iter().map(|s| s.iter().map(|c| c.to_string()).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

async fn handle_manifests(AxState(chain): AxState<Shared>, Path(root): Path<String>) -> ApiResult {
    let (_, state) = chain.finalized();
    Ok(axum::Json(Value::Array(
        state
            .manifests_by_root(root.as_bytes())
            .into_iter()
            .filter_map(|id| state.manifest(id).map(|m| manifest_json(id.0, m)))
            .collect(),
    )))
}

fn sector_json(n: u64, s: &Sector) -> Value {
    json!({
        "number": n,
        "comm_r": s.comm_r.to_string(),
        "deals": s.deals.iter().map(|d| d.0).collect::<Vec<_>>(),
        "activation": s.activation.0,
        "expiration": s.expiration.0,
        "deadline": s.deadline,
        "status": format!("{:?}", s.status),
        "faults": s.faults,
        "last_proven": s.last_proven.map(|e| e.0),
    })
}

fn known_provider(state: &State, id: u64) -> Result<ProviderId, ApiError> {
    let p = ProviderId(id);
    state
        .provider(p)
        .map(|_| p)
        .ok_or_else(|| ApiError::not_found(format!("provider {id}")))
}

async fn handle_sectors(AxState(chain): AxState<Shared>, Path(id): Path<u64>) -> ApiResult {
    let (_, state) = chain.finalized();
    let p = known_provider(&state, id)?;
    Ok(axum::Json(json!({
        "provider": id,
        "sectors": state.sectors_of(p).map(|(n, s)| sector_json(n.0, s)).collect::<Vec<_>>(),
        "precommits": state.precommits_of(p).map(|(n, pc)| json!({
            "number": n.0,
            "comm_r": pc.comm_r.to_string(),
            "deals": pc.deals.iter().map(|d| d.0).collect::<Vec<_>>(),
            "ticket_epoch": pc.ticket_epoch.0,
            "expiration": pc.expiration.0,
            "deposit": amount(pc.deposit),
            "epoch": pc.epoch.0,
        })).collect::<Vec<_>>(),
    })))
}

async fn handle_deadlines(AxState(chain): AxState<Shared>, Path(id): Path<u64>) -> ApiResult {
    let (_, state) = chain.finalized();
    let p = known_provider(&state, id)?;
    let prov = state
        .provider(p)
        .ok_or_else(|| ApiError::not_found(format!("provider {id}")))?;
    let params = state.params();
    let w = params.deadline_window.max(1);
    let period = params.period().max(1);
    let now = state.epoch().0;
    let (current, current_open) = state.deadline_at(state.epoch());
    let period_start = now - now % period;
    let deadlines: Vec<Value> = (0..params.deadlines_per_period)
        .map(|d| {
            // The window of deadline d that is open now or opens next.
            let mut open = period_start + d * w;
            if open + w <= now {
                open += period;
            }
            let sectors: Vec<u64> = state
                .sectors_of(p)
                .filter(|(_, s)| s.deadline == d && s.is_live())
                .map(|(n, _)| n.0)
                .collect();
            json!({
                "index": d,
                "window_open": open,
                "window_close": open + w,
                "open_now": open <= now && now < open + w,
                "sectors": sectors,
                "last_proven_window": prov.proven.get(&d).map(|e| e.0),
            })
        })
        .collect();
    // What a WindowPoSt submitted now must cover, in order, and what was
    // already proven in this window.
    let to_prove: Vec<u64> = state
        .sectors_to_prove(p, current, current_open)
        .iter()
        .map(|(n, _)| n.0)
        .collect();
    let faulty: Vec<u64> = state
        .sectors_of(p)
        .filter(|(_, s)| s.status == cairn_ledger::state::SectorStatus::Faulty)
        .map(|(n, _)| n.0)
        .collect();
    Ok(axum::Json(json!({
        "provider": id,
        "epoch": now,
        "current_deadline": current,
        "current_window_open": current_open.0,
        "current_window_close": current_open.0 + w,
        "current_proven": prov.proven.get(&current) == Some(&current_open),
        "to_prove": to_prove,
        "faulty": faulty,
        "deadlines": deadlines,
    })))
}

async fn handle_events(
    AxState(chain): AxState<Shared>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = chain.subscribe();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(v) => {
                    let ev = SseEvent::default().event("block").data(v.to_string());
                    return Some((Ok(ev), rx));
                }
                // A slow reader skips what it missed; it can fetch
                // /blocks/{height} for the gap.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_body_forms() {
        // (body, bytes it names): JSON with hex, bare hex (whitespace
        // trimmed), anything else taken as raw bytes.
        let rows: &[(&[u8], &[u8])] = &[
            (br#"{"tx": "0102ff"}"#, &[1, 2, 0xff]),
            (b"0102ff\n", &[1, 2, 0xff]),
            (b"  0A0b  ", &[0x0a, 0x0b]),
            (&[1, 2, 3], &[1, 2, 3]),
            (b"zz", b"zz"),
        ];
        for (body, want) in rows {
            assert_eq!(tx_bytes(body).unwrap(), want.to_vec(), "{body:?}");
        }
        // Odd-length hex and bad hex inside JSON are refused by name.
        assert!(tx_bytes(b"abc").is_err());
        assert!(tx_bytes(br#"{"tx": "xyz"}"#).is_err());
    }
}
