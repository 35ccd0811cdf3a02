//! Property tests: random sequences of transactions and epoch ticks,
//! with the ledger's invariants checked after every step.
//!
//! - supply: balances + escrow + collateral + deposits + pool + burnt
//!   equals the genesis supply;
//! - no escrow below what the live deals lock (and no underflow anywhere:
//!   the ledger's saturating writes would break the supply equality);
//! - a refused transaction leaves the state root unchanged;
//! - only a verified WindowPoSt pays a deal (no `DealPaid` from a tick or
//!   from any other transaction);
//! - a deal of a terminated sector is never paid again.

mod common;

use std::collections::BTreeSet;

use cairn_ledger::*;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Transfer(u8, u8, u32),
    EscrowAdd(u8, u32),
    EscrowWithdraw(u8, u32),
    Publish {
        client: u8,
        start: u8,
        dur: u16,
        price: u16,
        n: u8,
    },
    PreCommit {
        deal: u8,
        expiry_extra: u8,
    },
    ProveCommit {
        sector: u8,
        good: bool,
    },
    Post {
        good: bool,
    },
    Recover {
        sector: u8,
    },
    Fault {
        sector: u8,
    },
    Tick(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u8..4, 0u32..50_000).prop_map(|(a, b, x)| Op::Transfer(a, b, x)),
        (0u8..4, 0u32..50_000).prop_map(|(a, x)| Op::EscrowAdd(a, x)),
        (0u8..4, 0u32..50_000).prop_map(|(a, x)| Op::EscrowWithdraw(a, x)),
        (0u8..3, 1u8..60, 30u16..200, 0u16..200, any::<u8>()).prop_map(
            |(client, start, dur, price, n)| Op::Publish {
                client,
                start,
                dur,
                price,
                n
            }
        ),
        (any::<u8>(), 0u8..80)
            .prop_map(|(deal, expiry_extra)| Op::PreCommit { deal, expiry_extra }),
        (any::<u8>(), prop::bool::weighted(0.8))
            .prop_map(|(sector, good)| Op::ProveCommit { sector, good }),
        prop::bool::weighted(0.7).prop_map(|good| Op::Post { good }),
        any::<u8>().prop_map(|sector| Op::Recover { sector }),
        any::<u8>().prop_map(|sector| Op::Fault { sector }),
        (1u8..16).prop_map(Op::Tick),
    ]
}

struct Run {
    kit: Kit,
    users: Vec<ed25519_dalek::SigningKey>,
    worker: ed25519_dalek::SigningKey,
    provider: ProviderId,
    next_sector: u64,
    terminated_deals: BTreeSet<DealId>,
    genesis: Genesis,
}

impl Run {
    fn new() -> Self {
        let users: Vec<_> = (1..=4).map(key).collect();
        let worker = key(20);
        let accounts: Vec<_> = users.iter().map(|k| (addr(k), 200_000)).collect();
        let g = genesis(&accounts, 10_000_000, Params::devnet());
        let mut kit = Kit::new(&g);
        // User 3 owns the provider.
        let provider = kit.register(&users[3], &worker, 0, 20_000);
        for u in &users {
            kit.ok(u, TxBody::EscrowAdd { amount: 100_000 });
        }
        Self {
            kit,
            genesis: g,
            users,
            worker,
            provider,
            next_sector: 1,
            terminated_deals: BTreeSet::new(),
        }
    }

    fn check(&self, events: &[Event], from_post: bool) {
        let s = &self.kit.state;
        assert_eq!(s.total_tokens(), Some(s.supply()), "supply");
        for (a, locked) in s.expected_locks() {
            assert_eq!(s.escrow(&a).locked, locked, "locks of {a}");
        }
        for e in events {
            if let Event::DealPaid { deal, .. } = e {
                assert!(from_post, "paid without a verified WindowPoSt: {e:?}");
                assert!(
                    !self.terminated_deals.contains(deal),
                    "terminated deal paid"
                );
            }
        }
    }

