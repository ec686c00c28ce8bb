//! Wire messages and their framing.
//!
//! A sync message travels as one frame:
//!
//! ```text
//! "TERN" | version: u16 BE | codec: u8 (0 none, 1 zstd) | payload length: u32 BE
//!        | body length: u32 BE | SHA-256 of the payload (32 bytes) | body
//! ```
//!
//! The payload is the message in postcard (serde, compact binary); the body is the
//! payload compressed with zstd (level 7; or as is). Decoding checks, in order: magic, version
//! (an older or newer version is [`FrameError::Version`], which the server answers
//! with `upgrade`), codec, both lengths against the limits, decompression to exactly
//! the promised length, the checksum, then the message itself. Nothing is trusted
//! before every check passed, so a damaged or forged frame changes nothing.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};
pub use tern_record::DocSummary;

/// The protocol version this build speaks. 2: a chunk may be a whole document, and a
/// pulled document may carry the server's summary of it.
pub const PROTOCOL_VERSION: u16 = 2;
/// The oldest client version the server still serves (a version-1 client could not
/// read whole documents).
pub const MIN_PROTOCOL_VERSION: u16 = 2;
/// Largest body (compressed) a peer accepts.
pub const MAX_BODY: usize = 24 << 20;
/// Largest payload (decompressed) a peer accepts: a zip bomb stops here.
pub const MAX_PAYLOAD: usize = 64 << 20;
/// Target size of one push page (raw change bytes), chosen so a page is a few
/// seconds of a slow uplink and a lost page costs little.
pub const PUSH_PAGE_BYTES: usize = 2 << 20;
/// Target size of one pull page.
pub const PULL_PAGE_BYTES: usize = 4 << 20;
/// Longest document id, site or account name accepted on the wire.
pub const MAX_NAME: usize = 80;

const MAGIC: &[u8; 4] = b"TERN";
/// zstd level of a frame body. Measured on pages of 1,000 realistic records
/// (uncompressed Automerge documents): level 3 gives 2.02 MB, level 7 1.62 MB at
/// about 80 MB/s on one core here, level 19 1.36 MB but far slower.
const ZSTD_LEVEL: i32 = 7;
const HEADER: usize = 4 + 2 + 1 + 4 + 4 + 32;
/// Media type of a frame.
pub const CONTENT_TYPE: &str = "application/x-tern-sync";

/// The kind of a synced document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Record,
    /// The restricted twin of a record: only for roles that may see sensitive sections.
    Restricted,
    Subject,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Record => "record",
            Kind::Restricted => "restricted",
            Kind::Subject => "subject",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "record" => Some(Kind::Record),
            "restricted" => Some(Kind::Restricted),
            "subject" => Some(Kind::Subject),
            _ => None,
        }
    }
}

impl From<tern_record::DocKind> for Kind {
    fn from(k: tern_record::DocKind) -> Kind {
        match k {
            tern_record::DocKind::Record => Kind::Record,
            tern_record::DocKind::Restricted => Kind::Restricted,
            tern_record::DocKind::Subject => Kind::Subject,
        }
    }
}

impl From<Kind> for tern_record::DocKind {
    fn from(k: Kind) -> tern_record::DocKind {
        match k {
            Kind::Record => tern_record::DocKind::Record,
            Kind::Restricted => tern_record::DocKind::Restricted,
            Kind::Subject => tern_record::DocKind::Subject,
        }
    }
}

/// Raw Automerge chunks of one document: changes, each content-addressed by its own
/// hash (inside the bytes), so the same change may arrive by any path, twice; or a
/// whole compacted document (a record the receiver has never seen travels so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    pub doc: String,
    pub kind: Kind,
    /// The site the sender believes the document belongs to; the server keeps the
    /// site it first stored and checks scope against that.
    pub site: String,
    pub changes: Vec<ByteBuf>,
    /// Server → device only: the server's summary (projection) of the document as of
    /// everything it verified, so a device receiving it whole need not load it.
    pub summary: Option<DocSummary>,
}

/// A form version distributed by sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormItem {
    pub definition: String,
    /// `(file name, text)` of each translation.
    pub translations: Vec<(String, String)>,
}

