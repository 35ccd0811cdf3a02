//! `/cairn/deal/1`: proposing a deal and handing over its piece.
//!
//! The exchange, one request and one answer each:
//!
//! 1. `Ask` → [`Ask`]: the provider's terms and free space (optional; the
//!    ledger's registry has the price too).
//! 2. `Propose(deal)` → `Accepted { received }`: the client's signed
//!    proposal; the provider checks it (signature, price ≥ its ask, piece
//!    size, capacity, start epoch reachable with its sealing allowance,
//!    collateral) and remembers it. `received > 0` means a transfer of the
//!    same proposal broke off and resumes there. A proposal the provider
//!    already countersigned is refused as `Replayed`.
//! 3. `Push { offset, data }` → `Received { received }`, repeated: piece
//!    payload bytes in order, at most [`crate::MAX_CHUNK`] each. A push at
//!    any offset but the provider's `received` is refused with the offset it
//!    expects, so a client that lost track asks `Status` and resumes.
//! 4. `Finish` → `Signed { provider_sig }`: the provider computes CommP over
//!    what it received (zero-padded to the proposal's piece size) and
//!    countersigns only if it equals the proposal's; otherwise
//!    `PieceMismatch` names both.
//!
//! The client then publishes the countersigned deal on the ledger.

use cairn_ledger::codec::{Decode, DecodeError, Encode, Reader, Writer};
use cairn_ledger::tx::CLIENT_DEAL_DOMAIN;
use cairn_ledger::{Amount, CommP, DealProposal, Epoch, ProviderId, PublicKey, Signature};

use crate::{MAX_CHUNK, MAX_REASON};

/// A proposal's name between client and provider: SHA-256 of its encoding,
/// the hash under which the ledger remembers a published proposal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProposalId(pub [u8; 32]);

impl std::fmt::Debug for ProposalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proposal:")?;
        self.0.iter().take(8).try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::fmt::Display for ProposalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl Encode for ProposalId {
    fn encode(&self, w: &mut Writer) {
        w.array(&self.0);
    }
}

impl Decode for ProposalId {
    const MIN_LEN: usize = 32;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array("proposal id")?))
    }
}

/// A proposal signed by its client, not yet by the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientDeal {
    /// The terms.
    pub proposal: DealProposal,
    /// The client's key; must hash to `proposal.client`.
    pub client_key: PublicKey,
    /// The client's signature of the encoded proposal.
    pub client_sig: Signature,
}

impl ClientDeal {
    /// The proposal's id.
    pub fn id(&self) -> ProposalId {
        ProposalId(cairn_ledger::proposal_hash(&self.proposal.to_bytes()))
    }

    /// Whether the key is the client's and its signature verifies (the
    /// ledger checks the same at publication).
    pub fn client_signature_valid(&self) -> bool {
        self.client_key.address() == self.proposal.client
            && self.client_key.verify(
                CLIENT_DEAL_DOMAIN,
                &self.proposal.to_bytes(),
                &self.client_sig,
            )
    }
}

impl Encode for ClientDeal {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.proposal);
        w.put(&self.client_key);
        w.put(&self.client_sig);
    }
}

impl Decode for ClientDeal {
    const MIN_LEN: usize = DealProposal::MIN_LEN + 32 + 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: DealProposal::decode(r)?,
            client_key: PublicKey::decode(r)?,
            client_sig: Signature::decode(r)?,
        })
    }
}

/// A provider's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Its ledger id.
    pub provider: ProviderId,
    /// Lowest price it accepts, per padded byte per epoch.
    pub price_per_byte_epoch: Amount,
    /// Its sector size: the largest piece it takes.
    pub sector_size: u64,
    /// Padded bytes it can still take.
    pub free_bytes: u64,
    /// The ledger epoch it last saw.
    pub epoch: Epoch,
    /// Epochs it needs between a proposal and the deal's start (sealing).
    pub start_delay: u64,
}

impl Encode for Ask {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.provider);
        w.u128(self.price_per_byte_epoch);
        w.u64(self.sector_size);
        w.u64(self.free_bytes);
        w.put(&self.epoch);
        w.u64(self.start_delay);
    }
}

