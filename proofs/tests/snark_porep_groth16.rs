//! A 2 KiB sector sealed, Commit 2 proven with the real PoRep circuit and
//! Groth16, and verified; then every soundness case of the issue against
//! that one shared proof (or its public inputs). One Groth16 proof in CI
//! (`seal-bench`'s CLI test makes the other); a proof over a damaged
//! replica is refused in `.ci/full`. The parameters come from
//! the cache outside the clone (`$CAIRN_PARAMS_DIR`, else
//! `~/.cache/cairn/params`), generated on a machine's first run (about
//! two minutes on 2 cores, announced on stderr).

mod common;

use std::fs;

use cairn_proofs::field::Fr;
use cairn_proofs::porep::{self, Commit1Output, PorepPublic};
use cairn_proofs::sdr::{ProverId, SectorId};
use cairn_proofs::snark::backend::CpuBackend;
use cairn_proofs::snark::cs::{CheckCs, Circuit};
use cairn_proofs::snark::groth16::{self, PROOF_BYTES, ProofBytesError};
use cairn_proofs::snark::params;
use cairn_proofs::snark::porep_circuit::{PorepCircuit, public_inputs};
use common::porep_sector::{P, Sector};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

#[test]
fn commit2_proves_verifies_and_refuses() {
    let (pk, source) =
        params::porep_keys(&params::default_dir(), P, &mut |l| eprintln!("{l}")).unwrap();
    eprintln!("PoRep parameters: {source:?}");
    let pvk = groth16::prepare(&pk.vk);
    let parents = tempfile::tempdir().unwrap();
    let s = Sector::seal(parents.path(), 1, 42, 0);
    let c1 = s.commit1([9; 32]);
    let inputs = public_inputs(&c1.public, 0).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let circuit = PorepCircuit {
        proof: P,
        inputs: Some(&inputs),
        witness: Some(&c1.partitions[0]),
    };
    let (proof, t) = groth16::prove(&circuit, &pk, &CpuBackend, &mut rng).unwrap();
    eprintln!("C2: {t:?}");
    assert!(groth16::verify(&pvk, &inputs, &proof));
    let bytes = groth16::proof_to_bytes(&proof);
    assert_eq!(bytes.len(), PROOF_BYTES);
    assert!(groth16::verify(
        &pvk,
        &inputs,
        &groth16::proof_from_bytes(&bytes).unwrap()
    ));

    let refused =
        |public: &PorepPublic| !groth16::verify(&pvk, &public_inputs(public, 0).unwrap(), &proof);
    // A wrong CommR, a wrong CommD, another seed, another prover id.
    let mut comm_r = c1.public.comm_r;
    comm_r[0] ^= 1;
    assert!(refused(&PorepPublic {
        comm_r,
        ..c1.public
    }));
    let mut comm_d = c1.public.comm_d;
    comm_d[3] ^= 1;
    assert!(refused(&PorepPublic {
        comm_d,
        ..c1.public
    }));
    assert!(refused(&PorepPublic {
        seed: [10; 32],
        ..c1.public
    }));
    assert!(refused(&PorepPublic {
        prover_id: ProverId([2; 32]),
        ..c1.public
    }));
    // The proof of this sector offered for another sector.
    let other = Sector::seal(parents.path(), 1, 43, 5);
    let other_c1 = other.commit1([9; 32]);
    assert!(refused(&other_c1.public));
    assert!(refused(&PorepPublic {
        sector_id: SectorId(43),
        ..c1.public
    }));
    // Random bytes; points off the curve or outside the subgroup.
    let random: Vec<u8> = (0..PROOF_BYTES).map(|i| (i * 151 + 7) as u8).collect();
    match groth16::proof_from_bytes(&random) {
        Ok(p) => assert!(!groth16::verify(&pvk, &inputs, &p)),
        Err(e) => assert!(matches!(
            e,
            ProofBytesError::Point(_) | ProofBytesError::NotCanonical
        )),
    }
    for (at, name) in [(0usize, "A"), (48, "B"), (144, "C")] {
        let mut b = bytes;
        // Keep the flags byte, change the x coordinate: almost surely no
        // point (or not in the subgroup, for which the check is explicit).
        b[at + 20] ^= 0x5a;
        match groth16::proof_from_bytes(&b) {
            Err(ProofBytesError::Point(p)) => assert_eq!(p, name),
            Ok(p) => assert!(!groth16::verify(&pvk, &inputs, &p)),
            Err(e) => panic!("{e}"),
        }
    }
    let mut wrong = inputs.clone();
    wrong[0] += Fr::from(1u64);
    assert!(!groth16::verify(&pvk, &wrong, &proof));

    // A flipped byte in the replica before Commit 1: the openings no
    // longer satisfy the circuit (the Groth16 proof made from them is
    // refused in `.ci/full`: a second 2.7 M-constraint proof).
    let damaged = damaged_commit1(&s, &c1);
    assert!(porep::verify(&damaged.public, &damaged.partitions).is_err());
    let mut cs = CheckCs::new();
    PorepCircuit {
        proof: P,
        inputs: Some(&inputs),
        witness: Some(&damaged.partitions[0]),
    }
    .synthesize(&mut cs)
    .unwrap();
    assert!(!cs.is_satisfied());
}

