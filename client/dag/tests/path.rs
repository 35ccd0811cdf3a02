//! Path resolution and listing through plain and sharded directories, the
//! ways both refuse bad input, and `add_dir` on a real directory tree.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;

use cairn_dag::fs::add_dir_with;
use cairn_dag::hamt::{HASH_MURMUR3, murmur3_x64_128};
use cairn_dag::pb::{PbLink, PbNode};
use cairn_dag::reader::SourceError;
use cairn_dag::unixfs::{DataType, UnixFsData};
use cairn_dag::{
    AddError, AddOptions, Block, BlockSource, DagError, DirBuilder, DirLink, Profile, VerifyError,
    add_dir, list_dir, resolve_path,
};
use cid::Cid;
use common::{Store, hamt_dir, hamt_name, small_dir};

/// A block source that counts reads, to check what a lookup touches.
struct Counting<'a> {
    store: &'a Store,
    reads: Cell<usize>,
}

impl BlockSource for Counting<'_> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        self.reads.set(self.reads.get() + 1);
        self.store.get_block(cid)
    }
}

fn listing(store: &Store, dir: Cid) -> Vec<DirLink> {
    list_dir(store, dir)
        .and_then(|list| list.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn resolves_through_plain_directories() {
    for p in Profile::ALL {
        let mut store = Store::new();
        let (root, sub) = small_dir(p, &mut store);
        let a = common::file(p, b"hello world", &mut Store::new()).cid;
        let b = common::file(p, &common::xorshift_bytes(1000), &mut Store::new()).cid;
        let ok = |segments: &[&str]| {
            resolve_path(&store, root.cid, segments)
                .unwrap_or_else(|e| panic!("{p} {segments:?}: {e}"))
        };
        assert_eq!(ok(&[]), root.cid);
        assert_eq!(ok(&["a.txt"]), a);
        assert_eq!(ok(&["sub"]), sub.cid);
        assert_eq!(ok(&["sub", "b.bin"]), b);

        let err = resolve_path(&store, root.cid, &["sub", "nope"]);
        assert!(
            matches!(&err, Err(DagError::NotFound { path, parent }) if path == "sub/nope" && *parent == sub.cid),
            "{p}: {err:?}"
        );
        // Names match whole and case-sensitively.
        for missing in ["a.tx", "A.TXT", "a.txt ", ""] {
            assert!(
                matches!(
                    resolve_path(&store, root.cid, &[missing]),
                    Err(DagError::NotFound { .. })
                ),
                "{missing:?}"
            );
        }
        // A file is a raw block under v1 and a dag-pb File node under legacy;
        // both are "not a directory".
        let err = resolve_path(&store, root.cid, &["a.txt", "x"]);
        assert!(
            matches!(&err, Err(DagError::NotADirectory { path, segment, cid, kind: "file" })
                if path == "a.txt" && segment == "x" && *cid == a),
            "{p}: {err:?}"
        );

        let entries = listing(&store, root.cid);
        let names: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.cid)).collect();
        assert_eq!(names, [("a.txt", a), ("sub", sub.cid)]);
        assert_eq!(entries[1].size, Some(sub.dag_size));
        assert!(matches!(
            list_dir(&store, a),
            Err(DagError::NotADirectory { kind: "file", .. })
        ));
    }
}

