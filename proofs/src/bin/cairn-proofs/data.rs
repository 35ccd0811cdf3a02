//! The sector's payload and staging it: one piece, zero-filled to the
//! sector, as rust-fil-proofs' `add_piece` writes it.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cairn_proofs::commp::CommPHasher;
use cairn_proofs::pieces::{self, PieceInfo};
use cairn_proofs::sector::SealProof;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// What a sector holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A file's bytes, at most the sector's unpadded capacity.
    File(PathBuf),
    /// `RandomReader::new(seed)`, the sector's full unpadded capacity.
    Random(u64),
}

impl Payload {
    /// Payload bytes for a sector of `proof`, refusing a file that is empty
    /// or larger than the sector holds.
    pub fn len(&self, proof: SealProof) -> Result<u64> {
        let cap = proof.unpadded_sector_size();
        match self {
            Payload::Random(_) => Ok(cap),
            Payload::File(p) => {
                let len = fs::metadata(p)
                    .with_context(|| format!("--data {}", p.display()))?
                    .len();
                if len == 0 {
                    bail!("--data {} is empty", p.display());
                }
                if len > cap {
                    bail!(
                        "--data {} is {len} bytes, a {} sector holds at most {cap}",
                        p.display(),
                        proof.name()
                    );
                }
                Ok(len)
            }
        }
    }

    /// The payload's bytes, from the start.
    pub fn open(&self) -> Result<Box<dyn Read>> {
        Ok(match self {
            Payload::Random(seed) => Box::new(RandomReader::new(*seed)),
            Payload::File(p) => Box::new(BufReader::with_capacity(
                1 << 20,
                File::open(p).with_context(|| format!("--data {}", p.display()))?,
            )),
        })
    }
}

/// Bytes the random stream generates at a time: a multiple of ChaCha's
/// 4-byte word, so the stream is the same bytes as one `fill_bytes` call.
const RANDOM_BLOCK: usize = 1 << 16;

/// Deterministic pseudo-random bytes without end: ChaCha20 (rand_chacha
/// 0.3) seeded with `ChaCha20Rng::seed_from_u64(seed)`, generated 64 KiB at
/// a time.
#[derive(Debug)]
pub struct RandomReader {
    rng: ChaCha20Rng,
    buf: Vec<u8>,
    pos: usize,
}

impl RandomReader {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha20Rng::seed_from_u64(seed),
            buf: vec![0; RANDOM_BLOCK],
            pos: RANDOM_BLOCK,
        }
    }
}

impl Read for RandomReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.buf.len() {
            self.rng.fill_bytes(&mut self.buf);
            self.pos = 0;
        }
        let avail = self.buf.get(self.pos..).unwrap_or_default();
        let n = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Writes the payload as the sector's one piece to `staged` (via a
/// temporary file, fsynced, then renamed, so a crash leaves no partial
/// staged sector under that name) and returns the piece.
pub fn stage(proof: SealProof, payload: &Payload, staged: &Path) -> Result<(PieceInfo, u64)> {
    let len = payload.len(proof)?;
    let tmp = staged.with_extension("tmp");
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let added = pieces::add_piece(payload.open()?, &mut out, proof.sector_size(), &[], len)
        .context("staging the data")?;
    pieces::fill_staged_sector(&mut out, proof.sector_size(), added.written_unpadded)
        .context("zero-filling the staged sector")?;
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all().map(|()| f))
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, staged).with_context(|| format!("renaming to {}", staged.display()))?;
    Ok((added.info, len))
}

/// The piece the payload makes, without staging it (reads it once).
pub fn piece_of(proof: SealProof, payload: &Payload) -> Result<PieceInfo> {
    let len = payload.len(proof)?;
    let mut hasher = CommPHasher::new();
    let copied = io::copy(&mut payload.open()?.take(len), &mut hasher)?;
    if copied != len {
        bail!("the data ended after {copied} of {len} bytes");
    }
    let c = hasher.finish().context("CommP of the data")?;
    Ok(PieceInfo::new(c.comm_p, c.padded_size)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_stream_is_one_fill_bytes_whatever_the_read_sizes() {
        let len = 3 * RANDOM_BLOCK + 1234;
        let mut want = vec![0u8; len];
        ChaCha20Rng::seed_from_u64(7).fill_bytes(&mut want);
        let mut r = RandomReader::new(7);
        let mut got = Vec::new();
        // Odd read sizes that straddle the 64 KiB blocks.
        for size in [1usize, 999, RANDOM_BLOCK, 70_001].iter().cycle() {
            if got.len() >= len {
                break;
            }
            let mut buf = vec![0u8; (*size).min(len - got.len())];
            let n = r.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, want);
        let mut other = [0u8; 32];
        RandomReader::new(8).read_exact(&mut other).unwrap();
        assert_ne!(&other[..], &want[..32], "another seed, other bytes");
    }

    #[test]
    fn staging_gives_the_piece_of_the_data_and_one_sector() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::write(&data, [7u8; 1000]).unwrap();
        let p = SealProof::StackedDrg2KiBV1_1;
        let staged = dir.path().join("staged");
        for payload in [Payload::File(data.clone()), Payload::Random(3)] {
            let (info, len) = stage(p, &payload, &staged).unwrap();
            assert_eq!(fs::metadata(&staged).unwrap().len(), 2048);
            assert_eq!(info, piece_of(p, &payload).unwrap());
            assert_eq!(len, payload.len(p).unwrap());
            // CommD of the staged sector follows from the piece alone.
            assert_eq!(
                pieces::comm_d(2048, &[info]).unwrap(),
                cairn_proofs::commp::commp(
                    &cairn_proofs::fr32::unpad(&fs::read(&staged).unwrap()).unwrap()
                )
                .unwrap()
                .comm_p
            );
        }
        assert_eq!(Payload::Random(3).len(p).unwrap(), 2032);
        fs::write(&data, [1u8; 2033]).unwrap();
        let e = Payload::File(data.clone()).len(p).unwrap_err();
        assert!(e.to_string().contains("at most 2032"), "{e}");
        fs::write(&data, []).unwrap();
        assert!(
            Payload::File(data)
                .len(p)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
