//! Entry points shared by the fuzz target `sync_message` (`fuzz/`) and the test that
//! replays its corpus, so both exercise exactly the same code: the frame and message
//! decoder, and the Automerge chunk header reader the server runs on every pushed
//! chunk before acknowledging it.

use crate::protocol::{decode, encode, SyncRequest, SyncResponse};

/// Decodes arbitrary bytes as each message type; whatever decodes must encode and
/// decode again to the same message.
pub fn message(data: &[u8]) {
    // The bytes as one Automerge chunk (a change or a whole document).
    if let Ok(kind) = tern_record::chunk_kind(data) {
        let actors = tern_record::document_actors(data);
        assert_eq!(kind == tern_record::ChunkKind::Document, actors.is_ok());
    }
    if let Ok(m) = decode::<SyncRequest>(data) {
        for chunk in m.push.iter().flat_map(|d| &d.changes) {
            let _ = tern_record::document_actors(chunk);
        }
        let again = encode(&m).expect("a decoded request encodes");
        assert_eq!(decode::<SyncRequest>(&again).as_ref(), Ok(&m));
    }
    if let Ok(m) = decode::<SyncResponse>(data) {
        let again = encode(&m).expect("a decoded response encodes");
        assert_eq!(decode::<SyncResponse>(&again).as_ref(), Ok(&m));
    }
    // The payload alone, framed: exercises the postcard decoder on arbitrary input.
    if let Ok(frame) = crate::protocol::frame_raw(data) {
        let _ = decode::<SyncRequest>(&frame);
        let _ = decode::<SyncResponse>(&frame);
    }
}