#[test]
fn resolves_and_lists_through_shards() {
    for p in Profile::ALL {
        let mut store = Store::new();
        let (root, _) = hamt_dir(p, 10_000, &mut store);
        assert!(root.sharded);
        let source = Counting {
            store: &store,
            reads: Cell::new(0),
        };
        let mut reads_by_depth = BTreeMap::new();
        for i in 0..10_000 {
            let name = hamt_name(i);
            let want = common::file(p, name.as_bytes(), &mut Store::new());
            source.reads.set(0);
            let got = resolve_path(&source, root.cid, &[&name])
                .unwrap_or_else(|e| panic!("{p} {name}: {e}"));
            assert_eq!(got, want.cid, "{p} {name}");
            *reads_by_depth.entry(source.reads.get()).or_insert(0) += 1;
        }
        // Only the shards on a name's path are read: one block per level.
        // The oracle's hamt-10000 is 4 levels deep (max_depth 3), so some
        // names live in a sub-sub-sub-shard and none deeper.
        assert_eq!(
            reads_by_depth.keys().copied().collect::<Vec<_>>(),
            [2, 3, 4],
            "{p}"
        );
        assert!(reads_by_depth[&4] >= 1);

        for absent in ["file-10000", "file-99999", "File-00000", "file-0000", ""] {
            let err = resolve_path(&store, root.cid, &[absent]);
            assert!(
                matches!(&err, Err(DagError::NotFound { path, parent }) if path == absent && *parent == root.cid),
                "{p} {absent:?}: {err:?}"
            );
        }
        let file = resolve_path(&store, root.cid, &["file-04242"]).unwrap_or_default();
        assert!(
            matches!(resolve_path(&store, root.cid, &["file-04242", "x"]), Err(DagError::NotADirectory { cid, .. }) if cid == file)
        );

        let entries = listing(&store, root.cid);
        assert_eq!(entries.len(), 10_000);
        let mut names: Vec<_> = entries.iter().map(|e| e.name.clone()).collect();
        names.sort();
        assert_eq!(names, (0..10_000).map(hamt_name).collect::<Vec<_>>());
        for e in &entries {
            let want = common::file(p, e.name.as_bytes(), &mut Store::new());
            assert_eq!(
                (e.cid, e.size),
                (want.cid, Some(want.dag_size)),
                "{p} {}",
                e.name
            );
        }
    }
}

#[test]
fn resolves_through_a_shard_inside_a_plain_directory() {
    let p = Profile::UnixfsV1_2025;
    let mut store = Store::new();
    let (shard, _) = hamt_dir(p, 4855, &mut store);
    let mut top = DirBuilder::new(p);
    top.add_dir("big", &shard).unwrap_or_else(|e| panic!("{e}"));
    let top = top
        .finish(&mut common::keep(&mut store))
        .unwrap_or_else(|e| panic!("{e}"));
    let want = common::file(p, b"file-04854", &mut Store::new()).cid;
    assert_eq!(
        resolve_path(&store, top.cid, &["big", "file-04854"]).ok(),
        Some(want)
    );
    let err = resolve_path(&store, top.cid, &["big", "file-04855"]);
    assert!(
        matches!(&err, Err(DagError::NotFound { path, parent }) if path == "big/file-04855" && *parent == shard.cid),
        "{err:?}"
    );
}

/// A shard's sub-shard CIDs, in link order.
fn subshards(store: &Store, shard: &Cid) -> Vec<Cid> {
    let node = PbNode::decode(&store[shard]).unwrap_or_default();
    node.links
        .iter()
        .filter(|l| l.name.as_deref().map(str::len) == Some(2))
        .map(|l| l.cid)
        .collect()
}

#[test]
fn missing_and_corrupt_shards_are_named() {
    let p = Profile::KuboLegacy;
    let mut store = Store::new();
    let (root, _) = hamt_dir(p, 6000, &mut store);
    let sub = subshards(&store, &root.cid)[0];
    let mut corrupt = store.clone();
    corrupt.insert(sub, b"not the block".to_vec());
    let err = list_dir(&corrupt, root.cid).map(|l| l.filter_map(Result::err).next());
    assert!(
        matches!(err, Ok(Some(DagError::Verify(VerifyError::HashMismatch { cid, .. }))) if cid == sub)
    );
    corrupt.remove(&sub);
    let err = list_dir(&corrupt, root.cid).map(|l| l.filter_map(Result::err).next());
    assert!(matches!(err, Ok(Some(DagError::MissingBlock { cid })) if cid == sub));
    // A lookup fails the same way only if its path needs that shard.
    let errors = (0..6000)
        .filter_map(|i| resolve_path(&corrupt, root.cid, &[&hamt_name(i)]).err())
        .map(|e| matches!(e, DagError::MissingBlock { cid } if cid == sub))
        .collect::<Vec<_>>();
    assert!(!errors.is_empty() && errors.iter().all(|&missing| missing));
    assert!(
        errors.len() < 100,
        "{} lookups touched one of 256 sub-shards",
        errors.len()
    );
}

