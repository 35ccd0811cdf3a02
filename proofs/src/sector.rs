//! The registered seal proofs: what each sector size means for sealing and
//! proving.
//!
//! Filecoin names a proof system and its parameters by a registered proof
//! id. Cairn seals with interactive PoRep at API version 1.1 (the
//! `StackedDrg*V1_1` proofs, ids 5 to 9) and proves storage with the window
//! PoSt proofs of API version 1.2 (`StackedDrgWindow*V1_2`, ids 10 to 14 on
//! chain, `StackedDRGWindow*V1P1` in the actors' spelling). Every number
//! here is pinned, with its source, by the table test at the bottom.
//!
//! Non-goals: the legacy V1 proofs (ids 0 to 4, with the pathological
//! expander graph), synthetic and non-interactive PoRep (seal proof ids 10
//! to 19), and the test-only sector sizes that filecoin-proofs also
//! supports (4 KiB, 16 KiB, 32 KiB, 16 MiB, 1 GiB): no network accepts
//! them.

use std::fmt;
use std::str::FromStr;

/// Bytes in one graph node (one BLS12-381 field element).
pub const NODE_SIZE: u64 = 32;
/// DRG (bucket graph) parents per node.
pub const DRG_DEGREE: usize = 6;
/// Expander (Feistel) parents per node.
pub const EXPANSION_DEGREE: usize = 8;
/// Challenged leaves per sector in a window PoSt.
pub const WINDOW_POST_CHALLENGE_COUNT: usize = 10;

/// Why a registered proof could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SectorError {
    /// Not one of the registered seal proof ids Cairn supports (5..=9).
    #[error("unsupported registered seal proof id {id}")]
    UnknownProofId {
        /// The id given.
        id: u64,
    },
    /// No supported seal proof has this sector size.
    #[error("unsupported sector size {size} bytes")]
    UnknownSectorSize {
        /// The size given, in bytes.
        size: u64,
    },
    /// Not a name this module knows.
    #[error("unknown registered proof name {name:?}")]
    UnknownName {
        /// The name given.
        name: String,
    },
}

/// The 32-byte PoRep id that seeds the graph of a registered seal proof:
/// the proof id as u64 little-endian, the nonce (0) as u64 little-endian,
/// then 16 zero bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PorepId(pub [u8; 32]);

impl PorepId {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for PorepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PorepId({self})")
    }
}

impl fmt::Display for PorepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Arities of a sector's Poseidon trees (TreeRLast and TreeC): `base`-ary
/// trees over the nodes, `sub` of them joined by a sub-tree layer and `top`
/// of those by a top layer; 0 means the layer is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeShape {
    /// Arity of the base trees.
    pub base: usize,
    /// Arity of the sub-tree layer, 0 if none.
    pub sub: usize,
    /// Arity of the top layer, 0 if none.
    pub top: usize,
}

impl TreeShape {
    /// How many base trees (and TreeRLast/TreeC files) a sector splits into.
    pub fn base_tree_count(&self) -> usize {
        self.sub.max(1) * self.top.max(1)
    }
}

impl fmt::Display for TreeShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.base, self.sub, self.top)
    }
}

/// A registered interactive seal proof at API version 1.1.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SealProof {
    /// 2 KiB sectors (test networks), id 5.
    StackedDrg2KiBV1_1,
    /// 8 MiB sectors (test networks), id 6.
    StackedDrg8MiBV1_1,
    /// 512 MiB sectors (test networks), id 7.
    StackedDrg512MiBV1_1,
    /// 32 GiB sectors, id 8.
    StackedDrg32GiBV1_1,
    /// 64 GiB sectors, id 9.
    StackedDrg64GiBV1_1,
}

impl SealProof {
    /// Every supported seal proof, smallest sector first.
    pub const ALL: [SealProof; 5] = [
        SealProof::StackedDrg2KiBV1_1,
        SealProof::StackedDrg8MiBV1_1,
        SealProof::StackedDrg512MiBV1_1,
        SealProof::StackedDrg32GiBV1_1,
        SealProof::StackedDrg64GiBV1_1,
    ];

