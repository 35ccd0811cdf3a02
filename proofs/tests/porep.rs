//! Commit 1 and the vanilla PoRep verifier on real 2 KiB seals: honest
//! proofs verify (with the challenges rust-fil-proofs derives), and every
//! tampering the issue lists is refused.

use std::fs;

use cairn_proofs::porep::{self, Commit1Output, PartitionProof, PorepPublic, VerifyError};
use cairn_proofs::sdr::{ProverId, SectorId};
use cairn_proofs::seal::{self};

mod common;

use common::porep_sector::{P, Sector};

#[test]
fn honest_proofs_verify_and_round_trip() {
    let parents = tempfile::tempdir().unwrap();
    let s = Sector::seal(parents.path(), 1, 42, 0);
    for seed in [[0u8; 32], [9; 32], [0xff; 32]] {
        let c1 = s.commit1(seed);
        assert_eq!(c1.partitions.len(), 1);
        assert_eq!(c1.partitions[0].challenges.len(), 2);
        porep::verify(&c1.public, &c1.partitions).unwrap();
        assert_eq!(Commit1Output::from_bytes(&c1.to_bytes()).unwrap(), c1);
        let part = &c1.partitions[0];
        assert_eq!(&PartitionProof::from_bytes(&part.to_bytes()).unwrap(), part);
    }
}

#[test]
fn tampering_is_refused() {
    let parents = tempfile::tempdir().unwrap();
    let a = Sector::seal(parents.path(), 1, 42, 0);
    let b = Sector::seal(parents.path(), 1, 43, 5);
    let seed = [3u8; 32];
    let good = a.commit1(seed);
    let public = good.public;
    let parts = &good.partitions;

    // A wrong CommR, a wrong CommD.
    let mut p = public;
    p.comm_r = b.pc2.comm_r;
    assert!(matches!(
        porep::verify(&p, parts),
        Err(VerifyError::CommR { k: 0 })
    ));
    let mut p = public;
    p.comm_d = b.pc1.comm_d;
    // CommD enters the replica id, so the challenges move as well.
    assert!(porep::verify(&p, parts).is_err());

    // A proof made with another seed.
    let other = a.commit1([4; 32]);
    assert!(matches!(
        porep::verify(&public, &other.partitions),
        Err(VerifyError::WrongChallenge { .. })
    ));

    // The proof of another sector, claimed for this one.
    let bp = b.commit1(seed);
    assert!(porep::verify(&public, &bp.partitions).is_err());
    let mut claimed = bp.public;
    claimed.sector_id = SectorId(42);
    assert!(porep::verify(&claimed, &bp.partitions).is_err());

    // A replica sealed with another prover id, claimed under this one's.
    let c = Sector::seal(parents.path(), 2, 42, 0);
    let cp = c.commit1(seed);
    let mut claimed = cp.public;
    claimed.prover_id = ProverId([1; 32]);
    assert!(porep::verify(&claimed, &cp.partitions).is_err());

    // An opening of another node: the second challenge's openings under the
    // first challenge's number.
    let mut forged = parts.clone();
    let second = forged[0].challenges[1].clone();
    forged[0].challenges[0].data_path = second.data_path.clone();
    let e = porep::verify(&public, &forged).unwrap_err();
    assert!(matches!(e, VerifyError::Opening { .. }), "{e}");
    let mut forged = parts.clone();
    forged[0].challenges[0].columns[3] = second.columns[3].clone();
    assert!(porep::verify(&public, &forged).is_err());
    let mut forged = parts.clone();
    forged[0].challenges.swap(0, 1);
    assert!(matches!(
        porep::verify(&public, &forged),
        Err(VerifyError::WrongChallenge { .. })
    ));

    // A label that does not follow from its parents (with a consistent
    // column hash would need a tree_c forgery; flipping it breaks tree_c).
    let mut forged = parts.clone();
    forged[0].challenges[0].columns[0].labels[1][0] ^= 1;
    assert!(porep::verify(&public, &forged).is_err());

    // A flipped byte in the replica: Commit 1 from the damaged file fails to
    // verify (the replica's opening no longer reaches CommRLast).
    let sealed = a.path("sealed");
    let mut bytes = fs::read(&sealed).unwrap();
    bytes[1000] ^= 0x01;
    fs::write(&sealed, &bytes).unwrap();
    let damaged = a.commit1(seed);
    let e = porep::verify(&public, &damaged.partitions).unwrap_err();
    assert!(
        matches!(e, VerifyError::Opening { ref tree, .. } if tree == "tree_r_last"),
        "{e}"
    );

    // Missing or extra partitions and challenges.
    assert!(matches!(
        porep::verify(&public, &[]),
        Err(VerifyError::Shape(_))
    ));
    let mut forged = parts.clone();
    forged[0].challenges.pop();
    assert!(matches!(
        porep::verify(&public, &forged),
        Err(VerifyError::Shape(_))
    ));
}

