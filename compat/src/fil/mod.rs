//! What `fil_compare` and `fil_bench` share: rust-fil-proofs 19.1.0's
//! configuration for the seal proofs Cairn supports, the environment it
//! reads, random inputs, and byte comparison that names the first
//! difference.

#![allow(dead_code)]

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cairn_proofs::sector::SealProof;
use filecoin_proofs::{
    PoRepConfig, PoStConfig, PoStType, SectorSize, WINDOW_POST_CHALLENGE_COUNT,
    WINDOW_POST_SECTOR_COUNT,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use storage_proofs_core::api_version::ApiVersion;

/// The tree shape of every size compared here: 2 KiB, 8 MiB and 512 MiB
/// are all `LCTree<PoseidonHasher, U8, U0, U0>` in filecoin-proofs'
/// constants (`SectorShape2KiB = SectorShape8MiB = SectorShape512MiB`).
pub type Tree = filecoin_proofs::SectorShapeBase;

/// The sizes this harness runs, by name.
pub fn parse_size(s: &str) -> Result<SealProof> {
    let p = match s.to_ascii_lowercase().as_str() {
        "2kib" | "2k" | "2048" => SealProof::StackedDrg2KiBV1_1,
        "8mib" | "8m" => SealProof::StackedDrg8MiBV1_1,
        "512mib" | "512m" => SealProof::StackedDrg512MiBV1_1,
        other => bail!("unsupported sector size {other:?} (2KiB, 8MiB, 512MiB)"),
    };
    Ok(p)
}

/// "2KiB", "8MiB", "512MiB".
pub fn size_name(p: SealProof) -> &'static str {
    match p.sector_size() {
        2048 => "2KiB",
        8388608 => "8MiB",
        536870912 => "512MiB",
        34359738368 => "32GiB",
        _ => "64GiB",
    }
}

/// The PoRep id exactly as filecoin-proofs-api's `RegisteredSealProof::porep_id`
/// builds it (seal proof id u64 LE, nonce 0 u64 LE, 16 zero bytes), written
/// out here rather than taken from cairn-proofs.
pub fn fil_porep_id(p: SealProof) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&p.id().to_le_bytes());
    id
}

/// The reference's PoRep configuration: interactive PoRep, API 1.1, no features.
pub fn porep_config(p: SealProof) -> PoRepConfig {
    PoRepConfig::new_groth16(p.sector_size(), fil_porep_id(p), ApiVersion::V1_1_0)
}

/// The reference's WindowPoSt configuration, API 1.2.
pub fn post_config(p: SealProof) -> Result<PoStConfig> {
    let sector_count = *WINDOW_POST_SECTOR_COUNT
        .read()
        .map_err(|_| anyhow::anyhow!("WINDOW_POST_SECTOR_COUNT poisoned"))?
        .get(&p.sector_size())
        .context("no window PoSt sector count")?;
    Ok(PoStConfig {
        sector_size: SectorSize(p.sector_size()),
        challenge_count: WINDOW_POST_CHALLENGE_COUNT,
        sector_count,
        typ: PoStType::Window,
        priority: false,
        api_version: ApiVersion::V1_2_0,
    })
}

/// Points rust-fil-proofs' caches at scratch folders unless the caller set
/// them: `FIL_PROOFS_PARENT_CACHE` (its parent cache files) and
/// `FIL_PROOFS_PARAMETER_CACHE` (never read here: nothing needs Groth16
/// parameters). Must run before any thread starts and before the reference
/// reads its settings.
pub fn init_env(base: &Path) -> Result<(PathBuf, PathBuf)> {
    let fil_parents = base.join("fil-parents");
    let cairn_parents = base.join("cairn-parents");
    for (var, default) in [
        ("FIL_PROOFS_PARENT_CACHE", fil_parents.clone()),
        ("FIL_PROOFS_PARAMETER_CACHE", base.join("fil-params")),
    ] {
        if std::env::var_os(var).is_none() {
            std::fs::create_dir_all(&default)?;
            // SAFETY: called at the start of main, before any other thread.
            unsafe { std::env::set_var(var, &default) };
        }
    }
    let fil_parents = PathBuf::from(
        std::env::var_os("FIL_PROOFS_PARENT_CACHE").context("FIL_PROOFS_PARENT_CACHE")?,
    );
    std::fs::create_dir_all(&fil_parents)?;
    std::fs::create_dir_all(&cairn_parents)?;
    Ok((fil_parents, cairn_parents))
}

