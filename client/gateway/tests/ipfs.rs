//! The IPFS gateway over real HTTP: the router on a loopback TCP listener,
//! blocks built with `cairn_dag::build_file`, and reqwest as the client.
//!
//! The store is keyed by multihash, as `BlockSource` requires (and as
//! Cairn's block store is), so a CIDv0 and a CIDv1 of the same bytes find
//! the same block. One test also runs over the plain `HashMap<Cid, _>`
//! source that `cairn-dag` implements.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use cairn_dag::car::CarReader;
use cairn_dag::pb::{PbLink, PbNode};
use cairn_dag::reader::{FileReader, SourceError};
use cairn_dag::{
    Block, BlockSource, DirBuilder, Profile, block_links, build_file, resolve_path,
    sha256_multihash, verify_block,
};
use cid::Cid;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Blocks keyed by multihash.
#[derive(Default, Clone)]
struct MemStore {
    blocks: HashMap<Vec<u8>, Vec<u8>>,
}

impl MemStore {
    fn put(&mut self, cid: &Cid, data: Vec<u8>) {
        self.blocks.insert(cid.hash().to_bytes(), data);
    }

    fn get(&self, cid: &Cid) -> Option<&Vec<u8>> {
        self.blocks.get(&cid.hash().to_bytes())
    }

    fn add_file(&mut self, profile: Profile, data: &[u8]) -> Result<Cid> {
        let root = build_file(profile, data, &mut |b: Block| {
            self.put(&b.cid, b.data);
            Ok::<(), anyhow::Error>(())
        })?;
        Ok(root.cid)
    }

    /// A plain UnixFS directory of `entries`, sorted by name as UnixFS requires.
    fn add_dir(&mut self, entries: &[(&str, Cid)]) -> Cid {
        let mut links: Vec<PbLink> = entries
            .iter()
            .map(|(name, cid)| PbLink {
                cid: *cid,
                name: Some((*name).to_owned()),
                tsize: Some(self.get(cid).map_or(0, |b| b.len() as u64)),
            })
            .collect();
        links.sort_by(|a, b| a.name.cmp(&b.name));
        let node = PbNode {
            links,
            data: Some(vec![0x08, 0x01]),
        };
        let bytes = node.encode();
        let cid = Profile::UnixfsV1_2025.dag_pb_cid(&bytes);
        self.put(&cid, bytes);
        cid
    }
}

impl BlockSource for MemStore {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(self.get(cid).cloned())
    }
}

/// Deterministic, incompressible-looking test bytes.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

const MIB: usize = 1 << 20;

struct Fixture {
    store: MemStore,
    big: Vec<u8>,
    big_v1: Cid,
    big_legacy: Cid,
    /// Three identical 256 KiB chunks (kubo-legacy): a DAG with duplicate leaves.
    dup_file: Cid,
    hello: Cid,
    index_html: Vec<u8>,
    dir: Cid,
    sub: Cid,
}

const HELLO: &[u8] = b"hello world\n";
const NOTES: &[u8] = b"plain notes without an extension\n";

fn fixture() -> Result<Fixture> {
    let mut store = MemStore::default();
    let big = pseudo_random(3 * MIB + 17, 7);
    let big_v1 = store.add_file(Profile::UnixfsV1_2025, &big)?;
    let big_legacy = store.add_file(Profile::KuboLegacy, &big)?;
    let dup_file = store.add_file(Profile::KuboLegacy, &vec![0xab; 3 * (256 << 10)])?;
    let hello = store.add_file(Profile::UnixfsV1_2025, HELLO)?;
    let notes = store.add_file(Profile::KuboLegacy, NOTES)?;
    let index_html = b"<!DOCTYPE html><title>sub</title>".to_vec();
    let index = store.add_file(Profile::UnixfsV1_2025, &index_html)?;
    let sub = store.add_dir(&[("index.html", index)]);
    let dir = store.add_dir(&[
        ("hello.txt", hello),
        ("big.bin", big_legacy),
        ("notes", notes),
        ("sub", sub),
    ]);
    Ok(Fixture {
        store,
        big,
        big_v1,
        big_legacy,
        dup_file,
        hello,
        index_html,
        dir,
        sub,
    })
}

