//! The proofs the `porep_proof`, `post_proof` and `proofs_phase_outputs`
//! oracles know to be honest: real 2 KiB seals made by the seed generator
//! (`tests/seeds/proofs.rs`) and committed under `fixtures/`, compiled in
//! so that a fuzz binary needs no files and no sealing at start-up.
//!
//! - `fixtures/2kib-commit1.bin`: the Commit 1 output of one sector
//!   (public inputs and its one partition's vanilla PoRep proof);
//! - `fixtures/2kib-window-post.bin`: a WindowPoSt partition proving that
//!   sector and a second one for [`POST_RANDOMNESS`]. The ledger's view of
//!   the sectors (number and CommR) is read off the proof, since CommR is
//!   Poseidon(CommC, CommRLast).
//!
//! A fuzzer cannot seal, so these are the only valid proofs it can reach:
//! the oracles require that the verifiers accept exactly them (and, for
//! WindowPoSt, their sector-prefix sub-proofs). `tests/replay.rs` checks
//! that the fixtures verify, so those oracles cannot pass vacuously.

use std::sync::OnceLock;

use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::porep::{Commit1Output, PartitionProof, PorepPublic};
use cairn_proofs::post::{PublicSector, WindowPostPartition};
use cairn_proofs::seal;
use cairn_proofs::sector::WindowPostProof;

/// The chain randomness the WindowPoSt fixture answers.
pub const POST_RANDOMNESS: [u8; 32] = [0x44; 32];

/// The WindowPoSt proof type of the fixture.
pub const POST_PROOF: WindowPostProof = WindowPostProof::StackedDrgWindow2KiBV1_2;

/// Bytes of the Commit 1 fixture.
pub const COMMIT1_BYTES: &[u8] = include_bytes!("../fixtures/2kib-commit1.bin");

/// Bytes of the WindowPoSt fixture.
pub const WINDOW_POST_BYTES: &[u8] = include_bytes!("../fixtures/2kib-window-post.bin");

/// The PoRep fixture, decoded.
#[derive(Debug)]
pub struct PorepFixture {
    /// The Commit 1 output.
    pub commit1: Commit1Output,
    /// Its public inputs.
    pub public: PorepPublic,
    /// The bytes of its only partition's proof.
    pub partition_bytes: Vec<u8>,
}

/// The WindowPoSt fixture, decoded.
#[derive(Debug)]
pub struct PostFixture {
    /// The honest partition proof.
    pub proof: WindowPostPartition,
    /// The ledger's view of its sectors, in order.
    pub public: Vec<PublicSector>,
    /// The randomness it answers.
    pub randomness: PostRandomness,
}

/// The PoRep fixture; panics if the committed bytes no longer decode (a
/// format change: regenerate the seeds, see README.md).
pub fn porep() -> &'static PorepFixture {
    static FIXTURE: OnceLock<PorepFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let commit1 = Commit1Output::from_bytes(COMMIT1_BYTES).unwrap_or_else(|e| {
            panic!("fixtures/2kib-commit1.bin: {e}; regenerate the seed corpora")
        });
        let [partition]: [PartitionProof; 1] = commit1
            .partitions
            .clone()
            .try_into()
            .unwrap_or_else(|p: Vec<PartitionProof>| {
                panic!(
                    "fixtures/2kib-commit1.bin: {} partitions, a 2 KiB sector has 1",
                    p.len()
                )
            });
        PorepFixture {
            public: commit1.public,
            partition_bytes: partition.to_bytes(),
            commit1,
        }
    })
}

/// The WindowPoSt fixture; panics if the committed bytes no longer decode.
pub fn post() -> &'static PostFixture {
    static FIXTURE: OnceLock<PostFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let proof = WindowPostPartition::from_bytes(WINDOW_POST_BYTES).unwrap_or_else(|e| {
            panic!("fixtures/2kib-window-post.bin: {e}; regenerate the seed corpora")
        });
        let public = proof
            .sectors
            .iter()
            .map(|s| PublicSector {
                sector_id: s.sector_id,
                comm_r: seal::comm_r(&s.comm_c, &s.comm_r_last).unwrap_or_else(|| {
                    panic!(
                        "fixtures/2kib-window-post.bin: sector {} CommR",
                        s.sector_id
                    )
                }),
            })
            .collect();
        PostFixture {
            proof,
            public,
            randomness: PostRandomness::from_chain(POST_RANDOMNESS),
        }
    })
}
