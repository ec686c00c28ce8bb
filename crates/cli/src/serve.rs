//! `tern serve`: runs the central server (tern-server). Prints the address it
//! listens on as the first stdout line, then, with `--demo`, one JSON line with the
//! demo accounts and an enrolment code. Logs are JSON lines on stderr (`TERN_LOG`
//! sets the filter, default `info`).

use anyhow::{bail, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tern_server::{ServeConfig, Storage};

use crate::emit;

#[derive(Args)]
pub struct ServeArgs {
    /// Folder of the embedded SQLite database (default storage).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// PostgreSQL instead of SQLite: postgres://user@host:port/db
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Create a demo site, a user of each role and an enrolment code, and print them.
    #[arg(long)]
    demo: bool,
    /// Serve the supervisor dashboard at / from this UI build (ui/dist) instead of
    /// the one built into this binary.
    #[arg(long, value_name = "DIR")]
    dashboard: Option<PathBuf>,
}

/// `--data DIR` or `--database-url URL`, exactly one.
pub fn storage(data: Option<PathBuf>, url: Option<String>) -> Result<Storage> {
    match (data, url) {
        (Some(d), None) => Ok(Storage::Dir(d)),
        (None, Some(u)) => Ok(Storage::Url(u)),
        (Some(_), Some(_)) => bail!("give either --data DIR or --database-url URL, not both"),
        (None, None) => bail!("give --data DIR (SQLite) or --database-url URL (PostgreSQL)"),
    }
}

pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TERN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    init_logs();
    let config = ServeConfig {
        storage: storage(args.data, args.database_url)?,
        listen: args.listen,
        tls: args.tls_cert.zip(args.tls_key),
        demo: args.demo,
        dashboard: args.dashboard,
    };
    tern_server::serve(config, |running| {
        emit(&running.addr.to_string());
        if let Some(demo) = &running.demo {
            emit(&serde_json::to_string(demo).unwrap_or_default());
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