/// Serves `source` on 127.0.0.1 and returns the base URL.
async fn serve(source: Arc<dyn BlockSource + Send + Sync>) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = cairn_gateway::ipfs::router(source);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
    send(reqwest::Method::GET, base, path, headers).await
}

async fn send(
    method: reqwest::Method,
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Reply> {
    let mut req = client()?.request(method, format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .with_context(|| format!("body of {path}"))?
        .to_vec();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Parses and verifies a CAR; returns its roots and blocks in order.
/// `complete` also demands that every linked block be present.
fn parse_car(bytes: Vec<u8>, complete: bool) -> Result<(Vec<Cid>, Vec<Block>)> {
    let mut reader = CarReader::new(Cursor::new(bytes))?;
    let roots = reader.roots().to_vec();
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block()? {
        blocks.push(block);
    }
    if complete {
        reader.finish()?;
    }
    Ok((roots, blocks))
}

/// The DFS pre-order of the DAG under `root`, computed here independently.
fn dfs(store: &MemStore, root: Cid, dups: bool) -> Result<Vec<Cid>> {
    fn go(
        store: &MemStore,
        cid: Cid,
        dups: bool,
        seen: &mut HashSet<Vec<u8>>,
        out: &mut Vec<Cid>,
    ) -> Result<()> {
        if !dups && !seen.insert(cid.hash().to_bytes()) {
            return Ok(());
        }
        out.push(cid);
        let data = store.get(&cid).context("block in store")?;
        for link in block_links(&cid, data)? {
            go(store, link, dups, seen, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(store, root, dups, &mut HashSet::new(), &mut out)?;
    Ok(out)
}

fn cids(blocks: &[Block]) -> Vec<Cid> {
    blocks.iter().map(|b| b.cid).collect()
}

#[tokio::test]
async fn raw_blocks_match_and_hash_to_their_cid_whatever_the_cid_form() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let root_block = f.store.get(&f.big_v1).context("root")?.clone();

    let r = get(&base, &format!("/ipfs/{}?format=raw", f.big_v1), &[]).await?;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, root_block);
    assert_eq!(sha256_multihash(&r.body), *f.big_v1.hash());
    assert_eq!(r.header("content-type"), "application/vnd.ipld.raw");
    assert_eq!(r.header("etag"), format!("\"{}.raw\"", f.big_v1));
    assert_eq!(
        r.header("cache-control"),
        "public, max-age=29030400, immutable"
    );
    assert_eq!(
        r.header("content-disposition"),
        format!("attachment; filename=\"{}.bin\"", f.big_v1)
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("content-location"), "", "format was in the URL");

    // Negotiated by Accept: same block, plus a Content-Location with ?format=raw.
    let r = get(
        &base,
        &format!("/ipfs/{}", f.big_v1),
        &[("accept", "application/vnd.ipld.raw")],
    )
    .await?;
    assert_eq!(r.body, root_block);
    assert_eq!(
        r.header("content-location"),
        format!("/ipfs/{}?format=raw", f.big_v1)
    );
    assert!(r.header("vary").contains("Accept"));

    // A CIDv0 for a CIDv1 dag-pb block, and a base58 CIDv1: found by multihash.
    let v0 = Cid::new_v0(*f.big_v1.hash())?;
    let r = get(&base, &format!("/ipfs/{v0}?format=raw"), &[]).await?;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &root_block));
    verify_block(&v0, &r.body)?;
    let b58 = f
        .big_v1
        .to_string_of_base(cid::multibase::Base::Base58Btc)?;
    let r = get(&base, &format!("/ipfs/{b58}?format=raw"), &[]).await?;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &root_block));

    // A raw leaf asked for by a CIDv0 of the same multihash.
    let leaf = *dfs(&f.store, f.big_v1, false)?.get(1).context("a leaf")?;
    let r = get(
        &base,
        &format!("/ipfs/{}?format=raw", Cid::new_v0(*leaf.hash())?),
        &[],
    )
    .await?;
    assert_eq!(Some(&r.body), f.store.get(&leaf));
    verify_block(&leaf, &r.body)?;
    Ok(())
}