#[test]
fn random_bytes_are_not_a_proof() {
    let parents = tempfile::tempdir().unwrap();
    let a = Sector::seal(parents.path(), 1, 42, 0);
    let good = a.commit1([3; 32]);
    let bytes = good.partitions[0].to_bytes();
    // Every truncation and many byte flips: decode errors or verify errors,
    // never a panic, never an accepted proof.
    for cut in (0..bytes.len()).step_by(97) {
        assert!(PartitionProof::from_bytes(&bytes[..cut]).is_err());
    }
    let mut state = 0x1234_5678u64;
    for _ in 0..300 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (state >> 33) as usize % bytes.len();
        let mut b = bytes.clone();
        b[at] ^= 1 << (state % 8);
        if let Ok(p) = PartitionProof::from_bytes(&b) {
            assert!(
                porep::verify_partition(&good.public, 0, &p).is_err(),
                "flip at {at} accepted"
            );
        }
    }
    let noise: Vec<u8> = (0..bytes.len()).map(|i| (i * 7919 % 251) as u8).collect();
    assert!(PartitionProof::from_bytes(&noise).is_err());
    let _ = PorepPublic { ..good.public };
}

/// A provider that skips the encoding and keeps the plain data as its
/// "replica" (its own tree_r_last and CommR over it, everything else
/// honest) is caught by the encoding check; so is a partition index past
/// the seal proof's partitions.
#[test]
fn an_unsealed_replica_is_refused_by_the_encoding_check() {
    use cairn_proofs::tree::{self, NodeFile, PoseidonHasher};

    let parents = tempfile::tempdir().unwrap();
    let a = Sector::seal(parents.path(), 1, 42, 0);
    // The "replica" is the staged data itself, with a tree_r_last over it.
    fs::copy(a.path("staged"), a.path("sealed")).unwrap();
    let shape = seal::tree_r_last_shape(P).unwrap();
    let staged = NodeFile(fs::File::open(a.path("staged")).unwrap());
    let tree_path = a.path("cache").join(seal::TREE_R_LAST);
    let root = tree::build(&shape, &PoseidonHasher, &staged, &tree_path, 1).unwrap();
    let mut pc2 = a.pc2.clone();
    pc2.comm_r_last = root;
    pc2.comm_r = seal::comm_r(&pc2.comm_c, &root).unwrap();
    let c1 = porep::commit1(
        &a.pc1,
        &pc2,
        [3; 32],
        &a.path("staged"),
        &a.path("sealed"),
        &a.path("cache"),
    )
    .unwrap();
    let e = porep::verify(&c1.public, &c1.partitions).unwrap_err();
    assert!(matches!(e, VerifyError::Encoding { .. }), "{e}");

    let honest = Sector::seal(parents.path(), 1, 43, 0).commit1([3; 32]);
    let e = porep::verify_partition(&honest.public, 1, &honest.partitions[0]).unwrap_err();
    assert!(matches!(e, VerifyError::Shape(_)), "{e}");
}