    /// The registered proof id, as on chain and in the PoRep id.
    pub fn id(self) -> u64 {
        match self {
            SealProof::StackedDrg2KiBV1_1 => 5,
            SealProof::StackedDrg8MiBV1_1 => 6,
            SealProof::StackedDrg512MiBV1_1 => 7,
            SealProof::StackedDrg32GiBV1_1 => 8,
            SealProof::StackedDrg64GiBV1_1 => 9,
        }
    }

    /// The seal proof with registered id `id`.
    pub fn from_id(id: u64) -> Result<Self, SectorError> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == id)
            .ok_or(SectorError::UnknownProofId { id })
    }

    /// The seal proof for sectors of `size` bytes.
    pub fn from_sector_size(size: u64) -> Result<Self, SectorError> {
        Self::ALL
            .into_iter()
            .find(|p| p.sector_size() == size)
            .ok_or(SectorError::UnknownSectorSize { size })
    }

    /// The canonical name, as filecoin-proofs-api spells it.
    pub fn name(self) -> &'static str {
        match self {
            SealProof::StackedDrg2KiBV1_1 => "StackedDrg2KiBV1_1",
            SealProof::StackedDrg8MiBV1_1 => "StackedDrg8MiBV1_1",
            SealProof::StackedDrg512MiBV1_1 => "StackedDrg512MiBV1_1",
            SealProof::StackedDrg32GiBV1_1 => "StackedDrg32GiBV1_1",
            SealProof::StackedDrg64GiBV1_1 => "StackedDrg64GiBV1_1",
        }
    }

    /// The name in the actors' (fvm_shared, go-state-types) spelling.
    pub fn actors_name(self) -> &'static str {
        match self {
            SealProof::StackedDrg2KiBV1_1 => "StackedDRG2KiBV1P1",
            SealProof::StackedDrg8MiBV1_1 => "StackedDRG8MiBV1P1",
            SealProof::StackedDrg512MiBV1_1 => "StackedDRG512MiBV1P1",
            SealProof::StackedDrg32GiBV1_1 => "StackedDRG32GiBV1P1",
            SealProof::StackedDrg64GiBV1_1 => "StackedDRG64GiBV1P1",
        }
    }

    /// The PoRep id that seeds this proof's graph (nonce 0).
    pub fn porep_id(self) -> PorepId {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&self.id().to_le_bytes());
        // Bytes 8..16 hold the nonce, 0 for every registered proof.
        PorepId(id)
    }

    /// Sector size in (padded) bytes.
    pub fn sector_size(self) -> u64 {
        match self {
            SealProof::StackedDrg2KiBV1_1 => 2 << 10,
            SealProof::StackedDrg8MiBV1_1 => 8 << 20,
            SealProof::StackedDrg512MiBV1_1 => 512 << 20,
            SealProof::StackedDrg32GiBV1_1 => 32 << 30,
            SealProof::StackedDrg64GiBV1_1 => 64 << 30,
        }
    }

    /// Payload bytes a sector holds before fr32 padding: `size * 127 / 128`.
    pub fn unpadded_sector_size(self) -> u64 {
        self.sector_size() / 128 * 127
    }

    /// Graph nodes (32-byte leaves) per sector.
    pub fn nodes(self) -> u32 {
        // At most 2^31 (64 GiB / 32): always fits.
        (self.sector_size() / NODE_SIZE) as u32
    }

    /// SDR layers: labelling passes over the graph.
    pub fn layers(self) -> u32 {
        match self {
            SealProof::StackedDrg2KiBV1_1
            | SealProof::StackedDrg8MiBV1_1
            | SealProof::StackedDrg512MiBV1_1 => 2,
            SealProof::StackedDrg32GiBV1_1 | SealProof::StackedDrg64GiBV1_1 => 11,
        }
    }

    /// DRG parents per node.
    pub fn drg_degree(self) -> usize {
        DRG_DEGREE
    }

    /// Expander parents per node.
    pub fn expansion_degree(self) -> usize {
        EXPANSION_DEGREE
    }

    /// The fewest interactive PoRep challenges a proof must answer.
    pub fn minimum_challenges(self) -> usize {
        match self {
            SealProof::StackedDrg2KiBV1_1
            | SealProof::StackedDrg8MiBV1_1
            | SealProof::StackedDrg512MiBV1_1 => 2,
            SealProof::StackedDrg32GiBV1_1 | SealProof::StackedDrg64GiBV1_1 => 176,
        }
    }

    /// Groth16 partitions of a PoRep proof.
    pub fn partitions(self) -> usize {
        match self {
            SealProof::StackedDrg2KiBV1_1
            | SealProof::StackedDrg8MiBV1_1
            | SealProof::StackedDrg512MiBV1_1 => 1,
            SealProof::StackedDrg32GiBV1_1 | SealProof::StackedDrg64GiBV1_1 => 10,
        }
    }

    /// Interactive PoRep challenges per partition: the minimum spread over
    /// the partitions, rounded up (176 over 10 gives 18).
    pub fn challenges_per_partition(self) -> usize {
        self.minimum_challenges().div_ceil(self.partitions())
    }

    /// Shape of TreeRLast and TreeC.
    pub fn tree_shape(self) -> TreeShape {
        match self {
            SealProof::StackedDrg2KiBV1_1
            | SealProof::StackedDrg8MiBV1_1
            | SealProof::StackedDrg512MiBV1_1 => TreeShape {
                base: 8,
                sub: 0,
                top: 0,
            },
            SealProof::StackedDrg32GiBV1_1 => TreeShape {
                base: 8,
                sub: 8,
                top: 0,
            },
            SealProof::StackedDrg64GiBV1_1 => TreeShape {
                base: 8,
                sub: 8,
                top: 2,
            },
        }
    }

    /// The window PoSt proof for sectors sealed with this proof.
    pub fn window_post(self) -> WindowPostProof {
        match self {
            SealProof::StackedDrg2KiBV1_1 => WindowPostProof::StackedDrgWindow2KiBV1_2,
            SealProof::StackedDrg8MiBV1_1 => WindowPostProof::StackedDrgWindow8MiBV1_2,
            SealProof::StackedDrg512MiBV1_1 => WindowPostProof::StackedDrgWindow512MiBV1_2,
            SealProof::StackedDrg32GiBV1_1 => WindowPostProof::StackedDrgWindow32GiBV1_2,
            SealProof::StackedDrg64GiBV1_1 => WindowPostProof::StackedDrgWindow64GiBV1_2,
        }
    }

    /// SHA-256 (hex) of this proof's parent cache file, as published in
    /// storage-proofs-porep's `parent_cache.json`.
    pub fn parent_cache_sha256(self) -> &'static str {
        match self {
            SealProof::StackedDrg2KiBV1_1 => {
                "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97"
            }
            SealProof::StackedDrg8MiBV1_1 => {
                "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab"
            }
            SealProof::StackedDrg512MiBV1_1 => {
                "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a"
            }
            SealProof::StackedDrg32GiBV1_1 => {
                "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da"
            }
            SealProof::StackedDrg64GiBV1_1 => {
                "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03"
            }
        }
    }
}

