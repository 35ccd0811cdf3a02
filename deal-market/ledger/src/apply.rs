//! Applying a signed transaction: the envelope checks (signature, chain,
//! nonce), then the handler for its body.
//!
//! Every handler validates first and mutates after: all the checks that
//! can refuse run before the first write, and the writes that follow are
//! infallible (their amounts were checked against the balances they draw
//! on). A refusal therefore leaves the state exactly as it was, the
//! sender's nonce included; the tests compare state roots to hold this.

use crate::event::{Event, Receipt, Refusal};
use crate::ids::{Address, Amount, ProviderId, PublicKey, SectorNumber};
use crate::state::{Escrow, Provider, SectorStatus, State};
use crate::tx::{MAX_MULTIADDRS, Registration, SignedTx, TxBody};
use crate::verifier::ProofVerifier;

impl State {
    /// Applies one signed transaction at the current epoch.
    pub fn apply_tx(&mut self, tx: &SignedTx, verifier: &dyn ProofVerifier) -> Receipt {
        Receipt {
            tx: tx.hash(),
            result: self.apply_inner(tx, verifier),
        }
    }

    fn apply_inner(
        &mut self,
        stx: &SignedTx,
        verifier: &dyn ProofVerifier,
    ) -> Result<Vec<Event>, Refusal> {
        let tx = &stx.tx;
        if tx.chain_id != self.chain_id {
            return Err(Refusal::WrongChain {
                expected: self.chain_id,
                got: tx.chain_id,
            });
        }
        let sender = tx.sender();
        let expected = self.account(&sender).nonce;
        if tx.nonce != expected {
            return Err(Refusal::BadNonce {
                expected,
                got: tx.nonce,
            });
        }
        if !stx.signature_valid() {
            return Err(Refusal::BadSignature);
        }
        let events = match &tx.body {
            TxBody::Transfer { to, amount } => self.handle_transfer(sender, *to, *amount)?,
            TxBody::EscrowAdd { amount } => self.handle_escrow_add(sender, *amount)?,
            TxBody::EscrowWithdraw { amount } => self.handle_escrow_withdraw(sender, *amount)?,
            TxBody::RegisterProvider(reg) => self.handle_register(sender, reg)?,
            TxBody::UpdateProvider {
                provider,
                peer_id,
                multiaddrs,
                price_per_byte_epoch,
                capacity,
            } => self.handle_update_provider(
                sender,
                *provider,
                peer_id,
                multiaddrs,
                *price_per_byte_epoch,
                *capacity,
            )?,
            TxBody::AddCollateral { provider, amount } => {
                self.handle_add_collateral(sender, *provider, *amount)?
            }
            TxBody::WithdrawCollateral { provider, amount } => {
                self.handle_withdraw_collateral(sender, *provider, *amount)?
            }
            TxBody::PublishDeals { deals, manifest } => {
                self.handle_publish(deals, manifest.as_ref())?
            }
            TxBody::PreCommitSector {
                provider,
                sector,
                deals,
                comm_r,
                ticket_epoch,
                expiration,
                deposit,
            } => self.handle_precommit(
                &tx.signer,
                *provider,
                *sector,
                deals,
                *comm_r,
                *ticket_epoch,
                *expiration,
                *deposit,
            )?,
            TxBody::ProveCommitSector {
                provider,
                sector,
                proof,
            } => self.handle_prove_commit(&tx.signer, *provider, *sector, proof, verifier)?,
            TxBody::SubmitWindowPost {
                provider,
                deadline,
                proof,
            } => self.handle_window_post(&tx.signer, *provider, *deadline, proof, verifier)?,
            TxBody::DeclareRecovery { provider, sectors } => {
                self.handle_recovery(&tx.signer, *provider, sectors)?
            }
            TxBody::DeclareFaults { provider, sectors } => {
                self.handle_faults(&tx.signer, *provider, sectors)?
            }
        };
        // Every handler succeeded, so this is the first write of a refused
        // transaction's path that never happens.
        self.accounts.entry(sender).or_default().nonce = expected.saturating_add(1);
        Ok(events)
    }

