//! A ledger test kit: keys, a genesis, signed transactions, and a
//! stand-in proof verifier.
//!
//! `HashVerifier` is a fake used only by tests of the ledger's
//! bookkeeping (real Groth16 proofs take minutes to make): it accepts a
//! proof exactly when it is the SHA-256 of the public values the proof is
//! about, so a proof made for other public values (another CommR, another
//! seed, other randomness, other sectors) is refused, as a real one would be.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cairn_ledger::codec::Encode;
use cairn_ledger::genesis::PinnedKeys;
use cairn_ledger::tx::{CLIENT_DEAL_DOMAIN, PROVIDER_DEAL_DOMAIN, TX_DOMAIN};
use cairn_ledger::verifier::{ProofVerifier, VerifyError};
use cairn_ledger::*;
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::pieces::{PieceInfo, comm_d};
use cairn_proofs::porep::PorepPublic;
use cairn_proofs::post::PublicSector;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::sector::{SealProof, WindowPostProof};
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

pub const P2K: SealProof = SealProof::StackedDrg2KiBV1_1;
pub const CHAIN: u64 = 7;

pub struct HashVerifier;

pub fn porep_proof(public: &PorepPublic) -> Vec<u8> {
    Sha256::new()
        .chain_update(b"porep")
        .chain_update(public.proof.id().to_le_bytes())
        .chain_update(public.prover_id.0)
        .chain_update(public.sector_id.0.to_le_bytes())
        .chain_update(public.ticket.0)
        .chain_update(public.seed)
        .chain_update(public.comm_d)
        .chain_update(public.comm_r)
        .finalize()
        .to_vec()
}

pub fn post_proof(post: WindowPostProof, r: &PostRandomness, sectors: &[PublicSector]) -> Vec<u8> {
    let mut h = Sha256::new()
        .chain_update(b"post")
        .chain_update(post.id().to_le_bytes())
        .chain_update(r.as_bytes());
    for s in sectors {
        h = h
            .chain_update(s.sector_id.0.to_le_bytes())
            .chain_update(s.comm_r);
    }
    h.finalize().to_vec()
}

impl ProofVerifier for HashVerifier {
    fn verify_porep(
        &self,
        p: SealProof,
        public: &PorepPublic,
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        if p == public.proof && proof == porep_proof(public) {
            Ok(())
        } else {
            Err(VerifyError::Invalid { partition: 0 })
        }
    }
    fn verify_window_post(
        &self,
        post: WindowPostProof,
        r: &PostRandomness,
        sectors: &[PublicSector],
        proof: &[u8],
    ) -> Result<(), VerifyError> {
        if proof == post_proof(post, r, sectors) {
            Ok(())
        } else {
            Err(VerifyError::Invalid { partition: 0 })
        }
    }
}

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub fn pubkey(k: &SigningKey) -> PublicKey {
    PublicKey(k.verifying_key().to_bytes())
}

pub fn addr(k: &SigningKey) -> Address {
    pubkey(k).address()
}

pub fn sign_with(k: &SigningKey, domain: &[u8], msg: &[u8]) -> Signature {
    Signature(
        k.sign(&cairn_ledger::ids::signing_bytes(domain, msg))
            .to_bytes(),
    )
}

/// The randomness the kit's beacon gives epoch `e`.
pub fn beacon(e: u64) -> [u8; 32] {
    Sha256::digest(e.to_le_bytes()).into()
}

pub fn genesis(accounts: &[(Address, Amount)], pool: Amount, params: Params) -> Genesis {
    Genesis {
        chain_id: CHAIN,
        params,
        accounts: accounts.iter().copied().collect(),
        reward_pool: pool,
        randomness: beacon(0),
        sector_sizes: BTreeMap::from([(
            P2K,
            PinnedKeys {
                porep: [1; 32],
                window_post: [2; 32],
            },
        )]),
    }
}

pub struct Kit {
    pub state: State,
}

impl Kit {
    pub fn new(g: &Genesis) -> Self {
        Self {
            state: State::from_genesis(g).unwrap(),
        }
    }

    pub fn signed(&self, k: &SigningKey, body: TxBody) -> SignedTx {
        let tx = Tx {
            chain_id: CHAIN,
            nonce: self.state.account(&addr(k)).nonce,
            signer: pubkey(k),
            body,
        };
        let signature = sign_with(k, TX_DOMAIN, &tx.to_bytes());
        SignedTx { tx, signature }
    }

    pub fn send(&mut self, k: &SigningKey, body: TxBody) -> Receipt {
        let tx = self.signed(k, body);
        self.state.apply_tx(&tx, &HashVerifier)
    }