impl Decode for Ask {
    const MIN_LEN: usize = 8 + 16 + 8 + 8 + 8 + 8;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            provider: ProviderId::decode(r)?,
            price_per_byte_epoch: r.u128("price")?,
            sector_size: r.u64("sector size")?,
            free_bytes: r.u64("free bytes")?,
            epoch: Epoch::decode(r)?,
            start_delay: r.u64("start delay")?,
        })
    }
}

/// What a client asks of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DealRequest {
    /// The provider's terms.
    Ask,
    /// A signed proposal.
    Propose(ClientDeal),
    /// Payload bytes of an accepted proposal's piece, at `offset`.
    Push {
        /// The proposal.
        deal: ProposalId,
        /// Where these bytes start in the payload.
        offset: u64,
        /// The bytes (at most [`crate::MAX_CHUNK`]).
        data: Vec<u8>,
    },
    /// How many payload bytes the provider holds.
    Status {
        /// The proposal.
        deal: ProposalId,
    },
    /// All bytes are sent: check them and countersign.
    Finish {
        /// The proposal.
        deal: ProposalId,
    },
}

impl Encode for DealRequest {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Ask => w.u8(0),
            Self::Propose(d) => {
                w.u8(1);
                w.put(d);
            }
            Self::Push { deal, offset, data } => {
                w.u8(2);
                w.put(deal);
                w.u64(*offset);
                w.bytes(data);
            }
            Self::Status { deal } => {
                w.u8(3);
                w.put(deal);
            }
            Self::Finish { deal } => {
                w.u8(4);
                w.put(deal);
            }
        }
    }
}

impl Decode for DealRequest {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8("deal request")? {
            0 => Self::Ask,
            1 => Self::Propose(ClientDeal::decode(r)?),
            2 => Self::Push {
                deal: ProposalId::decode(r)?,
                offset: r.u64("offset")?,
                data: r.bytes(MAX_CHUNK, "pushed bytes")?,
            },
            3 => Self::Status {
                deal: ProposalId::decode(r)?,
            },
            4 => Self::Finish {
                deal: ProposalId::decode(r)?,
            },
            tag => {
                return Err(DecodeError::BadTag {
                    what: "deal request",
                    tag,
                });
            }
        })
    }
}

