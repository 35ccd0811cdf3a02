//! Transactions, deal proposals and upload manifests, with their canonical
//! encodings (see [`crate::codec`]).
//!
//! A [`SignedTx`] is `version ‖ tx ‖ signature`; the signature covers
//! `"cairn/tx/v1"` and the encoded [`Tx`], which holds the chain id and the
//! sender's nonce, so a transaction is valid on one chain, once. A deal
//! proposal is signed twice, by the client and by the provider's worker
//! key, each under its own domain, so neither signature can be reused as
//! the other or as a transaction.

use cairn_proofs::sector::SealProof;

use crate::codec::{Decode, DecodeError, Encode, Reader, Writer};
use crate::ids::{
    Address, Amount, CommP, CommR, DealId, Epoch, ProviderId, PublicKey, SectorNumber, Signature,
};

/// Longest deal label, in bytes.
pub const MAX_LABEL: usize = 256;
/// Most deals one PublishStorageDeals carries.
pub const MAX_DEALS_PER_TX: usize = 256;
/// Most deals one sector holds.
pub const MAX_DEALS_PER_SECTOR: usize = 256;
/// Longest libp2p peer id, in bytes.
pub const MAX_PEER_ID: usize = 128;
/// Most multiaddrs a provider registers.
pub const MAX_MULTIADDRS: usize = 16;
/// Longest multiaddr string.
pub const MAX_MULTIADDR: usize = 256;
/// Longest proof: 4096 Groth16 partitions.
pub const MAX_PROOF: usize = 192 * 4096;
/// Most sectors one recovery declaration names.
pub const MAX_SECTORS_PER_TX: usize = 4096;
/// Longest root CID in a manifest, in bytes.
pub const MAX_ROOT_CID: usize = 128;
/// Most shards (k + m) in a manifest.
pub const MAX_SHARDS: usize = 255;
/// Most pieces per shard in a manifest.
pub const MAX_PIECES_PER_SHARD: usize = MAX_DEALS_PER_TX;

/// Signature domain of transactions.
pub const TX_DOMAIN: &[u8] = b"cairn/tx/v1";
/// Signature domain of the client's signature of a proposal.
pub const CLIENT_DEAL_DOMAIN: &[u8] = b"cairn/deal/client/v1";
/// Signature domain of the provider's countersignature of a proposal.
pub const PROVIDER_DEAL_DOMAIN: &[u8] = b"cairn/deal/provider/v1";

/// What a client and a provider agree on for one piece (Filecoin's
/// `DealProposal`, less the verified-deal fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealProposal {
    /// The piece's commitment (its v1 piece CID's digest).
    pub piece: CommP,
    /// Padded piece size: a power of two, at least 128.
    pub piece_size: u64,
    /// Who pays.
    pub client: Address,
    /// Who stores.
    pub provider: ProviderId,
    /// Free bytes, by convention the upload's root CID; indexed.
    pub label: Vec<u8>,
    /// First epoch paid for; the sector must be proven before it.
    pub start: Epoch,
    /// First epoch not paid for.
    pub end: Epoch,
    /// Price per epoch for the whole piece.
    pub price_per_epoch: Amount,
    /// Locked from the provider's escrow; slashed if the deal fails.
    pub provider_collateral: Amount,
    /// Locked from the client's escrow; returned when the deal ends.
    pub client_collateral: Amount,
}

impl DealProposal {
    /// Epochs paid for.
    pub fn duration(&self) -> u64 {
        self.end.0.saturating_sub(self.start.0)
    }

    /// What the client pays over the whole deal, or `None` on overflow.
    pub fn total_price(&self) -> Option<Amount> {
        self.price_per_epoch
            .checked_mul(Amount::from(self.duration()))
    }
}

impl Encode for DealProposal {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.piece);
        w.u64(self.piece_size);
        w.put(&self.client);
        w.put(&self.provider);
        w.bytes(&self.label);
        w.put(&self.start);
        w.put(&self.end);
        w.u128(self.price_per_epoch);
        w.u128(self.provider_collateral);
        w.u128(self.client_collateral);
    }
}