/// Flips a byte of every challenged node in the replica, then reruns
/// Commit 1 for the same seed.
fn damaged_commit1(s: &Sector, c1: &Commit1Output) -> Commit1Output {
    let sealed = s.path("sealed");
    let mut replica = fs::read(&sealed).unwrap();
    for c in &c1.partitions[0].challenges {
        replica[c.node as usize * 32 + 1] ^= 1;
    }
    fs::write(&sealed, &replica).unwrap();
    s.commit1([9; 32])
}

/// The Groth16 proof made from a damaged replica's openings is refused.
#[test]
#[ignore = "a second 2.7 M-constraint Groth16 proof (.ci/full)"]
fn a_proof_over_a_damaged_replica_is_refused() {
    let (pk, _) = params::porep_keys(&params::default_dir(), P, &mut |l| eprintln!("{l}")).unwrap();
    let pvk = groth16::prepare(&pk.vk);
    let parents = tempfile::tempdir().unwrap();
    let s = Sector::seal(parents.path(), 1, 42, 0);
    let c1 = s.commit1([9; 32]);
    let inputs = public_inputs(&c1.public, 0).unwrap();
    let damaged = damaged_commit1(&s, &c1);
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (bad, _) = groth16::prove(
        &PorepCircuit {
            proof: P,
            inputs: Some(&inputs),
            witness: Some(&damaged.partitions[0]),
        },
        &pk,
        &CpuBackend,
        &mut rng,
    )
    .unwrap();
    assert!(!groth16::verify(&pvk, &inputs, &bad));
}

/// An 8 MiB sector sealed by the real `cairn-proofs seal` process, then
/// Commit 2 with the 8 MiB circuit's parameters (generated once per
/// machine, about four minutes and 2.4 GB), verified, and refused for
/// another seed.
#[test]
#[ignore = "8 MiB sealing and its 3.9 M-constraint Groth16 parameters (.ci/full)"]
fn commit2_8mib() {
    use cairn_proofs::sector::SealProof;
    let p8 = SealProof::StackedDrg8MiBV1_1;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let out = common::ok(&[
        "seal".into(),
        "--sector-size".into(),
        "8MiB".into(),
        "--work".into(),
        common::p(&work),
        "--random-seed".into(),
        "8".into(),
    ]);
    assert_eq!(out["verified"], true);
    let c1 = Commit1Output::from_bytes(&fs::read(work.join("journal/c1.bin")).unwrap()).unwrap();
    let (pk, source) =
        params::porep_keys(&params::default_dir(), p8, &mut |l| eprintln!("{l}")).unwrap();
    eprintln!("8 MiB PoRep parameters: {source:?}");
    let pvk = groth16::prepare(&pk.vk);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    assert_eq!(c1.partitions.len(), 1);
    let inputs = public_inputs(&c1.public, 0).unwrap();
    let circuit = PorepCircuit {
        proof: p8,
        inputs: Some(&inputs),
        witness: Some(&c1.partitions[0]),
    };
    let (proof, t) = groth16::prove(&circuit, &pk, &CpuBackend, &mut rng).unwrap();
    eprintln!("8 MiB C2: {t:?}");
    assert!(groth16::verify(&pvk, &inputs, &proof));
    let other = PorepPublic {
        seed: [0x77; 32],
        ..c1.public
    };
    assert!(!groth16::verify(
        &pvk,
        &public_inputs(&other, 0).unwrap(),
        &proof
    ));
}
