//! The production verifier: keys are checked against the genesis digests,
//! and proofs that are random bytes or of the wrong length are refused.
//! (A real WindowPoSt round trip through the ledger needs a sealed sector;
//! see the undone list in docs/ledger.md.)

use std::collections::BTreeMap;

use cairn_ledger::genesis::PinnedKeys;
use cairn_ledger::verifier::{Groth16Verifier, KeyError, ProofVerifier, SizeKeys, vk_digest};
use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::porep::PorepPublic;
use cairn_proofs::post::PublicSector;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::sector::SealProof;
use cairn_proofs::snark::groth16;
use cairn_proofs::snark::post_circuit::WindowPostCircuit;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const P: SealProof = SealProof::StackedDrg2KiBV1_1;

#[test]
fn keys_must_match_genesis_and_bad_proofs_are_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let post_vk = groth16::generate_keys(&WindowPostCircuit::blank(P.window_post()), &mut rng)
        .unwrap()
        .vk;
    // The PoRep key is too slow to generate in a test; the WindowPoSt key
    // stands in for it (the digest check does not care which circuit).
    let keys = BTreeMap::from([(
        P,
        SizeKeys {
            porep: post_vk.clone(),
            window_post: post_vk.clone(),
        },
    )]);
    let pins = |porep, window_post| BTreeMap::from([(P, PinnedKeys { porep, window_post })]);
    let d = vk_digest(&post_vk);
    assert!(matches!(
        Groth16Verifier::new(&pins(d, [0; 32]), &keys),
        Err(KeyError::Mismatch {
            circuit: "WindowPoSt",
            ..
        })
    ));
    assert!(matches!(
        Groth16Verifier::new(&BTreeMap::new(), &keys),
        Err(KeyError::Unexpected { .. })
    ));
    assert!(matches!(
        Groth16Verifier::new(&pins(d, d), &BTreeMap::new()),
        Err(KeyError::Missing { .. })
    ));
    let v = Groth16Verifier::new(&pins(d, d), &keys).unwrap();

    let r = PostRandomness::from_chain([5; 32]);
    let sectors = [PublicSector {
        sector_id: SectorId(1),
        comm_r: [1; 32],
    }];
    let wrong_len = v.verify_window_post(P.window_post(), &r, &sectors, &[0; 191]);
    assert!(matches!(
        wrong_len,
        Err(cairn_ledger::VerifyError::Length {
            expected: 192,
            got: 191
        })
    ));
    // Random bytes: not points, or points that do not verify.
    let mut seed = ChaCha20Rng::seed_from_u64(9);
    for _ in 0..4 {
        let mut bytes = [0u8; 192];
        rand_chacha::rand_core::RngCore::fill_bytes(&mut seed, &mut bytes);
        assert!(
            v.verify_window_post(P.window_post(), &r, &sectors, &bytes)
                .is_err()
        );
    }
    // Real curve points that are no proof: refused by the pairing check.
    let points = groth16::proof_to_bytes(&groth16::Proof {
        a: post_vk.alpha_g1,
        b: post_vk.beta_g2,
        c: post_vk.alpha_g1,
    });
    assert!(matches!(
        v.verify_window_post(P.window_post(), &r, &sectors, &points),
        Err(cairn_ledger::VerifyError::Invalid { partition: 0 })
    ));
    let public = PorepPublic {
        proof: P,
        prover_id: ProverId([1; 32]),
        sector_id: SectorId(1),
        ticket: Ticket([2; 32]),
        seed: [3; 32],
        comm_d: [4; 32],
        comm_r: [5; 32],
    };
    assert!(v.verify_porep(P, &public, &[0; 192]).is_err());
    assert!(v.verify_porep(P, &public, &[0; 384]).is_err());
    assert!(
        v.verify_porep(SealProof::StackedDrg8MiBV1_1, &public, &[0; 192])
            .is_err()
    );
}
