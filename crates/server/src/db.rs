//! The server's storage, behind one small trait with two backends: embedded SQLite
//! ([`crate::sqlite::SqliteDb`]) and PostgreSQL ([`crate::postgres::PgDb`]).
//!
//! The trait speaks in operations, not SQL, so each backend can make each operation
//! one transaction. Contracts every backend keeps:
//! - `store_changes` is idempotent by change hash, assigns sequence numbers that
//!   increase in commit order (a reader that saw sequence n has seen every committed
//!   sequence below n), and returns only after the commit is durable.
//! - `pull` reads from one snapshot: the cursor it returns covers exactly what that
//!   snapshot held.
//! - No backend keeps state between calls that another replica would need; the
//!   SQLite backend's only state is its connection.

use std::future::Future;
use std::path::PathBuf;

/// Errors of the storage layer. Messages never carry health data.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", pg_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL pool: {0}")]
    Pool(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0}")]
    NotFound(String),
    /// A database this server cannot open as it is (its key, its schema, its URL).
    #[error(transparent)]
    Open(#[from] OpenRefusal),
    /// An enrolment code that does not enrol this account now.
    #[error(transparent)]
    Code(#[from] crate::enrolment::CodeRefusal),
    /// A redeem the code allowed but the rest of the enrolment rules refuse.
    #[error(transparent)]
    Redeem(#[from] crate::enrolment::RedeemRefusal),
    /// A hub's claim to a device it may not take.
    #[error(transparent)]
    HubLink(#[from] crate::enrolment::HubLinkRefusal),
    #[error("storage task failed: {0}")]
    Task(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a database cannot be opened, each with what to do. They stop `tern serve` at
/// start; no request meets them.
#[derive(Debug, thiserror::Error)]
pub enum OpenRefusal {
    #[error("a database key is 64 hex digits")]
    KeyShape,
    #[error(
        "{} cannot be read with key file {} ({reason}): is it the key file of this database?",
        .db.display(),
        .key_file.display()
    )]
    WrongKey {
        db: PathBuf,
        key_file: PathBuf,
        reason: String,
    },
    #[error("{} is not a tern server key file (64 hex digits)", .0.display())]
    NotAKeyFile(PathBuf),
    #[error(
        "{} is encrypted but its key file {} is missing: restore the key file (or set \
         TERN_SERVER_KEY_FILE)",
        .db.display(),
        .key_file.display()
    )]
    MissingKeyFile { db: PathBuf, key_file: PathBuf },
    #[error("no randomness for a key: {0}")]
    NoRandomness(String),
    #[error(
        "the key file {} may be read by others (mode {mode:o}): make it private with \
         `chmod 600 {}`, and consider the key exposed if others could log in here",
        .file.display(),
        .file.display()
    )]
    SharedKeyFile { file: PathBuf, mode: u32 },
    /// The PostgreSQL URL's TLS settings (`crate::pg_tls`).
    #[error("{0}")]
    PostgresTls(String),
    #[error(transparent)]
    Schema(#[from] crate::migrate::MigrateError),
}

impl From<crate::migrate::MigrateError> for DbError {
    fn from(e: crate::migrate::MigrateError) -> DbError {
        DbError::Open(e.into())
    }
}

/// tokio-postgres prints only "db error"; the server's message says what failed.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A server account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub sites: Vec<String>,
}

/// An account as an administrator lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountInfo {
    pub name: String,
    pub role: String,
    pub sites: Vec<String>,
}

/// An enrolled device as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub site: String,
    pub account: String,
    pub role: String,
    pub revoked: bool,
}

/// A row of `tern admin device list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub site: String,
    pub user: String,
    pub last_sync: Option<String>,
    pub revoked: bool,
    /// The supervisor hub the device enrolled with, when not this server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_hub: Option<String>,
}

/// A one-time enrolment to redeem.
#[derive(Debug, Clone)]
pub struct Redeem {
    pub code_hash: String,
    pub device_id: String,
    pub token_hash: String,
    /// The account that proved itself with its own password; bound to the device.
    pub account: String,
    /// Every local user of the device (empty from older clients: not checked). Each
    /// must be an account working at the code's site, or nothing is stored.
    pub users: Vec<String>,
    pub now_ms: i64,
}

/// What a redeemed code gave.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub account: String,
    pub role: String,
    pub site: String,
}

/// One document's changes to store: `(hash, bytes)` each.
#[derive(Debug, Clone)]
pub struct NewDoc {
    pub doc_id: String,
    pub kind: String,
    pub site: String,
    pub changes: Vec<([u8; 32], Vec<u8>)>,
}

