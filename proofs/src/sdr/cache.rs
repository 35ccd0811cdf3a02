//! The parent cache: every node's 14 parents, computed once per graph and
//! kept on disk, in rust-fil-proofs' v28 format so the files are
//! interchangeable (storage-proofs-porep `stacked/vanilla/cache.rs`).
//!
//! Format: for node 0, 1, …, n-1 in order, its 6 DRG parents then its 8
//! expander parents, each a little-endian u32: 56 bytes a node, no header.
//! The file is named `v28-sdr-parent-{hex}.cache`, where `hex` is SHA-256 of
//! "poseidon_hasher", the graph's identifier, the four Feistel keys (u64
//! little-endian) and the node count (u32 little-endian); its SHA-256 is
//! published per registered proof (`parent_cache.json`,
//! [`SealProof::parent_cache_sha256`]).
//!
//! Sizes: 3.5 KiB for 2 KiB sectors, 56 GiB for 32 GiB sectors. Generation
//! streams to the file in chunks computed on several threads; labelling
//! reads it back sequentially through [`ParentCacheReader`], one buffer at
//! a time, once per layer.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::SdrError;
use super::graph::{DEGREE, Parents, StackedGraph};
use crate::sector::SealProof;

/// The parameter cache version rust-fil-proofs 19 names its files with.
pub const PARENT_CACHE_VERSION: u32 = 28;
/// Bytes per node in the cache.
pub const ENTRY_BYTES: usize = DEGREE * 4;
/// Nodes one generation task computes at a time (3.5 MiB of output).
const GEN_CHUNK_NODES: u32 = 1 << 16;
/// Bytes the reader asks the OS for at a time.
const READ_BUF_BYTES: usize = ENTRY_BYTES << 14;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file's name for `graph`, as rust-fil-proofs names it.
pub fn parent_cache_file_name(graph: &StackedGraph) -> String {
    let mut h = Sha256::new();
    h.update(b"poseidon_hasher");
    h.update(graph.identifier().as_bytes());
    for key in graph.feistel_keys() {
        h.update(key.to_le_bytes());
    }
    h.update(graph.nodes().to_le_bytes());
    format!(
        "v{PARENT_CACHE_VERSION}-sdr-parent-{}.cache",
        hex(&h.finalize())
    )
}

/// Bytes of the cache of a graph of `nodes` nodes.
pub fn parent_cache_len(nodes: u32) -> u64 {
    u64::from(nodes) * ENTRY_BYTES as u64
}

/// A parent cache file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentCacheFile {
    /// Where it is.
    pub path: PathBuf,
    /// SHA-256 of its contents.
    pub sha256: [u8; 32],
}