    pub(crate) fn balance_of(&self, a: &Address) -> Amount {
        self.accounts.get(a).map_or(0, |x| x.balance)
    }

    pub(crate) fn free_escrow_of(&self, a: &Address) -> Amount {
        self.escrow.get(a).map_or(0, |x| x.free)
    }

    pub(crate) fn credit(&mut self, a: Address, amount: Amount) {
        let b = &mut self.accounts.entry(a).or_default().balance;
        *b = b.saturating_add(amount);
    }

    /// Draws `amount` from a balance already checked to hold it.
    pub(crate) fn debit(&mut self, a: Address, amount: Amount) {
        let b = &mut self.accounts.entry(a).or_default().balance;
        *b = b.saturating_sub(amount);
    }

    pub(crate) fn escrow_mut(&mut self, a: Address) -> &mut Escrow {
        self.escrow.entry(a).or_default()
    }

    fn need_balance(&self, a: &Address, amount: Amount) -> Result<(), Refusal> {
        if amount == 0 {
            return Err(Refusal::BadAmount { amount });
        }
        let have = self.balance_of(a);
        if have < amount {
            return Err(Refusal::InsufficientBalance { need: amount, have });
        }
        Ok(())
    }

    fn handle_transfer(
        &mut self,
        from: Address,
        to: Address,
        amount: Amount,
    ) -> Result<Vec<Event>, Refusal> {
        self.need_balance(&from, amount)?;
        self.debit(from, amount);
        self.credit(to, amount);
        Ok(vec![Event::Transferred { from, to, amount }])
    }

    fn handle_escrow_add(&mut self, who: Address, amount: Amount) -> Result<Vec<Event>, Refusal> {
        self.need_balance(&who, amount)?;
        self.debit(who, amount);
        let e = self.escrow_mut(who);
        e.free = e.free.saturating_add(amount);
        Ok(vec![Event::EscrowAdded { who, amount }])
    }

    fn handle_escrow_withdraw(
        &mut self,
        who: Address,
        amount: Amount,
    ) -> Result<Vec<Event>, Refusal> {
        let have = self.free_escrow_of(&who);
        if amount == 0 {
            return Err(Refusal::BadAmount { amount });
        }
        if have < amount {
            return Err(Refusal::InsufficientEscrow {
                who,
                need: amount,
                have,
            });
        }
        let e = self.escrow_mut(who);
        e.free = e.free.saturating_sub(amount);
        self.credit(who, amount);
        Ok(vec![Event::EscrowWithdrawn { who, amount }])
    }

    fn handle_register(
        &mut self,
        owner: Address,
        reg: &Registration,
    ) -> Result<Vec<Event>, Refusal> {
        if !self.sector_sizes.contains_key(&reg.seal_proof) {
            return Err(Refusal::SealProofNotAllowed {
                seal_proof: reg.seal_proof,
            });
        }
        if reg.multiaddrs.len() > MAX_MULTIADDRS {
            return Err(Refusal::Count {
                what: "multiaddrs",
                got: reg.multiaddrs.len(),
                max: MAX_MULTIADDRS,
            });
        }
        if reg.collateral < self.params.min_provider_collateral {
            return Err(Refusal::InsufficientCollateral {
                provider: ProviderId(self.next_provider),
                need: self.params.min_provider_collateral,
                have: reg.collateral,
            });
        }
        self.need_balance(&owner, reg.collateral)?;
        let id = ProviderId(self.next_provider);
        self.next_provider = self.next_provider.saturating_add(1);
        self.debit(owner, reg.collateral);
        self.providers.insert(
            id,
            Provider {
                owner,
                worker: reg.worker,
                peer_id: reg.peer_id.clone(),
                multiaddrs: reg.multiaddrs.clone(),
                seal_proof: reg.seal_proof,
                price_per_byte_epoch: reg.price_per_byte_epoch,
                capacity: reg.capacity,
                collateral: reg.collateral,
                deposits: 0,
                next_deadline: 0,
                proven: Default::default(),
            },
        );
        Ok(vec![
            Event::ProviderRegistered {
                provider: id,
                owner,
                seal_proof: reg.seal_proof,
            },
            Event::CollateralChanged {
                provider: id,
                added: reg.collateral,
                withdrawn: 0,
            },
        ])
    }

