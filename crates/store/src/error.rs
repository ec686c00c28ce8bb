//! The one error type of the store. Messages say what to do and never carry health
//! data: they name fields and records, not values.

use std::path::PathBuf;

/// Everything that can refuse or fail in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("wrong password for user `{0}`")]
    WrongPassword(String),
    #[error("no local user `{0}` on this device; add one with `tern device user add`")]
    UnknownUser(String),
    #[error("this store has several users ({0}); say which with --user or TERN_USER")]
    WhichUser(String),
    #[error("user `{0}` already exists on this device")]
    UserExists(String),
    #[error("`{0}` is not a role; use screener, clinician, supervisor, data_manager or admin")]
    UnknownRole(String),
    #[error("a user name is 1 to 64 letters, digits, `.`, `_` or `-`; `{0}` is not")]
    BadUserName(String),
    #[error("{0}")]
    WeakPassword(#[from] tern_record::password::PasswordError),
    #[error("{path} already exists; choose another file or remove it first")]
    AlreadyExists { path: PathBuf },
    #[error("no store at {path}; create one with `tern device --db FILE init --user NAME`")]
    NoStore { path: PathBuf },
    #[error("key file {path} is unreadable: {reason}")]
    BadKeyFile { path: PathBuf, reason: String },
    #[error("the database could not be opened with its key (is {path} damaged, or its key file from another store?)")]
    NotADatabase { path: PathBuf },
    #[error("the database schema version {found} is newer than this program knows ({known}); update tern")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("role {role} may not {action}")]
    Forbidden { role: String, action: String },
    #[error("no record `{0}` in this store")]
    NoRecord(String),
    #[error("no subject `{0}` in this store")]
    NoSubject(String),
    #[error(
        "`{0}` is not a valid subject id (10 Crockford Base32 characters and a check character)"
    )]
    BadSubjectId(String),
    #[error("no form `{0}` in this store; known forms: {1}")]
    NoForm(String, String),
    #[error("form {0} {1} is not in this store; import that form version first")]
    NoFormVersion(String, String),
    #[error("field `{field}`: {message}")]
    Answer { field: String, message: String },
    #[error("a locked record can only be amended with a reason: add --reason")]
    ReasonRequired,
    #[error("status `{0}` is not one of draft, submitted, reviewed, locked, returned")]
    UnknownStatus(String),
    #[error("a record cannot go from {from} to {to}")]
    BadTransition { from: String, to: String },
    #[error("returning a record for correction needs a comment: add --comment")]
    CommentRequired,
    #[error("the record is not complete ({missing} missing answers, {errors} errors, {warnings} unconfirmed warnings); see `record show`")]
    Incomplete {
        missing: usize,
        errors: usize,
        warnings: usize,
    },
    #[error("rule `{0}` has no warning on this record to confirm")]
    NoWarning(String),
    #[error("field `{0}` has no conflict to resolve")]
    NoConflict(String),
    #[error("change file {path} rejected: {reason}; the store is unchanged")]
    BadChangeFile { path: PathBuf, reason: String },
    #[error("document `{0}` is damaged: {1}")]
    BadDocument(String, String),
    #[error("{0}")]
    Refused(String),
    /// A hub or server this device enrols or syncs with (enrolment.rs, peers.rs).
    #[error(transparent)]
    Peer(#[from] crate::enrolment::PeerRefusal),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system random generator failed: {0}")]
    Random(String),
}

/// A refusal of the record model is the store's variant of the same name (same
/// message), so that callers match one error type.
impl From<tern_record::RecordError> for StoreError {
    fn from(e: tern_record::RecordError) -> StoreError {
        use tern_record::RecordError as R;
        match e {
            R::UnknownRole(role) => StoreError::UnknownRole(role),
            R::Forbidden { role, action } => StoreError::Forbidden { role, action },
            R::Answer { field, message } => StoreError::Answer { field, message },
            R::UnknownStatus(status) => StoreError::UnknownStatus(status),
            R::BadTransition { from, to } => StoreError::BadTransition { from, to },
            R::CommentRequired => StoreError::CommentRequired,
            R::BadDocument(id, why) => StoreError::BadDocument(id, why),
            R::Refused(why) => StoreError::Refused(why),
        }
    }
}

impl StoreError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn answer(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Answer {
            field: field.into(),
            message: message.into(),
        }
    }

    /// True when the caller's input or permissions were refused (exit 1), as opposed to
    /// a fault of the machine.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            StoreError::Sql(_) | StoreError::Io { .. } | StoreError::Random(_)
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
