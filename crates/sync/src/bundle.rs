//! Bundles: sync pages in a file, for when there is no network of any kind.
//!
//! A bundle carries exactly the pages a sync would carry (frames of
//! [`crate::protocol`]: [`SyncRequest`](crate::protocol::SyncRequest)s going up from a
//! device or hub to its server, [`SyncResponse`](crate::protocol::SyncResponse)s going
//! down), sealed to its recipient and signed by its sender:
//!
//! ```text
//! "TERNBNDL" | format version u16 BE | header length u32 BE | header (postcard)
//!   | ephemeral X25519 public key (32) | nonce (24) | sealed length u64 BE | sealed body
//!   | Ed25519 signature (64) over every byte before it
//! ```
//!
//! The header (sender, recipient, sequence number, direction) is readable so a
//! recipient can say "this bundle is for someone else" or "unknown sender" before any
//! key is used. The body ([`BundleBody`]: the header again, what the sender has
//! acknowledged of the recipient, the pages) is encrypted with XChaCha20-Poly1305 under
//! the X25519 agreement of a fresh ephemeral key and the recipient's key (crypto_box's
//! `ChaChaBox`, which takes no associated data: the sealed body repeats the header
//! instead, and opening checks both agree). The signature covers the header and the
//! ciphertext, so nothing of the file can change unseen.
//!
//! Opening checks, in order: magic, format version, lengths (a truncated or padded file
//! is refused), the recipient, the sender's key (the caller's registry says whether the
//! sender is known and not revoked), the signature, decryption, and that the sealed
//! header repeats the readable one. Nothing is trusted before every check passed.
//!
//! Invariants: no I/O and no clock here (the randomness of a seal is passed in by
//! [`seal_with`]; [`seal`] and [`Identity::generate`] draw it from the system); no
//! crypto of our own: ed25519-dalek, crypto_box and sha2 do all of it.

use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::Aead;
use crypto_box::ChaChaBox;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

/// The bundle format this build writes and reads.
pub const BUNDLE_VERSION: u16 = 1;
/// Largest bundle file read (a sync of 100,000 records is far below).
pub const MAX_BUNDLE: usize = 1 << 30;

const MAGIC: &[u8; 8] = b"TERNBNDL";
const SIGNATURE: usize = 64;
const EPHEMERAL: usize = 32;
const NONCE: usize = 24;

/// Which way a bundle goes: up carries push pages of a device (or hub) to the server it
/// syncs with; down carries the server's (or hub's) pull pages to a device (or hub).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// The readable part of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHeader {
    pub sender: String,
    pub recipient: String,
    /// Numbered by the sender per recipient, from 1.
    pub seq: u64,
    pub direction: Direction,
}

/// One page: a sync protocol frame, with (going up) the sender's own sequence the page
/// covers, which the recipient acknowledges back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePage {
    pub upto: i64,
    pub frame: ByteBuf,
}

/// The sealed part of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleBody {
    /// The readable header again, inside the seal: a re-wrapped ciphertext is refused.
    pub header: BundleHeader,
    /// What the sender has acknowledged of the recipient. Up: the recipient's log
    /// sequence the sender has applied (its cursor). Down: the recipient's own
    /// sequence up to which the sender stored the recipient's pages.
    pub acked: i64,
    pub pages: Vec<BundlePage>,
}

/// The public keys of a device, hub or server, as enrolment and `POST /v1/device/keys`
/// carry them (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerKeys {
    /// The holder's id: a device's or hub's device id, a server's own id.
    pub id: String,
    /// Ed25519 verifying key, hex.
    pub sign: String,
    /// X25519 public key, hex.
    pub seal: String,
}

/// Checked public keys of a peer.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicIdentity {
    id: String,
    sign: ed25519_dalek::VerifyingKey,
    seal: crypto_box::PublicKey,
}

