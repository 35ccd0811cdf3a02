//! The provider's side of `/cairn/retrieve/1`: byte ranges of held pieces.

use cairn_types::{MAX_CHUNK, RetrieveRefusal, RetrieveRequest, RetrieveResponse};

use crate::store::PieceStore;

/// Answers one range request from the piece files.
pub fn serve(store: &PieceStore, req: &RetrieveRequest) -> RetrieveResponse {
    let max = u32::try_from(MAX_CHUNK).unwrap_or(u32::MAX);
    if req.len > max {
        return RetrieveResponse::Refused(RetrieveRefusal::TooLong { len: req.len, max });
    }
    let payload = match store.piece_len(&req.piece) {
        Ok(Some(n)) => n,
        Ok(None) => return RetrieveResponse::Refused(RetrieveRefusal::UnknownPiece(req.piece)),
        Err(e) => return RetrieveResponse::Refused(RetrieveRefusal::Internal(e.to_string())),
    };
    if req.offset.saturating_add(u64::from(req.len)) > payload {
        return RetrieveResponse::Refused(RetrieveRefusal::OutOfRange {
            offset: req.offset,
            len: req.len,
            payload,
        });
    }
    match store.read_piece(&req.piece, req.offset, req.len as usize) {
        Ok(bytes) => RetrieveResponse::Data(bytes),
        Err(e) => {
            tracing::error!(piece = %req.piece, "serving a range: {e}");
            RetrieveResponse::Refused(RetrieveRefusal::Internal(e.to_string()))
        }
    }
}
