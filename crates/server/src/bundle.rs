//! Bundles on the server side (issue 16; `docs/bundles.md`): the server (or a hub, which
//! is this code on the supervisor's laptop) imports a device's bundle and exports one
//! to a device or hub, with no network.
//!
//! Importing runs the sync's own code: every page goes through
//! [`service::check_page`] and [`service::authorise_push`] as the device that signed it
//! (whole bundle checked before any page is stored, so a refused page leaves the store
//! as it was), is stored by the same `store_changes`, and the verifier runs before the
//! import returns. Exporting is a pull for that device, page by page, from what it
//! acknowledged (its last bundle's header, or its last sync).
//!
//! What is kept, in `settings` (both backends, no schema change):
//! - `bundle.identity`: this server's (or hub's) id and secret keys. Inside the
//!   encrypted SQLite database (the hub's is wrapped with the supervisor's password);
//!   on PostgreSQL inside the database, protected as the database is.
//! - `bundle.keys.<device>`: each device's public keys (the registry's extension), from
//!   its enrolment or its first sync after bundles existed (`POST /v1/device/keys`).
//! - `bundle.peer.<device>`: what the device acknowledged (its cursor in our log), how
//!   far we stored its pages (its own sequence), our next bundle number to it, and the
//!   bundles imported from it (sequence → SHA-256).

use crate::auth::{self, Action};
use crate::db::{Db, Device, Scope};
use crate::service::{self, ApiError, ApiResult, Caller};
use crate::verify::{verify_all, DocCache};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tern_sync::bundle::{
    self, BundleBody, BundleError, BundleHeader, BundlePage, BundleSummary, Direction, Identity,
    Novelty, PeerKeys, PublicIdentity,
};
use tern_sync::protocol::{
    self, ErrorCode, SiteAccounts, SyncRequest, SyncResponse, PULL_PAGE_BYTES,
};

const IDENTITY: &str = "bundle.identity";
/// Bound on pages of one bundle (as on round trips of one sync).
const MAX_PAGES: usize = 100_000;

/// A bundle's refusal as the API's error (exit 1 in the CLI).
impl From<BundleError> for ApiError {
    fn from(e: BundleError) -> ApiError {
        let code = match e {
            BundleError::UnknownSender(_)
            | BundleError::RevokedSender(_)
            | BundleError::OtherRecipient { .. } => ErrorCode::Forbidden,
            BundleError::Replayed { .. } => ErrorCode::Conflict,
            _ => ErrorCode::BadRequest,
        };
        ApiError::new(code, e.to_string())
    }
}

#[derive(Serialize, Deserialize)]
struct StoredIdentity {
    id: String,
    secret: String,
}

/// Per device: see the module doc.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PeerState {
    /// The device's cursor in our log: what it applied.
    cursor: i64,
    /// The device's own sequence up to which we stored its pages.
    stored_upto: i64,
    /// The number of our last bundle to it.
    out_seq: u64,
    /// Bundles imported from it: sequence → SHA-256 (hex).
    imported: BTreeMap<u64, String>,
}

fn internal(m: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, format!("bundle state: {m}"))
}

/// This server's bundle keys, made at first use (a random id `server-…`).
pub async fn identity<D: Db>(db: &D) -> ApiResult<Identity> {
    ensure_identity(db, None).await
}

/// This server's (or hub's) bundle keys; made at first use with `id` (a hub's device
/// id upstream) or a random `server-…` id.
pub async fn ensure_identity<D: Db>(db: &D, id: Option<&str>) -> ApiResult<Identity> {
    if let Some(json) = db.setting(IDENTITY).await? {
        let stored: StoredIdentity = serde_json::from_str(&json).map_err(internal)?;
        let secret = hex::decode(&stored.secret).map_err(internal)?;
        return Ok(Identity::from_secret(&stored.id, &secret)?);
    }
    let id = match id {
        Some(id) => id.to_string(),
        None => {
            let mut b = [0u8; 6];
            getrandom::fill(&mut b).map_err(internal)?;
            format!("server-{}", hex::encode(b))
        }
    };
    let me = Identity::generate(&id)?;
    let stored = StoredIdentity {
        id,
        secret: hex::encode(me.secret()),
    };
    db.set_setting(IDENTITY, &serde_json::to_string(&stored).map_err(internal)?)
        .await?;
    Ok(me)
}

/// Keeps `me` as this server's (hub's) bundle keys; keys already kept stand.
pub async fn keep_identity<D: Db>(db: &D, me: &Identity) -> ApiResult<()> {
    if db.setting(IDENTITY).await?.is_some() {
        return Ok(());
    }
    let stored = StoredIdentity {
        id: me.id().to_string(),
        secret: hex::encode(me.secret()),
    };
    db.set_setting(IDENTITY, &serde_json::to_string(&stored).map_err(internal)?)
        .await?;
    Ok(())
}

