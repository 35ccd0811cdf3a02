//! The values SDR derives by hashing: the graph seeds from the PoRep id, the
//! replica id from a sector's identity, and the interactive PoRep
//! challenges from the replica id and the chain's seed.

use sha2::{Digest, Sha256};

use crate::sector::PorepId;

/// Domain separation tag of the DRG (bucket sampling) seed.
pub const DRSAMPLE_DST: &[u8] = b"Filecoin_DRSample";
/// Domain separation tag of the Feistel keys.
pub const FEISTEL_DST: &[u8] = b"Filecoin_Feistel";

/// SHA-256(tag ‖ porep_id): the seed of one of the graph's two halves.
fn porep_domain_seed(tag: &[u8], porep_id: &PorepId) -> [u8; 32] {
    Sha256::new()
        .chain_update(tag)
        .chain_update(porep_id.as_bytes())
        .finalize()
        .into()
}

/// The 28-byte DRG seed: the first 28 bytes of
/// SHA-256("Filecoin_DRSample" ‖ porep_id). Node `v`'s ChaCha8 key is this
/// seed followed by `v` as u32 little-endian.
pub fn drg_seed(porep_id: &PorepId) -> [u8; 28] {
    let full = porep_domain_seed(DRSAMPLE_DST, porep_id);
    let mut seed = [0u8; 28];
    seed.iter_mut().zip(full).for_each(|(s, f)| *s = f);
    seed
}

/// The four Feistel keys: SHA-256("Filecoin_Feistel" ‖ porep_id) read as
/// four little-endian u64s. The cipher uses the first three.
pub fn feistel_keys(porep_id: &PorepId) -> [u64; 4] {
    let full = porep_domain_seed(FEISTEL_DST, porep_id);
    let mut keys = [0u64; 4];
    for (k, chunk) in keys.iter_mut().zip(full.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *k = u64::from_le_bytes(b);
    }
    keys
}

macro_rules! bytes32_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }
    };
}

bytes32_newtype!(
    /// The storage provider's 32-byte prover id (its actor id, padded).
    ProverId
);
bytes32_newtype!(
    /// The sealing randomness drawn from the chain before PreCommit.
    Ticket
);
bytes32_newtype!(
    /// The interactive randomness drawn from the chain before ProveCommit.
    Seed
);
bytes32_newtype!(
    /// A sector replica's id: a BLS12-381 field element in little-endian
    /// representation (its top two bits are always clear).
    ReplicaId
);

/// A sector's number within its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SectorId(pub u64);

impl std::fmt::Display for SectorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The replica id, storage-proofs-porep's `generate_replica_id`:
/// SHA-256(prover_id ‖ sector_id u64 big-endian ‖ ticket ‖ comm_d ‖
/// porep_id) with the top two bits of byte 31 cleared, so that it is a
/// field element.
pub fn replica_id(
    prover_id: &ProverId,
    sector_id: SectorId,
    ticket: &Ticket,
    comm_d: &[u8; 32],
    porep_id: &PorepId,
) -> ReplicaId {
    let mut id: [u8; 32] = Sha256::new()
        .chain_update(prover_id.as_bytes())
        .chain_update(sector_id.0.to_be_bytes())
        .chain_update(ticket.as_bytes())
        .chain_update(comm_d)
        .chain_update(porep_id.as_bytes())
        .finalize()
        .into();
    id[31] &= 0x3f;
    ReplicaId(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sector::SealProof;

    #[test]
    fn seeds_differ_per_proof() {
        let a = SealProof::StackedDrg2KiBV1_1.porep_id();
        let b = SealProof::StackedDrg8MiBV1_1.porep_id();
        assert_ne!(drg_seed(&a), drg_seed(&b));
        assert_ne!(feistel_keys(&a), feistel_keys(&b));
        // The two tags separate the two seeds of one proof.
        assert_ne!(drg_seed(&a)[..], feistel_keys(&a)[0].to_le_bytes()[..]);
    }

    #[test]
    fn replica_id_is_a_field_element_and_binds_its_inputs() {
        let p = SealProof::StackedDrg2KiBV1_1.porep_id();
        let base = replica_id(
            &ProverId([1; 32]),
            SectorId(7),
            &Ticket([2; 32]),
            &[3; 32],
            &p,
        );
        assert_eq!(base.0[31] & 0xc0, 0);
        let others = [
            replica_id(
                &ProverId([9; 32]),
                SectorId(7),
                &Ticket([2; 32]),
                &[3; 32],
                &p,
            ),
            replica_id(
                &ProverId([1; 32]),
                SectorId(8),
                &Ticket([2; 32]),
                &[3; 32],
                &p,
            ),
            replica_id(
                &ProverId([1; 32]),
                SectorId(7),
                &Ticket([9; 32]),
                &[3; 32],
                &p,
            ),
            replica_id(
                &ProverId([1; 32]),
                SectorId(7),
                &Ticket([2; 32]),
                &[9; 32],
                &p,
            ),
            replica_id(
                &ProverId([1; 32]),
                SectorId(7),
                &Ticket([2; 32]),
                &[3; 32],
                &SealProof::StackedDrg8MiBV1_1.porep_id(),
            ),
        ];
        for o in others {
            assert_ne!(o, base);
        }
    }
}