#[tokio::test]
async fn car_streams_the_whole_dag_in_dfs_order_for_both_profiles() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    for root in [f.big_v1, f.big_legacy] {
        let r = get(&base, &format!("/ipfs/{root}?format=car"), &[]).await?;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.header("content-type"),
            "application/vnd.ipld.car; version=1; order=dfs; dups=n"
        );
        assert_eq!(
            r.header("content-disposition"),
            format!("attachment; filename=\"{root}.car\"")
        );
        assert!(
            r.header("etag").starts_with(&format!("W/\"{root}.car.")),
            "{}",
            r.header("etag")
        );
        let (roots, blocks) = parse_car(r.body, true)?;
        assert_eq!(roots, vec![root]);
        assert_eq!(cids(&blocks), dfs(&f.store, root, false)?);
        assert!(blocks.len() > 4, "a multi-block file");
        // The client can read the file back from the CAR's blocks alone.
        let got: HashMap<Cid, Vec<u8>> = blocks.into_iter().map(|b| (b.cid, b.data)).collect();
        let bytes: Vec<Vec<u8>> = FileReader::new(&got, root).collect::<Result<_, _>>()?;
        assert!(bytes.concat() == f.big, "file from CAR differs");
    }
    Ok(())
}

#[tokio::test]
async fn car_dups_parameter_is_honoured_and_echoed() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let with_dups = dfs(&f.store, f.dup_file, true)?;
    let without = dfs(&f.store, f.dup_file, false)?;
    assert!(
        with_dups.len() > without.len(),
        "fixture has duplicate leaves"
    );

    let accept = [(
        "accept",
        "application/vnd.ipld.car; version=1; order=dfs; dups=y",
    )];
    let r = get(&base, &format!("/ipfs/{}", f.dup_file), &accept).await?;
    assert_eq!(
        r.header("content-type"),
        "application/vnd.ipld.car; version=1; order=dfs; dups=y"
    );
    assert!(
        r.header("content-location").contains("format=car"),
        "{}",
        r.header("content-location")
    );
    assert_eq!(cids(&parse_car(r.body, true)?.1), with_dups);

    // The query parameter wins over Accept.
    let r = get(
        &base,
        &format!("/ipfs/{}?format=car&car-dups=n", f.dup_file),
        &accept,
    )
    .await?;
    assert_eq!(
        r.header("content-type"),
        "application/vnd.ipld.car; version=1; order=dfs; dups=n"
    );
    assert_eq!(cids(&parse_car(r.body, true)?.1), without);
    Ok(())
}