    fn handle_update_provider(
        &mut self,
        owner: Address,
        provider: ProviderId,
        peer_id: &[u8],
        multiaddrs: &[String],
        price_per_byte_epoch: Amount,
        capacity: u64,
    ) -> Result<Vec<Event>, Refusal> {
        self.owned_provider(owner, provider)?;
        if multiaddrs.len() > MAX_MULTIADDRS {
            return Err(Refusal::Count {
                what: "multiaddrs",
                got: multiaddrs.len(),
                max: MAX_MULTIADDRS,
            });
        }
        if let Some(p) = self.providers.get_mut(&provider) {
            p.peer_id = peer_id.to_vec();
            p.multiaddrs = multiaddrs.to_vec();
            p.price_per_byte_epoch = price_per_byte_epoch;
            p.capacity = capacity;
        }
        Ok(vec![Event::ProviderUpdated { provider }])
    }

    /// The provider, if `signer` is its owner.
    pub(crate) fn owned_provider(
        &self,
        owner: Address,
        provider: ProviderId,
    ) -> Result<&Provider, Refusal> {
        let p = self
            .providers
            .get(&provider)
            .ok_or(Refusal::UnknownProvider { provider })?;
        if p.owner != owner {
            return Err(Refusal::NotAuthorized {
                provider,
                role: "owner",
            });
        }
        Ok(p)
    }

    /// The provider, if `signer` is its worker key.
    pub(crate) fn worked_provider(
        &self,
        signer: &PublicKey,
        provider: ProviderId,
    ) -> Result<&Provider, Refusal> {
        let p = self
            .providers
            .get(&provider)
            .ok_or(Refusal::UnknownProvider { provider })?;
        if p.worker != *signer {
            return Err(Refusal::NotAuthorized {
                provider,
                role: "worker",
            });
        }
        Ok(p)
    }

    fn handle_add_collateral(
        &mut self,
        owner: Address,
        provider: ProviderId,
        amount: Amount,
    ) -> Result<Vec<Event>, Refusal> {
        self.owned_provider(owner, provider)?;
        self.need_balance(&owner, amount)?;
        self.debit(owner, amount);
        if let Some(p) = self.providers.get_mut(&provider) {
            p.collateral = p.collateral.saturating_add(amount);
        }
        Ok(vec![Event::CollateralChanged {
            provider,
            added: amount,
            withdrawn: 0,
        }])
    }

    fn handle_withdraw_collateral(
        &mut self,
        owner: Address,
        provider: ProviderId,
        amount: Amount,
    ) -> Result<Vec<Event>, Refusal> {
        let have = self.owned_provider(owner, provider)?.collateral;
        if amount == 0 {
            return Err(Refusal::BadAmount { amount });
        }
        // While the provider has sectors that can still fault (or
        // pre-commits that can still be proven), it keeps the registration
        // minimum, so fault fees always have collateral to come from.
        let committed = self
            .sectors
            .range((provider, SectorNumber(0))..=(provider, SectorNumber(u64::MAX)))
            .any(|(_, s)| !matches!(s.status, SectorStatus::Terminated | SectorStatus::Expired))
            || self
                .precommits
                .range((provider, SectorNumber(0))..=(provider, SectorNumber(u64::MAX)))
                .next()
                .is_some();
        let keep = if committed {
            self.params.min_provider_collateral
        } else {
            0
        };
        if have < amount.saturating_add(keep) {
            return Err(Refusal::InsufficientCollateral {
                provider,
                need: amount.saturating_add(keep),
                have,
            });
        }
        if let Some(p) = self.providers.get_mut(&provider) {
            p.collateral = p.collateral.saturating_sub(amount);
        }
        self.credit(owner, amount);
        Ok(vec![Event::CollateralChanged {
            provider,
            added: 0,
            withdrawn: amount,
        }])
    }
}
