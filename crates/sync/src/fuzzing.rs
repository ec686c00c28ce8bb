//! Entry points shared by the fuzz target `sync_message` (`fuzz/`) and the test that
//! replays its corpus, so both exercise exactly the same code.

use crate::protocol::{decode, encode, SyncRequest, SyncResponse};

/// Decodes arbitrary bytes as each message type; whatever decodes must encode and
/// decode again to the same message.
pub fn message(data: &[u8]) {
    if let Ok(m) = decode::<SyncRequest>(data) {
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