impl ParentCacheFile {
    /// The digest in hex.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// Nodes whose expander chains are computed together.
const LOCKSTEP_NODES: u32 = 4;

fn fill_entries(graph: &StackedGraph, first: u32, out: &mut Vec<u8>, count: u32) {
    out.clear();
    let mut batch = Vec::with_capacity(LOCKSTEP_NODES as usize);
    let end = first + count;
    let mut node = first;
    while node < end {
        let n = LOCKSTEP_NODES.min(end - node);
        batch.clear();
        graph.parents_many(node, n, &mut batch);
        for p in batch.iter().flatten() {
            out.extend_from_slice(&p.to_le_bytes());
        }
        node += n;
    }
}

/// Generates `graph`'s parent cache into `dir` (under its canonical name),
/// on `threads` threads (at least one), and returns it with its digest.
/// Writes to a temporary name first, so a crash leaves no partial cache
/// under the real name. Memory: `threads` chunks of 3.5 MiB.
pub fn generate_parent_cache(
    graph: &StackedGraph,
    dir: &Path,
    threads: usize,
) -> Result<ParentCacheFile, SdrError> {
    let threads = threads.max(1);
    let path = dir.join(parent_cache_file_name(graph));
    let tmp = path.with_extension("cache.tmp");
    let file = File::create(&tmp).map_err(SdrError::io(&tmp))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();

    let nodes = graph.nodes();
    let mut bufs: Vec<Vec<u8>> = (0..threads)
        .map(|_| Vec::with_capacity(GEN_CHUNK_NODES as usize * ENTRY_BYTES))
        .collect();
    let mut next = 0u32;
    while next < nodes {
        // One round: up to `threads` consecutive chunks, computed in
        // parallel, then written in order.
        let mut jobs = Vec::with_capacity(threads);
        for buf in bufs.iter_mut() {
            if next >= nodes {
                break;
            }
            let count = GEN_CHUNK_NODES.min(nodes - next);
            jobs.push((next, count, buf));
            next += count;
        }
        if jobs.len() == 1 {
            for (first, count, buf) in jobs.iter_mut() {
                fill_entries(graph, *first, buf, *count);
            }
        } else {
            std::thread::scope(|s| {
                for (first, count, buf) in jobs.iter_mut() {
                    let (first, count) = (*first, *count);
                    s.spawn(move || fill_entries(graph, first, buf, count));
                }
            });
        }
        for (_, _, buf) in jobs {
            hasher.update(buf.as_slice());
            out.write_all(buf).map_err(SdrError::io(&tmp))?;
        }
    }
    let file = out.into_inner().map_err(|e| SdrError::Io {
        path: tmp.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(SdrError::io(&tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(SdrError::io(&path))?;
    Ok(ParentCacheFile {
        path,
        sha256: hasher.finalize().into(),
    })
}

/// SHA-256 of a file, read 1 MiB at a time.
pub fn sha256_file(path: &Path) -> Result<[u8; 32], SdrError> {
    let mut file = File::open(path).map_err(SdrError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(SdrError::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hasher.finalize().into())
}

/// The parent cache of a registered proof in `dir`: generated if absent
/// (and then checked against the published digest), or, if present,
/// checked for its length and, with `verify`, its digest (which reads the
/// whole file). A file whose digest is wrong is removed, so that the next
/// call generates it afresh.
pub fn ensure_parent_cache(
    proof: SealProof,
    dir: &Path,
    threads: usize,
    verify: bool,
) -> Result<PathBuf, SdrError> {
    let graph = StackedGraph::for_proof(proof);
    let path = dir.join(parent_cache_file_name(&graph));
    let expected = proof.parent_cache_sha256();
    let digest = match fs::metadata(&path) {
        Ok(meta) => {
            let want = parent_cache_len(graph.nodes());
            if meta.len() != want {
                return Err(SdrError::FileSize {
                    path,
                    expected: want,
                    actual: meta.len(),
                });
            }
            if !verify {
                return Ok(path);
            }
            hex(&sha256_file(&path)?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            generate_parent_cache(&graph, dir, threads)?.sha256_hex()
        }
        Err(source) => return Err(SdrError::Io { path, source }),
    };
    if digest != expected {
        // Best effort: a wrong cache must not be picked up next time.
        let _ = fs::remove_file(&path);
        return Err(SdrError::ParentCacheDigest {
            path,
            expected: expected.to_owned(),
            actual: digest,
        });
    }
    Ok(path)
}

/// Where labelling gets each node's parents from, in node order.
pub trait ParentSource {
    /// Starts again from node 0 (before each layer).
    fn rewind(&mut self) -> Result<(), SdrError>;
    /// The next node's parents.
    fn next_parents(&mut self) -> Result<Parents, SdrError>;
}

/// Computes parents on the fly: no file, fine for small graphs and tests
/// (about 100x slower than reading the cache for large ones).
#[derive(Debug, Clone)]
pub struct GraphParents<'a> {
    graph: &'a StackedGraph,
    next: u32,
}

impl<'a> GraphParents<'a> {
    /// Parents of `graph` from node 0.
    pub fn new(graph: &'a StackedGraph) -> Self {
        Self { graph, next: 0 }
    }
}

impl ParentSource for GraphParents<'_> {
    fn rewind(&mut self) -> Result<(), SdrError> {
        self.next = 0;
        Ok(())
    }

    fn next_parents(&mut self) -> Result<Parents, SdrError> {
        let p = self.graph.parents(self.next);
        self.next = self.next.wrapping_add(1);
        Ok(p)
    }
}

/// Reads a parent cache file sequentially, one buffer (896 KiB) at a time.
#[derive(Debug)]
pub struct ParentCacheReader {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    pos: usize,
}

impl ParentCacheReader {
    /// Opens the cache at `path` for a graph of `nodes` nodes, checking
    /// its length (not its digest: see [`ensure_parent_cache`]).
    pub fn open(path: &Path, nodes: u32) -> Result<Self, SdrError> {
        let file = File::open(path).map_err(SdrError::io(path))?;
        let len = file.metadata().map_err(SdrError::io(path))?.len();
        let want = parent_cache_len(nodes);
        if len != want {
            return Err(SdrError::FileSize {
                path: path.to_owned(),
                expected: want,
                actual: len,
            });
        }
        Ok(Self {
            file,
            path: path.to_owned(),
            buf: Vec::with_capacity(READ_BUF_BYTES),
            pos: 0,
        })
    }

    fn refill(&mut self) -> Result<(), SdrError> {
        self.buf.resize(READ_BUF_BYTES, 0);
        let mut filled = 0;
        while filled < READ_BUF_BYTES {
            let rest = self.buf.get_mut(filled..).unwrap_or_default();
            let n = self.file.read(rest).map_err(SdrError::io(&self.path))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        self.buf.truncate(filled);
        self.pos = 0;
        Ok(())
    }
}

impl ParentSource for ParentCacheReader {
    fn rewind(&mut self) -> Result<(), SdrError> {
        self.file
            .seek(SeekFrom::Start(0))
            .map_err(SdrError::io(&self.path))?;
        self.buf.clear();
        self.pos = 0;
        Ok(())
    }

    fn next_parents(&mut self) -> Result<Parents, SdrError> {
        if self.pos + ENTRY_BYTES > self.buf.len() {
            self.refill()?;
        }
        let entry = self
            .buf
            .get(self.pos..self.pos + ENTRY_BYTES)
            .ok_or_else(|| SdrError::Io {
                path: self.path.clone(),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            })?;
        let mut parents = [0u32; DEGREE];
        for (p, b) in parents.iter_mut().zip(entry.chunks_exact(4)) {
            *p = u32::from_le_bytes(b.try_into().unwrap_or_default());
        }
        self.pos += ENTRY_BYTES;
        Ok(parents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parent_cache.json` of storage-proofs-porep 19.1.0 lists two files
    /// per sector size (API v1.0 and v1.1 graphs); the v1.1 ones are those
    /// our names pick, with the digests [`SealProof`] publishes.
    #[test]
    fn names_match_the_published_manifest() {
        let manifest = [
            (
                SealProof::StackedDrg2KiBV1_1,
                "494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b",
                "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97",
            ),
            (
                SealProof::StackedDrg8MiBV1_1,
                "5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5",
                "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab",
            ),
            (
                SealProof::StackedDrg512MiBV1_1,
                "7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34",
                "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a",
            ),
            (
                SealProof::StackedDrg32GiBV1_1,
                "21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117",
                "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da",
            ),
            (
                SealProof::StackedDrg64GiBV1_1,
                "4905486b7af19558ac3649bc6261411858b6add534438878c4ee3b29d8b9de0b",
                "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03",
            ),
        ];
        for (proof, id, digest) in manifest {
            let g = StackedGraph::for_proof(proof);
            assert_eq!(
                parent_cache_file_name(&g),
                format!("v28-sdr-parent-{id}.cache"),
                "{proof}"
            );
            assert_eq!(proof.parent_cache_sha256(), digest, "{proof}");
        }
    }

    #[test]
    fn ensure_generates_verifies_and_rejects() {
        let dir = tempfile::tempdir().unwrap();
        let proof = SealProof::StackedDrg2KiBV1_1;
        let path = ensure_parent_cache(proof, dir.path(), 2, false).unwrap();
        assert_eq!(
            hex(&sha256_file(&path).unwrap()),
            proof.parent_cache_sha256()
        );
        // Present and right: accepted, with or without reading it through.
        assert_eq!(
            ensure_parent_cache(proof, dir.path(), 2, true).unwrap(),
            path
        );
        // One flipped bit: caught by `verify`, and the file is removed.
        let mut bytes = fs::read(&path).unwrap();
        bytes[1000] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(
            ensure_parent_cache(proof, dir.path(), 2, false).unwrap(),
            path
        );
        assert!(matches!(
            ensure_parent_cache(proof, dir.path(), 2, true),
            Err(SdrError::ParentCacheDigest { .. })
        ));
        assert!(!path.exists());
        // A truncated file is refused on its length alone.
        fs::write(&path, &bytes[..100]).unwrap();
        assert!(matches!(
            ensure_parent_cache(proof, dir.path(), 2, false),
            Err(SdrError::FileSize {
                expected: 3584,
                actual: 100,
                ..
            })
        ));
    }

    #[test]
    fn generated_cache_reads_back_as_the_graph() {
        let dir = tempfile::tempdir().unwrap();
        let g = StackedGraph::new(70_000, &SealProof::StackedDrg2KiBV1_1.porep_id()).unwrap();
        let one = generate_parent_cache(&g, dir.path(), 1).unwrap();
        let bytes = fs::read(&one.path).unwrap();
        assert_eq!(bytes.len() as u64, parent_cache_len(70_000));
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(one.sha256, digest);
        assert_eq!(sha256_file(&one.path).unwrap(), digest);
        // The threaded generator writes the same bytes.
        let dir3 = tempfile::tempdir().unwrap();
        assert_eq!(
            generate_parent_cache(&g, dir3.path(), 3).unwrap().sha256,
            digest
        );

        let mut r = ParentCacheReader::open(&one.path, 70_000).unwrap();
        for pass in 0..2 {
            for node in 0..70_000u32 {
                let p = r.next_parents().unwrap();
                if node % 997 == 0 || node == 69_999 {
                    assert_eq!(p, g.parents(node), "pass {pass} node {node}");
                }
            }
            assert!(r.next_parents().is_err(), "read past the end");
            r.rewind().unwrap();
        }
        assert!(matches!(
            ParentCacheReader::open(&one.path, 69_999),
            Err(SdrError::FileSize { .. })
        ));
    }
}
