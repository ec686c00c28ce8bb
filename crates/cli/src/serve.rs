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
    /// PostgreSQL instead of SQLite: postgres://user@host:port/db. A URL with a
    /// password is better given as TERN_DATABASE_URL or in the file named by
    /// TERN_DATABASE_URL_FILE (a command line is visible to every local user).
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
    /// Largest change accepted, inflated (MiB).
    #[arg(long, value_name = "MIB", default_value_t = 8)]
    max_change_mib: u64,
    /// Largest whole document accepted, its columns inflated (MiB).
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_document_mib: u64,
    /// A dashboard session ends after this many minutes without a request.
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    session_idle_minutes: u64,
    /// Open connections allowed from one source address.
    #[arg(long, value_name = "N", default_value_t = 64)]
    connections_per_address: usize,
    /// Open connections allowed in all.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    connections: usize,
    /// Sign-in and enrolment attempts allowed per source address and minute.
    #[arg(long, value_name = "N", default_value_t = 20)]
    logins_per_address_per_minute: u32,
}

/// `--data DIR` or `--database-url URL`, exactly one; without either, the URL in
/// `TERN_DATABASE_URL` or in the file `TERN_DATABASE_URL_FILE` names.
pub fn storage(data: Option<PathBuf>, url: Option<String>) -> Result<Storage> {
    let url = match (&data, url) {
        (None, None) => url_from_env()?,
        (_, url) => url,
    };
    match (data, url) {
        (Some(d), None) => Ok(Storage::Dir(d)),
        (None, Some(u)) => Ok(Storage::Url(u)),
        (Some(_), Some(_)) => bail!("give either --data DIR or --database-url URL, not both"),
        (None, None) => bail!("give --data DIR (SQLite) or --database-url URL (PostgreSQL)"),
    }
}

fn url_from_env() -> Result<Option<String>> {
    if let Ok(url) = std::env::var("TERN_DATABASE_URL") {
        return Ok(Some(url));
    }
    let Ok(file) = std::env::var("TERN_DATABASE_URL_FILE") else {
        return Ok(None);
    };
    match std::fs::read_to_string(&file) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Ok(_) => bail!("TERN_DATABASE_URL_FILE names {file}, which is empty"),
        Err(e) => bail!("cannot read TERN_DATABASE_URL_FILE {file}: {e}"),
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
        upstream: None,
        tls_pem: None,
        limits: tern_server::limits::Limits {
            chunks: tern_server::limits::ChunkLimits {
                change: args.max_change_mib << 20,
                document: args.max_document_mib << 20,
            },
            session_idle: std::time::Duration::from_secs(args.session_idle_minutes * 60),
            connections_per_address: args.connections_per_address,
            connections: args.connections,
            logins_per_address_per_minute: args.logins_per_address_per_minute,
            ..Default::default()
        },
    };
    tern_server::serve(config, |running| {
        emit(&running.addr.to_string());
        if let Some(demo) = &running.demo {
            emit(&serde_json::to_string(demo).unwrap_or_default());
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL URL (with its password) need not be on the command line.
    #[test]
    fn the_database_url_comes_from_the_environment_or_a_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("url");
        std::fs::write(&file, "postgres://tern:secret@db/tern\n").expect("write");
        std::env::remove_var("TERN_DATABASE_URL");
        std::env::set_var("TERN_DATABASE_URL_FILE", &file);
        assert_eq!(
            storage(None, None).expect("from the file"),
            Storage::Url("postgres://tern:secret@db/tern".into())
        );
        std::env::set_var("TERN_DATABASE_URL", "postgres://tern@other/tern");
        assert_eq!(
            storage(None, None).expect("from the variable"),
            Storage::Url("postgres://tern@other/tern".into())
        );
        // Given on the command line, the options win.
        assert_eq!(
            storage(Some(PathBuf::from("d")), None).expect("dir"),
            Storage::Dir(PathBuf::from("d"))
        );
        std::env::remove_var("TERN_DATABASE_URL");
        std::env::set_var("TERN_DATABASE_URL_FILE", dir.path().join("missing"));
        let e = storage(None, None).expect_err("missing file");
        assert!(
            e.to_string().contains("cannot read TERN_DATABASE_URL_FILE"),
            "{e}"
        );
        std::env::remove_var("TERN_DATABASE_URL_FILE");
    }
}