/// Keys as they travel, checked, for the device `device`.
pub fn checked_keys(keys: &PeerKeys, device: &str) -> ApiResult<PublicIdentity> {
    if keys.id != device {
        return Err(ApiError::bad("the bundle keys name another device"));
    }
    Ok(PublicIdentity::parse(keys)?)
}

/// Keeps a device's public keys in the registry. Other keys for a device that has
/// keys are refused (a device's keys never change).
pub async fn register_keys<D: Db>(db: &D, device: &str, keys: &PublicIdentity) -> ApiResult<()> {
    let key = format!("bundle.keys.{device}");
    let json = serde_json::to_string(&keys.keys()).map_err(internal)?;
    match db.setting(&key).await? {
        Some(have) if have == json => Ok(()),
        Some(_) => Err(ApiError::new(
            ErrorCode::Conflict,
            format!("device {device} already has other bundle keys; they never change"),
        )),
        None => Ok(db.set_setting(&key, &json).await?),
    }
}

/// A device's public keys, when it has sent them.
pub async fn device_keys<D: Db>(db: &D, device: &str) -> ApiResult<Option<PublicIdentity>> {
    match db.setting(&format!("bundle.keys.{device}")).await? {
        None => Ok(None),
        Some(json) => {
            let keys: PeerKeys = serde_json::from_str(&json).map_err(internal)?;
            Ok(Some(PublicIdentity::parse(&keys)?))
        }
    }
}

/// `POST /v1/device/keys`: an enrolled device (or hub) that enrolled before bundles
/// existed sends its public keys with its token and gets ours.
pub async fn exchange_keys<D: Db>(db: &D, caller: &Caller, keys: PeerKeys) -> ApiResult<PeerKeys> {
    let device = caller
        .device
        .clone()
        .ok_or_else(|| ApiError::forbidden("send bundle keys without an enrolled device"))?;
    let keys = checked_keys(&keys, &device)?;
    register_keys(db, &device, &keys).await?;
    Ok(identity(db).await?.public().keys())
}

async fn peer_state<D: Db>(db: &D, device: &str) -> ApiResult<PeerState> {
    match db.setting(&format!("bundle.peer.{device}")).await? {
        None => Ok(PeerState::default()),
        Some(json) => serde_json::from_str(&json).map_err(internal),
    }
}

async fn save_peer_state<D: Db>(db: &D, device: &str, state: &PeerState) -> ApiResult<()> {
    let json = serde_json::to_string(state).map_err(internal)?;
    Ok(db
        .set_setting(&format!("bundle.peer.{device}"), &json)
        .await?)
}

/// The enrolled device `id` (not revoked), as a sync caller.
async fn enrolled<D: Db>(db: &D, id: &str) -> ApiResult<(Device, Caller)> {
    let device = db
        .devices_by_id(&[id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| BundleError::UnknownSender(id.to_string()))?;
    if device.revoked {
        return Err(BundleError::RevokedSender(id.to_string()).into());
    }
    let caller = Caller {
        account: device.account.clone(),
        role: service::parse_role(&device.role)?,
        sites: vec![device.site.clone()],
        device: Some(device.id.clone()),
    };
    Ok((device, caller))
}

/// Runs the verifier until nothing waits: what a bundle brought is judged (and
/// quarantined when it must be) before the import returns, and an export never waits
/// for it.
pub async fn verify_now<D: Db + Clone>(db: &D, limits: &tern_record::ChunkLimits) -> ApiResult<()> {
    let shared = Arc::new(db.clone());
    verify_all(&shared, &mut DocCache::default(), 100_000, limits).await?;
    Ok(())
}

/// Imports a bundle a device (or hub) sent up: every page is checked as a push of that
/// device (all pages before any is stored), stored, and verified. The same bundle
/// again changes nothing.
pub async fn import<D: Db + Clone>(
    db: &D,
    bytes: &[u8],
    limits: &tern_record::ChunkLimits,
) -> ApiResult<BundleSummary> {
    let envelope = bundle::read(bytes)?;
    let me = identity(db).await?;
    let header = envelope.header.clone();
    if header.recipient != me.id() {
        return Err(BundleError::OtherRecipient {
            recipient: header.recipient,
            me: me.id().to_string(),
        }
        .into());
    }
    let sender = header.sender.clone();
    let (device, caller) = enrolled(db, &sender).await?;
    let keys = device_keys(db, &sender)
        .await?
        .ok_or_else(|| BundleError::UnknownSender(sender.clone()))?;
    let body = envelope.open(&me, &keys)?;
    if header.direction != Direction::Up {
        return Err(ApiError::bad(
            "this bundle goes down to a device; a server imports bundles its devices send",
        ));
    }
    let mut state = peer_state(db, &sender).await?;
    let last = state.imported.keys().next_back().copied().unwrap_or(0);
    let seen = state
        .imported
        .get(&header.seq)
        .and_then(|d| hex::decode(d).ok());
    let mut summary = BundleSummary::of(&header, bytes.len());
    summary.pages = body.pages.len() as u64;
    if bundle::novelty(&header, &envelope.digest, seen.as_deref(), last)? == Novelty::Again {
        summary.already_imported = true;
        return Ok(summary);
    }
    caller.require(Action::Sync, "sync records")?;
    // Every page decoded and authorised before any is stored.
    let mut checked = Vec::with_capacity(body.pages.len());
    for page in &body.pages {
        let frame = page.frame.to_vec();
        let request: SyncRequest = service_blocking(move || protocol::decode(&frame))
            .await?
            .map_err(BundleError::from)?;
        summary.chunks += request
            .push
            .iter()
            .map(|d| d.changes.len() as u64)
            .sum::<u64>();
        let limits = *limits;
        let mut page_checked =
            service_blocking(move || service::check_page(request.push, &limits)).await??;
        summary.documents += page_checked
            .docs
            .iter()
            .flat_map(|d| &d.changes)
            .filter(|(_, raw)| tern_record::chunk_kind(raw) == Ok(tern_record::ChunkKind::Document))
            .count() as u64;
        if !page_checked.docs.is_empty() {
            service::authorise_push(db, &caller, &device.id, &mut page_checked).await?;
        }
        checked.push((page.upto, page_checked));
    }
    for (upto, page) in checked {
        if !page.docs.is_empty() {
            summary.new_changes += db.store_changes(&device.id, &page.docs).await?;
        }
        // Resumable: what is stored is noted page by page.
        state.stored_upto = state.stored_upto.max(upto);
        save_peer_state(db, &sender, &state).await?;
    }
    state.cursor = state.cursor.max(body.acked);
    state
        .imported
        .insert(header.seq, hex::encode(envelope.digest));
    save_peer_state(db, &sender, &state).await?;
    db.audit(&caller.audit(
        "bundle_import",
        &device.site,
        &format!("seq={} pages={}", header.seq, summary.pages),
    ))
    .await?;
    verify_now(db, limits).await?;
    Ok(summary)
}

async fn service_blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    service::blocking(f).await
}

