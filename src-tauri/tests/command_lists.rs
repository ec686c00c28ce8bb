//! The app's commands are named in four places that must agree: the Tauri commands
//! (`src/commands.rs`), the handler list (`src/lib.rs`), the isolation allow-list
//! (`isolation/index.js`, which drops anything else) and the UI's command table
//! (`ui/src/backend/tauri.ts`). A command missing from one of them fails here, not in
//! the field.

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no `{start}`")) + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}`"))
        + from;
    &text[from..to]
}

/// Every `'name'` in single quotes.
fn quoted(text: &str) -> BTreeSet<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_is_named_alike_in_the_shell_the_isolation_hook_and_the_ui() {
    let commands_rs = read("src/commands.rs");
    let defined: BTreeSet<String> = commands_rs
        .split("#[tauri::command]")
        .skip(1)
        .map(|item| between(item, "pub async fn ", "(").trim().to_string())
        .collect();
    let handlers: BTreeSet<String> = between(&read("src/lib.rs"), "generate_handler![", "]")
        .split(',')
        .map(|s| s.trim().trim_start_matches("commands::").to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let allowed = quoted(between(&read("isolation/index.js"), "new Set([", "])"));
    let ui = quoted(between(
        &read("../ui/src/backend/tauri.ts"),
        "export const COMMANDS = {",
        "} as const",
    ));
    assert!(defined.len() > 20, "{defined:?}");
    assert_eq!(
        handlers, defined,
        "src/lib.rs's handlers vs src/commands.rs"
    );
    assert_eq!(
        allowed, defined,
        "isolation/index.js's allow-list vs src/commands.rs"
    );
    assert_eq!(
        ui, defined,
        "ui/src/backend/tauri.ts's COMMANDS vs src/commands.rs"
    );
}