impl Decode for DealProposal {
    const MIN_LEN: usize = 32 + 8 + 20 + 8 + 4 + 8 + 8 + 16 * 3;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            piece: CommP::decode(r)?,
            piece_size: r.u64("piece_size")?,
            client: Address::decode(r)?,
            provider: ProviderId::decode(r)?,
            label: r.bytes(MAX_LABEL, "label")?,
            start: Epoch::decode(r)?,
            end: Epoch::decode(r)?,
            price_per_epoch: r.u128("price_per_epoch")?,
            provider_collateral: r.u128("provider_collateral")?,
            client_collateral: r.u128("client_collateral")?,
        })
    }
}

/// A proposal with both parties' signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDeal {
    /// The terms.
    pub proposal: DealProposal,
    /// The client's key; must hash to `proposal.client`.
    pub client_key: PublicKey,
    /// The client's signature of the encoded proposal.
    pub client_sig: Signature,
    /// The provider worker key's signature of the encoded proposal.
    pub provider_sig: Signature,
}

impl Encode for SignedDeal {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.proposal);
        w.put(&self.client_key);
        w.put(&self.client_sig);
        w.put(&self.provider_sig);
    }
}

impl Decode for SignedDeal {
    const MIN_LEN: usize = DealProposal::MIN_LEN + 32 + 64 + 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: DealProposal::decode(r)?,
            client_key: PublicKey::decode(r)?,
            client_sig: Signature::decode(r)?,
            provider_sig: Signature::decode(r)?,
        })
    }
}

/// How an upload is laid out over its deals: enough for a reader to find
/// and decode the shards from the ledger alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The root CID's bytes.
    pub root: Vec<u8>,
    /// Bytes in the CAR stream.
    pub car_len: u64,
    /// Bytes per segment before erasure coding.
    pub segment_size: u64,
    /// Data shards.
    pub k: u8,
    /// Parity shards.
    pub m: u8,
    /// Per shard (k + m of them, in order), its pieces in order.
    pub shards: Vec<Vec<CommP>>,
}

impl Encode for Vec<CommP> {
    fn encode(&self, w: &mut Writer) {
        w.list(self);
    }
}

impl Decode for Vec<CommP> {
    const MIN_LEN: usize = 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.list(MAX_PIECES_PER_SHARD, "shard pieces")
    }
}

impl Encode for Manifest {
    fn encode(&self, w: &mut Writer) {
        w.bytes(&self.root);
        w.u64(self.car_len);
        w.u64(self.segment_size);
        w.u8(self.k);
        w.u8(self.m);
        w.list(&self.shards);
    }
}

impl Decode for Manifest {
    const MIN_LEN: usize = 4 + 8 + 8 + 2 + 4;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            root: r.bytes(MAX_ROOT_CID, "manifest root")?,
            car_len: r.u64("car_len")?,
            segment_size: r.u64("segment_size")?,
            k: r.u8("k")?,
            m: r.u8("m")?,
            shards: r.list(MAX_SHARDS, "shards")?,
        })
    }
}

