//! What applying a transaction or an epoch tick did ([`Event`]), and a
//! transaction's [`Receipt`]: its events, or the typed reason it was
//! refused ([`Refusal`]). A refused transaction changes nothing, its
//! sender's nonce included.

use cairn_proofs::sector::SealProof;

use crate::ids::{Address, Amount, DealId, Epoch, ManifestId, ProviderId, SectorNumber};

/// Which side of a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client.
    Client,
    /// The provider.
    Provider,
}

/// One effect, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Tokens moved between balances.
    Transferred {
        /// Payer.
        from: Address,
        /// Payee.
        to: Address,
        /// How much.
        amount: Amount,
    },
    /// Balance to escrow.
    EscrowAdded {
        /// Whose.
        who: Address,
        /// How much.
        amount: Amount,
    },
    /// Escrow to balance.
    EscrowWithdrawn {
        /// Whose.
        who: Address,
        /// How much.
        amount: Amount,
    },
    /// A provider registered.
    ProviderRegistered {
        /// Its id.
        provider: ProviderId,
        /// Its owner.
        owner: Address,
        /// Its sector size.
        seal_proof: SealProof,
    },
    /// A provider changed its addresses, ask or capacity.
    ProviderUpdated {
        /// Its id.
        provider: ProviderId,
    },
    /// Collateral added (positive) or withdrawn.
    CollateralChanged {
        /// The provider.
        provider: ProviderId,
        /// Added.
        added: Amount,
        /// Withdrawn.
        withdrawn: Amount,
    },
    /// A deal was published and its funds locked.
    DealPublished {
        /// Its id.
        deal: DealId,
        /// The client.
        client: Address,
        /// The provider.
        provider: ProviderId,
    },
    /// An upload manifest was stored.
    ManifestPublished {
        /// Its id.
        manifest: ManifestId,
    },
    /// A sector was pre-committed.
    SectorPreCommitted {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// When its interactive seed is drawn.
        seed_epoch: Epoch,
    },
    /// A sector's PoRep verified; it is proven at `deadline` each period.
    SectorActivated {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// Its deadline index.
        deadline: u64,
    },
    /// A deal's sector was proven; it pays from its start.
    DealActivated {
        /// The deal.
        deal: DealId,
    },
    /// A WindowPoSt verified.
    WindowPostAccepted {
        /// The provider.
        provider: ProviderId,
        /// The deadline index.
        deadline: u64,
        /// Sectors proven.
        sectors: u64,
    },
    /// Client escrow paid to the provider for epochs up to `until`.
    DealPaid {
        /// The deal.
        deal: DealId,
        /// Paid.
        amount: Amount,
        /// Paid up to (exclusive).
        until: Epoch,
    },
    /// A stretch not proven: the client's locked payment returned to it.
    DealSkipped {
        /// The deal.
        deal: DealId,
        /// Returned to the client.
        returned: Amount,
        /// Skipped up to (exclusive).
        until: Epoch,
    },
    /// A sector missed its deadline and was charged.
    SectorFaulty {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// Burnt from the provider's collateral.
        fee: Amount,
        /// Consecutive deadlines missed.
        faults: u64,
    },
    /// The provider declared a sector it cannot prove.
    SectorFaultDeclared {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
    },
    /// A faulty sector will be proven at its next deadline.
    SectorRecovering {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
    },
    /// A sector was faulty too long; it never pays again.
    SectorTerminated {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
    },
    /// A terminated deal: the client gets its unspent payment, its
    /// collateral and the provider's deal collateral.
    DealTerminated {
        /// The deal.
        deal: DealId,
        /// The provider's collateral paid to the client.
        compensation: Amount,
    },
    /// A deal not activated by its start epoch: the provider's collateral
    /// is burnt, the client's funds unlocked.
    DealCancelled {
        /// The deal.
        deal: DealId,
        /// Burnt.
        slashed: Amount,
    },
    /// A deal ran to its end: both collaterals unlocked.
    DealExpired {
        /// The deal.
        deal: DealId,
    },
    /// A sector reached its expiration.
    SectorExpired {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
    },
    /// A pre-commit was not proven in time; its deposit is burnt.
    PreCommitExpired {
        /// The provider.
        provider: ProviderId,
        /// The sector.
        sector: SectorNumber,
        /// Burnt.
        burnt: Amount,
    },
    /// Block reward for an epoch, paid to the owner's balance.
    Reward {
        /// The provider.
        provider: ProviderId,
        /// The epoch rewarded.
        epoch: Epoch,
        /// Paid.
        amount: Amount,
    },
}