/// Why a provider said no. Every variant carries what the client needs to
/// fix its request, and the display names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DealRefusal {
    /// The client's signature does not verify, or its key is not the
    /// proposal's client.
    #[error("the client signature does not verify for the proposal's client address")]
    BadSignature,
    /// The proposal names another provider.
    #[error("the proposal is for provider {named}, this is provider {ours}")]
    WrongProvider {
        /// This provider.
        ours: ProviderId,
        /// The one named.
        named: ProviderId,
    },
    /// The price is under the provider's ask.
    #[error("price {offered} per epoch is below the ask of {ask} per epoch for this piece")]
    PriceBelowAsk {
        /// The ask for this piece, per epoch.
        ask: Amount,
        /// The proposal's price per epoch.
        offered: Amount,
    },
    /// The piece size is not a power of two of at least 128, or exceeds the
    /// sector size.
    #[error("piece size {size} is not a power of two from 128 to the sector size {sector_size}")]
    BadPieceSize {
        /// The proposal's piece size.
        size: u64,
        /// The provider's sector size.
        sector_size: u64,
    },
    /// Not enough free space.
    #[error("no capacity: {needed} bytes needed, {free} free")]
    NoCapacity {
        /// Padded bytes free.
        free: u64,
        /// Padded bytes asked.
        needed: u64,
    },
    /// The start epoch leaves too little time to seal.
    #[error(
        "start epoch {start} is too soon: the earliest this provider can seal by is {earliest}"
    )]
    StartTooSoon {
        /// The earliest acceptable start.
        earliest: Epoch,
        /// The proposal's start.
        start: Epoch,
    },
    /// The start epoch is further ahead than the provider accepts (the
    /// ledger refuses deals that start too far ahead, too).
    #[error("start epoch {start} is too far ahead: the latest this provider accepts is {latest}")]
    StartTooLate {
        /// The latest acceptable start.
        latest: Epoch,
        /// The proposal's start.
        start: Epoch,
    },
    /// The duration is out of the provider's bounds.
    #[error("duration of {duration} epochs is outside {min}..={max}")]
    BadDuration {
        /// The proposal's duration.
        duration: u64,
        /// Shortest accepted.
        min: u64,
        /// Longest accepted.
        max: u64,
    },
    /// The provider's free collateral does not cover the deal's.
    #[error("provider collateral {needed} asked, {free} free")]
    CollateralUnavailable {
        /// Free collateral.
        free: Amount,
        /// The proposal's provider collateral.
        needed: Amount,
    },
    /// The proposal was already countersigned (or published).
    #[error("proposal {0} was already countersigned; a proposal is signed once")]
    Replayed(ProposalId),
    /// No accepted proposal by that id.
    #[error("no accepted proposal {0}")]
    UnknownDeal(ProposalId),
    /// A push not at the next byte the provider expects.
    #[error("push at offset {got}, but {expected} bytes are held: resume there")]
    WrongOffset {
        /// Bytes held.
        expected: u64,
        /// The push's offset.
        got: u64,
    },
    /// More bytes than the piece holds.
    #[error("{got} bytes pushed, the piece's payload holds at most {capacity}")]
    TooMuchData {
        /// The piece's unpadded capacity.
        capacity: u64,
        /// Bytes it would hold.
        got: u64,
    },
    /// The received bytes commit to another piece.
    #[error("received bytes have CommP {actual}, the proposal says {expected}")]
    PieceMismatch {
        /// The proposal's.
        expected: CommP,
        /// Computed over the bytes.
        actual: CommP,
    },
    /// The provider is out of transfer slots; retry later.
    #[error("the provider is busy; retry later")]
    Busy,
    /// Something broke on the provider's side.
    #[error("provider error: {0}")]
    Internal(String),
    /// The request's bytes were not a request.
    #[error("malformed request: {0}")]
    Malformed(String),
}

impl Encode for DealRefusal {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::BadSignature => w.u8(0),
            Self::WrongProvider { ours, named } => {
                w.u8(1);
                w.put(ours);
                w.put(named);
            }
            Self::PriceBelowAsk { ask, offered } => {
                w.u8(2);
                w.u128(*ask);
                w.u128(*offered);
            }
            Self::BadPieceSize { size, sector_size } => {
                w.u8(3);
                w.u64(*size);
                w.u64(*sector_size);
            }
            Self::NoCapacity { free, needed } => {
                w.u8(4);
                w.u64(*free);
                w.u64(*needed);
            }
            Self::StartTooSoon { earliest, start } => {
                w.u8(5);
                w.put(earliest);
                w.put(start);
            }
            Self::BadDuration { duration, min, max } => {
                w.u8(6);
                w.u64(*duration);
                w.u64(*min);
                w.u64(*max);
            }
            Self::CollateralUnavailable { free, needed } => {
                w.u8(7);
                w.u128(*free);
                w.u128(*needed);
            }
            Self::Replayed(id) => {
                w.u8(8);
                w.put(id);
            }
            Self::UnknownDeal(id) => {
                w.u8(9);
                w.put(id);
            }
            Self::WrongOffset { expected, got } => {
                w.u8(10);
                w.u64(*expected);
                w.u64(*got);
            }
            Self::TooMuchData { capacity, got } => {
                w.u8(11);
                w.u64(*capacity);
                w.u64(*got);
            }
            Self::PieceMismatch { expected, actual } => {
                w.u8(12);
                w.put(expected);
                w.put(actual);
            }
            Self::Busy => w.u8(13),
            Self::Internal(reason) => {
                w.u8(14);
                w.str(crate::clip(reason));
            }
            Self::Malformed(reason) => {
                w.u8(15);
                w.str(crate::clip(reason));
            }
            Self::StartTooLate { latest, start } => {
                w.u8(16);
                w.put(latest);
                w.put(start);
            }
        }
    }
}