impl fmt::Display for SealProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SealProof {
    type Err = SectorError;

    /// Accepts the canonical name, the actors' spelling, or a sector size
    /// such as `32GiB`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| s == p.name() || s == p.actors_name() || s == size_name(p.sector_size()))
            .ok_or_else(|| SectorError::UnknownName { name: s.to_owned() })
    }
}

/// A registered window PoSt proof at API version 1.2.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowPostProof {
    /// For 2 KiB sectors, id 10.
    StackedDrgWindow2KiBV1_2,
    /// For 8 MiB sectors, id 11.
    StackedDrgWindow8MiBV1_2,
    /// For 512 MiB sectors, id 12.
    StackedDrgWindow512MiBV1_2,
    /// For 32 GiB sectors, id 13.
    StackedDrgWindow32GiBV1_2,
    /// For 64 GiB sectors, id 14.
    StackedDrgWindow64GiBV1_2,
}

impl WindowPostProof {
    /// Every supported window PoSt proof, smallest sector first.
    pub const ALL: [WindowPostProof; 5] = [
        WindowPostProof::StackedDrgWindow2KiBV1_2,
        WindowPostProof::StackedDrgWindow8MiBV1_2,
        WindowPostProof::StackedDrgWindow512MiBV1_2,
        WindowPostProof::StackedDrgWindow32GiBV1_2,
        WindowPostProof::StackedDrgWindow64GiBV1_2,
    ];

