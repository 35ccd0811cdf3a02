//! The PoRep circuit on a real 2 KiB seal: the vanilla proof verifies; the
//! circuit is satisfied by the honest witness and not by tampered
//! witnesses or inputs; its size is pinned. (The Groth16 round trip of
//! this 2.7 M-constraint circuit is `snark_porep_groth16`.)

mod common;

use cairn_proofs::field::Fr;
use cairn_proofs::porep::{self, PorepPublic};
use cairn_proofs::snark::cs::{CheckCs, Circuit, Counter};
use cairn_proofs::snark::porep_circuit::{PorepCircuit, public_inputs};
use common::porep_sector::{P, Sector};

fn check(c: &PorepCircuit<'_>) -> Option<usize> {
    let mut cs = CheckCs::new();
    match c.synthesize(&mut cs) {
        Ok(()) => cs.which_unsatisfied(),
        Err(_) => Some(usize::MAX),
    }
}

#[test]
fn porep_circuit_is_satisfied_only_by_the_honest_witness() {
    let parents = tempfile::tempdir().unwrap();
    let s = Sector::seal(parents.path(), 1, 42, 0);
    let c1 = s.commit1([9; 32]);
    porep::verify(&c1.public, &c1.partitions).unwrap();
    let part = &c1.partitions[0];
    let inputs = public_inputs(&c1.public, 0).unwrap();
    let honest = PorepCircuit {
        proof: P,
        inputs: Some(&inputs),
        witness: Some(part),
    };
    assert_eq!(check(&honest), None);

    let size = Counter::of(&PorepCircuit::blank(P)).unwrap();
    // rust-fil-proofs' StackedCircuit at 2 KiB: 2,687,921 constraints.
    assert_eq!((size.constraints, size.inputs), (2_698_162, 33));

    // Wrong public inputs: CommR, CommD, the replica id, a challenge.
    for i in [0usize, 1, 2, 3, 4, 20] {
        let mut wrong = inputs.clone();
        wrong[i] += Fr::from(1u64);
        assert!(
            check(&PorepCircuit {
                inputs: Some(&wrong),
                ..honest.clone()
            })
            .is_some(),
            "input {i}"
        );
    }
    // Another seed's inputs with this proof.
    let other = PorepPublic {
        seed: [10; 32],
        ..c1.public
    };
    let other_inputs = public_inputs(&other, 0).unwrap();
    assert!(
        check(&PorepCircuit {
            inputs: Some(&other_inputs),
            ..honest.clone()
        })
        .is_some()
    );
    // Tampered witnesses: a label, a data node, a replica node, a sibling.
    let mut t = part.clone();
    t.challenges[0].columns[3].labels[1][0] ^= 1;
    assert!(
        check(&PorepCircuit {
            witness: Some(&t),
            ..honest.clone()
        })
        .is_some()
    );
    let mut t = part.clone();
    t.challenges[1].data_path.leaf[0] ^= 1;
    assert!(
        check(&PorepCircuit {
            witness: Some(&t),
            ..honest.clone()
        })
        .is_some()
    );
    let mut t = part.clone();
    t.challenges[1].replica_path.levels[0].siblings[2][0] ^= 1;
    assert!(
        check(&PorepCircuit {
            witness: Some(&t),
            ..honest.clone()
        })
        .is_some()
    );
    let mut t = part.clone();
    t.comm_c[0] ^= 1;
    assert!(
        check(&PorepCircuit {
            witness: Some(&t),
            ..honest.clone()
        })
        .is_some()
    );
}

/// The production sizes' circuits, counted (no witness, nothing kept):
/// what 32 GiB and 64 GiB parameters would take (docs/ARCHITECTURE.md).
#[test]
#[ignore = "counts 130 M-constraint circuits (~4 minutes; .ci/full)"]
fn production_circuit_sizes() {
    use cairn_proofs::sector::SealProof;
    use cairn_proofs::snark::post_circuit::WindowPostCircuit;
    // Pinned (ARCHITECTURE.md's table): PoRep per partition, WindowPoSt.
    for (p, want_porep, want_post) in [
        (SealProof::StackedDrg512MiBV1_1, 4_421_750, 63_550),
        (SealProof::StackedDrg32GiBV1_1, 130_899_262, 93_149_595),
        (SealProof::StackedDrg64GiBV1_1, 131_791_720, 96_634_500),
    ] {
        let porep = Counter::of(&PorepCircuit::blank(p)).unwrap();
        let post = Counter::of(&WindowPostCircuit::blank(p.window_post())).unwrap();
        eprintln!(
            "{}: PoRep {} constraints, {} inputs, {} variables per partition ({} partitions); WindowPoSt {} constraints, {} variables",
            p.name(),
            porep.constraints,
            porep.inputs,
            porep.aux,
            p.partitions(),
            post.constraints,
            post.aux
        );
        assert_eq!(
            (porep.constraints, post.constraints),
            (want_porep, want_post),
            "{}",
            p.name()
        );
    }
}
