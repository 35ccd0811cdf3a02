//! The seed corpora: real inputs made with cairn-dag, plus hand-made edge
//! cases, written under `corpus/<target>/` with descriptive names.
//!
//! Regenerate with `cargo test -- --ignored make_seed_corpus` (deterministic:
//! an unchanged generator rewrites identical files). Inputs libFuzzer found
//! live next to these under hash names and are never touched here.

mod proofs;

use std::collections::HashMap;
use std::path::PathBuf;

use cairn_dag::car::{CarWriter, WalkOptions, car_header, export_car, frame_prefix};
use cairn_dag::pb::{PbLink, PbNode};
use cairn_dag::profile::{dag_pb_cid, raw_cid};
use cairn_dag::unixfs::{DataType, UnixFsData};
use cairn_dag::{Block, DirBuilder, FileBuilder, Layout, Profile, build_file, varint};
use cid::multihash::Multihash;
use cid::{Cid, Version};

type Blocks = HashMap<Cid, Vec<u8>>;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = PathBuf::from(root).join("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 7) as u8)
        .collect()
}

/// A file DAG with a small layout, so a multi-level tree fits in a small seed.
fn small_file(data: &[u8], raw_leaves: bool, cid_version: Version) -> (Cid, Blocks) {
    let layout = Layout {
        chunk_size: 16,
        max_links: 3,
        raw_leaves,
        cid_version,
    };
    let mut builder = FileBuilder::with_layout(layout).unwrap_or_else(|e| panic!("{e}"));
    let mut blocks = Blocks::new();
    let mut sink = |b: Block| {
        blocks.insert(b.cid, b.data);
        Ok::<(), ()>(())
    };
    builder.write(data, &mut sink).unwrap_or_default();
    let root = builder.finish(&mut sink).map(|r| r.cid).unwrap_or_default();
    (root, blocks)
}

fn profile_file(profile: Profile, data: &[u8]) -> (Cid, Blocks) {
    let mut blocks = Blocks::new();
    let root = build_file(profile, data, &mut |b: Block| {
        blocks.insert(b.cid, b.data);
        Ok::<(), ()>(())
    })
    .map(|r| r.cid)
    .unwrap_or_default();
    (root, blocks)
}

