//! `tern admin`: sites, users and devices of a server store, directly on its
//! database (`--data DIR` or `--database-url URL`). Thin over `tern_server::admin`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tern_server::admin::Admin;

use crate::emit;

#[derive(Args)]
pub struct AdminArgs {
    /// Folder of the embedded SQLite database.
    #[arg(long, value_name = "DIR", global = true)]
    data: Option<PathBuf>,
    /// PostgreSQL database URL.
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Sites (reception centres, pre-departure clinics).
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Server accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Devices: enrolment codes, revocation, list.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// What the server holds and what waits for verification, as JSON (head,
    /// documents, records, unverified, quarantined).
    Status,
    /// Rebuild what the server knows of each record (answers and the form engine's
    /// verdict, for reports) from the verified documents; prints what it did as
    /// JSON (records, skipped).
    Reproject,
    /// Recipients of exports: a name and an `age` public key each.
    Recipient {
        #[command(subcommand)]
        command: RecipientCommand,
    },
    /// Documents with quarantined changes.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// List them as JSON (doc, reason: names the user, role and field, never a value).
    List,
}

#[derive(Subcommand)]
enum RecipientCommand {
    /// Register a recipient's age public key (`age1...`); prints its name. Exports
    /// with `--recipient NAME` are encrypted to it.
    Add { name: String, public_key: String },
    /// List recipients as JSON (name, public_key, added_at).
    List,
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Add a site; prints its name.
    Add { site: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account (password: TERN_PASSWORD or a prompt); prints its name.
    Add {
        name: String,
        /// screener, clinician, supervisor, data_manager or admin
        #[arg(long)]
        role: String,
        /// A site the account works at (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// Change an account: another role and/or more sites; prints its name. Devices
    /// learn it at their next sync.
    Change {
        name: String,
        /// The new role.
        #[arg(long)]
        role: Option<String>,
        /// Another site the account works at (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// List accounts as JSON (name, role, sites).
    List,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Make a one-time enrolment code for a device of SITE; prints the code.
    Enroll {
        #[arg(long)]
        site: String,
        /// Enrol only this account (default: the account the device's user names).
        /// Either way the account proves itself with its own password.
        #[arg(long)]
        user: Option<String>,
        /// How long the code stays valid, in hours (it is single-use either way).
        #[arg(long, default_value_t = 24)]
        valid_hours: u32,
    },
    /// Revoke a device: it gets nothing more and destroys its keys when it connects.
    Revoke { device: String },
    /// List devices as JSON (id, site, user, last_sync, revoked).
    List,
}

pub fn run(args: AdminArgs) -> Result<ExitCode> {
    // A hub's folder: its key unwrapped with the supervisor's password, and its codes
    // carry the certificate fingerprint the team's devices pin.
    let mut hub_pin = None;
    let storage = match &args.data {
        Some(dir) if tern_hub::is_hub(dir) => {
            let user = std::env::var("TERN_USER").ok();
            let pass = crate::device::password("TERN_PASSWORD", "Supervisor's password: ")?;
            let (storage, info) = tern_hub::admin_storage(dir, user.as_deref(), &pass)?;
            hub_pin = Some(info.fingerprint);
            storage
        }
        _ => crate::serve::storage(args.data, args.database_url)?,
    };
    let admin = Admin::open(&storage).context("cannot open the server store")?;
    match args.command {
        AdminCommand::Site {
            command: SiteCommand::Add { site },
        } => {
            admin.add_site(&site)?;
            emit(&site);
        }
        AdminCommand::User { command } => match command {
            UserCommand::Add { .. } if hub_pin.is_some() => {
                anyhow::bail!(
                    "a hub's accounts come from its upstream server: add the account there \
                     (`tern admin --data DIR user add` on the server), then sync the hub"
                );
            }
            UserCommand::Add { name, role, sites } => {
                let pass =
                    crate::device::password("TERN_PASSWORD", &format!("Password for {name}: "))?;
                admin.add_user(&name, &role, &pass, &sites)?;
                emit(&name);
            }
            UserCommand::Change { name, role, sites } => {
                admin.change_user(&name, role.as_deref(), &sites)?;
                emit(&name);
            }
            UserCommand::List => emit(&serde_json::to_string_pretty(&admin.users()?)?),
        },
        AdminCommand::Device { command } => match command {
            DeviceCommand::Enroll {
                site,
                user,
                valid_hours,
            } => {
                let code = admin.enrolment_code_valid(
                    &site,
                    user.as_deref(),
                    i64::from(valid_hours) * 3600 * 1000,
                )?;
                match &hub_pin {
                    Some(pin) => emit(&format!("{code}#{pin}")),
                    None => emit(&code),
                }
            }
            DeviceCommand::Revoke { device } => {
                admin.revoke(&device)?;
                emit(&device);
            }
            DeviceCommand::List => emit(&serde_json::to_string_pretty(&admin.devices()?)?),
        },
        AdminCommand::Recipient { command } => match command {
            RecipientCommand::Add { name, public_key } => {
                admin.add_recipient(&name, &public_key)?;
                emit(&name);
            }
            RecipientCommand::List => emit(&serde_json::to_string_pretty(&admin.recipients()?)?),
        },
        AdminCommand::Status => emit(&serde_json::to_string_pretty(&admin.backlog()?)?),
        AdminCommand::Reproject => emit(&serde_json::to_string_pretty(&admin.reproject()?)?),
        AdminCommand::Quarantine {
            command: QuarantineCommand::List,
        } => {
            let listed: Vec<serde_json::Value> = admin
                .quarantined()?
                .into_iter()
                .map(|(doc, reason)| serde_json::json!({ "doc": doc, "reason": reason }))
                .collect();
            emit(&serde_json::to_string_pretty(&listed)?)
        }
    }
    Ok(ExitCode::SUCCESS)
}
