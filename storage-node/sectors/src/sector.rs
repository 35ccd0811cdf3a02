//! One sector's life after packing, as a state machine.
//!
//! The node's shell runs the phases (PC1, PC2, C1, C2 in `cairn-proofs`),
//! talks to the ledger and keeps the journal; this module decides. Every
//! event the shell observes goes through [`Sector::apply`], which checks it
//! fits the current state, updates the record and says what to do next
//! ([`Action`]). The shell persists the record after each applied event
//! and before it acts, so a node killed at any point replays to the same
//! state and repeats at most the one action it had not finished, whose
//! outputs are deterministic (the ticket is fixed before PC1, so a
//! repeated PC1 yields the same replica and CommR).
//!
//! States use the spellings `cairn-node sectors list --json` prints:
//! `packing` (still in the [`Packer`](crate::pack::Packer)), `pc1`, `pc2`,
//! `precommitted` (PreCommitSector sent, not yet on the ledger),
//! `waiting_seed`, `c1`, `c2` (until ProveCommitSector lands), `proving`,
//! `faulty`, `terminated`.

use crate::pack::Piece;

/// Where a sector is. Serialized with the spellings of [`State::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum State {
    /// Still taking pieces.
    #[serde(rename = "packing")]
    Packing,
    /// Labelling the layers (PreCommit phase 1).
    #[serde(rename = "pc1")]
    Pc1,
    /// Building the replica's trees (PreCommit phase 2).
    #[serde(rename = "pc2")]
    Pc2,
    /// PreCommitSector submitted.
    #[serde(rename = "precommitted")]
    PreCommitted,
    /// On the ledger; waiting for the interactive seed's epoch.
    #[serde(rename = "waiting_seed")]
    WaitingSeed,
    /// Vanilla proofs for the seed's challenges (Commit phase 1).
    #[serde(rename = "c1")]
    C1,
    /// The Groth16 proof, then ProveCommitSector until it lands.
    #[serde(rename = "c2")]
    C2,
    /// Active: proven every deadline.
    #[serde(rename = "proving")]
    Proving,
    /// Missed a deadline or failed its check; proven again after recovery.
    #[serde(rename = "faulty")]
    Faulty,
    /// Ended: expired, terminated by the ledger, or never committed.
    #[serde(rename = "terminated")]
    Terminated,
}

impl State {
    /// Every state, in pipeline order (for metrics and tables).
    pub const ALL: [State; 10] = [
        State::Packing,
        State::Pc1,
        State::Pc2,
        State::PreCommitted,
        State::WaitingSeed,
        State::C1,
        State::C2,
        State::Proving,
        State::Faulty,
        State::Terminated,
    ];
}

impl State {
    /// The fixed spelling scripts depend on.
    pub fn name(self) -> &'static str {
        match self {
            State::Packing => "packing",
            State::Pc1 => "pc1",
            State::Pc2 => "pc2",
            State::PreCommitted => "precommitted",
            State::WaitingSeed => "waiting_seed",
            State::C1 => "c1",
            State::C2 => "c2",
            State::Proving => "proving",
            State::Faulty => "faulty",
            State::Terminated => "terminated",
        }
    }
}

/// The ledger's timing rules a sector must meet (docs/ledger.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Epochs from PreCommit to the seed's epoch.
    pub seed_wait: u64,
    /// Epochs after PreCommit by which ProveCommit must land.
    pub max_prove_commit_wait: u64,
    /// The oldest ticket a PreCommit may use, in epochs before it lands
    /// (the shell picks tickets by it; a refusal re-seals, see below).
    pub max_ticket_age: u64,
}

/// What happened, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The sector was closed by the packer; its pieces are staged and PC1
    /// starts with the ticket of `ticket_epoch`.
    Staged {
        /// The ticket's epoch (its randomness is read from the ledger).
        ticket_epoch: u64,
    },
    /// PC1 finished.
    Pc1Done,
    /// PC2 finished.
    Pc2Done {
        /// The data commitment.
        comm_d: [u8; 32],
        /// The replica commitment.
        comm_r: [u8; 32],
    },
    /// PreCommitSector is on the ledger, applied at `epoch`.
    PreCommitLanded {
        /// The epoch it took effect.
        epoch: u64,
    },
    /// The ledger reached `epoch`.
    Epoch(u64),
    /// C1 finished.
    C1Done,
    /// C2 finished and ProveCommitSector was sent.
    ProofSent,
    /// ProveCommitSector is on the ledger: the sector is active.
    ProveCommitLanded,
    /// The ledger refused a transaction of this sector's (the reason is
    /// kept for the operator).
    Refused(String),
    /// The sector's files failed their check, or it missed a deadline.
    Fault(String),
    /// The files check out again and DeclareRecovery was sent.
    Recovered,
    /// The ledger ended the sector (expired or terminated).
    Ended,
}

