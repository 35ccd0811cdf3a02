//! Target `piece_cid`: `cairn_proofs::commp::PieceCid`, the parser of v1
//! (`baga6ea4sea…`) and v2 (FRC-0069, `bafkzcib…`) piece CIDs, on the
//! input as text (`str::parse`, the lossy UTF-8 of the input, as a deal
//! proposal or a gateway path hands it over) and as a binary CID
//! (`Cid::try_from(&[u8])`, then `PieceCid::from_cid`).
//!
//! Oracle:
//! - no panic, whatever the input;
//! - text and CID agree: a string parses to a piece CID exactly when the
//!   `cid` crate parses it to a CID that `PieceCid::from_cid` accepts, and
//!   to the same value;
//! - an accepted piece CID re-encodes (`to_cid`) to the CID it was parsed
//!   from, and its text (`to_string`) is that CID's canonical string, which
//!   parses back to the same value: the parser accepts only what
//!   `PieceCommitment::cid_v1`/`cid_v2` produce, one CID per piece;
//! - what it holds is a piece: the root's top two bits are clear, and a v2
//!   commitment's padded size is what `commp` gives its payload size.

use std::str::FromStr;

use cairn_proofs::commp::{PieceCid, padded_piece_size};
use cid::Cid;

fn check_accepted(piece: &PieceCid, cid: &Cid) {
    let again = piece
        .to_cid()
        .unwrap_or_else(|e| panic!("{piece:?}: to_cid: {e}"));
    assert_eq!(&again, cid, "{piece:?} re-encodes to another CID");
    let text = piece.to_string();
    assert_eq!(
        text,
        cid.to_string(),
        "{piece:?}: text differs from the CID's"
    );
    assert_eq!(
        PieceCid::from_str(&text).ok(),
        Some(*piece),
        "{text} does not parse back to {piece:?}"
    );
    let comm_p = piece.comm_p();
    assert_eq!(
        comm_p.last().map(|b| b & 0xc0),
        Some(0),
        "{piece:?}: root with a top bit set"
    );
    if let Some(c) = piece.commitment() {
        assert_eq!(
            padded_piece_size(c.payload_size),
            Some(c.padded_size),
            "{piece:?}: payload does not fit its tree"
        );
        assert_eq!(c.comm_p, comm_p);
    }
}

fn check_text(text: &str) {
    let parsed = PieceCid::from_str(text);
    let via_cid = Cid::from_str(text)
        .ok()
        .map(|cid| (PieceCid::from_cid(&cid), cid));
    match (&parsed, via_cid) {
        (Ok(piece), Some((Ok(same), cid))) => {
            assert_eq!(piece, &same, "{text:?}: text and CID parse differ");
            check_accepted(piece, &cid);
        }
        (Err(_), None | Some((Err(_), _))) => {}
        (parsed, via_cid) => panic!(
            "{text:?}: text parse {parsed:?}, CID parse {:?}",
            via_cid.map(|(p, cid)| (p.map_err(|e| e.to_string()), cid))
        ),
    }
}

fn check_binary(data: &[u8]) {
    let Ok(cid) = Cid::try_from(data) else { return };
    if let Ok(piece) = PieceCid::from_cid(&cid) {
        check_accepted(&piece, &cid);
        assert_eq!(
            Cid::try_from(cid.to_bytes().as_slice()).ok(),
            Some(cid),
            "binary round trip"
        );
    }
}

/// The `piece_cid` target.
pub fn piece_cid(data: &[u8]) {
    check_binary(data);
    check_text(&String::from_utf8_lossy(data));
}
