//! `tern device enroll | sync | status`: the device side of sync, thin over
//! tern-sync. `sync` prints one JSON object of counters; it exits 1 with a message
//! saying what to do when the server is unreachable or the device was revoked (in
//! which case its keys and database are already destroyed).

use anyhow::Result;
use std::process::ExitCode;
use tern_store::Store;

use crate::emit;

pub fn enroll(store: &mut Store, server: &str, code: &str, password: &str) -> Result<ExitCode> {
    let e = tern_sync::enrol(store, server, code, password)?;
    emit(&serde_json::to_string_pretty(&serde_json::json!({
        "device_id": store.device(),
        "server": e.server,
        "account": e.account,
        "role": e.role,
        "sites": e.sites,
    }))?);
    Ok(ExitCode::SUCCESS)
}

/// Proves the acting user's account first when it is not proven on this device yet
/// (`password`: the account's own). A refused proof exits 1 with the server's
/// message and syncs nothing (the other users' work syncs when one of them runs it).
pub fn sync(mut store: Store, password: &str) -> Result<ExitCode> {
    if let Err(e) = tern_sync::prove(&mut store, password) {
        eprintln!(
            "error: `{}` could not prove their server account on this device, so nothing \
             was synced and their changes stay here: {e}",
            store.user()
        );
        return Ok(ExitCode::from(1));
    }
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
