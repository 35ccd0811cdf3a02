//! Seeds for the `cairn-proofs` targets, and the fixtures their oracles
//! check against (`fixtures/`, see `src/proofs_fixture.rs`): two 2 KiB
//! sectors sealed for real (PreCommit 1 and 2, Commit 1, a WindowPoSt),
//! their encodings, and edge cases made from them.
//!
//! Only the fixture sector's Commit 1 output may appear in a corpus: the
//! `proofs_phase_outputs` oracle requires that any Commit 1 output that
//! verifies is that one, so the Commit 1 output of another seed or sector
//! would fail it. Partition proofs of other seeds and sectors are fine in
//! `porep_proof`, which checks them against the fixture's public inputs.

use std::path::{Path, PathBuf};

use cairn_fuzz::proofs_fixture::{POST_PROOF, POST_RANDOMNESS};
use cairn_proofs::challenges::{PostRandomness, porep_challenges};
use cairn_proofs::commp::{
    FIL_COMMITMENT_UNSEALED, FR32_SHA256_TRUNC254_PADBINTREE, RAW, SHA2_256_TRUNC254_PADDED, commp,
};
use cairn_proofs::fr32;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::porep::{self, Commit1Output, PartitionProof, PorepPublic};
use cairn_proofs::post::{self, ProvingSector, WindowPostPartition};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output};
use cairn_proofs::sector::{SealProof, WindowPostProof};
use cid::Cid;
use cid::multihash::Multihash;

use super::write;

const P: SealProof = SealProof::StackedDrg2KiBV1_1;
/// The interactive seed of the fixture's Commit 1.
const SEED: [u8; 32] = [3; 32];

struct Sector {
    dir: tempfile::TempDir,
    id: SectorId,
    pc1: Pc1Output,
    pc2: Pc2Output,
}

