//! tern-hub: the supervisor's laptop as a hub for a field team (docs/hub.md).
//!
//! The hub is the Tern server (tern-server, embedded SQLite) running for the team's
//! devices on the local network, plus a client of the upstream server (tern-sync's
//! messages) that pushes what the team recorded and pulls what the sites' other
//! devices did, whenever the upstream answers. Devices enrol with the hub and sync
//! with it exactly as with the central server.
//!
//! Invariants:
//! - A stolen hub folder gives nothing: the database key is wrapped with the
//!   supervisor's passphrase (their account password) in `<db>.keys`; the upstream
//!   token and the TLS private key live inside the encrypted database.
//! - The hub holds no password hashes. Accounts come from upstream with their roles
//!   and sites; a device's enrolment or an account's proof at the hub is checked by
//!   the upstream server ([`UpstreamAuthority`]), which records the device as enrolled
//!   through this hub. Devices therefore enrol while the hub is online; after that they
//!   sync with it offline for as long as the field work lasts.
//! - What the hub forwards upstream is only what its own verifier accepted (the pull
//!   horizon of tern-server), in log order; what came from upstream (origin
//!   `upstream`) is never sent back. Pages acknowledged upstream are never re-sent:
//!   the marker is saved after each acknowledgement.
//! - One upstream sync at a time ([`Hub::sync`] holds a lock).
//! - A hub revoked upstream destroys its keys and database.

mod running;
pub use running::{RunningHub, UpstreamPhase, UpstreamState};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use tern_server::db::{Db, DbError, Scope};
use tern_server::service::{self, ApiError, HubDevices, HubProveRequest, HubRevoked, Upstream};
use tern_server::sqlite::SqliteDb;
use tern_server::{DbKey, ServeConfig, Storage, UpstreamHandle};
use tern_sync::protocol::{
    self, DocChanges, EnrolRequest, EnrolResponse, ErrorCode, ProveResponse, SyncRequest,
};
use tern_sync::SyncError;
use zeroize::Zeroizing;

mod bundle;

/// The hub's plain description in its folder (no secrets).
const HUB_FILE: &str = "hub.json";
/// Bytes of chunks per upstream push page.
const PUSH_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Overrides [`PUSH_PAGE_BYTES`] in KiB (64 to 16,384): on a link that often breaks,
/// smaller pages mean less is sent again after a cut (each acknowledged page is kept).
pub const PUSH_PAGE_ENV: &str = "TERN_HUB_PUSH_PAGE_KIB";

/// The push page size: [`PUSH_PAGE_ENV`] when set to a number in range, otherwise
/// [`PUSH_PAGE_BYTES`].
fn push_page_bytes() -> usize {
    std::env::var(PUSH_PAGE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|k| (64..=16 * 1024).contains(k))
        .map_or(PUSH_PAGE_BYTES, |k| k * 1024)
}
/// Round trips one upstream sync makes at most (a bound, far above real needs).
const MAX_ROUND_TRIPS: u32 = 100_000;

/// Everything setting up, opening or syncing a hub can fail with. Messages say what
/// to do.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0} is already a hub's data folder; start it with `tern hub --data DIR`")]
    AlreadySetUp(PathBuf),
    #[error(
        "{0} is not a hub's data folder; set one up with `tern hub --data DIR --upstream URL \
         --code CODE` (TERN_USER and TERN_PASSWORD: the supervisor's account)"
    )]
    NotAHub(PathBuf),
    #[error(
        "the upstream account `{0}` is a {1}: a hub runs for a supervisor's account; ask an \
         administrator for a code and use a supervisor's account"
    )]
    NotSupervisor(String, String),
    #[error("this hub's key cannot be opened: {0}")]
    Key(#[from] tern_store::StoreError),
    #[error("this hub was revoked by its upstream server; its keys and database were destroyed")]
    Revoked,
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("storage: {0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("server: {0}")]
    Server(#[from] tern_server::ServerError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("the hub's certificate: {0}")]
    Certificate(String),
    #[error("the hub's state is damaged ({0}); set the hub up again in a new folder")]
    State(String),
}

/// What the hub's folder says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubInfo {
    /// The upstream server's address.
    pub upstream: String,
    /// The hub's device id upstream (the origin of what it pushes).
    pub device_id: String,
    /// The supervisor's account the hub runs for (the holder of its key).
    pub account: String,
    /// SHA-256 of the hub's TLS certificate, which its devices pin.
    pub fingerprint: String,
}

/// What one upstream sync did, as `tern hub sync` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HubSyncReport {
    pub pushed_changes: u64,
    pub pulled_changes: u64,
    pub pulled_documents: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub round_trips: u32,
    /// Devices of the hub revoked upstream, refused by the hub from now on.
    pub revoked_devices: Vec<String>,
    /// Chunks still waiting for the hub's own verification (sent next time).
    pub waiting: bool,
}

