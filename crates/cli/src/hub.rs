//! `tern hub`: the supervisor's laptop as a hub for a field team (tern-hub). Thin.
//!
//! - `tern hub --data DIR --upstream URL --code CODE [--listen ADDR]` sets the hub up
//!   (first start only), then serves; `tern hub --data DIR [--listen ADDR]` serves.
//!   The first stdout line is the address (`https://...`), the second a JSON line
//!   with the certificate fingerprint and an enrolment code for the team's devices
//!   (`CODE#FINGERPRINT`: the device pins the certificate). The hub syncs upstream on
//!   its own whenever the upstream answers, backing off while it does not.
//! - `tern hub --data DIR sync` syncs upstream now and prints the JSON summary;
//!   `tern hub --data DIR status` prints what waits each way and the last sync.
//!
//! The supervisor's account is `TERN_USER` (by default the hub's), its password
//! `TERN_PASSWORD` or a prompt: it proves the account upstream and unwraps the
//! hub's database key.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tern_hub::{Hub, HubError};

use crate::emit;

#[derive(Args)]
pub struct HubArgs {
    /// The hub's data folder (encrypted; its key wrapped with the supervisor's password).
    #[arg(long, value_name = "DIR", global = true)]
    data: Option<PathBuf>,
    /// The upstream server (first start only).
    #[arg(long, value_name = "URL", requires = "code")]
    upstream: Option<String>,
    /// An enrolment code from the upstream server for the supervisor's account (first
    /// start only).
    #[arg(long, requires = "upstream")]
    code: Option<String>,
    /// Address to serve the team on; port 0 picks a free one.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    #[command(subcommand)]
    command: Option<HubCommand>,
}

#[derive(Subcommand)]
enum HubCommand {
    /// Sync with the upstream server now; prints a JSON summary.
    Sync,
    /// What waits each way and the last upstream sync, as JSON.
    Status,
    /// Bundles to and from the upstream server or a device of the team, for when
    /// there is no network at all.
    Bundle {
        #[command(subcommand)]
        command: HubBundleCommand,
    },
}

#[derive(Subcommand)]
enum HubBundleCommand {
    /// Write what the peer has not acknowledged to OUT_FILE; prints a JSON summary.
    Export {
        /// `upstream`, or the id of a device of the team.
        #[arg(long, value_name = "DEVICE_ID|upstream")]
        to: String,
        #[arg(value_name = "OUT_FILE")]
        out: PathBuf,
    },
    /// Apply a bundle from the upstream server or a device; prints a JSON summary.
    Import {
        #[arg(value_name = "IN_FILE")]
        file: PathBuf,
    },
}

pub fn run(args: HubArgs) -> Result<ExitCode> {
    let Some(dir) = args.data else {
        bail!("give --data DIR: the hub's data folder");
    };
    let user = std::env::var("TERN_USER").ok();
    let password = crate::device::password("TERN_PASSWORD", "Supervisor's password: ")?;
    let hub = match (&args.upstream, &args.code) {
        (Some(upstream), Some(code)) if !tern_hub::is_hub(&dir) => {
            let Some(user) = user.as_deref() else {
                bail!("set TERN_USER to the supervisor's account the hub runs for");
            };
            Hub::init(&dir, upstream, code, user, &password)?
        }
        _ => Hub::open(&dir, user.as_deref(), &password)?,
    };
    match args.command {
        Some(HubCommand::Sync) => match hub.sync() {
            Ok(report) => {
                emit(&serde_json::to_string_pretty(&report)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(1))
            }
        },
        Some(HubCommand::Bundle { command }) => {
            let done = match command {
                HubBundleCommand::Export { to, out } => hub.bundle_export(&to, &out),
                HubBundleCommand::Import { file } => hub.bundle_import(&file),
            };
            match done {
                Ok(summary) => {
                    emit(&serde_json::to_string_pretty(&summary)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Some(HubCommand::Status) => {
            emit(&serde_json::to_string_pretty(&hub.status()?)?);
            Ok(ExitCode::SUCCESS)
        }
        None => serve(hub, args.listen),
    }
}

fn serve(hub: Hub, listen: SocketAddr) -> Result<ExitCode> {
    crate::serve::init_logs();
    let code = hub.enrolment_code(None)?;
    let fingerprint = hub.info().fingerprint.clone();
    let running = hub.start(listen)?;
    emit(&format!("https://{}", running.addr()));
    emit(&serde_json::json!({ "fingerprint": fingerprint, "enrolment_code": code }).to_string());
    if running.wait() {
        eprintln!("error: {}", HubError::Revoked);
        return Ok(ExitCode::from(1));
    }
    running.stop();
    Ok(ExitCode::SUCCESS)
}
