//! A hub at work: its server for the team on the local network and its upstream
//! sync loop, started and stopped as one. `tern hub` and the supervisor's app run
//! the hub through this, so both behave the same.
//!
//! The upstream loop syncs at once, then every [`SYNC_EVERY`] while the upstream
//! answers, backing off from 5 s to [`BACKOFF_MAX`] while it does not; a sync can be
//! asked for at any time ([`RunningHub::sync_now`]). A hub revoked upstream stops
//! syncing, and its keys and database are gone ([`Hub::sync`]); the server keeps
//! answering (its files are gone, so it refuses everything) until it is stopped.

use crate::{Hub, HubError, HubProgress, HubSyncReport};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Between upstream syncs while the upstream answers.
pub const SYNC_EVERY: Duration = Duration::from_secs(60);
/// The longest wait between attempts while it does not (the wait doubles from 5 s).
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
const BACKOFF_MIN: Duration = Duration::from_secs(5);

/// What the upstream loop is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamPhase {
    /// Waiting for the next sync.
    #[default]
    Idle,
    Syncing,
    /// The last attempt did not reach the upstream, or it refused; retried later.
    Failed,
    /// Revoked upstream: the hub destroyed its keys and database.
    Revoked,
}

/// The upstream loop's state, as the app shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpstreamState {
    pub phase: UpstreamPhase,
    /// While syncing: how far it got.
    pub progress: Option<HubProgress>,
    /// What the last successful sync did.
    pub last_report: Option<HubSyncReport>,
    /// Why the last attempt failed (names no health data).
    pub last_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: UpstreamState,
    requested: bool,
    stop: bool,
}

struct Control {
    shared: Mutex<Shared>,
    wake: Condvar,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A started hub; [`RunningHub::stop`] ends both its server and its upstream loop.
pub struct RunningHub {
    hub: Arc<Hub>,
    addr: SocketAddr,
    rt: tokio::runtime::Runtime,
    server: Option<tern_server::Running>,
    control: Arc<Control>,
    revoked: Arc<tokio::sync::Notify>,
    upstream: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningHub")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Starts serving the team on `listen` (port 0 picks a free one) and syncing
    /// upstream in the background.
    pub fn start(self, listen: SocketAddr) -> Result<RunningHub, HubError> {
        let config = self.serve_config(listen)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let server = rt.block_on(tern_server::start(config))?;
        let addr = server.addr;
        let hub = Arc::new(self);
        let control = Arc::new(Control {
            shared: Mutex::new(Shared::default()),
            wake: Condvar::new(),
        });
        let revoked = Arc::new(tokio::sync::Notify::new());
        let upstream = {
            let (hub, control, revoked) = (hub.clone(), control.clone(), revoked.clone());
            std::thread::Builder::new()
                .name("tern-hub-upstream".into())
                .spawn(move || upstream_loop(&hub, &control, &revoked))?
        };
        Ok(RunningHub {
            hub,
            addr,
            rt,
            server: Some(server),
            control,
            revoked,
            upstream: Some(upstream),
        })
    }
}

fn upstream_loop(hub: &Hub, control: &Control, revoked: &tokio::sync::Notify) {
    let mut backoff = BACKOFF_MIN;
    let mut next = Instant::now();
    loop {
        {
            let mut shared = control.lock();
            loop {
                if shared.stop {
                    return;
                }
                if std::mem::take(&mut shared.requested) || Instant::now() >= next {
                    break;
                }
                let wait = next.saturating_duration_since(Instant::now());
                shared = control
                    .wake
                    .wait_timeout(shared, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            shared.state.phase = UpstreamPhase::Syncing;
            shared.state.progress = Some(HubProgress::default());
        }
        let result = hub.sync_reporting(|p| control.lock().state.progress = Some(*p));
        let mut shared = control.lock();
        shared.state.progress = None;
        match result {
            Ok(report) => {
                shared.state.phase = UpstreamPhase::Idle;
                shared.state.last_report = Some(report);
                shared.state.last_error = None;
                backoff = BACKOFF_MIN;
                next = Instant::now() + SYNC_EVERY;
            }
            Err(HubError::Revoked) => {
                shared.state.phase = UpstreamPhase::Revoked;
                shared.state.last_error = Some(HubError::Revoked.to_string());
                tracing::error!("{}", HubError::Revoked);
                revoked.notify_one();
                return;
            }
            Err(e) => {
                tracing::warn!("upstream sync failed, retrying in {backoff:?}: {e}");
                shared.state.phase = UpstreamPhase::Failed;
                shared.state.last_error = Some(e.to_string());
                next = Instant::now() + backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

impl RunningHub {
    /// The address the team's devices reach the hub at (the port is the real one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The upstream loop's state.
    pub fn upstream(&self) -> UpstreamState {
        self.control.lock().state.clone()
    }

    /// Asks for an upstream sync now (the loop runs it after the one in progress).
    pub fn sync_now(&self) {
        self.control.lock().requested = true;
        self.control.wake.notify_all();
    }

    /// Waits until Ctrl-C, SIGTERM, or the hub's revocation upstream; true when revoked.
    pub fn wait(&self) -> bool {
        self.rt.block_on(async {
            tokio::select! {
                _ = tern_server::shutdown_signal() => false,
                _ = self.revoked.notified() => true,
            }
        })
    }

    /// Stops serving (requests in flight finish) and ends the upstream loop after
    /// the sync it may be running.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        {
            self.control.lock().stop = true;
            self.control.wake.notify_all();
        }
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.shutdown());
        }
        if let Some(thread) = self.upstream.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        self.shutdown();
    }
}
