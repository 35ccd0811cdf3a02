//! SDR sealing against filecoin-proofs 19.1.0 (`fixtures/
//! fil-proofs-19.1.0-sdr-vectors.json`, whose `about` section says how each
//! value was made): graph seeds and parents, the parent cache file, and for
//! each case the staged sector, CommD, replica id, every label layer file,
//! the sealed replica and the PoRep challenges with their parents.
//!
//! 2 KiB runs in every CI run, and so do the 8 MiB graph and parent cache;
//! the 8 MiB cases (two 8 MiB layers each) are `#[ignore]`d and run in
//! `.ci/full`.

use std::path::Path;

use cairn_proofs::challenges::porep_challenges;
use cairn_proofs::commp::commp;
use cairn_proofs::fr32;
use cairn_proofs::sdr::cache::{ParentCacheReader, generate_parent_cache, parent_cache_len};
use cairn_proofs::sdr::encode::{decode_file, encode_file};
use cairn_proofs::sdr::{
    ProverId, ReplicaId, SectorId, Seed, StackedGraph, Ticket, generate_layers, replica_id,
};
use cairn_proofs::sector::SealProof;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixture() -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/fil-proofs-19.1.0-sdr-vectors.json",
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned())
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn bytes32(v: &Value, key: &str) -> [u8; 32] {
    hex::decode(str_of(v, key)).unwrap().try_into().unwrap()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256, first and last 32 bytes, against an object holding them.
fn check_blob(what: &str, bytes: &[u8], expect: &Value) {
    assert_eq!(
        sha256_hex(bytes),
        str_of(expect, "sha256"),
        "{what}: sha256"
    );
    assert_eq!(
        hex::encode(&bytes[..32]),
        str_of(expect, "first_32_hex"),
        "{what}: first 32 bytes"
    );
    assert_eq!(
        hex::encode(&bytes[bytes.len() - 32..]),
        str_of(expect, "last_32_hex"),
        "{what}: last 32 bytes"
    );
}

/// The sector's payload as the fixture generated it.
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

/// The fixture's sector of `size` bytes.
fn sector_of(fx: &Value, size: u64) -> &Value {
    fx["sector_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sector_size"].as_u64() == Some(size))
        .unwrap()
}