/// What the shell should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run PC1 with the ticket of this epoch.
    RunPc1 {
        /// The ticket's epoch.
        ticket_epoch: u64,
    },
    /// Run PC2.
    RunPc2,
    /// Send PreCommitSector with these commitments.
    SubmitPreCommit {
        /// The replica commitment.
        comm_r: [u8; 32],
        /// The ticket's epoch.
        ticket_epoch: u64,
    },
    /// Run C1 with the seed of this epoch.
    RunC1 {
        /// The seed's epoch.
        seed_epoch: u64,
    },
    /// Run C2 and send ProveCommitSector.
    RunC2,
    /// Tell the operator (logs, `sectors status`).
    Report(String),
}

/// An event that does not fit the sector's state (a bug in the shell, or
/// a journal out of step with the ledger).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sector {sector} is {state}: {event} does not apply")]
pub struct Misplaced {
    /// The sector.
    pub sector: u64,
    /// Its state's name.
    pub state: &'static str,
    /// The event, shown.
    pub event: String,
}

/// One sector's record: what the journal keeps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sector {
    /// Its number.
    pub number: u64,
    /// Where it is.
    pub state: State,
    /// Its pieces, in staging order.
    pub pieces: Vec<Piece>,
    /// The ticket's epoch, fixed before PC1.
    pub ticket_epoch: Option<u64>,
    /// CommD, after PC2.
    pub comm_d: Option<[u8; 32]>,
    /// CommR, after PC2.
    pub comm_r: Option<[u8; 32]>,
    /// When PreCommitSector took effect.
    pub precommit_epoch: Option<u64>,
    /// The last problem, for the operator.
    pub error: Option<String>,
}

impl Sector {
    /// A sector the packer just closed.
    pub fn new(number: u64, pieces: Vec<Piece>) -> Self {
        Self {
            number,
            state: State::Packing,
            pieces,
            ticket_epoch: None,
            comm_d: None,
            comm_r: None,
            precommit_epoch: None,
            error: None,
        }
    }

    /// The epoch whose randomness is the interactive seed.
    pub fn seed_epoch(&self, t: &Timing) -> Option<u64> {
        self.precommit_epoch.map(|e| e + t.seed_wait)
    }