    /// Sends and requires success.
    pub fn ok(&mut self, k: &SigningKey, body: TxBody) -> Vec<Event> {
        let r = self.send(k, body);
        r.result.unwrap_or_else(|e| panic!("refused: {e}"))
    }

    pub fn tick(&mut self) -> Vec<Event> {
        let e = self.state.epoch().0 + 1;
        self.state.tick(Epoch(e), beacon(e)).unwrap()
    }

    pub fn tick_to(&mut self, e: u64) -> Vec<Event> {
        let mut out = Vec::new();
        while self.state.epoch().0 < e {
            out.extend(self.tick());
        }
        out
    }

    pub fn register(
        &mut self,
        owner: &SigningKey,
        worker: &SigningKey,
        ask: Amount,
        collateral: Amount,
    ) -> ProviderId {
        let ev = self.ok(
            owner,
            TxBody::RegisterProvider(Registration {
                worker: pubkey(worker),
                peer_id: vec![0x12, 0x20, 1, 2, 3],
                multiaddrs: vec!["/ip4/127.0.0.1/tcp/4001".into()],
                seal_proof: P2K,
                price_per_byte_epoch: ask,
                capacity: 1 << 40,
                collateral,
            }),
        );
        match ev.first() {
            Some(Event::ProviderRegistered { provider, .. }) => *provider,
            e => panic!("{e:?}"),
        }
    }

    /// The proof HashVerifier accepts for the PoRep of a pre-committed sector.
    pub fn porep_for(&self, provider: ProviderId, sector: SectorNumber) -> Vec<u8> {
        self.porep_with(provider, sector, None)
    }

    /// The same, but for another CommR than the pre-committed one.
    pub fn porep_with(
        &self,
        provider: ProviderId,
        sector: SectorNumber,
        comm_r: Option<CommR>,
    ) -> Vec<u8> {
        let pc = self.state.precommit(provider, sector).unwrap();
        let pieces: Vec<PieceInfo> = pc
            .deals
            .iter()
            .map(|d| {
                let p = &self.state.deal(*d).unwrap().proposal;
                PieceInfo::new(p.piece.0, p.piece_size).unwrap()
            })
            .collect();
        let public = PorepPublic {
            proof: P2K,
            prover_id: ProverId(provider.prover_id()),
            sector_id: SectorId(sector.0),
            ticket: Ticket(self.state.randomness(pc.ticket_epoch).unwrap()),
            seed: self
                .state
                .randomness(pc.epoch.plus(self.state.params().seed_wait))
                .unwrap(),
            comm_d: comm_d(P2K.sector_size(), &pieces).unwrap(),
            comm_r: comm_r.unwrap_or(pc.comm_r).0,
        };
        porep_proof(&public)
    }

    /// The proof HashVerifier accepts for the open deadline of `provider`.
    pub fn post_for(&self, provider: ProviderId) -> (u64, Vec<u8>) {
        let (deadline, open) = self.state.deadline_at(self.state.epoch());
        let sectors: Vec<PublicSector> = self
            .state
            .sectors_to_prove(provider, deadline, open)
            .into_iter()
            .map(|(n, c)| PublicSector {
                sector_id: SectorId(n.0),
                comm_r: c.0,
            })
            .collect();
        let r = PostRandomness::from_chain(self.state.randomness(open).unwrap());
        (deadline, post_proof(P2K.window_post(), &r, &sectors))
    }
}

pub fn deal(client: &SigningKey, worker: &SigningKey, proposal: DealProposal) -> SignedDeal {
    let bytes = proposal.to_bytes();
    SignedDeal {
        client_key: pubkey(client),
        client_sig: sign_with(client, CLIENT_DEAL_DOMAIN, &bytes),
        provider_sig: sign_with(worker, PROVIDER_DEAL_DOMAIN, &bytes),
        proposal,
    }
}

/// A piece commitment that is a valid field element.
pub fn piece(n: u8) -> CommP {
    let mut b = [n; 32];
    b[31] &= 0x3f;
    CommP(b)
}

pub fn proposal(
    client: &SigningKey,
    provider: ProviderId,
    n: u8,
    start: u64,
    end: u64,
) -> DealProposal {
    DealProposal {
        piece: piece(n),
        piece_size: 2048,
        client: addr(client),
        provider,
        label: b"bafyroot".to_vec(),
        start: Epoch(start),
        end: Epoch(end),
        price_per_epoch: 100,
        provider_collateral: 1000,
        client_collateral: 1000,
    }
}
