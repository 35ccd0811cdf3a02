//! The placement bookkeeping: the queue written with each commit, hot
//! copies, eviction that keeps the record but lets go of the blocks, and
//! block locations, all surviving a reopen.

mod common;

use cairn_store::{ObjectVersionId, Store};
use common::put_object;

fn versions(store: &Store) -> Vec<ObjectVersionId> {
    store
        .placement_queue()
        .unwrap()
        .into_iter()
        .map(|t| t.version)
        .collect()
}

#[test]
fn commits_queue_placed_versions_become_hot_and_eviction_keeps_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();

    // Off by default: nothing is queued.
    put_object(&store, "b", "before", &[1]);
    assert!(store.placement_queue().unwrap().is_empty());

    store.queue_placements(true);
    // Two objects sharing block 3.
    let a = put_object(&store, "b", "a", &[2, 3]);
    let c = put_object(&store, "b", "c", &[3, 4]);
    let queue = store.placement_queue().unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!((queue[0].key.as_str(), queue[1].key.as_str()), ("a", "c"));
    assert_eq!(
        queue[0].root,
        store.get_object_record("b", "a").unwrap().unwrap().root_cid
    );

    // Overwriting `c` drops the replaced version from the queue.
    let old_c = queue[1].version;
    let c2 = put_object(&store, "b", "c", &[3, 5]);
    let queue = store.placement_queue().unwrap();
    assert_eq!(queue.len(), 2);
    assert!(!versions(&store).contains(&old_c));
    assert!(!store.is_current("b", "c", old_c).unwrap());
    assert!(store.is_current("b", "c", queue[1].version).unwrap());

    // A queued version cannot be evicted.
    assert!(!store.evict(queue[0].version).unwrap());

    // `a` is placed: it leaves the queue, becomes a hot copy, and its
    // blocks' locations are known.
    let task_a = queue[0].clone();
    let locs = vec![(a[0].to_bytes(), 100..200), (a[1].to_bytes(), 210..300)];
    store.placement_done(&task_a, &locs).unwrap();
    assert_eq!(versions(&store), vec![queue[1].version]);
    let hot = store.hot_copies().unwrap();
    assert_eq!(hot.len(), 1);
    assert_eq!(hot[0].version, task_a.version);
    assert!(store.is_placed(&task_a.root).unwrap());
    let loc = store.block_location(&a[1]).unwrap().unwrap();
    assert_eq!((loc.root, loc.range), (task_a.root, 210..300));
    assert_eq!(store.block_location(&c2[1]).unwrap(), None);

    // A reader holding `a` open defers eviction.
    let handle = store.open_object("b", "a").unwrap().unwrap();
    assert!(!store.evict(task_a.version).unwrap());
    drop(handle);

    // Evicted: the block only `a` held is gone, the shared one stays, the
    // record stays, and evicting again changes nothing.
    assert!(store.evict(task_a.version).unwrap());
    assert!(!store.evict(task_a.version).unwrap());
    assert!(store.is_evicted(task_a.version).unwrap());
    assert_eq!(store.get_block(&a[0]).unwrap(), None);
    assert_eq!(a[1], c[0]);
    assert!(
        store.get_block(&a[1]).unwrap().is_some(),
        "the block `c` shares stays"
    );
    assert!(store.get_object_record("b", "a").unwrap().is_some());
    assert!(store.hot_copies().unwrap().is_empty());
    let report = store.fsck().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // Everything survives a reopen; deleting the evicted object is clean.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.placement_queue().unwrap().len(), 1);
    assert!(store.is_evicted(task_a.version).unwrap());
    assert!(store.block_location(&a[0]).unwrap().is_some());
    assert!(store.delete_object("b", "a").unwrap());
    assert!(!store.is_evicted(task_a.version).unwrap());
    assert!(store.delete_object("b", "c").unwrap());
    assert!(store.placement_queue().unwrap().is_empty());
    let report = store.fsck().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn placement_of_a_replaced_version_records_locations_but_no_hot_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.create_bucket("b", "p", 0).unwrap();
    store.queue_placements(true);
    let a = put_object(&store, "b", "k", &[7]);
    let task = store.placement_queue().unwrap().remove(0);
    put_object(&store, "b", "k", &[8]);
    store
        .placement_done(&task, &[(a[0].to_bytes(), 0..10)])
        .unwrap();
    assert_eq!(
        store.placement_queue().unwrap().len(),
        1,
        "only the new version"
    );
    assert!(store.hot_copies().unwrap().is_empty());
    assert!(store.is_placed(&task.root).unwrap());
    store
        .drop_placement(store.placement_queue().unwrap()[0].version)
        .unwrap();
    assert!(store.placement_queue().unwrap().is_empty());
}
