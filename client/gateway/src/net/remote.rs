//! Blocks the store no longer holds, read back from the storage network.
//!
//! When an upload's deals are published the gateway records where each of
//! its blocks sits in the upload's CAR stream (`Store::block_location`).
//! [`RemoteBlocks`] answers a block by that location: it finds the
//! upload's manifest and providers on the ledger once ([`locate`], cached
//! for a minute), then fetches only the stripes under the block's bytes,
//! from data shards first and parity where a provider is down, slow or
//! lying, and checks the block against its CID ([`Fetcher::block`]). An S3
//! Range read or a `/ipfs` path thus moves just the segments it touches.
//!
//! The read paths are synchronous DAG walks on blocking threads, so the
//! async fetch is driven with the runtime's `Handle::block_on` from there.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_dag::BlockSource;
use cairn_dag::reader::SourceError;
use cairn_store::Store;
use cairn_types::ledger::LedgerClient;
use cairn_types::p2p::Client;
use cid::Cid;
use tokio::runtime::Handle;

use super::fetch::{Fetcher, locate};

/// Located uploads kept.
const FETCHERS: usize = 16;
/// How long a located upload is trusted before the ledger is asked again
/// (deals end, providers move).
const FRESH: Duration = Duration::from_secs(60);

/// Reads placed blocks from providers.
pub struct RemoteBlocks {
    store: Store,
    ledger: LedgerClient,
    p2p: Client,
    handle: Handle,
    fetchers: Mutex<VecDeque<(String, Instant, Arc<Fetcher>)>>,
}

impl std::fmt::Debug for RemoteBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteBlocks").finish_non_exhaustive()
    }
}

impl RemoteBlocks {
    /// Reads through `p2p`, finding uploads on `ledger`; async work runs on
    /// `handle`'s runtime.
    pub fn new(store: Store, ledger: LedgerClient, p2p: Client, handle: Handle) -> Self {
        Self {
            store,
            ledger,
            p2p,
            handle,
            fetchers: Mutex::new(VecDeque::new()),
        }
    }

    fn fetcher(&self, root: &str) -> Result<Arc<Fetcher>, SourceError> {
        if let Ok(f) = self.fetchers.lock()
            && let Some((_, at, fetcher)) = f.iter().find(|(r, _, _)| r == root)
            && at.elapsed() < FRESH
        {
            return Ok(fetcher.clone());
        }
        let located = self.handle.block_on(locate(&self.ledger, root))?;
        let fetcher = Arc::new(Fetcher::new(self.p2p.clone(), located));
        if let Ok(mut f) = self.fetchers.lock() {
            f.retain(|(r, _, _)| r != root);
            f.push_back((root.to_owned(), Instant::now(), fetcher.clone()));
            while f.len() > FETCHERS {
                f.pop_front();
            }
        }
        Ok(fetcher)
    }
}

impl BlockSource for RemoteBlocks {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        let Some(loc) = self.store.block_location(cid.hash())? else {
            return Ok(None);
        };
        let root = loc.root.to_string();
        let fetcher = self.fetcher(&root)?;
        let started = Instant::now();
        let data = match self.handle.block_on(fetcher.block(cid, loc.range.clone())) {
            Ok(d) => d,
            Err(e) => {
                // Providers may have moved or deals changed: ask the ledger
                // again next time.
                if let Ok(mut f) = self.fetchers.lock() {
                    f.retain(|(r, _, _)| *r != root);
                }
                return Err(format!("{cid} from the providers of {root}: {e}").into());
            }
        };
        tracing::debug!(%cid, %root, bytes = data.len(), ms = started.elapsed().as_millis() as u64, "block read from providers");
        Ok(Some(data))
    }
}