/// Default folder for the parent caches, kept between runs.
pub fn default_cache_base() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/cairn/compat-fil")
}

/// A reproducible generator for one case.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// 32 random bytes.
pub fn bytes32(rng: &mut ChaCha20Rng) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    b
}

/// A number in `lo..=hi`.
pub fn range(rng: &mut ChaCha20Rng, lo: u64, hi: u64) -> u64 {
    lo + rng.next_u64() % (hi - lo + 1)
}

/// A seed for case `index` of `size`, from the run's seed (SplitMix64 of
/// the three), printed with each case so one can be rerun alone.
pub fn case_seed(run_seed: u64, size: u64, index: u64) -> u64 {
    let mut z = run_seed ^ size.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Where two byte strings first differ, or `None` if they are equal.
pub fn first_byte_diff(ours: &[u8], theirs: &[u8]) -> Option<String> {
    if let Some(i) = ours.iter().zip(theirs).position(|(a, b)| a != b) {
        return Some(format!(
            "first differing byte {i}: cairn {:#04x}, filecoin-proofs {:#04x}",
            ours[i], theirs[i]
        ));
    }
    if ours.len() != theirs.len() {
        return Some(format!(
            "lengths differ: cairn {} bytes, filecoin-proofs {} (equal up to the shorter)",
            ours.len(),
            theirs.len()
        ));
    }
    None
}

/// Where two files first differ (streamed, 1 MiB at a time), or `None`.
pub fn first_file_diff(ours: &Path, theirs: &Path) -> Result<Option<String>> {
    let (la, lb) = (
        std::fs::metadata(ours)
            .with_context(|| ours.display().to_string())?
            .len(),
        std::fs::metadata(theirs)
            .with_context(|| theirs.display().to_string())?
            .len(),
    );
    let mut a = File::open(ours)?;
    let mut b = File::open(theirs)?;
    let mut ba = vec![0u8; 1 << 20];
    let mut bb = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let na = read_full(&mut a, &mut ba)?;
        let nb = read_full(&mut b, &mut bb)?;
        let n = na.min(nb);
        if let Some(i) = ba[..n].iter().zip(&bb[..n]).position(|(x, y)| x != y) {
            let at = off + i as u64;
            return Ok(Some(format!(
                "first differing byte {at} (node {}, byte {} in it): cairn {:#04x}, filecoin-proofs {:#04x}",
                at / 32,
                at % 32,
                ba[i],
                bb[i]
            )));
        }
        if na != nb || n == 0 {
            break;
        }
        off += n as u64;
    }
    if la != lb {
        return Ok(Some(format!(
            "file lengths differ: cairn {la} bytes, filecoin-proofs {lb} (equal up to the shorter)"
        )));
    }
    Ok(None)
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Padded sizes of the zero pieces that fill a sector from `offset` padded
/// bytes to its end, each aligned on its size (what Lotus adds before
/// sealing a sector that its deals do not fill).
pub fn fill_pieces(mut offset: u64, sector: u64) -> Vec<u64> {
    let mut out = Vec::new();
    while offset < sector {
        let p = if offset == 0 {
            sector
        } else {
            1u64 << offset.trailing_zeros()
        };
        out.push(p);
        offset += p;
    }
    out
}

/// Lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The CPU model from /proc/cpuinfo and the number of online CPUs.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{model}, {cores} CPUs")
}
