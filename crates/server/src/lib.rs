//! tern-server: the central Tern service (axum). Accounts, sites, devices, enrolment,
//! the sync endpoint, record views, exports and the access log, over embedded SQLite
//! (default) or PostgreSQL.
//!
//! Invariants:
//! - Handlers are thin; what an endpoint does lives in [`service`], storage behind
//!   the [`db::Db`] trait. With PostgreSQL the process keeps no state between
//!   requests that another replica would need: sessions, rate-limit counters, the
//!   verification queue and sequence numbers all live in the database.
//! - A push is acknowledged only once durable and past the cheap checks (framing,
//!   checksums, sizes, authors' roles and sites); verification and projection run
//!   afterwards ([`verify`]), and anything failing there is quarantined, never merged.
//! - Heavy CPU work (decompression, change parsing, Automerge loads) runs on the
//!   blocking pool, never on the async runtime's threads.
//! - Secrets are stored only as hashes (Argon2id for passwords, SHA-256 for opaque
//!   tokens and enrolment codes), but for keys the server must use (its bundle keys,
//!   the devices' escrowed restricted keys: [`escrow`]), kept only in its database.
//! - Logs and the access log name actions, routes and ids, never health values.
//! - No client code depends on this crate.

pub mod admin;
pub mod api;
pub mod auth;
pub mod bundle;
pub mod dashboard;
pub mod db;
pub mod enrolment;
pub mod escrow;
pub mod export;
pub mod facts;
pub mod guard;
pub mod limits;
pub mod migrate;
pub mod pg_tls;
pub mod postgres;
pub mod push;
pub mod quarantine;
pub mod report_api;
pub mod reports;
pub mod reproject;
pub mod service;
pub mod sqlite;
pub mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Where the server keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Embedded SQLite in this folder.
    Dir(PathBuf),
    /// Embedded SQLite in this folder, opened with this key instead of a key file (a
    /// supervisor hub's, unwrapped with the supervisor's passphrase).
    Keyed(PathBuf, DbKey),
    /// PostgreSQL at this URL (`postgres://...`).
    Url(String),
}

/// A database key (64 hex digits) held in memory; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(pub String);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(..)")
    }
}

/// The key is wiped from memory when dropped (issue 13).
impl Drop for DbKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub storage: Storage,
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: serve HTTPS (rustls).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Create a demo site, a user of each role and an enrolment code.
    pub demo: bool,
    /// Serve the supervisor dashboard from this UI build (`ui/dist`) instead of the
    /// one embedded at compile time.
    pub dashboard: Option<PathBuf>,
    /// Bounds on inputs, connections, sign-in attempts and sessions.
    pub limits: limits::Limits,
    /// On a supervisor hub: the upstream server that checks account passwords.
    pub upstream: Option<UpstreamHandle>,
    /// TLS from PEM text in memory (a hub's self-signed certificate and key, kept in
    /// its encrypted database), instead of `tls` files.
    pub tls_pem: Option<(Vec<u8>, Vec<u8>)>,
}

/// The upstream of a hub, for [`ServeConfig`].
#[derive(Clone)]
pub struct UpstreamHandle(pub Arc<dyn service::Upstream>);

