//! `journal/job.json`: what a seal is for (its inputs: seal proof, prover
//! id, sector id, ticket, seed, data) and the piece staging made of the
//! data. Pretty JSON, so an operator can read it, with the SHA-256 of the
//! body's compact JSON, so a damaged record is refused rather than misread,
//! and a format name and version.
//!
//! ```json
//! {"body": {"format": "cairn-proofs seal job", "version": 1,
//!           "inputs": {"seal_proof": "StackedDrg2KiBV1_1", "prover_id": "…",
//!                      "sector_id": 7, "ticket": "…", "seed": "…",
//!                      "data": {"kind": "random", "seed": 3, "len": 2032}},
//!           "piece": {"comm_p": "…", "padded_size": 2048, "payload_len": 2032}},
//!  "sha256": "…"}
//! ```

use anyhow::{Result, anyhow};
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::sector::SealProof;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Hex32;

/// Format of `journal/job.json`.
pub const JOB_FORMAT: &str = "cairn-proofs seal job";
pub const JOB_VERSION: u32 = 1;

/// What a seal is for: everything that decides its outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub seal_proof: String,
    pub prover_id: String,
    pub sector_id: u64,
    pub ticket: String,
    pub seed: String,
    pub data: DataRecord,
}

/// Where the payload comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataRecord {
    /// A file; only its length and content (the piece's CommP) matter.
    File { path: String, len: u64 },
    /// `--random-seed`.
    Random { seed: u64, len: u64 },
}

/// The piece staging produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PieceRecord {
    pub comm_p: String,
    pub padded_size: u64,
    pub payload_len: u64,
}

/// The record, less its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobBody {
    pub format: String,
    pub version: u32,
    pub inputs: Inputs,
    pub piece: PieceRecord,
}

/// `journal/job.json`: the body and the SHA-256 (hex) of its compact JSON.
#[derive(Debug, Serialize, Deserialize)]
struct JobFile {
    body: JobBody,
    sha256: String,
}

fn body_digest(body: &JobBody) -> Result<String> {
    Ok(hex::encode(Sha256::digest(serde_json::to_vec(body)?)))
}

impl JobBody {
    /// Pretty JSON with its checksum.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let file = JobFile {
            body: self.clone(),
            sha256: body_digest(self)?,
        };
        let mut bytes = serde_json::to_vec_pretty(&file)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Decodes and checks a job record; `Err` says why it is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let file: JobFile =
            serde_json::from_slice(bytes).map_err(|e| format!("not a job record: {e}"))?;
        let digest = body_digest(&file.body).map_err(|e| e.to_string())?;
        if digest != file.sha256 {
            return Err("job record is corrupt: checksum mismatch".into());
        }
        if file.body.format != JOB_FORMAT || file.body.version != JOB_VERSION {
            return Err(format!(
                "{} version {}, this build reads {JOB_FORMAT} version {JOB_VERSION}",
                file.body.format, file.body.version
            ));
        }
        Ok(file.body)
    }

    /// The staged piece.
    pub fn piece(&self) -> Result<PieceInfo> {
        let comm_p = self
            .piece
            .comm_p
            .parse::<Hex32>()
            .map_err(|e| anyhow!("job record CommP: {e}"))?;
        Ok(PieceInfo::new(comm_p.0, self.piece.padded_size)?)
    }
}

/// The first difference between what a journal was made for and what the
/// arguments ask, as `what: journal has X, the arguments give Y`.
pub fn difference(journal: &Inputs, args: &Inputs) -> Option<String> {
    let diff = |what: &str, j: &dyn std::fmt::Display, a: &dyn std::fmt::Display| {
        Some(format!(
            "{what}: the journal has {j}, the arguments give {a}"
        ))
    };
    if journal.seal_proof != args.seal_proof {
        let size = |name: &str| {
            name.parse::<SealProof>()
                .map(|p| format!("{} ({name})", size_name(p.sector_size())))
                .unwrap_or_else(|_| name.to_owned())
        };
        return diff(
            "sector size",
            &size(&journal.seal_proof),
            &size(&args.seal_proof),
        );
    }
    if journal.prover_id != args.prover_id {
        return diff("prover id", &journal.prover_id, &args.prover_id);
    }
    if journal.sector_id != args.sector_id {
        return diff("sector id", &journal.sector_id, &args.sector_id);
    }
    if journal.ticket != args.ticket {
        return diff("ticket", &journal.ticket, &args.ticket);
    }
    if journal.seed != args.seed {
        return diff("seed", &journal.seed, &args.seed);
    }
    let describe = |d: &DataRecord| match d {
        DataRecord::File { path, len } => format!("--data {path} ({len} bytes)"),
        DataRecord::Random { seed, .. } => format!("--random-seed {seed}"),
    };
    match (&journal.data, &args.data) {
        (DataRecord::File { len: a, .. }, DataRecord::File { len: b, .. }) if a == b => None,
        (a, b) if a == b => None,
        (a, b) => diff("data", &describe(a), &describe(b)),
    }
}