impl std::fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicIdentity")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PublicIdentity {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// As it travels.
    pub fn keys(&self) -> PeerKeys {
        PeerKeys {
            id: self.id.clone(),
            sign: hex::encode(self.sign.as_bytes()),
            seal: hex::encode(self.seal.as_bytes()),
        }
    }

    /// From raw bytes (`sign` 32, `seal` 32), as stores keep them.
    pub fn from_bytes(id: &str, sign: &[u8], seal: &[u8]) -> Result<PublicIdentity, BundleError> {
        let bad = |what: &str| BundleError::Keys(format!("{what} of `{id}` is not a valid key"));
        let sign: [u8; 32] = sign.try_into().map_err(|_| bad("the signing key"))?;
        let seal: [u8; 32] = seal.try_into().map_err(|_| bad("the encryption key"))?;
        Ok(PublicIdentity {
            id: id.to_string(),
            sign: ed25519_dalek::VerifyingKey::from_bytes(&sign)
                .map_err(|_| bad("the signing key"))?,
            seal: crypto_box::PublicKey::from(seal),
        })
    }

    /// Parses keys as they travel.
    pub fn parse(keys: &PeerKeys) -> Result<PublicIdentity, BundleError> {
        if !crate::protocol::valid_name(&keys.id) {
            return Err(BundleError::Keys("a peer id is not a valid name".into()));
        }
        let sign = hex::decode(&keys.sign).map_err(|_| {
            BundleError::Keys(format!("the signing key of `{}` is not hex", keys.id))
        })?;
        let seal = hex::decode(&keys.seal).map_err(|_| {
            BundleError::Keys(format!("the encryption key of `{}` is not hex", keys.id))
        })?;
        PublicIdentity::from_bytes(&keys.id, &sign, &seal)
    }

    /// `(sign, seal)` raw bytes, as stores keep them.
    pub fn to_bytes(&self) -> ([u8; 32], [u8; 32]) {
        (self.sign.to_bytes(), self.seal.to_bytes())
    }
}

/// A sender's and recipient's own keys: Ed25519 to sign, X25519 to open. Its secrets
/// live only inside encrypted stores (the device's SQLCipher database, the server's
/// or hub's encrypted database). `Debug` shows the id only.
#[derive(Clone)]
pub struct Identity {
    id: String,
    sign: ed25519_dalek::SigningKey,
    seal: crypto_box::SecretKey,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// New keys from the system's randomness.
    pub fn generate(id: &str) -> Result<Identity, BundleError> {
        let mut secret = [0u8; 64];
        getrandom::fill(&mut secret)
            .map_err(|e| BundleError::Keys(format!("no randomness: {e}")))?;
        Identity::from_secret(id, &secret)
    }

    /// From the 64 secret bytes [`Identity::secret`] gave.
    pub fn from_secret(id: &str, secret: &[u8]) -> Result<Identity, BundleError> {
        let secret: &[u8; 64] = secret
            .try_into()
            .map_err(|_| BundleError::Keys(format!("the stored keys of `{id}` are damaged")))?;
        let mut sign = [0u8; 32];
        let mut seal = [0u8; 32];
        sign.copy_from_slice(&secret[..32]);
        seal.copy_from_slice(&secret[32..]);
        Ok(Identity {
            id: id.to_string(),
            sign: ed25519_dalek::SigningKey::from_bytes(&sign),
            seal: crypto_box::SecretKey::from(seal),
        })
    }

    /// The 64 secret bytes (signing seed, then the X25519 secret), to store encrypted.
    pub fn secret(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.sign.to_bytes());
        out[32..].copy_from_slice(&self.seal.to_bytes());
        out
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn public(&self) -> PublicIdentity {
        PublicIdentity {
            id: self.id.clone(),
            sign: self.sign.verifying_key(),
            seal: self.seal.public_key(),
        }
    }
}

/// Why a bundle was refused. Messages say what to do; none carries health data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("this file is not a tern bundle")]
    NotABundle,
    #[error(
        "bundle format {0} is not read here (this tern reads format {BUNDLE_VERSION}); update tern"
    )]
    Version(u16),
    #[error("the bundle is truncated or padded (expected {expected} bytes, found {found}); copy it again from its sender")]
    Truncated { expected: usize, found: usize },
    #[error("the bundle is larger than {MAX_BUNDLE} bytes")]
    TooLarge,
    #[error("the bundle's header is malformed: {0}")]
    Malformed(String),
    #[error("this bundle is for `{recipient}`, not for `{me}`; nothing was imported")]
    OtherRecipient { recipient: String, me: String },
    #[error("this bundle comes from `{0}`, which is not known here (not enrolled here, or enrolled before bundles existed: it must sync online once); nothing was imported")]
    UnknownSender(String),
    #[error("this bundle comes from `{0}`, which was revoked; nothing was imported")]
    RevokedSender(String),
    #[error("the bundle was altered or damaged: its signature does not match its sender `{0}`; nothing was imported, ask for a new bundle")]
    Signature(String),
    #[error("the bundle was altered: it does not decrypt with this peer's key; nothing was imported, ask for a new bundle")]
    Decrypt,
    #[error("the bundle was altered: its sealed header differs from its readable one; nothing was imported")]
    HeaderMismatch,
    #[error("bundle {seq} from `{sender}` is older than bundle {last} already imported, or was imported with other content; nothing was imported (a newer bundle carries everything it did)")]
    Replayed { sender: String, seq: u64, last: u64 },
    #[error("a page of the bundle is malformed: {0}")]
    Page(#[from] crate::protocol::FrameError),
    #[error("bundle keys: {0}")]
    Keys(String),
}

