//! PreCommit 1 and 2 end to end against filecoin-proofs 19.1.0
//! (`fixtures/fil-proofs-19.1.0-sdr-vectors.json`): from the staged sector
//! file to CommD, the replica id, every label layer, CommC, CommRLast, CommR
//! and the sealed replica; then the phase outputs' round trip and the cache
//! folder checks that refuse another sector's or damaged files.
//!
//! 2 KiB in every CI run; 8 MiB is `#[ignore]`d (run by `.ci/full`).

use std::fs;
use std::path::Path;

use cairn_proofs::commp::commp;
use cairn_proofs::fr32;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::sdr::{ProverId, SectorId, Ticket, layer_file_name};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output, SealError};
use cairn_proofs::sector::SealProof;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/fil-proofs-19.1.0-sdr-vectors.json")).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k} missing"))
}

fn b32(v: &Value, k: &str) -> [u8; 32] {
    hex::decode(s(v, k)).unwrap().try_into().unwrap()
}

fn payload(kind: &str, len: usize) -> Vec<u8> {
    match kind {
        "zeros" => vec![0; len],
        "chacha20" => {
            let mut buf = vec![0; len];
            ChaCha20Rng::from_seed([0x5a; 32]).fill_bytes(&mut buf);
            buf
        }
        other => panic!("unknown data generation {other}"),
    }
}

struct Sealed {
    dir: tempfile::TempDir,
    pc1: Pc1Output,
    pc2: Pc2Output,
}

impl Sealed {
    fn cache(&self) -> std::path::PathBuf {
        self.dir.path().join("cache")
    }
    fn staged(&self) -> std::path::PathBuf {
        self.dir.path().join("staged")
    }
}

/// Seals one fixture case and checks every value it names.
fn seal_case(proof: SealProof, parent_cache: &Path, case: &Value) -> Sealed {
    let name = format!("{} case {}", proof.name(), s(case, "name"));
    let inputs = &case["inputs"];
    let data = payload(s(inputs, "data"), proof.unpadded_sector_size() as usize);
    let piece = commp(&data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let staged = dir.path().join("staged");
    fs::write(&staged, fr32::pad(&data)).unwrap();
    let cache = dir.path().join("cache");
    let pieces = [PieceInfo::new(piece.comm_p, piece.padded_size).unwrap()];
    let inp = Pc1Inputs {
        proof,
        parent_cache_dir: parent_cache,
        staged: &staged,
        cache_dir: &cache,
        prover_id: ProverId(b32(inputs, "prover_id_hex")),
        sector_id: SectorId(inputs["sector_id"].as_u64().unwrap()),
        ticket: Ticket(b32(inputs, "ticket_hex")),
        pieces: &pieces,
        threads: 2,
    };
    let pc1 = seal::precommit1(&inp).unwrap();
    assert_eq!(
        hex::encode(pc1.comm_d),
        s(case, "comm_d_hex"),
        "{name}: CommD"
    );
    assert_eq!(
        pc1.replica_id.to_string(),
        s(case, "replica_id_hex"),
        "{name}: replica id"
    );
    for (layer, want) in case["label_layers"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            hex::encode(pc1.layer_digests[layer]),
            s(want, "sha256"),
            "{name}: layer {}",
            layer + 1
        );
    }
    // The journal record round-trips and is checked against the folder.
    let bytes = pc1.to_bytes();
    assert_eq!(Pc1Output::from_bytes(&bytes).unwrap(), pc1);
    pc1.check_cache(&cache).unwrap();

    let sealed = dir.path().join("sealed");
    let pc2 = seal::precommit2(&pc1, &staged, &cache, &sealed, 2).unwrap();
    assert_eq!(
        hex::encode(pc2.comm_c),
        s(case, "comm_c_hex"),
        "{name}: CommC"
    );
    assert_eq!(
        hex::encode(pc2.comm_r_last),
        s(case, "comm_r_last_hex"),
        "{name}: CommRLast"
    );
    assert_eq!(
        hex::encode(pc2.comm_r),
        s(case, "comm_r_hex"),
        "{name}: CommR"
    );
    assert_eq!(
        seal::comm_r_cid(&pc2.comm_r).to_string(),
        s(case, "comm_r_cid"),
        "{name}: CommR CID"
    );
    assert_eq!(
        seal::comm_d_cid(&pc1.comm_d).to_string(),
        s(case, "comm_d_cid"),
        "{name}: CommD CID"
    );
    let replica = fs::read(&sealed).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&replica)),
        s(&case["sealed_replica"], "sha256"),
        "{name}: replica"
    );
    assert_eq!(Pc2Output::from_bytes(&pc2.to_bytes()).unwrap(), pc2);
    pc2.check_cache(&cache).unwrap();
    Sealed { dir, pc1, pc2 }
}