/// A configuration table distributed by sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigItem {
    pub name: String,
    pub text: String,
}

/// One round trip of a sync, device → server: a push page and the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The last server sequence the device has applied.
    pub cursor: u64,
    /// Changes the server has not acknowledged, one page.
    pub push: Vec<DocChanges>,
    /// How many pull bytes the device takes in this round trip.
    pub max_pull_bytes: u32,
    /// The version of the site's account list the device holds (0: none).
    pub accounts_version: u64,
}

/// One round trip of a sync, server → device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Pushed changes now durable on the server (always all of the page: a page is
    /// stored whole or refused whole).
    pub acked: u32,
    /// Of those, how many the server did not have.
    pub stored_new: u32,
    pub forms: Vec<FormItem>,
    pub config: Vec<ConfigItem>,
    pub docs: Vec<DocChanges>,
    /// The cursor after applying this page.
    pub cursor: u64,
    /// More to pull: ask again with the new cursor.
    pub more: bool,
    /// The server's newest sequence number: how far pulling has to go (progress).
    pub head: u64,
    /// The accounts of the device's sites, when the device's copy is not current:
    /// local users take their server role, and a new local user must be one of them.
    pub accounts: Option<SiteAccounts>,
}

/// The accounts working at a device's sites, with a version the device sends back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAccounts {
    pub version: u64,
    /// `(name, role)`, by name.
    pub accounts: Vec<(String, String)>,
}

impl SiteAccounts {
    /// The list with its version: the first 8 bytes of its SHA-256 (never 0, which
    /// means "none" in a request).
    pub fn new(accounts: Vec<(String, String)>) -> SiteAccounts {
        let mut h = Sha256::new();
        for (name, role) in &accounts {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(role.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        SiteAccounts {
            version: u64::from_be_bytes(first).max(1),
            accounts,
        }
    }
}

/// `POST /v1/enroll` (JSON): a one-time code and the account's own password for a
/// device token. `Debug` leaves out the code and the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub protocol: u16,
    pub code: String,
    /// The device store's own id (actor of its changes).
    pub device_id: String,
    /// The local user, bound to the server account of the same name (a code that
    /// names an account enrols only that account).
    pub user: String,
    /// That account's own password: a code alone never enrols an account. Never
    /// logged, never stored on the server (only checked against the account's hash).
    #[serde(default)]
    pub password: String,
    /// Every local user of the device (names only), `user` included. The server
    /// refuses the enrolment, storing nothing and keeping the code valid, when one of
    /// them is not an account working at the code's site: their changes would be
    /// refused at every push. Missing (older clients): not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// The device's bundle keys (issue 16): the server keeps them in its registry to
    /// open and check the device's bundles. Missing (older clients): the device sends
    /// them at its first sync (`POST /v1/device/keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<crate::bundle::PeerKeys>,
}

impl std::fmt::Debug for EnrolRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolRequest")
            .field("protocol", &self.protocol)
            .field("device_id", &self.device_id)
            .field("user", &self.user)
            .field("users", &self.users)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/device/accounts` (JSON, with the device's token): a local user proves
/// the server account of the same name with that account's own password, once per
/// device, online. From then on the device may push that account's changes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProveRequest {
    pub account: String,
    pub password: String,
    /// The local user's X25519 public key (64 hex digits): when the account's role
    /// may read restricted sections and the device escrowed its restricted key, the
    /// answer carries that key sealed to this one. Missing (older clients): no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl std::fmt::Debug for ProveRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProveRequest")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// The answer to a proof: the account's role and sites as the server holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProveResponse {
    pub account: String,
    pub role: String,
    pub sites: Vec<String>,
    /// The device's escrowed restricted secret key sealed to the request's
    /// `public_key` (`crypto_box` sealed box, hex): only for an account whose role may
    /// read restricted sections, on a device that escrowed its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_key: Option<String>,
    /// To a supervisor hub (`POST /v1/hub/prove`): every account proven on the device
    /// at the upstream server (directly, or through a hub), which the hub binds to the
    /// device too, so a device enrolled with the server before it joined the hub
    /// pushes its users' work to the hub.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bound: Vec<String>,
}

/// `POST /v1/device/restricted-key` (JSON, with the device's token): the device
/// escrows its restricted key pair with the server (docs/security.md), so that an
/// account proven on it later receives the secret key with its proof. Once per
/// device: the same key again is accepted, another key refused (409).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictedKeyEscrow {
    /// The restricted public key (64 hex digits), as in the device's `meta`.
    pub public: String,
    /// The restricted secret key (64 hex digits).
    pub secret: String,
}

impl std::fmt::Debug for RestrictedKeyEscrow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestrictedKeyEscrow")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Drop for RestrictedKeyEscrow {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// The answer to an escrow: the restricted public key the server holds for the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictedKeyEscrowed {
    pub public: String,
}

/// The answer to an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub token: String,
    pub device_id: String,
    pub account: String,
    pub role: String,
    pub sites: Vec<String>,
    /// The accounts of the device's site with their version, exactly as a sync
    /// answer carries them; the device stores them with the enrolment. Missing
    /// (older servers): unknown until the first sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<SiteAccounts>,
    /// The server's (or hub's) bundle keys, which the device keeps to seal bundles to
    /// it and check the bundles it sends. Missing (older servers): no bundles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<crate::bundle::PeerKeys>,
}

/// Error codes of every endpoint: a closed set, the body is `{"code", "message"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The client speaks an old protocol version: update it.
    Upgrade,
    /// The device was revoked: it must destroy its keys.
    Revoked,
    Unauthorized,
    Forbidden,
    BadRequest,
    TooLarge,
    RateLimited,
    NotFound,
    Conflict,
    Internal,
    /// A supervisor hub cannot reach its upstream server for what needs it (a
    /// password check): try again when the hub is online.
    Unavailable,
}

/// The JSON body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("not a tern sync message (bad magic or too short)")]
    NotAFrame,
    #[error("protocol version {found} is not spoken here (this side speaks {min} to {max}); update tern")]
    Version { found: u16, min: u16, max: u16 },
    #[error("unknown compression codec {0}")]
    Codec(u8),
    #[error("the message is too large ({0} bytes); the limit is {1}")]
    TooLarge(usize, usize),
    #[error("the message is truncated or padded (header says {expected} bytes, got {got})")]
    Length { expected: usize, got: usize },
    #[error("the message does not decompress: {0}")]
    Decompress(String),
    #[error("the message checksum does not match (damaged in transit)")]
    Checksum,
    #[error("the message body is malformed: {0}")]
    Malformed(String),
}