/// A one-block shard with hand-made links and data.
fn shard_block(p: Profile, links: Vec<PbLink>, data: UnixFsData) -> Block {
    let bytes = PbNode {
        links,
        data: Some(data.encode()),
    }
    .encode();
    Block {
        cid: p.dag_pb_cid(&bytes),
        data: bytes,
    }
}

fn shard_data(bitfield: Vec<u8>) -> UnixFsData {
    UnixFsData {
        data: Some(bitfield),
        hash_type: Some(HASH_MURMUR3),
        fanout: Some(256),
        ..UnixFsData::of_kind(DataType::HamtShard)
    }
}

#[test]
fn malformed_shards_are_refused() {
    let p = Profile::UnixfsV1_2025;
    let leaf = p.raw_leaf_cid(b"x");
    let link = |name: &str| PbLink {
        cid: leaf,
        name: Some(name.to_owned()),
        tsize: Some(1),
    };
    // "file-00000" hashes to slot 0x15 at the root.
    assert_eq!(murmur3_x64_128(b"file-00000", 0).0 >> 56, 0x15);
    let rows: Vec<(&str, Vec<PbLink>, UnixFsData)> = vec![
        (
            "entry in the wrong slot",
            vec![link("00file-00000")],
            shard_data(vec![0x01]),
        ),
        ("bitfield without a link", vec![], shard_data(vec![0x01])),
        (
            "link without its bit",
            vec![link("15file-00000")],
            shard_data(vec![0x02]),
        ),
        (
            "lowercase prefix",
            vec![link("0afile-00000")],
            shard_data(vec![0x04, 0x00]),
        ),
        (
            "not murmur3",
            vec![link("15file-00000")],
            UnixFsData {
                hash_type: Some(0x23),
                ..shard_data(vec![0x20, 0, 0])
            },
        ),
        (
            "fanout not a power of two",
            vec![],
            UnixFsData {
                fanout: Some(100),
                ..shard_data(vec![])
            },
        ),
        (
            "bitfield wider than fanout",
            vec![],
            shard_data(vec![0; 33]),
        ),
    ];
    for (why, links, data) in rows {
        let block = shard_block(p, links, data);
        let store: Store = [(block.cid, block.data)].into();
        let listed = list_dir(&store, block.cid).and_then(|l| l.collect::<Result<Vec<_>, _>>());
        assert!(
            matches!(listed, Err(DagError::Inconsistent { .. })),
            "{why}: {listed:?}"
        );
    }
    // A well-formed one-entry shard lists and resolves.
    let good = shard_block(p, vec![link("15file-00000")], shard_data(vec![0x20, 0, 0]));
    let store: Store = [(good.cid, good.data)].into();
    assert_eq!(listing(&store, good.cid).len(), 1);
    assert_eq!(
        resolve_path(&store, good.cid, &["file-00000"]).ok(),
        Some(leaf)
    );
}