fn cases(size: u64) -> (SealProof, Vec<Value>) {
    let fx = fixture();
    let sector = fx["sector_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["sector_size"].as_u64() == Some(size))
        .unwrap()
        .clone();
    (
        SealProof::from_sector_size(size).unwrap(),
        sector["cases"].as_array().unwrap().clone(),
    )
}

#[test]
fn precommit_2kib_matches_filecoin_proofs_and_refuses_foreign_files() {
    let (proof, cases) = cases(2048);
    let parents = tempfile::tempdir().unwrap();
    let sealed: Vec<Sealed> = cases
        .iter()
        .map(|c| seal_case(proof, parents.path(), c))
        .collect();

    // Sealing the same inputs twice gives the same bytes.
    let again = seal_case(proof, parents.path(), &cases[1]);
    assert_eq!(again.pc2, sealed[1].pc2);
    assert_eq!(
        fs::read(again.dir.path().join("sealed")).unwrap(),
        fs::read(sealed[1].dir.path().join("sealed")).unwrap()
    );

    let (a, b) = (&sealed[0], &sealed[1]);
    // Another sector's label layer in this sector's folder is refused, by name.
    fs::copy(
        a.cache().join(layer_file_name(2)),
        b.cache().join(layer_file_name(2)),
    )
    .unwrap();
    let err = b.pc1.check_cache(&b.cache()).unwrap_err();
    assert!(
        matches!(&err, SealError::CacheMismatch { file, .. } if *file == layer_file_name(2)),
        "{err}"
    );
    let err =
        seal::precommit2(&b.pc1, &b.staged(), &b.cache(), &b.dir.path().join("x"), 1).unwrap_err();
    assert!(matches!(err, SealError::CacheMismatch { .. }), "{err}");
    // A truncated layer.
    let l1 = a.cache().join(layer_file_name(1));
    let full = fs::read(&l1).unwrap();
    fs::write(&l1, &full[..full.len() - 32]).unwrap();
    let err = a.pc1.check_cache(&a.cache()).unwrap_err();
    assert!(err.to_string().contains("bytes, expected 2048"), "{err}");
    fs::write(&l1, &full).unwrap();
    a.pc1.check_cache(&a.cache()).unwrap();
    // Another sector's tree_d.
    fs::copy(b.cache().join(seal::TREE_D), a.cache().join(seal::TREE_D)).unwrap();
    let err = a.pc1.check_cache(&a.cache()).unwrap_err();
    assert!(err.to_string().contains("CommD"), "{err}");
    // Another sector's tree_r_last.
    fs::copy(
        b.cache().join(seal::TREE_R_LAST),
        a.cache().join(seal::TREE_R_LAST),
    )
    .unwrap();
    assert!(a.pc2.check_cache(&a.cache()).is_err());

    // A PC2 output whose CommR was tampered with does not load; a PC1 record
    // with a flipped byte fails its checksum; a PC2 record is not a PC1 one.
    let mut bytes = a.pc2.to_bytes();
    bytes[20] ^= 1;
    assert!(Pc2Output::from_bytes(&bytes).is_err());
    let mut forged = a.pc2.clone();
    forged.comm_r = b.pc2.comm_r;
    let err = Pc2Output::from_bytes(&forged.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("CommR"), "{err}");
    let mut bytes = a.pc1.to_bytes();
    bytes[40] ^= 1;
    assert!(
        Pc1Output::from_bytes(&bytes)
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );
    assert!(Pc1Output::from_bytes(&a.pc2.to_bytes()).is_err());

    // A staged file of the wrong size, and pieces that are not the data.
    let short = a.dir.path().join("short");
    fs::write(&short, [0u8; 1024]).unwrap();
    let err = seal::precommit2(&a.pc1, &short, &a.cache(), &a.dir.path().join("y"), 1).unwrap_err();
    assert!(
        matches!(
            err,
            SealError::StagedSize {
                actual: 1024,
                expected: 2048,
                ..
            }
        ),
        "{err}"
    );
    let wrong = [PieceInfo::new([1; 32], 2048).unwrap()];
    let inp = Pc1Inputs {
        proof,
        parent_cache_dir: parents.path(),
        staged: &a.staged(),
        cache_dir: &a.dir.path().join("cache2"),
        prover_id: ProverId([0; 32]),
        sector_id: SectorId(0),
        ticket: Ticket([0; 32]),
        pieces: &wrong,
        threads: 1,
    };
    assert!(matches!(
        seal::precommit1(&inp),
        Err(SealError::PiecesMismatch { .. })
    ));
}

#[test]
#[ignore = "8 MiB sectors: run by .ci/full"]
fn precommit_8mib_matches_filecoin_proofs() {
    let (proof, cases) = cases(8 << 20);
    let parents = tempfile::tempdir().unwrap();
    for c in &cases {
        seal_case(proof, parents.path(), c);
    }
}
