//! A client of a validator's HTTP API (`cairn-validator`'s port 26657):
//! what storage nodes and the gateway read from the ledger and how they
//! submit transactions. Async (tokio + hyper), one connection per request,
//! every wait bounded, every failure a [`LedgerError`] that names the URL.

use std::time::Duration;

use bytes::Bytes;
use cairn_ledger::codec::Encode as _;
use cairn_ledger::{Address, Amount, SignedTx};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpStream;

/// How long to wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for an answer (`POST /tx` waits for finality, ≤ 30 s).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a ledger request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The URL is not `http://host:port`.
    #[error("ledger URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// No connection or no answer.
    #[error("the validator at {url} is unreachable: {reason}")]
    Unreachable {
        /// The validator.
        url: String,
        /// What happened.
        reason: String,
    },
    /// A non-success status.
    #[error("{what} at {url}: {status}: {message}")]
    Status {
        /// The request.
        what: String,
        /// The validator.
        url: String,
        /// The status.
        status: StatusCode,
        /// The API's error message.
        message: String,
    },
    /// An answer that is not the JSON expected.
    #[error("{what} at {url}: unexpected answer: {reason}")]
    BadAnswer {
        /// The request.
        what: String,
        /// The validator.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// What `POST /tx` answered.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Finalized; the receipt says whether it took effect (`ok`).
    Receipt(Value),
    /// Refused at admission (422): the receipt names the refusal.
    Refused(Value),
    /// Admitted, not finalized within the validator's wait (202).
    Pending(Value),
}

impl Submitted {
    /// The receipt's events if the transaction was finalized and took
    /// effect; otherwise a one-line reason.
    pub fn events(&self) -> Result<&[Value], String> {
        match self {
            Self::Receipt(r) if r.get("ok").and_then(Value::as_bool) == Some(true) => Ok(r
                .get("events")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()),
            Self::Receipt(r) | Self::Refused(r) => {
                Err(r.get("refusal").or_else(|| r.get("error")).map_or_else(
                    || r.to_string(),
                    |v| v.as_str().map_or(v.to_string(), str::to_owned),
                ))
            }
            Self::Pending(_) => Err("admitted but not finalized yet".into()),
        }
    }
}

/// `GET /status`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChainStatus {
    /// The chain id transactions must name.
    pub chain_id: u64,
    /// Finalized height.
    pub height: u64,
    /// Current epoch.
    pub epoch: u64,
    /// State root at that height (hex).
    pub state_root: String,
}

/// `GET /accounts/{addr}`.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountInfo {
    /// Spendable balance.
    #[serde(deserialize_with = "amount")]
    pub balance: Amount,
    /// The next nonce.
    pub nonce: u64,
    /// Market escrow.
    pub escrow: EscrowInfo,
}

/// An account's escrow.
#[derive(Debug, Clone, Deserialize)]
pub struct EscrowInfo {
    /// Unlocked.
    #[serde(deserialize_with = "amount")]
    pub free: Amount,
    /// Locked by deals.
    #[serde(deserialize_with = "amount")]
    pub locked: Amount,
}

/// `GET /providers/{id}`: a registered provider.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderInfo {
    /// Its id.
    pub id: u64,
    /// Its owner's address (hex).
    pub owner: String,
    /// Its worker key (hex).
    pub worker: String,
    /// Its libp2p peer id's bytes (hex).
    pub peer_id: String,
    /// Where to dial it.
    pub multiaddrs: Vec<String>,
    /// Its sector size in bytes.
    pub sector_size: u64,
    /// Its ask per padded byte per epoch.
    #[serde(deserialize_with = "amount")]
    pub price_per_byte_epoch: Amount,
    /// Padded bytes it offers.
    #[serde(default)]
    pub capacity: u64,
    /// Free collateral.
    #[serde(deserialize_with = "amount")]
    pub collateral: Amount,
}

/// `GET /deals/{id}` and the lists of `GET /deals?…`.
#[derive(Debug, Clone, Deserialize)]
pub struct DealInfo {
    /// Its id.
    pub id: u64,
    /// `Published`, `Active`, `Expired`, `Slashed`, ...
    pub state: String,
    /// The proposal's hash (hex): the id client and provider used.
    pub proposal: String,
    /// The piece's CommP (hex).
    pub piece: String,
    /// Padded piece size.
    pub piece_size: u64,
    /// The client's address (hex).
    pub client: String,
    /// The provider's id.
    pub provider: u64,
    /// The label (the upload's root CID).
    pub label: String,
    /// First epoch paid for.
    pub start: u64,
    /// First epoch not paid for.
    pub end: u64,
    /// The sector it was activated in, once prove-committed.
    #[serde(default)]
    pub sector: Option<u64>,
}

