//! The state behind the Tauri commands, without Tauri: the data folder, the unlocked
//! store of the acting user, the enrolment waiting for its first user, settings and
//! the sync state. Each method gets what it needs, calls one or two crate functions
//! and converts the result; the decisions (forms, answers, roles, workflow, sync)
//! are the crates'. Tests drive this directly.
//!
//! Files in the data folder, and why each may be readable without a password:
//! - `device.db`, `device.db.keys`: the SQLCipher store and its wrapped keys
//!   (tern-store). Everything about people and records is here, encrypted.
//! - `device.json`: server address, device id and site; no health data, no token.
//! - `users.json`: user names, display names and roles of local users, which the
//!   unlock screen lists before anyone has unlocked (names are in the key file anyway).
//! - `settings.json`: language, server address, lock timeout.

use crate::dto::*;
use crate::error::{ApiError, ApiResult, Code};
use chrono::{Local, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tern_store::{RecordList, Role, Store};

const DB: &str = "device.db";
const DEVICE: &str = "device.json";
const USERS: &str = "users.json";
const SETTINGS: &str = "settings.json";

/// A password kept in memory while its user is unlocked (the background sync opens
/// its own connection with it); overwritten when dropped.
struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// An enrolment code waiting for the first local user (the server binds the device
/// to that user's account). Kept in memory only.
struct Pending {
    server: String,
    code: String,
}

struct Active {
    store: Store,
    user: LocalUser,
    password: Secret,
    last_activity: Instant,
}

#[derive(Default)]
struct Inner {
    pending: Option<Pending>,
    session: Option<Active>,
}

/// What the device remembers outside the encrypted store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeviceFile {
    server_url: String,
    device_id: String,
    site_id: Option<String>,
}

/// The sync state the UI polls, and the wake-up of the sync thread.
#[derive(Debug)]
pub(crate) struct SyncShared {
    pub state: SyncState,
    /// A sync was asked for (sync_now, unlock).
    pub requested: bool,
    pub running: bool,
    pub stop: bool,
}

/// Credentials for the background sync's own connection.
pub(crate) struct SyncCredentials {
    pub db: PathBuf,
    pub user: String,
    password: Secret,
}

impl SyncCredentials {
    pub fn password(&self) -> &str {
        &self.password.0
    }
}