#[tokio::test]
async fn dag_scope_block_and_entity_bytes_send_only_the_needed_blocks() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;

    let r = get(
        &base,
        &format!("/ipfs/{}?format=car&dag-scope=block", f.big_v1),
        &[],
    )
    .await?;
    let (_, blocks) = parse_car(r.body, false)?;
    assert_eq!(cids(&blocks), vec![f.big_v1]);

    // unixfs-v1-2025: 1 MiB raw leaves under one root.
    let leaves = dfs(&f.store, f.big_v1, false)?;
    let cases: [(&str, usize, usize, Vec<Cid>); 3] = [
        ("1048576:1048600", MIB, MIB + 25, vec![f.big_v1, leaves[2]]),
        (
            "1048570:1048580",
            MIB - 6,
            MIB + 5,
            vec![f.big_v1, leaves[1], leaves[2]],
        ),
        (
            "-10:*",
            f.big.len() - 10,
            f.big.len(),
            vec![f.big_v1, leaves[4]],
        ),
    ];
    for (spec, start, end, want) in cases {
        let url = format!("/ipfs/{}?format=car&entity-bytes={spec}", f.big_v1);
        let r = get(&base, &url, &[]).await?;
        assert_eq!(r.status, StatusCode::OK, "{spec}");
        let (_, blocks) = parse_car(r.body, false)?;
        assert_eq!(cids(&blocks), want, "{spec}");
        // The client reads the range from those blocks alone.
        let got: HashMap<Cid, Vec<u8>> = blocks.into_iter().map(|b| (b.cid, b.data)).collect();
        let parts: Vec<Vec<u8>> = FileReader::range(&got, f.big_v1, start as u64, end as u64)
            .collect::<Result<_, _>>()?;
        assert!(
            parts.concat() == f.big[start..end],
            "{spec}: range bytes differ"
        );
    }

    // Different entity-bytes give different ETags.
    let a = get(
        &base,
        &format!("/ipfs/{}?format=car&entity-bytes=0:9", f.big_v1),
        &[],
    )
    .await?;
    let b = get(
        &base,
        &format!("/ipfs/{}?format=car&entity-bytes=0:10", f.big_v1),
        &[],
    )
    .await?;
    assert_ne!(a.header("etag"), b.header("etag"));

    // Wholly outside the file: 400.
    let r = get(
        &base,
        &format!("/ipfs/{}?format=car&entity-bytes=99999999:*", f.big_v1),
        &[],
    )
    .await?;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn car_for_a_path_carries_the_path_blocks_first() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let r = get(
        &base,
        &format!("/ipfs/{}/big.bin?format=car&entity-bytes=0:0", f.dir),
        &[],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    let (roots, blocks) = parse_car(r.body, false)?;
    assert_eq!(roots, vec![f.dir]);
    let first_leaf = dfs(&f.store, f.big_legacy, false)?[1];
    assert_eq!(cids(&blocks), vec![f.dir, f.big_legacy, first_leaf]);

    let r = get(
        &base,
        &format!("/ipfs/{}/sub/index.html?format=car", f.dir),
        &[],
    )
    .await?;
    let (_, blocks) = parse_car(r.body, false)?;
    let got = cids(&blocks);
    assert_eq!(got.get(..2), Some(&[f.dir, f.sub][..]));
    assert_eq!(
        blocks.last().map(|b| b.data.clone()),
        Some(f.index_html.clone())
    );
    Ok(())
}

#[tokio::test]
async fn files_are_served_whole_with_sniffed_or_named_types() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    for root in [f.big_v1, f.big_legacy] {
        let r = get(&base, &format!("/ipfs/{root}"), &[]).await?;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body == f.big, "file bytes differ");
        assert_eq!(r.header("content-length"), f.big.len().to_string());
        assert_eq!(r.header("content-type"), "application/octet-stream");
        assert_eq!(r.header("accept-ranges"), "bytes");
        assert_eq!(r.header("etag"), format!("\"{root}\""));
        assert_eq!(r.header("x-ipfs-path"), format!("/ipfs/{root}"));
        assert_eq!(r.header("x-ipfs-roots"), root.to_string());
    }
    let r = get(&base, &format!("/ipfs/{}/hello.txt", f.dir), &[]).await?;
    assert_eq!((r.status, r.body.as_slice()), (StatusCode::OK, HELLO));
    assert_eq!(r.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(r.header("x-ipfs-roots"), format!("{},{}", f.dir, f.hello));
    let r = get(&base, &format!("/ipfs/{}/notes", f.dir), &[]).await?;
    assert_eq!(r.body, NOTES);
    assert_eq!(
        r.header("content-type"),
        "text/plain; charset=utf-8",
        "sniffed"
    );
    Ok(())
}

