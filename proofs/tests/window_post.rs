//! Vanilla WindowPoSt on real 2 KiB seals: an honest partition verifies;
//! a replica missing a challenged leaf is reported faulty by the prover;
//! wrong randomness, CommR, sector or bytes are refused by the verifier.

use std::fs;

use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::post::{self, PostError, PostVerifyError, PublicSector, WindowPostPartition};
use cairn_proofs::sdr::SectorId;
use cairn_proofs::sector::WindowPostProof;

mod common;

use common::post_sector::{Sector, W, prove};

#[test]
fn window_post_proves_verifies_and_refuses() {
    let parents = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        Sector::seal(parents.path(), 1),
        Sector::seal(parents.path(), 2),
        Sector::seal(parents.path(), 3),
    );
    let r = PostRandomness::from_chain([0x44; 32]);
    let proof = prove(&[&a, &b], &r).unwrap();
    let public = [a.public(), b.public()];
    post::verify(W, &r, &public, &proof).unwrap();
    assert_eq!(
        WindowPostPartition::from_bytes(&proof.to_bytes()).unwrap(),
        proof
    );
    // One sector alone (the other declared faulty) is a valid partition too.
    post::verify(W, &r, &public[..1], &prove(&[&a], &r).unwrap()).unwrap();

    // Other randomness, a wrong CommR, sectors swapped, a sector missing.
    let r2 = PostRandomness::from_chain([0x45; 32]);
    assert!(matches!(
        post::verify(W, &r2, &public, &proof),
        Err(PostVerifyError::Opening { .. })
    ));
    let wrong = [
        a.public(),
        PublicSector {
            comm_r: c.pc2.comm_r,
            ..b.public()
        },
    ];
    assert_eq!(
        post::verify(W, &r, &wrong, &proof),
        Err(PostVerifyError::CommR(SectorId(2)))
    );
    assert!(matches!(
        post::verify(W, &r, &[b.public(), a.public()], &proof),
        Err(PostVerifyError::Shape(_))
    ));
    assert!(matches!(
        post::verify(W, &r, &public[..1], &proof),
        Err(PostVerifyError::Shape(_))
    ));
    // Sector 1's proof claimed for sector 3 (same CommR claimed too).
    let mut stolen = prove(&[&a], &r).unwrap();
    stolen.sectors[0].sector_id = SectorId(3);
    let claim = [PublicSector {
        sector_id: SectorId(3),
        comm_r: a.pc2.comm_r,
    }];
    assert!(matches!(
        post::verify(W, &r, &claim, &stolen),
        Err(PostVerifyError::Opening { .. })
    ));
    // Too many sectors for a partition.
    assert!(matches!(
        prove(&[&a, &b, &c], &r),
        Err(PostError::TooManySectors { n: 3, max: 2, .. })
    ));
    // Another PoSt type.
    assert!(
        post::verify(
            WindowPostProof::StackedDrgWindow8MiBV1_2,
            &r,
            &public,
            &proof
        )
        .is_err()
    );

    // A replica missing a challenged leaf: the prover names the faulty sector.
    let bytes = fs::read(b.sealed()).unwrap();
    fs::write(b.sealed(), &bytes[..1024]).unwrap();
    match prove(&[&a, &b], &r) {
        Err(PostError::FaultySector { sector_id, why }) => {
            assert_eq!(sector_id, SectorId(2));
            assert!(why.contains("leaf"), "{why}");
        }
        other => panic!("expected a faulty sector, got {other:?}"),
    }
    // A damaged leaf, likewise.
    let mut damaged = bytes.clone();
    damaged[64] ^= 1;
    fs::write(b.sealed(), &damaged).unwrap();
    assert!(matches!(
        prove(&[&b], &r),
        Err(PostError::FaultySector {
            sector_id: SectorId(2),
            ..
        })
    ));
    fs::write(b.sealed(), &bytes).unwrap();
    prove(&[&b], &r).unwrap();

    // Damaged proof bytes: refused by the decoder or the verifier.
    let enc = proof.to_bytes();
    for at in (0..enc.len()).step_by(13) {
        let mut x = enc.clone();
        x[at] ^= 0x20;
        if let Ok(p) = WindowPostPartition::from_bytes(&x) {
            assert!(
                post::verify(W, &r, &public, &p).is_err(),
                "flip at {at} accepted"
            );
        }
    }
}