fn directory() -> (Cid, Blocks) {
    let mut blocks = Blocks::new();
    let mut dir = DirBuilder::new(Profile::UnixfsV1_2025);
    for (name, body) in [
        ("a.txt", &b"alpha\n"[..]),
        ("b.bin", &pattern(40, 7)[..]),
        ("empty", &b""[..]),
    ] {
        let root = build_file(Profile::UnixfsV1_2025, body, &mut |b: Block| {
            blocks.insert(b.cid, b.data);
            Ok::<(), ()>(())
        })
        .unwrap_or_else(|()| panic!("file"));
        dir.add_file(name, &root).unwrap_or_else(|e| panic!("{e}"));
    }
    let root = dir
        .finish(&mut |b: Block| {
            blocks.insert(b.cid, b.data);
            Ok::<(), cairn_dag::DirError>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    (root.cid, blocks)
}

fn export(root: Cid, blocks: &Blocks) -> Vec<u8> {
    let mut out = Vec::new();
    export_car(blocks, root, WalkOptions::default(), &mut out)
        .unwrap_or_else(|e| panic!("export: {e}"));
    out
}

/// A CAR v2 wrapping `v1` (pragma, 40-byte header, payload, no index).
fn car_v2(v1: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0x0a, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02,
    ];
    out.extend_from_slice(&[0u8; 16]);
    let data_offset = 11 + 40u64;
    out.extend_from_slice(&data_offset.to_le_bytes());
    out.extend_from_slice(&(v1.len() as u64).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(v1);
    out
}

fn identity_cid(data: &[u8]) -> Cid {
    Cid::new_v1(
        cairn_dag::CODEC_RAW,
        Multihash::wrap(cairn_dag::MH_IDENTITY, data).unwrap_or_default(),
    )
}

fn car_seeds() {
    let t = "car_reader";
    let (root, blocks) = small_file(&pattern(100, 1), true, Version::V1);
    let multi = export(root, &blocks);
    write(t, "v1-file-balanced-raw-leaves.car", &multi);
    let (root0, blocks0) = small_file(&pattern(60, 2), false, Version::V0);
    let legacy_tree = export(root0, &blocks0);
    write(t, "v1-file-balanced-v0-pb-leaves.car", &legacy_tree);
    let (r, b) = profile_file(Profile::KuboLegacy, b"hello world\n");
    write(t, "v1-file-kubo-legacy-one-block.car", &export(r, &b));
    let (r, b) = profile_file(Profile::UnixfsV1_2025, b"hello world\n");
    write(t, "v1-file-unixfs-2025-raw-leaf.car", &export(r, &b));
    let (r, b) = profile_file(Profile::UnixfsV1_2025, b"");
    write(t, "v1-file-empty.car", &export(r, &b));
    let (dir_root, dir_blocks) = directory();
    let dir_car = export(dir_root, &dir_blocks);
    write(t, "v1-directory.car", &dir_car);
    write(t, "v2-wrapping-v1.car", &car_v2(&multi));

    // Identity-hashed root, and the same block twice.
    let id = identity_cid(b"inline");
    let mut w = CarWriter::new(Vec::new(), &[id]).unwrap_or_else(|e| panic!("{e}"));
    w.write_block(&id, b"inline")
        .unwrap_or_else(|e| panic!("{e}"));
    w.write_block(&id, b"inline")
        .unwrap_or_else(|e| panic!("{e}"));
    write(
        t,
        "v1-identity-root-duplicated.car",
        &w.finish().unwrap_or_default(),
    );

    // Two roots, both present.
    let a = raw_cid(b"a");
    let b = raw_cid(b"b");
    let mut w = CarWriter::new(Vec::new(), &[a, b]).unwrap_or_else(|e| panic!("{e}"));
    w.write_block(&b, b"b").unwrap_or_else(|e| panic!("{e}"));
    w.write_block(&a, b"a").unwrap_or_else(|e| panic!("{e}"));
    write(t, "v1-two-roots.car", &w.finish().unwrap_or_default());

    // Refusals.
    write(t, "bad-empty.car", b"");
    write(t, "bad-header-only.car", &car_header(&[root]));
    write(
        t,
        "bad-truncated-in-block.car",
        multi.get(..multi.len() - 5).unwrap_or_default(),
    );
    write(
        t,
        "bad-truncated-in-header.car",
        multi.get(..20).unwrap_or_default(),
    );
    let mut flipped = multi.clone();
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
    }
    write(t, "bad-hash-mismatch.car", &flipped);
    // The root and first leaf only: the DAG is incomplete.
    let walk: Vec<Block> = cairn_dag::car::DagWalk::new(&blocks, root, WalkOptions::default())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    let mut w = CarWriter::new(Vec::new(), &[root]).unwrap_or_else(|e| panic!("{e}"));
    for block in walk.iter().take(2) {
        w.write_block(&block.cid, &block.data)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    write(t, "bad-missing-block.car", &w.finish().unwrap_or_default());
    let mut nonminimal = vec![0x80 | 0x20, 0x80, 0x00];
    nonminimal.extend_from_slice(&[0xa2; 32]);
    write(t, "bad-header-varint-not-minimal.car", &nonminimal);
    let mut too_large = car_header(&[root]);
    varint::encode(5 << 20, &mut too_large);
    write(t, "bad-frame-too-large.car", &too_large);
    let mut bad_cid = car_header(&[root]);
    bad_cid.extend_from_slice(&[4, 0x02, 0x55, 0x12, 0x20]);
    write(t, "bad-frame-cid-version-2.car", &bad_cid);
    // Header says version 3; header names no roots.
    write(
        t,
        "bad-version-3.car",
        &[
            0x0b, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x03,
        ],
    );
    write(
        t,
        "bad-no-roots.car",
        &[
            0x12, 0xa2, 0x65, b'r', b'o', b'o', b't', b's', 0x80, 0x67, b'v', b'e', b'r', b's',
            b'i', b'o', b'n', 0x01,
        ],
    );
    // A dag-pb block that does not decode, with a valid CID.
    let junk = [0x18, 0x01];
    let junk_cid = dag_pb_cid(Version::V1, &junk);
    let mut w = CarWriter::new(Vec::new(), &[junk_cid]).unwrap_or_else(|e| panic!("{e}"));
    w.write_block(&junk_cid, &junk)
        .unwrap_or_else(|e| panic!("{e}"));
    write(
        t,
        "bad-undecodable-dag-pb.car",
        &w.finish().unwrap_or_default(),
    );
    // A frame whose length prefix covers the CID but the data is cut.
    let mut short = car_header(&[a]);
    short.extend_from_slice(&frame_prefix(&a, 10));
    short.push(b'a');
    write(t, "bad-frame-shorter-than-claimed.car", &short);

    // Found by reading the decoder: CBOR tag 42 nested without a depth bound.
    let mut body = Vec::new();
    for _ in 0..20_000 {
        body.extend_from_slice(&[0xd8, 0x2a]);
    }
    body.push(0x40);
    let mut nested = Vec::new();
    varint::encode(body.len() as u64, &mut nested);
    nested.extend_from_slice(&body);
    write(t, "bug-header-tag42-nesting.car", &nested);
}

fn pb_seeds() {
    let t = "dag_pb";
    let (root, blocks) = small_file(&pattern(100, 1), true, Version::V1);
    let root_block = blocks.get(&root).cloned().unwrap_or_default();
    write(t, "file-root-raw-leaves.pb", &root_block);
    let (root0, blocks0) = small_file(&pattern(60, 2), false, Version::V0);
    write(
        t,
        "file-root-v0.pb",
        blocks0.get(&root0).map(Vec::as_slice).unwrap_or_default(),
    );
    // A legacy leaf: UnixFS file node with inline data.
    let leaf = blocks0
        .iter()
        .filter(|(cid, _)| **cid != root0)
        .map(|(_, data)| data.clone())
        .min()
        .unwrap_or_default();
    write(t, "file-leaf-inline-data.pb", &leaf);
    let (dir_root, dir_blocks) = directory();
    write(
        t,
        "directory.pb",
        dir_blocks
            .get(&dir_root)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    );
    write(t, "empty-node.pb", b"");
    let (r, b) = profile_file(Profile::UnixfsV1_2025, b"");
    write(
        t,
        "empty-file.pb",
        b.get(&r).map(Vec::as_slice).unwrap_or_default(),
    );
    let link_only = PbNode {
        links: vec![PbLink {
            cid: raw_cid(b"x"),
            name: None,
            tsize: None,
        }],
        data: None,
    };
    write(t, "link-without-name-or-tsize.pb", &link_only.encode());
    let everything = UnixFsData {
        kind: DataType::HamtShard,
        data: Some(vec![0x01, 0x80]),
        filesize: Some(9),
        blocksizes: vec![1, 300, 70_000],
        hash_type: Some(0x22),
        fanout: Some(256),
        mode: Some(0o755),
        mtime: Some((1_700_000_000, Some(5))),
    };
    let node = PbNode {
        links: vec![PbLink {
            cid: raw_cid(b"y"),
            name: Some("00name".into()),
            tsize: Some(1),
        }],
        data: Some(everything.encode()),
    };
    write(t, "unixfs-every-field.pb", &node.encode());
    let symlink = PbNode {
        links: vec![],
        data: Some(
            UnixFsData {
                data: Some(b"../target".to_vec()),
                ..UnixFsData::of_kind(DataType::Symlink)
            }
            .encode(),
        ),
    };
    write(t, "unixfs-symlink.pb", &symlink.encode());
    // Bare UnixFS messages (the target decodes the input as UnixFS when it is not dag-pb).
    write(
        t,
        "unixfs-packed-blocksizes.bin",
        &[0x08, 0x02, 0x22, 0x03, 0x01, 0xac, 0x02],
    );
    write(t, "unixfs-unknown-type.bin", &[0x08, 0x09]);
    // Refusals.
    let mut swapped = vec![0x0a, 0x02, 0x08, 0x01];
    swapped.extend_from_slice(&link_only.encode());
    write(t, "bad-data-before-links.pb", &swapped);
    write(t, "bad-unknown-field.pb", &[0x18, 0x01]);
    write(t, "bad-link-without-hash.pb", &[0x12, 0x02, 0x18, 0x01]);
    write(t, "bad-length-past-end.pb", &[0x0a, 0x05, 0x01]);
    write(t, "bad-varint-not-minimal.pb", &[0x0a, 0x80, 0x00]);
    write(
        t,
        "bad-varint-overflow.pb",
        &[
            0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
    );
    let mut truncated = root_block.clone();
    truncated.truncate(root_block.len() / 2);
    write(t, "bad-truncated-root.pb", &truncated);

    // Found by reading the decoder: a link Hash with bytes after the CID.
    let cid = raw_cid(b"x").to_bytes();
    let mut link = vec![0x0a, cid.len() as u8 + 1];
    link.extend_from_slice(&cid);
    link.push(0x00);
    let mut node = vec![0x12, link.len() as u8];
    node.extend_from_slice(&link);
    write(t, "bug-link-hash-trailing-byte.pb", &node);
    // The same through a non-canonical varint inside the link's CID (multihash
    // code 0x12 spelled in 10 bytes, which unsigned-varint 0.8 accepts).
    let mut cid = vec![
        0x01, 0x55, 0x92, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x20,
    ];
    cid.extend_from_slice(&[0xab; 32]);
    let mut link = vec![0x0a, cid.len() as u8];
    link.extend_from_slice(&cid);
    let mut node = vec![0x12, link.len() as u8];
    node.extend_from_slice(&link);
    write(t, "bug-link-hash-overlong-varint.pb", &node);
}

fn cid_seeds() {
    let t = "cid_parse";
    let v0 = dag_pb_cid(Version::V0, b"seed");
    let v1_pb = dag_pb_cid(Version::V1, b"seed");
    let v1_raw = raw_cid(b"seed");
    let id = identity_cid(b"hi");
    write(t, "bin-v0.bin", &v0.to_bytes());
    write(t, "bin-v1-dag-pb.bin", &v1_pb.to_bytes());
    write(t, "bin-v1-raw.bin", &v1_raw.to_bytes());
    write(t, "bin-v1-identity.bin", &id.to_bytes());
    write(t, "str-v0-base58.txt", v0.to_string().as_bytes());
    write(t, "str-v1-base32.txt", v1_pb.to_string().as_bytes());
    write(t, "str-v1-raw-base32.txt", v1_raw.to_string().as_bytes());
    for (name, base) in [
        ("base58btc", cid::multibase::Base::Base58Btc),
        ("base36", cid::multibase::Base::Base36Lower),
        ("base32upper", cid::multibase::Base::Base32Upper),
        ("base16", cid::multibase::Base::Base16Lower),
        ("base64url", cid::multibase::Base::Base64Url),
    ] {
        let s = v1_raw.to_string_of_base(base).unwrap_or_default();
        write(t, &format!("str-v1-{name}.txt"), s.as_bytes());
    }
    // Refusals and oddities.
    let bytes = v1_pb.to_bytes();
    write(
        t,
        "bad-bin-truncated.bin",
        bytes.get(..bytes.len() - 3).unwrap_or_default(),
    );
    write(t, "bad-bin-version-2.bin", &[0x02, 0x70, 0x12, 0x20]);
    write(
        t,
        "bad-bin-varint-not-minimal.bin",
        &[0x01, 0xf0, 0x00, 0x12, 0x01, 0x00],
    );
    write(t, "bad-bin-v0-short.bin", &[0x12, 0x20, 0x01]);
    write(
        t,
        "bad-bin-explicit-v0.bin",
        &[0x00, 0x70, 0x12, 0x01, 0x00],
    );
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"tail");
    write(t, "bin-v1-trailing-bytes.bin", &trailing);
    write(
        t,
        "bad-str-v0-bad-char.txt",
        b"QmIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII",
    );
    write(t, "bad-str-unknown-multibase.txt", b"!bafkqaaa");
    write(t, "str-v1-identity-empty.txt", b"bafkqaaa");
    // unsigned-varint 0.8 accepts a 10th varint byte above 1 and drops the
    // overflow: this spells multihash code 0x12 non-canonically.
    let mut overflow = vec![
        0x01, 0x55, 0x92, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 0x20,
    ];
    overflow.extend_from_slice(&[0xab; 32]);
    write(t, "upstream-varint-10th-byte-overflow.bin", &overflow);
}

/// One `s3_request` input: see the layout in `src/s3.rs`.
#[derive(Default)]
struct Req<'a> {
    flags: u8,
    path: &'a str,
    authorization: &'a str,
    amz_date: &'a str,
    content_sha: &'a str,
    range: &'a str,
    copy_source: &'a str,
    content_length: Option<usize>,
    extra: &'a [&'a str],
    body: &'a [u8],
}

