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
    /// Bundles to and from a device or hub, for when there is no network at all.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
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
enum BundleCommand {
    /// Write what the device or hub has not acknowledged to OUT_FILE; prints a JSON
    /// summary.
    Export {
        /// The device's id, or a hub's id.
        #[arg(long, value_name = "DEVICE_ID")]
        to: String,
        #[arg(value_name = "OUT_FILE")]
        out: PathBuf,
    },
    /// Apply a bundle a device or hub wrote for this server; prints a JSON summary.
    Import {
        #[arg(value_name = "IN_FILE")]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// List the documents whose quarantined changes wait for a decision, as JSON
    /// (doc, kind, site, reason, authors, changes: names the user, role and field,
    /// never a value).
    List,
    /// Merge a document's quarantined changes without the check that failed (a
    /// running server's verifier takes them within a second; devices pull them);
    /// prints {doc, decision, changes}. Access-logged as `tern-admin`.
    Release {
        doc: String,
        /// Why (one line, never a health value); kept with the decision.
        #[arg(long)]
        reason: String,
    },
    /// Keep a document's quarantined changes out for good; prints {doc, decision,
    /// changes}. Access-logged as `tern-admin`.
    Reject {
        doc: String,
        /// Why (one line, never a health value); kept with the decision.
        #[arg(long)]
        reason: String,
    },
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
        AdminCommand::Bundle { command } => {
            let summary = match command {
                BundleCommand::Export { to, out } => {
                    let (bytes, summary) = admin.bundle_export(&to)?;
                    tern_sync::device_bundle::write_file(&out, &bytes)
                        .with_context(|| format!("cannot write {}", out.display()))?;
                    summary
                }
                BundleCommand::Import { file } => {
                    let bytes = std::fs::read(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?;
                    admin.bundle_import(&bytes)?
                }
            };
            emit(&serde_json::to_string_pretty(&summary)?)
        }
        AdminCommand::Recipient { command } => match command {
            RecipientCommand::Add { name, public_key } => {
                admin.add_recipient(&name, &public_key)?;
                emit(&name);
            }
            RecipientCommand::List => emit(&serde_json::to_string_pretty(&admin.recipients()?)?),
        },
        AdminCommand::Status => emit(&serde_json::to_string_pretty(&admin.backlog()?)?),
        AdminCommand::Reproject => emit(&serde_json::to_string_pretty(&admin.reproject()?)?),
        AdminCommand::Quarantine { command } => match command {
            QuarantineCommand::List => {
                emit(&serde_json::to_string_pretty(&admin.quarantine_list()?)?)
            }
            QuarantineCommand::Release { doc, reason } => {
                let decided = admin.quarantine_decide(
                    &doc,
                    tern_server::quarantine::Choice::Release,
                    &reason,
                )?;
                emit(&serde_json::to_string_pretty(&decided)?)
            }
            QuarantineCommand::Reject { doc, reason } => {
                let decided = admin.quarantine_decide(
                    &doc,
                    tern_server::quarantine::Choice::Reject,
                    &reason,
                )?;
                emit(&serde_json::to_string_pretty(&decided)?)
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
