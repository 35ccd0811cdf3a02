//! `list_objects` checked against a `BTreeMap` reference model of S3's
//! delimiter semantics (see `src/list.rs` for the rules), on a real RocksDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use cairn_store::{ListPage, ListQuery, Store};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Key(String),
    Prefix(String),
}

fn common_prefix(key: &str, prefix: &str, delim: Option<&str>) -> Option<String> {
    let d = delim.filter(|d| !d.is_empty())?;
    let rest = key.strip_prefix(prefix)?;
    rest.find(d)
        .map(|at| key[..prefix.len() + at + d.len()].to_owned())
}

/// The reference: filter, roll up, drop the group `start_after` lies in, paginate.
fn model(keys: &BTreeSet<String>, q: &ListQuery) -> (Vec<Entry>, bool) {
    let delim = q.delimiter.as_deref();
    let sa_group = q
        .start_after
        .as_deref()
        .and_then(|sa| common_prefix(sa, &q.prefix, delim));
    let mut all: Vec<Entry> = Vec::new();
    for k in keys {
        if !k.starts_with(&q.prefix) || q.start_after.as_ref().is_some_and(|sa| k <= sa) {
            continue;
        }
        match common_prefix(k, &q.prefix, delim) {
            Some(cp) if Some(&cp) == sa_group.as_ref() => {}
            Some(cp) => {
                if all.last() != Some(&Entry::Prefix(cp.clone())) {
                    all.push(Entry::Prefix(cp));
                }
            }
            None => all.push(Entry::Key(k.clone())),
        }
    }
    let truncated = all.len() > q.max_keys;
    all.truncate(q.max_keys);
    (all, truncated)
}

/// Merges a page's keys and prefixes back into one ordered entry list.
fn entries(page: &ListPage) -> Vec<Entry> {
    let mut out: Vec<Entry> = page
        .entries
        .iter()
        .map(|(k, _)| Entry::Key(k.clone()))
        .collect();
    out.extend(page.common_prefixes.iter().cloned().map(Entry::Prefix));
    out.sort_by(|a, b| {
        let s = |e: &Entry| match e {
            Entry::Key(k) | Entry::Prefix(k) => k.clone(),
        };
        s(a).cmp(&s(b))
    });
    out
}

fn last_name(e: &[Entry]) -> Option<String> {
    e.last().map(|e| match e {
        Entry::Key(k) | Entry::Prefix(k) => k.clone(),
    })
}

fn store_with(keys: &BTreeSet<String>) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for b in ["a", "b", "bb"] {
        store.create_bucket(b, "p", 0).unwrap();
    }
    let root = common::block(0, 1).0;
    for k in keys {
        store
            .begin_upload()
            .unwrap()
            .commit_object("b", k, common::record(root, k))
            .unwrap();
    }
    // Neighbouring buckets must not leak into "b"'s listing.
    for b in ["a", "bb"] {
        store
            .begin_upload()
            .unwrap()
            .commit_object(b, "a", common::record(root, "x"))
            .unwrap();
        store
            .begin_upload()
            .unwrap()
            .commit_object(b, "zz/z", common::record(root, "x"))
            .unwrap();
    }
    (dir, store)
}

fn check(store: &Store, keys: &BTreeSet<String>, q: &ListQuery) {
    let page = store.list_objects("b", q).unwrap();
    let (want, truncated) = model(keys, q);
    assert_eq!(entries(&page), want, "query {q:?}");
    assert_eq!(page.is_truncated, truncated, "truncation, query {q:?}");
    let want_next = if truncated { last_name(&want) } else { None };
    assert_eq!(
        page.next_start_after, want_next,
        "next_start_after, query {q:?}"
    );
    for (k, rec) in &page.entries {
        assert_eq!(&rec.etag, k, "record belongs to its key");
    }
}

fn query() -> impl Strategy<Value = ListQuery> {
    (
        "[ab/]{0,2}",
        prop_oneof![
            Just(None),
            Just(Some(String::new())),
            Just(Some("/".to_owned())),
            Just(Some("b/".to_owned())),
            Just(Some("é".to_owned()))
        ],
        proptest::option::of("[ab/é-]{0,4}"),
        0usize..6,
    )
        .prop_map(|(prefix, delimiter, start_after, max_keys)| ListQuery {
            prefix,
            delimiter,
            start_after,
            max_keys,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn list_matches_model_and_pages_concatenate(
        keys in proptest::collection::btree_set("[ab/é-]{1,5}", 0..24),
        queries in proptest::collection::vec(query(), 1..6),
    ) {
        let (_dir, store) = store_with(&keys);
        for q in &queries {
            check(&store, &keys, q);

            // Paging from `q.start_after` with small pages yields the full listing.
            let page_size = q.max_keys.max(1);
            let full = model(&keys, &ListQuery { max_keys: usize::MAX, ..q.clone() }).0;
            let mut got = Vec::new();
            let mut cursor = q.clone();
            cursor.max_keys = page_size;
            loop {
                let page = store.list_objects("b", &cursor).unwrap();
                let e = entries(&page);
                prop_assert!(e.len() <= page_size);
                got.extend(e);
                if !page.is_truncated {
                    break;
                }
                cursor.start_after = page.next_start_after.clone();
                prop_assert!(cursor.start_after.is_some());
            }
            prop_assert_eq!(got, full);
        }
    }
}

#[test]
fn s3_documented_examples() {
    let keys: BTreeSet<String> = [
        "sample.jpg",
        "photos/2006/January/sample.jpg",
        "photos/2006/February/sample2.jpg",
        "photos/2006/February/sample3.jpg",
        "photos/2006/February/sample4.jpg",
        "a",
        "a/b",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let (_dir, store) = store_with(&keys);
    let page = store
        .list_objects(
            "b",
            &ListQuery {
                prefix: "photos/2006/".into(),
                delimiter: Some("/".into()),
                start_after: None,
                max_keys: 1000,
            },
        )
        .unwrap();
    assert!(page.entries.is_empty());
    assert_eq!(
        page.common_prefixes,
        ["photos/2006/February/", "photos/2006/January/"]
    );

    let page = store
        .list_objects(
            "b",
            &ListQuery {
                delimiter: Some("/".into()),
                max_keys: 2,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        entries(&page),
        [Entry::Key("a".into()), Entry::Prefix("a/".into())],
        "`a` and `a/b` coexist"
    );
    assert!(page.is_truncated);
    assert_eq!(page.next_start_after.as_deref(), Some("a/"));
    let page = store
        .list_objects(
            "b",
            &ListQuery {
                delimiter: Some("/".into()),
                max_keys: 2,
                start_after: page.next_start_after,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        entries(&page),
        [
            Entry::Prefix("photos/".into()),
            Entry::Key("sample.jpg".into())
        ]
    );
    assert!(!page.is_truncated);
    assert_eq!(page.next_start_after, None);

    assert!(matches!(
        store.list_objects("nope", &ListQuery::default()),
        Err(cairn_store::StoreError::NoSuchBucket { .. })
    ));
}