/// What a device may pull.
#[derive(Debug, Clone)]
pub struct Scope {
    pub sites: Vec<String>,
    pub restricted: bool,
    /// Changes this device pushed itself are not sent back to it.
    pub exclude_origin: String,
}

/// One stored item of the log (an Automerge chunk: a change or a whole document;
/// or a form / config table).
#[derive(Debug, Clone)]
pub struct LogItem {
    pub seq: i64,
    pub doc_id: String,
    pub kind: String,
    pub site: String,
    pub bytes: Vec<u8>,
    /// The document's summary (JSON of `tern_record::DocSummary`) when everything the
    /// server holds of it is verified.
    pub summary: Option<String>,
}

/// The head a pull may serve up to: the log's head, but never a chunk not yet
/// verified. `first_unverified` is the first chunk of the puller's scope (its sites,
/// other devices' pushes) past what the verifier judged, found per waiting document
/// through the `docs_pending` partial index and `log(doc_id, seq)`. Everything
/// before it is verified (or quarantined), so a forged change is never pulled in the
/// moment between its acknowledgement and its verification.
pub(crate) fn verified_head(stored: i64, first_unverified: Option<i64>) -> i64 {
    first_unverified.map_or(stored, |first| (first - 1).min(stored))
}

/// How a pull page is cut, for both backends. Rows come in sequence order; each is
/// taken while the page stays within `max_bytes` (the first always, so a chunk larger
/// than a page travels alone); the first that does not fit cuts the page, and none
/// after it is taken. A page is cut too when the rows found reached the most a pull
/// considers (`limit`): the device asks again from the page's cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageCut {
    max_bytes: usize,
    size: usize,
    taken: usize,
    more: bool,
}

impl PageCut {
    /// A page of at most `max_bytes`, over `found` rows read with `LIMIT limit`.
    pub(crate) fn new(max_bytes: usize, found: usize, limit: i64) -> PageCut {
        PageCut {
            max_bytes,
            size: 0,
            taken: 0,
            more: i64::try_from(found).map_or(true, |n| n >= limit),
        }
    }

    /// Whether the next row, of `len` bytes, joins the page. Once one does not, the
    /// page is cut: stop there.
    pub(crate) fn take(&mut self, len: usize) -> bool {
        if self.taken > 0 && self.size.saturating_add(len) > self.max_bytes {
            self.more = true;
            return false;
        }
        self.size += len;
        self.taken += 1;
        true
    }

    /// Whether more rows wait past this page.
    pub(crate) fn more(&self) -> bool {
        self.more
    }

    /// The cursor the page returns: its last row's sequence when cut (`asked` for
    /// an empty page), else the verified head (never behind the cursor asked from).
    pub(crate) fn cursor(&self, asked: i64, last_taken: Option<i64>, head: i64) -> i64 {
        if self.more {
            last_taken.unwrap_or(asked)
        } else {
            head.max(asked)
        }
    }
}

/// A pull page.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub items: Vec<LogItem>,
    pub cursor: i64,
    pub more: bool,
    /// The newest sequence the device may have when the page was read (for its
    /// progress bar): the log's head, or just before the first chunk for it that is
    /// not verified yet.
    pub head: i64,
    /// Chunks for this device past `head` wait for the verifier.
    pub waiting: bool,
}

/// A document waiting for verification.
#[derive(Debug, Clone)]
pub struct Unverified {
    pub doc_id: String,
    pub kind: String,
    pub site: String,
    /// Everything up to this sequence is verified.
    pub verified: i64,
    pub upto: i64,
}

/// How far the server is: what it holds and what still waits for verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Backlog {
    /// The last sequence number given to a stored item.
    pub head: i64,
    pub documents: i64,
    pub records: i64,
    /// Documents with chunks not yet verified and projected.
    pub unverified: i64,
    /// Documents with quarantined chunks.
    pub quarantined: i64,
}

/// A document that passed verification.
#[derive(Debug, Clone)]
pub struct Verified {
    pub doc_id: String,
    pub upto: i64,
    pub record: Option<RecordRow>,
    /// JSON of `tern_record::DocSummary`, sent to devices with the whole document.
    pub summary: Option<String>,
    /// The record's answers and verdict (`record_facts`), written with `record`.
    pub facts: Option<crate::facts::FactsRow>,
}

/// Which projection rows a report reads: the caller's sites (`None`: all), encounter
/// days `from..=until` (`YYYY-MM-DD`), one site, one form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsFilter {
    pub sites: Option<Vec<String>>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub site: Option<String>,
    pub form: Option<String>,
}

