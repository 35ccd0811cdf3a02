//! `cairn commp FILE`: the Filecoin piece commitment of a file, streamed.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use cairn_proofs::commp::CommPHasher;

use crate::progress;

/// Prints piece CID (v1 and v2), padded and unpadded size.
pub fn run(path: &Path, json: bool) -> Result<()> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).ok();
    let bar = progress::bytes(len, "commp");
    let mut hasher = CommPHasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    let piece = hasher.finish()?;
    let (v1, v2) = (piece.cid_v1()?, piece.cid_v2()?);
    if json {
        let out = serde_json::json!({
            "piece_cid": v1.to_string(),
            "piece_cid_v2": v2.to_string(),
            "padded_size": piece.padded_size,
            "unpadded_size": piece.unpadded_size(),
        });
        println!("{out}");
    } else {
        println!("piece CID      {v1}");
        println!("piece CID v2   {v2}");
        println!("padded size    {}", piece.padded_size);
        println!("unpadded size  {}", piece.unpadded_size());
    }
    Ok(())
}
