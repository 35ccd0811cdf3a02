//! DAG building and CAR reading against plain SHA-256, over one 64 MiB
//! buffer of incompressible, non-repeating bytes.
//!
//! - `dag::build/profile=P`: `FileBuilder` over the buffer, blocks dropped
//!   as they come out (the cost of chunking, hashing, encoding and CIDs);
//! - `sha256::digest/size=64MiB`: `sha2::Sha256` over the same buffer, the
//!   hash the builder uses, as the ceiling the builder is held to (issue
//!   goal: build ≥ 80% of it, per core);
//! - `car::read/profile=P`: `CarReader` over a CAR of that DAG held in
//!   memory, every block parsed and verified against its CID.
//!
//! All report `Throughput::Bytes` of file bytes, so the three compare
//! directly. Run with `cargo bench -p cairn-benches --bench dag`.
//!
//! Figures for paths that allocate a fresh ≥ 128 KiB buffer per block
//! (`kubo-legacy` leaves, CAR frames) depend on glibc malloc's dynamic mmap
//! threshold, which earlier benches in the same process raise: run an id
//! alone (`-- '^dag::build/profile=kubo-legacy$'`) for the fresh-process
//! figure. docs/BENCHMARKS.md has both.

use std::convert::Infallible;
use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use cairn_benches::data::distinct_bytes;
use cairn_dag::car::{CarReader, CarWriter};
use cairn_dag::{Block, FileBuilder, FileRoot, Profile};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};

const SIZE: usize = 64 << 20;

fn build(
    profile: Profile,
    data: &[u8],
    sink: &mut impl FnMut(Block) -> Result<(), Infallible>,
) -> FileRoot {
    let mut builder = FileBuilder::new(profile);
    let written = builder.write(data, sink);
    match written.and_then(|()| builder.finish(sink)) {
        Ok(root) => root,
        Err(never) => match never {},
    }
}

fn car_of(profile: Profile, data: &[u8]) -> Arc<[u8]> {
    let mut blocks = Vec::new();
    let root = build(profile, data, &mut |b| {
        blocks.push(b);
        Ok(())
    });
    // Root first, then the rest in emission order: a valid CAR v1 either way.
    let mut car = CarWriter::new(Vec::with_capacity(SIZE + SIZE / 16), &[root.cid]).unwrap();
    for b in &blocks {
        car.write_block(&b.cid, &b.data).unwrap();
    }
    Arc::from(car.finish().unwrap())
}

fn benches(c: &mut Criterion) {
    let data = distinct_bytes(SIZE, 0xCA1E);

    let mut g = c.benchmark_group("sha256::digest");
    g.throughput(Throughput::Bytes(SIZE as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    g.bench_function(BenchmarkId::from_parameter("size=64MiB"), |b| {
        b.iter(|| Sha256::digest(black_box(&data)))
    });
    g.finish();

    let mut g = c.benchmark_group("dag::build");
    g.throughput(Throughput::Bytes(SIZE as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for profile in Profile::ALL {
        g.bench_function(
            BenchmarkId::from_parameter(format!("profile={profile}")),
            |b| {
                b.iter(|| {
                    build(profile, black_box(&data), &mut |block| {
                        black_box(block);
                        Ok(())
                    })
                })
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("car::read");
    g.throughput(Throughput::Bytes(SIZE as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for profile in Profile::ALL {
        let car = car_of(profile, &data);
        g.bench_function(
            BenchmarkId::from_parameter(format!("profile={profile}")),
            |b| {
                b.iter(|| {
                    let mut reader = CarReader::new(Cursor::new(car.clone())).unwrap();
                    while let Some(block) = reader.next_block().unwrap() {
                        black_box(block);
                    }
                    reader.finish().unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(dag, benches);
criterion_main!(dag);