/// Parameters, graph and parent cache of the fixture's sector of `size`
/// bytes; returns the graph and its cache file (kept in `cache_dir`).
fn check_graph(size: u64, cache_dir: &Path) -> (SealProof, StackedGraph, std::path::PathBuf) {
    let fx = fixture();
    let sector = sector_of(&fx, size);
    let proof = SealProof::from_sector_size(size).unwrap();

    // The registered proof and its parameters.
    assert_eq!(proof.name(), str_of(sector, "registered_seal_proof"));
    assert_eq!(
        proof.id(),
        sector["registered_seal_proof_id"].as_u64().unwrap()
    );
    assert_eq!(proof.porep_id().to_string(), str_of(sector, "porep_id_hex"));
    assert_eq!(u64::from(proof.nodes()), sector["nodes"].as_u64().unwrap());
    assert_eq!(
        u64::from(proof.layers()),
        sector["layers"].as_u64().unwrap()
    );
    assert_eq!(
        proof.drg_degree() as u64,
        sector["drg_degree"].as_u64().unwrap()
    );
    assert_eq!(
        proof.expansion_degree() as u64,
        sector["expander_degree"].as_u64().unwrap()
    );
    assert_eq!(
        proof.partitions() as u64,
        sector["porep_partitions"].as_u64().unwrap()
    );
    assert_eq!(
        proof.challenges_per_partition() as u64,
        sector["porep_challenges_per_partition"].as_u64().unwrap()
    );
    assert_eq!(
        format!("merkletree-poseidon_hasher-{}", proof.tree_shape()),
        str_of(sector, "tree_r_shape")
    );
    assert_eq!(
        proof.unpadded_sector_size(),
        sector["unpadded_capacity_bytes"].as_u64().unwrap()
    );
    let post = proof.window_post();
    assert_eq!(
        post.name(),
        str_of(&sector["window_post"], "registered_post_proof")
    );
    assert_eq!(
        post.sector_count() as u64,
        sector["window_post"]["sector_count_per_partition"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(
        post.challenge_count() as u64,
        sector["window_post"]["challenge_count_per_sector"]
            .as_u64()
            .unwrap()
    );

    // The graph.
    let graph = StackedGraph::for_proof(proof);
    assert_eq!(
        hex::encode(graph.drg_seed()),
        str_of(&sector["graph"], "drg_seed_hex")
    );
    assert_eq!(graph.identifier(), str_of(&sector["graph"], "identifier"));
    let rows = sector["graph"]["parents"].as_array().unwrap();
    assert!(rows.len() >= 4);
    for row in rows {
        let node = row["node"].as_u64().unwrap() as u32;
        assert_eq!(
            graph.drg_parents(node).to_vec(),
            u32s(&row["drg"]),
            "drg parents of {node}"
        );
        assert_eq!(
            graph.expander_parents(node).to_vec(),
            u32s(&row["expander"]),
            "expander parents of {node}"
        );
    }

    // The parent cache file: name, size and digest.
    let cache = generate_parent_cache(&graph, cache_dir, 2).unwrap();
    let pc = &sector["parent_cache"];
    assert_eq!(
        cache.path.file_name().unwrap().to_str(),
        Some(str_of(pc, "file"))
    );
    assert_eq!(
        parent_cache_len(graph.nodes()),
        pc["size"].as_u64().unwrap()
    );
    assert_eq!(cache.sha256_hex(), str_of(pc, "sha256"));
    assert_eq!(proof.parent_cache_sha256(), str_of(pc, "sha256"));
    (proof, graph, cache.path)
}

/// Every check, graph and all three cases, for the sector of `size` bytes.
fn check_sector_size(size: u64) {
    let cache_dir = tempfile::tempdir().unwrap();
    let (proof, graph, cache) = check_graph(size, cache_dir.path());
    let fx = fixture();
    let cases = sector_of(&fx, size)["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        check_case(proof, &graph, &cache, case);
    }
}

fn check_case(proof: SealProof, graph: &StackedGraph, cache: &Path, case: &Value) {
    let name = format!("{} case {}", proof, str_of(case, "name"));
    let inputs = &case["inputs"];

    // Payload, then the staged (fr32-padded) sector.
    let unpadded = case["data"]["unpadded_len"].as_u64().unwrap();
    assert_eq!(unpadded, proof.unpadded_sector_size(), "{name}");
    let data = payload(str_of(inputs, "data"), unpadded as usize);
    check_blob(&format!("{name}: data"), &data, &case["data"]);
    let staged = fr32::pad(&data);
    assert_eq!(staged.len() as u64, proof.sector_size());
    check_blob(&format!("{name}: staged"), &staged, &case["staged_sector"]);

    // CommD: one piece filling the sector, so CommP of the payload.
    let piece = commp(&data).unwrap();
    assert_eq!(piece.padded_size, proof.sector_size());
    assert_eq!(
        hex::encode(piece.comm_p),
        str_of(&case["piece"], "comm_p_hex"),
        "{name}"
    );
    assert_eq!(
        hex::encode(piece.comm_p),
        str_of(case, "comm_d_hex"),
        "{name}: CommD"
    );
    assert_eq!(
        piece.cid_v1().unwrap().to_string(),
        str_of(case, "comm_d_cid"),
        "{name}"
    );

    // The replica id.
    let rid = replica_id(
        &ProverId(bytes32(inputs, "prover_id_hex")),
        SectorId(inputs["sector_id"].as_u64().unwrap()),
        &Ticket(bytes32(inputs, "ticket_hex")),
        &piece.comm_p,
        &proof.porep_id(),
    );
    assert_eq!(
        rid.to_string(),
        str_of(case, "replica_id_hex"),
        "{name}: replica id"
    );

    // The label layers, through the parent cache file.
    let sector_dir = tempfile::tempdir().unwrap();
    let mut parents = ParentCacheReader::open(cache, graph.nodes()).unwrap();
    let layers =
        generate_layers(graph, &mut parents, &rid, proof.layers(), sector_dir.path()).unwrap();
    let expect_layers = case["label_layers"].as_array().unwrap();
    assert_eq!(layers.len(), expect_layers.len(), "{name}");
    for (path, want) in layers.iter().zip(expect_layers) {
        let layer = want["layer"].as_u64().unwrap();
        assert_eq!(
            path.file_name().unwrap().to_str(),
            Some(str_of(want, "file"))
        );
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(bytes.len() as u64, proof.sector_size());
        assert_eq!(
            sha256_hex(&bytes),
            str_of(want, "sha256"),
            "{name}: layer {layer}"
        );
        assert_eq!(
            hex::encode(&bytes[..32]),
            str_of(want, "label_node_0"),
            "{name}: layer {layer}"
        );
        assert_eq!(
            hex::encode(&bytes[bytes.len() - 32..]),
            str_of(want, "label_last_node"),
            "{name}: layer {layer}"
        );
        // The same file, as the cache folder listing records it.
        let listed = case["cache_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == want["file"])
            .unwrap();
        assert_eq!(sha256_hex(&bytes), str_of(listed, "sha256"));
    }

    // The sealed replica: staged data plus the last layer, in Fr.
    let staged_path = sector_dir.path().join("staged");
    std::fs::write(&staged_path, &staged).unwrap();
    let sealed_path = sector_dir.path().join("sealed");
    let key = layers.last().unwrap();
    encode_file(&staged_path, key, &sealed_path).unwrap();
    let sealed = std::fs::read(&sealed_path).unwrap();
    check_blob(&format!("{name}: sealed"), &sealed, &case["sealed_replica"]);
    // Unsealing gives the staged sector back.
    let unsealed_path = sector_dir.path().join("unsealed");
    decode_file(&sealed_path, key, &unsealed_path).unwrap();
    assert!(
        std::fs::read(&unsealed_path).unwrap() == staged,
        "{name}: unseal"
    );

    // Interactive PoRep challenges and their parents.
    let pc = &case["porep_challenges"];
    let seed = Seed(bytes32(inputs, "seed_hex"));
    assert_eq!(seed.0, bytes32(pc, "seed_hex"));
    for partition in pc["partitions"].as_array().unwrap() {
        let k = partition["k"].as_u64().unwrap() as usize;
        let got: Vec<u32> = porep_challenges(
            u64::from(proof.nodes()),
            ReplicaId(rid.0).as_bytes(),
            seed.as_bytes(),
            proof.challenges_per_partition(),
            k,
        )
        .unwrap()
        .into_iter()
        .map(|c| c as u32)
        .collect();
        assert_eq!(
            got,
            u32s(&partition["challenges"]),
            "{name}: challenges of partition {k}"
        );
        for cp in partition["challenge_parents"].as_array().unwrap() {
            let node = cp["node"].as_u64().unwrap() as u32;
            let p = graph.parents(node);
            assert_eq!(
                p[..6].to_vec(),
                u32s(&cp["drg"]),
                "{name}: drg parents of {node}"
            );
            assert_eq!(
                p[6..].to_vec(),
                u32s(&cp["expander"]),
                "{name}: exp parents of {node}"
            );
        }
    }
}

#[test]
fn sdr_2kib_matches_filecoin_proofs() {
    check_sector_size(2048);
}

/// The 8 MiB graph and its 14 MiB parent cache: about a second.
#[test]
fn graph_8mib_matches_filecoin_proofs() {
    let cache_dir = tempfile::tempdir().unwrap();
    check_graph(8 << 20, cache_dir.path());
}

#[test]
#[ignore = "8 MiB sectors: two 8 MiB layers per case; runs in .ci/full"]
fn sdr_8mib_matches_filecoin_proofs() {
    check_sector_size(8 << 20);
}
