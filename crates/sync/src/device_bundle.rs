//! Bundles on a device (issue 16): the library API the CLI calls today and the app
//! will call (export to / import from a path, with a progress callback, returning a
//! typed [`BundleSummary`]).
//!
//! A device's bundle to its hub or server carries the push pages a sync would send
//! (from what that peer acknowledged, unproven users' changes held back as in a
//! sync) and the device's cursor (what it applied of the peer). A bundle from the peer
//! carries pull pages, applied exactly as a sync applies them
//! (`Store::apply_pulled`, the accounts list), and how far the peer stored this
//! device's pages, which moves the push marker: the next sync or bundle starts there.

use crate::bundle::{
    self, BundleBody, BundleError, BundleHeader, BundlePage, BundleProgress, BundleSummary,
    Direction, Identity, Novelty, PublicIdentity,
};
use crate::client::incoming;
use crate::plan::{group, MAX_ROUND_TRIPS};
use crate::protocol::{self, SyncRequest, SyncResponse, PUSH_PAGE_BYTES};
use std::path::{Path, PathBuf};
use tern_store::{PeerRow, Store, StoreError};

/// Why a bundle could not be written or read on a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceBundleError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("this device has no bundle peer yet: enrol it, or sync it online once if it enrolled before bundles existed")]
    NoPeer,
    #[error("this device exchanges bundles with {0}; say which with --to PEER")]
    WhichPeer(String),
    #[error("`{0}` is not a bundle peer of this device; its peers: {1}")]
    UnknownPeer(String, String),
    #[error("this bundle goes up to a server; a device imports only bundles its hub or server wrote for it")]
    WrongDirection,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeviceBundleError + '_ {
    move |source| DeviceBundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// This device's bundle keys, made on first use (enrolment makes them).
pub fn device_identity(store: &mut Store) -> Result<Identity, DeviceBundleError> {
    let device = store.device().to_string();
    if let Some(secret) = store.bundle_secret()? {
        return Ok(Identity::from_secret(&device, &secret)?);
    }
    let me = Identity::generate(&device)?;
    store.set_bundle_secret(&me.secret())?;
    // Another writer may have made keys first: the stored ones stand.
    match store.bundle_secret()? {
        Some(secret) => Ok(Identity::from_secret(&device, &secret)?),
        None => Ok(me),
    }
}

/// Keeps a peer's public keys (from enrolment or a first sync).
pub fn keep_peer(store: &mut Store, peer: &PublicIdentity) -> Result<(), DeviceBundleError> {
    let (sign, seal) = peer.to_bytes();
    store.set_bundle_peer(&PeerRow {
        id: peer.id().to_string(),
        sign: sign.to_vec(),
        seal: seal.to_vec(),
    })?;
    Ok(())
}

fn public(row: &PeerRow) -> Result<PublicIdentity, BundleError> {
    PublicIdentity::from_bytes(&row.id, &row.sign, &row.seal)
}