    /// Applies `event`; returns what to do next. A misplaced event changes
    /// nothing.
    pub fn apply(&mut self, event: Event, t: &Timing) -> Result<Vec<Action>, Misplaced> {
        use State as S;
        let misplaced = |s: &Sector, e: &Event| Misplaced {
            sector: s.number,
            state: s.state.name(),
            event: format!("{e:?}"),
        };
        let actions = match (self.state, &event) {
            (S::Packing, Event::Staged { ticket_epoch }) => {
                self.ticket_epoch = Some(*ticket_epoch);
                self.state = S::Pc1;
                vec![Action::RunPc1 {
                    ticket_epoch: *ticket_epoch,
                }]
            }
            (S::Pc1, Event::Pc1Done) => {
                self.state = S::Pc2;
                vec![Action::RunPc2]
            }
            (S::Pc2, Event::Pc2Done { comm_d, comm_r }) => {
                let ticket_epoch = self.ticket_epoch.ok_or_else(|| misplaced(self, &event))?;
                self.comm_d = Some(*comm_d);
                self.comm_r = Some(*comm_r);
                self.state = S::PreCommitted;
                vec![Action::SubmitPreCommit {
                    comm_r: *comm_r,
                    ticket_epoch,
                }]
            }
            (S::PreCommitted, Event::PreCommitLanded { epoch }) => {
                self.precommit_epoch = Some(*epoch);
                self.state = S::WaitingSeed;
                Vec::new()
            }
            // Past the ledger's limit for ProveCommit: the deposit is
            // burnt and the sector will never be active.
            (S::WaitingSeed | S::C1 | S::C2, Event::Epoch(now))
                if self
                    .precommit_epoch
                    .is_some_and(|p| *now > p + t.max_prove_commit_wait) =>
            {
                self.end(format!(
                    "not proven by epoch {}: the pre-commit deposit is lost",
                    self.precommit_epoch.unwrap_or(0) + t.max_prove_commit_wait
                ))
            }
            (S::WaitingSeed, Event::Epoch(now)) => {
                let seed = self.seed_epoch(t).ok_or_else(|| misplaced(self, &event))?;
                if *now > seed {
                    self.state = S::C1;
                    vec![Action::RunC1 { seed_epoch: seed }]
                } else {
                    Vec::new()
                }
            }
            (S::C1, Event::C1Done) => {
                self.state = S::C2;
                vec![Action::RunC2]
            }
            (S::C2, Event::ProofSent) => Vec::new(),
            (S::C2, Event::ProveCommitLanded) => {
                self.state = S::Proving;
                self.error = None;
                vec![Action::Report(format!("sector {} is active", self.number))]
            }
            (S::C1 | S::C2, Event::Epoch(_)) => Vec::new(),
            // A ticket older than the ledger accepts: sealing must start
            // over with a new ticket (a new replica, new CommR).
            (S::PreCommitted, Event::Refused(why)) => {
                self.error = Some(why.clone());
                self.state = S::Packing;
                self.ticket_epoch = None;
                self.comm_d = None;
                self.comm_r = None;
                vec![Action::Report(format!(
                    "sector {}: PreCommitSector refused ({why}); sealing again with a new ticket",
                    self.number
                ))]
            }
            (S::C2, Event::Refused(why)) => {
                self.error = Some(why.clone());
                vec![Action::Report(format!(
                    "sector {}: ProveCommitSector refused: {why}",
                    self.number
                ))]
            }
            (S::Proving, Event::Fault(why)) => {
                self.error = Some(why.clone());
                self.state = S::Faulty;
                vec![Action::Report(format!(
                    "sector {} is faulty: {why}",
                    self.number
                ))]
            }
            (S::Faulty, Event::Fault(why)) => {
                self.error = Some(why.clone());
                Vec::new()
            }
            (S::Faulty, Event::Recovered) => {
                self.state = S::Proving;
                self.error = None;
                vec![Action::Report(format!("sector {} recovered", self.number))]
            }
            (S::Proving | S::Faulty, Event::Ended) => self.end("ended on the ledger".into()),
            (S::Proving | S::Faulty, Event::Epoch(_)) => Vec::new(),
            (S::Terminated, Event::Epoch(_) | Event::Ended) => Vec::new(),
            _ => return Err(misplaced(self, &event)),
        };
        Ok(actions)
    }