/// Encodes a message as a compressed frame.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    encode_version(message, PROTOCOL_VERSION)
}

/// Encodes with an explicit version (tests of the upgrade path).
pub fn encode_version<T: Serialize>(message: &T, version: u16) -> Result<Vec<u8>, FrameError> {
    let payload = postcard::to_stdvec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if payload.len() > MAX_PAYLOAD {
        return Err(FrameError::TooLarge(payload.len(), MAX_PAYLOAD));
    }
    // Small messages stay uncompressed: zstd's frame costs more than it saves.
    let (codec, body) = if payload.len() < 64 {
        (0u8, payload.clone())
    } else {
        let z = zstd::bulk::compress(&payload, ZSTD_LEVEL)
            .map_err(|e| FrameError::Malformed(e.to_string()))?;
        (1u8, z)
    };
    if body.len() > MAX_BODY {
        return Err(FrameError::TooLarge(body.len(), MAX_BODY));
    }
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_be_bytes());
    out.push(codec);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&body);
    Ok(out)
}

/// Frames raw bytes as a payload (fuzzing: reach the message decoder behind the
/// checksum).
pub fn frame_raw(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(FrameError::TooLarge(payload.len(), MAX_PAYLOAD));
    }
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    out.push(0);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    Ok(out)
}

/// The protocol version a frame claims, if it is a frame at all.
pub fn frame_version(bytes: &[u8]) -> Option<u16> {
    if bytes.len() < 6 || &bytes[..4] != MAGIC {
        return None;
    }
    Some(u16::from_be_bytes([bytes[4], bytes[5]]))
}