#[tokio::test]
async fn range_requests_return_exact_bytes_or_416() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let len = f.big.len();
    for root in [f.big_v1, f.big_legacy] {
        let url = format!("/ipfs/{root}");
        let cases = [
            (format!("bytes={}-{}", MIB - 5, MIB + 20), MIB - 5, MIB + 21),
            ("bytes=0-0".to_owned(), 0, 1),
            ("bytes=-100".to_owned(), len - 100, len),
            (format!("bytes={}-", len - 3), len - 3, len),
        ];
        for (range, start, end) in cases {
            let r = get(&base, &url, &[("range", &range)]).await?;
            assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
            assert!(r.body == f.big[start..end], "{range}: bytes differ");
            assert_eq!(
                r.header("content-range"),
                format!("bytes {start}-{}/{len}", end - 1),
                "{range}"
            );
            assert_eq!(r.header("content-length"), (end - start).to_string());
        }
        let r = get(&base, &url, &[("range", &format!("bytes={len}-"))]).await?;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.header("content-range"), format!("bytes */{len}"));
    }
    Ok(())
}

#[tokio::test]
async fn if_none_match_gives_304_only_on_a_match() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    for path in [
        format!("/ipfs/{}", f.big_v1),
        format!("/ipfs/{}?format=raw", f.big_v1),
        format!("/ipfs/{}?format=car&dag-scope=entity", f.big_v1),
        format!("/ipfs/{}/", f.dir),
    ] {
        let first = get(&base, &path, &[]).await?;
        assert_eq!(first.status, StatusCode::OK, "{path}");
        let etag = first.header("etag").to_owned();
        assert!(!etag.is_empty(), "{path}");
        let r = get(&base, &path, &[("if-none-match", &etag)]).await?;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(r.body.is_empty());
        let r = get(&base, &path, &[("if-none-match", "\"something-else\"")]).await?;
        assert_eq!(r.status, StatusCode::OK, "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn malformed_requests_get_400_or_406_with_a_reason() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let cases = [
        (
            "/ipfs/not-a-cid".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid CID",
        ),
        (
            format!("/ipfs/{}?format=car&dag-scope=most", f.big_v1),
            StatusCode::BAD_REQUEST,
            "dag-scope",
        ),
        (
            format!("/ipfs/{}?format=car&entity-bytes=9:1", f.big_v1),
            StatusCode::BAD_REQUEST,
            "entity-bytes",
        ),
        (
            format!("/ipfs/{}?format=zip", f.big_v1),
            StatusCode::BAD_REQUEST,
            "format",
        ),
        (
            format!("/ipfs/{}?format=tar", f.big_v1),
            StatusCode::NOT_ACCEPTABLE,
            "tar",
        ),
    ];
    for (path, status, needle) in cases {
        let r = get(&base, &path, &[]).await?;
        assert_eq!(r.status, status, "{path}");
        let text = String::from_utf8_lossy(&r.body);
        assert!(text.contains(needle), "{path}: {text}");
    }
    let r = get(
        &base,
        &format!("/ipfs/{}", f.big_v1),
        &[("accept", "application/x-tar")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    Ok(())
}

#[tokio::test]
async fn unknown_content_and_paths_are_404() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let absent = Profile::UnixfsV1_2025.raw_leaf_cid(b"not stored anywhere");
    for suffix in ["", "?format=raw", "?format=car"] {
        let r = get(&base, &format!("/ipfs/{absent}{suffix}"), &[]).await?;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{suffix}");
        let r = get(&base, &format!("/ipfs/{}/nope.txt{suffix}", f.dir), &[]).await?;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{suffix}");
        assert!(String::from_utf8_lossy(&r.body).contains("nope.txt"));
    }
    // Below a file there is nothing to resolve.
    let r = get(&base, &format!("/ipfs/{}/hello.txt/x", f.dir), &[]).await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        reqwest::Method::HEAD,
        &base,
        &format!("/ipfs/{absent}"),
        &[],
    )
    .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = get(
        &base,
        &format!("/ipfs/{absent}"),
        &[("cache-control", "only-if-cached")],
    )
    .await?;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    Ok(())
}