/// `2KiB`, `8MiB`, `32GiB`.
pub fn size_name(bytes: u64) -> String {
    match bytes.trailing_zeros() {
        30.. => format!("{}GiB", bytes >> 30),
        20.. => format!("{}MiB", bytes >> 20),
        _ => format!("{}KiB", bytes >> 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            seal_proof: "StackedDrg2KiBV1_1".into(),
            prover_id: "00".repeat(32),
            sector_id: 7,
            ticket: "11".repeat(32),
            seed: "22".repeat(32),
            data: DataRecord::Random { seed: 1, len: 2032 },
        }
    }

    #[test]
    fn differences_name_the_field() {
        let a = inputs();
        assert_eq!(difference(&a, &a), None);
        // (change, what the message must name): one row per field.
        type Change = fn(&mut Inputs);
        let rows: [(Change, &str); 7] = [
            (
                |i| i.seal_proof = "StackedDrg8MiBV1_1".into(),
                "sector size: the journal has 2KiB (StackedDrg2KiBV1_1), the arguments give 8MiB",
            ),
            (|i| i.prover_id = "01".repeat(32), "prover id"),
            (
                |i| i.sector_id = 8,
                "sector id: the journal has 7, the arguments give 8",
            ),
            (|i| i.ticket = "33".repeat(32), "ticket"),
            (|i| i.seed = "44".repeat(32), "seed"),
            (
                |i| i.data = DataRecord::Random { seed: 2, len: 2032 },
                "data: the journal has --random-seed 1, the arguments give --random-seed 2",
            ),
            (
                |i| {
                    i.data = DataRecord::File {
                        path: "f".into(),
                        len: 5,
                    }
                },
                "data: the journal has --random-seed 1, the arguments give --data f (5 bytes)",
            ),
        ];
        for (change, want) in rows {
            let mut b = inputs();
            change(&mut b);
            let got = difference(&a, &b).unwrap_or_default();
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
        // A file that moved is the same data as long as its bytes are (the
        // CommP is compared separately); another length is not.
        let f = |path: &str, len| Inputs {
            data: DataRecord::File {
                path: path.into(),
                len,
            },
            ..inputs()
        };
        assert_eq!(difference(&f("a", 5), &f("b", 5)), None);
        assert!(difference(&f("a", 5), &f("a", 6)).is_some());
    }

    #[test]
    fn job_record_round_trips_and_refuses_a_flipped_byte() {
        let body = JobBody {
            format: JOB_FORMAT.into(),
            version: JOB_VERSION,
            inputs: inputs(),
            piece: PieceRecord {
                comm_p: "ab".repeat(32),
                padded_size: 2048,
                payload_len: 2032,
            },
        };
        let bytes = body.to_bytes().unwrap();
        assert_eq!(JobBody::from_bytes(&bytes).unwrap(), body);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let flipped = text.replacen("\"sector_id\": 7", "\"sector_id\": 6", 1);
        assert_ne!(flipped, text);
        let e = JobBody::from_bytes(flipped.as_bytes()).unwrap_err();
        assert!(e.contains("checksum"), "{e}");
        assert!(JobBody::from_bytes(&bytes[..bytes.len() / 2]).is_err());
        let newer = JobBody {
            version: JOB_VERSION + 1,
            ..body
        };
        let e = JobBody::from_bytes(&newer.to_bytes().unwrap()).unwrap_err();
        assert!(e.contains("version 2"), "{e}");
    }

    #[test]
    fn size_names() {
        for (bytes, name) in [
            (2048, "2KiB"),
            (8 << 20, "8MiB"),
            (512 << 20, "512MiB"),
            (32 << 30, "32GiB"),
        ] {
            assert_eq!(size_name(bytes), name);
            assert_eq!(
                name.parse::<SealProof>().unwrap().sector_size(),
                bytes,
                "{name} parses back"
            );
        }
    }
}