/// Decodes a frame, checking everything (see the module doc).
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, FrameError> {
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return Err(FrameError::NotAFrame);
    }
    let version = u16::from_be_bytes([bytes[4], bytes[5]]);
    if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version) {
        return Err(FrameError::Version {
            found: version,
            min: MIN_PROTOCOL_VERSION,
            max: PROTOCOL_VERSION,
        });
    }
    let codec = bytes[6];
    let u32_at = |i: usize| {
        u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize
    };
    let payload_len = u32_at(7);
    let body_len = u32_at(11);
    let sum = &bytes[15..47];
    let body = &bytes[HEADER..];
    if payload_len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge(payload_len, MAX_PAYLOAD));
    }
    if body_len > MAX_BODY {
        return Err(FrameError::TooLarge(body_len, MAX_BODY));
    }
    if body.len() != body_len {
        return Err(FrameError::Length {
            expected: body_len,
            got: body.len(),
        });
    }
    let payload = match codec {
        0 => body.to_vec(),
        1 => zstd::bulk::decompress(body, payload_len)
            .map_err(|e| FrameError::Decompress(e.to_string()))?,
        other => return Err(FrameError::Codec(other)),
    };
    if payload.len() != payload_len {
        return Err(FrameError::Length {
            expected: payload_len,
            got: payload.len(),
        });
    }
    if Sha256::digest(&payload).as_slice() != sum {
        return Err(FrameError::Checksum);
    }
    let (message, rest) =
        postcard::take_from_bytes(&payload).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed(
            "trailing bytes after the message".into(),
        ));
    }
    Ok(message)
}

/// Checks names on the wire: 1 to [`MAX_NAME`] ASCII letters, digits, `-`, `_`, `.`.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SyncRequest {
        SyncRequest {
            cursor: 7,
            push: vec![DocChanges {
                doc: "r1".into(),
                kind: Kind::Record,
                site: "site-a".into(),
                changes: vec![ByteBuf::from(vec![1u8; 300]), ByteBuf::from(vec![2u8; 3])],
                summary: None,
            }],
            max_pull_bytes: 1000,
            accounts_version: 0,
        }
    }

    #[test]
    fn enrolment_json_is_backward_compatible_both_ways() {
        // An older client's request (no `users`) and an older server's answer (no
        // `accounts`) still parse: no list means "not checked" / "unknown".
        let req: EnrolRequest =
            serde_json::from_str(r#"{"protocol":2,"code":"C","device_id":"d1","user":"amina"}"#)
                .expect("old request");
        assert!(req.users.is_empty());
        let old: EnrolResponse = serde_json::from_str(
            r#"{"token":"t","device_id":"d1","account":"amina","role":"screener","sites":["site-a"]}"#,
        )
        .expect("old answer");
        assert_eq!(old.accounts, None);
        // A newer answer carries the list and its version, which older clients ignore.
        let new = EnrolResponse {
            accounts: Some(SiteAccounts::new(vec![("amina".into(), "screener".into())])),
            ..old.clone()
        };
        let json = serde_json::to_string(&new).expect("json");
        assert_eq!(
            serde_json::from_str::<EnrolResponse>(&json).expect("parse"),
            new
        );
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct OlderClientsAnswer {
            token: String,
            role: String,
            sites: Vec<String>,
        }
        serde_json::from_str::<OlderClientsAnswer>(&json).expect("older clients ignore it");
        assert!(!serde_json::to_string(&old)
            .expect("json")
            .contains("accounts"));
    }

    #[test]
    fn round_trip_compressed_and_plain() {
        let frame = encode(&sample()).expect("encode");
        assert_eq!(frame[6], 1, "large payload compressed");
        assert_eq!(decode::<SyncRequest>(&frame).expect("decode"), sample());
        let empty = SyncRequest {
            cursor: 1 << 40,
            push: vec![],
            max_pull_bytes: 4 << 20,
            accounts_version: 0,
        };
        let frame = encode(&empty).expect("encode");
        assert_eq!(frame[6], 0);
        assert!(frame.len() < 64, "an empty push is {} bytes", frame.len());
        assert_eq!(decode::<SyncRequest>(&frame).expect("decode"), empty);
    }

    #[test]
    fn damaged_frames_are_refused_with_a_reason() {
        let frame = encode(&sample()).expect("encode");
        assert_eq!(
            decode::<SyncRequest>(b"GET / HTTP"),
            Err(FrameError::NotAFrame)
        );
        let mut old = frame.clone();
        old[4..6].copy_from_slice(&0u16.to_be_bytes());
        assert!(matches!(
            decode::<SyncRequest>(&old),
            Err(FrameError::Version { found: 0, .. })
        ));
        assert_eq!(frame_version(&old), Some(0));
        let cut = &frame[..frame.len() - 1];
        assert!(matches!(
            decode::<SyncRequest>(cut),
            Err(FrameError::Length { .. })
        ));
        let mut flipped = frame.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        assert!(decode::<SyncRequest>(&flipped).is_err());
        let mut sum = frame.clone();
        sum[20] ^= 1;
        assert_eq!(decode::<SyncRequest>(&sum), Err(FrameError::Checksum));
        let mut bomb = frame.clone();
        bomb[7..11].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            decode::<SyncRequest>(&bomb),
            Err(FrameError::TooLarge(..))
        ));
        // A response is not a request.
        let resp = encode(&ErrorBody {
            code: ErrorCode::Forbidden,
            message: "x".into(),
        })
        .expect("enc");
        assert!(decode::<SyncRequest>(&resp).is_err());
    }

    #[test]
    fn names() {
        assert!(valid_name("site-a"));
        assert!(valid_name(
            "0190f1a2-7c3e-7abc-8def-0123456789ab.restricted"
        ));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(81)));
    }
}

