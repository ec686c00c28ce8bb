//! `tern device enroll | sync | status`: the device side of sync, thin over
//! tern-sync. `sync` prints one JSON object of counters; it exits 1 with a message
//! saying what to do when the server is unreachable or the device was revoked (in
//! which case its keys and database are already destroyed).

use anyhow::Result;
use std::process::ExitCode;
use tern_store::Store;

use crate::emit;

pub fn enroll(store: &mut Store, server: &str, code: &str) -> Result<ExitCode> {
    let e = tern_sync::enrol(store, server, code)?;
    emit(&serde_json::to_string_pretty(&serde_json::json!({
        "device_id": store.device(),
        "server": e.server,
        "account": e.account,
        "role": e.role,
        "sites": e.sites,
    }))?);
    Ok(ExitCode::SUCCESS)
}

pub fn sync(store: Store) -> Result<ExitCode> {
    match tern_sync::sync(store) {
        Ok((_, report)) => {
            emit(&serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn status(store: &Store) -> Result<ExitCode> {
    emit(&serde_json::to_string_pretty(&store.sync_status()?)?);
    Ok(ExitCode::SUCCESS)
}
