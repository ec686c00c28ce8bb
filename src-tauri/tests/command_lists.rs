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

/// Every `'name'` in single quotes, outside `//` comments.
fn quoted(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    code.split('\'')
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

#[test]
fn the_ui_knows_every_error_code_the_shell_sends() {
    let error_rs = read("src/error.rs");
    let variants = between(&error_rs, "pub enum Code {", "}");
    let codes: BTreeSet<String> = variants
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            // CamelCase → snake_case, as serde's rename_all does.
            let mut out = String::new();
            for (i, c) in v.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        })
        .collect();
    let ui = quoted(between(
        &read("../ui/src/backend/types.ts"),
        "export const ERROR_CODES = [",
        "] as const",
    ));
    assert!(codes.len() > 10, "{codes:?}");
    assert_eq!(
        ui, codes,
        "ui/src/backend/types.ts's ERROR_CODES vs src/error.rs's Code"
    );
}

/// The field names of `struct NAME` in Rust source (its `pub` fields).
fn rust_fields(source: &str, name: &str) -> BTreeSet<String> {
    let body = between(source, &format!("pub struct {name} {{"), "\n}");
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub "))
        .filter_map(|l| l.split(':').next())
        .map(|f| f.trim().to_string())
        .collect()
}

/// The field names of `interface NAME` in TypeScript source.
fn ts_fields(source: &str, name: &str) -> BTreeSet<String> {
    let body = between(source, &format!("export interface {name} {{"), "\n}");
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('*') && !l.starts_with("/*"))
        .filter_map(|l| l.split(':').next())
        .map(|f| f.trim().trim_end_matches('?').to_string())
        .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect()
}

#[test]
fn the_ui_types_have_the_fields_the_shell_sends() {
    let dto = read("src/dto.rs");
    let types = read("../ui/src/backend/types.ts");
    // Rust name, TypeScript name: the shapes that cross the boundary field by field.
    let pairs = [
        ("DeviceState", "DeviceState"),
        ("LocalUser", "LocalUser"),
        ("NewUser", "NewUser"),
        ("Session", "Session"),
        ("SubjectSummary", "SubjectSummary"),
        ("FormSummary", "FormSummary"),
        ("RecordSummary", "RecordSummary"),
        ("ConflictDto", "Conflict"),
        ("ConflictValueDto", "ConflictValue"),
        ("RecordDetail", "RecordDetail"),
        ("HistoryEntry", "HistoryEntry"),
        ("Settings", "Settings"),
        ("SyncState", "SyncState"),
        ("TeamDevice", "TeamDevice"),
        ("TeamHubState", "TeamHubState"),
    ];
    for (rust, ts) in pairs {
        assert!(
            rust_fields(&dto, rust).len() >= 2,
            "{rust} not found in src/dto.rs"
        );
        assert_eq!(
            ts_fields(&types, ts),
            rust_fields(&dto, rust),
            "ui/src/backend/types.ts's {ts} vs src/dto.rs's {rust}"
        );
    }
}
