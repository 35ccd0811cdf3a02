//! SDR sealing throughput, in graph nodes per second:
//!
//! - `sdr::parents/size=S`: `StackedGraph::parents` (6 DRG parents by
//!   ChaCha8, 8 expander parents by Feistel/BLAKE2b) for 16 Ki consecutive
//!   nodes from the middle of the graph, one thread: what parent cache
//!   generation costs per node and core. The 32 GiB and 512 MiB graphs
//!   differ in their cipher domain (2^33 and 2^27 edge slots, both walked
//!   in a 4^k space twice their size), 64 GiB in nothing but its domain
//!   (2^34 = 4^17: no cycle walking). `,lockstep=4`: `parents_many` over
//!   4 nodes at a time (32 expander chains through BLAKE2b together), as
//!   the parent cache generator calls it.
//! - `sdr::parent_cache/size=8MiB,threads=T`: `generate_parent_cache`, the
//!   whole 2^18-node file (14 MiB) written to a temporary folder.
//! - `sdr::label_layers/size=8MiB`: `generate_layers` for both layers of an
//!   8 MiB sector, parents streamed from the cache file, layer files
//!   written: the labelling rate of PreCommit 1 (one thread).
//!
//! Run with `cargo bench -p cairn-benches --bench sdr`.

use std::hint::black_box;
use std::time::Duration;

use cairn_proofs::sdr::cache::{ParentCacheReader, generate_parent_cache};
use cairn_proofs::sdr::{ReplicaId, StackedGraph, generate_layers};
use cairn_proofs::sector::SealProof;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const PARENT_NODES: u32 = 1 << 14;

fn parents(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdr::parents");
    g.throughput(Throughput::Elements(u64::from(PARENT_NODES)));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for (name, proof) in [
        ("512MiB", SealProof::StackedDrg512MiBV1_1),
        ("32GiB", SealProof::StackedDrg32GiBV1_1),
        ("64GiB", SealProof::StackedDrg64GiBV1_1),
    ] {
        let graph = StackedGraph::for_proof(proof);
        let first = graph.nodes() / 2;
        g.bench_function(BenchmarkId::from_parameter(format!("size={name}")), |b| {
            b.iter(|| {
                for node in first..first + PARENT_NODES {
                    black_box(graph.parents(node));
                }
            })
        });
        let id = format!("size={name},lockstep=4");
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            let mut out = Vec::with_capacity(4);
            b.iter(|| {
                for node in (first..first + PARENT_NODES).step_by(4) {
                    out.clear();
                    graph.parents_many(node, 4, &mut out);
                    black_box(&out);
                }
            })
        });
    }
    g.finish();
}

fn parent_cache(c: &mut Criterion) {
    let graph = StackedGraph::for_proof(SealProof::StackedDrg8MiBV1_1);
    let mut g = c.benchmark_group("sdr::parent_cache");
    g.throughput(Throughput::Elements(u64::from(graph.nodes())));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for threads in [1usize, 2] {
        let id = format!("size=8MiB,threads={threads}");
        g.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().unwrap();
                black_box(generate_parent_cache(&graph, dir.path(), threads).unwrap());
            })
        });
    }
    g.finish();
}

fn label_layers(c: &mut Criterion) {
    let proof = SealProof::StackedDrg8MiBV1_1;
    let graph = StackedGraph::for_proof(proof);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = generate_parent_cache(&graph, cache_dir.path(), 2).unwrap();
    let replica_id = ReplicaId([7; 32]);
    let mut g = c.benchmark_group("sdr::label_layers");
    g.throughput(Throughput::Elements(
        u64::from(graph.nodes()) * u64::from(proof.layers()),
    ));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    g.bench_function(BenchmarkId::from_parameter("size=8MiB"), |b| {
        b.iter(|| {
            let out = tempfile::tempdir().unwrap();
            let mut parents = ParentCacheReader::open(&cache.path, graph.nodes()).unwrap();
            black_box(
                generate_layers(
                    &graph,
                    &mut parents,
                    &replica_id,
                    proof.layers(),
                    out.path(),
                )
                .unwrap(),
            );
        })
    });
    g.finish();
}

criterion_group!(benches, parents, parent_cache, label_layers);
criterion_main!(benches);