/// `GET /params`: the genesis rules sealing and proving must fit.
#[derive(Debug, Clone, Deserialize)]
pub struct LedgerParams {
    /// Blocks per epoch.
    pub blocks_per_epoch: u64,
    /// Deadlines per proving period.
    pub deadlines_per_period: u64,
    /// Epochs a deadline's window is open.
    pub deadline_window: u64,
    /// Epochs between PreCommit and the interactive seed.
    pub seed_wait: u64,
    /// Epochs after PreCommit by which ProveCommit must land.
    pub max_prove_commit_wait: u64,
    /// How old a sealing ticket may be at PreCommit.
    pub max_ticket_age: u64,
    /// The smallest PreCommit deposit.
    #[serde(deserialize_with = "amount")]
    pub min_precommit_deposit: Amount,
    /// Fee per faulty sector per missed window.
    #[serde(deserialize_with = "amount")]
    pub fault_fee: Amount,
    /// Missed windows in a row that terminate a sector.
    pub max_consecutive_faults: u64,
}

/// A proven sector on the ledger (`GET /sectors/{provider}`).
#[derive(Debug, Clone, Deserialize)]
pub struct SectorInfo {
    /// Its number.
    pub number: u64,
    /// CommR (hex).
    pub comm_r: String,
    /// Its deals.
    pub deals: Vec<u64>,
    /// The epoch its PoRep verified.
    pub activation: u64,
    /// When it stops being proven.
    pub expiration: u64,
    /// Its deadline index.
    pub deadline: u64,
    /// `Active`, `Faulty`, `Recovering`, `Terminated`, `Expired`.
    pub status: String,
    /// Missed windows in a row.
    pub faults: u64,
    /// The window it was last proven in.
    pub last_proven: Option<u64>,
}

/// A pre-commit on the ledger.
#[derive(Debug, Clone, Deserialize)]
pub struct PreCommitInfo {
    /// The sector number.
    pub number: u64,
    /// CommR (hex).
    pub comm_r: String,
    /// Its deals.
    pub deals: Vec<u64>,
    /// The ticket's epoch.
    pub ticket_epoch: u64,
    /// When it took effect.
    pub epoch: u64,
}

/// `GET /sectors/{provider}`.
#[derive(Debug, Clone, Deserialize)]
pub struct SectorsInfo {
    /// Proven sectors.
    pub sectors: Vec<SectorInfo>,
    /// Pre-commits not yet proven.
    pub precommits: Vec<PreCommitInfo>,
}

/// One deadline of a provider (`GET /deadlines/{provider}`).
#[derive(Debug, Clone, Deserialize)]
pub struct DeadlineInfo {
    /// Its index.
    pub index: u64,
    /// The window open now or next.
    pub window_open: u64,
    /// Its close.
    pub window_close: u64,
    /// Whether it is open now.
    pub open_now: bool,
    /// Live sectors assigned to it.
    pub sectors: Vec<u64>,
    /// The last window proven.
    pub last_proven_window: Option<u64>,
}

/// `GET /deadlines/{provider}`.
#[derive(Debug, Clone, Deserialize)]
pub struct DeadlinesInfo {
    /// The current epoch.
    pub epoch: u64,
    /// The deadline open now.
    pub current_deadline: u64,
    /// Its window's first epoch.
    pub current_window_open: u64,
    /// Its window's close (first epoch after it).
    pub current_window_close: u64,
    /// Whether this provider proved it already.
    pub current_proven: bool,
    /// The sectors a WindowPoSt submitted now must cover, in order.
    pub to_prove: Vec<u64>,
    /// The provider's faulty sectors.
    pub faulty: Vec<u64>,
    /// Every deadline.
    pub deadlines: Vec<DeadlineInfo>,
}

fn amount<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
    let v = Value::deserialize(d)?;
    match &v {
        Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        Value::Number(n) => n
            .as_u64()
            .map(Amount::from)
            .ok_or_else(|| serde::de::Error::custom("amount is not a whole number")),
        _ => Err(serde::de::Error::custom("amount is not a number")),
    }
}

/// A validator's API.
#[derive(Debug, Clone)]
pub struct LedgerClient {
    url: String,
    authority: String,
}

impl LedgerClient {
    /// A client of `url` (`http://host:port`), checked before any request.
    pub fn new(url: &str) -> Result<Self, LedgerError> {
        let bad = |reason| LedgerError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(bad("only http:// is supported")),
            None => return Err(bad("needs a scheme, e.g. http://127.0.0.1:26657")),
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            return Err(bad("give the validator's base URL, without a path"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let authority = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(80)
        );
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            authority,
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), LedgerError> {
        let unreachable = |reason: String| LedgerError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.authority))
            .await
            .map_err(|_| unreachable(format!("no connection within {CONNECT_TIMEOUT:?}")))?
            .map_err(|e| unreachable(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| unreachable(e.to_string()))?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", &self.authority)
            .header("content-type", "text/plain")
            .body(Full::new(body))
            .map_err(|e| unreachable(format!("building {method} {path}: {e}")))?;
        let exchange = async {
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        tokio::time::timeout(ANSWER_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                unreachable(format!(
                    "{method} {path}: no answer within {ANSWER_TIMEOUT:?}"
                ))
            })?
            .map_err(|e| unreachable(format!("{method} {path}: {e}")))
    }

