//! CAR v1 round trips and every way a CAR can be refused.

use std::collections::HashMap;

use cairn_dag::car::{
    CarError, CarReader, DagWalk, Scope, WalkOptions, car_header, export_car, frame_prefix,
};
use cairn_dag::{Block, Profile, build_file, varint};
use cid::Cid;

fn dag(profile: Profile, len: usize) -> (Cid, HashMap<Cid, Vec<u8>>, Vec<u8>) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 9)) as u8)
        .collect();
    let mut blocks = HashMap::new();
    let root = build_file(profile, &data, &mut |b: Block| {
        blocks.insert(b.cid, b.data);
        Ok::<(), ()>(())
    })
    .map(|r| r.cid)
    .unwrap_or_default();
    (root, blocks, data)
}

fn export(root: Cid, blocks: &HashMap<Cid, Vec<u8>>, options: WalkOptions) -> Vec<u8> {
    let mut out = Vec::new();
    export_car(blocks, root, options, &mut out).unwrap_or_else(|e| panic!("export: {e}"));
    out
}

type Blocks = HashMap<Cid, Vec<u8>>;

fn import(car: Vec<u8>) -> Result<(Vec<Cid>, Blocks), CarError> {
    let mut reader = CarReader::new(std::io::Cursor::new(car))?;
    let mut blocks = HashMap::new();
    while let Some(b) = reader.next_block()? {
        blocks.insert(b.cid, b.data);
    }
    let summary = reader.finish()?;
    Ok((summary.roots, blocks))
}

#[test]
fn round_trip_preserves_every_block_and_the_root() {
    for profile in Profile::ALL {
        let (root, blocks, data) = dag(profile, 3 * profile.chunk_size() + 100);
        let car = export(root, &blocks, WalkOptions::default());
        let (roots, back) = import(car).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(roots, vec![root]);
        assert_eq!(back, blocks);
        let bytes: Vec<u8> = cairn_dag::reader::FileReader::new(&back, root)
            .collect::<Result<Vec<_>, _>>()
            .map(|p| p.concat())
            .unwrap_or_default();
        assert_eq!(bytes, data);
    }
}

#[test]
fn export_is_depth_first_without_duplicates() {
    // Zero-filled: every leaf is the same block.
    let data = vec![0u8; 5 * (256 << 10)];
    let mut blocks = HashMap::new();
    let root = build_file(Profile::KuboLegacy, &data, &mut |b: Block| {
        blocks.insert(b.cid, b.data);
        Ok::<(), ()>(())
    })
    .map(|r| r.cid)
    .unwrap_or_default();
    let order: Vec<Cid> = DagWalk::new(&blocks, root, WalkOptions::default())
        .map(|b| b.map(|b| b.cid))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    assert_eq!(order.len(), 2, "root then the one distinct leaf");
    assert_eq!(order[0], root);
    let with_dups = DagWalk::new(
        &blocks,
        root,
        WalkOptions {
            dups: true,
            ..WalkOptions::default()
        },
    )
    .count();
    assert_eq!(with_dups, 6);
    let block_only = DagWalk::new(
        &blocks,
        root,
        WalkOptions {
            scope: Scope::Block,
            ..WalkOptions::default()
        },
    )
    .count();
    assert_eq!(block_only, 1);
}

#[test]
fn entity_range_walk_covers_only_the_range() {
    let (root, blocks, _) = dag(Profile::KuboLegacy, 10 * (256 << 10));
    let options = WalkOptions {
        scope: Scope::Entity,
        dups: false,
        range: Some((300_000, 300_010)),
    };
    let walked: Vec<Cid> = DagWalk::new(&blocks, root, options)
        .map(|b| b.map(|b| b.cid))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    assert_eq!(
        walked.len(),
        2,
        "the root and the one leaf holding bytes 300000..300010"
    );
}

fn valid_car() -> (Cid, Vec<u8>) {
    let (root, blocks, _) = dag(Profile::KuboLegacy, 3 * (256 << 10));
    (root, export(root, &blocks, WalkOptions::default()))
}

#[test]
fn bad_header_is_refused() {
    assert!(matches!(import(vec![]), Err(CarError::BadHeader { .. })));
    assert!(matches!(
        import(vec![0x02, 0xa0, 0x00]),
        Err(CarError::BadHeader { .. })
    ));
    // {"version": 1} with no roots.
    let mut no_roots = vec![0x0a, 0xa1, 0x67];
    no_roots.extend_from_slice(b"version");
    no_roots.push(0x01);
    assert!(matches!(import(no_roots), Err(CarError::BadHeader { .. })));
    // Version 3.
    let mut v3 = vec![0x0a, 0xa1, 0x67];
    v3.extend_from_slice(b"version");
    v3.push(0x03);
    assert!(matches!(
        import(v3),
        Err(CarError::UnsupportedVersion { version: 3 })
    ));
}

#[test]
fn bad_varint_is_refused() {
    let (_, mut car) = valid_car();
    car.extend_from_slice(&[0xff; 11]);
    assert!(matches!(import(car), Err(CarError::BadVarint { .. })));
}

#[test]
fn truncated_block_is_refused() {
    let (_, mut car) = valid_car();
    car.truncate(car.len() - 10);
    assert!(matches!(import(car), Err(CarError::TruncatedBlock { .. })));
}

#[test]
fn hash_mismatch_is_refused() {
    let (_, mut car) = valid_car();
    let last = car.len() - 1;
    car[last] ^= 1;
    assert!(matches!(import(car), Err(CarError::HashMismatch { .. })));
}

#[test]
fn missing_block_is_refused() {
    let (root, blocks, _) = dag(Profile::KuboLegacy, 3 * (256 << 10));
    let mut car = car_header(&[root]);
    let root_block = &blocks[&root];
    car.extend_from_slice(&frame_prefix(&root, root_block.len()));
    car.extend_from_slice(root_block);
    assert!(matches!(import(car), Err(CarError::MissingBlock { .. })));
}

#[test]
fn root_not_in_car_is_refused() {
    let (root, blocks, _) = dag(Profile::UnixfsV1_2025, 10);
    let other = Profile::UnixfsV1_2025.raw_leaf_cid(b"not here");
    let mut car = car_header(&[other]);
    car.extend_from_slice(&frame_prefix(&root, blocks[&root].len()));
    car.extend_from_slice(&blocks[&root]);
    assert!(matches!(import(car), Err(CarError::RootNotInCar { cid }) if cid == other));
}

#[test]
fn oversized_frame_is_refused_before_allocation() {
    let (root, _, _) = dag(Profile::UnixfsV1_2025, 10);
    let mut car = car_header(&[root]);
    varint::encode(1 << 40, &mut car);
    assert!(matches!(import(car), Err(CarError::FrameTooLarge { .. })));
}
