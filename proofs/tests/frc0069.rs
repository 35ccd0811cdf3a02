//! v1 and v2 piece CIDs against the test cases published in FRC-0069
//! ("Piece Multihash and v2 Piece CID", filecoin-project/FIPs
//! FRCs/frc-0069.md).

use cairn_proofs::commp::{PieceCid, PieceCommitment, commp, zero_piece_comm};

/// 127 bytes of 0, then 127 of 1, 127 of 2, 127 of 3.
/// One FRC-0069 case: name, payload, v1 CID where given, v2 CID, padding.
type Row = (
    &'static str,
    Vec<u8>,
    Option<&'static str>,
    &'static str,
    u64,
);

fn four_runs() -> Vec<u8> {
    (0u8..4).flat_map(|b| std::iter::repeat_n(b, 127)).collect()
}

fn cids(data: &[u8]) -> (String, String, u64) {
    let c = commp(data).unwrap();
    (
        c.cid_v1().unwrap().to_string(),
        c.cid_v2().unwrap().to_string(),
        c.padding(),
    )
}

#[test]
fn frc0069_data_cases() {
    // (name, payload, v1 or None where the FRC gives none, v2, padding)
    let mut eight_runs = four_runs();
    eight_runs.extend(std::iter::repeat_n(0u8, 127 * 4));
    let mut plus4 = four_runs();
    plus4.extend([0u8; 4]);
    let mut plus5 = four_runs();
    plus5.extend([0u8; 5]);
    let v1_eight = "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa";
    let rows: Vec<Row> = vec![
        (
            "127*4 runs: no padding, height 4",
            four_runs(),
            Some("baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"),
            "bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
            0,
        ),
        (
            "empty: 127 bytes of padding",
            vec![],
            None,
            "bafkzcibcp4bdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy",
            127,
        ),
        (
            "127 zeros: height 2",
            vec![0; 127],
            None,
            "bafkzcibcaabdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy",
            0,
        ),
        (
            "128 zeros: height 3, 126 padding",
            vec![0; 128],
            None,
            "bafkzcibcpybwiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy",
            126,
        ),
        (
            "127*8: runs then zeros",
            eight_runs,
            Some(v1_eight),
            "bafkzcibcaac542av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa",
            0,
        ),
        (
            "128*4: 504 padding, two-byte varint",
            plus4,
            Some(v1_eight),
            "bafkzcibd7abqlxticxolgseegik2stpfgkkuwyf6kufex3doorkvmzpjuxwe4dz4",
            504,
        ),
        (
            "128*4+1: 503 padding",
            plus5,
            Some(v1_eight),
            "bafkzcibd64bqlxticxolgseegik2stpfgkkuwyf6kufex3doorkvmzpjuxwe4dz4",
            503,
        ),
    ];
    for (name, data, v1, v2, padding) in rows {
        let (got_v1, got_v2, got_padding) = cids(&data);
        if let Some(v1) = v1 {
            assert_eq!(got_v1, v1, "{name}: v1");
        }
        assert_eq!(got_v2, v2, "{name}: v2");
        assert_eq!(got_padding, padding, "{name}: padding");
        // Parsed back: the commitment itself, and the same text.
        let c = commp(&data).unwrap();
        let parsed: PieceCid = v2.parse().unwrap();
        assert_eq!(parsed, PieceCid::V2 { commitment: c }, "{name}: parse v2");
        assert_eq!(parsed.to_string(), v2, "{name}: v2 text");
        let parsed_v1: PieceCid = got_v1.parse().unwrap();
        assert_eq!(
            parsed_v1,
            PieceCid::V1 { comm_p: c.comm_p },
            "{name}: parse v1"
        );
        assert_eq!(parsed_v1.to_string(), got_v1, "{name}: v1 text");
    }
    // The FRC's base16 spelling of the first case is the same CID.
    let base16 = "f01559120220004496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605";
    let parsed: PieceCid = base16.parse().unwrap();
    assert_eq!(
        parsed,
        PieceCid::V2 {
            commitment: commp(&four_runs()).unwrap()
        }
    );
    assert_eq!(
        parsed.to_string(),
        "bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi"
    );
    // The same tree with a different payload length has a different v2 CID.
    assert_ne!(cids(&[0; 127]).1, cids(&[0; 126]).1);
}

#[test]
fn frc0069_empty_sector_pieces() {
    for (padded, v1, v2) in [
        (
            32u64 << 30,
            "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq",
            "bafkzcibcaapao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq",
        ),
        (
            64u64 << 30,
            "baga6ea4seaqomqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq",
            "bafkzcibcaap6mqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq",
        ),
    ] {
        let c = PieceCommitment {
            comm_p: zero_piece_comm(padded).unwrap(),
            payload_size: padded / 128 * 127,
            padded_size: padded,
        };
        assert_eq!(c.cid_v1().unwrap().to_string(), v1, "{padded}: v1");
        assert_eq!(c.cid_v2().unwrap().to_string(), v2, "{padded}: v2");
        assert_eq!(
            v2.parse::<PieceCid>().unwrap(),
            PieceCid::V2 { commitment: c }
        );
        assert_eq!(
            v1.parse::<PieceCid>().unwrap(),
            PieceCid::V1 { comm_p: c.comm_p }
        );
    }
}