    fn step(&mut self, op: &Op) {
        let user = |i: u8| i as usize % 4;
        let (signer, body, is_post) = match *op {
            Op::Tick(n) => {
                for _ in 0..n {
                    let ev = self.kit.tick();
                    for e in &ev {
                        if let Event::DealTerminated { deal, .. } = e {
                            self.terminated_deals.insert(*deal);
                        }
                    }
                    self.check(&ev, false);
                }
                return;
            }
            Op::Transfer(a, b, x) => (
                self.users[user(a)].clone(),
                TxBody::Transfer {
                    to: addr(&self.users[user(b)]),
                    amount: x.into(),
                },
                false,
            ),
            Op::EscrowAdd(a, x) => (
                self.users[user(a)].clone(),
                TxBody::EscrowAdd { amount: x.into() },
                false,
            ),
            Op::EscrowWithdraw(a, x) => (
                self.users[user(a)].clone(),
                TxBody::EscrowWithdraw { amount: x.into() },
                false,
            ),
            Op::Publish {
                client,
                start,
                dur,
                price,
                n,
            } => {
                let c = &self.users[user(client)];
                let now = self.kit.state.epoch().0;
                let mut p = proposal(c, self.provider, n, now + u64::from(start), 0);
                p.end = p.start.plus(u64::from(dur) + 10);
                p.price_per_epoch = price.into();
                p.piece_size = 128 << (n % 5);
                let d = deal(c, &self.worker, p);
                (
                    self.worker.clone(),
                    TxBody::PublishDeals {
                        deals: vec![d],
                        manifest: None,
                    },
                    false,
                )
            }
            Op::PreCommit { deal, expiry_extra } => {
                let waiting: Vec<DealId> = self
                    .kit
                    .state
                    .deals_by_provider(self.provider)
                    .into_iter()
                    .filter(|d| {
                        let d = self.kit.state.deal(*d).unwrap();
                        d.state == state::DealState::Published && d.sector.is_none()
                    })
                    .collect();
                let id = waiting
                    .get(usize::from(deal) % waiting.len().max(1))
                    .copied()
                    .unwrap_or(DealId(1));
                let end = self.kit.state.deal(id).map_or(100, |d| d.proposal.end.0);
                let now = self.kit.state.epoch().0;
                let n = self.next_sector;
                self.next_sector += 1;
                (
                    self.worker.clone(),
                    TxBody::PreCommitSector {
                        provider: self.provider,
                        sector: SectorNumber(n),
                        deals: vec![id],
                        comm_r: CommR([n as u8 & 0x3f; 32]),
                        ticket_epoch: Epoch(now.saturating_sub(1)),
                        expiration: Epoch(end + u64::from(expiry_extra)),
                        deposit: 100,
                    },
                    false,
                )
            }
            Op::ProveCommit { sector, good } => {
                let pending: Vec<SectorNumber> = (1..self.next_sector)
                    .map(SectorNumber)
                    .filter(|n| self.kit.state.precommit(self.provider, *n).is_some())
                    .collect();
                let n = pending
                    .get(usize::from(sector) % pending.len().max(1))
                    .copied()
                    .unwrap_or(SectorNumber(1));
                let seed_known = self
                    .kit
                    .state
                    .precommit(self.provider, n)
                    .is_some_and(|pc| self.kit.state.randomness(pc.epoch.plus(5)).is_some());
                let proof = if !seed_known {
                    vec![1; 32]
                } else if good {
                    self.kit.porep_for(self.provider, n)
                } else {
                    self.kit
                        .porep_with(self.provider, n, Some(CommR([0x11; 32])))
                };
                (
                    self.worker.clone(),
                    TxBody::ProveCommitSector {
                        provider: self.provider,
                        sector: n,
                        proof,
                    },
                    false,
                )
            }
            Op::Post { good } => {
                let (deadline, mut proof) = self.kit.post_for(self.provider);
                if !good {
                    proof[0] ^= 1;
                }
                (
                    self.worker.clone(),
                    TxBody::SubmitWindowPost {
                        provider: self.provider,
                        deadline,
                        proof,
                    },
                    true,
                )
            }
            Op::Recover { sector } => (
                self.worker.clone(),
                TxBody::DeclareRecovery {
                    provider: self.provider,
                    sectors: vec![SectorNumber(
                        u64::from(sector) % self.next_sector.max(1) + 1,
                    )],
                },
                false,
            ),
            Op::Fault { sector } => (
                self.worker.clone(),
                TxBody::DeclareFaults {
                    provider: self.provider,
                    sectors: vec![SectorNumber(
                        u64::from(sector) % self.next_sector.max(1) + 1,
                    )],
                },
                false,
            ),
        };
        let root = self.kit.state.root();
        let r = self.kit.send(&signer, body);
        match &r.result {
            Ok(ev) => {
                if is_post {
                    assert!(
                        matches!(op, Op::Post { good: true }),
                        "a bad proof was accepted"
                    );
                }
                self.check(ev, is_post);
            }
            Err(_) => assert_eq!(self.kit.state.root(), root, "refusal changed the state"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_sequence(ops in prop::collection::vec(op(), 1..250)) {
        let mut run = Run::new();
        for op in &ops {
            run.step(op);
        }
        // Terminated sectors stay terminated and their deals stay ended.
        for d in &run.terminated_deals {
            let deal = run.kit.state.deal(*d).unwrap();
            prop_assert_eq!(deal.state, state::DealState::Terminated);
        }
        // A snapshot decodes to the very state, indexes included.
        let back = State::from_snapshot(&run.genesis, &run.kit.state.snapshot()).unwrap();
        prop_assert_eq!(&back, &run.kit.state);
    }
}
