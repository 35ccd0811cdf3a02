//! PoRep and WindowPoSt challenges against rust-fil-proofs 19.1.0
//! (`fixtures/fil-proofs-19.1.0-sdr-vectors.json`, every case of every
//! sector size: the PoRep challenges were checked there against Commit 1's
//! proofs, the WindowPoSt ones come from `generate_fallback_sector_challenges`).

use cairn_proofs::challenges::{PostRandomness, porep_challenges, window_post_challenges};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/fil-proofs-19.1.0-sdr-vectors.json");
    serde_json::from_str(text).unwrap()
}

fn b32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn nums(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

#[test]
fn porep_challenges_match_filecoin() {
    let mut checked = 0;
    for size in fixture()["sector_sizes"].as_array().unwrap() {
        let nodes = size["nodes"].as_u64().unwrap();
        let per = size["porep_challenges_per_partition"].as_u64().unwrap() as usize;
        for case in size["cases"].as_array().unwrap() {
            let replica_id = b32(&case["replica_id_hex"]);
            let pc = &case["porep_challenges"];
            let seed = b32(&pc["seed_hex"]);
            for part in pc["partitions"].as_array().unwrap() {
                let k = part["k"].as_u64().unwrap() as usize;
                let ours = porep_challenges(nodes, &replica_id, &seed, per, k).unwrap();
                assert_eq!(
                    ours,
                    nums(&part["challenges"]),
                    "{} case {}",
                    size["sector_size_name"],
                    case["name"]
                );
                checked += 1;
            }
            // Another seed gives other challenges.
            let mut other = seed;
            other[0] ^= 1;
            assert_ne!(
                porep_challenges(nodes, &replica_id, &other, 8, 0).unwrap(),
                porep_challenges(nodes, &replica_id, &seed, 8, 0).unwrap()
            );
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn window_post_challenges_match_filecoin() {
    let mut checked = 0;
    for size in fixture()["sector_sizes"].as_array().unwrap() {
        let nodes = size["nodes"].as_u64().unwrap();
        let count = size["window_post"]["challenge_count_per_sector"]
            .as_u64()
            .unwrap() as usize;
        for case in size["cases"].as_array().unwrap() {
            let sector_id = case["inputs"]["sector_id"].as_u64().unwrap();
            let wp = &case["window_post"];
            let unmasked = b32(&wp["unmasked"]["randomness_hex"]);
            let r = PostRandomness::new(unmasked).unwrap();
            assert_eq!(
                window_post_challenges(&r, sector_id, nodes, count).unwrap(),
                nums(&wp["unmasked"]["leaf_challenges"])
            );
            // Lotus masks chain randomness; the fixture's masked vector is that.
            let masked = PostRandomness::from_chain(unmasked);
            assert_eq!(
                masked.as_bytes(),
                &b32(&wp["lotus_masked"]["randomness_hex"])
            );
            assert_eq!(
                window_post_challenges(&masked, sector_id, nodes, count).unwrap(),
                nums(&wp["lotus_masked"]["leaf_challenges"])
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}