/// Provider registration: who it is, where it listens, what it sells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The key that signs deals and sector messages.
    pub worker: PublicKey,
    /// The libp2p peer id's bytes.
    pub peer_id: Vec<u8>,
    /// Where to dial it.
    pub multiaddrs: Vec<String>,
    /// Its sector size (must be one genesis allows).
    pub seal_proof: SealProof,
    /// Lowest price it accepts, per padded byte per epoch.
    pub price_per_byte_epoch: Amount,
    /// Padded bytes of deals it offers to hold (advertised, not enforced).
    pub capacity: u64,
    /// Moved from the owner's balance to the provider's collateral.
    pub collateral: Amount,
}

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxBody {
    /// Move tokens between accounts.
    Transfer {
        /// Receiver.
        to: Address,
        /// How much.
        amount: Amount,
    },
    /// Move tokens from the sender's balance to its market escrow.
    EscrowAdd {
        /// How much.
        amount: Amount,
    },
    /// Move unlocked escrow back to the sender's balance.
    EscrowWithdraw {
        /// How much.
        amount: Amount,
    },
    /// Register a provider owned by the sender.
    RegisterProvider(Registration),
    /// Change where a provider listens and what it sells (sent by the owner).
    UpdateProvider {
        /// The provider.
        provider: ProviderId,
        /// Its libp2p peer id's bytes.
        peer_id: Vec<u8>,
        /// Where to dial it.
        multiaddrs: Vec<String>,
        /// Lowest price it accepts, per padded byte per epoch.
        price_per_byte_epoch: Amount,
        /// Padded bytes of deals it offers to hold.
        capacity: u64,
    },
    /// Move tokens from the owner's balance to the provider's collateral.
    AddCollateral {
        /// The provider (owned by the sender).
        provider: ProviderId,
        /// How much.
        amount: Amount,
    },
    /// Move free collateral back to the owner's balance.
    WithdrawCollateral {
        /// The provider (owned by the sender).
        provider: ProviderId,
        /// How much.
        amount: Amount,
    },
    /// Publish countersigned deals, optionally with their upload's manifest.
    PublishDeals {
        /// The deals.
        deals: Vec<SignedDeal>,
        /// The upload's layout.
        manifest: Option<Manifest>,
    },
    /// Commit to a sealed sector's CommR (sent by the worker).
    PreCommitSector {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// Its deals, in the order their pieces sit in the sector.
        deals: Vec<DealId>,
        /// The sealed replica's commitment.
        comm_r: CommR,
        /// The epoch whose randomness was the sealing ticket.
        ticket_epoch: Epoch,
        /// When the sector stops being proven.
        expiration: Epoch,
        /// Moved from the provider's collateral until ProveCommit.
        deposit: Amount,
    },
    /// Prove a pre-committed sector (sent by the worker).
    ProveCommitSector {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// One 192-byte Groth16 proof per partition.
        proof: Vec<u8>,
    },
    /// Prove the sectors of the open deadline (sent by the worker).
    SubmitWindowPost {
        /// The provider.
        provider: ProviderId,
        /// The deadline index in the proving period.
        deadline: u64,
        /// One 192-byte Groth16 proof per partition.
        proof: Vec<u8>,
    },
    /// Sectors the provider cannot prove (their files failed its check):
    /// they leave the WindowPoSt set at once, so the rest of their
    /// deadline can still be proven, and pay the fault fee as any faulty
    /// sector does when their window closes.
    DeclareFaults {
        /// The provider.
        provider: ProviderId,
        /// The sectors.
        sectors: Vec<SectorNumber>,
    },
    /// Faulty sectors the provider will prove again at their next deadline.
    DeclareRecovery {
        /// The provider.
        provider: ProviderId,
        /// The sectors.
        sectors: Vec<SectorNumber>,
    },
}

fn multiaddrs_decode(r: &mut Reader<'_>) -> Result<Vec<String>, DecodeError> {
    let n = r.len(MAX_MULTIADDRS, 4, "multiaddrs")?;
    let mut multiaddrs = Vec::with_capacity(n);
    for _ in 0..n {
        multiaddrs.push(r.string(MAX_MULTIADDR, "multiaddr")?);
    }
    Ok(multiaddrs)
}

fn seal_proof_decode(r: &mut Reader<'_>) -> Result<SealProof, DecodeError> {
    let id = r.u8("seal proof")?;
    SealProof::from_id(u64::from(id)).map_err(|_| DecodeError::Invalid { what: "seal proof" })
}

/// The one-byte tag of a seal proof: its registered id (5..=9).
pub fn seal_proof_tag(p: SealProof) -> u8 {
    u8::try_from(p.id()).unwrap_or(u8::MAX)
}