/// A bundle read and checked for shape, not yet opened.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub header: BundleHeader,
    /// SHA-256 of the whole file: the same bundle imported twice is known by it.
    pub digest: [u8; 32],
    ephemeral: [u8; EPHEMERAL],
    nonce: [u8; NONCE],
    sealed: &'a [u8],
    signed: &'a [u8],
    signature: [u8; SIGNATURE],
}

fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], BundleError> {
    let end = at.checked_add(n).ok_or(BundleError::TooLarge)?;
    let slice = bytes.get(*at..end).ok_or(BundleError::Truncated {
        expected: end,
        found: bytes.len(),
    })?;
    *at = end;
    Ok(slice)
}

/// Reads a bundle's structure (no key used yet).
pub fn read(bytes: &[u8]) -> Result<Envelope<'_>, BundleError> {
    if bytes.len() > MAX_BUNDLE {
        return Err(BundleError::TooLarge);
    }
    if bytes.len() < MAGIC.len() + 2 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(BundleError::NotABundle);
    }
    let mut at = MAGIC.len();
    let version = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    at += 2;
    if version != BUNDLE_VERSION {
        return Err(BundleError::Version(version));
    }
    let len = take(bytes, &mut at, 4)?;
    let header_len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if header_len > 4096 {
        return Err(BundleError::Malformed("header too long".into()));
    }
    let header_bytes = take(bytes, &mut at, header_len)?;
    let (header, rest) = postcard::take_from_bytes::<BundleHeader>(header_bytes)
        .map_err(|e| BundleError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(BundleError::Malformed(
            "trailing bytes in the header".into(),
        ));
    }
    let mut ephemeral = [0u8; EPHEMERAL];
    ephemeral.copy_from_slice(take(bytes, &mut at, EPHEMERAL)?);
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(take(bytes, &mut at, NONCE)?);
    let len = take(bytes, &mut at, 8)?;
    let mut l = [0u8; 8];
    l.copy_from_slice(len);
    let sealed_len = usize::try_from(u64::from_be_bytes(l)).map_err(|_| BundleError::TooLarge)?;
    if sealed_len > MAX_BUNDLE {
        return Err(BundleError::TooLarge);
    }
    let sealed = take(bytes, &mut at, sealed_len)?;
    let signed = &bytes[..at];
    let mut signature = [0u8; SIGNATURE];
    signature.copy_from_slice(take(bytes, &mut at, SIGNATURE)?);
    if at != bytes.len() {
        return Err(BundleError::Truncated {
            expected: at,
            found: bytes.len(),
        });
    }
    Ok(Envelope {
        header,
        digest: Sha256::digest(bytes).into(),
        ephemeral,
        nonce,
        sealed,
        signed,
        signature,
    })
}

impl Envelope<'_> {
    /// Checks the signature with the sender's keys, opens the seal with the
    /// recipient's, and checks that the sealed header repeats the readable one.
    pub fn open(&self, me: &Identity, sender: &PublicIdentity) -> Result<BundleBody, BundleError> {
        if self.header.recipient != me.id {
            return Err(BundleError::OtherRecipient {
                recipient: self.header.recipient.clone(),
                me: me.id.clone(),
            });
        }
        if self.header.sender != sender.id {
            return Err(BundleError::UnknownSender(self.header.sender.clone()));
        }
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature);
        sender
            .sign
            .verify(self.signed, &signature)
            .map_err(|_| BundleError::Signature(sender.id.clone()))?;
        let cipher = ChaChaBox::new(&crypto_box::PublicKey::from(self.ephemeral), &me.seal);
        let plain = cipher
            .decrypt(GenericArray::from_slice(&self.nonce), self.sealed)
            .map_err(|_| BundleError::Decrypt)?;
        let (body, rest) = postcard::take_from_bytes::<BundleBody>(&plain)
            .map_err(|e| BundleError::Malformed(e.to_string()))?;
        if !rest.is_empty() || body.header != self.header {
            return Err(BundleError::HeaderMismatch);
        }
        Ok(body)
    }
}

