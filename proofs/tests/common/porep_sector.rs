//! A real 2 KiB sealed sector and its Commit 1, shared by the PoRep tests
//! (vanilla and SNARK).
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use cairn_proofs::commp::commp;
use cairn_proofs::fr32;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::porep::{self, Commit1Output};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc1Output, Pc2Output};
use cairn_proofs::sector::SealProof;

pub const P: SealProof = SealProof::StackedDrg2KiBV1_1;

pub struct Sector {
    pub dir: tempfile::TempDir,
    pub pc1: Pc1Output,
    pub pc2: Pc2Output,
}

impl Sector {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn seal(parents: &std::path::Path, prover: u8, sector: u64, data_salt: u8) -> Self {
        let data: Vec<u8> = (0..P.unpadded_sector_size() as usize)
            .map(|i| (i as u8).wrapping_mul(31) ^ data_salt)
            .collect();
        let c = commp(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("staged"), fr32::pad(&data)).unwrap();
        let pieces = [PieceInfo::new(c.comm_p, c.padded_size).unwrap()];
        let staged = dir.path().join("staged");
        let cache = dir.path().join("cache");
        let pc1 = seal::precommit1(&Pc1Inputs {
            proof: P,
            parent_cache_dir: parents,
            staged: &staged,
            cache_dir: &cache,
            prover_id: ProverId([prover; 32]),
            sector_id: SectorId(sector),
            ticket: Ticket([7; 32]),
            pieces: &pieces,
            threads: 2,
        })
        .unwrap();
        let pc2 = seal::precommit2(&pc1, &staged, &cache, &dir.path().join("sealed"), 2).unwrap();
        Self { dir, pc1, pc2 }
    }

    pub fn commit1(&self, seed: [u8; 32]) -> Commit1Output {
        porep::commit1(
            &self.pc1,
            &self.pc2,
            seed,
            &self.path("staged"),
            &self.path("sealed"),
            &self.path("cache"),
        )
        .unwrap()
    }
}
