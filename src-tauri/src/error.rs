//! The one error shape across the IPC boundary: `{code, message}` with a closed set of
//! codes, mirrored by `ERROR_CODES` in `ui/src/backend/types.ts`. Messages come from
//! the crates, which never put health data in them.

use serde::Serialize;
use tern_store::StoreError;
use tern_sync::protocol::ErrorCode;
use tern_sync::SyncError;

/// The closed set of error codes the UI knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    NotEnrolled,
    EnrolmentFailed,
    Locked,
    WrongPassword,
    UserExists,
    NotFound,
    InvalidInput,
    Forbidden,
    Conflict,
    Offline,
    Revoked,
    Storage,
    Internal,
}

/// What a command rejects with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The UI's kind of a store error. A sync that failed in the store keeps the same
/// kind as the store's own error (`From<SyncError>`), so a refusal is shown as one.
fn store_code(e: &StoreError) -> Code {
    use StoreError as E;
    match e {
        E::WrongPassword(_) => Code::WrongPassword,
        E::UserExists(_) => Code::UserExists,
        E::UnknownUser(_)
        | E::NoStore { .. }
        | E::NoRecord(_)
        | E::NoSubject(_)
        | E::NoForm(..)
        | E::NoFormVersion(..)
        | E::NoWarning(_)
        | E::NoConflict(_) => Code::NotFound,
        E::Forbidden { .. } => Code::Forbidden,
        E::BadTransition { .. } => Code::Conflict,
        E::WhichUser(_)
        | E::UnknownRole(_)
        | E::BadUserName(_)
        | E::WeakPassword(_)
        | E::BadSubjectId(_)
        | E::Answer { .. }
        | E::ReasonRequired
        | E::ConfirmationReason
        | E::UnknownStatus(_)
        | E::CommentRequired
        | E::Incomplete { .. }
        | E::NotAConflictValue(_)
        | E::SelfMerge
        | E::EmptySearch(_)
        | E::BadImportLine(_)
        | E::CannotMove { .. }
        | E::SubmitOnDevice
        | E::RecoverIntoEnrolled
        | E::Sealed
        | E::NotAnAccount { .. }
        | E::AlreadyInStatus(_)
        | E::KindMismatch { .. } => Code::InvalidInput,
        E::AlreadyExists { .. }
        | E::BadKeyFile { .. }
        | E::NotADatabase { .. }
        | E::SchemaTooNew { .. }
        | E::BadChangeFile { .. }
        | E::BadDocument(..)
        | E::BrokenConfig(_)
        | E::BrokenForm { .. }
        | E::BadPulledForm(_)
        | E::NoKeyPair
        | E::DamagedRestrictedKey
        | E::NoWal(_)
        | E::Sql(_)
        | E::Io { .. } => Code::Storage,
        E::Random(_) | E::Encoding { .. } => Code::Internal,
        E::Peer(refusal) => {
            use tern_store::PeerRefusal as P;
            match refusal {
                P::AlreadyEnrolled { .. } => Code::Conflict,
                P::UnknownPeer { .. } | P::NoBundleKeys { .. } => Code::NotFound,
                P::KeysChanged { .. } => Code::Forbidden,
                P::NoSite | P::OtherSite { .. } => Code::InvalidInput,
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::new(store_code(&e), e.to_string())
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> ApiError {
        let code = match &e {
            SyncError::Offline { .. } => Code::Offline,
            SyncError::Revoked => Code::Revoked,
            SyncError::NotEnrolled => Code::NotEnrolled,
            SyncError::Insecure(_) => Code::InvalidInput,
            SyncError::Store(inner) => store_code(inner),
            // The server's refusal keeps its kind: a wrong password, a refusal, an
            // upstream a hub cannot reach.
            SyncError::Refused { code, .. } => match code {
                ErrorCode::Unauthorized => Code::WrongPassword,
                ErrorCode::Forbidden => Code::Forbidden,
                ErrorCode::NotFound => Code::NotFound,
                ErrorCode::Conflict => Code::Conflict,
                ErrorCode::Revoked => Code::Revoked,
                ErrorCode::Unavailable => Code::Offline,
                ErrorCode::BadRequest | ErrorCode::TooLarge => Code::InvalidInput,
                ErrorCode::RateLimited => Code::Locked,
                ErrorCode::Upgrade | ErrorCode::Internal => Code::Internal,
            },
            // Named one by one, so that a new kind of sync error is a decision here.
            SyncError::Upgrade(_)
            | SyncError::Frame(_)
            | SyncError::Plan(_)
            | SyncError::Http { .. }
            | SyncError::Untrusted { .. }
            | SyncError::Certificates(_)
            | SyncError::Interrupted => Code::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl ApiError {
    pub fn locked() -> ApiError {
        ApiError::new(
            Code::Locked,
            "The app is locked: unlock it with your password.",
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidInput, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_as_code_and_message() {
        let e: ApiError = StoreError::WrongPassword("amina".into()).into();
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["code"], "wrong_password");
        assert!(json["message"]
            .as_str()
            .is_some_and(|m| m.contains("amina")));
        let e: ApiError = StoreError::NoRecord("r1".into()).into();
        assert_eq!(e.code, Code::NotFound);
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn a_servers_refusal_keeps_its_kind() {
        let refused = |code| {
            ApiError::from(SyncError::Refused {
                code,
                message: "m".into(),
            })
            .code
        };
        assert_eq!(refused(ErrorCode::Unauthorized), Code::WrongPassword);
        assert_eq!(refused(ErrorCode::Forbidden), Code::Forbidden);
        assert_eq!(refused(ErrorCode::Unavailable), Code::Offline);
        assert_eq!(refused(ErrorCode::RateLimited), Code::Locked);
        assert_eq!(refused(ErrorCode::Internal), Code::Internal);
    }

    /// A store error met during a sync is shown as the same kind as on its own: a
    /// refusal as a refusal, a missing record as not found, a damaged file as storage.
    #[test]
    fn a_store_error_in_a_sync_keeps_its_kind() {
        let both = |make: &dyn Fn() -> StoreError| {
            (
                ApiError::from(make()).code,
                ApiError::from(SyncError::Store(make())).code,
            )
        };
        assert_eq!(
            both(&|| StoreError::NoRecord("r1".into())),
            (Code::NotFound, Code::NotFound)
        );
        assert_eq!(
            both(&|| StoreError::WrongPassword("amina".into())),
            (Code::WrongPassword, Code::WrongPassword)
        );
        assert_eq!(
            both(&|| StoreError::Sealed),
            (Code::InvalidInput, Code::InvalidInput)
        );
        assert_eq!(
            both(&|| StoreError::BrokenConfig("x".into())),
            (Code::Storage, Code::Storage)
        );
    }
}