    fn json(&self, what: &str, status: StatusCode, body: &[u8]) -> Result<Value, LedgerError> {
        let v: Value = serde_json::from_slice(body).map_err(|_| LedgerError::BadAnswer {
            what: what.to_owned(),
            url: self.url.clone(),
            reason: format!(
                "{status} with something not JSON: {}",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        })?;
        Ok(v)
    }

    /// `GET path` as JSON; a non-2xx status is an error with the API's
    /// message.
    pub async fn get(&self, path: &str) -> Result<Value, LedgerError> {
        let what = format!("GET {path}");
        let (status, body) = self.request(Method::GET, path, Bytes::new()).await?;
        let v = self.json(&what, status, &body)?;
        if !status.is_success() {
            return Err(LedgerError::Status {
                what,
                url: self.url.clone(),
                status,
                message: v
                    .get("error")
                    .and_then(Value::as_str)
                    .map_or_else(|| v.to_string(), str::to_owned),
            });
        }
        Ok(v)
    }

    /// `GET path` decoded as `T`.
    pub async fn get_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, LedgerError> {
        let v = self.get(path).await?;
        serde_json::from_value(v).map_err(|e| LedgerError::BadAnswer {
            what: format!("GET {path}"),
            url: self.url.clone(),
            reason: e.to_string(),
        })
    }

    /// The chain's status.
    pub async fn status(&self) -> Result<ChainStatus, LedgerError> {
        self.get_as("/status").await
    }

    /// An account.
    pub async fn account(&self, a: &Address) -> Result<AccountInfo, LedgerError> {
        self.get_as(&format!("/accounts/{a}")).await
    }

    /// Every registered provider.
    pub async fn providers(&self) -> Result<Vec<ProviderInfo>, LedgerError> {
        self.get_as("/providers").await
    }

    /// One provider, `None` if there is no such id.
    pub async fn provider(&self, id: u64) -> Result<Option<ProviderInfo>, LedgerError> {
        match self.get_as(&format!("/providers/{id}")).await {
            Ok(p) => Ok(Some(p)),
            Err(LedgerError::Status { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A provider's deals.
    pub async fn deals_of_provider(&self, id: u64) -> Result<Vec<DealInfo>, LedgerError> {
        self.get_as(&format!("/deals?provider={id}")).await
    }

    /// The genesis parameters.
    pub async fn params(&self) -> Result<LedgerParams, LedgerError> {
        self.get_as("/params").await
    }

    /// A provider's sectors and pre-commits.
    pub async fn sectors(&self, provider: u64) -> Result<SectorsInfo, LedgerError> {
        self.get_as(&format!("/sectors/{provider}")).await
    }

    /// A provider's deadlines.
    pub async fn deadlines(&self, provider: u64) -> Result<DeadlinesInfo, LedgerError> {
        self.get_as(&format!("/deadlines/{provider}")).await
    }

    /// The beacon value of `epoch`; `None` while the epoch has not begun
    /// (or was pruned).
    pub async fn randomness(&self, epoch: u64) -> Result<Option<[u8; 32]>, LedgerError> {
        let v = match self.get(&format!("/randomness/{epoch}")).await {
            Ok(v) => v,
            Err(LedgerError::Status { status, .. }) if status == StatusCode::NOT_FOUND => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let bad = |reason: String| LedgerError::BadAnswer {
            what: format!("GET /randomness/{epoch}"),
            url: self.url.clone(),
            reason,
        };
        let hex_str = v
            .get("randomness")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no randomness field".into()))?;
        let bytes = hex::decode(hex_str).map_err(|e| bad(e.to_string()))?;
        let r: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("randomness is not 32 bytes".into()))?;
        Ok(Some(r))
    }

    /// Submits a signed transaction and waits (bounded) for its receipt.
    pub async fn submit(&self, tx: &SignedTx) -> Result<Submitted, LedgerError> {
        self.submit_bytes(&tx.to_bytes()).await
    }

    /// Submits a transaction's canonical encoding (sent in hex).
    pub async fn submit_bytes(&self, tx: &[u8]) -> Result<Submitted, LedgerError> {
        let (status, body) = self
            .request(Method::POST, "/tx", Bytes::from(hex::encode(tx)))
            .await?;
        let v = self.json("POST /tx", status, &body)?;
        match status {
            StatusCode::OK => Ok(Submitted::Receipt(v)),
            StatusCode::ACCEPTED => Ok(Submitted::Pending(v)),
            StatusCode::UNPROCESSABLE_ENTITY => Ok(Submitted::Refused(v)),
            _ => Err(LedgerError::Status {
                what: "POST /tx".into(),
                url: self.url.clone(),
                status,
                message: v
                    .get("error")
                    .and_then(Value::as_str)
                    .map_or_else(|| v.to_string(), str::to_owned),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_connection() {
        assert!(LedgerClient::new("http://127.0.0.1:26657").is_ok());
        for (bad, says) in [
            ("https://example.com", "only http://"),
            ("127.0.0.1:26657", "scheme"),
            ("http://h:1/api", "without a path"),
        ] {
            let err = LedgerClient::new(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
