//! What the app's integration tests share.

use std::path::PathBuf;

/// The `tern` binary of this workspace (built by `cargo test --workspace`, or
/// `cargo build -p tern-cli`), in `CARGO_TARGET_DIR` when set.
pub fn tern() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/tern");
    assert!(
        bin.exists(),
        "{} is missing: build the tern CLI first (cargo build -p tern-cli)",
        bin.display()
    );
    bin
}