/// How far a running upstream sync got (after each round trip).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HubProgress {
    /// Changes of the team waiting to go up when the sync started.
    pub to_push: u64,
    /// Changes acknowledged upstream so far.
    pub pushed: u64,
    /// Documents received from upstream so far (the total is not known in advance).
    pub pulled_documents: u64,
    pub round_trips: u32,
}

/// `tern hub status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubStatus {
    pub upstream: String,
    pub device_id: String,
    pub account: String,
    pub fingerprint: String,
    pub sites: Vec<String>,
    /// Chunks of the team not yet acknowledged upstream (verified or not).
    pub pending_up: i64,
    /// The upstream sequence the hub has pulled up to.
    pub upstream_cursor: i64,
    pub last_sync: Option<String>,
    pub devices: usize,
}

/// An opened hub: its encrypted database and what it knows of its upstream.
pub struct Hub {
    dir: PathBuf,
    info: HubInfo,
    key: DbKey,
    db: SqliteDb,
    rt: tokio::runtime::Runtime,
    sync_lock: Mutex<()>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("dir", &self.dir)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, HubError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn random_hex(n: usize) -> Result<String, HubError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| HubError::State(format!("no randomness: {e}")))?;
    Ok(hex::encode(b))
}

/// Whether `dir` is a hub's data folder.
pub fn is_hub(dir: &Path) -> bool {
    dir.join(HUB_FILE).exists()
}

/// The storage of a hub's folder for `tern admin` (the key unwrapped with the
/// supervisor's passphrase), and the hub's certificate fingerprint for its codes.
pub fn admin_storage(
    dir: &Path,
    account: Option<&str>,
    passphrase: &str,
) -> Result<(Storage, HubInfo), HubError> {
    let info = read_info(dir)?;
    let account = account.unwrap_or(&info.account);
    let mut key = tern_store::database_key(&SqliteDb::path(dir), account, passphrase)?;
    Ok((Storage::Keyed(dir.to_path_buf(), db_key(&mut key)), info))
}

/// Moves the database key into the server's `DbKey` (which wipes it when dropped),
/// leaving an empty string behind: no unwiped copy.
fn db_key(key: &mut Zeroizing<String>) -> DbKey {
    DbKey(std::mem::take(&mut **key))
}