impl Sector {
    fn seal(parents: &Path, id: u64, salt: u8) -> Self {
        let data: Vec<u8> = (0..P.unpadded_sector_size() as usize)
            .map(|i| (i as u8).wrapping_mul(31) ^ salt)
            .collect();
        let piece = commp(&data).unwrap_or_else(|e| panic!("commp: {e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let staged = dir.path().join("staged");
        std::fs::write(&staged, fr32::pad(&data)).unwrap_or_else(|e| panic!("staged: {e}"));
        let cache = dir.path().join("cache");
        let pieces =
            [PieceInfo::new(piece.comm_p, piece.padded_size).unwrap_or_else(|e| panic!("{e}"))];
        let pc1 = seal::precommit1(&Pc1Inputs {
            proof: P,
            parent_cache_dir: parents,
            staged: &staged,
            cache_dir: &cache,
            prover_id: ProverId([1; 32]),
            sector_id: SectorId(id),
            ticket: Ticket([7; 32]),
            pieces: &pieces,
            threads: 2,
        })
        .unwrap_or_else(|e| panic!("PreCommit 1: {e}"));
        let pc2 = seal::precommit2(&pc1, &staged, &cache, &dir.path().join("sealed"), 2)
            .unwrap_or_else(|e| panic!("PreCommit 2: {e}"));
        Self {
            dir,
            id: SectorId(id),
            pc1,
            pc2,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn commit1(&self, seed: [u8; 32]) -> Commit1Output {
        porep::commit1(
            &self.pc1,
            &self.pc2,
            seed,
            &self.path("staged"),
            &self.path("sealed"),
            &self.path("cache"),
        )
        .unwrap_or_else(|e| panic!("Commit 1: {e}"))
    }
}

fn window_post(sectors: &[&Sector], randomness: [u8; 32]) -> WindowPostPartition {
    let paths: Vec<(PathBuf, PathBuf)> = sectors
        .iter()
        .map(|s| (s.path("cache"), s.path("sealed")))
        .collect();
    let proving: Vec<ProvingSector<'_>> = sectors
        .iter()
        .zip(&paths)
        .map(|(s, (cache, sealed))| ProvingSector {
            sector_id: s.id,
            comm_c: s.pc2.comm_c,
            comm_r_last: s.pc2.comm_r_last,
            cache_dir: cache,
            sealed,
        })
        .collect();
    post::prove(
        POST_PROOF,
        &PostRandomness::from_chain(randomness),
        &proving,
    )
    .unwrap_or_else(|e| panic!("WindowPoSt: {e}"))
}

fn write_fixture(name: &str, bytes: &[u8]) {
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = PathBuf::from(root).join("fixtures");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// A checksummed document without its checksum: what the target seals.
fn body(doc: &[u8]) -> &[u8] {
    doc.get(..doc.len() - 32).unwrap_or_default()
}

fn set(bytes: &[u8], at: usize, with: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(dst) = out.get_mut(at..at + with.len()) {
        dst.copy_from_slice(with);
    }
    out
}

fn truncated(bytes: &[u8], by: usize) -> &[u8] {
    bytes.get(..bytes.len() - by).unwrap_or_default()
}

/// Header: magic (4), kind (1), version (2).
const KIND_AT: usize = 4;
const VERSION_AT: usize = 5;
const BODY_AT: usize = 7;

/// The nodes a PoRep's public inputs challenge (one partition).
fn challenges(public: &PorepPublic) -> Vec<u64> {
    let p = public.proof;
    porep_challenges(
        u64::from(p.nodes()),
        public.replica_id().as_bytes(),
        &public.seed,
        p.challenges_per_partition(),
        0,
    )
    .unwrap_or_else(|e| panic!("challenges: {e}"))
}

fn phase_output_seeds(a: &Sector, commit1: &Commit1Output) {
    let t = "proofs_phase_outputs";
    let pc1 = a.pc1.to_bytes();
    let pc2 = a.pc2.to_bytes();
    let c1 = commit1.to_bytes();
    write(t, "pc1-2kib.bin", &pc1);
    write(t, "pc2-2kib.bin", &pc2);
    write(t, "commit1-2kib.bin", &c1);
    write(t, "body-pc1-2kib.bin", body(&pc1));
    write(t, "body-pc2-2kib.bin", body(&pc2));
    write(t, "body-commit1-2kib.bin", body(&c1));
    // A committed-capacity sector (no pieces), and the most pieces a 2 KiB
    // sector holds (16 of 128 bytes): valid encodings of other sectors.
    let cc = Pc1Output {
        pieces: Vec::new(),
        ..a.pc1.clone()
    };
    write(t, "body-pc1-no-pieces.bin", body(&cc.to_bytes()));
    let tiny = PieceInfo::new([5; 32], 128).unwrap_or_else(|e| panic!("{e}"));
    let full = Pc1Output {
        pieces: vec![tiny; 16],
        ..a.pc1.clone()
    };
    write(t, "body-pc1-16-pieces.bin", body(&full.to_bytes()));
    // A Commit 1 output whose public inputs are another sector's: decodes,
    // does not verify.
    let mut other = commit1.clone();
    other.public.sector_id = SectorId(9);
    write(
        t,
        "body-commit1-other-sector-claimed.bin",
        body(&other.to_bytes()),
    );
    // Another sector number whose challenges happen to be the fixture's:
    // every opening holds, and only the labels (which hash the replica id)
    // give it away.
    let want = challenges(&commit1.public);
    let n = (2..1_000_000u64)
        .find(|&n| {
            challenges(&PorepPublic {
                sector_id: SectorId(n),
                ..commit1.public
            }) == want
        })
        .unwrap_or_else(|| panic!("no sector number with the fixture's challenges"));
    let mut same = commit1.clone();
    same.public.sector_id = SectorId(n);
    write(
        t,
        "body-commit1-other-sector-same-challenges.bin",
        body(&same.to_bytes()),
    );
    let mut flipped = commit1.clone();
    if let Some(c) = flipped
        .partitions
        .first_mut()
        .and_then(|p| p.challenges.first_mut())
    {
        c.replica_path.leaf[0] ^= 1;
    }
    write(
        t,
        "body-commit1-replica-leaf-flipped.bin",
        body(&flipped.to_bytes()),
    );

    // Refusals.
    write(t, "bad-empty.bin", b"");
    write(t, "bad-pc1-checksum.bin", &set(&pc1, BODY_AT + 9, &[0xee]));
    write(t, "bad-pc1-truncated.bin", truncated(&pc1, 1));
    write(
        t,
        "bad-body-pc1-version-2.bin",
        &set(body(&pc1), VERSION_AT, &[2, 0]),
    );
    write(
        t,
        "bad-body-pc1-version-0.bin",
        &set(body(&pc1), VERSION_AT, &[0, 0]),
    );
    write(
        t,
        "bad-body-pc2-as-pc1-kind.bin",
        &set(body(&pc2), KIND_AT, &[1]),
    );
    write(
        t,
        "bad-body-pc1-unknown-seal-proof.bin",
        &set(body(&pc1), BODY_AT, &[99, 0, 0, 0, 0, 0, 0, 0]),
    );
    let one_layer = Pc1Output {
        layer_digests: vec![[0; 32]],
        ..a.pc1.clone()
    };
    write(
        t,
        "bad-body-pc1-one-layer-digest.bin",
        body(&one_layer.to_bytes()),
    );
    // Pieces list: proof (8), prover (32), sector (8), ticket (32), CommD
    // (32), replica id (32), then the count; the first piece's size follows
    // its CommP.
    let pieces_at = BODY_AT + 8 + 32 + 8 + 32 + 32 + 32;
    write(
        t,
        "bad-body-pc1-piece-size-100.bin",
        &set(body(&pc1), pieces_at + 4 + 32, &100u64.to_le_bytes()),
    );
    write(
        t,
        "bad-body-pc1-17-pieces.bin",
        body(
            &Pc1Output {
                pieces: vec![tiny; 17],
                ..a.pc1.clone()
            }
            .to_bytes(),
        ),
    );
    write(
        t,
        "bad-body-pc1-trailing-byte.bin",
        &[body(&pc1), &[0]].concat(),
    );
    let wrong_comm_r = Pc2Output {
        comm_r: a.pc2.comm_c,
        ..a.pc2.clone()
    };
    write(
        t,
        "bad-body-pc2-comm-r-not-poseidon.bin",
        body(&wrong_comm_r.to_bytes()),
    );
    write(
        t,
        "bad-body-commit1-truncated.bin",
        truncated(body(&c1), 33),
    );
    write(
        t,
        "bad-body-commit1-17-partitions.bin",
        &set(body(&c1), BODY_AT + 8 + 8 + 32 * 5, &[17, 0, 0, 0]),
    );
}

/// Offsets in a partition proof: header, k (4), CommC, CommRLast, count.
const PARTITION_K_AT: usize = BODY_AT;
const CHALLENGES_AT: usize = BODY_AT + 4 + 32 + 32;

fn porep_seeds(a: &Sector, b: &Sector, commit1: &Commit1Output) {
    let t = "porep_proof";
    let honest = commit1
        .partitions
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no partition"));
    let bytes = honest.to_bytes();
    write(t, "honest-2kib-partition-0.bin", &bytes);
    let proof = |c1: Commit1Output| {
        c1.partitions
            .first()
            .map(PartitionProof::to_bytes)
            .unwrap_or_default()
    };
    write(t, "other-seed-partition-0.bin", &proof(a.commit1([4; 32])));
    write(t, "other-sector-partition-0.bin", &proof(b.commit1(SEED)));
    let mut forged = honest.clone();
    forged.challenges.swap(0, 1);
    write(t, "challenges-swapped.bin", &forged.to_bytes());
    let mut forged = honest.clone();
    if let Some(label) = forged
        .challenges
        .first_mut()
        .and_then(|c| c.columns.first_mut())
        .and_then(|c| c.labels.get_mut(1))
    {
        label[0] ^= 1;
    }
    write(t, "label-flipped.bin", &forged.to_bytes());
    let mut forged = honest.clone();
    if let (Some(first), Some(second)) = (
        forged.challenges.first().cloned(),
        forged.challenges.get_mut(1),
    ) {
        second.data_path = first.data_path;
    }
    write(t, "data-opening-of-other-challenge.bin", &forged.to_bytes());
    let mut forged = honest.clone();
    forged.challenges.pop();
    write(t, "one-challenge-missing.bin", &forged.to_bytes());
    write(
        t,
        "partition-1.bin",
        &set(&bytes, PARTITION_K_AT, &[1, 0, 0, 0]),
    );
    // One change each that a check of the verifier catches.
    let forge = |name: &str, change: &dyn Fn(&mut PartitionProof)| {
        let mut forged = honest.clone();
        change(&mut forged);
        write(t, name, &forged.to_bytes());
    };
    forge("comm-c-flipped.bin", &|p| p.comm_c[0] ^= 1);
    forge("data-leaf-flipped.bin", &|p| {
        if let Some(c) = p.challenges.first_mut() {
            c.data_path.leaf[0] ^= 1;
        }
    });
    forge("replica-leaf-flipped.bin", &|p| {
        if let Some(c) = p.challenges.first_mut() {
            c.replica_path.leaf[0] ^= 1;
        }
    });
    forge("column-5-sibling-flipped.bin", &|p| {
        let col = p.challenges.first_mut().and_then(|c| c.columns.get_mut(5));
        if let Some(s) = col
            .and_then(|c| c.path.levels.first_mut())
            .and_then(|l| l.siblings.first_mut())
        {
            s[0] ^= 1;
        }
    });
    forge("column-2-label-not-in-field.bin", &|p| {
        if let Some(l) = p
            .challenges
            .first_mut()
            .and_then(|c| c.columns.get_mut(2))
            .and_then(|c| c.labels.first_mut())
        {
            *l = [0xff; 32];
        }
    });
    forge("fourteen-columns.bin", &|p| {
        if let Some(c) = p.challenges.get_mut(1) {
            c.columns.pop();
        }
    });
    forge("column-with-one-label.bin", &|p| {
        if let Some(c) = p.challenges.first_mut().and_then(|c| c.columns.first_mut()) {
            c.labels.pop();
        }
    });

    // Refusals.
    write(t, "bad-empty.bin", b"");
    write(t, "bad-truncated.bin", truncated(&bytes, 1));
    write(
        t,
        "bad-trailing-byte.bin",
        &[bytes.as_slice(), &[0]].concat(),
    );
    write(t, "bad-version-2.bin", &set(&bytes, VERSION_AT, &[2, 0]));
    write(t, "bad-kind-window-post.bin", &set(&bytes, KIND_AT, &[5]));
    write(
        t,
        "bad-65-challenges.bin",
        &set(&bytes, CHALLENGES_AT, &[65, 0, 0, 0]),
    );
    write(
        t,
        "bad-challenge-count-past-end.bin",
        &set(&bytes, CHALLENGES_AT, &[60, 0, 0, 0]),
    );
    // The first challenge's node (8) and data path: leaf (32), then the
    // level count, which may be at most 64.
    write(
        t,
        "bad-path-65-levels.bin",
        &set(&bytes, CHALLENGES_AT + 4 + 8 + 32, &[65]),
    );
}

fn post_seeds(a: &Sector, b: &Sector, honest: &WindowPostPartition) {
    let t = "post_proof";
    let bytes = honest.to_bytes();
    write(t, "honest-2kib-two-sectors.bin", &bytes);
    let first = WindowPostPartition {
        post: honest.post,
        sectors: honest.sectors.iter().take(1).cloned().collect(),
    };
    write(t, "honest-first-sector-only.bin", &first.to_bytes());
    write(
        t,
        "no-sectors.bin",
        &WindowPostPartition {
            post: honest.post,
            sectors: Vec::new(),
        }
        .to_bytes(),
    );
    let mut swapped = honest.clone();
    swapped.sectors.reverse();
    write(t, "sectors-swapped.bin", &swapped.to_bytes());
    let mut other = POST_RANDOMNESS;
    other[0] ^= 1;
    write(
        t,
        "other-randomness.bin",
        &window_post(&[a, b], other).to_bytes(),
    );
    write(
        t,
        "second-sector-only.bin",
        &window_post(&[b], POST_RANDOMNESS).to_bytes(),
    );
    let as_8mib = WindowPostPartition {
        post: WindowPostProof::StackedDrgWindow8MiBV1_2,
        ..honest.clone()
    };
    write(t, "8mib-post-type.bin", &as_8mib.to_bytes());
    let mut one_path_short = honest.clone();
    if let Some(s) = one_path_short.sectors.first_mut() {
        s.paths.pop();
    }
    write(t, "nine-openings.bin", &one_path_short.to_bytes());
    let forge = |name: &str, change: &dyn Fn(&mut WindowPostPartition)| {
        let mut forged = honest.clone();
        change(&mut forged);
        write(t, name, &forged.to_bytes());
    };
    forge("second-sector-comm-c-flipped.bin", &|p| {
        if let Some(s) = p.sectors.get_mut(1) {
            s.comm_c[0] ^= 1;
        }
    });
    forge("opening-3-sibling-flipped.bin", &|p| {
        let path = p.sectors.first_mut().and_then(|s| s.paths.get_mut(3));
        if let Some(s) = path
            .and_then(|p| p.levels.get_mut(1))
            .and_then(|l| l.siblings.first_mut())
        {
            s[0] ^= 1;
        }
    });
    forge("opening-0-leaf-not-in-field.bin", &|p| {
        if let Some(path) = p.sectors.first_mut().and_then(|s| s.paths.first_mut()) {
            path.leaf = [0xff; 32];
        }
    });
    forge("first-sector-renumbered.bin", &|p| {
        if let Some(s) = p.sectors.first_mut() {
            s.sector_id = SectorId(2);
        }
    });

    // Refusals. Header, post proof id (8), sector count (4), then per sector
    // its id (8), CommC, CommRLast and the opening count.
    let count_at = BODY_AT + 8;
    write(t, "bad-empty.bin", b"");
    write(t, "bad-truncated.bin", truncated(&bytes, 1));
    write(
        t,
        "bad-trailing-byte.bin",
        &[bytes.as_slice(), &[0]].concat(),
    );
    write(
        t,
        "bad-3-sectors.bin",
        &set(&bytes, count_at, &[3, 0, 0, 0]),
    );
    write(
        t,
        "bad-11-openings.bin",
        &set(&bytes, count_at + 4 + 8 + 64, &[11, 0, 0, 0]),
    );
    write(
        t,
        "bad-unknown-post-proof.bin",
        &set(&bytes, BODY_AT, &[0xff; 8]),
    );
    write(t, "bad-kind-porep.bin", &set(&bytes, KIND_AT, &[4]));
}

fn mh_cid(codec: u64, code: u64, digest: &[u8]) -> Cid {
    Cid::new_v1(
        codec,
        Multihash::wrap(code, digest).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn piece_cid_seeds() {
    let t = "piece_cid";
    let four_runs: Vec<u8> = (0u8..4).flat_map(|b| std::iter::repeat_n(b, 127)).collect();
    let mut plus4 = four_runs.clone();
    plus4.extend([0; 4]);
    for (name, data) in [
        ("127x4-runs", four_runs.as_slice()),
        ("empty", &[]),
        ("128-zeros", &[0; 128]),
        ("128x4-padding-504", &plus4),
    ] {
        let c = commp(data).unwrap_or_else(|e| panic!("{e}"));
        let (v1, v2) = (
            c.cid_v1().unwrap_or_else(|e| panic!("{e}")),
            c.cid_v2().unwrap_or_else(|e| panic!("{e}")),
        );
        write(t, &format!("str-v1-{name}.txt"), v1.to_string().as_bytes());
        write(t, &format!("str-v2-{name}.txt"), v2.to_string().as_bytes());
        write(t, &format!("bin-v1-{name}.bin"), &v1.to_bytes());
        write(t, &format!("bin-v2-{name}.bin"), &v2.to_bytes());
    }
    // FRC-0069's base16 spelling, and other bases of a v2 CID.
    write(
        t,
        "str-v2-frc0069-base16.txt",
        b"f01559120220004496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605",
    );
    let c = commp(&plus4).unwrap_or_else(|e| panic!("{e}"));
    let v2 = c.cid_v2().unwrap_or_else(|e| panic!("{e}"));
    for (name, base) in [
        ("base58btc", cid::multibase::Base::Base58Btc),
        ("base32upper", cid::multibase::Base::Base32Upper),
    ] {
        write(
            t,
            &format!("str-v2-{name}.txt"),
            v2.to_string_of_base(base).unwrap_or_default().as_bytes(),
        );
    }
    // The largest piece with the most padding it allows: height 58, a
    // 9-byte padding varint.
    let mut digest = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbf, 0x3f];
    digest.push(58);
    digest.extend_from_slice(&[0x11; 32]);
    write(
        t,
        "bin-v2-height-58-nine-byte-varint.bin",
        &mh_cid(RAW, FR32_SHA256_TRUNC254_PADBINTREE, &digest).to_bytes(),
    );

    // Refusals.
    let root = [0x2a; 32];
    let v2_digest = |varint: &[u8], height: u8, root: &[u8; 32]| [varint, &[height], root].concat();
    let v2 = |d: &[u8]| mh_cid(RAW, FR32_SHA256_TRUNC254_PADBINTREE, d).to_bytes();
    let mut top = root;
    top[31] = 0xc0;
    write(
        t,
        "bad-bin-v2-varint-not-minimal.bin",
        &v2(&v2_digest(&[0x80, 0x00], 2, &root)),
    );
    write(
        t,
        "bad-bin-v2-varint-10-bytes.bin",
        &v2(&v2_digest(&[0xff; 9], 1, &root)),
    );
    write(
        t,
        "bad-bin-v2-padding-too-large.bin",
        &v2(&v2_digest(&[127], 3, &root)),
    );
    write(
        t,
        "bad-bin-v2-height-1.bin",
        &v2(&v2_digest(&[0], 1, &root)),
    );
    write(
        t,
        "bad-bin-v2-height-59.bin",
        &v2(&v2_digest(&[0], 59, &root)),
    );
    write(
        t,
        "bad-bin-v2-root-top-bits.bin",
        &v2(&v2_digest(&[0], 2, &top)),
    );
    write(t, "bad-bin-v2-digest-short.bin", &v2(&root));
    write(
        t,
        "bad-bin-v2-digest-long.bin",
        &v2(&v2_digest(&[0, 0], 2, &root)),
    );
    write(
        t,
        "bad-bin-v1-digest-31.bin",
        &mh_cid(FIL_COMMITMENT_UNSEALED, SHA2_256_TRUNC254_PADDED, &[0; 31]).to_bytes(),
    );
    write(
        t,
        "bad-bin-v1-root-top-bits.bin",
        &mh_cid(FIL_COMMITMENT_UNSEALED, SHA2_256_TRUNC254_PADDED, &top).to_bytes(),
    );
    write(
        t,
        "bad-bin-v1-codec-v2-hash.bin",
        &mh_cid(
            FIL_COMMITMENT_UNSEALED,
            FR32_SHA256_TRUNC254_PADBINTREE,
            &root,
        )
        .to_bytes(),
    );
    write(
        t,
        "bad-bin-raw-sha256.bin",
        &mh_cid(RAW, 0x12, &root).to_bytes(),
    );
    write(
        t,
        "bad-str-dag-pb.txt",
        mh_cid(0x70, 0x12, &root).to_string().as_bytes(),
    );
    write(
        t,
        "bad-str-cidv0.txt",
        b"QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n",
    );
    write(t, "bad-str-not-a-cid.txt", b"baga6ea4seaq");
}

/// Seals the sectors, writes the fixtures and every proofs target's seeds.
pub fn proof_seeds() {
    let parents = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let a = Sector::seal(parents.path(), 1, 0);
    let b = Sector::seal(parents.path(), 2, 0x5a);
    let commit1 = a.commit1(SEED);
    write_fixture("2kib-commit1.bin", &commit1.to_bytes());
    let honest_post = window_post(&[&a, &b], POST_RANDOMNESS);
    write_fixture("2kib-window-post.bin", &honest_post.to_bytes());
    phase_output_seeds(&a, &commit1);
    porep_seeds(&a, &b, &commit1);
    post_seeds(&a, &b, &honest_post);
    piece_cid_seeds();
}

/// Knows x with x² = y, y public: the smallest circuit with a key.
struct Square;

impl cairn_proofs::snark::cs::Circuit for Square {
    fn synthesize<CS: cairn_proofs::snark::cs::ConstraintSystem>(
        &self,
        cs: &mut CS,
    ) -> Result<(), cairn_proofs::snark::cs::SynthesisError> {
        use cairn_proofs::snark::gadgets::bits::Num;
        let y = Num::alloc_input(cs, None)?;
        let x = Num::alloc(cs, None)?;
        x.square(cs)?.enforce_equal(cs, &y);
        Ok(())
    }
}

/// `groth16_keys` seeds: a real verifying key and parameter file (a tiny
/// circuit's), and damaged copies; `groth16_proof` seeds: real points.
pub fn groth16_seeds() {
    use cairn_proofs::snark::params;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let (pk, _) = params::load_or_generate(dir.path(), "square", &Square, 1, &mut |_| {})
        .unwrap_or_else(|e| panic!("square keys: {e}"));
    let id = params::circuit_id("square", &Square).unwrap_or_else(|e| panic!("{e}"));
    let vk =
        std::fs::read(dir.path().join(format!("{id}.vk"))).unwrap_or_else(|e| panic!("vk: {e}"));
    let file = std::fs::read(dir.path().join(format!("{id}.params")))
        .unwrap_or_else(|e| panic!("params: {e}"));
    let t = "groth16_keys";
    let with = |tag: u8, body: &[u8]| [&[tag][..], body].concat();
    super::write(t, "vk", &with(0, &vk));
    let mut flipped = vk.clone();
    flipped[10] ^= 0x40;
    super::write(t, "vk-flipped", &with(0, &flipped));
    super::write(t, "vk-truncated", &with(0, &vk[..vk.len() - 1]));
    super::write(t, "params", &with(1, &file));
    let mut bad = file.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    super::write(t, "params-digest", &with(1, &bad));
    super::write(t, "params-header", &with(1, &file[..20]));
    let _ = pk;
}