#[cfg(unix)]
#[test]
fn add_dir_matches_the_oracle_and_kubo_defaults() {
    use std::os::unix::ffi::OsStrExt;

    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let small = tmp.path().join("small");
    std::fs::create_dir_all(small.join("sub")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(small.join("a.txt"), b"hello world").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(small.join("sub/b.bin"), common::xorshift_bytes(1000))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(small.join(".hidden"), b"secret").unwrap_or_else(|e| panic!("{e}"));
    let add = |path: &std::path::Path, options: AddOptions| {
        let mut store = Store::new();
        let root = add_dir_with(path, options, &mut |b: Block| {
            store.insert(b.cid, b.data);
            Ok::<(), std::io::Error>(())
        });
        (root, store)
    };
    // The oracle's `small` directory, hidden file skipped as kubo does.
    for (p, want) in [
        (
            Profile::KuboLegacy,
            "QmbTAJvgC4pvBW5axJjHsnAXfih7yt12yK5LHjk9S3L68M",
        ),
        (
            Profile::UnixfsV1_2025,
            "bafybeiaxq7gonrcqcqwfj2bnwluvwbdidk6q2fehufweffp56kouqn7h2a",
        ),
    ] {
        let (root, store) = add(&small, AddOptions::new(p));
        let root = root.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.cid.to_string(), want);
        assert_eq!(store.len(), 4);
        let (with_hidden, _) = add(
            &small,
            AddOptions {
                profile: p,
                include_hidden: true,
            },
        );
        let with_hidden = with_hidden.unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(with_hidden.cid, root.cid);
    }

    // A symlink is stored as a UnixFS Symlink node, not followed.
    std::os::unix::fs::symlink("a.txt", small.join("link")).unwrap_or_else(|e| panic!("{e}"));
    let (root, store) = add(&small, AddOptions::new(Profile::UnixfsV1_2025));
    let root = root.unwrap_or_else(|e| panic!("{e}"));
    let link = resolve_path(&store, root.cid, &["link"]).unwrap_or_else(|e| panic!("{e}"));
    let data = PbNode::decode(&store[&link])
        .ok()
        .and_then(|n| n.data)
        .and_then(|d| UnixFsData::decode(&d).ok());
    assert_eq!(
        data.map(|d| (d.kind, d.data)),
        Some((DataType::Symlink, Some(b"a.txt".to_vec())))
    );
    assert!(matches!(
        resolve_path(&store, root.cid, &["link", "x"]),
        Err(DagError::NotADirectory {
            kind: "symlink",
            ..
        })
    ));

    // The v1 HAMT threshold directory, from disk.
    let big = tmp.path().join("big");
    std::fs::create_dir(&big).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..4855 {
        std::fs::write(big.join(hamt_name(i)), hamt_name(i)).unwrap_or_else(|e| panic!("{e}"));
    }
    let (root, _) = add(&big, AddOptions::new(Profile::UnixfsV1_2025));
    assert_eq!(
        root.map(|r| (r.cid.to_string(), r.sharded)).ok(),
        Some((
            "bafybeibmdnmsnvraaduokeirac63dmxvinx6xorkqmagtubslgykhoociq".to_owned(),
            true
        ))
    );

    // Refusals, each naming the offending path.
    let (err, _) = add(
        &small.join("a.txt"),
        AddOptions::new(Profile::UnixfsV1_2025),
    );
    assert!(matches!(err, Err(AddError::NotADirectory { .. })));
    let odd = tmp.path().join("odd");
    std::fs::create_dir(&odd).unwrap_or_else(|e| panic!("{e}"));
    let bad_name = odd.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::write(&bad_name, b"x").unwrap_or_else(|e| panic!("{e}"));
    let (err, _) = add(&odd, AddOptions::new(Profile::UnixfsV1_2025));
    assert!(
        matches!(&err, Err(AddError::NonUtf8Name { path }) if *path == bad_name),
        "{err:?}"
    );
    std::fs::remove_file(&bad_name).unwrap_or_else(|e| panic!("{e}"));
    let socket = odd.join("sock");
    let _listener =
        std::os::unix::net::UnixListener::bind(&socket).unwrap_or_else(|e| panic!("{e}"));
    let (err, _) = add(&odd, AddOptions::new(Profile::UnixfsV1_2025));
    assert!(
        matches!(&err, Err(AddError::Unsupported { path, kind: "socket" }) if *path == socket),
        "{err:?}"
    );
    // A failing sink stops the walk with its error.
    let failed = add_dir(&small, Profile::UnixfsV1_2025, &mut |_: Block| {
        Err(std::io::Error::other("disk full"))
    });
    assert!(
        matches!(&failed, Err(AddError::Sink { source }) if source.to_string() == "disk full"),
        "{failed:?}"
    );
}
