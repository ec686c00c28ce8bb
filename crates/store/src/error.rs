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
    /// The store's own data failed to encode or decode (its key file, its account
    /// list, a change file it writes): a fault of this program, never the user's.
    #[error("cannot {action} {what}: {reason}")]
    Encoding {
        action: Coding,
        what: &'static str,
        reason: String,
    },
    #[error("the database refused WAL mode ({0}); is the folder on a network share?")]
    NoWal(String),
    #[error("document {id} is a {here} here but a {there} in the file")]
    KindMismatch {
        id: String,
        here: &'static str,
        there: &'static str,
    },
    #[error("{0}")]
    BadImportLine(ImportLineError),
    #[error("record {record} is on {form} {version} and cannot move to {newest}: {why}")]
    CannotMove {
        record: String,
        form: String,
        version: String,
        newest: String,
        why: String,
    },
    #[error("a confirmation needs a reason: add --reason")]
    ConfirmationReason,
    #[error("a status conflict is resolved with one of its values, not `{0}`")]
    NotAConflictValue(String),
    #[error(
        "restricted sections on this device are sealed to the key of the clinicians and \
         supervisors who proved their account here; this session does not hold it"
    )]
    Sealed,
    #[error("the key file has no key pair for the acting user; open the store again")]
    NoKeyPair,
    #[error("the device's restricted public key is damaged")]
    DamagedRestrictedKey,
    #[error(
        "`{name}` is not a server account of site `{site}`, so the server would refuse their \
         work: ask an administrator to add the account to site `{site}` (`tern admin user \
         add {name} --role ROLE --site {site}`, or `tern admin user change {name} --site \
         {site}` for an account of another site), sync this device, then add the user again"
    )]
    NotAnAccount { name: String, site: String },
    #[error("the stored configuration tables do not load: {0}")]
    BrokenConfig(String),
    #[error("{place} form {form} does not load: {diagnostics}")]
    BrokenForm {
        place: &'static str,
        form: String,
        diagnostics: String,
    },
    #[error("a subject cannot be merged into itself")]
    SelfMerge,
    #[error("{0}")]
    EmptySearch(SearchGap),
    #[error("a pulled form {0}")]
    BadPulledForm(String),
    #[error(
        "this store is enrolled: a revoked device's work cannot be pushed from it and would \
         stop its sync; recover into a new store (`tern device --db NEW.db init`)"
    )]
    RecoverIntoEnrolled,
    #[error("a record is submitted from the device that holds its answers")]
    SubmitOnDevice,
    #[error("the record is already {0}")]
    AlreadyInStatus(String),
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
            R::SubmitOnDevice => StoreError::SubmitOnDevice,
            R::AlreadyInStatus(status) => StoreError::AlreadyInStatus(status),
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

    pub(crate) fn encode(what: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Encoding {
            action: Coding::Encode,
            what,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Encoding {
            action: Coding::Decode,
            what,
            reason: reason.to_string(),
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
            StoreError::Sql(_)
                | StoreError::Io { .. }
                | StoreError::Random(_)
                | StoreError::Encoding { .. }
                | StoreError::NoWal(_)
        )
    }
}

/// Which way [`StoreError::Encoding`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Encode,
    Decode,
}

impl std::fmt::Display for Coding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Coding::Encode => "encode",
            Coding::Decode => "decode",
        })
    }
}

/// Why a line of a record import is no record (`tern device record import`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportLineError {
    #[error("the line is not a JSON object")]
    NotAnObject,
    #[error("the line is not JSON (column {0})")]
    NotJson(usize),
}

/// A search that names nothing to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SearchGap {
    #[error("give at least one letter of the name")]
    NoNameLetter,
    #[error("the document number has no letters or digits")]
    NoDocumentCharacter,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
