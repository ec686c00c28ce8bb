//! The background sync: one thread that, while a user is unlocked on an enrolled
//! device, syncs with the server every few minutes and at once when asked (sync_now,
//! unlock), over its own connection to the store so form filling never waits for
//! the network. It also locks the session once it has been idle too long. The sync
//! itself is tern-sync's; this loop only schedules it and reports its state.

use crate::core::Core;
use crate::dto::SyncPhase;
use crate::error::{ApiError, Code};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tern_store::Store;
use tern_sync::SyncError;

/// Time between syncs while the server answers.
const INTERVAL: Duration = Duration::from_secs(120);
/// Time between attempts while it does not.
const RETRY: Duration = Duration::from_secs(30);
/// How often the thread looks at the idle lock.
const TICK: Duration = Duration::from_secs(1);

/// Starts the sync thread; it ends when [`stop`] is called.
pub fn spawn(core: Arc<Core>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("tern-sync".into())
        .spawn(move || run(&core))
}

/// Asks the sync thread to end after the sync it may be running.
pub fn stop(core: &Core) {
    core.sync_shared().stop = true;
    core.wake.notify_all();
}

fn run(core: &Core) {
    let mut next: Option<Instant> = None;
    loop {
        let requested = {
            let guard = core.sync_shared();
            let (mut guard, _) = core
                .wake
                .wait_timeout_while(guard, TICK, |s| !s.requested && !s.stop)
                .unwrap_or_else(|p| p.into_inner());
            if guard.stop {
                return;
            }
            std::mem::take(&mut guard.requested)
        };
        let _ = core.lock_if_idle();
        let due = next.is_some_and(|t| Instant::now() >= t);
        if !requested && !due {
            continue;
        }
        let Ok(Some(credentials)) = core.sync_credentials() else {
            next = None;
            continue;
        };
        next = Some(Instant::now() + once(core, &credentials));
    }
}

fn set(core: &Core, phase: SyncPhase, error: Option<ApiError>) {
    let mut shared = core.sync_shared();
    shared.state.phase = phase;
    shared.state.progress = None;
    shared.state.last_error = error;
}

/// One sync; returns when to try again.
fn once(core: &Core, c: &crate::core::SyncCredentials) -> Duration {
    core.sync_shared().running = true;
    set(core, SyncPhase::Connecting, None);
    // An unlocked user not yet proven on this device proves their account first (their
    // password is the account's): a refusal does not stop the others' work syncing.
    let mut proof: Option<SyncError> = None;
    let result = Store::open(&c.db, Some(&c.user), c.password())
        .map_err(SyncError::from)
        .and_then(|mut store| {
            match tern_sync::prove(&mut store, c.password()) {
                Ok(()) => {}
                Err(e @ SyncError::Offline { .. }) | Err(e @ SyncError::Revoked) => return Err(e),
                Err(e) => proof = Some(e),
            }
            set(core, SyncPhase::Pushing, None);
            tern_sync::sync_reporting(store, &Default::default(), |p| {
                let mut shared = core.sync_shared();
                shared.state.phase = if p.pushing {
                    SyncPhase::Pushing
                } else {
                    SyncPhase::Pulling
                };
                shared.state.progress = Some(p.fraction());
            })
        });
    let wait = match result {
        Ok((store, _report)) => {
            let status = store.sync_status().ok();
            let pending = store.unsynced_records().map(|r| r.len()).unwrap_or(0);
            if proof.is_none() {
                // The session's store learns the proof (restricted sections open).
                let _ = core.refresh_session_user();
            }
            let mut shared = core.sync_shared();
            shared.state.phase = SyncPhase::Idle;
            shared.state.progress = None;
            shared.state.last_error = proof.map(Into::into);
            shared.state.pending_records = pending;
            if let Some(status) = &status {
                shared.state.unproven_users = status.unproven_users.clone();
            }
            shared.state.last_sync_at = status.and_then(|s| s.last_sync);
            INTERVAL
        }
        Err(SyncError::Revoked) => {
            let _ = core.wiped();
            set(
                core,
                SyncPhase::Revoked,
                Some(ApiError::new(
                    Code::Revoked,
                    "The server revoked this device; its data was erased.",
                )),
            );
            INTERVAL
        }
        Err(e @ SyncError::Offline { .. }) => {
            set(core, SyncPhase::Offline, Some(e.into()));
            RETRY
        }
        Err(e) => {
            set(core, SyncPhase::Error, Some(e.into()));
            RETRY
        }
    };
    core.sync_shared().running = false;
    wait
}