    /// The seal proof whose sectors this proves.
    pub fn seal_proof(self) -> SealProof {
        match self {
            WindowPostProof::StackedDrgWindow2KiBV1_2 => SealProof::StackedDrg2KiBV1_1,
            WindowPostProof::StackedDrgWindow8MiBV1_2 => SealProof::StackedDrg8MiBV1_1,
            WindowPostProof::StackedDrgWindow512MiBV1_2 => SealProof::StackedDrg512MiBV1_1,
            WindowPostProof::StackedDrgWindow32GiBV1_2 => SealProof::StackedDrg32GiBV1_1,
            WindowPostProof::StackedDrgWindow64GiBV1_2 => SealProof::StackedDrg64GiBV1_1,
        }
    }

    /// The registered PoSt proof id on chain.
    pub fn id(self) -> u64 {
        match self {
            WindowPostProof::StackedDrgWindow2KiBV1_2 => 10,
            WindowPostProof::StackedDrgWindow8MiBV1_2 => 11,
            WindowPostProof::StackedDrgWindow512MiBV1_2 => 12,
            WindowPostProof::StackedDrgWindow32GiBV1_2 => 13,
            WindowPostProof::StackedDrgWindow64GiBV1_2 => 14,
        }
    }

    /// The window PoSt proof with registered id `id`.
    pub fn from_id(id: u64) -> Result<Self, SectorError> {
        Self::ALL
            .into_iter()
            .find(|p| p.id() == id)
            .ok_or(SectorError::UnknownProofId { id })
    }

    /// The canonical name, as filecoin-proofs-api spells it.
    pub fn name(self) -> &'static str {
        match self {
            WindowPostProof::StackedDrgWindow2KiBV1_2 => "StackedDrgWindow2KiBV1_2",
            WindowPostProof::StackedDrgWindow8MiBV1_2 => "StackedDrgWindow8MiBV1_2",
            WindowPostProof::StackedDrgWindow512MiBV1_2 => "StackedDrgWindow512MiBV1_2",
            WindowPostProof::StackedDrgWindow32GiBV1_2 => "StackedDrgWindow32GiBV1_2",
            WindowPostProof::StackedDrgWindow64GiBV1_2 => "StackedDrgWindow64GiBV1_2",
        }
    }

    /// The name in the actors' spelling.
    pub fn actors_name(self) -> &'static str {
        match self {
            WindowPostProof::StackedDrgWindow2KiBV1_2 => "StackedDRGWindow2KiBV1P1",
            WindowPostProof::StackedDrgWindow8MiBV1_2 => "StackedDRGWindow8MiBV1P1",
            WindowPostProof::StackedDrgWindow512MiBV1_2 => "StackedDRGWindow512MiBV1P1",
            WindowPostProof::StackedDrgWindow32GiBV1_2 => "StackedDRGWindow32GiBV1P1",
            WindowPostProof::StackedDrgWindow64GiBV1_2 => "StackedDRGWindow64GiBV1P1",
        }
    }

    /// Challenged leaves per sector.
    pub fn challenge_count(self) -> usize {
        WINDOW_POST_CHALLENGE_COUNT
    }

    /// Sectors proven by one partition (one Groth16 proof).
    pub fn sector_count(self) -> usize {
        match self {
            WindowPostProof::StackedDrgWindow2KiBV1_2
            | WindowPostProof::StackedDrgWindow8MiBV1_2
            | WindowPostProof::StackedDrgWindow512MiBV1_2 => 2,
            WindowPostProof::StackedDrgWindow32GiBV1_2 => 2349,
            WindowPostProof::StackedDrgWindow64GiBV1_2 => 2300,
        }
    }
}

