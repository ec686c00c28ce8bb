//! Problems in a form, translation or table file, each pointing at a line and column.

use std::fmt;

/// A file the caller read; the engine itself never touches the file system.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name used in messages, usually the path as the user gave it.
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// One problem, printed as `FILE:LINE:COL: message` (line and column from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn at(
        file: &SourceFile,
        (line, column): (usize, usize),
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.name.clone(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Every problem found in one go, so a form designer can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render(items: &[Diagnostic]) -> String {
    items
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Diagnostics {
    pub(crate) fn from_json(file: &SourceFile, e: &serde_json::Error) -> Self {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; the position is given separately.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        Diagnostics(vec![Diagnostic::at(
            file,
            (e.line().max(1), e.column().max(1)),
            msg,
        )])
    }
}