    fn end(&mut self, why: String) -> Vec<Action> {
        self.state = State::Terminated;
        let report = format!("sector {} terminated: {why}", self.number);
        self.error = Some(why);
        vec![Action::Report(report)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timing = Timing {
        seed_wait: 5,
        max_prove_commit_wait: 40,
        max_ticket_age: 100,
    };

    fn sector() -> Sector {
        Sector::new(
            3,
            vec![Piece {
                deal: 1,
                comm_p: [1; 32],
                padded: 2048,
                start_epoch: 500,
                end_epoch: 900,
            }],
        )
    }

    #[test]
    fn a_sector_walks_from_staging_to_proving_and_asks_for_each_phase() {
        let mut s = sector();
        assert_eq!(
            s.apply(Event::Staged { ticket_epoch: 9 }, &T).unwrap(),
            vec![Action::RunPc1 { ticket_epoch: 9 }]
        );
        assert_eq!(s.apply(Event::Pc1Done, &T).unwrap(), vec![Action::RunPc2]);
        let done = Event::Pc2Done {
            comm_d: [4; 32],
            comm_r: [5; 32],
        };
        assert_eq!(
            s.apply(done, &T).unwrap(),
            vec![Action::SubmitPreCommit {
                comm_r: [5; 32],
                ticket_epoch: 9
            }]
        );
        assert_eq!(s.state.name(), "precommitted");
        s.apply(Event::PreCommitLanded { epoch: 20 }, &T).unwrap();
        assert_eq!(s.state.name(), "waiting_seed");
        assert!(
            s.apply(Event::Epoch(25), &T).unwrap().is_empty(),
            "seed epoch not past"
        );
        assert_eq!(
            s.apply(Event::Epoch(26), &T).unwrap(),
            vec![Action::RunC1 { seed_epoch: 25 }]
        );
        assert_eq!(s.apply(Event::C1Done, &T).unwrap(), vec![Action::RunC2]);
        s.apply(Event::ProofSent, &T).unwrap();
        s.apply(Event::ProveCommitLanded, &T).unwrap();
        assert_eq!(s.state.name(), "proving");
        s.apply(Event::Fault("leaf 7 unreadable".into()), &T)
            .unwrap();
        assert_eq!(
            (s.state.name(), s.error.as_deref()),
            ("faulty", Some("leaf 7 unreadable"))
        );
        s.apply(Event::Recovered, &T).unwrap();
        assert_eq!((s.state.name(), s.error.as_deref()), ("proving", None));
        s.apply(Event::Ended, &T).unwrap();
        assert_eq!(s.state.name(), "terminated");
    }

    #[test]
    fn events_out_of_order_are_refused_and_change_nothing() {
        let mut s = sector();
        let before = s.clone();
        for e in [
            Event::Pc1Done,
            Event::C1Done,
            Event::ProveCommitLanded,
            Event::PreCommitLanded { epoch: 1 },
            Event::Recovered,
        ] {
            let err = s.apply(e, &T).unwrap_err();
            assert_eq!(err.state, "packing");
            assert_eq!(s, before);
        }
    }

    #[test]
    fn a_proof_too_late_ends_the_sector_and_a_refused_precommit_reseals() {
        let mut s = sector();
        s.apply(Event::Staged { ticket_epoch: 1 }, &T).unwrap();
        s.apply(Event::Pc1Done, &T).unwrap();
        s.apply(
            Event::Pc2Done {
                comm_d: [0; 32],
                comm_r: [0; 32],
            },
            &T,
        )
        .unwrap();
        s.apply(Event::Refused("ticket too old".into()), &T)
            .unwrap();
        assert_eq!(
            (s.state, s.comm_r, s.ticket_epoch),
            (State::Packing, None, None)
        );

        s.apply(Event::Staged { ticket_epoch: 50 }, &T).unwrap();
        s.apply(Event::Pc1Done, &T).unwrap();
        s.apply(
            Event::Pc2Done {
                comm_d: [0; 32],
                comm_r: [1; 32],
            },
            &T,
        )
        .unwrap();
        s.apply(Event::PreCommitLanded { epoch: 60 }, &T).unwrap();
        s.apply(Event::Epoch(70), &T).unwrap();
        assert_eq!(s.state, State::C1);
        assert!(s.apply(Event::Epoch(100), &T).unwrap().is_empty());
        let a = s.apply(Event::Epoch(101), &T).unwrap();
        assert_eq!(s.state, State::Terminated);
        assert!(
            matches!(&a[..], [Action::Report(m)] if m.contains("deposit is lost")),
            "{a:?}"
        );

        // Also when the node was down through the whole seed wait.
        let mut late = sector();
        late.apply(Event::Staged { ticket_epoch: 1 }, &T).unwrap();
        late.apply(Event::Pc1Done, &T).unwrap();
        late.apply(
            Event::Pc2Done {
                comm_d: [0; 32],
                comm_r: [1; 32],
            },
            &T,
        )
        .unwrap();
        late.apply(Event::PreCommitLanded { epoch: 10 }, &T)
            .unwrap();
        late.apply(Event::Epoch(51), &T).unwrap();
        assert_eq!(
            late.state,
            State::Terminated,
            "no C1 for a sector past its limit"
        );
    }

    #[test]
    fn a_journaled_record_keeps_the_fixed_state_spellings() {
        let mut s = sector();
        for (state, name) in State::ALL.iter().map(|s| (*s, s.name())) {
            s.state = state;
            let json = serde_json::to_value(&s).unwrap();
            assert_eq!(json["state"], name, "{state:?}");
            let back: Sector = serde_json::from_value(json).unwrap();
            assert_eq!(back, s);
        }
    }
}
