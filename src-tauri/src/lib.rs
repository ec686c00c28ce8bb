//! tern-app: the Tauri 2 shell of the field app.
//!
//! Invariants:
//! - Thin: every command gets the state, calls the crates (tern-store, tern-sync,
//!   tern-forms through the store) and maps errors to `{code, message}` with the
//!   closed code set of `ui/src/backend/types.ts`. Forms, answers, roles, the
//!   workflow and sync are decided in the crates, never here.
//! - Only this crate knows Tauri; [`core::Core`] holds the state without Tauri, so
//!   tests drive it directly.
//! - Nothing about people or records is written outside the encrypted store, and
//!   nothing is logged: errors carry the crates' messages, which name fields, not
//!   values.
//! - The window gets the app's commands and nothing else: no file system, shell or
//!   HTTP plugins, a strict CSP and the isolation pattern (`tauri.conf.json`,
//!   `capabilities/`, `isolation/`).

pub mod bundles;
pub mod commands;
pub mod core;
pub mod dto;
pub mod error;
pub mod sync;
pub mod team_hub;

use std::path::PathBuf;
use std::sync::Arc;
use tauri::Manager;

/// The data folder: `TERN_APP_DATA` when set (tests), else the OS app-data folder.
fn data_dir(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(dir) = std::env::var_os("TERN_APP_DATA").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    Ok(app.path().app_data_dir()?)
}

/// Starts the app.
pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let core = Arc::new(core::Core::new(data_dir(app)?)?);
            sync::spawn(core.clone())?;
            app.manage(core);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::device_state,
            commands::device_enrol,
            commands::users_list,
            commands::users_create,
            commands::session_unlock,
            commands::session_lock,
            commands::subjects_search,
            commands::subjects_register,
            commands::subjects_get,
            commands::forms_list,
            commands::forms_view,
            commands::records_list,
            commands::records_new,
            commands::records_get,
            commands::records_evaluate,
            commands::records_set_answer,
            commands::records_add_repeat,
            commands::records_remove_repeat,
            commands::records_confirm_warning,
            commands::records_set_status,
            commands::records_field_history,
            commands::records_resolve_conflict,
            commands::alerts_list,
            commands::sync_state,
            commands::sync_now,
            commands::settings_get,
            commands::settings_save,
            commands::hub_state,
            commands::hub_start,
            commands::hub_stop,
            commands::hub_sync_now,
            commands::hub_new_code,
            commands::bundle_view,
            commands::bundle_export,
            commands::bundle_import,
        ])
        .build(tauri::generate_context!());
    match result {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                if let Some(core) = handle.try_state::<Arc<core::Core>>() {
                    sync::stop(&core);
                    core.stop_team_hub();
                }
            }
        }),
        Err(e) => {
            eprintln!("error: the app could not start: {e}");
            std::process::exit(1);
        }
    }
}