impl Encode for TxBody {
    fn encode(&self, w: &mut Writer) {
        match self {
            TxBody::Transfer { to, amount } => {
                w.u8(0);
                w.put(to);
                w.u128(*amount);
            }
            TxBody::EscrowAdd { amount } => {
                w.u8(1);
                w.u128(*amount);
            }
            TxBody::EscrowWithdraw { amount } => {
                w.u8(2);
                w.u128(*amount);
            }
            TxBody::RegisterProvider(reg) => {
                w.u8(3);
                w.put(&reg.worker);
                w.bytes(&reg.peer_id);
                w.len(reg.multiaddrs.len());
                for a in &reg.multiaddrs {
                    w.str(a);
                }
                w.u8(seal_proof_tag(reg.seal_proof));
                w.u128(reg.price_per_byte_epoch);
                w.u64(reg.capacity);
                w.u128(reg.collateral);
            }
            TxBody::UpdateProvider {
                provider,
                peer_id,
                multiaddrs,
                price_per_byte_epoch,
                capacity,
            } => {
                w.u8(11);
                w.put(provider);
                w.bytes(peer_id);
                w.len(multiaddrs.len());
                for a in multiaddrs {
                    w.str(a);
                }
                w.u128(*price_per_byte_epoch);
                w.u64(*capacity);
            }
            TxBody::AddCollateral { provider, amount } => {
                w.u8(4);
                w.put(provider);
                w.u128(*amount);
            }
            TxBody::WithdrawCollateral { provider, amount } => {
                w.u8(5);
                w.put(provider);
                w.u128(*amount);
            }
            TxBody::PublishDeals { deals, manifest } => {
                w.u8(6);
                w.list(deals);
                w.option(manifest.as_ref());
            }
            TxBody::PreCommitSector {
                provider,
                sector,
                deals,
                comm_r,
                ticket_epoch,
                expiration,
                deposit,
            } => {
                w.u8(7);
                w.put(provider);
                w.put(sector);
                w.list(deals);
                w.put(comm_r);
                w.put(ticket_epoch);
                w.put(expiration);
                w.u128(*deposit);
            }
            TxBody::ProveCommitSector {
                provider,
                sector,
                proof,
            } => {
                w.u8(8);
                w.put(provider);
                w.put(sector);
                w.bytes(proof);
            }
            TxBody::SubmitWindowPost {
                provider,
                deadline,
                proof,
            } => {
                w.u8(9);
                w.put(provider);
                w.u64(*deadline);
                w.bytes(proof);
            }
            TxBody::DeclareRecovery { provider, sectors } => {
                w.u8(10);
                w.put(provider);
                w.list(sectors);
            }
            TxBody::DeclareFaults { provider, sectors } => {
                w.u8(12);
                w.put(provider);
                w.list(sectors);
            }
        }
    }
}

