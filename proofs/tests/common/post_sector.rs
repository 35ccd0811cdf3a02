//! A real 2 KiB sealed sector and vanilla WindowPoSt proving, shared by
//! the WindowPoSt tests (vanilla and SNARK).
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use cairn_proofs::challenges::PostRandomness;
use cairn_proofs::commp::commp;
use cairn_proofs::fr32;
use cairn_proofs::pieces::PieceInfo;
use cairn_proofs::post::{self, PostError, ProvingSector, PublicSector, WindowPostPartition};
use cairn_proofs::sdr::{ProverId, SectorId, Ticket};
use cairn_proofs::seal::{self, Pc1Inputs, Pc2Output};
use cairn_proofs::sector::{SealProof, WindowPostProof};

pub const P: SealProof = SealProof::StackedDrg2KiBV1_1;
pub const W: WindowPostProof = WindowPostProof::StackedDrgWindow2KiBV1_2;

pub struct Sector {
    pub dir: tempfile::TempDir,
    pub id: SectorId,
    pub pc2: Pc2Output,
}

impl Sector {
    pub fn seal(parents: &std::path::Path, id: u64) -> Self {
        let data: Vec<u8> = (0..P.unpadded_sector_size() as usize)
            .map(|i| (i as u64 * id) as u8)
            .collect();
        let c = commp(&data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        fs::write(&staged, fr32::pad(&data)).unwrap();
        let cache = dir.path().join("cache");
        let pieces = [PieceInfo::new(c.comm_p, c.padded_size).unwrap()];
        let pc1 = seal::precommit1(&Pc1Inputs {
            proof: P,
            parent_cache_dir: parents,
            staged: &staged,
            cache_dir: &cache,
            prover_id: ProverId([1; 32]),
            sector_id: SectorId(id),
            ticket: Ticket([2; 32]),
            pieces: &pieces,
            threads: 1,
        })
        .unwrap();
        let pc2 = seal::precommit2(&pc1, &staged, &cache, &dir.path().join("sealed"), 1).unwrap();
        Self {
            dir,
            id: SectorId(id),
            pc2,
        }
    }

    pub fn sealed(&self) -> PathBuf {
        self.dir.path().join("sealed")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn proving(&self) -> (PathBuf, PathBuf) {
        (self.cache(), self.sealed())
    }

    pub fn public(&self) -> PublicSector {
        PublicSector {
            sector_id: self.id,
            comm_r: self.pc2.comm_r,
        }
    }
}

pub fn prove(sectors: &[&Sector], r: &PostRandomness) -> Result<WindowPostPartition, PostError> {
    let paths: Vec<_> = sectors.iter().map(|s| s.proving()).collect();
    let proving: Vec<ProvingSector<'_>> = sectors
        .iter()
        .zip(&paths)
        .map(|(s, (cache, sealed))| ProvingSector {
            sector_id: s.id,
            comm_c: s.pc2.comm_c,
            comm_r_last: s.pc2.comm_r_last,
            cache_dir: cache,
            sealed,
        })
        .collect();
    post::prove(W, r, &proving)
}