/// A bundle for the device (or hub) `to`: what it has not acknowledged of our log, in
/// pull pages exactly as a sync would serve them (its sites, restricted twins only for
/// roles that may see them, never its own pushes, nothing unverified), with its sites'
/// accounts, and how far we stored its own pages.
pub async fn export<D: Db + Clone>(
    db: &D,
    to: &str,
    limits: &tern_record::ChunkLimits,
) -> ApiResult<(Vec<u8>, BundleSummary)> {
    let me = identity(db).await?;
    let (device, caller) = enrolled(db, to).await.map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("cannot write a bundle for `{to}`: {}", e.message),
        )
    })?;
    let keys = device_keys(db, to).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "device `{to}` has no bundle keys yet (it enrolled before bundles existed): it \
                 must sync online once"
            ),
        )
    })?;
    verify_now(db, limits).await?;
    let mut state = peer_state(db, to).await?;
    let scope = Scope {
        sites: caller.sites.clone(),
        restricted: auth::allowed(caller.role, Action::Restricted),
        exclude_origin: device.id.clone(),
    };
    let accounts = SiteAccounts::new(db.site_accounts(&caller.sites).await?);
    let mut cursor = state.cursor;
    let mut pages = Vec::new();
    let mut summary = BundleSummary::default();
    loop {
        let pulled = db.pull(&scope, cursor, PULL_PAGE_BYTES).await?;
        let more = pulled.more && !pulled.items.is_empty();
        let mut response: SyncResponse =
            service_blocking(move || service::build_response(pulled, 0, 0)).await??;
        if pages.is_empty() {
            response.accounts = Some(accounts.clone());
        }
        summary.chunks += response
            .docs
            .iter()
            .map(|d| d.changes.len() as u64)
            .sum::<u64>();
        summary.documents += response.docs.len() as u64;
        cursor = cursor.max(i64::try_from(response.cursor).unwrap_or(i64::MAX));
        let frame = service_blocking(move || protocol::encode(&response))
            .await?
            .map_err(BundleError::from)?;
        pages.push(BundlePage {
            upto: 0,
            frame: frame.into(),
        });
        if !more || pages.len() >= MAX_PAGES {
            break;
        }
    }
    let page_count = pages.len() as u64;
    state.out_seq += 1;
    save_peer_state(db, to, &state).await?;
    let body = BundleBody {
        header: BundleHeader {
            sender: me.id().to_string(),
            recipient: to.to_string(),
            seq: state.out_seq,
            direction: Direction::Down,
        },
        acked: state.stored_upto,
        pages,
    };
    let header = body.header.clone();
    let bytes = service_blocking(move || bundle::seal(&body, &me, &keys)).await??;
    let summary = BundleSummary {
        pages: page_count,
        ..BundleSummary::of(&header, bytes.len())
    }
    .with_counts(summary.chunks, summary.documents);
    db.audit(&caller.audit(
        "bundle_export",
        &device.site,
        &format!("seq={}", header.seq),
    ))
    .await?;
    Ok((bytes, summary))
}
