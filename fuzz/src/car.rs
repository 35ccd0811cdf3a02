//! Target `car_reader`: `cairn_dag::car::CarReader` over arbitrary bytes.
//!
//! Runs `CarReader::new`, then `next_block` until the end or the first
//! error, then `finish`.
//!
//! Oracle:
//! - no panic, and allocation stays bounded (the reader caps headers at
//!   1 MiB and frames at 4 MiB; libFuzzer's `-rss_limit_mb` enforces it);
//! - every accepted block verifies against its CID, and the summary counts
//!   the blocks that were returned;
//! - if the CAR is accepted (every block read and `finish` is `Ok`),
//!   writing the same roots and blocks with `CarWriter` and reading that
//!   back yields the same roots and the same blocks in the same order.

use std::io::Cursor;

use cairn_dag::car::{CarReader, CarSummary, CarWriter};
use cairn_dag::{Block, verify_block};
use cid::Cid;

/// Reads a whole CAR: its roots, blocks and summary, or `None` if refused.
fn read_all(bytes: Vec<u8>) -> Option<(Vec<Cid>, Vec<Block>, CarSummary)> {
    let mut reader = CarReader::new(Cursor::new(bytes)).ok()?;
    let roots = reader.roots().to_vec();
    let mut blocks = Vec::new();
    loop {
        match reader.next_block() {
            Ok(Some(block)) => blocks.push(block),
            Ok(None) => break,
            Err(_) => return None,
        }
    }
    let summary = reader.finish().ok()?;
    Some((roots, blocks, summary))
}

/// The `car_reader` target.
pub fn car_reader(data: &[u8]) {
    let Some((roots, blocks, summary)) = read_all(data.to_vec()) else {
        return;
    };
    assert_eq!(
        summary.roots, roots,
        "summary roots differ from the header's"
    );
    assert_eq!(summary.blocks, blocks.len() as u64, "summary block count");
    assert!(
        summary.bytes <= data.len() as u64,
        "summary claims more bytes than the input has"
    );
    for block in &blocks {
        assert!(
            verify_block(&block.cid, &block.data).is_ok(),
            "accepted block {} does not verify",
            block.cid
        );
    }

    let mut writer =
        CarWriter::new(Vec::new(), &roots).unwrap_or_else(|e| panic!("CarWriter::new: {e}"));
    for block in &blocks {
        writer
            .write_block(&block.cid, &block.data)
            .unwrap_or_else(|e| panic!("write_block: {e}"));
    }
    let again = writer
        .finish()
        .unwrap_or_else(|e| panic!("CarWriter::finish: {e}"));
    let Some((roots2, blocks2, summary2)) = read_all(again) else {
        panic!("an accepted CAR, re-encoded by CarWriter, is refused");
    };
    assert_eq!(roots2, roots, "roots change across a re-encode");
    assert_eq!(blocks2, blocks, "blocks change across a re-encode");
    assert_eq!(
        summary2.blocks, summary.blocks,
        "block count changes across a re-encode"
    );
}
