//! The form expression language, in stages: [`syntax`] (text → tree, errors kept),
//! `check` (resolve field references, check types → compiled tree) and `eval`
//! (compiled tree → value).

pub(crate) mod check;
pub(crate) mod eval;
pub mod syntax;

pub use check::function_names;
