//! Groth16 parameters on disk: generated locally from a seed for
//! development networks, cached, and checked on every load.
//!
//! **Development only.** Whoever knows the seed (it is in this repository)
//! knows the toxic waste and can forge proofs. A production network
//! replaces these files with parameters from a multi-party phase-2
//! ceremony, as Filecoin ran: every participant re-randomises δ (and the
//! terms that depend on it) and publishes a proof of the update; the
//! parameters are sound if any one participant destroyed their share.
//! Only the file changes: its verifying key's digest is what a ledger's
//! genesis pins.
//!
//! A cache entry is two files in the cache folder, named after the circuit
//! (its name, its size in constraints, inputs and variables, and the
//! format version), so a changed circuit never picks up stale keys:
//!
//! - `<id>.params`: magic `CRNG`, format version, the SHA-256 of the
//!   payload, then the proving key: its verifying key and two points in
//!   arkworks' uncompressed encoding, then its five point vectors as raw
//!   Montgomery limbs (see `RawPoint`: loading them is a copy);
//! - `<id>.vk`: the verifying key alone, compressed (small; what genesis
//!   pins by [`vk_digest`]).
//!
//! Loading checks the digest before decoding; a mismatch or a short file
//! is an error naming the file, and the file is left for the operator to
//! inspect: the cache never regenerates silently over a corrupt entry.
//! Writing goes through a temporary file, fsync and rename, so a crash
//! leaves a whole entry or none.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ark_bls12_381::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, Zero};
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest, Sha256};

use super::cs::{Circuit, Counter, SynthesisError};
use super::groth16::{self, Groth16Error, ProvingKey, VerifyingKey};

const MAGIC: &[u8; 4] = b"CRNG";
/// Format version of parameter files.
pub const PARAMS_VERSION: u16 = 2;
const HEADER: usize = 4 + 2 + 32;

/// Why parameters could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file whose digest, header or encoding is wrong: corrupt or
    /// truncated. It is not replaced automatically.
    #[error("{path}: corrupt parameter file ({why}); delete it to regenerate")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Key generation failed.
    #[error(transparent)]
    Generate(#[from] Groth16Error),
    /// The circuit could not be sized.
    #[error(transparent)]
    Synthesis(#[from] SynthesisError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ParamsError + '_ {
    move |source| ParamsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The size of the circuit called `name`, counted once per process:
/// counting synthesises the whole circuit (about a second for the 2 KiB
/// PoRep circuit), and every load of its keys needs the size.
pub fn circuit_size<C: Circuit>(name: &str, circuit: &C) -> Result<Counter, ParamsError> {
    static SIZES: Mutex<BTreeMap<String, Counter>> = Mutex::new(BTreeMap::new());
    let known = SIZES.lock().ok().and_then(|m| m.get(name).copied());
    if let Some(size) = known {
        return Ok(size);
    }
    let size = Counter::of(circuit)?;
    if let Ok(mut m) = SIZES.lock() {
        m.insert(name.to_owned(), size);
    }
    Ok(size)
}

/// The cache file stem for a circuit: its name and its shape.
pub fn circuit_id<C: Circuit>(name: &str, circuit: &C) -> Result<String, ParamsError> {
    let size = circuit_size(name, circuit)?;
    Ok(format!(
        "v{PARAMS_VERSION}-{name}-{}c-{}i-{}v",
        size.constraints, size.inputs, size.aux
    ))
}

/// SHA-256 of a verifying key's compressed encoding: what a genesis pins.
pub fn vk_digest(vk: &VerifyingKey) -> [u8; 32] {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = vk.serialize_compressed(&mut bytes);
    Sha256::digest(&bytes).into()
}

/// The development seed's rng for a circuit id.
fn dev_rng(id: &str, seed: u64) -> ChaCha20Rng {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"cairn development groth16 parameters, not for production\0")
        .chain_update(id.as_bytes())
        .chain_update(seed.to_le_bytes())
        .finalize()
        .into();
    ChaCha20Rng::from_seed(digest)
}

/// What [`load_or_generate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Read from the cache.
    Loaded,
    /// Generated and written to the cache.
    Generated,
}

