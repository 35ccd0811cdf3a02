//! Encode a CAR stream into shard pieces and read it back from any `k`.

use std::collections::BTreeMap;

use cairn_erasure::{
    Chunk, DecodeError, EncodeError, Encoder, Layout, PieceHashers, STRIPE, StripeDecoder,
};
use cairn_proofs::commp::commp;
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

type Pieces = BTreeMap<(u64, u8), Vec<u8>>;

/// Encodes `car` in writes of random sizes; returns every piece's payload
/// and the hashers' commitments.
fn encode(layout: Layout, car: &[u8], seed: u64) -> (Pieces, PieceHashers) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut enc = Encoder::new(layout);
    let mut pieces = Pieces::new();
    let mut hashers = PieceHashers::new(&layout);
    let mut sink = |c: Chunk<'_>| {
        let piece = pieces.entry((c.segment, c.shard)).or_default();
        assert_eq!(
            piece.len() as u64,
            c.offset,
            "chunks of a piece arrive in order"
        );
        piece.extend_from_slice(c.bytes);
        assert_eq!(
            c.last,
            piece.len() as u64 == layout.shard_len(c.segment),
            "last marks the piece's end"
        );
        hashers.update(&c).unwrap();
        Ok(())
    };
    let mut rest = car;
    while !rest.is_empty() {
        let n = rng.gen_range(1..=rest.len().min(3 * STRIPE as usize));
        let (head, tail) = rest.split_at(n);
        enc.write(head, &mut sink).unwrap();
        rest = tail;
    }
    enc.finish().unwrap();
    (pieces, hashers)
}

fn stripe_of<'a>(pieces: &'a Pieces, layout: &Layout, j: u64, t: u64, i: u8) -> &'a [u8] {
    let r = layout.stripe_in_piece(j, t);
    &pieces[&(j, i)][r.start as usize..r.end as usize]
}

/// Decodes every stripe with the shards in `erased` missing.
fn decode_all(layout: Layout, pieces: &Pieces, erased: &[u8]) -> Vec<u8> {
    let mut dec = StripeDecoder::new(layout);
    let mut out = Vec::new();
    for j in 0..layout.segments() {
        for t in 0..layout.stripes(j) {
            let shards: Vec<Option<&[u8]>> = (0..layout.shards() as u8)
                .map(|i| (!erased.contains(&i)).then(|| stripe_of(pieces, &layout, j, t, i)))
                .collect();
            dec.decode(j, t, &shards, &mut out).unwrap();
        }
    }
    out
}

fn check(layout: Layout, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut car = vec![0u8; layout.car_len() as usize];
    rng.fill(&mut car[..]);
    let (pieces, hashers) = encode(layout, &car, seed);

    // Every piece is there, with its planned payload length.
    assert_eq!(
        pieces.len() as u64,
        layout.segments() * layout.shards() as u64
    );
    for (&(j, _), p) in &pieces {
        assert_eq!(p.len() as u64, layout.shard_len(j));
    }
    // Systematic: every CAR byte sits where `locate` says, in a data shard.
    for x in (0..layout.car_len())
        .step_by(7)
        .chain([layout.car_len() - 1])
    {
        let l = layout.locate(x).unwrap();
        assert_eq!(
            pieces[&(l.segment, l.shard)][l.offset as usize],
            car[x as usize],
            "byte {x}"
        );
    }
    // CommP of each piece, as the manifest lists them.
    let comms = hashers.finish();
    assert_eq!(comms.len(), layout.shards());
    for (i, shard) in comms.iter().enumerate() {
        assert_eq!(shard.len() as u64, layout.segments());
        for (j, c) in shard.iter().enumerate() {
            let want = commp(&pieces[&(j as u64, i as u8)]).unwrap();
            assert_eq!(*c, want, "CommP of shard {i} piece {j}");
            assert_eq!(c.padded_size, layout.piece_size(j as u64));
        }
    }
    // Back from all shards, and from every choice of up to m missing ones.
    assert_eq!(decode_all(layout, &pieces, &[]), car);
    let n = layout.shards() as u8;
    for a in 0..n {
        if layout.m() >= 1 {
            assert_eq!(decode_all(layout, &pieces, &[a]), car, "without shard {a}");
        }
        for b in a + 1..n {
            if layout.m() >= 2 {
                assert_eq!(
                    decode_all(layout, &pieces, &[a, b]),
                    car,
                    "without {a} and {b}"
                );
            }
        }
    }
}