/// Seals and signs `body` from `sender` to `recipient` with fresh randomness.
pub fn seal(
    body: &BundleBody,
    sender: &Identity,
    recipient: &PublicIdentity,
) -> Result<Vec<u8>, BundleError> {
    let mut random = [0u8; EPHEMERAL + NONCE];
    getrandom::fill(&mut random).map_err(|e| BundleError::Keys(format!("no randomness: {e}")))?;
    seal_with(body, sender, recipient, random)
}

/// [`seal`] with the randomness given (32 bytes of ephemeral secret, 24 of nonce).
pub fn seal_with(
    body: &BundleBody,
    sender: &Identity,
    recipient: &PublicIdentity,
    random: [u8; EPHEMERAL + NONCE],
) -> Result<Vec<u8>, BundleError> {
    if body.header.sender != sender.id || body.header.recipient != recipient.id {
        return Err(BundleError::HeaderMismatch);
    }
    let header =
        postcard::to_stdvec(&body.header).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let plain = postcard::to_stdvec(body).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&BUNDLE_VERSION.to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&header);
    let mut eph = [0u8; EPHEMERAL];
    eph.copy_from_slice(&random[..EPHEMERAL]);
    let mut nonce = [0u8; NONCE];
    nonce.copy_from_slice(&random[EPHEMERAL..]);
    let ephemeral = crypto_box::SecretKey::from(eph);
    let cipher = ChaChaBox::new(&recipient.seal, &ephemeral);
    let sealed = cipher
        .encrypt(GenericArray::from_slice(&nonce), plain.as_slice())
        .map_err(|_| BundleError::Keys("encryption failed".into()))?;
    out.extend_from_slice(ephemeral.public_key().as_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&(sealed.len() as u64).to_be_bytes());
    out.extend_from_slice(&sealed);
    let signature = sender.sign.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    Ok(out)
}

/// What the recipient remembers of a sender's bundles decides whether one is new,
/// the same again, or refused: `seen` is the digest it recorded for this sequence,
/// `last` the newest sequence it imported from the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Novelty {
    /// Import it.
    New,
    /// Imported before, byte for byte: nothing to do (exit 0).
    Again,
}

/// The replay rule, one place for devices, hubs and servers.
pub fn novelty(
    header: &BundleHeader,
    digest: &[u8],
    seen: Option<&[u8]>,
    last: u64,
) -> Result<Novelty, BundleError> {
    match seen {
        Some(d) if d == digest => Ok(Novelty::Again),
        Some(_) => Err(BundleError::Replayed {
            sender: header.sender.clone(),
            seq: header.seq,
            last,
        }),
        None if header.seq <= last || header.seq == 0 => Err(BundleError::Replayed {
            sender: header.sender.clone(),
            seq: header.seq,
            last,
        }),
        None => Ok(Novelty::New),
    }
}

/// What an export or an import did, as the CLI prints it and the app shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BundleSummary {
    pub sender: String,
    pub recipient: String,
    pub seq: u64,
    /// `up` (push pages) or `down` (pull pages).
    pub direction: String,
    pub pages: u64,
    /// Chunks carried (changes and whole documents).
    pub chunks: u64,
    pub documents: u64,
    pub bytes: u64,
    /// Import: chunks the recipient did not have.
    pub new_changes: u64,
    /// Import: the same bundle was imported before; nothing changed.
    pub already_imported: bool,
}

impl BundleSummary {
    /// The counters of a header and its pages.
    pub fn of(header: &BundleHeader, bytes: usize) -> BundleSummary {
        BundleSummary {
            sender: header.sender.clone(),
            recipient: header.recipient.clone(),
            seq: header.seq,
            direction: match header.direction {
                Direction::Up => "up",
                Direction::Down => "down",
            }
            .into(),
            bytes: bytes as u64,
            ..BundleSummary::default()
        }
    }
}

impl BundleSummary {
    /// The same summary with the chunks and documents counted.
    pub fn with_counts(mut self, chunks: u64, documents: u64) -> BundleSummary {
        self.chunks = chunks;
        self.documents = documents;
        self
    }
}

