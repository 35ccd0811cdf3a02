//! Encoding: the sealed replica is the staged data plus the last label
//! layer, node by node, in the BLS12-381 scalar field Fr
//! (storage-proofs-porep `encode.rs`); unsealing subtracts it again.
//!
//! Nodes are 32-byte little-endian integers. Staged data is fr32-padded and
//! labels have their top two bits cleared, so both are below 2^254 < r and
//! their sum is below 2r: one conditional subtraction reduces it. The
//! addition is done here on four u64 limbs rather than with a field crate:
//! two limb operations do not justify a dependency. A node that is not
//! below r is refused, as the reference refuses it (it panics).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use super::SdrError;

/// The BLS12-381 scalar field modulus r, little-endian u64 limbs:
/// 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001.
const R: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

fn limbs(bytes: &[u8; 32]) -> [u64; 4] {
    let mut l = [0u64; 4];
    for (limb, chunk) in l.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    }
    l
}

fn to_bytes(l: [u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(l) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// `a + b` over the limbs, with the carry out.
fn add(a: [u64; 4], b: [u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let (s1, c1) = x.overflowing_add(y);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        *o = s2;
        carry = c1 | c2;
    }
    (out, carry)
}

/// `a - b` over the limbs, with the borrow out.
fn sub(a: [u64; 4], b: [u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        *o = d2;
        borrow = b1 | b2;
    }
    (out, borrow)
}

fn is_canonical(a: [u64; 4]) -> bool {
    // a < r exactly when a - r borrows.
    sub(a, R).1
}

/// `data + key` mod r, or `None` if either is not below r.
pub fn fr_add(data: &[u8; 32], key: &[u8; 32]) -> Option<[u8; 32]> {
    let (a, b) = (limbs(data), limbs(key));
    if !is_canonical(a) || !is_canonical(b) {
        return None;
    }
    // a + b < 2r < 2^256: no carry out; subtract r once if not below it.
    let (s, _) = add(a, b);
    let (reduced, borrow) = sub(s, R);
    Some(to_bytes(if borrow { s } else { reduced }))
}

/// `replica - key` mod r, or `None` if either is not below r.
pub fn fr_sub(replica: &[u8; 32], key: &[u8; 32]) -> Option<[u8; 32]> {
    let (a, b) = (limbs(replica), limbs(key));
    if !is_canonical(a) || !is_canonical(b) {
        return None;
    }
    let (d, borrow) = sub(a, b);
    Some(to_bytes(if borrow { add(d, R).0 } else { d }))
}

/// Encodes node `node`: its sealed value from its data and key.
pub fn encode_node(node: u64, data: &[u8; 32], key: &[u8; 32]) -> Result<[u8; 32], SdrError> {
    fr_add(data, key).ok_or(SdrError::NotInField { node })
}

/// Decodes node `node`: its data from its sealed value and key.
pub fn decode_node(node: u64, replica: &[u8; 32], key: &[u8; 32]) -> Result<[u8; 32], SdrError> {
    fr_sub(replica, key).ok_or(SdrError::NotInField { node })
}

/// Encodes or decodes one node: `(index, node, key)`.
type NodeOp = fn(u64, &[u8; 32], &[u8; 32]) -> Result<[u8; 32], SdrError>;

/// Bytes of each file read per step.
const STEP: usize = 1 << 20;

/// Streams `op` over two equally long node files into a third, 1 MiB at a
/// time.
fn combine_files(
    input: &Path,
    key_layer: &Path,
    output: &Path,
    op: NodeOp,
) -> Result<u64, SdrError> {
    let open = |p: &Path| -> Result<(File, u64), SdrError> {
        let f = File::open(p).map_err(SdrError::io(p))?;
        let len = f.metadata().map_err(SdrError::io(p))?.len();
        Ok((f, len))
    };
    let (data, data_len) = open(input)?;
    let (key, key_len) = open(key_layer)?;
    if data_len != key_len || data_len % 32 != 0 {
        return Err(SdrError::FileSize {
            path: input.to_owned(),
            expected: key_len,
            actual: data_len,
        });
    }
    let mut data = BufReader::with_capacity(STEP, data);
    let mut key = BufReader::with_capacity(STEP, key);
    let out_file = File::create(output).map_err(SdrError::io(output))?;
    let mut out = BufWriter::with_capacity(STEP, out_file);
    let (mut d, mut k) = ([0u8; 32], [0u8; 32]);
    for node in 0..data_len / 32 {
        data.read_exact(&mut d).map_err(SdrError::io(input))?;
        key.read_exact(&mut k).map_err(SdrError::io(key_layer))?;
        out.write_all(&op(node, &d, &k)?)
            .map_err(SdrError::io(output))?;
    }
    let f = out.into_inner().map_err(|e| SdrError::Io {
        path: output.to_owned(),
        source: e.into_error(),
    })?;
    f.sync_all().map_err(SdrError::io(output))?;
    Ok(data_len / 32)
}

/// Seals: writes `staged + key_layer` to `sealed`, node by node. Returns
/// the number of nodes.
pub fn encode_file(staged: &Path, key_layer: &Path, sealed: &Path) -> Result<u64, SdrError> {
    combine_files(staged, key_layer, sealed, encode_node)
}

/// Unseals: writes `sealed - key_layer` to `unsealed`, node by node.
pub fn decode_file(sealed: &Path, key_layer: &Path, unsealed: &Path) -> Result<u64, SdrError> {
    combine_files(sealed, key_layer, unsealed, decode_node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn from_hex_be(s: &str) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, out) in b.iter_mut().rev().enumerate() {
            *out = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        b
    }

    const R_HEX: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

    #[test]
    fn modulus_limbs_match_the_hex() {
        assert_eq!(to_bytes(R), from_hex_be(R_HEX));
    }

    #[test]
    fn boundaries() {
        let r = to_bytes(R);
        let r_minus_1 = to_bytes(sub(R, [1, 0, 0, 0]).0);
        let one = to_bytes([1, 0, 0, 0]);
        let zero = [0u8; 32];
        // (r-1) + 1 wraps to 0, and 0 - 1 wraps to r - 1.
        assert_eq!(fr_add(&r_minus_1, &one), Some(zero));
        assert_eq!(fr_sub(&zero, &one), Some(r_minus_1));
        // (r-1) + (r-1) = r - 2: the largest sum reduces once.
        assert_eq!(
            fr_add(&r_minus_1, &r_minus_1),
            Some(to_bytes(sub(R, [2, 0, 0, 0]).0))
        );
        // The largest fr32 word plus the largest label.
        let top = [0xff; 31].into_iter().chain([0x3f]).collect::<Vec<_>>();
        let top: [u8; 32] = top.try_into().unwrap();
        let sum = fr_add(&top, &top).unwrap();
        assert_eq!(fr_sub(&sum, &top), Some(top));
        // r itself (and above) is refused, on either side.
        assert_eq!(fr_add(&r, &zero), None);
        assert_eq!(fr_add(&zero, &r), None);
        assert_eq!(fr_sub(&[0xff; 32], &zero), None);
        assert!(matches!(
            encode_node(9, &r, &zero),
            Err(SdrError::NotInField { node: 9 })
        ));
    }

    fn fr_bytes() -> impl Strategy<Value = [u8; 32]> {
        // Mostly 254-bit values (what sealing sees), sometimes up to r - 1.
        (any::<[u8; 32]>(), any::<bool>()).prop_map(|(mut b, wide)| {
            b[31] &= if wide { 0x73 } else { 0x3f };
            // Below 0x74 · 2^248 < 2r: one subtraction makes it canonical.
            let l = limbs(&b);
            if is_canonical(l) {
                b
            } else {
                to_bytes(sub(l, R).0)
            }
        })
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(d in fr_bytes(), k in fr_bytes()) {
            let e = encode_node(0, &d, &k).unwrap();
            prop_assert!(is_canonical(limbs(&e)));
            prop_assert_eq!(decode_node(0, &e, &k).unwrap(), d);
            // Addition commutes.
            prop_assert_eq!(encode_node(0, &k, &d).unwrap(), e);
        }
    }

    #[test]
    fn files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        let data: Vec<u8> = (0..64 * 32)
            .map(|i| (i * 7 % 251) as u8)
            .map(|b| b & 0x3f)
            .collect();
        let key: Vec<u8> = (0..64 * 32).map(|i| (i * 13 % 241) as u8 & 0x3f).collect();
        std::fs::write(p("data"), &data).unwrap();
        std::fs::write(p("key"), &key).unwrap();
        assert_eq!(
            encode_file(&p("data"), &p("key"), &p("sealed")).unwrap(),
            64
        );
        decode_file(&p("sealed"), &p("key"), &p("back")).unwrap();
        assert_eq!(std::fs::read(p("back")).unwrap(), data);
        assert_ne!(std::fs::read(p("sealed")).unwrap(), data);
        std::fs::write(p("short"), &key[..32]).unwrap();
        assert!(matches!(
            encode_file(&p("data"), &p("short"), &p("x")),
            Err(SdrError::FileSize { .. })
        ));
    }
}