#[test]
fn a_few_bytes() {
    check(Layout::plan(37, 4, 2, 2048, 256).unwrap(), 1);
}

#[test]
fn several_segments_of_several_stripes() {
    // Shards of 300 KiB + 1 (two stripes, the second 1 KiB + 1 wide), a
    // segment length that k does not divide, and a short last segment.
    let layout = Layout::new(3 * 1024 * 1024 + 12345, 4 * 300 * 1024 + 3, 4, 2).unwrap();
    assert_eq!(layout.segments(), 3);
    assert_eq!(layout.stripes(0), 2);
    check(layout, 2);
}

#[test]
fn planned_for_small_sectors() {
    check(
        Layout::plan(4 * 2032 * 3 + 100, 4, 2, 2048, 256).unwrap(),
        3,
    );
}

#[test]
fn without_parity() {
    check(Layout::new(5000, 1000, 3, 0).unwrap(), 4);
}

#[test]
fn a_stream_of_the_wrong_length_is_refused() {
    let layout = Layout::new(100, 100, 4, 2).unwrap();
    let mut sink = |_: Chunk<'_>| Ok(());
    let mut enc = Encoder::new(layout);
    enc.write(&[1; 60], &mut sink).unwrap();
    let err = enc.finish().unwrap_err();
    assert!(
        matches!(
            err,
            EncodeError::TooShort {
                car_len: 100,
                got: 60
            }
        ),
        "{err}"
    );
    let mut enc = Encoder::new(layout);
    let err = enc.write(&[1; 101], &mut sink).unwrap_err();
    assert!(
        matches!(err, EncodeError::TooLong { car_len: 100 }),
        "{err}"
    );
}

#[test]
fn a_sink_error_stops_the_encoder() {
    let layout = Layout::new(100, 100, 4, 2).unwrap();
    let mut enc = Encoder::new(layout);
    let mut sink = |_: Chunk<'_>| Err(std::io::Error::other("disk full"));
    let err = enc.write(&[1; 100], &mut sink).unwrap_err();
    assert!(err.to_string().contains("disk full"), "{err}");
}

#[test]
fn too_few_or_misshapen_shards_are_refused() {
    let layout = Layout::new(100, 100, 4, 2).unwrap();
    let w = layout.stripe_width(0, 0) as usize;
    let good = vec![0u8; w];
    let mut dec = StripeDecoder::new(layout);
    let mut out = Vec::new();
    let three: Vec<Option<&[u8]>> = vec![Some(&good), None, Some(&good), None, None, Some(&good)];
    assert_eq!(
        dec.decode(0, 0, &three, &mut out).unwrap_err(),
        DecodeError::NotEnoughShards {
            segment: 0,
            stripe: 0,
            have: 3,
            need: 4
        }
    );
    let short = vec![0u8; w - 1];
    let bad: Vec<Option<&[u8]>> = vec![
        Some(&good),
        Some(&short),
        Some(&good),
        Some(&good),
        None,
        None,
    ];
    assert_eq!(
        dec.decode(0, 0, &bad, &mut out).unwrap_err(),
        DecodeError::WrongLength {
            shard: 1,
            expected: w,
            got: w - 1
        }
    );
    assert!(matches!(
        dec.decode(1, 0, &three, &mut out).unwrap_err(),
        DecodeError::OutOfRange {
            segment: 1,
            stripe: 0
        }
    ));
    assert!(out.is_empty(), "a refused stripe writes nothing");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_layout_round_trips(
        car_len in 1u64..40_000,
        k in 1u8..7,
        m in 0u8..3,
        segments in 1u64..12,
        seed in any::<u64>(),
    ) {
        let segment_size = car_len.div_ceil(segments).max(1);
        check(Layout::new(car_len, segment_size, k, m).unwrap(), seed);
    }
}