impl FactsFilter {
    /// Whether a row passes (the backends filter in SQL; this is the same rule).
    pub fn admits(&self, site: &str, form: &str, day: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == site))
            && self.site.as_deref().is_none_or(|s| s == site)
            && self.form.as_deref().is_none_or(|f| f == form)
            && self.from.as_deref().is_none_or(|f| day >= f)
            && self.until.as_deref().is_none_or(|u| day <= u)
    }
}

/// The projection row of a record on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordRow {
    pub record_id: String,
    pub site: String,
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub status: String,
    pub conflict: bool,
    /// When the record was started (RFC 3339, from the document): the day reports
    /// count it on. Empty for a record projected before this was kept.
    pub created: String,
}

impl RecordRow {
    /// The row of record `id` from its document summary (`None`: not a record's).
    pub fn from_summary(id: &str, summary: &tern_record::DocSummary) -> Option<RecordRow> {
        match summary {
            tern_record::DocSummary::Record {
                form_id,
                form_version,
                subject_id,
                site,
                status,
                conflict,
                created,
            } => Some(RecordRow {
                record_id: id.to_string(),
                site: site.clone(),
                form_id: form_id.clone(),
                form_version: form_version.clone(),
                subject_id: subject_id.clone(),
                status: status.clone(),
                conflict: *conflict,
                created: created.clone(),
            }),
            _ => None,
        }
    }
}

/// One access-log entry: who did what to which object, never a health value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub device: String,
    pub site: String,
    pub action: String,
    pub object: String,
}

/// A device's escrowed restricted key pair (crate::escrow), as stored: hex, checked
/// before it is stored.
#[derive(Clone)]
pub struct EscrowedKey {
    pub device: String,
    pub public: String,
    pub secret: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for EscrowedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscrowedKey")
            .field("device", &self.device)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The storage operations of the server.
pub trait Db: Send + Sync + 'static {
    /// A trivial query: is the database reachable?
    fn ping(&self) -> impl Future<Output = DbResult<()>> + Send;

