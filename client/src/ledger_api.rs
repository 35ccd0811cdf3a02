//! A client of a validator's HTTP JSON API (deal-market/src/api.rs).
//!
//! Plain HTTP/1.1 over TCP with the hyper stack the rest of the client
//! already links (one connection per request; the CLI makes a handful).
//! Every failure names the validator's URL, so a user can tell a refused
//! transaction from a validator that is not running.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokio::net::TcpStream;

/// The endpoint when neither flag, environment nor config names one.
pub const DEFAULT_LEDGER: &str = "http://127.0.0.1:26657";

/// How long to wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait for an answer. `POST /tx` holds the request until the
/// transaction is finalized or its own 30 s wait ends.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A validator's API.
#[derive(Debug)]
pub struct LedgerApi {
    url: String,
    authority: String,
    runtime: tokio::runtime::Runtime,
}

/// What `POST /tx` answered.
#[derive(Debug)]
pub enum Submitted {
    /// Finalized: the receipt (`ok` says whether it took effect).
    Receipt(Value),
    /// The ledger refused it at admission (422): a receipt with `refusal`.
    Refused(Value),
    /// Admitted but not finalized within the validator's wait (202).
    Pending(Value),
}

impl LedgerApi {
    /// A client of the API at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<LedgerApi> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("ledger URL {url:?} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => bail!(
                "ledger URL {url}: only http:// is supported (not {other}://); \
                 put TLS in front of the client with a local proxy if needed"
            ),
            None => bail!("ledger URL {url:?} needs a scheme, e.g. http://127.0.0.1:26657"),
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            bail!("ledger URL {url}: give the validator's base URL, without a path");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("ledger URL {url:?} has no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let authority = format!("{}:{port}", authority.host());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the HTTP runtime")?;
        Ok(LedgerApi {
            url: url.trim_end_matches('/').to_owned(),
            authority,
            runtime,
        })
    }

    /// The base URL, for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let unreachable = || {
            format!(
                "the validator at {} is unreachable (is `cairn-validator run` up? \
                 pick another with --ledger URL or CAIRN_LEDGER)",
                self.url
            )
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.authority))
            .await
            .map_err(|_| anyhow::anyhow!("no connection within {CONNECT_TIMEOUT:?}"))
            .and_then(|r| r.map_err(anyhow::Error::from))
            .with_context(unreachable)?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .with_context(unreachable)?;
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", &self.authority)
            .header("content-type", "text/plain")
            .body(Full::new(body))
            .context("building the request")?;
        let exchange = async {
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        };
        tokio::time::timeout(ANSWER_TIMEOUT, exchange)
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {ANSWER_TIMEOUT:?}"))
            .and_then(|r| r.map_err(anyhow::Error::from))
            .with_context(|| format!("{method} {}{path}", self.url))
    }

    fn json(&self, method: &Method, path: &str, status: StatusCode, body: &[u8]) -> Result<Value> {
        serde_json::from_slice(body).with_context(|| {
            format!(
                "{method} {}{path} answered {status} with something not JSON: {}",
                self.url,
                String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )
        })
    }

    /// `GET path`, its JSON answer; a non-2xx status is an error carrying
    /// the API's `error` message.
    pub fn get(&self, path: &str) -> Result<Value> {
        let (status, body) =
            self.runtime
                .block_on(self.request(Method::GET, path, Bytes::new()))?;
        let v = self.json(&Method::GET, path, status, &body)?;
        if !status.is_success() {
            bail!("GET {}{path}: {status}: {}", self.url, api_error(&v));
        }
        Ok(v)
    }

    /// `POST /tx` with the transaction's canonical encoding in hex.
    pub fn submit(&self, tx_bytes: &[u8]) -> Result<Submitted> {
        let (status, body) = self.runtime.block_on(self.request(
            Method::POST,
            "/tx",
            Bytes::from(hex::encode(tx_bytes)),
        ))?;
        let v = self.json(&Method::POST, "/tx", status, &body)?;
        match status {
            StatusCode::OK => Ok(Submitted::Receipt(v)),
            StatusCode::ACCEPTED => Ok(Submitted::Pending(v)),
            StatusCode::UNPROCESSABLE_ENTITY => Ok(Submitted::Refused(v)),
            _ => bail!("POST {}/tx: {status}: {}", self.url, api_error(&v)),
        }
    }
}

/// The message of an API error body (`{"error": ...}`), else the body.
fn api_error(v: &Value) -> String {
    v.get("error")
        .and_then(Value::as_str)
        .map_or_else(|| v.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_connection() {
        assert!(LedgerApi::new("http://127.0.0.1:26657").is_ok());
        assert!(LedgerApi::new("http://127.0.0.1:26657/").is_ok());
        for (bad, says) in [
            ("https://example.com", "only http://"),
            ("127.0.0.1:26657", "scheme"),
            ("http://h:1/api", "without a path"),
            ("not a url", "not a URL"),
        ] {
            let err = LedgerApi::new(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(says)),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn a_closed_port_is_reported_as_an_unreachable_validator() -> Result<()> {
        // Bind then drop a listener: the port is closed for the next moment.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let api = LedgerApi::new(&format!("http://127.0.0.1:{port}"))?;
        let err = api.get("/status").err().context("a closed port answered")?;
        let msg = format!("{err:#}");
        assert!(
            msg.contains(&format!(
                "validator at http://127.0.0.1:{port} is unreachable"
            )),
            "{msg}"
        );
        Ok(())
    }
}