fn read_info(dir: &Path) -> Result<HubInfo, HubError> {
    let text = match std::fs::read_to_string(dir.join(HUB_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HubError::NotAHub(dir.to_path_buf()))
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_str(&text).map_err(|e| HubError::State(format!("{HUB_FILE}: {e}")))
}

fn write_info(dir: &Path, info: &HubInfo) -> Result<(), HubError> {
    use std::io::Write;
    let path = dir.join(HUB_FILE);
    let tmp = dir.join(format!("{HUB_FILE}.tmp"));
    let text = serde_json::to_string_pretty(info).map_err(|e| HubError::State(e.to_string()))?;
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

impl Hub {
    /// Sets up a hub in `dir` (first start only): enrols it upstream with `code` as a
    /// device of the supervisor's `account` (its own password proves it), wraps a new
    /// database key with that password, makes the TLS certificate and stores the
    /// upstream token inside the encrypted database. Refused without writing anything
    /// when the folder is already a hub's or the upstream refuses.
    pub fn init(
        dir: &Path,
        upstream: &str,
        code: &str,
        account: &str,
        password: &str,
    ) -> Result<Hub, HubError> {
        if is_hub(dir) || SqliteDb::path(dir).exists() {
            return Err(HubError::AlreadySetUp(dir.to_path_buf()));
        }
        let upstream = upstream.trim_end_matches('/').to_string();
        let device_id = random_hex(8)?;
        // Bundle keys (issue 16): the hub's own, sent with its enrolment.
        let me = tern_sync::bundle::Identity::generate(&device_id)
            .map_err(|e| HubError::State(e.to_string()))?;
        let enrolled: EnrolResponse = tern_sync::post_json(
            &format!("{upstream}/v1/enroll"),
            None,
            &EnrolRequest {
                protocol: protocol::PROTOCOL_VERSION,
                code: code.trim().to_string(),
                device_id: device_id.clone(),
                user: account.to_string(),
                password: password.to_string(),
                users: vec![account.to_string()],
                keys: Some(me.public().keys()),
            },
            None,
        )?;
        if enrolled.role != "supervisor" {
            return Err(HubError::NotSupervisor(
                enrolled.account.clone(),
                enrolled.role.clone(),
            ));
        }
        std::fs::create_dir_all(dir)?;
        let mut key = tern_store::database_key(&SqliteDb::path(dir), account, password)?;
        let db = SqliteDb::open_with(dir, Some(&key))?;
        let cert = rcgen::generate_simple_self_signed(vec![
            "tern-hub".to_string(),
            "localhost".to_string(),
        ])
        .map_err(|e| HubError::Certificate(e.to_string()))?;
        let fingerprint = tern_sync::tls::fingerprint(cert.cert.der());
        let sites =
            serde_json::to_string(&enrolled.sites).map_err(|e| HubError::State(e.to_string()))?;
        let rt = runtime()?;
        rt.block_on(async {
            for site in &enrolled.sites {
                if !db.site_exists(site).await? {
                    db.add_site(site).await?;
                }
            }
            db.set_setting("hub.token", &enrolled.token).await?;
            db.set_setting("hub.sites", &sites).await?;
            db.set_setting("hub.tls_cert", &cert.cert.pem()).await?;
            db.set_setting("hub.tls_key", &cert.signing_key.serialize_pem())
                .await?;
            Ok::<(), DbError>(())
        })?;
        rt.block_on(bundle::keep_upstream(&db, &me, enrolled.keys.as_ref()))?;
        let hub = Hub {
            dir: dir.to_path_buf(),
            info: HubInfo {
                upstream,
                device_id,
                account: account.to_string(),
                fingerprint,
            },
            key: db_key(&mut key),
            db,
            rt,
            sync_lock: Mutex::new(()),
        };
        if let Some(accounts) = &enrolled.accounts {
            hub.mirror_accounts(accounts.version, &accounts.accounts)?;
        }
        hub.keep_local_password(password)?;
        // Last: a folder with hub.json is a hub that is set up.
        write_info(dir, &hub.info)?;
        Ok(hub)
    }

    /// Opens the hub in `dir` with the supervisor's passphrase (`account`: the key's
    /// holder, by default the hub's account).
    pub fn open(dir: &Path, account: Option<&str>, passphrase: &str) -> Result<Hub, HubError> {
        let info = read_info(dir)?;
        let holder = account.unwrap_or(&info.account);
        let mut key = tern_store::database_key(&SqliteDb::path(dir), holder, passphrase)?;
        let db = SqliteDb::open_with(dir, Some(&key))?;
        let hub = Hub {
            dir: dir.to_path_buf(),
            info,
            key: db_key(&mut key),
            db,
            rt: runtime()?,
            sync_lock: Mutex::new(()),
        };
        hub.keep_local_password(passphrase)?;
        // A hub set up before bundles existed makes its keys now.
        hub.rt.block_on(tern_server::bundle::ensure_identity(
            &hub.db,
            Some(&hub.info.device_id),
        ))?;
        Ok(hub)
    }

    /// The supervisor signs in to the hub's dashboard with their password while the
    /// upstream is out of reach: the hub keeps its hash (only theirs).
    fn keep_local_password(&self, password: &str) -> Result<(), HubError> {
        let sites = self.sites()?;
        self.rt.block_on(async {
            if self.db.account(&self.info.account).await?.is_none() {
                service::mirror_account(&self.db, &self.info.account, "supervisor", &sites).await?;
            }
            service::set_local_password(&self.db, &self.info.account, password).await
        })?;
        Ok(())
    }

    pub fn info(&self) -> &HubInfo {
        &self.info
    }

    fn setting(&self, key: &str) -> Result<Option<String>, HubError> {
        Ok(self.rt.block_on(self.db.setting(key))?)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), HubError> {
        Ok(self.rt.block_on(self.db.set_setting(key, value))?)
    }

    fn number(&self, key: &str) -> Result<i64, HubError> {
        Ok(self.setting(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The hub's upstream device token (a bearer secret), wiped when dropped.
    fn token(&self) -> Result<Zeroizing<String>, HubError> {
        self.setting("hub.token")?
            .map(Zeroizing::new)
            .ok_or_else(|| HubError::State("no upstream token".into()))
    }

    /// The sites the hub works for.
    pub fn sites(&self) -> Result<Vec<String>, HubError> {
        let text = self
            .setting("hub.sites")?
            .ok_or_else(|| HubError::State("no sites".into()))?;
        serde_json::from_str(&text).map_err(|e| HubError::State(e.to_string()))
    }

    /// Accounts as upstream lists them for the hub's sites: roles only, no password.
    fn mirror_accounts(&self, version: u64, accounts: &[(String, String)]) -> Result<(), HubError> {
        let sites = self.sites()?;
        self.rt.block_on(async {
            for (name, role) in accounts {
                service::mirror_account(&self.db, name, role, &sites).await?;
            }
            Ok::<(), ApiError>(())
        })?;
        self.set("hub.accounts_version", &version.to_string())
    }

    /// A new one-time enrolment code for a device of the team at `site` (default: the
    /// hub's first site), with the hub's certificate fingerprint after `#` for the
    /// device to pin.
    pub fn enrolment_code(&self, site: Option<&str>) -> Result<String, HubError> {
        let sites = self.sites()?;
        let site = match site {
            Some(s) => s.to_string(),
            None => sites
                .first()
                .cloned()
                .ok_or_else(|| HubError::State("no sites".into()))?,
        };
        let code = self.rt.block_on(service::enrolment_code(
            &self.db,
            &site,
            None,
            service::ENROLMENT_MS,
        ))?;
        Ok(format!("{code}#{}", self.info.fingerprint))
    }

    /// Syncs with the upstream server now: the device registry (revocations both
    /// ways), then pages pushed and pulled until neither side has more. One at a time.
    pub fn sync(&self) -> Result<HubSyncReport, HubError> {
        self.sync_reporting(|_| {})
    }

    /// [`Hub::sync`], telling `progress` after every round trip how far it got.
    pub fn sync_reporting(
        &self,
        mut progress: impl FnMut(&HubProgress),
    ) -> Result<HubSyncReport, HubError> {
        let _one = self
            .sync_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match self.sync_inner(&mut progress) {
            Err(HubError::Sync(SyncError::Revoked)) => {
                self.wipe()?;
                Err(HubError::Revoked)
            }
            other => other,
        }
    }

    fn sync_inner(
        &self,
        progress: &mut dyn FnMut(&HubProgress),
    ) -> Result<HubSyncReport, HubError> {
        let up = &self.info.upstream;
        let token = self.token()?;
        let mut report = HubSyncReport::default();
        // The registry: devices the hub revoked are revoked upstream; devices revoked
        // upstream are refused here from now on.
        let devices: Vec<(String, bool)> = self
            .rt
            .block_on(self.db.devices())?
            .into_iter()
            .map(|d| (d.id, d.revoked))
            .collect();
        let revoked: HubRevoked = tern_sync::post_json(
            &format!("{up}/v1/hub/devices"),
            Some(&token),
            &HubDevices { devices },
            None,
        )?;
        for id in &revoked.revoked {
            let known = self.rt.block_on(self.db.revoke(id))?;
            if known {
                report.revoked_devices.push(id.clone());
            }
        }
        // Accounts proven on the team's devices at the upstream bind here too.
        for (device, account) in &revoked.bound {
            self.rt.block_on(self.db.bind_account(
                device,
                account,
                chrono::Utc::now().timestamp_millis(),
            ))?;
        }
        self.exchange_bundle_keys(&token)?;
        let scope = Scope {
            sites: self.sites()?,
            restricted: true,
            exclude_origin: "upstream".into(),
        };
        let mut cursor = self.number("hub.cursor")?;
        let mut pushed = self.number("hub.pushed")?;
        let mut accounts_version = self.number("hub.accounts_version")? as u64;
        let to_push = self
            .rt
            .block_on(self.db.chunks_after(pushed, "upstream"))?
            .max(0) as u64;
        progress(&HubProgress {
            to_push,
            ..HubProgress::default()
        });
        loop {
            if report.round_trips >= MAX_ROUND_TRIPS {
                break;
            }
            // What the team recorded and the hub verified, in log order.
            let page = self
                .rt
                .block_on(self.db.pull(&scope, pushed, push_page_bytes()))?;
            report.waiting = page.waiting;
            let push = group(&page.items);
            let request = SyncRequest {
                cursor: cursor.max(0) as u64,
                push,
                max_pull_bytes: protocol::PULL_PAGE_BYTES as u32,
                accounts_version,
            };
            let sent_chunks: u64 = request.push.iter().map(|d| d.changes.len() as u64).sum();
            let (answer, sent, received) = tern_sync::round_trip(up, &token, &request, None)?;
            report.round_trips += 1;
            report.bytes_sent += sent;
            report.bytes_received += received;
            if page.cursor > pushed {
                // Acknowledged whole: never sent again.
                pushed = page.cursor;
                self.set("hub.pushed", &pushed.to_string())?;
                report.pushed_changes += sent_chunks;
            }
            report.pulled_changes += answer
                .docs
                .iter()
                .map(|d| d.changes.len() as u64)
                .sum::<u64>();
            report.pulled_documents += answer.docs.len() as u64;
            let docs = service::upstream_page(answer.docs, &tern_record::ChunkLimits::default())?;
            if !docs.is_empty() {
                self.rt.block_on(self.db.store_changes("upstream", &docs))?;
            }
            if let Some(accounts) = &answer.accounts {
                self.mirror_accounts(accounts.version, &accounts.accounts)?;
                accounts_version = accounts.version;
            }
            cursor = answer.cursor as i64;
            self.set("hub.cursor", &cursor.to_string())?;
            progress(&HubProgress {
                to_push: to_push.max(report.pushed_changes),
                pushed: report.pushed_changes,
                pulled_documents: report.pulled_documents,
                round_trips: report.round_trips,
            });
            if !answer.more && !page.more {
                break;
            }
        }
        self.set("hub.last_sync", &now_text())?;
        Ok(report)
    }

    /// What waits each way, and when the hub last synced.
    pub fn status(&self) -> Result<HubStatus, HubError> {
        let sites = self.sites()?;
        let pushed = self.number("hub.pushed")?;
        let devices = self.rt.block_on(self.db.devices())?.len();
        let pending_up = self.rt.block_on(self.db.chunks_after(pushed, "upstream"))?;
        Ok(HubStatus {
            upstream: self.info.upstream.clone(),
            device_id: self.info.device_id.clone(),
            account: self.info.account.clone(),
            fingerprint: self.info.fingerprint.clone(),
            sites,
            pending_up,
            upstream_cursor: self.number("hub.cursor")?,
            last_sync: self.setting("hub.last_sync")?,
            devices,
        })
    }

    /// Destroys the hub's keys and database (revoked upstream): the folder gives
    /// nothing any more.
    fn wipe(&self) -> Result<(), HubError> {
        let db = SqliteDb::path(&self.dir);
        for path in [
            tern_store::key_path(&db),
            db.clone(),
            db.with_extension("db-wal"),
            db.with_extension("db-shm"),
            self.dir.join(HUB_FILE),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        tracing::warn!("hub revoked upstream: keys and database destroyed");
        Ok(())
    }

    /// How to serve the team: the hub's storage, its TLS certificate from the
    /// encrypted database and the upstream password authority.
    pub fn serve_config(&self, listen: std::net::SocketAddr) -> Result<ServeConfig, HubError> {
        let cert = self
            .setting("hub.tls_cert")?
            .ok_or_else(|| HubError::State("no certificate".into()))?;
        let key = self
            .setting("hub.tls_key")?
            .map(Zeroizing::new)
            .ok_or_else(|| HubError::State("no certificate key".into()))?;
        Ok(ServeConfig {
            storage: Storage::Keyed(self.dir.clone(), self.key.clone()),
            listen,
            tls: None,
            demo: false,
            dashboard: None,
            limits: Default::default(),
            upstream: Some(UpstreamHandle(Arc::new(UpstreamAuthority {
                upstream: self.info.upstream.clone(),
                token: self.token()?,
            }))),
            // The server's configuration keeps its own copy (not wiped).
            tls_pem: Some((cert.into_bytes(), key.as_bytes().to_vec())),
        })
    }

    /// The team's devices: those enrolled with this hub, newest sync first.
    pub fn devices(&self) -> Result<Vec<tern_server::db::DeviceRow>, HubError> {
        let mut devices = self.rt.block_on(self.db.devices())?;
        devices.sort_by(|a, b| b.last_sync.cmp(&a.last_sync).then(a.id.cmp(&b.id)));
        Ok(devices)
    }

    /// The database the hub serves (shared by its server and its upstream syncs).
    pub fn database(&self) -> SqliteDb {
        self.db.clone()
    }
}

/// Consecutive log items of one document as one [`DocChanges`] each; the forms and
/// configuration tables the hub publishes to its devices stay here.
fn group(items: &[tern_server::db::LogItem]) -> Vec<DocChanges> {
    let mut out: Vec<DocChanges> = Vec::new();
    for item in items {
        let Some(kind) = protocol::Kind::parse(&item.kind) else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.doc == item.doc_id => last
                .changes
                .push(serde_bytes::ByteBuf::from(item.bytes.clone())),
            _ => out.push(DocChanges {
                doc: item.doc_id.clone(),
                kind,
                site: item.site.clone(),
                changes: vec![serde_bytes::ByteBuf::from(item.bytes.clone())],
                summary: None,
            }),
        }
    }
    out
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The upstream server as the hub's password authority (enrolments and proofs of
/// the team's devices).
struct UpstreamAuthority {
    upstream: String,
    token: Zeroizing<String>,
}

type Answer<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<ProveResponse, ApiError>> + Send + 'a>,
>;

impl Upstream for UpstreamAuthority {
    fn prove<'a>(&'a self, device: &'a str, account: &'a str, password: &'a str) -> Answer<'a> {
        let url = format!("{}/v1/hub/prove", self.upstream);
        let request = HubProveRequest {
            device: device.to_string(),
            account: account.to_string(),
            password: password.to_string(),
        };
        let token = self.token.clone();
        ask(move || tern_sync::post_json(&url, Some(&token), &request, None))
    }

    fn sign_in<'a>(&'a self, account: &'a str, password: &'a str) -> Answer<'a> {
        let upstream = self.upstream.clone();
        let request = service::LoginRequest {
            user: account.to_string(),
            password: password.to_string(),
        };
        ask(move || {
            // An upstream session only to check the password: ended at once.
            let signed: service::LoginResponse =
                tern_sync::post_json(&format!("{upstream}/v1/login"), None, &request, None)?;
            let _: Result<serde_json::Value, SyncError> = tern_sync::post_json(
                &format!("{upstream}/v1/logout"),
                Some(&signed.token),
                &serde_json::json!({}),
                None,
            );
            Ok(ProveResponse {
                account: request.user.clone(),
                role: signed.role,
                sites: signed.sites,
                restricted_key: None,
                bound: Vec::new(),
            })
        })
    }
}

/// Runs a blocking upstream call on a thread of its own (off the async runtime) and
/// maps its failure: the upstream's refusal keeps its kind, anything else means the
/// upstream is out of reach.
fn ask<'a>(call: impl FnOnce() -> Result<ProveResponse, SyncError> + Send + 'static) -> Answer<'a> {
    Box::pin(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(call());
        });
        {
            match rx.await {
                Ok(Ok(proven)) => Ok(proven),
                Ok(Err(SyncError::Refused { code, message })) => Err(ApiError::new(code, message)),
                Ok(Err(e)) => Err(ApiError::new(
                    ErrorCode::Unavailable,
                    format!(
                        "the hub cannot check this password with its upstream server now \
                         ({e}); try again when the hub is online"
                    ),
                )),
                Err(_) => Err(ApiError::new(
                    ErrorCode::Unavailable,
                    "the hub's upstream check stopped; try again",
                )),
            }
        }
    })
}
