//! The storage network from the client's side: placing an upload's shards
//! with providers under signed deals ([`place`]), and reading them back
//! from whichever providers answer ([`fetch`]).
//!
//! Both sides find providers in the ledger's registry and talk to them
//! over libp2p (`cairn_types::p2p::Client`): `/cairn/deal/1` to propose,
//! transfer and get a countersignature, `/cairn/retrieve/1` for byte
//! ranges. The layout of an upload over its shards is `cairn-erasure`'s;
//! docs/protocol.md has the wire formats.

pub mod fetch;
pub mod place;
pub mod remote;
pub mod worker;

use cairn_erasure::LayoutError;
use cairn_ledger::Amount;
use cairn_types::ledger::{LedgerClient, LedgerError, ProviderInfo};
use libp2p::{Multiaddr, PeerId};

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The ledger could not be read or refused a transaction.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The upload cannot be laid out.
    #[error("layout: {0}")]
    Layout(#[from] LayoutError),
    /// A local file (a piece spool).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The ledger has no manifest for the root.
    #[error("the ledger has no upload manifest for {0}")]
    NoManifest(String),
    /// The ledger's manifest or deals do not make sense.
    #[error("the ledger's record of {root} is inconsistent: {reason}")]
    BadManifest {
        /// The root.
        root: String,
        /// What is wrong.
        reason: String,
    },
    /// Too few providers to hold every shard on a different one.
    #[error("{need} providers needed (one per shard), {have} usable: {why}")]
    NotEnoughProviders {
        /// k + m.
        need: usize,
        /// Usable providers.
        have: usize,
        /// Why the others are not.
        why: String,
    },
    /// Fewer than k shards of a stripe could be fetched.
    #[error(
        "segment {segment} stripe {stripe}: {have} of the {need} shards needed could be fetched ({reasons})"
    )]
    Unavailable {
        /// Segment.
        segment: u64,
        /// Stripe.
        stripe: u64,
        /// Shards fetched.
        have: usize,
        /// k.
        need: usize,
        /// Why the others failed.
        reasons: String,
    },
    /// A block fails its CID check whichever shards it is decoded from.
    #[error("block {cid} fails its CID check from every choice of shards")]
    Corrupt {
        /// The block.
        cid: String,
    },
    /// The CAR stream from the providers is not a CAR.
    #[error("the decoded CAR is malformed at byte {offset}: {reason}")]
    BadCar {
        /// Where.
        offset: u64,
        /// What.
        reason: String,
    },
    /// Publishing the deals failed.
    #[error("publishing the deals: {0}")]
    Publish(String),
    /// The libp2p host.
    #[error("libp2p: {0}")]
    Host(String),
    /// An erasure decode failed.
    #[error(transparent)]
    Decode(#[from] cairn_erasure::DecodeError),
    /// Encoding the CAR into pieces failed.
    #[error(transparent)]
    Encode(#[from] cairn_erasure::EncodeError),
}

/// A registered provider, parsed.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its ledger id.
    pub id: u64,
    /// Its peer id.
    pub peer: PeerId,
    /// Where to dial it.
    pub addrs: Vec<Multiaddr>,
    /// Its sector size.
    pub sector_size: u64,
    /// Its ask per padded byte per epoch.
    pub price_per_byte_epoch: Amount,
    /// Padded bytes it offers.
    pub capacity: u64,
    /// Its worker key, which countersigns its deals.
    pub worker: cairn_ledger::PublicKey,
}

impl Provider {
    /// From the registry's JSON, `None` if its peer id does not parse.
    pub fn from_info(p: &ProviderInfo) -> Option<Self> {
        let peer = PeerId::from_bytes(&hex::decode(&p.peer_id).ok()?).ok()?;
        let worker = cairn_ledger::PublicKey(hex::decode(&p.worker).ok()?.try_into().ok()?);
        Some(Self {
            id: p.id,
            peer,
            addrs: p.multiaddrs.iter().filter_map(|a| a.parse().ok()).collect(),
            sector_size: p.sector_size,
            price_per_byte_epoch: p.price_per_byte_epoch,
            capacity: p.capacity,
            worker,
        })
    }
}

/// Every registered provider whose peer id parses.
pub async fn providers(ledger: &LedgerClient) -> Result<Vec<Provider>, NetError> {
    Ok(ledger
        .providers()
        .await?
        .iter()
        .filter_map(Provider::from_info)
        .collect())
}