/// The proving key of `circuit` (its blank shape) from `dir`, generating
/// it from the development `seed` if the cache has no entry. `progress`
/// hears one line before a generation starts (they take minutes for the
/// PoRep circuit).
pub fn load_or_generate<C: Circuit>(
    dir: &Path,
    name: &str,
    circuit: &C,
    seed: u64,
    progress: &mut dyn FnMut(&str),
) -> Result<(ProvingKey, Source), ParamsError> {
    let id = circuit_id(name, circuit)?;
    let path = dir.join(format!("{id}.params"));
    match File::open(&path) {
        Ok(f) => return Ok((read_params(&path, f)?, Source::Loaded)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    let size = circuit_size(name, circuit)?;
    progress(&format!(
        "generating development Groth16 parameters for {name} ({} constraints) into {}: \
         about {:.0} s on 2 cores, once per machine",
        size.constraints,
        path.display(),
        (size.constraints as f64 / 1e6 * SECONDS_PER_MILLION_CONSTRAINTS).max(1.0)
    ));
    let pk = groth16::generate_keys(circuit, &mut dev_rng(&id, seed))?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    write_params(&path, &pk)?;
    write_vk(&dir.join(format!("{id}.vk")), &pk.vk)?;
    Ok((pk, Source::Generated))
}

/// The development seed every Cairn devnet uses, so that nodes on one
/// machine or one devnet agree on keys without copying files.
pub const DEV_SEED: u64 = 20_261_125;

/// The parameter folder: `$CAIRN_PARAMS_DIR`, else
/// `$HOME/.cache/cairn/params` (outside any clone, so a CI machine
/// generates each circuit's keys once).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CAIRN_PARAMS_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("cairn").join("params")
}

/// The PoRep circuit's development keys for a sector size.
pub fn porep_keys(
    dir: &Path,
    proof: crate::sector::SealProof,
    progress: &mut dyn FnMut(&str),
) -> Result<(ProvingKey, Source), ParamsError> {
    let circuit = super::porep_circuit::PorepCircuit::blank(proof);
    load_or_generate(dir, &porep_name(proof), &circuit, DEV_SEED, progress)
}

fn porep_name(proof: crate::sector::SealProof) -> String {
    format!("porep-{}", size_name(proof.sector_size()))
}

fn window_post_name(post: crate::sector::WindowPostProof) -> String {
    format!("window-post-{}", size_name(post.seal_proof().sector_size()))
}

/// The PoRep circuit's size for a sector size (counted once per process).
pub fn porep_size(proof: crate::sector::SealProof) -> Result<Counter, ParamsError> {
    circuit_size(
        &porep_name(proof),
        &super::porep_circuit::PorepCircuit::blank(proof),
    )
}

/// The WindowPoSt circuit's size for a sector size (counted once per
/// process).
pub fn window_post_size(post: crate::sector::WindowPostProof) -> Result<Counter, ParamsError> {
    circuit_size(
        &window_post_name(post),
        &super::post_circuit::WindowPostCircuit::blank(post),
    )
}

/// The WindowPoSt circuit's development keys for a sector size.
pub fn window_post_keys(
    dir: &Path,
    post: crate::sector::WindowPostProof,
    progress: &mut dyn FnMut(&str),
) -> Result<(ProvingKey, Source), ParamsError> {
    let circuit = super::post_circuit::WindowPostCircuit::blank(post);
    load_or_generate(dir, &window_post_name(post), &circuit, DEV_SEED, progress)
}

/// The verifying-key file of the PoRep circuit for a sector size in
/// `dir`, generating the parameters first if the cache has no entry (what
/// a devnet's genesis pins and its validators load).
pub fn porep_vk_file(
    dir: &Path,
    proof: crate::sector::SealProof,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ParamsError> {
    let circuit = super::porep_circuit::PorepCircuit::blank(proof);
    vk_file(dir, &porep_name(proof), &circuit, progress)
}

/// The verifying-key file of the WindowPoSt circuit for a sector size in
/// `dir`, generating the parameters first if the cache has no entry.
pub fn window_post_vk_file(
    dir: &Path,
    post: crate::sector::WindowPostProof,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ParamsError> {
    let circuit = super::post_circuit::WindowPostCircuit::blank(post);
    vk_file(dir, &window_post_name(post), &circuit, progress)
}

fn vk_file<C: Circuit>(
    dir: &Path,
    name: &str,
    circuit: &C,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ParamsError> {
    let id = circuit_id(name, circuit)?;
    let path = dir.join(format!("{id}.vk"));
    if path.exists() {
        return Ok(path);
    }
    let (pk, source) = load_or_generate(dir, name, circuit, DEV_SEED, progress)?;
    if source == Source::Loaded {
        // Parameters without their key file (copied by hand): write it.
        write_vk(&path, &pk.vk)?;
    }
    Ok(path)
}

fn size_name(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{}GiB", b >> 30),
        b if b >= 1 << 20 => format!("{}MiB", b >> 20),
        b => format!("{}KiB", b >> 10),
    }
}

/// Rough generation cost, for the progress line (measured on the 2-core
/// development machine; see docs/BENCHMARKS.md).
const SECONDS_PER_MILLION_CONSTRAINTS: f64 = 50.0;

/// Hashes what passes through it.
struct Hashing<T> {
    inner: T,
    sha: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), ParamsError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    write(&mut f).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = File::open(parent)
    {
        // Best effort: the rename is durable once the folder is synced.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Streams the key out (never a second copy in memory), then writes the
/// payload's digest into the header.
fn write_params(path: &Path, pk: &ProvingKey) -> Result<(), ParamsError> {
    write_atomically(path, |f| {
        f.write_all(MAGIC)?;
        f.write_all(&PARAMS_VERSION.to_le_bytes())?;
        f.write_all(&[0; 32])?;
        let mut w = Hashing {
            inner: BufWriter::with_capacity(1 << 20, f.try_clone()?),
            sha: Sha256::new(),
        };
        encode_key(pk, &mut w)?;
        w.flush()?;
        let Hashing { inner, sha } = w;
        // The clone shares the file offset; done writing through it.
        drop(inner);
        let digest: [u8; 32] = sha.finalize().into();
        f.seek(SeekFrom::Start(6))?;
        f.write_all(&digest)
    })
}

fn write_vk(path: &Path, vk: &VerifyingKey) -> Result<(), ParamsError> {
    let mut bytes = Vec::new();
    vk.serialize_compressed(&mut bytes)
        .map_err(|e| io(path)(std::io::Error::other(e.to_string())))?;
    write_atomically(path, |w| w.write_all(&bytes))
}

/// Streams the key in while hashing it; the key is returned only if the
/// digest matches and nothing follows it.
fn read_params(path: &Path, f: File) -> Result<ProvingKey, ParamsError> {
    params_from_reader(f, path)
}

/// Decodes a parameter file's bytes from `r` (`path` names it in
/// errors): the header, the digest over the payload, the key.
///
/// Two threads: one reads the payload in blocks and hashes them, the
/// other decodes the blocks as they come, so hashing 1.7 GB costs no
/// wall time beside decoding it (docs/BENCHMARKS.md §7). At most
/// [`PIPELINE_BLOCKS`] blocks are in flight.
pub fn params_from_reader(mut r: impl Read + Send, path: &Path) -> Result<ProvingKey, ParamsError> {
    let corrupt = |why: String| ParamsError::Corrupt {
        path: path.to_owned(),
        why,
    };
    let mut header = [0u8; HEADER];
    r.read_exact(&mut header)
        .map_err(|_| corrupt("shorter than its header".into()))?;
    let (magic, rest) = header.split_at(4);
    let (version, digest) = rest.split_at(2);
    if magic != MAGIC {
        return Err(corrupt("not a Cairn parameter file".into()));
    }
    if version != PARAMS_VERSION.to_le_bytes() {
        return Err(corrupt(format!("format version {version:?}")));
    }
    let (decoded, extra, hashed) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(PIPELINE_BLOCKS);
        let hasher = s.spawn(move || -> std::io::Result<[u8; 32]> {
            let mut sha = Sha256::new();
            loop {
                let mut block = vec![0u8; BLOCK];
                let n = read_full(&mut r, &mut block)?;
                if n == 0 {
                    break;
                }
                block.truncate(n);
                sha.update(&block);
                if tx.send(block).is_err() {
                    // The decoder stopped early: its error is the one to report.
                    break;
                }
            }
            Ok(sha.finalize().into())
        });
        let mut blocks = Blocks {
            rx,
            block: Vec::new(),
            pos: 0,
        };
        // The digest vouches for the bytes (we wrote them), so the points
        // skip the curve and subgroup checks, millions of them.
        let decoded = decode_key(&mut blocks);
        let extra = decoded.is_ok() && blocks.more();
        drop(blocks);
        let hashed = hasher
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (decoded, extra, hashed)
    });
    let actual = hashed.map_err(io(path))?;
    let pk = decoded.map_err(|e| corrupt(format!("undecodable or truncated: {e}")))?;
    if extra {
        return Err(corrupt("bytes after the key".into()));
    }
    if actual != digest {
        return Err(corrupt(format!(
            "SHA-256 {} where the header says {}",
            hex::encode(actual),
            hex::encode(digest)
        )));
    }
    Ok(pk)
}

/// Writes a proving key: the verifying key and the two single points in
/// arkworks' uncompressed encoding, then the five query vectors as raw
/// Montgomery limbs ([`RawPoint`]), each prefixed by its length as a
/// little-endian `u64`.
fn encode_key(pk: &ProvingKey, w: &mut impl Write) -> std::io::Result<()> {
    let ark = |e: SerializationError| std::io::Error::other(e.to_string());
    pk.vk.serialize_uncompressed(&mut *w).map_err(ark)?;
    pk.beta_g1.serialize_uncompressed(&mut *w).map_err(ark)?;
    pk.delta_g1.serialize_uncompressed(&mut *w).map_err(ark)?;
    write_points(w, &pk.a_query, G1)?;
    write_points(w, &pk.b_g1_query, G1)?;
    write_points(w, &pk.b_g2_query, G2)?;
    write_points(w, &pk.h_query, G1)?;
    write_points(w, &pk.l_query, G1)
}

fn write_points<P>(w: &mut impl Write, points: &[P], raw: Raw<P>) -> std::io::Result<()> {
    w.write_all(&(points.len() as u64).to_le_bytes())?;
    let mut buf = Vec::with_capacity(raw.size * POINTS_PER_ROUND);
    for chunk in points.chunks(POINTS_PER_ROUND) {
        buf.clear();
        for p in chunk {
            (raw.put)(p, &mut buf);
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Decodes what [`encode_key`] wrote, unchecked (the file's digest vouches
/// for it), the point vectors on every core.
fn decode_key(r: &mut impl Read) -> Result<ProvingKey, SerializationError> {
    let (c, v) = (Compress::No, Validate::No);
    Ok(ProvingKey {
        vk: VerifyingKey::deserialize_with_mode(&mut *r, c, v)?,
        beta_g1: G1Affine::deserialize_with_mode(&mut *r, c, v)?,
        delta_g1: G1Affine::deserialize_with_mode(&mut *r, c, v)?,
        a_query: read_points(r, G1)?,
        b_g1_query: read_points(r, G1)?,
        b_g2_query: read_points(r, G2)?,
        h_query: read_points(r, G1)?,
        l_query: read_points(r, G1)?,
    })
}

/// Points decoded per round of [`read_points`].
const POINTS_PER_ROUND: usize = 1 << 16;

/// A point stored as the Montgomery limbs of its coordinates, little
/// endian, exactly as it sits in memory: loading is a copy, with no
/// conversion out of or into Montgomery form (which took two thirds of
/// the time arkworks' own encoding needs to load). The identity is all
/// zeros, which is no point of either curve.
struct Raw<P> {
    /// Bytes per point.
    size: usize,
    /// Appends a point.
    put: fn(&P, &mut Vec<u8>),
    /// The point in `size` bytes.
    get: fn(&[u8]) -> P,
}

impl<P> Clone for Raw<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Raw<P> {}

const G1: Raw<G1Affine> = Raw {
    size: 96,
    put: |p, out| {
        let (x, y) = p.xy().unwrap_or_default();
        put_fq(&x, out);
        put_fq(&y, out);
    },
    get: |b| {
        let (x, y) = b.split_at(48.min(b.len()));
        let (x, y) = (get_fq(x), get_fq(y));
        if x.is_zero() && y.is_zero() {
            G1Affine::identity()
        } else {
            G1Affine::new_unchecked(x, y)
        }
    },
};

const G2: Raw<G2Affine> = Raw {
    size: 192,
    put: |p, out| {
        let (x, y) = p.xy().unwrap_or_default();
        for c in [x.c0, x.c1, y.c0, y.c1] {
            put_fq(&c, out);
        }
    },
    get: |b| {
        let mut c = b.chunks_exact(48).map(get_fq);
        let mut next = || c.next().unwrap_or_default();
        let x = Fq2::new(next(), next());
        let y = Fq2::new(next(), next());
        if x.is_zero() && y.is_zero() {
            G2Affine::identity()
        } else {
            G2Affine::new_unchecked(x, y)
        }
    },
};

fn put_fq(x: &Fq, out: &mut Vec<u8>) {
    for limb in x.0.0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn get_fq(b: &[u8]) -> Fq {
    let mut limbs = [0u64; 6];
    for (l, c) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(c);
        *l = u64::from_le_bytes(le);
    }
    Fq::new_unchecked(BigInt(limbs))
}

/// A length-prefixed vector of points, read a round at a time (so a
/// forged length costs no memory) and decoded on every core.
fn read_points<P: Send + Copy + Default>(
    r: &mut impl Read,
    raw: Raw<P>,
) -> Result<Vec<P>, SerializationError> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len)?;
    let n =
        usize::try_from(u64::from_le_bytes(len)).map_err(|_| SerializationError::InvalidData)?;
    let size = raw.size;
    let mut out = Vec::with_capacity(n.min(POINTS_PER_ROUND));
    let mut buf = vec![0u8; n.min(POINTS_PER_ROUND) * size];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    while out.len() < n {
        let k = (n - out.len()).min(POINTS_PER_ROUND);
        let bytes = buf
            .get_mut(..k * size)
            .ok_or(SerializationError::InvalidData)?;
        r.read_exact(bytes)?;
        let start = out.len();
        out.resize(start + k, P::default());
        let dst = out.get_mut(start..).unwrap_or_default();
        let per = k.div_ceil(threads);
        std::thread::scope(|s| {
            for (d, b) in dst.chunks_mut(per).zip(bytes.chunks(per * size)) {
                s.spawn(move || {
                    for (d, b) in d.iter_mut().zip(b.chunks_exact(size)) {
                        *d = (raw.get)(b);
                    }
                });
            }
        });
    }
    Ok(out)
}

/// Bytes per block of the loading pipeline.
const BLOCK: usize = 4 << 20;
/// Blocks read ahead of the decoder.
pub const PIPELINE_BLOCKS: usize = 4;

/// Reads until `buf` is full or the input ends; how many bytes it read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|b| !b.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The decoder's side of the pipeline: the blocks, read in order.
struct Blocks {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    block: Vec<u8>,
    pos: usize,
}

impl Blocks {
    /// Whether any byte is left (waiting for the next block if needed).
    fn more(&mut self) -> bool {
        while self.pos >= self.block.len() {
            match self.rx.recv() {
                Ok(b) => {
                    self.block = b;
                    self.pos = 0;
                }
                Err(_) => return false,
            }
        }
        true
    }
}

impl Read for Blocks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() || !self.more() {
            return Ok(0);
        }
        let rest = self.block.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Reads a verifying key file (compressed, fully validated): for a
/// validator loading the keys its genesis pins.
pub fn read_vk(path: &Path) -> Result<VerifyingKey, ParamsError> {
    let bytes = fs::read(path).map_err(io(path))?;
    vk_from_bytes(&bytes).map_err(|why| ParamsError::Corrupt {
        path: path.to_owned(),
        why,
    })
}

/// Decodes a verifying key's compressed bytes, checking every point (on
/// the curve, in the subgroup) and that nothing follows.
pub fn vk_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, String> {
    let mut r = bytes;
    let vk =
        VerifyingKey::deserialize_compressed(&mut r).map_err(|e| format!("verifying key: {e}"))?;
    if !r.is_empty() {
        return Err(format!("{} bytes after the verifying key", r.len()));
    }
    Ok(vk)
}

#[cfg(test)]
mod tests {
    use super::super::cs::{ConstraintSystem, SynthesisError};
    use super::super::gadgets::bits::Num;
    use super::*;
    use crate::field::Fr;

    struct Square(Option<Fr>);

    impl Circuit for Square {
        fn synthesize<CS: ConstraintSystem>(&self, cs: &mut CS) -> Result<(), SynthesisError> {
            let y = Num::alloc_input(cs, self.0.map(|x| x * x))?;
            let x = Num::alloc(cs, self.0)?;
            x.square(cs)?.enforce_equal(cs, &y);
            Ok(())
        }
    }

    #[test]
    fn generates_once_loads_after_and_refuses_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = Vec::new();
        let (pk, src) = load_or_generate(dir.path(), "square", &Square(None), 1, &mut |l| {
            lines.push(l.to_owned())
        })
        .unwrap();
        assert_eq!(src, Source::Generated);
        assert_eq!(lines.len(), 1);
        let (again, src) =
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}).unwrap();
        assert_eq!(src, Source::Loaded);
        assert_eq!(again, pk);
        let id = circuit_id("square", &Square(None)).unwrap();
        assert_eq!(
            read_vk(&dir.path().join(format!("{id}.vk"))).unwrap(),
            pk.vk
        );
        assert_eq!(vk_digest(&again.vk), vk_digest(&pk.vk));

        // A flipped byte in the payload: refused by name, not regenerated.
        let path = dir.path().join(format!("{id}.params"));
        let mut bytes = fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let err =
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&err, ParamsError::Corrupt { path: p, .. } if *p == path),
            "{err}"
        );
        assert!(err.to_string().contains("SHA-256"));
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // Restored, it loads; with a byte appended, or cut inside the last
        // point vector, it is refused.
        bytes[mid] ^= 1;
        let mut longer = bytes.clone();
        longer.push(0);
        fs::write(&path, &longer).unwrap();
        let err =
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("bytes after the key"), "{err}");
        fs::write(&path, &bytes[..bytes.len() - 50]).unwrap();
        let err =
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        fs::write(&path, &bytes).unwrap();
        let (back, _) =
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}).unwrap();
        assert_eq!(back, pk);
        // Truncated.
        fs::write(&path, &bytes[..10]).unwrap();
        assert!(matches!(
            load_or_generate(dir.path(), "square", &Square(None), 1, &mut |_| {}),
            Err(ParamsError::Corrupt { .. })
        ));
    }
}