/// The app's state.
pub struct Core {
    dir: PathBuf,
    inner: Mutex<Inner>,
    pub(crate) sync: Mutex<SyncShared>,
    pub(crate) wake: Condvar,
    /// The supervisor's team hub while it runs (`team_hub.rs`).
    team_hub: Mutex<Option<crate::team_hub::Running>>,
    /// The bundle export or import running or last run (`bundles.rs`).
    bundle: Mutex<Option<BundleActivity>>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn storage(path: &Path, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(Code::Storage, format!("{}: {e}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> ApiResult<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| storage(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage(path, e)),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> ApiResult<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| storage(path, e))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| storage(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| storage(path, e))
}

fn remove(path: &Path) -> ApiResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(storage(path, e)),
    }
}

impl Core {
    /// The app state over a data folder (created, owner-only, when missing).
    pub fn new(dir: PathBuf) -> ApiResult<Core> {
        std::fs::create_dir_all(&dir).map_err(|e| storage(&dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        Ok(Core {
            dir,
            inner: Mutex::new(Inner::default()),
            sync: Mutex::new(SyncShared {
                state: SyncState {
                    phase: SyncPhase::Idle,
                    progress: None,
                    last_sync_at: None,
                    pending_records: 0,
                    unproven_users: Vec::new(),
                    last_error: None,
                },
                requested: false,
                running: false,
                stop: false,
            }),
            wake: Condvar::new(),
            team_hub: Mutex::new(None),
            bundle: Mutex::new(None),
        })
    }

    pub(crate) fn bundle_activity(&self) -> MutexGuard<'_, Option<BundleActivity>> {
        self.bundle.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn team_hub(&self) -> MutexGuard<'_, Option<crate::team_hub::Running>> {
        self.team_hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The role of the unlocked user (`locked` when no one is).
    pub(crate) fn session_role(&self) -> ApiResult<tern_store::Role> {
        self.with_store(|s| Ok(s.role()))
    }

    /// The server this device enrolled with.
    pub(crate) fn server_url(&self) -> ApiResult<Option<String>> {
        Ok(self.enrolled()?.map(|d| d.server_url))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn db(&self) -> PathBuf {
        self.path(DB)
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn sync_shared(&self) -> MutexGuard<'_, SyncShared> {
        self.sync.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enrolled(&self) -> ApiResult<Option<DeviceFile>> {
        if !self.db().exists() {
            return Ok(None);
        }
        read_json(&self.path(DEVICE))
    }

    // ---- device, users, session -----------------------------------------------------

    pub fn device_state(&self) -> ApiResult<DeviceState> {
        if let Some(d) = self.enrolled()? {
            return Ok(DeviceState {
                enrolled: true,
                server_url: Some(d.server_url),
                device_id: Some(d.device_id),
                site_name: d.site_id.clone(),
                site_id: d.site_id,
            });
        }
        let inner = self.inner();
        Ok(match &inner.pending {
            // The code is redeemed when the first user is created (see users_create).
            Some(p) => DeviceState {
                enrolled: true,
                server_url: Some(p.server.clone()),
                device_id: None,
                site_id: None,
                site_name: None,
            },
            None => DeviceState {
                enrolled: false,
                server_url: self.settings_get()?.server_url,
                device_id: None,
                site_id: None,
                site_name: None,
            },
        })
    }

    pub fn device_enrol(&self, server_url: &str, code: &str) -> ApiResult<DeviceState> {
        let server = server_url.trim().trim_end_matches('/');
        let ok_scheme = server.starts_with("https://") || server.starts_with("http://");
        if !ok_scheme || server.len() < 10 || server.contains(char::is_whitespace) {
            return Err(ApiError::invalid(
                "The server address must start with https:// (http:// only for a server on this computer).",
            ));
        }
        if code.trim().is_empty() {
            return Err(ApiError::invalid(
                "Type the enrolment code the admin gave you.",
            ));
        }
        if self.enrolled()?.is_some() {
            return Err(ApiError::new(
                Code::EnrolmentFailed,
                "This device is already enrolled.",
            ));
        }
        self.inner().pending = Some(Pending {
            server: server.to_string(),
            code: code.trim().to_string(),
        });
        self.device_state()
    }

    fn profiles(&self) -> ApiResult<Vec<LocalUser>> {
        Ok(read_json(&self.path(USERS))?.unwrap_or_default())
    }

    pub fn users_list(&self) -> ApiResult<Vec<LocalUser>> {
        let keyed = tern_store::local_users(&self.db())?;
        Ok(self
            .profiles()?
            .into_iter()
            .filter(|u| keyed.contains(&u.username))
            .collect())
    }

    pub fn users_create(&self, new: &NewUser) -> ApiResult<LocalUser> {
        let display_name = new.display_name.trim();
        if display_name.is_empty() {
            return Err(ApiError::invalid("A user needs a name."));
        }
        let username = new.username.trim();
        let mut inner = self.inner();
        let role = if self.db().exists() {
            match (inner.session.as_mut(), &new.confirmed_by) {
                (Some(active), _) => active
                    .store
                    .add_user(username, Role::Screener, &new.password)?,
                // Nobody unlocked: a local user confirms with their password, which
                // unwraps the data key for the new user's copy; nobody is unlocked after.
                (None, Some(by)) => {
                    let by = self
                        .users_list()?
                        .into_iter()
                        .find(|u| u.user_id == by.user_id)
                        .map(|u| (u.username, by.password.as_str()))
                        .ok_or_else(|| {
                            ApiError::new(Code::NotFound, "No such user on this device.")
                        })?;
                    let mut store = Store::open(&self.db(), Some(&by.0), by.1)?;
                    store.add_user(username, Role::Screener, &new.password)?
                }
                (None, None) => {
                    return Err(ApiError::new(
                        Code::Locked,
                        "A user of this device must confirm with their password before another user is added.",
                    ))
                }
            }
        } else {
            let pending = inner.pending.take().ok_or_else(|| {
                ApiError::new(Code::NotEnrolled, "Enrol the device with a server first.")
            })?;
            self.enrol_first_user(&pending, username, &new.password)?
        };
        let user = LocalUser {
            user_id: username.to_string(),
            username: username.to_string(),
            display_name: display_name.to_string(),
            role: role.name().to_string(),
        };
        let mut users = self.profiles()?;
        users.retain(|u| u.username != user.username);
        users.push(user.clone());
        write_json(&self.path(USERS), &users)?;
        Ok(user)
    }

    /// Creates the store with its first user and redeems the enrolment code for it.
    /// On any failure the new store is destroyed, so the device is as before.
    fn enrol_first_user(&self, p: &Pending, user: &str, password: &str) -> ApiResult<Role> {
        let mut store = Store::init(&self.db(), user, Role::Screener, password, "unassigned")?;
        // The password the user typed is their server account's: it proves the account.
        match tern_sync::enrol(&mut store, &p.server, &p.code, password) {
            Ok(enrolment) => {
                let device = DeviceFile {
                    server_url: enrolment.server.clone(),
                    device_id: store.device().to_string(),
                    site_id: enrolment.sites.first().cloned(),
                };
                write_json(&self.path(DEVICE), &device)?;
                let mut settings = self.settings_get()?;
                settings.server_url = Some(enrolment.server);
                write_json(&self.path(SETTINGS), &settings)?;
                Ok(store.role())
            }
            Err(e) => {
                let message = e.to_string();
                store.destroy()?;
                Err(ApiError::new(Code::EnrolmentFailed, message))
            }
        }
    }

    pub fn session_unlock(&self, user_id: &str, password: &str) -> ApiResult<Session> {
        let user = self
            .users_list()?
            .into_iter()
            .find(|u| u.user_id == user_id)
            .ok_or_else(|| ApiError::new(Code::NotFound, "No such user on this device."))?;
        let store = Store::open(&self.db(), Some(&user.username), password)?;
        let user = LocalUser {
            role: store.role().name().to_string(),
            ..user
        };
        let timeout = self.timeout()?;
        self.inner().session = Some(Active {
            store,
            user: user.clone(),
            password: Secret(password.to_string()),
            last_activity: Instant::now(),
        });
        self.request_sync();
        Ok(Session {
            user,
            expires_at: expiry(timeout),
        })
    }

    pub fn session_lock(&self) -> ApiResult<()> {
        self.inner().session = None;
        Ok(())
    }

    fn timeout(&self) -> ApiResult<Duration> {
        Ok(Duration::from_secs(
            u64::from(self.settings_get()?.lock_timeout_minutes) * 60,
        ))
    }

    /// Drops the session (and the key with it) once it has been idle too long.
    pub fn lock_if_idle(&self) -> ApiResult<bool> {
        let timeout = self.timeout()?;
        let mut inner = self.inner();
        let idle = inner
            .session
            .as_ref()
            .is_some_and(|a| a.last_activity.elapsed() > timeout);
        if idle {
            inner.session = None;
        }
        Ok(idle)
    }

    /// Runs `f` with the unlocked store; `locked` when nobody is unlocked or the
    /// session was idle longer than the lock timeout.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> ApiResult<T>) -> ApiResult<T> {
        self.lock_if_idle()?;
        let mut inner = self.inner();
        let active = inner.session.as_mut().ok_or_else(ApiError::locked)?;
        active.last_activity = Instant::now();
        f(&mut active.store)
    }

    // ---- subjects ---------------------------------------------------------------------

    fn subject(store: &mut Store, id: &str) -> ApiResult<SubjectSummary> {
        Ok(subject_summary(&store.show_subject(id)?))
    }

    pub fn subjects_search(&self, query: &str) -> ApiResult<Vec<SubjectSummary>> {
        self.with_store(|s| {
            s.quick_search(query, 50)?
                .iter()
                .map(|id| Core::subject(s, id))
                .collect()
        })
    }

    pub fn subjects_register(
        &self,
        subject: &NewSubject,
        confirm_duplicate: bool,
    ) -> ApiResult<RegisterResult> {
        if subject.family_name.trim().is_empty() || subject.given_name.trim().is_empty() {
            return Err(ApiError::invalid("Family name and given name are needed."));
        }
        self.with_store(|s| {
            if !confirm_duplicate {
                let hits = s.likely_duplicates(
                    &subject.family_name,
                    &subject.given_name,
                    &subject.date_of_birth,
                )?;
                if !hits.is_empty() {
                    let candidates = hits
                        .iter()
                        .map(|h| Core::subject(s, &h.subject_id))
                        .collect::<ApiResult<_>>()?;
                    return Ok(RegisterResult::PossibleDuplicates { candidates });
                }
            }
            let id = s.add_subject(&subject.values())?;
            Ok(RegisterResult::Registered {
                subject: Core::subject(s, &id)?,
            })
        })
    }

    pub fn subjects_get(&self, subject_id: &str) -> ApiResult<SubjectSummary> {
        self.with_store(|s| Core::subject(s, subject_id))
    }

    // ---- forms --------------------------------------------------------------------------

    pub fn forms_list(&self, lang: &str) -> ApiResult<Vec<FormSummary>> {
        self.with_store(|s| {
            Ok(s.newest_forms()?
                .iter()
                .map(|f| {
                    let view = f.view(lang);
                    FormSummary {
                        form_id: view.form_id,
                        version: view.version,
                        title: view.title,
                        languages: view.languages,
                    }
                })
                .collect())
        })
    }

    pub fn forms_view(&self, form_id: &str, version: &str, lang: &str) -> ApiResult<J> {
        self.with_store(|s| {
            let view = s.form_view(form_id, version, lang)?;
            serde_json::to_value(view).map_err(|e| ApiError::new(Code::Internal, e.to_string()))
        })
    }

    // ---- records ------------------------------------------------------------------------

    pub fn records_list(&self, filter: &RecordFilter) -> ApiResult<Vec<RecordSummary>> {
        let list = match filter {
            RecordFilter::Today => RecordList::Today,
            RecordFilter::Drafts => RecordList::Drafts,
            RecordFilter::NeedsCorrection => RecordList::NeedsCorrection,
            RecordFilter::Subject { subject_id } => RecordList::Subject(subject_id.clone()),
        };
        let now = Local::now();
        self.with_store(|s| {
            s.record_list(&list, now.date_naive(), *now.offset())?
                .iter()
                .map(|r| Ok(s.record_info(&r.record_id)?.into()))
                .collect()
        })
    }

    pub fn records_new(&self, form_id: &str, subject_id: &str) -> ApiResult<RecordSummary> {
        self.with_store(|s| {
            let id = s.new_record(form_id, subject_id)?;
            Ok(s.record_info(&id)?.into())
        })
    }

    pub fn records_get(&self, record_id: &str) -> ApiResult<RecordDetail> {
        self.with_store(|s| {
            let view = s.show(record_id)?;
            let answers: Map<String, J> = s.record_values(record_id)?;
            Ok(RecordDetail {
                summary: s.record_info(record_id)?.into(),
                answers,
                conflicts: view.conflicts.into_iter().map(Into::into).collect(),
                confirmed_warnings: view.confirmed.keys().cloned().collect(),
                withheld_sections: s.withheld_sections(record_id)?,
                read_only_fields: view.read_only_fields,
            })
        })
    }

    pub fn records_evaluate(&self, record_id: &str, lang: &str) -> ApiResult<J> {
        self.with_store(|s| evaluation(s, record_id, lang))
    }

    /// Sets one answer; returns once it is durable, with the new evaluation.
    pub fn records_set_answer(
        &self,
        record_id: &str,
        path: &str,
        value: &J,
        lang: &str,
        reason: Option<&str>,
    ) -> ApiResult<J> {
        self.with_store(|s| {
            s.set_answer_json(record_id, path, value, reason_of(reason))?;
            evaluation(s, record_id, lang)
        })
    }

    pub fn records_add_repeat(
        &self,
        record_id: &str,
        group: &str,
        lang: &str,
        reason: Option<&str>,
    ) -> ApiResult<J> {
        self.with_store(|s| {
            s.add_repeat(record_id, group, reason_of(reason))?;
            evaluation(s, record_id, lang)
        })
    }

    pub fn records_remove_repeat(
        &self,
        record_id: &str,
        group: &str,
        index: usize,
        lang: &str,
        reason: Option<&str>,
    ) -> ApiResult<J> {
        self.with_store(|s| {
            s.remove_repeat(record_id, group, index, reason_of(reason))?;
            evaluation(s, record_id, lang)
        })
    }

    pub fn records_confirm_warning(
        &self,
        record_id: &str,
        rule: &str,
        field: &str,
        lang: &str,
    ) -> ApiResult<J> {
        self.with_store(|s| {
            s.confirm(
                record_id,
                &format!("{rule}@{field}"),
                "confirmed in the field app",
            )?;
            evaluation(s, record_id, lang)
        })
    }

    pub fn records_set_status(
        &self,
        record_id: &str,
        status: &str,
        comment: Option<&str>,
    ) -> ApiResult<RecordSummary> {
        self.with_store(|s| {
            s.set_status(record_id, status, comment)?;
            Ok(s.record_info(record_id)?.into())
        })
    }

    pub fn records_field_history(
        &self,
        record_id: &str,
        path: &str,
    ) -> ApiResult<Vec<HistoryEntry>> {
        self.with_store(|s| {
            Ok(s.history(record_id, Some(path))?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    }

    pub fn records_resolve_conflict(
        &self,
        record_id: &str,
        path: &str,
        value: &J,
        lang: &str,
    ) -> ApiResult<J> {
        self.with_store(|s| {
            s.resolve(record_id, path, &value_as_text(value))?;
            evaluation(s, record_id, lang)
        })
    }

    // ---- alerts ---------------------------------------------------------------------------

    /// The open alerts and tasks the forms' rules raised, for a user the store shows
    /// them to; `None` for others (the UI shows no alert panel).
    pub fn alerts_list(&self) -> ApiResult<Option<Vec<tern_store::AlertRow>>> {
        self.with_store(|s| {
            if s.may_see_alerts() {
                Ok(Some(s.alerts(true)?))
            } else {
                Ok(None)
            }
        })
    }

    // ---- sync -----------------------------------------------------------------------------

    pub fn sync_state(&self) -> ApiResult<SyncState> {
        let pending = {
            let mut inner = self.inner();
            match inner.session.as_mut() {
                Some(a) => Some(a.store.unsynced_records()?.len()),
                None => None,
            }
        };
        let mut shared = self.sync_shared();
        if let Some(n) = pending {
            shared.state.pending_records = n;
        }
        Ok(shared.state.clone())
    }

    pub fn sync_now(&self) -> ApiResult<SyncState> {
        if self.enrolled()?.is_none() {
            return Err(ApiError::new(
                Code::NotEnrolled,
                "This device is not enrolled.",
            ));
        }
        self.with_store(|_| Ok(()))?;
        {
            let mut shared = self.sync_shared();
            if !shared.running {
                shared.state.phase = SyncPhase::Connecting;
                shared.state.progress = None;
                shared.state.last_error = None;
            }
        }
        self.request_sync();
        self.sync_state()
    }

    pub(crate) fn request_sync(&self) {
        self.sync_shared().requested = true;
        self.wake.notify_all();
    }

    /// After the sync thread proved the unlocked user's account: the session's store
    /// re-reads the user's role and proof.
    pub(crate) fn refresh_session_user(&self) -> ApiResult<()> {
        let mut inner = self.inner();
        if let Some(active) = inner.session.as_mut() {
            active.store.refresh_user()?;
            active.user.role = active.store.role().name().to_string();
        }
        Ok(())
    }

    /// What the sync thread needs to open its own connection, when a user is
    /// unlocked on an enrolled device.
    pub(crate) fn sync_credentials(&self) -> ApiResult<Option<SyncCredentials>> {
        if self.enrolled()?.is_none() {
            return Ok(None);
        }
        let inner = self.inner();
        Ok(inner.session.as_ref().map(|a| SyncCredentials {
            db: self.db(),
            user: a.user.username.clone(),
            password: Secret(a.password.0.clone()),
        }))
    }

    /// After the server revoked the device (tern-sync already destroyed the store and
    /// its keys): forget the session, the enrolment and the local users.
    pub(crate) fn wiped(&self) -> ApiResult<()> {
        let mut inner = self.inner();
        inner.session = None;
        inner.pending = None;
        for name in [DEVICE, USERS] {
            remove(&self.path(name))?;
        }
        let db = self.db();
        remove(&tern_store::key_path(&db))?;
        remove(&db)
    }

    // ---- settings ---------------------------------------------------------------------------

    pub fn settings_get(&self) -> ApiResult<Settings> {
        Ok(read_json(&self.path(SETTINGS))?.unwrap_or_default())
    }

    pub fn settings_save(&self, settings: &Settings) -> ApiResult<Settings> {
        if !(1..=120).contains(&settings.lock_timeout_minutes) {
            return Err(ApiError::invalid("The lock timeout is 1 to 120 minutes."));
        }
        if settings.language.trim().is_empty() || settings.language.len() > 35 {
            return Err(ApiError::invalid("Choose a language."));
        }
        write_json(&self.path(SETTINGS), settings)?;
        Ok(settings.clone())
    }
}

fn expiry(timeout: Duration) -> String {
    let at = Utc::now() + chrono::Duration::seconds(timeout.as_secs() as i64);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An amendment reason as typed: blank is no reason.
fn reason_of(reason: Option<&str>) -> Option<&str> {
    reason.map(str::trim).filter(|r| !r.is_empty())
}

fn evaluation(s: &mut Store, record_id: &str, lang: &str) -> ApiResult<J> {
    let ev = s.evaluate_record(record_id, lang)?;
    serde_json::to_value(ev).map_err(|e| ApiError::new(Code::Internal, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A data folder with a store and one local user, as enrolment leaves it (the
    /// server part is covered by the end-to-end tests).
    fn core_with_user() -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().expect("tmp");
        let core = Core::new(dir.path().to_path_buf()).expect("core");
        Store::init(&core.db(), "amina", Role::Screener, "pass-word", "site-a").expect("init");
        let user = LocalUser {
            user_id: "amina".into(),
            username: "amina".into(),
            display_name: "Amina".into(),
            role: "screener".into(),
        };
        write_json(&core.path(USERS), &vec![user]).expect("users");
        (dir, core)
    }

    fn subject() -> NewSubject {
        NewSubject {
            family_name: "Yusuf".into(),
            given_name: "Halima".into(),
            sex: "female".into(),
            date_of_birth: "1996-01-15".into(),
            dob_precision: "exact".into(),
            nationality: vec!["SO".into()],
            case_ref: Some("KE-2026-0041".into()),
        }
    }

    /// Registers `subject()` (no likely duplicate yet) and returns it.
    fn registered(core: &Core) -> crate::dto::SubjectSummary {
        match core.subjects_register(&subject(), false).expect("register") {
            RegisterResult::Registered { subject } => subject,
            _ => panic!("registered expected"),
        }
    }

    #[test]
    fn a_fresh_device_is_not_enrolled_and_enrolment_waits_for_the_first_user() {
        let dir = tempfile::tempdir().expect("tmp");
        let core = Core::new(dir.path().join("data")).expect("core");
        assert!(!core.device_state().expect("state").enrolled);
        assert_eq!(
            core.device_enrol("ftp://x", "ABCD-1234")
                .err()
                .map(|e| e.code),
            Some(Code::InvalidInput)
        );
        let state = core
            .device_enrol("http://127.0.0.1:9/", "ABCD-1234")
            .expect("staged");
        assert!(state.enrolled);
        assert_eq!(state.server_url.as_deref(), Some("http://127.0.0.1:9"));
        // Nothing listens on port 9: the code cannot be redeemed, and the device is
        // left as it was.
        let e = core
            .users_create(&NewUser {
                username: "amina".into(),
                display_name: "Amina".into(),
                password: "pass-word".into(),
                confirmed_by: None,
            })
            .expect_err("no server");
        assert_eq!(e.code, Code::EnrolmentFailed);
        assert!(!core.db().exists());
        assert!(!core.device_state().expect("state").enrolled);
        assert!(core.users_list().expect("users").is_empty());
    }

    #[test]
    fn everything_needs_an_unlocked_user_and_wrong_passwords_are_refused() {
        let (_d, core) = core_with_user();
        assert_eq!(
            core.subjects_search("x").err().map(|e| e.code),
            Some(Code::Locked)
        );
        assert_eq!(
            core.session_unlock("amina", "nope").err().map(|e| e.code),
            Some(Code::WrongPassword)
        );
        assert_eq!(
            core.session_unlock("karim", "pass-word")
                .err()
                .map(|e| e.code),
            Some(Code::NotFound)
        );
        let session = core.session_unlock("amina", "pass-word").expect("unlock");
        assert_eq!(session.user.role, "screener");
        core.session_lock().expect("lock");
        assert_eq!(
            core.forms_list("en").err().map(|e| e.code),
            Some(Code::Locked)
        );
    }

    #[test]
    fn register_fill_and_read_back_a_record() {
        let (_d, core) = core_with_user();
        core.session_unlock("amina", "pass-word").expect("unlock");
        let s = registered(&core);
        assert_eq!(s.family_name, "Yusuf");
        assert_eq!(s.nationality, vec!["SO".to_string()]);
        // The same person again: a likely duplicate, unless confirmed.
        match core.subjects_register(&subject(), false).expect("again") {
            RegisterResult::PossibleDuplicates { candidates } => {
                assert_eq!(candidates[0].subject_id, s.subject_id)
            }
            other => panic!("duplicate expected, got {other:?}"),
        }
        assert_eq!(core.subjects_search("yusuf").expect("search").len(), 1);
        assert_eq!(core.subjects_search("1996-01-15").expect("dob").len(), 1);
        assert_eq!(core.subjects_search(&s.subject_id).expect("id").len(), 1);

        let forms = core.forms_list("ar").expect("forms");
        let pda = forms.iter().find(|f| f.form_id == "pda").expect("pda");
        let view = core.forms_view("pda", &pda.version, "ar").expect("view");
        assert_eq!(view["direction"], "rtl");

        let r = core.records_new("pda", &s.subject_id).expect("new");
        assert_eq!(r.subject_label, "Halima Y.");
        assert_eq!(r.status, "draft");
        let ev = core.records_evaluate(&r.record_id, "en").expect("eval");
        assert_eq!(ev["complete"], false);

        // Eastern Arabic digits typed into a number field arrive as text and are
        // stored as a number.
        let field = view["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["fields"].as_array().cloned().unwrap_or_default())
            .find(|f| f["kind"] == "decimal" && f["source"] == "answer")
            .expect("a decimal field");
        let id = field["id"].as_str().expect("id").to_string();
        core.records_set_answer(&r.record_id, &id, &json!("٣٦٫٥"), "en", None)
            .expect("answer");
        let detail = core.records_get(&r.record_id).expect("detail");
        assert_eq!(detail.answers[&id], json!(36.5));
        assert_eq!(detail.answers["family_name"], json!("Yusuf"));
        let history = core
            .records_field_history(&r.record_id, &id)
            .expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].user, "amina");

        // Answers survive a new session.
        core.session_lock().expect("lock");
        core.session_unlock("amina", "pass-word").expect("unlock");
        let detail = core.records_get(&r.record_id).expect("detail");
        assert_eq!(detail.answers[&id], json!(36.5));
        let drafts = core.records_list(&RecordFilter::Drafts).expect("drafts");
        assert_eq!(drafts.len(), 1);
        assert_eq!(
            core.records_list(&RecordFilter::Today)
                .expect("today")
                .len(),
            1
        );
        assert!(core
            .records_list(&RecordFilter::NeedsCorrection)
            .expect("corrections")
            .is_empty());
        // Submitting an incomplete record is refused with a reason.
        let e = core
            .records_set_status(&r.record_id, "submitted", None)
            .expect_err("incomplete");
        assert_eq!(e.code, Code::InvalidInput);
        assert_eq!(
            core.records_set_answer(&r.record_id, "no_such_field", &json!("x"), "en", None)
                .err()
                .map(|e| e.code),
            Some(Code::InvalidInput)
        );
    }

    #[test]
    fn a_second_user_is_added_on_the_unlock_screen_with_a_local_users_password() {
        let (_d, core) = core_with_user();
        let karim = |confirmed_by: Option<Confirmation>| NewUser {
            username: "karim".into(),
            display_name: "Karim".into(),
            password: "karim-pass".into(),
            confirmed_by,
        };
        let by = |password: &str| {
            Some(Confirmation {
                user_id: "amina".into(),
                password: password.into(),
            })
        };
        assert_eq!(
            core.users_create(&karim(None)).err().map(|e| e.code),
            Some(Code::Locked)
        );
        assert_eq!(
            core.users_create(&karim(by("nope"))).err().map(|e| e.code),
            Some(Code::WrongPassword)
        );
        assert!(core.users_list().expect("users").len() == 1);
        let user = core.users_create(&karim(by("pass-word"))).expect("added");
        assert_eq!(user.role, "screener");
        assert_eq!(core.users_list().expect("users").len(), 2);
        // Confirming unlocked nobody.
        assert_eq!(
            core.subjects_search("x").err().map(|e| e.code),
            Some(Code::Locked)
        );
        let session = core
            .session_unlock(&user.user_id, "karim-pass")
            .expect("the new user unlocks");
        assert_eq!(session.user.username, "karim");
        assert_eq!(
            core.users_create(&karim(None)).err().map(|e| e.code),
            Some(Code::UserExists)
        );
    }

    #[test]
    fn a_user_who_is_no_account_of_the_site_is_refused_with_what_to_do() {
        let (_d, core) = core_with_user();
        // As enrolment leaves the store: the site's accounts came with it.
        Store::open(&core.db(), Some("amina"), "pass-word")
            .expect("open")
            .set_enrolment_with_accounts(
                &tern_store::Enrolment {
                    server: "http://127.0.0.1:1".into(),
                    token: "t".into(),
                    account: "amina".into(),
                    role: "screener".into(),
                    sites: vec!["site-a".into()],
                },
                Some((
                    7,
                    &[
                        ("amina".to_string(), "screener".to_string()),
                        ("lena".to_string(), "clinician".to_string()),
                    ],
                )),
            )
            .expect("enrolled");
        core.session_unlock("amina", "pass-word").expect("unlock");
        let new = |name: &str| NewUser {
            username: name.into(),
            display_name: name.into(),
            password: "other-pass".into(),
            confirmed_by: None,
        };
        let err = core.users_create(&new("nobody")).expect_err("no account");
        assert_eq!(err.code, Code::InvalidInput);
        assert!(
            err.message
                .contains("`nobody` is not a server account of site `site-a`")
                && err.message.contains("ask an administrator"),
            "{}",
            err.message
        );
        assert_eq!(core.users_list().expect("users").len(), 1);
        let lena = core.users_create(&new("lena")).expect("an account");
        assert_eq!(lena.role, "clinician", "the server role");
    }

    #[test]
    fn a_screener_is_told_what_is_withheld_and_a_draft_needs_no_reason() {
        let (_d, core) = core_with_user();
        core.session_unlock("amina", "pass-word").expect("unlock");
        let s = registered(&core);
        let r = core.records_new("pda", &s.subject_id).expect("new");
        let detail = core.records_get(&r.record_id).expect("detail");
        assert!(detail
            .withheld_sections
            .contains(&"mental_health".to_string()));
        // The clinician's fields (FORMS.md 2.2) are read-only for a screener, and
        // refused with the store's `forbidden` if sent anyway.
        assert!(detail.read_only_fields.contains(&"outcome".to_string()));
        assert!(!detail.read_only_fields.contains(&"temp_c".to_string()));
        assert_eq!(
            core.records_set_answer(&r.record_id, "outcome", &json!("not_fit"), "en", None)
                .err()
                .map(|e| e.code),
            Some(Code::Forbidden)
        );
        assert!(!detail.summary.amendment);
        let ev = core.records_evaluate(&r.record_id, "en").expect("eval");
        let relevant: Vec<&str> = ev["relevant"]
            .as_array()
            .expect("relevant")
            .iter()
            .filter_map(J::as_str)
            .collect();
        assert!(!relevant.contains(&"rhs_administered"));
        assert!(relevant.contains(&"temp_c"));
        // A blank reason is no reason; a draft needs none.
        core.records_set_answer(&r.record_id, "temp_c", &json!(36.6), "en", Some("  "))
            .expect("draft");
        let h = core
            .records_field_history(&r.record_id, "temp_c")
            .expect("history");
        assert_eq!(h[0].reason, None);
    }

    #[test]
    fn settings_are_validated_and_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let core = Core::new(dir.path().to_path_buf()).expect("core");
        assert_eq!(core.settings_get().expect("get"), Settings::default());
        let mut s = Settings {
            lock_timeout_minutes: 0,
            ..Settings::default()
        };
        assert!(core.settings_save(&s).is_err());
        s.lock_timeout_minutes = 10;
        s.language = "ar".into();
        core.settings_save(&s).expect("save");
        let again = Core::new(dir.path().to_path_buf()).expect("core");
        assert_eq!(again.settings_get().expect("get"), s);
    }
}
