//! The block that consensus orders: its fields, its canonical encoding
//! (commonware's codec, bounded) and its digest.
//!
//! A block carries the consensus context it was proposed in (round,
//! leader, parent view), so a validator that restarts or missed the
//! proposal can still certify it (`marshal::standard::Deferred` needs
//! this), the parent's digest and height, a timestamp, the ledger's signed
//! transactions in order, the threshold seed that feeds the ledger's
//! randomness beacon when the block ends an epoch, and the state root
//! after executing it.
//!
//! Decoding is bounded before allocation: at most [`MAX_BLOCK_TXS`]
//! transactions, each at most [`MAX_TX_BYTES`] and all together at most
//! [`MAX_BLOCK_TX_BYTES`]. The digest is recomputed from the fields on
//! decode, never read from the wire.

use bytes::BufMut;
use cairn_ledger::SignedTx;
use cairn_ledger::codec::{Decode as _, Encode as _};
use commonware_codec::{
    Buf, Encode as _, EncodeSize, Error as CodecError, MaxEncodeSize, Read, ReadExt as _, Write,
    varint::UInt,
};
use commonware_consensus::types::{Epoch, Height, Round, View};
use commonware_cryptography::{Digestible, Hasher as _, Sha256};

use crate::{Context, Digest, PublicKey, Seed};

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 4096;
/// Largest encoded transaction (a WindowPoSt of many partitions fits).
pub const MAX_TX_BYTES: usize = 1 << 20;
/// Most transaction bytes in one block.
pub const MAX_BLOCK_TX_BYTES: usize = 4 << 20;
/// Version tag hashed into every block digest.
const DIGEST_DOMAIN: &[u8] = b"cairn-block/v1";

/// A block of the deal-market chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The consensus context it was proposed in.
    pub context: Context,
    /// The parent block's digest.
    pub parent: Digest,
    /// Its height (genesis is 0).
    pub height: u64,
    /// Milliseconds since the Unix epoch, as the proposer saw it.
    pub timestamp_ms: u64,
    /// The threshold seed of the parent's view, present exactly when the
    /// block ends a ledger epoch (see [`crate::beacon`]).
    pub beacon: Option<Seed>,
    /// The ledger transactions, applied in this order.
    pub txs: Vec<SignedTx>,
    /// [`cairn_ledger::State::root`] after this block.
    pub state_root: [u8; 32],
    digest: Digest,
}

impl Block {
    /// A block, with its digest computed.
    pub fn new(
        context: Context,
        parent: Digest,
        height: u64,
        timestamp_ms: u64,
        beacon: Option<Seed>,
        txs: Vec<SignedTx>,
        state_root: [u8; 32],
    ) -> Self {
        let mut b = Self {
            context,
            parent,
            height,
            timestamp_ms,
            beacon,
            txs,
            state_root,
            digest: Digest::from([0u8; 32]),
        };
        b.digest = b.compute_digest();
        b
    }

    /// The genesis block: height 0, no transactions, the genesis state's
    /// root. Every validator builds the same one from the genesis file.
    pub fn genesis(leader: PublicKey, state_root: [u8; 32]) -> Self {
        let zero = Digest::from([0u8; 32]);
        Self::new(
            Context {
                round: Round::new(Epoch::zero(), View::zero()),
                leader,
                parent: (View::zero(), zero),
            },
            zero,
            0,
            0,
            None,
            Vec::new(),
            state_root,
        )
    }

    /// The view it was proposed in.
    pub fn view(&self) -> View {
        self.context.round.view()
    }

    fn compute_digest(&self) -> Digest {
        let mut buf = Vec::with_capacity(256 + 32 * self.txs.len());
        buf.extend_from_slice(DIGEST_DOMAIN);
        buf.extend_from_slice(&self.context.encode());
        buf.extend_from_slice(self.parent.as_ref());
        buf.extend_from_slice(&self.height.to_be_bytes());
        buf.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        match &self.beacon {
            None => buf.push(0),
            Some(s) => {
                buf.push(1);
                buf.extend_from_slice(&s.encode());
            }
        }
        buf.extend_from_slice(&(self.txs.len() as u64).to_be_bytes());
        for tx in &self.txs {
            buf.extend_from_slice(&tx.hash());
        }
        buf.extend_from_slice(&self.state_root);
        Sha256::hash(&[&buf])
    }
}

/// SHA-256 of `bytes` (the ledger's own hash, for tx ids).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