#[tokio::test]
async fn head_sends_headers_without_a_body() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let r = send(
        reqwest::Method::HEAD,
        &base,
        &format!("/ipfs/{}", f.big_v1),
        &[],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), f.big.len().to_string());
    assert_eq!(r.header("etag"), format!("\"{}\"", f.big_v1));
    let r = send(
        reqwest::Method::HEAD,
        &base,
        &format!("/ipfs/{}?format=raw", f.big_v1),
        &[],
    )
    .await?;
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-length"),
        f.store.get(&f.big_v1).map_or(0, Vec::len).to_string()
    );
    let r = send(
        reqwest::Method::HEAD,
        &base,
        &format!("/ipfs/{}?format=car", f.big_v1),
        &[],
    )
    .await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert!(
        r.header("content-type")
            .starts_with("application/vnd.ipld.car")
    );
    Ok(())
}

#[tokio::test]
async fn directories_redirect_list_and_serve_index_html() -> Result<()> {
    let f = fixture()?;
    let base = serve(Arc::new(f.store.clone())).await?;
    let r = get(&base, &format!("/ipfs/{}", f.dir), &[]).await?;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.header("location"), format!("/ipfs/{}/", f.dir));

    let r = get(&base, &format!("/ipfs/{}/", f.dir), &[]).await?;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    assert!(r.header("etag").starts_with("\"DirIndex-"));
    let html = String::from_utf8(r.body)?;
    for name in ["hello.txt", "big.bin", "notes", "sub"] {
        assert!(
            html.contains(&format!("href=\"./{name}\"")),
            "{name} in {html}"
        );
    }

    let r = get(&base, &format!("/ipfs/{}/sub/", f.dir), &[]).await?;
    assert_eq!(r.body, f.index_html);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    Ok(())
}

#[tokio::test]
async fn corrupt_blocks_never_reach_the_client_as_ok_data() -> Result<()> {
    let f = fixture()?;
    let blocks = dfs(&f.store, f.big_v1, false)?;
    let (root, middle_leaf) = (blocks[0], blocks[2]);

    let mut bad_leaf = f.store.clone();
    let mut flipped = bad_leaf.get(&middle_leaf).context("leaf")?.clone();
    flipped[1000] ^= 1;
    bad_leaf.put(&middle_leaf, flipped);
    let base = serve(Arc::new(bad_leaf)).await?;

    // The corrupt block itself: 502, never its bytes.
    let r = get(&base, &format!("/ipfs/{middle_leaf}?format=raw"), &[]).await?;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    // Deserialized and CAR: the status is already 200 when the walk reaches
    // the leaf, so the body must fail rather than end short.
    for path in [format!("/ipfs/{root}"), format!("/ipfs/{root}?format=car")] {
        match get(&base, &path, &[]).await {
            Err(_) => {}
            Ok(r) if r.status != StatusCode::OK => {}
            Ok(r) => bail!("{path}: got a complete 200 with {} bytes", r.body.len()),
        }
    }
    // A range that avoids the bad leaf still works; one that touches it fails.
    let r = get(&base, &format!("/ipfs/{root}"), &[("range", "bytes=0-99")]).await?;
    assert!(r.status == StatusCode::PARTIAL_CONTENT && r.body == f.big[..100]);
    let touching = get(
        &base,
        &format!("/ipfs/{root}"),
        &[("range", &format!("bytes={}-{}", MIB, MIB + 10))],
    )
    .await;
    ensure!(
        !matches!(touching, Ok(ref r) if r.status.is_success()),
        "range over a corrupt leaf succeeded"
    );

    // A corrupt root: refused before any header goes out.
    let mut bad_root = f.store.clone();
    bad_root.put(&root, b"definitely not the root".to_vec());
    let base = serve(Arc::new(bad_root)).await?;
    for suffix in ["", "?format=raw", "?format=car"] {
        let r = get(&base, &format!("/ipfs/{root}{suffix}"), &[]).await?;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{suffix}");
    }
    Ok(())
}

#[tokio::test]
async fn identity_probe_cid_answers_empty_block_and_empty_car() -> Result<()> {
    let base = serve(Arc::new(MemStore::default())).await?;
    let r = get(&base, "/ipfs/bafkqaaa?format=raw", &[]).await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    let r = get(&base, "/ipfs/bafkqaaa?format=car", &[]).await?;
    assert_eq!(r.status, StatusCode::OK);
    let (roots, blocks) = parse_car(r.body, false)?;
    assert_eq!(roots, vec![Cid::try_from("bafkqaaa")?]);
    assert!(blocks.is_empty(), "identity blocks stay out of CARs");
    Ok(())
}