impl Req<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut out = vec![self.flags];
        let length = self
            .content_length
            .map(|n| n.to_string())
            .unwrap_or_default();
        let extra = self.extra.join("\r");
        for field in [
            self.path,
            self.authorization,
            self.amz_date,
            self.content_sha,
            self.range,
            self.copy_source,
            length.as_str(),
            extra.as_str(),
        ] {
            out.extend_from_slice(field.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(self.body);
        out
    }
}

const GET: u8 = 0;
const PUT: u8 = 1;
const POST: u8 = 2;
const DELETE: u8 = 3;
const HEAD: u8 = 4;
const OPTIONS: u8 = 5;
const SIGN: u8 = 0x08;
const VHOST: u8 = 0x10;
const CNAME: u8 = 0x20;
const NO_HOST: u8 = 0x30;
const WRONG_KEY: u8 = 0x40;

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn s3_seeds() {
    use md5::Digest;
    let t = "s3_request";
    let etag = hex::encode(md5::Md5::digest(cairn_fuzz::fixture_object()));
    let part_one = hex::encode(md5::Md5::digest(cairn_fuzz::PART_ONE));
    let if_none_match = format!("if-none-match:\"{etag}\"");
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{part_one}\"</ETag></Part></CompleteMultipartUpload>"
    );
    let delete = "<Delete><Object><Key>gone</Key></Object><Object><Key>new-key</Key></Object><Quiet>false</Quiet></Delete>";
    let delete_md5 = format!(
        "content-md5:{}",
        base64(&md5::Md5::digest(delete.as_bytes()))
    );
    let chunked = b"5;chunk-signature=0000000000000000000000000000000000000000000000000000000000000000\r\nhello\r\n0;chunk-signature=0000000000000000000000000000000000000000000000000000000000000000\r\n\r\n";
    let post_form = b"--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nform-key\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nbody\r\n--b--\r\n";
    let pipelined = [delete.as_bytes(), b"GET / HTTP/1.1"].concat();
    let (if_none_match, delete_md5) = ([if_none_match.as_str()], [delete_md5.as_str()]);
    let seeds: Vec<(&str, Req<'_>)> = vec![
        (
            "list-buckets",
            Req {
                flags: GET | SIGN,
                path: "/",
                ..Req::default()
            },
        ),
        (
            "get-object",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
        (
            "get-object-range-across-leaves",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                range: "bytes=262140-262150",
                ..Req::default()
            },
        ),
        (
            "get-object-range-suffix",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                range: "bytes=-10",
                ..Req::default()
            },
        ),
        (
            "get-object-range-open",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                range: "bytes=300000-",
                ..Req::default()
            },
        ),
        (
            "get-object-range-unsatisfiable",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                range: "bytes=400000-",
                ..Req::default()
            },
        ),
        (
            "get-object-range-garbage",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                range: "bytes=5-2,x",
                ..Req::default()
            },
        ),
        (
            "get-object-if-none-match",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                extra: &if_none_match,
                ..Req::default()
            },
        ),
        (
            "get-object-if-match-wrong",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                extra: &["if-match:\"nope\""],
                ..Req::default()
            },
        ),
        (
            "get-object-if-modified-since",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj",
                extra: &["if-modified-since:Wed, 21 Oct 2015 07:28:00 GMT"],
                ..Req::default()
            },
        ),
        (
            "get-object-part-number",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj?partNumber=1",
                ..Req::default()
            },
        ),
        (
            "get-object-response-overrides",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/obj?response-content-type=text%2Fplain&response-cache-control=no-cache",
                ..Req::default()
            },
        ),
        (
            "get-object-missing",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/no-such-key",
                ..Req::default()
            },
        ),
        (
            "get-object-virtual-host",
            Req {
                flags: GET | SIGN | VHOST,
                path: "/obj",
                ..Req::default()
            },
        ),
        (
            "get-object-cname-host",
            Req {
                flags: GET | SIGN | CNAME,
                path: "/obj",
                ..Req::default()
            },
        ),
        (
            "get-object-no-host",
            Req {
                flags: GET | SIGN | NO_HOST,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
        (
            "head-object",
            Req {
                flags: HEAD | SIGN,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
        (
            "head-bucket",
            Req {
                flags: HEAD | SIGN,
                path: "/fuzz",
                ..Req::default()
            },
        ),
        (
            "get-bucket-location",
            Req {
                flags: GET | SIGN,
                path: "/fuzz?location",
                ..Req::default()
            },
        ),
        (
            "list-objects-v2",
            Req {
                flags: GET | SIGN,
                path: "/fuzz?list-type=2&prefix=o&delimiter=%2F&max-keys=2",
                ..Req::default()
            },
        ),
        (
            "list-objects-v2-token",
            Req {
                flags: GET | SIGN,
                path: "/fuzz?list-type=2&continuation-token=b2Jq&start-after=a&encoding-type=url",
                ..Req::default()
            },
        ),
        (
            "list-objects-v1",
            Req {
                flags: GET | SIGN,
                path: "/fuzz?marker=a&max-keys=1000&encoding-type=url",
                ..Req::default()
            },
        ),
        (
            "list-multipart-uploads",
            Req {
                flags: GET | SIGN,
                path: "/fuzz?uploads&prefix=m",
                ..Req::default()
            },
        ),
        (
            "create-bucket",
            Req {
                flags: PUT | SIGN,
                path: "/made-by-fuzz",
                content_length: Some(0),
                ..Req::default()
            },
        ),
        (
            "create-bucket-invalid-name",
            Req {
                flags: PUT | SIGN,
                path: "/Bad_Name",
                content_length: Some(0),
                ..Req::default()
            },
        ),
        (
            "delete-bucket-not-empty",
            Req {
                flags: DELETE | SIGN,
                path: "/fuzz",
                ..Req::default()
            },
        ),
        (
            "delete-bucket-missing",
            Req {
                flags: DELETE | SIGN,
                path: "/no-such-bucket",
                ..Req::default()
            },
        ),
        (
            "put-object",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_length: Some(5),
                extra: &["content-type:text/plain", "x-amz-meta-color:blue"],
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-unsigned-payload",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_sha: "UNSIGNED-PAYLOAD",
                content_length: Some(5),
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-wrong-sha",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_sha: "0000000000000000000000000000000000000000000000000000000000000000",
                content_length: Some(5),
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-aws-chunked",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/chunked",
                content_sha: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                content_length: Some(chunked.len()),
                extra: &[
                    "x-amz-decoded-content-length:5",
                    "content-encoding:aws-chunked",
                ],
                body: chunked,
                ..Req::default()
            },
        ),
        (
            "put-object-checksum-crc32-wrong",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_length: Some(5),
                extra: &["x-amz-checksum-crc32:AAAAAA=="],
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-content-md5",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_length: Some(5),
                extra: &["content-md5:XUFAKrxLKna5cZ2REBfFkg=="],
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-if-none-match-star",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/obj",
                content_length: Some(1),
                extra: &["if-none-match:*"],
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "put-object-client-hangs-up",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/new-key",
                content_length: Some(99),
                body: b"hello",
                ..Req::default()
            },
        ),
        (
            "put-object-weird-key",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/a%2Fb/%E2%82%AC/..%2F/%01",
                content_length: Some(1),
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "copy-object",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/copy",
                copy_source: "/fuzz/obj",
                content_length: Some(0),
                ..Req::default()
            },
        ),
        (
            "copy-object-conditional",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/copy",
                copy_source: "fuzz/obj?versionId=null",
                content_length: Some(0),
                extra: &[
                    "x-amz-copy-source-if-match:\"nope\"",
                    "x-amz-metadata-directive:REPLACE",
                ],
                ..Req::default()
            },
        ),
        (
            "delete-object",
            Req {
                flags: DELETE | SIGN,
                path: "/fuzz/new-key",
                ..Req::default()
            },
        ),
        (
            "delete-objects-body-past-content-length",
            Req {
                flags: POST | SIGN,
                path: "/fuzz?delete",
                content_length: Some(delete.len()),
                extra: &delete_md5,
                body: &pipelined,
                ..Req::default()
            },
        ),
        (
            "upstream-s3s-xml-body-sha-mismatch-500",
            Req {
                flags: POST | SIGN,
                path: "/fuzz?delete",
                content_sha: "0000000000000000000000000000000000000000000000000000000000000000",
                content_length: Some(delete.len()),
                extra: &delete_md5,
                body: delete.as_bytes(),
                ..Req::default()
            },
        ),
        (
            "delete-objects",
            Req {
                flags: POST | SIGN,
                path: "/fuzz?delete",
                content_length: Some(delete.len()),
                extra: &delete_md5,
                body: delete.as_bytes(),
                ..Req::default()
            },
        ),
        (
            "create-multipart-upload",
            Req {
                flags: POST | SIGN,
                path: "/fuzz/mp2?uploads",
                content_length: Some(0),
                ..Req::default()
            },
        ),
        (
            "upload-part",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/mp?partNumber=2&uploadId={upload}",
                content_length: Some(4),
                body: b"two\n",
                ..Req::default()
            },
        ),
        (
            "upload-part-bad-number",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/mp?partNumber=10001&uploadId={upload}",
                content_length: Some(1),
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "upload-part-copy-range",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/mp?partNumber=3&uploadId={upload}",
                copy_source: "/fuzz/obj",
                content_length: Some(0),
                extra: &["x-amz-copy-source-range:bytes=262100-262200"],
                ..Req::default()
            },
        ),
        (
            "upload-part-copy-bad-range",
            Req {
                flags: PUT | SIGN,
                path: "/fuzz/mp?partNumber=3&uploadId={upload}",
                copy_source: "/fuzz/obj",
                content_length: Some(0),
                extra: &["x-amz-copy-source-range:bytes=9-1"],
                ..Req::default()
            },
        ),
        (
            "list-parts",
            Req {
                flags: GET | SIGN,
                path: "/fuzz/mp?uploadId={upload}&max-parts=1",
                ..Req::default()
            },
        ),
        (
            "complete-multipart-upload",
            Req {
                flags: POST | SIGN,
                path: "/fuzz/mp?uploadId={upload}",
                content_length: Some(complete.len()),
                body: complete.as_bytes(),
                ..Req::default()
            },
        ),
        (
            "complete-multipart-bad-xml",
            Req {
                flags: POST | SIGN,
                path: "/fuzz/mp?uploadId={upload}",
                content_length: Some(6),
                body: b"<Compl",
                ..Req::default()
            },
        ),
        (
            "abort-multipart-upload",
            Req {
                flags: DELETE | SIGN,
                path: "/fuzz/mp?uploadId={upload}",
                ..Req::default()
            },
        ),
        (
            "abort-multipart-bad-id",
            Req {
                flags: DELETE | SIGN,
                path: "/fuzz/mp?uploadId=..%2F..%2Fetc",
                ..Req::default()
            },
        ),
        (
            "options",
            Req {
                flags: OPTIONS | SIGN,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
        // Requests without a valid signature: every one must be refused.
        (
            "unsigned-get-object",
            Req {
                flags: GET,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
        (
            "unsigned-put-object",
            Req {
                flags: PUT,
                path: "/fuzz/obj",
                content_length: Some(1),
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "unsigned-forged-authorization",
            Req {
                flags: PUT,
                path: "/fuzz/obj",
                authorization: "AWS4-HMAC-SHA256 Credential=AKIACAIRNFUZZ/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
                amz_date: "20250101T000000Z",
                content_sha: "UNSIGNED-PAYLOAD",
                content_length: Some(1),
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "unsigned-presigned-url",
            Req {
                flags: GET,
                path: "/fuzz/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIACAIRNFUZZ%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
                ..Req::default()
            },
        ),
        (
            "unsigned-sigv2",
            Req {
                flags: GET,
                path: "/fuzz/obj",
                authorization: "AWS AKIACAIRNFUZZ:AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                extra: &["date:Wed, 01 Jan 2025 00:00:00 GMT"],
                ..Req::default()
            },
        ),
        (
            "unsigned-post-object-form",
            Req {
                flags: POST,
                path: "/fuzz",
                content_length: Some(post_form.len()),
                extra: &["content-type:multipart/form-data; boundary=b"],
                body: post_form,
                ..Req::default()
            },
        ),
        (
            "wrong-key-put-object",
            Req {
                flags: PUT | SIGN | WRONG_KEY,
                path: "/fuzz/obj",
                content_length: Some(1),
                body: b"x",
                ..Req::default()
            },
        ),
        (
            "wrong-key-delete-bucket",
            Req {
                flags: DELETE | SIGN | WRONG_KEY,
                path: "/fuzz",
                ..Req::default()
            },
        ),
        (
            "wrong-key-get-object",
            Req {
                flags: GET | SIGN | WRONG_KEY,
                path: "/fuzz/obj",
                ..Req::default()
            },
        ),
    ];
    for (name, req) in seeds {
        write(t, name, &req.bytes());
    }
}

#[test]
#[ignore = "writes the seed corpora; run by hand after changing a generator"]
fn make_seed_corpus() {
    car_seeds();
    pb_seeds();
    cid_seeds();
    s3_seeds();
    proofs::proof_seeds();
    proofs::groth16_seeds();
}
