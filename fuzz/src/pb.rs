//! Target `dag_pb`: `cairn_dag::pb::PbNode::decode` and
//! `cairn_dag::unixfs::UnixFsData::decode` over arbitrary bytes.
//!
//! Oracle:
//! - no panic in either decoder, whatever the input;
//! - dag-pb is canonical: an accepted node re-encodes to exactly the input
//!   bytes, `encoded_len` equals that length, and decoding the encoding
//!   gives the same node (one node, one encoding, one CID);
//! - the UnixFS decoder runs on the node's data field when there is one
//!   (on the raw input otherwise), and an accepted `Data` message survives
//!   `decode(encode(x)) == x`.

use cairn_dag::pb::PbNode;
use cairn_dag::unixfs::UnixFsData;

fn unixfs(bytes: &[u8]) {
    let Ok(fs) = UnixFsData::decode(bytes) else {
        return;
    };
    let encoded = fs.encode();
    match UnixFsData::decode(&encoded) {
        Ok(back) => assert_eq!(back, fs, "UnixFS Data changes across encode/decode"),
        Err(e) => panic!("UnixFS Data re-encoded from an accepted message is refused: {e}"),
    }
}

/// The `dag_pb` target.
pub fn dag_pb(data: &[u8]) {
    let node = match PbNode::decode(data) {
        Ok(node) => node,
        Err(_) => {
            unixfs(data);
            return;
        }
    };
    let encoded = node.encode();
    assert_eq!(
        node.encoded_len(),
        encoded.len(),
        "encoded_len disagrees with encode"
    );
    assert!(
        encoded == data,
        "dag-pb decode accepted a non-canonical encoding:\n input   {}\n encoded {}",
        hex::encode(data),
        hex::encode(&encoded),
    );
    assert_eq!(
        PbNode::decode(&encoded).as_ref(),
        Ok(&node),
        "decode(encode(node)) != node"
    );
    if let Some(d) = &node.data {
        unixfs(d);
    }
}
