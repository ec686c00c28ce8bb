//! The error type of the record model: refusals of the pure rules (roles, workflow,
//! field paths) and damaged documents. Messages say what to do and never carry
//! health data: they name fields and records, not values. The store turns each into
//! the `StoreError` variant of the same name.

/// Everything the record model can refuse.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("`{0}` is not a role; use screener, clinician, supervisor, data_manager or admin")]
    UnknownRole(String),
    #[error("role {role} may not {action}")]
    Forbidden { role: String, action: String },
    #[error("field `{field}`: {message}")]
    Answer { field: String, message: String },
    #[error("status `{0}` is not one of draft, submitted, reviewed, locked, returned")]
    UnknownStatus(String),
    #[error("a record cannot go from {from} to {to}")]
    BadTransition { from: String, to: String },
    #[error("returning a record for correction needs a comment: add --comment")]
    CommentRequired,
    #[error("document `{0}` is damaged: {1}")]
    BadDocument(String, String),
    #[error("a record is submitted from the device that holds its answers")]
    SubmitOnDevice,
    #[error("the record is already {0}")]
    AlreadyInStatus(String),
}

impl RecordError {
    pub fn answer(field: impl Into<String>, message: impl Into<String>) -> RecordError {
        RecordError::Answer {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = RecordError> = std::result::Result<T, E>;