/// Where an export or import is, after each page (for a progress bar).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BundleProgress {
    pub pages_done: u64,
    /// Known on import; on export the pages are counted as they are made (0).
    pub pages_total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(sender: &str, recipient: &str, seq: u64) -> BundleBody {
        BundleBody {
            header: BundleHeader {
                sender: sender.into(),
                recipient: recipient.into(),
                seq,
                direction: Direction::Up,
            },
            acked: 7,
            pages: vec![BundlePage {
                upto: 3,
                frame: ByteBuf::from(vec![9u8; 100]),
            }],
        }
    }

    fn pair() -> (Identity, Identity) {
        (
            Identity::generate("dev-a").expect("keys"),
            Identity::generate("hub-h").expect("keys"),
        )
    }

    #[test]
    fn a_sealed_bundle_opens_only_for_its_recipient_from_its_sender() {
        let (a, h) = pair();
        let bytes = seal(&body("dev-a", "hub-h", 1), &a, &h.public()).expect("seal");
        let env = read(&bytes).expect("read");
        assert_eq!(env.header.seq, 1);
        assert_eq!(
            env.open(&h, &a.public()).expect("open"),
            body("dev-a", "hub-h", 1)
        );
        // Another recipient.
        let other = Identity::generate("hub-h").expect("keys");
        assert_eq!(env.open(&other, &a.public()), Err(BundleError::Decrypt));
        let stranger = Identity::generate("srv").expect("keys");
        assert!(matches!(
            env.open(&stranger, &a.public()),
            Err(BundleError::OtherRecipient { .. })
        ));
        // Another sender's key under the same name.
        let impostor = Identity::generate("dev-a").expect("keys");
        assert_eq!(
            env.open(&h, &impostor.public()),
            Err(BundleError::Signature("dev-a".into()))
        );
        // The secret round-trips.
        let again = Identity::from_secret("dev-a", &a.secret()).expect("secret");
        assert_eq!(again.public(), a.public());
        assert_eq!(
            PublicIdentity::parse(&a.public().keys()).expect("parse"),
            a.public()
        );
    }

    #[test]
    fn every_byte_is_covered() {
        let (a, h) = pair();
        let bytes = seal(&body("dev-a", "hub-h", 1), &a, &h.public()).expect("seal");
        for i in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            let opened = read(&bad).and_then(|e| e.open(&h, &a.public()));
            assert!(opened.is_err(), "a flip at byte {i} went unseen");
        }
        for cut in [1, 10, 64, 65, bytes.len() - 20] {
            assert!(read(&bytes[..bytes.len() - cut]).is_err(), "cut {cut}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(matches!(read(&padded), Err(BundleError::Truncated { .. })));
        assert_eq!(read(b"TERN\x00\x02").err(), Some(BundleError::NotABundle));
    }

    #[test]
    fn a_rewrapped_ciphertext_is_refused() {
        // A sender may not sign another's ciphertext under its own readable header.
        let (a, h) = pair();
        let b = Identity::generate("dev-b").expect("keys");
        let bytes = seal(&body("dev-a", "hub-h", 1), &a, &h.public()).expect("seal");
        let env = read(&bytes).expect("read");
        let forged_header = postcard::to_stdvec(&BundleHeader {
            sender: "dev-b".into(),
            ..env.header.clone()
        })
        .expect("header");
        let mut forged = Vec::new();
        forged.extend_from_slice(MAGIC);
        forged.extend_from_slice(&BUNDLE_VERSION.to_be_bytes());
        forged.extend_from_slice(&(forged_header.len() as u32).to_be_bytes());
        forged.extend_from_slice(&forged_header);
        forged.extend_from_slice(&env.ephemeral);
        forged.extend_from_slice(&env.nonce);
        forged.extend_from_slice(&(env.sealed.len() as u64).to_be_bytes());
        forged.extend_from_slice(env.sealed);
        let sig = b.sign.sign(&forged);
        forged.extend_from_slice(&sig.to_bytes());
        let env = read(&forged).expect("read");
        assert_eq!(env.open(&h, &b.public()), Err(BundleError::HeaderMismatch));
    }

    #[test]
    fn the_replay_rule() {
        let h = body("a", "b", 3).header;
        assert_eq!(novelty(&h, b"d", None, 2), Ok(Novelty::New));
        assert_eq!(novelty(&h, b"d", Some(b"d"), 3), Ok(Novelty::Again));
        assert!(novelty(&h, b"d", Some(b"e"), 3).is_err());
        assert!(novelty(&h, b"d", None, 3).is_err());
        assert!(novelty(&h, b"d", None, 5).is_err());
    }
}