impl Write for Block {
    fn write(&self, w: &mut impl BufMut) {
        self.context.write(w);
        self.parent.write(w);
        UInt(self.height).write(w);
        UInt(self.timestamp_ms).write(w);
        self.beacon.write(w);
        UInt(self.txs.len() as u64).write(w);
        for tx in &self.txs {
            let bytes = tx.to_bytes();
            UInt(bytes.len() as u64).write(w);
            w.put_slice(&bytes);
        }
        self.state_root.write(w);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        let txs: usize = self
            .txs
            .iter()
            .map(|tx| {
                let n = tx.to_bytes().len();
                UInt(n as u64).encode_size() + n
            })
            .sum();
        self.context.encode_size()
            + self.parent.encode_size()
            + UInt(self.height).encode_size()
            + UInt(self.timestamp_ms).encode_size()
            + self.beacon.encode_size()
            + UInt(self.txs.len() as u64).encode_size()
            + txs
            + self.state_root.encode_size()
    }
}

impl Read for Block {
    type Cfg = ();

    fn read_cfg(r: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        let context = Context::read(r)?;
        let parent = Digest::read(r)?;
        let height: u64 = UInt::read(r)?.into();
        let timestamp_ms: u64 = UInt::read(r)?.into();
        let beacon = Option::<Seed>::read(r)?;
        let n: u64 = UInt::read(r)?.into();
        let n = usize::try_from(n).map_err(|_| CodecError::InvalidLength(usize::MAX))?;
        if n > MAX_BLOCK_TXS {
            return Err(CodecError::InvalidLength(n));
        }
        let mut txs = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let len: u64 = UInt::read(r)?.into();
            let len = usize::try_from(len).map_err(|_| CodecError::InvalidLength(usize::MAX))?;
            total = total.saturating_add(len);
            if len > MAX_TX_BYTES || total > MAX_BLOCK_TX_BYTES {
                return Err(CodecError::InvalidLength(len));
            }
            if r.remaining() < len {
                return Err(CodecError::EndOfBuffer);
            }
            let mut bytes = vec![0u8; len];
            r.copy_to_slice(&mut bytes);
            let tx = SignedTx::from_bytes(&bytes)
                .map_err(|e| CodecError::Wrapped("block tx", Box::new(e)))?;
            txs.push(tx);
        }
        let state_root = <[u8; 32]>::read(r)?;
        Ok(Self::new(
            context,
            parent,
            height,
            timestamp_ms,
            beacon,
            txs,
            state_root,
        ))
    }
}

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl commonware_consensus::Heightable for Block {
    fn height(&self) -> Height {
        Height::new(self.height)
    }
}

impl commonware_consensus::Block for Block {
    fn parent(&self) -> Digest {
        self.parent
    }
}

impl commonware_consensus::CertifiableBlock for Block {
    type Context = Context;

    fn context(&self) -> Context {
        self.context.clone()
    }
}

/// Widest varint of a u64.
const U64_VARINT: usize = 10;

impl commonware_consensus::BoundedBlock for Block {
    fn max_encode_size(_: &()) -> usize {
        Context::MAX_ENCODE_SIZE
            + 32
            + 2 * U64_VARINT
            + 1
            + Round::MAX_ENCODE_SIZE
            + SEED_SIGNATURE_BYTES
            + U64_VARINT
            + MAX_BLOCK_TXS * U64_VARINT
            + MAX_BLOCK_TX_BYTES
            + 32
    }
}

/// A MinSig threshold signature: a compressed G1 point.
const SEED_SIGNATURE_BYTES: usize = 48;

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::DecodeExt as _;
    use commonware_cryptography::{Signer as _, ed25519};

    fn leader() -> PublicKey {
        ed25519::PrivateKey::from_seed(7).public_key()
    }

    #[test]
    fn round_trip_and_digest_binds_every_field() {
        let g = Block::genesis(leader(), [3; 32]);
        let back = Block::decode(g.encode()).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.digest(), g.digest());
        let mut other = g.clone();
        other.state_root = [4; 32];
        let other = Block::decode(other.encode()).unwrap();
        assert_ne!(other.digest(), g.digest(), "root is bound");
        assert!(
            g.encode().len() <= <Block as commonware_consensus::BoundedBlock>::max_encode_size(&())
        );
    }

    #[test]
    fn too_many_txs_is_refused_before_allocation() {
        let g = Block::genesis(leader(), [3; 32]);
        let mut bytes = Vec::new();
        g.context.write(&mut bytes);
        g.parent.write(&mut bytes);
        UInt(1u64).write(&mut bytes);
        UInt(1u64).write(&mut bytes);
        Option::<Seed>::None.write(&mut bytes);
        UInt((MAX_BLOCK_TXS + 1) as u64).write(&mut bytes);
        assert!(matches!(
            Block::decode(bytes::Bytes::from(bytes)),
            Err(CodecError::InvalidLength(_))
        ));
    }
}