    fn add_site(&self, name: &str) -> impl Future<Output = DbResult<()>> + Send;
    fn site_exists(&self, name: &str) -> impl Future<Output = DbResult<bool>> + Send;
    fn add_account(&self, account: &Account) -> impl Future<Output = DbResult<()>> + Send;
    fn account(&self, name: &str) -> impl Future<Output = DbResult<Option<Account>>> + Send;
    /// Gives an account another role (when `role` is given) and more sites, in one
    /// transaction; refuses an unknown account or site.
    fn change_account(
        &self,
        name: &str,
        role: Option<&str>,
        add_sites: &[String],
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// Every account with its role and sites, by name (never a password hash).
    fn accounts(&self) -> impl Future<Output = DbResult<Vec<AccountInfo>>> + Send;
    /// Replaces an account's password hash (a hub's supervisor's local password).
    fn set_password_hash(
        &self,
        name: &str,
        hash: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn add_enrolment(
        &self,
        code_hash: &str,
        site: &str,
        account: Option<&str>,
        expires_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The enrolment code with this hash, if any (used or not).
    fn enrolment(
        &self,
        code_hash: &str,
    ) -> impl Future<Output = DbResult<Option<crate::enrolment::EnrolmentCode>>> + Send;
    /// Redeems a code for `r.account` in one transaction, re-checking the code with
    /// [`crate::enrolment::enrolling_account`]: the device is stored with its token and
    /// the account bound to it (the first account it may author for), and the code
    /// marked used. Refuses an unknown, used or expired code, local users
    /// (`Redeem::users`) who are not accounts of the code's site, an account that lacks
    /// the site, and a device id already enrolled ([`crate::enrolment::redeem_check`],
    /// [`crate::enrolment::RedeemRefusal`]); a refusal leaves the code unused.
    fn redeem(&self, r: &Redeem) -> impl Future<Output = DbResult<Redeemed>> + Send;
    /// Records that `account` proved itself on `device` (idempotent).
    fn bind_account(
        &self,
        device: &str,
        account: &str,
        at_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The accounts that proved themselves on `device`: the only authors whose changes
    /// it may push.
    fn bound_accounts(&self, device: &str) -> impl Future<Output = DbResult<Vec<String>>> + Send;
    fn device_by_token(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = DbResult<Option<Device>>> + Send;
    /// Known devices among `ids` (actors of pushed changes).
    fn devices_by_id(&self, ids: &[String]) -> impl Future<Output = DbResult<Vec<Device>>> + Send;
    /// Marks the device revoked and forgets its escrowed restricted key.
    fn revoke(&self, id: &str) -> impl Future<Output = DbResult<bool>> + Send;
    /// Keeps `key` unless its device escrowed a key before (one statement, so
    /// concurrent escrows of one device keep exactly one); returns the public key kept
    /// for the device, which the caller compares with the one sent
    /// (`crate::escrow::judge`).
    fn escrow_restricted_key(
        &self,
        key: &EscrowedKey,
        at_ms: i64,
    ) -> impl Future<Output = DbResult<String>> + Send;
    /// The restricted key `device` escrowed, if any.
    fn escrowed_restricted_key(
        &self,
        device: &str,
    ) -> impl Future<Output = DbResult<Option<EscrowedKey>>> + Send;
    fn devices(&self) -> impl Future<Output = DbResult<Vec<DeviceRow>>> + Send;
    /// Records a device that enrolled with supervisor hub `hub` (it has no token
    /// here: it reaches this server only through the hub). Idempotent; a revoked
    /// device stays revoked.
    fn register_hub_device(
        &self,
        hub: &str,
        device: &str,
        site: &str,
        account: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The devices registered through hub `hub`: `(id, revoked)`.
    fn hub_devices(&self, hub: &str) -> impl Future<Output = DbResult<Vec<(String, bool)>>> + Send;
    /// Record, subject and restricted chunks after `seq` whose origin is not `origin`
    /// (what a hub has not yet pushed upstream).
    fn chunks_after(&self, seq: i64, origin: &str) -> impl Future<Output = DbResult<i64>> + Send;
    /// A value of this server's own settings (a hub keeps its upstream state here,
    /// inside the encrypted database).
    fn setting(&self, key: &str) -> impl Future<Output = DbResult<Option<String>>> + Send;
    fn set_setting(&self, key: &str, value: &str) -> impl Future<Output = DbResult<()>> + Send;
    /// Notes a device's last sync, and the access-log entry of the round trip, in
    /// one transaction.
    fn touch_device(
        &self,
        id: &str,
        at: &str,
        audit: Option<&AuditEntry>,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn login_failures(
        &self,
        key: &str,
        since_ms: i64,
    ) -> impl Future<Output = DbResult<i64>> + Send;
    fn note_login_failure(
        &self,
        key: &str,
        at_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    fn add_session(
        &self,
        token_hash: &str,
        account: &str,
        expires_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    fn session(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = DbResult<Option<String>>> + Send;
    /// Ends a sign-in session (sign-out); ending an unknown one is no error.
    fn end_session(&self, token_hash: &str) -> impl Future<Output = DbResult<()>> + Send;
    /// Moves a live session's end to `expires_ms` (its idle timeout starts again).
    fn touch_session(
        &self,
        token_hash: &str,
        expires_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The last sequence of a document the verifier judged (0: none, or unknown).
    fn verified_seq(&self, doc_id: &str) -> impl Future<Output = DbResult<i64>> + Send;
    /// Takes back one failure noted at `at_ms` (a sign-in counts as a failure
    /// before its password is checked, so concurrent guesses cannot pass the limit).
    fn forget_login_failure(
        &self,
        key: &str,
        at_ms: i64,
    ) -> impl Future<Output = DbResult<()>> + Send;

    fn audit(&self, entry: &AuditEntry) -> impl Future<Output = DbResult<()>> + Send;
    /// The access log, newest first, of some sites or (None) all.
    fn audit_list(
        &self,
        sites: Option<&[String]>,
        limit: i64,
    ) -> impl Future<Output = DbResult<Vec<AuditEntry>>> + Send;

    /// Existing documents among `ids`: `(id, kind, site)`.
    fn doc_meta(
        &self,
        ids: &[String],
    ) -> impl Future<Output = DbResult<Vec<(String, String, String)>>> + Send;
    /// Whether the document has chunks the verifier has not judged yet.
    fn doc_pending(&self, doc_id: &str) -> impl Future<Output = DbResult<bool>> + Send;
    /// Stores changes durably in one transaction; returns how many were new.
    fn store_changes(
        &self,
        origin: &str,
        docs: &[NewDoc],
    ) -> impl Future<Output = DbResult<u64>> + Send;
    /// Items with seq > cursor in scope (plus forms and config), in seq order, up to
    /// `max_bytes` (at least one item), and never past the first chunk in scope that
    /// is not verified yet ([`verified_head`]).
    fn pull(
        &self,
        scope: &Scope,
        cursor: i64,
        max_bytes: usize,
    ) -> impl Future<Output = DbResult<Pulled>> + Send;

    fn unverified(&self, limit: i64) -> impl Future<Output = DbResult<Vec<Unverified>>> + Send;
    /// The non-quarantined chunks of a document up to `upto`.
    fn doc_changes(
        &self,
        doc_id: &str,
        upto: i64,
    ) -> impl Future<Output = DbResult<Vec<Vec<u8>>>> + Send;
    /// The non-quarantined chunks of each document `(id, after, upto)` with
    /// `after < seq <= upto`, in one go.
    fn docs_chunks(
        &self,
        docs: &[(String, i64, i64)],
    ) -> impl Future<Output = DbResult<Vec<Vec<Vec<u8>>>>> + Send;
    /// Marks documents verified, each up to its `upto`, with its new projection
    /// (records) and summary: one transaction for the whole batch.
    fn verified(&self, done: &[Verified]) -> impl Future<Output = DbResult<()>> + Send;
    /// Quarantines the changes of a document in (verified, upto]: never pulled again.
    fn quarantine(
        &self,
        doc_id: &str,
        upto: i64,
        reason: &str,
    ) -> impl Future<Output = DbResult<()>> + Send;
    fn quarantined(&self) -> impl Future<Output = DbResult<Vec<(String, String)>>> + Send;
    /// Quarantines only these unverified chunks of a document (by the hash it is
    /// stored under), leaving the rest to be verified again without them; returns
    /// how many were quarantined.
    fn quarantine_chunks(
        &self,
        doc_id: &str,
        hashes: &[[u8; 32]],
        reason: &str,
    ) -> impl Future<Output = DbResult<u64>> + Send;
    fn backlog(&self) -> impl Future<Output = DbResult<Backlog>> + Send;
    /// `(name, role)` of every account working at one of `sites`, by name.
    fn site_accounts(
        &self,
        sites: &[String],
    ) -> impl Future<Output = DbResult<Vec<(String, String)>>> + Send;

    fn record(&self, id: &str) -> impl Future<Output = DbResult<Option<RecordRow>>> + Send;
    /// The summaries (JSON) of these subject documents, by id.
    fn subject_summaries(
        &self,
        ids: &[String],
    ) -> impl Future<Output = DbResult<std::collections::HashMap<String, String>>> + Send;
    /// Every record document with its verified sequence (what `reproject` reads).
    fn verified_records(&self) -> impl Future<Output = DbResult<Vec<(String, i64)>>> + Send;
    /// Writes `record_facts` rows (reprojection), in one transaction.
    fn put_facts(
        &self,
        rows: &[crate::facts::FactsRow],
    ) -> impl Future<Output = DbResult<()>> + Send;
    /// The `record_facts` rows a report reads, by encounter day then record id.
    fn facts(
        &self,
        filter: &FactsFilter,
    ) -> impl Future<Output = DbResult<Vec<crate::facts::FactsRow>>> + Send;
    fn records(
        &self,
        sites: Option<&[String]>,
    ) -> impl Future<Output = DbResult<Vec<RecordRow>>> + Send;

    // ------------------------------------------------ quarantine review (crate::quarantine)

    /// Documents with quarantined chunks waiting for a decision, of some sites or
    /// (`None`) all, or only document `doc`: each with its reason and the bytes of
    /// those chunks (whose authors the caller reads from their headers).
    fn quarantine_review(
        &self,
        sites: Option<&[String]>,
        doc: Option<&str>,
    ) -> impl Future<Output = DbResult<Vec<crate::quarantine::Quarantined>>> + Send;
    /// Releases or rejects every quarantined chunk of `doc_id` waiting for a decision,
    /// in one transaction with its access-log entry; returns how many. Each chunk is
    /// marked with the decision, who took it and why. Released chunks get new sequence
    /// numbers past the log's head (so that devices whose cursors passed their old
    /// place pull them, and no verified sequence moves back) and wait for the verifier,
    /// which does not hold their authors' write rights against them. Rejected chunks
    /// stay out for good. Either way the document leaves the list. Refuses a document
    /// with nothing waiting (`NotFound`).
    fn decide_quarantine(
        &self,
        doc_id: &str,
        decision: &crate::quarantine::Decision,
        audit: &AuditEntry,
    ) -> impl Future<Output = DbResult<u64>> + Send;
    /// The released chunks (by stored hash) of these documents.
    fn released_chunks(
        &self,
        doc_ids: &[String],
    ) -> impl Future<Output = DbResult<Vec<(String, [u8; 32])>>> + Send;
    /// Report `report`'s counts over the filter, added up by key in SQL
    /// (`report_counts`, written with each record's facts by
    /// `crate::reports::parts_of`).
    fn report_counts(
        &self,
        report: &str,
        filter: &FactsFilter,
    ) -> impl Future<Output = DbResult<Vec<(String, i64)>>> + Send;
    /// Report `report`'s worklist lines over the filter (`report_lines`): each
    /// line's head and its body as JSON (`crate::reports::Body`). Without a page,
    /// every line (by encounter day then record id); with one, only the first
    /// `page.limit` lines on the list at `page.now` (`listed_from <= now`), by
    /// `urgency` first when `page.urgent_first`, then encounter day and record id.
    fn report_lines(
        &self,
        report: &str,
        filter: &FactsFilter,
        page: Option<&crate::reports::Page>,
    ) -> impl Future<Output = DbResult<Vec<(crate::reports::Head, String)>>> + Send;
    /// How many of report `report`'s lines over the filter are on the list at `now`
    /// (`listed_from <= now`) and how many of those are stale drafts
    /// (`stale_from <= now`); `now` as `crate::reports::instant_key` writes it.
    fn report_tally(
        &self,
        report: &str,
        filter: &FactsFilter,
        now: &str,
    ) -> impl Future<Output = DbResult<crate::reports::Tally>> + Send;
    /// Whether records have facts whose report parts were not written by parts
    /// version `version` (setting `crate::reports::PARTS_SETTING`): `tern serve`
    /// reprojects at start when so, then notes the version.
    fn report_parts_missing(&self, version: &str) -> impl Future<Output = DbResult<bool>> + Send;
}

/// The one `impl Db` of a backend (`delegate_db!(SqliteDb)`): each operation is handed
/// on to the function of the same name in the backend's concern module (`accounts`,
/// `log`, `verify`, `reports`), which the invoking module has in scope. Both backends
/// name and place their operations alike; a new operation is one line here and one
/// function in each backend.
macro_rules! delegate_db {
    ($backend:ty) => {
        impl Db for $backend {
            async fn ping(&self) -> DbResult<()> {
                accounts::ping(self).await
            }

            async fn add_site(&self, name: &str) -> DbResult<()> {
                accounts::add_site(self, name).await
            }

            async fn site_exists(&self, name: &str) -> DbResult<bool> {
                accounts::site_exists(self, name).await
            }

            async fn add_account(&self, a: &Account) -> DbResult<()> {
                accounts::add_account(self, a).await
            }

            async fn change_account(
                &self,
                name: &str,
                role: Option<&str>,
                add_sites: &[String],
            ) -> DbResult<()> {
                accounts::change_account(self, name, role, add_sites).await
            }

            async fn accounts(&self) -> DbResult<Vec<AccountInfo>> {
                accounts::accounts(self).await
            }

            async fn account(&self, name: &str) -> DbResult<Option<Account>> {
                accounts::account(self, name).await
            }

            async fn add_enrolment(
                &self,
                code_hash: &str,
                site: &str,
                account: Option<&str>,
                expires_ms: i64,
            ) -> DbResult<()> {
                accounts::add_enrolment(self, code_hash, site, account, expires_ms).await
            }

            async fn enrolment(&self, code_hash: &str) -> DbResult<Option<EnrolmentCode>> {
                accounts::enrolment(self, code_hash).await
            }

            async fn redeem(&self, r: &Redeem) -> DbResult<Redeemed> {
                accounts::redeem(self, r).await
            }

            async fn bind_account(&self, device: &str, account: &str, at_ms: i64) -> DbResult<()> {
                accounts::bind_account(self, device, account, at_ms).await
            }

            async fn bound_accounts(&self, device: &str) -> DbResult<Vec<String>> {
                accounts::bound_accounts(self, device).await
            }

            async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<Device>> {
                accounts::device_by_token(self, token_hash).await
            }

            async fn devices_by_id(&self, ids: &[String]) -> DbResult<Vec<Device>> {
                accounts::devices_by_id(self, ids).await
            }

            async fn revoke(&self, id: &str) -> DbResult<bool> {
                accounts::revoke(self, id).await
            }

            async fn escrow_restricted_key(
                &self,
                key: &EscrowedKey,
                at_ms: i64,
            ) -> DbResult<String> {
                accounts::escrow_restricted_key(self, key, at_ms).await
            }

            async fn escrowed_restricted_key(&self, device: &str) -> DbResult<Option<EscrowedKey>> {
                accounts::escrowed_restricted_key(self, device).await
            }

            async fn devices(&self) -> DbResult<Vec<DeviceRow>> {
                accounts::devices(self).await
            }

            async fn register_hub_device(
                &self,
                hub: &str,
                device: &str,
                site: &str,
                account: &str,
            ) -> DbResult<()> {
                accounts::register_hub_device(self, hub, device, site, account).await
            }

            async fn hub_devices(&self, hub: &str) -> DbResult<Vec<(String, bool)>> {
                accounts::hub_devices(self, hub).await
            }

            async fn chunks_after(&self, seq: i64, origin: &str) -> DbResult<i64> {
                log::chunks_after(self, seq, origin).await
            }

            async fn set_password_hash(&self, name: &str, hash: &str) -> DbResult<()> {
                accounts::set_password_hash(self, name, hash).await
            }

            async fn setting(&self, key: &str) -> DbResult<Option<String>> {
                accounts::setting(self, key).await
            }

            async fn set_setting(&self, key: &str, value: &str) -> DbResult<()> {
                accounts::set_setting(self, key, value).await
            }

            async fn touch_device(
                &self,
                id: &str,
                at: &str,
                audit: Option<&AuditEntry>,
            ) -> DbResult<()> {
                accounts::touch_device(self, id, at, audit).await
            }

            async fn login_failures(&self, key: &str, since_ms: i64) -> DbResult<i64> {
                accounts::login_failures(self, key, since_ms).await
            }

            async fn note_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
                accounts::note_login_failure(self, key, at_ms).await
            }

            async fn add_session(
                &self,
                token_hash: &str,
                account: &str,
                expires_ms: i64,
            ) -> DbResult<()> {
                accounts::add_session(self, token_hash, account, expires_ms).await
            }

            async fn session(&self, token_hash: &str, now_ms: i64) -> DbResult<Option<String>> {
                accounts::session(self, token_hash, now_ms).await
            }

            async fn doc_pending(&self, doc_id: &str) -> DbResult<bool> {
                log::doc_pending(self, doc_id).await
            }

            async fn end_session(&self, token_hash: &str) -> DbResult<()> {
                accounts::end_session(self, token_hash).await
            }

            async fn touch_session(&self, token_hash: &str, expires_ms: i64) -> DbResult<()> {
                accounts::touch_session(self, token_hash, expires_ms).await
            }

            async fn verified_seq(&self, doc_id: &str) -> DbResult<i64> {
                log::verified_seq(self, doc_id).await
            }

            async fn forget_login_failure(&self, key: &str, at_ms: i64) -> DbResult<()> {
                accounts::forget_login_failure(self, key, at_ms).await
            }

            async fn audit(&self, e: &AuditEntry) -> DbResult<()> {
                accounts::audit(self, e).await
            }

            async fn audit_list(
                &self,
                sites: Option<&[String]>,
                limit: i64,
            ) -> DbResult<Vec<AuditEntry>> {
                accounts::audit_list(self, sites, limit).await
            }

            async fn doc_meta(&self, ids: &[String]) -> DbResult<Vec<(String, String, String)>> {
                log::doc_meta(self, ids).await
            }

            async fn store_changes(&self, origin: &str, docs: &[NewDoc]) -> DbResult<u64> {
                log::store_changes(self, origin, docs).await
            }

            async fn pull(&self, scope: &Scope, cursor: i64, max_bytes: usize) -> DbResult<Pulled> {
                log::pull(self, scope, cursor, max_bytes).await
            }

            async fn unverified(&self, limit: i64) -> DbResult<Vec<Unverified>> {
                verify::unverified(self, limit).await
            }

            async fn doc_changes(&self, doc_id: &str, upto: i64) -> DbResult<Vec<Vec<u8>>> {
                log::doc_changes(self, doc_id, upto).await
            }

            async fn docs_chunks(
                &self,
                docs: &[(String, i64, i64)],
            ) -> DbResult<Vec<Vec<Vec<u8>>>> {
                log::docs_chunks(self, docs).await
            }

            async fn verified(&self, done: &[Verified]) -> DbResult<()> {
                verify::verified(self, done).await
            }

            async fn quarantine(&self, doc_id: &str, upto: i64, reason: &str) -> DbResult<()> {
                verify::quarantine(self, doc_id, upto, reason).await
            }

            async fn quarantine_chunks(
                &self,
                doc_id: &str,
                hashes: &[[u8; 32]],
                reason: &str,
            ) -> DbResult<u64> {
                verify::quarantine_chunks(self, doc_id, hashes, reason).await
            }

            async fn quarantined(&self) -> DbResult<Vec<(String, String)>> {
                verify::quarantined(self).await
            }

            async fn site_accounts(&self, sites: &[String]) -> DbResult<Vec<(String, String)>> {
                accounts::site_accounts(self, sites).await
            }

            async fn backlog(&self) -> DbResult<Backlog> {
                verify::backlog(self).await
            }

            async fn record(&self, id: &str) -> DbResult<Option<RecordRow>> {
                verify::record(self, id).await
            }

            async fn subject_summaries(
                &self,
                ids: &[String],
            ) -> DbResult<std::collections::HashMap<String, String>> {
                verify::subject_summaries(self, ids).await
            }

            async fn verified_records(&self) -> DbResult<Vec<(String, i64)>> {
                verify::verified_records(self).await
            }

            async fn put_facts(&self, rows: &[crate::facts::FactsRow]) -> DbResult<()> {
                verify::put_facts(self, rows).await
            }

            async fn facts(
                &self,
                f: &crate::db::FactsFilter,
            ) -> DbResult<Vec<crate::facts::FactsRow>> {
                verify::facts(self, f).await
            }

            async fn report_counts(
                &self,
                report: &str,
                f: &crate::db::FactsFilter,
            ) -> DbResult<Vec<(String, i64)>> {
                reports::report_counts(self, report, f).await
            }

            async fn report_tally(
                &self,
                report: &str,
                f: &crate::db::FactsFilter,
                now: &str,
            ) -> DbResult<crate::reports::Tally> {
                reports::report_tally(self, report, f, now).await
            }

            async fn report_lines(
                &self,
                report: &str,
                f: &crate::db::FactsFilter,
                page: Option<&crate::reports::Page>,
            ) -> DbResult<Vec<(crate::reports::Head, String)>> {
                reports::report_lines(self, report, f, page).await
            }

            async fn report_parts_missing(&self, version: &str) -> DbResult<bool> {
                reports::report_parts_missing(self, version).await
            }

            async fn records(&self, sites: Option<&[String]>) -> DbResult<Vec<RecordRow>> {
                verify::records(self, sites).await
            }

            // ------------------------------------------------ quarantine review (crate::quarantine)
            async fn quarantine_review(
                &self,
                sites: Option<&[String]>,
                doc: Option<&str>,
            ) -> DbResult<Vec<crate::quarantine::Quarantined>> {
                verify::quarantine_review(self, sites, doc).await
            }

            async fn decide_quarantine(
                &self,
                doc_id: &str,
                decision: &crate::quarantine::Decision,
                audit: &AuditEntry,
            ) -> DbResult<u64> {
                verify::decide_quarantine(self, doc_id, decision, audit).await
            }

            async fn released_chunks(
                &self,
                doc_ids: &[String],
            ) -> DbResult<Vec<(String, [u8; 32])>> {
                verify::released_chunks(self, doc_ids).await
            }
        }
    };
}
pub(crate) use delegate_db;

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes rows of these sizes into a page; the sizes taken.
    fn fill(cut: &mut PageCut, sizes: &[usize]) -> Vec<usize> {
        let mut taken = Vec::new();
        for &len in sizes {
            if !cut.take(len) {
                break;
            }
            taken.push(len);
        }
        taken
    }

    #[test]
    fn a_page_takes_rows_while_they_fit_and_is_cut_at_the_first_that_does_not() {
        let mut cut = PageCut::new(10, 4, 100);
        assert_eq!(fill(&mut cut, &[4, 6, 1, 1]), vec![4, 6]);
        assert!(cut.more(), "cut: more rows wait");
        assert_eq!(cut.cursor(0, Some(17), 40), 17, "from its last row");
    }

    #[test]
    fn a_row_larger_than_a_page_travels_alone() {
        let mut cut = PageCut::new(10, 2, 100);
        assert_eq!(fill(&mut cut, &[25, 1]), vec![25]);
        assert!(cut.more());
        let mut cut = PageCut::new(10, 2, 100);
        assert_eq!(fill(&mut cut, &[1, 25]), vec![1]);
        assert!(cut.more());
    }

    #[test]
    fn a_page_holding_every_row_found_moves_the_cursor_to_the_head() {
        let mut cut = PageCut::new(10, 3, 100);
        assert_eq!(fill(&mut cut, &[3, 3, 4]), vec![3, 3, 4]);
        assert!(!cut.more());
        assert_eq!(cut.cursor(5, Some(9), 40), 40);
        // Never behind the cursor asked from (a head below it: chunks wait).
        assert_eq!(PageCut::new(10, 0, 100).cursor(50, None, 40), 50);
    }

    #[test]
    fn rows_found_up_to_the_limit_cut_the_page_even_when_they_fit() {
        let mut cut = PageCut::new(1000, 3, 3);
        assert_eq!(fill(&mut cut, &[1, 1, 1]), vec![1, 1, 1]);
        assert!(cut.more(), "rows past the limit may wait");
        assert_eq!(cut.cursor(0, Some(3), 40), 3);
        // Nothing taken (the limit reached by rows not read): the cursor stays.
        assert_eq!(PageCut::new(1000, 3, 3).cursor(7, None, 40), 7);
    }

    #[test]
    fn the_head_is_just_before_the_first_unverified_chunk() {
        assert_eq!(verified_head(40, None), 40);
        assert_eq!(verified_head(40, Some(31)), 30);
        assert_eq!(verified_head(40, Some(45)), 40);
    }
}
