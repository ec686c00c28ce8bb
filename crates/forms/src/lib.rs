//! tern-forms: form definitions, the expression language, validation, calculations
//! and translations.
//!
//! Invariants:
//! - Pure: no I/O, no clock, no randomness. Callers read files and pass their text
//!   ([`SourceFile`]); "today" and "now" come in through [`EvalContext`].
//! - A [`Form`] exists only after every check passed: expressions are parsed,
//!   resolved and type-checked once at load, so evaluation never meets an unknown
//!   field or a type error, and never fails (results are values, not `Err`).
//! - Answers are stored language-neutral (codes, ISO dates, ASCII digits); labels and
//!   messages are looked up per language at the edge.
//! - Knows nothing of storage, HTTP or Tauri.

mod alerts;
mod answers;
mod config;
mod countries;
mod definition;
mod diagnostic;
mod evaluate;
pub mod expr;
#[doc(hidden)]
pub mod fuzzing;
mod json_pos;
mod translation;
mod value;
mod view;

pub use alerts::{alerts_of, Alert};
pub use answers::{normalize_digits, AnswerProblem, Answers};
pub use config::{ColumnType, ConfigTable, ConfigTables};
pub use countries::ISO3166_ALPHA2;
pub use definition::{
    AlertSpec, Code, Field, FieldKind, FieldSource, Form, Section, Severity, ALERT_KINDS,
    CODE_ROLES, ROLES,
};
pub use diagnostic::{Diagnostic, Diagnostics, SourceFile};
pub use evaluate::{EvalContext, Evaluation, RuleResult};
pub use translation::{Review, ReviewStatus};
pub use value::{Type, Value};
pub use view::{is_rtl, ChoiceView, FieldView, FormView, SectionView};