impl Decode for TxBody {
    const MIN_LEN: usize = 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8("tx kind")? {
            0 => TxBody::Transfer {
                to: Address::decode(r)?,
                amount: r.u128("amount")?,
            },
            1 => TxBody::EscrowAdd {
                amount: r.u128("amount")?,
            },
            2 => TxBody::EscrowWithdraw {
                amount: r.u128("amount")?,
            },
            3 => {
                let worker = PublicKey::decode(r)?;
                let peer_id = r.bytes(MAX_PEER_ID, "peer id")?;
                let multiaddrs = multiaddrs_decode(r)?;
                TxBody::RegisterProvider(Registration {
                    worker,
                    peer_id,
                    multiaddrs,
                    seal_proof: seal_proof_decode(r)?,
                    price_per_byte_epoch: r.u128("price")?,
                    capacity: r.u64("capacity")?,
                    collateral: r.u128("collateral")?,
                })
            }
            4 => TxBody::AddCollateral {
                provider: ProviderId::decode(r)?,
                amount: r.u128("amount")?,
            },
            5 => TxBody::WithdrawCollateral {
                provider: ProviderId::decode(r)?,
                amount: r.u128("amount")?,
            },
            6 => TxBody::PublishDeals {
                deals: r.list(MAX_DEALS_PER_TX, "deals")?,
                manifest: r.option("manifest")?,
            },
            7 => TxBody::PreCommitSector {
                provider: ProviderId::decode(r)?,
                sector: SectorNumber::decode(r)?,
                deals: r.list(MAX_DEALS_PER_SECTOR, "sector deals")?,
                comm_r: CommR::decode(r)?,
                ticket_epoch: Epoch::decode(r)?,
                expiration: Epoch::decode(r)?,
                deposit: r.u128("deposit")?,
            },
            8 => TxBody::ProveCommitSector {
                provider: ProviderId::decode(r)?,
                sector: SectorNumber::decode(r)?,
                proof: r.bytes(MAX_PROOF, "proof")?,
            },
            9 => TxBody::SubmitWindowPost {
                provider: ProviderId::decode(r)?,
                deadline: r.u64("deadline")?,
                proof: r.bytes(MAX_PROOF, "proof")?,
            },
            10 => TxBody::DeclareRecovery {
                provider: ProviderId::decode(r)?,
                sectors: r.list(MAX_SECTORS_PER_TX, "sectors")?,
            },
            11 => TxBody::UpdateProvider {
                provider: ProviderId::decode(r)?,
                peer_id: r.bytes(MAX_PEER_ID, "peer id")?,
                multiaddrs: multiaddrs_decode(r)?,
                price_per_byte_epoch: r.u128("price")?,
                capacity: r.u64("capacity")?,
            },
            12 => TxBody::DeclareFaults {
                provider: ProviderId::decode(r)?,
                sectors: r.list(MAX_SECTORS_PER_TX, "sectors")?,
            },
            tag => {
                return Err(DecodeError::BadTag {
                    what: "tx kind",
                    tag,
                });
            }
        })
    }
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    /// The chain it is for.
    pub chain_id: u64,
    /// The sender's next nonce.
    pub nonce: u64,
    /// The sender's key; the sender is its address.
    pub signer: PublicKey,
    /// What it does.
    pub body: TxBody,
}

impl Tx {
    /// The sender.
    pub fn sender(&self) -> Address {
        self.signer.address()
    }
}

impl Encode for Tx {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.chain_id);
        w.u64(self.nonce);
        w.put(&self.signer);
        w.put(&self.body);
    }
}

impl Decode for Tx {
    const MIN_LEN: usize = 8 + 8 + 32 + 1;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: r.u64("chain id")?,
            nonce: r.u64("nonce")?,
            signer: PublicKey::decode(r)?,
            body: TxBody::decode(r)?,
        })
    }
}

/// Version byte of the signed transaction format.
pub const TX_VERSION: u8 = 1;

/// A transaction with its sender's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The transaction.
    pub tx: Tx,
    /// Ed25519 over [`TX_DOMAIN`] and the encoded `tx`.
    pub signature: Signature,
}

impl SignedTx {
    /// Whether the signature is the signer's.
    pub fn signature_valid(&self) -> bool {
        self.tx
            .signer
            .verify(TX_DOMAIN, &self.tx.to_bytes(), &self.signature)
    }

    /// SHA-256 of the encoding: the transaction's id.
    pub fn hash(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.to_bytes()).into()
    }
}

impl Encode for SignedTx {
    fn encode(&self, w: &mut Writer) {
        w.u8(TX_VERSION);
        w.put(&self.tx);
        w.put(&self.signature);
    }
}

impl Decode for SignedTx {
    const MIN_LEN: usize = 1 + Tx::MIN_LEN + 64;
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("tx version")? {
            TX_VERSION => {}
            tag => {
                return Err(DecodeError::BadTag {
                    what: "tx version",
                    tag,
                });
            }
        }
        Ok(Self {
            tx: Tx::decode(r)?,
            signature: Signature::decode(r)?,
        })
    }
}
