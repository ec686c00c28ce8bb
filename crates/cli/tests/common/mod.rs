//! Helpers shared by the CLI contract tests, which run the real `tern` binary.

use serde_json::Value;
use std::process::Output;

/// The trimmed stdout of a command that must have succeeded (stderr shown if not).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .expect("utf8")
        .trim()
        .to_string()
}

/// The one JSON document a successful command printed.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("stdout is one JSON document")
}