impl Decode for DealRefusal {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8("deal refusal")? {
            0 => Self::BadSignature,
            1 => Self::WrongProvider {
                ours: ProviderId::decode(r)?,
                named: ProviderId::decode(r)?,
            },
            2 => Self::PriceBelowAsk {
                ask: r.u128("ask")?,
                offered: r.u128("offered")?,
            },
            3 => Self::BadPieceSize {
                size: r.u64("size")?,
                sector_size: r.u64("sector size")?,
            },
            4 => Self::NoCapacity {
                free: r.u64("free")?,
                needed: r.u64("needed")?,
            },
            5 => Self::StartTooSoon {
                earliest: Epoch::decode(r)?,
                start: Epoch::decode(r)?,
            },
            6 => Self::BadDuration {
                duration: r.u64("duration")?,
                min: r.u64("min")?,
                max: r.u64("max")?,
            },
            7 => Self::CollateralUnavailable {
                free: r.u128("free")?,
                needed: r.u128("needed")?,
            },
            8 => Self::Replayed(ProposalId::decode(r)?),
            9 => Self::UnknownDeal(ProposalId::decode(r)?),
            10 => Self::WrongOffset {
                expected: r.u64("expected")?,
                got: r.u64("got")?,
            },
            11 => Self::TooMuchData {
                capacity: r.u64("capacity")?,
                got: r.u64("got")?,
            },
            12 => Self::PieceMismatch {
                expected: CommP::decode(r)?,
                actual: CommP::decode(r)?,
            },
            13 => Self::Busy,
            14 => Self::Internal(r.string(MAX_REASON, "reason")?),
            15 => Self::Malformed(r.string(MAX_REASON, "reason")?),
            16 => Self::StartTooLate {
                latest: Epoch::decode(r)?,
                start: Epoch::decode(r)?,
            },
            tag => {
                return Err(DecodeError::BadTag {
                    what: "deal refusal",
                    tag,
                });
            }
        })
    }
}

/// What a provider answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DealResponse {
    /// Its terms.
    Ask(Ask),
    /// The proposal is accepted; send bytes from `received`.
    Accepted {
        /// The proposal.
        deal: ProposalId,
        /// Payload bytes already held (a resumed transfer).
        received: u64,
    },
    /// Payload bytes held after a push or on `Status`.
    Received {
        /// The proposal.
        deal: ProposalId,
        /// Bytes held.
        received: u64,
    },
    /// The bytes match: the provider's signature of the proposal.
    Signed {
        /// The proposal.
        deal: ProposalId,
        /// The worker key's signature (domain `cairn/deal/provider/v1`).
        provider_sig: Signature,
    },
    /// No.
    Refused(DealRefusal),
}

impl Encode for DealResponse {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Ask(a) => {
                w.u8(0);
                w.put(a);
            }
            Self::Accepted { deal, received } => {
                w.u8(1);
                w.put(deal);
                w.u64(*received);
            }
            Self::Received { deal, received } => {
                w.u8(2);
                w.put(deal);
                w.u64(*received);
            }
            Self::Signed { deal, provider_sig } => {
                w.u8(3);
                w.put(deal);
                w.put(provider_sig);
            }
            Self::Refused(r) => {
                w.u8(4);
                w.put(r);
            }
        }
    }
}

impl Decode for DealResponse {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8("deal response")? {
            0 => Self::Ask(Ask::decode(r)?),
            1 => Self::Accepted {
                deal: ProposalId::decode(r)?,
                received: r.u64("received")?,
            },
            2 => Self::Received {
                deal: ProposalId::decode(r)?,
                received: r.u64("received")?,
            },
            3 => Self::Signed {
                deal: ProposalId::decode(r)?,
                provider_sig: Signature::decode(r)?,
            },
            4 => Self::Refused(DealRefusal::decode(r)?),
            tag => {
                return Err(DecodeError::BadTag {
                    what: "deal response",
                    tag,
                });
            }
        })
    }
}