/// A HAMT-sharded directory of `n` entries `file-{i}.txt`, each a small
/// file of its own name; returns the shard root.
fn add_sharded_dir(store: &mut MemStore, n: usize) -> Result<Cid> {
    let mut dir = DirBuilder::new(Profile::KuboLegacy);
    for i in 0..n {
        let name = format!("file-{i}.txt");
        let root = build_file(Profile::KuboLegacy, name.as_bytes(), &mut |b: Block| {
            store.put(&b.cid, b.data);
            Ok::<(), anyhow::Error>(())
        })?;
        dir.add_file(name, &root)?;
    }
    ensure!(dir.will_shard(), "{n} entries should shard");
    let root = dir.finish(&mut |b: Block| {
        store.put(&b.cid, b.data);
        Ok::<(), anyhow::Error>(())
    })?;
    ensure!(root.sharded);
    Ok(root.cid)
}

#[tokio::test]
async fn hamt_sharded_directories_resolve_list_and_verify_in_cars() -> Result<()> {
    let mut store = MemStore::default();
    let n = 6000;
    let shard = add_sharded_dir(&mut store, n)?;
    let base = serve(Arc::new(store.clone())).await?;

    let r = get(&base, &format!("/ipfs/{shard}/file-4321.txt"), &[]).await?;
    assert_eq!(
        (r.status, r.body.as_slice()),
        (StatusCode::OK, b"file-4321.txt".as_slice())
    );
    assert_eq!(r.header("content-type"), "text/plain; charset=utf-8");
    let r = get(&base, &format!("/ipfs/{shard}/file-{n}.txt"), &[]).await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The CAR for a path through the shard carries the shards on the name's
    // hash path, enough for the client to resolve the name itself.
    let r = get(
        &base,
        &format!("/ipfs/{shard}/file-4321.txt?format=car&dag-scope=entity"),
        &[],
    )
    .await?;
    let (roots, blocks) = parse_car(r.body, false)?;
    assert_eq!(roots, vec![shard]);
    let got: HashMap<Cid, Vec<u8>> = blocks.iter().map(|b| (b.cid, b.data.clone())).collect();
    let terminus = resolve_path(&got, shard, &["file-4321.txt"])?;
    assert_eq!(blocks.last().map(|b| b.cid), Some(terminus));
    assert!(
        blocks.len() < 6,
        "only the hash path, not the directory: {} blocks",
        blocks.len()
    );

    // The listing names every entry.
    let r = get(&base, &format!("/ipfs/{shard}/"), &[]).await?;
    assert_eq!(r.status, StatusCode::OK);
    let html = String::from_utf8(r.body)?;
    let listed = html.matches("<tr><td><a href=\"./file-").count();
    assert_eq!(listed, n);
    assert!(html.contains("href=\"./file-5999.txt\""));
    Ok(())
}

#[tokio::test]
async fn works_over_the_plain_cid_keyed_hashmap_source() -> Result<()> {
    let data = pseudo_random(600 << 10, 3);
    let mut map: HashMap<Cid, Vec<u8>> = HashMap::new();
    let root = build_file(Profile::KuboLegacy, &data, &mut |b: Block| {
        map.insert(b.cid, b.data);
        Ok::<(), anyhow::Error>(())
    })?
    .cid;
    let base = serve(Arc::new(map)).await?;
    let r = get(&base, &format!("/ipfs/{root}"), &[]).await?;
    assert!(r.status == StatusCode::OK && r.body == data);
    let r = get(&base, &format!("/ipfs/{root}?format=car"), &[]).await?;
    assert_eq!(
        parse_car(r.body, true)?.1.len(),
        4,
        "root + three 256 KiB leaves"
    );
    Ok(())
}
