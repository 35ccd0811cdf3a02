//! A client of a validator's HTTP JSON API (deal-market/src/api.rs).
//!
//! Plain HTTP/1.1 over TCP with the hyper stack the rest of the client
//! already links (one connection per request; the CLI makes a handful).
//! Every failure names the validator's URL, so a user can tell a refused
//! transaction from a validator that is not running.

use anyhow::{Context, Result};
use cairn_types::ledger::{LedgerClient, LedgerError};
use serde_json::Value;

pub use cairn_types::ledger::Submitted;

/// The endpoint when neither flag, environment nor config names one.
pub const DEFAULT_LEDGER: &str = "http://127.0.0.1:26657";

/// A validator's API, for the CLI's synchronous commands: the async client
/// of `cairn-types` on a runtime of its own.
#[derive(Debug)]
pub struct LedgerApi {
    inner: LedgerClient,
    runtime: tokio::runtime::Runtime,
}

/// An unreachable validator gets the hint of what to do about it.
fn hint(e: LedgerError) -> anyhow::Error {
    let hinted = matches!(e, LedgerError::Unreachable { .. });
    let e = anyhow::Error::new(e);
    if hinted {
        e.context("is `cairn-validator run` up? pick another with --ledger URL or CAIRN_LEDGER")
    } else {
        e
    }
}

impl LedgerApi {
    /// A client of the API at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<LedgerApi> {
        let inner = LedgerClient::new(url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the HTTP runtime")?;
        Ok(LedgerApi { inner, runtime })
    }

    /// The base URL, for messages.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// `GET path`, its JSON answer; a non-2xx status is an error carrying
    /// the API's `error` message.
    pub fn get(&self, path: &str) -> Result<Value> {
        self.runtime.block_on(self.inner.get(path)).map_err(hint)
    }

    /// `POST /tx` with the transaction's canonical encoding in hex.
    pub fn submit(&self, tx_bytes: &[u8]) -> Result<Submitted> {
        self.runtime
            .block_on(self.inner.submit_bytes(tx_bytes))
            .map_err(hint)
    }
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