#[cfg(test)]
mod corpus {
    //! The seed inputs of the `sync_message` fuzz corpus, checked against the
    //! committed corpus (and written there with `TERN_WRITE_CORPUS=1`).
    use super::*;

    /// The seeds of the `sync_message` fuzz corpus are today's encodings of these
    /// messages (committed in fuzz/corpus/sync_message; `cargo test` replays the
    /// corpus). Run with `TERN_WRITE_CORPUS=1` to write them after a change of the
    /// protocol; otherwise a stale seed fails here.
    #[test]
    fn the_seed_corpus_holds_todays_messages() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sync_message");
        let req = SyncRequest {
            cursor: 42,
            push: vec![DocChanges {
                doc: "0190f1a2-7c3e-7abc-8def-0123456789ab".into(),
                kind: Kind::Record,
                site: "site-a".into(),
                changes: vec![ByteBuf::from(vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3])],
                summary: None,
            }],
            max_pull_bytes: 4096,
            accounts_version: 0,
        };
        let resp = SyncResponse {
            acked: 1,
            stored_new: 1,
            forms: vec![FormItem {
                definition: "{\"form_id\":\"x\",\"version\":\"1\"}".into(),
                translations: vec![("x.ar.json".into(), "{}".into())],
            }],
            config: vec![ConfigItem {
                name: "t.json".into(),
                text: "{}".into(),
            }],
            docs: req.push.clone(),
            cursor: 99,
            more: true,
            head: 120,
            accounts: Some(SiteAccounts::new(vec![("amina".into(), "screener".into())])),
        };
        let empty = SyncRequest {
            cursor: 0,
            push: vec![],
            max_pull_bytes: 0,
            accounts_version: 0,
        };
        let mut old = encode(&empty).expect("enc");
        old[4..6].copy_from_slice(&0u16.to_be_bytes());
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("request", encode(&req).expect("enc")),
            ("response", encode(&resp).expect("enc")),
            ("empty", encode(&empty).expect("enc")),
            ("old_version", old),
            ("raw_payload", postcard::to_stdvec(&req).expect("enc")),
            ("garbage", b"TERN\x00\x01\x01\xff\xff\xff\xff".to_vec()),
        ];
        assert_eq!(
            decode::<SyncRequest>(&files[0].1).expect("a request decodes"),
            req
        );
        let write = std::env::var_os("TERN_WRITE_CORPUS").is_some();
        for (name, bytes) in files {
            let path = dir.join(name);
            if write {
                std::fs::write(&path, &bytes).expect("write");
            }
            assert_eq!(
                std::fs::read(&path).ok(),
                Some(bytes),
                "fuzz/corpus/sync_message/{name} is not today's encoding: run TERN_WRITE_CORPUS=1 cargo test -p tern-sync --lib seed_corpus"
            );
        }
    }
}