/// Why a transaction was refused. It changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The transaction's signature is not its signer's.
    #[error("bad transaction signature")]
    BadSignature,
    /// Signed for another chain.
    #[error("chain id {got}, this chain is {expected}")]
    WrongChain {
        /// This chain.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// Not the sender's next nonce (a replay, or a gap).
    #[error("nonce {got}, expected {expected}")]
    BadNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// Not enough balance.
    #[error("balance {have} is less than {need}")]
    InsufficientBalance {
        /// Required.
        need: Amount,
        /// Available.
        have: Amount,
    },
    /// Not enough unlocked escrow.
    #[error("{who}: unlocked escrow {have} is less than {need}")]
    InsufficientEscrow {
        /// Whose escrow.
        who: Address,
        /// Required.
        need: Amount,
        /// Available.
        have: Amount,
    },
    /// Not enough free provider collateral.
    #[error("provider {provider}: free collateral {have} is less than {need}")]
    InsufficientCollateral {
        /// The provider.
        provider: ProviderId,
        /// Required.
        need: Amount,
        /// Available.
        have: Amount,
    },
    /// A zero amount, or an amount that overflows.
    #[error("amount {amount} is zero or overflows")]
    BadAmount {
        /// The amount.
        amount: Amount,
    },
    /// A sector size genesis does not allow.
    #[error("sector size {seal_proof:?} is not allowed by genesis")]
    SealProofNotAllowed {
        /// The proof asked for.
        seal_proof: SealProof,
    },
    /// No such provider.
    #[error("unknown provider {provider}")]
    UnknownProvider {
        /// The id.
        provider: ProviderId,
    },
    /// The signer is not the provider's owner (money) or worker (sectors).
    #[error("the signer is not provider {provider}'s {role}")]
    NotAuthorized {
        /// The provider.
        provider: ProviderId,
        /// "owner" or "worker".
        role: &'static str,
    },
    /// A deal's signature, by `side`, does not verify.
    #[error("deal {index}: the {side:?}'s signature does not verify")]
    DealSignature {
        /// Position in the transaction.
        index: usize,
        /// Whose signature.
        side: Side,
    },
    /// A deal whose terms break a rule.
    #[error("deal {index}: {rule}")]
    DealTerms {
        /// Position in the transaction.
        index: usize,
        /// The rule broken.
        rule: &'static str,
    },
    /// A manifest that does not describe the deals it came with.
    #[error("manifest: {rule}")]
    BadManifest {
        /// The rule broken.
        rule: &'static str,
    },
    /// No deals, or too many.
    #[error("{what}: {got} items, allowed 1..={max}")]
    Count {
        /// What was counted.
        what: &'static str,
        /// Given.
        got: usize,
        /// Allowed.
        max: usize,
    },
    /// No such deal.
    #[error("unknown deal {deal}")]
    UnknownDeal {
        /// The id.
        deal: DealId,
    },
    /// A deal that cannot go in this sector (other provider, already in a
    /// sector, not published, started, or listed twice).
    #[error("deal {deal}: {why}")]
    DealUnavailable {
        /// The deal.
        deal: DealId,
        /// Why.
        why: &'static str,
    },
    /// The deals' pieces do not fit the sector.
    #[error("the deals' pieces do not fit a {sector_size}-byte sector")]
    PiecesDoNotFit {
        /// The provider's sector size.
        sector_size: u64,
    },
    /// A sector number already used by this provider.
    #[error("sector {sector} already exists")]
    SectorExists {
        /// The sector.
        sector: SectorNumber,
    },
    /// No such pre-commit or sector.
    #[error("unknown sector {sector}")]
    UnknownSector {
        /// The sector.
        sector: SectorNumber,
    },
    /// An epoch argument out of its window.
    #[error("{what}: epoch {got} is outside {min}..={max}")]
    EpochOutOfRange {
        /// Which epoch.
        what: &'static str,
        /// Given.
        got: Epoch,
        /// Earliest allowed.
        min: Epoch,
        /// Latest allowed.
        max: Epoch,
    },
    /// The PoRep proof did not verify.
    #[error("PoRep proof refused: {reason}")]
    PorepInvalid {
        /// The verifier's reason.
        reason: String,
    },
    /// The WindowPoSt proof did not verify.
    #[error("WindowPoSt proof refused: {reason}")]
    PostInvalid {
        /// The verifier's reason.
        reason: String,
    },
    /// Not the deadline whose window is open now.
    #[error("deadline {deadline} is not open; deadline {open} is")]
    DeadlineNotOpen {
        /// Asked.
        deadline: u64,
        /// Open now.
        open: u64,
    },
    /// This window was already proven.
    #[error("deadline {deadline} already proven in this period")]
    AlreadyProven {
        /// The deadline.
        deadline: u64,
    },
    /// The deadline has no sector to prove.
    #[error("deadline {deadline} has no sector to prove")]
    NothingToProve {
        /// The deadline.
        deadline: u64,
    },
    /// A sector not in the state the operation needs.
    #[error("sector {sector}: {why}")]
    SectorState {
        /// The sector.
        sector: SectorNumber,
        /// Why.
        why: &'static str,
    },
    /// The randomness needed is not held (too old or in the future).
    #[error("no randomness for epoch {epoch}")]
    NoRandomness {
        /// The epoch.
        epoch: Epoch,
    },
}

/// A transaction's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction's hash ([`crate::tx::SignedTx::hash`]).
    pub tx: [u8; 32],
    /// Its events, or why it was refused.
    pub result: Result<Vec<Event>, Refusal>,
}

impl Receipt {
    /// Whether it was applied.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}