impl fmt::Display for WindowPostProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WindowPostProof {
    type Err = SectorError;

    /// Accepts the canonical name or the actors' spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| s == p.name() || s == p.actors_name())
            .ok_or_else(|| SectorError::UnknownName { name: s.to_owned() })
    }
}

/// `2KiB`, `8MiB`, `512MiB`, `32GiB`, `64GiB`: the short size names.
fn size_name(size: u64) -> String {
    if size >= 1 << 30 {
        format!("{}GiB", size >> 30)
    } else if size >= 1 << 20 {
        format!("{}MiB", size >> 20)
    } else {
        format!("{}KiB", size >> 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number, with where it comes from. Sources (rust-fil-proofs and
    /// filecoin-proofs-api 19.x, ref-fvm's fvm_shared):
    /// - id: filecoin-proofs-api `src/registry.rs` REGISTERED_PROOF_IDS
    ///   (StackedDrg2KiBV1_1 => 5 … StackedDrg64GiBV1_1 => 9), and fvm_shared
    ///   `sector/registered_proof.rs` (StackedDRG2KiBV1P1 => 5 …).
    /// - size: filecoin-proofs `src/constants.rs` SECTOR_SIZE_*.
    /// - layers: constants.rs LAYERS (2 up to 1 GiB, 11 for 32/64 GiB).
    /// - partitions: constants.rs POREP_PARTITIONS (1, or 10 for 32/64 GiB).
    /// - minimum challenges: constants.rs
    ///   get_porep_interactive_minimum_challenges (2, or 176); per partition:
    ///   `parameters.rs` select_challenges, div_ceil(minimum, partitions).
    /// - shape: constants.rs SectorShape2KiB/8MiB/512MiB = SectorShapeBase
    ///   (U8, U0, U0), SectorShape32GiB = SectorShapeSub8 (U8, U8, U0),
    ///   SectorShape64GiB = SectorShapeTop2 (U8, U8, U2).
    /// - window PoSt id: fvm_shared StackedDRGWindow2KiBV1P1 => 10 … 14;
    ///   sector count: constants.rs WINDOW_POST_SECTOR_COUNT (2, 2349, 2300).
    #[test]
    fn parameter_table() {
        type Row = (
            SealProof,
            u64,
            u64,
            u32,
            u32,
            usize,
            usize,
            usize,
            &'static str,
            u64,
            usize,
        );
        let rows: [Row; 5] = [
            // proof, id, size, nodes, layers, partitions, min ch, ch/part, shape, post id, post sectors
            (
                SealProof::StackedDrg2KiBV1_1,
                5,
                2048,
                64,
                2,
                1,
                2,
                2,
                "8-0-0",
                10,
                2,
            ),
            (
                SealProof::StackedDrg8MiBV1_1,
                6,
                8 << 20,
                1 << 18,
                2,
                1,
                2,
                2,
                "8-0-0",
                11,
                2,
            ),
            (
                SealProof::StackedDrg512MiBV1_1,
                7,
                512 << 20,
                1 << 24,
                2,
                1,
                2,
                2,
                "8-0-0",
                12,
                2,
            ),
            (
                SealProof::StackedDrg32GiBV1_1,
                8,
                32 << 30,
                1 << 30,
                11,
                10,
                176,
                18,
                "8-8-0",
                13,
                2349,
            ),
            (
                SealProof::StackedDrg64GiBV1_1,
                9,
                64 << 30,
                1 << 31,
                11,
                10,
                176,
                18,
                "8-8-2",
                14,
                2300,
            ),
        ];
        for (p, id, size, nodes, layers, parts, min, per, shape, post_id, post_sectors) in rows {
            assert_eq!(p.id(), id, "{p}");
            assert_eq!(p.sector_size(), size, "{p}");
            assert_eq!(p.unpadded_sector_size(), size / 128 * 127, "{p}");
            assert_eq!(p.nodes(), nodes, "{p}");
            assert_eq!(p.layers(), layers, "{p}");
            assert_eq!((p.drg_degree(), p.expansion_degree()), (6, 8), "{p}");
            assert_eq!(p.partitions(), parts, "{p}");
            assert_eq!(p.minimum_challenges(), min, "{p}");
            assert_eq!(p.challenges_per_partition(), per, "{p}");
            assert!(per * parts >= min, "{p}");
            assert_eq!(p.tree_shape().to_string(), shape, "{p}");
            let post = p.window_post();
            assert_eq!(post.id(), post_id, "{p}");
            assert_eq!(post.sector_count(), post_sectors, "{p}");
            assert_eq!(post.challenge_count(), 10, "{p}");
            assert_eq!(post.seal_proof(), p);
            // porep_id: filecoin-proofs-api RegisteredSealProof::porep_id.
            let mut porep = [0u8; 32];
            porep[0] = id as u8;
            assert_eq!(p.porep_id(), PorepId(porep), "{p}");
        }
        assert_eq!(
            SealProof::StackedDrg32GiBV1_1
                .tree_shape()
                .base_tree_count(),
            8
        );
        assert_eq!(
            SealProof::StackedDrg64GiBV1_1
                .tree_shape()
                .base_tree_count(),
            16
        );
        assert_eq!(
            SealProof::StackedDrg2KiBV1_1.tree_shape().base_tree_count(),
            1
        );
    }

    #[test]
    fn names_ids_and_sizes_round_trip() {
        for p in SealProof::ALL {
            assert_eq!(p.to_string().parse::<SealProof>(), Ok(p));
            assert_eq!(p.actors_name().parse::<SealProof>(), Ok(p));
            assert_eq!(SealProof::from_id(p.id()), Ok(p));
            assert_eq!(SealProof::from_sector_size(p.sector_size()), Ok(p));
            let w = p.window_post();
            assert_eq!(w.to_string().parse::<WindowPostProof>(), Ok(w));
            assert_eq!(w.actors_name().parse::<WindowPostProof>(), Ok(w));
            assert_eq!(WindowPostProof::from_id(w.id()), Ok(w));
        }
        assert_eq!("2KiB".parse(), Ok(SealProof::StackedDrg2KiBV1_1));
        assert_eq!("32GiB".parse(), Ok(SealProof::StackedDrg32GiBV1_1));
        assert_eq!("512MiB".parse(), Ok(SealProof::StackedDrg512MiBV1_1));
    }

    #[test]
    fn rejects_unsupported() {
        // V1 (legacy graph) and synthetic PoRep ids are not supported.
        for id in [0, 4, 10, 15] {
            assert_eq!(
                SealProof::from_id(id),
                Err(SectorError::UnknownProofId { id })
            );
        }
        assert_eq!(
            SealProof::from_sector_size(4096),
            Err(SectorError::UnknownSectorSize { size: 4096 })
        );
        assert!("StackedDrg2KiBV1".parse::<SealProof>().is_err());
        assert!("1GiB".parse::<SealProof>().is_err());
        assert!("StackedDrgWindow2KiBV1".parse::<WindowPostProof>().is_err());
        assert_eq!(
            WindowPostProof::from_id(5),
            Err(SectorError::UnknownProofId { id: 5 })
        );
    }
}
