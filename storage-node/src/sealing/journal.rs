//! The sealing journal: one record per sector in the piece store's
//! RocksDB (`sectors` column family), written synced after every applied
//! event and before the next phase starts.
//!
//! A record is the pure core's [`Sector`] plus what the shell needs to
//! resume: the epoch an open sector started taking pieces. It is JSON, so
//! that an operator (or `cairn-node sectors status N`) can read it, with a
//! version for later formats. The phases' own outputs (PC1, PC2, C1, the
//! Groth16 proof) are files beside the sector's data, written atomically
//! (see [`super::phases`]); the record says which phase is next, the files
//! say what the finished ones produced.
//!
//! Beside the records, `DATA/sectors/unsealable.json` keeps the deals the
//! packer refused (deal id → reason, e.g. a start too soon to seal), so
//! that `cairn-node deals list` shows why a deal was never sealed and a
//! restarted node does not weigh them again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cairn_sectors::sector::Sector;
use serde::{Deserialize, Serialize};

use crate::store::{PieceStore, StoreError};

/// The record format this build writes.
pub const VERSION: u8 = 1;

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The store underneath.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The unsealable-deals file does not parse or cannot be written.
    #[error("{path}: {why}")]
    Unsealable {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A record that does not parse (corruption, or a newer node's format).
    #[error("sector {sector}: journal record does not parse: {why}")]
    Corrupt {
        /// The sector.
        sector: u64,
        /// Why.
        why: String,
    },
}

/// One sector's journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Format version.
    pub version: u8,
    /// The sector as the state machine keeps it.
    #[serde(flatten)]
    pub sector: Sector,
    /// The epoch the sector started taking pieces.
    pub opened: u64,
    /// Unix seconds of the last change.
    pub updated: u64,
}

impl Record {
    /// A new record for a sector opened at `epoch`.
    pub fn new(sector: Sector, opened: u64) -> Self {
        Self {
            version: VERSION,
            sector,
            opened,
            updated: now_unix(),
        }
    }

    /// The last epoch any of its deals runs to: the sector's expiration.
    pub fn expiration(&self) -> u64 {
        self.sector
            .pieces
            .iter()
            .map(|p| p.end_epoch)
            .max()
            .unwrap_or(0)
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn decode(sector: u64, bytes: &[u8]) -> Result<Record, JournalError> {
    let r: Record = serde_json::from_slice(bytes).map_err(|e| JournalError::Corrupt {
        sector,
        why: e.to_string(),
    })?;
    if r.version != VERSION {
        return Err(JournalError::Corrupt {
            sector,
            why: format!("format version {} (this node writes {VERSION})", r.version),
        });
    }
    if r.sector.number != sector {
        return Err(JournalError::Corrupt {
            sector,
            why: format!("the record names sector {}", r.sector.number),
        });
    }
    Ok(r)
}

/// Every record of the node's own store.
pub fn load(store: &PieceStore) -> Result<BTreeMap<u64, Record>, JournalError> {
    store
        .sectors()?
        .into_iter()
        .map(|(n, b)| decode(n, &b).map(|r| (n, r)))
        .collect()
}

/// Every record of a store a running node may hold (operator commands).
pub fn load_read_only(data_dir: &Path) -> Result<BTreeMap<u64, Record>, JournalError> {
    PieceStore::read_only_sectors(data_dir)?
        .unwrap_or_default()
        .into_iter()
        .map(|(n, b)| decode(n, &b).map(|r| (n, r)))
        .collect()
}

/// Writes `record` (synced), stamping the time.
pub fn save(store: &PieceStore, record: &mut Record) -> Result<(), JournalError> {
    record.updated = now_unix();
    let bytes = serde_json::to_vec(record).map_err(|e| JournalError::Corrupt {
        sector: record.sector.number,
        why: e.to_string(),
    })?;
    store.put_sector(record.sector.number, &bytes)?;
    Ok(())
}

/// Where the refused deals are kept, under the node's data dir.
pub fn unsealable_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sectors").join("unsealable.json")
}

/// The deals the packer refused, with the reason (none if the file is
/// absent).
pub fn load_unsealable(data_dir: &Path) -> Result<BTreeMap<u64, String>, JournalError> {
    let path = unsealable_path(data_dir);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| JournalError::Unsealable {
            path,
            why: format!("does not parse: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(JournalError::Unsealable {
            path,
            why: e.to_string(),
        }),
    }
}

/// Writes the refused deals (atomically and synced).
pub fn save_unsealable(data_dir: &Path, deals: &BTreeMap<u64, String>) -> Result<(), JournalError> {
    let path = unsealable_path(data_dir);
    let fail = |why: String| JournalError::Unsealable {
        path: path.clone(),
        why,
    };
    let bytes = serde_json::to_vec_pretty(deals).map_err(|e| fail(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    cairn_proofs::seal::write_output(&path, &bytes).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_sectors::pack::Piece;
    use cairn_sectors::sector::{Event, Timing};

    #[test]
    fn records_survive_reopening_the_store_in_every_state() {
        let dir = tempfile::tempdir().unwrap();
        let t = Timing {
            seed_wait: 5,
            max_prove_commit_wait: 40,
            max_ticket_age: 100,
        };
        let piece = Piece {
            deal: 9,
            comm_p: [3; 32],
            padded: 2048,
            start_epoch: 400,
            end_epoch: 900,
        };
        let mut rec = Record::new(Sector::new(4, vec![piece]), 12);
        {
            let store = PieceStore::open(dir.path()).unwrap();
            save(&store, &mut rec).unwrap();
            rec.sector
                .apply(Event::Staged { ticket_epoch: 20 }, &t)
                .unwrap();
            rec.sector.apply(Event::Pc1Done, &t).unwrap();
            save(&store, &mut rec).unwrap();
        }
        let store = PieceStore::open(dir.path()).unwrap();
        let all = load(&store).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[&4], rec);
        assert_eq!(all[&4].expiration(), 900);
        drop(store);
        // The operator's read-only view agrees.
        assert_eq!(load_read_only(dir.path()).unwrap()[&4], rec);
    }

    #[test]
    fn unsealable_deals_survive_and_a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_unsealable(dir.path()).unwrap().is_empty());
        let deals = BTreeMap::from([(7, "starts too soon".to_owned()), (12, "x".to_owned())]);
        save_unsealable(dir.path(), &deals).unwrap();
        assert_eq!(load_unsealable(dir.path()).unwrap(), deals);
        std::fs::write(unsealable_path(dir.path()), b"{\"7\": 3").unwrap();
        let e = load_unsealable(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("unsealable.json") && e.contains("does not parse"),
            "{e}"
        );
    }
}