impl std::fmt::Debug for UpstreamHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpstreamHandle")
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS configuration: {0}")]
    Tls(std::io::Error),
    #[error("storage: {0}")]
    Db(#[from] db::DbError),
    #[error("{0}")]
    Api(#[from] service::ApiError),
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0}")]
    Dashboard(#[from] dashboard::DashboardError),
}

/// The demo accounts `--demo` created.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Demo {
    pub site: String,
    pub users: Vec<DemoUser>,
    pub enrolment_code: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DemoUser {
    pub name: String,
    pub role: String,
    /// `None` when the account already existed (its password is unchanged).
    pub password: Option<String>,
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub demo: Option<Demo>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, stops the verifier.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens the storage and starts serving; returns once listening.
pub async fn start(config: ServeConfig) -> Result<Running, ServerError> {
    match &config.storage {
        Storage::Dir(dir) => {
            let db = sqlite::SqliteDb::open(dir)?;
            start_with(Arc::new(db), &config).await
        }
        Storage::Keyed(dir, key) => {
            let db = sqlite::SqliteDb::open_with(dir, Some(&key.0))?;
            start_with(Arc::new(db), &config).await
        }
        Storage::Url(url) => {
            let db = postgres::PgDb::connect(url).await?;
            start_with(Arc::new(db), &config).await
        }
    }
}

async fn demo<D: db::Db>(db: &D) -> Result<Demo, ServerError> {
    let site = "demo".to_string();
    match service::add_site(db, &site).await {
        Ok(()) => {}
        Err(e) if e.code == tern_sync::protocol::ErrorCode::Conflict => {}
        Err(e) => return Err(e.into()),
    }
    let mut users = Vec::new();
    for role in [
        "screener",
        "clinician",
        "supervisor",
        "data_manager",
        "admin",
    ] {
        let name = format!("demo-{}", role.replace('_', "-"));
        let password = auth::new_token().map_err(service::ApiError::from)?[..16].to_string();
        let created = match service::add_user(
            db,
            &name,
            role,
            &password,
            std::slice::from_ref(&site),
        )
        .await
        {
            Ok(()) => Some(password),
            Err(e) if e.code == tern_sync::protocol::ErrorCode::Conflict => None,
            Err(e) => return Err(e.into()),
        };
        users.push(DemoUser {
            name,
            role: role.into(),
            password: created,
        });
    }
    let enrolment_code = service::enrolment_code(db, &site, None, service::ENROLMENT_MS).await?;
    Ok(Demo {
        site,
        users,
        enrolment_code,
    })
}

/// Starts serving over an opened storage.
pub async fn start_with<D: export::store::ExportDb>(
    db: Arc<D>,
    config: &ServeConfig,
) -> Result<Running, ServerError> {
    service::publish_builtin_forms(db.as_ref()).await?;
    // Facts written before reports were kept as parts (crate::reports::parts_of), or
    // by another version of them: rebuild them once, before the verifier writes new
    // ones.
    if db.report_parts_missing(reports::PARTS_VERSION).await? {
        tracing::info!("rebuilding the report parts of every record once");
        let done = reproject::reproject(db.as_ref(), chrono::Utc::now().date_naive()).await?;
        tracing::info!(
            records = done.records,
            skipped = done.skipped.len(),
            "report parts rebuilt"
        );
    }
    db.set_setting(reports::PARTS_SETTING, reports::PARTS_VERSION)
        .await?;
    let demo = if config.demo {
        Some(demo(db.as_ref()).await?)
    } else {
        None
    };
    let wake = Arc::new(Notify::new());
    let state = Arc::new(api::AppState {
        db: db.clone(),
        verify: wake.clone(),
        upstream: config.upstream.as_ref().map(|u| u.0.clone()),
        limits: config.limits.clone(),
        attempts: Default::default(),
    });
    let mut app = api::router(state);
    if let Some(dir) = &config.dashboard {
        app = app.merge(dashboard::router(dir)?);
    } else if let Some(embedded) = dashboard::embedded_router() {
        app = app.merge(embedded);
    } else {
        tracing::warn!(
            "this server was built without the dashboard (no ui/dist at build time): build the UI with `npm --prefix ui run build` and rebuild tern, or give --dashboard ui/dist"
        );
    }
    let (stop, stopped) = watch::channel(false);
    let verifier = tokio::spawn(verify::run(db, wake, stopped.clone(), config.limits.chunks));
    let listener =
        std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    listener
        .set_nonblocking(true)
        .map_err(ServerError::Runtime)?;
    let addr = listener.local_addr().map_err(ServerError::Runtime)?;
    let mut stop_rx = stopped;
    let tls = match (&config.tls, &config.tls_pem) {
        (Some((cert, key)), _) => Some(
            axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(ServerError::Tls)?,
        ),
        (None, Some((cert, key))) => Some(
            axum_server::tls_rustls::RustlsConfig::from_pem(cert.clone(), key.clone())
                .await
                .map_err(ServerError::Tls)?,
        ),
        (None, None) => None,
    };
    let task = match tls {
        None => {
            let listener =
                tokio::net::TcpListener::from_std(listener).map_err(ServerError::Runtime)?;
            let limits = config.limits.clone();
            tokio::spawn(async move {
                guard::serve_plain(listener, app, limits, stop_rx).await;
                let _ = verifier.await;
            })
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            let drain = config.limits.drain;
            tokio::spawn(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
                h.graceful_shutdown(Some(drain));
            });
            // The same bounds as plain HTTP: connections per address and in all,
            // a time limit on request headers (issue 13).
            let limits = config.limits.clone();
            let mut server = axum_server::from_tcp_rustls(listener, tls)
                .map_err(ServerError::Runtime)?
                .map(|tls| tls.acceptor(guard::LimitAcceptor::new(limits.clone())))
                .first_request_timeout(limits.header_timeout);
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            tokio::spawn(async move {
                let app = app.into_make_service_with_connect_info::<SocketAddr>();
                if let Err(e) = server.handle(handle).serve(app).await {
                    tracing::error!(error = %e, "server stopped with an error");
                }
                let _ = verifier.await;
            })
        }
    };
    tracing::info!(%addr, tls = config.tls.is_some() || config.tls_pem.is_some(), "listening");
    Ok(Running {
        addr,
        demo,
        stop,
        task,
    })
}

/// Runs the server until Ctrl-C or SIGTERM, then shuts down gracefully. `started`
/// is called once listening (the CLI prints the address first).
pub fn serve(config: ServeConfig, started: impl FnOnce(&Running)) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let running = start(config).await?;
        started(&running);
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

/// Waits for Ctrl-C or SIGTERM (the end of `tern serve` and `tern hub`).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