/// The peer a bundle goes to: `to`, or the only one.
fn pick_peer(store: &mut Store, to: Option<&str>) -> Result<PeerRow, DeviceBundleError> {
    let peers = store.bundle_peers()?;
    let names = || {
        peers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match to {
        Some(id) => peers
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or_else(|| DeviceBundleError::UnknownPeer(id.to_string(), names())),
        None => match peers.as_slice() {
            [] => Err(DeviceBundleError::NoPeer),
            [only] => Ok(only.clone()),
            _ => Err(DeviceBundleError::WhichPeer(names())),
        },
    }
}

/// Makes `peer` the store's chosen sync peer, so the bundle reads and moves that
/// peer's cursor and push marker. A device enrolled before peers were linked to their
/// bundle keys, with one enrolment, links it now.
fn choose(store: &mut Store, peer: &PeerRow) -> Result<(), DeviceBundleError> {
    if store.use_peer(&peer.id).is_ok() {
        return Ok(());
    }
    match store.peers()?.as_slice() {
        [only] if only.bundle_peer.is_none() => {
            store.use_peer(&only.server)?;
            store.set_peer_bundle_id(&peer.id)?;
            Ok(())
        }
        _ => Err(DeviceBundleError::UnknownPeer(
            peer.id.clone(),
            "no enrolment links it".into(),
        )),
    }
}

/// Writes a bundle file whole or not at all: a temporary file beside it, synced,
/// renamed (devices, hubs and servers alike).
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Writes a bundle for `to` (default: the device's only peer) to `out`: every change
/// the peer has not acknowledged, as sync push pages, sealed to the peer and signed.
/// Nothing is marked as sent: the peer's acknowledgement (its next bundle, or a sync)
/// moves the marker, so a lost bundle loses nothing.
pub fn export(
    store: &mut Store,
    to: Option<&str>,
    out: &Path,
    on_progress: &mut dyn FnMut(&BundleProgress),
) -> Result<BundleSummary, DeviceBundleError> {
    let me = device_identity(store)?;
    let peer = pick_peer(store, to)?;
    choose(store, &peer)?;
    let recipient = public(&peer)?;
    let cursor = store.sync_cursor()?.max(0) as u64;
    let accounts_version = store.accounts_version()?;
    let mut after = store.push_acked()?;
    let mut pages = Vec::new();
    let (mut chunks, mut documents) = (0u64, 0u64);
    while pages.len() < MAX_ROUND_TRIPS as usize {
        let page = store.pending_changes(after, PUSH_PAGE_BYTES)?;
        let Some(upto) = page.upto else { break };
        chunks += page.chunks.len() as u64;
        documents += page.documents as u64;
        let request = SyncRequest {
            cursor,
            push: group(&page.chunks),
            max_pull_bytes: 0,
            accounts_version,
        };
        pages.push(BundlePage {
            upto,
            frame: protocol::encode(&request)
                .map_err(BundleError::from)?
                .into(),
        });
        on_progress(&BundleProgress {
            pages_done: pages.len() as u64,
            pages_total: 0,
        });
        after = upto;
    }
    let page_count = pages.len() as u64;
    let seq = store.next_bundle_seq(&peer.id)?;
    let body = BundleBody {
        header: BundleHeader {
            sender: me.id().to_string(),
            recipient: peer.id.clone(),
            seq,
            direction: Direction::Up,
        },
        acked: cursor as i64,
        pages,
    };
    let bytes = bundle::seal(&body, &me, &recipient)?;
    write_file(out, &bytes).map_err(io(out))?;
    Ok(BundleSummary {
        pages: page_count,
        ..BundleSummary::of(&body.header, bytes.len())
    }
    .with_counts(chunks, documents))
}

/// Reads and applies a bundle from one of this device's peers. Refused (the store
/// unchanged) when it is altered, truncated, for another device, from a sender this
/// device does not know, not going down, or an older bundle than one already
/// imported; the same bundle again is no error and changes nothing. Pages are applied
/// one transaction each, as a sync applies them (an interrupted import is resumed by
/// importing the same file again).
pub fn import(
    store: &mut Store,
    path: &Path,
    on_progress: &mut dyn FnMut(&BundleProgress),
) -> Result<BundleSummary, DeviceBundleError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let envelope = bundle::read(&bytes)?;
    let header = envelope.header.clone();
    if header.recipient != store.device() {
        return Err(BundleError::OtherRecipient {
            recipient: header.recipient,
            me: store.device().to_string(),
        }
        .into());
    }
    let me = device_identity(store)?;
    let sender = store
        .bundle_peers()?
        .into_iter()
        .find(|p| p.id == header.sender)
        .ok_or_else(|| BundleError::UnknownSender(header.sender.clone()))?;
    let body = envelope.open(&me, &public(&sender)?)?;
    choose(store, &sender)?;
    if header.direction != Direction::Down {
        return Err(DeviceBundleError::WrongDirection);
    }
    let mut summary = BundleSummary {
        pages: body.pages.len() as u64,
        ..BundleSummary::of(&header, bytes.len())
    };
    let (seen, last) = store.bundle_seen(&sender.id, header.seq)?;
    if bundle::novelty(&header, &envelope.digest, seen.as_deref(), last)? == Novelty::Again {
        summary.already_imported = true;
        return Ok(summary);
    }
    // Every page decoded before anything is applied.
    let answers = body
        .pages
        .iter()
        .map(|p| protocol::decode::<SyncResponse>(&p.frame))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BundleError::from)?;
    let total = answers.len() as u64;
    for (i, answer) in answers.into_iter().enumerate() {
        summary.chunks += answer
            .docs
            .iter()
            .map(|d| d.changes.len() as u64)
            .sum::<u64>();
        summary.documents += answer.docs.len() as u64;
        if let Some(accounts) = &answer.accounts {
            store.apply_accounts(accounts.version, &accounts.accounts)?;
        }
        let cursor = answer.cursor as i64;
        let (forms, config, docs) = incoming(answer);
        let applied = store.apply_pulled(forms, config, docs, cursor)?;
        summary.new_changes += applied.new_changes as u64;
        on_progress(&BundleProgress {
            pages_done: i as u64 + 1,
            pages_total: total,
        });
    }
    let acked = body.acked.min(store.last_local_seq()?);
    store.note_bundle_imported(&sender.id, header.seq, &envelope.digest, acked)?;
    Ok(summary)
}
