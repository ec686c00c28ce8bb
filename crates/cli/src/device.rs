//! `tern device`: the headless device store (tern-store). Thin: reads arguments and
//! the password, calls the store, prints the id or one JSON document on stdout.
//!
//! The password comes from `TERN_PASSWORD` or a prompt; with no terminal on stdin and
//! no variable set the command fails at once. The server account's own password
//! (enrolment, the first sync of a user) is `TERN_ACCOUNT_PASSWORD`, else the same. A new password (`user add`,
//! `user passwd`) comes from `TERN_NEW_PASSWORD` or a prompt. The acting user is
//! `--user` or `TERN_USER`, by default the only user of the store.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tern_store::{RecordFilter, Role, Store, SubjectQuery};

use crate::emit;

#[derive(Args)]
pub struct DeviceArgs {
    /// The store's database file (its keys live beside it in FILE.keys).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// The acting local user (default: TERN_USER, or the only user).
    #[arg(long)]
    user: Option<String>,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Create a new encrypted store with its first user (password: TERN_PASSWORD).
    Init {
        #[arg(long)]
        user: String,
        /// screener, clinician, supervisor, data_manager or admin; stands until the
        /// user is bound to a server account.
        #[arg(long, default_value = "screener")]
        role: String,
        /// The site this device works for.
        #[arg(long, default_value = "local")]
        site: String,
    },
    /// Local users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Subjects (the screened people).
    Subject {
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// Screening records.
    Record {
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Change files between stores of one deployment: a support tool. The files are
    /// NOT encrypted and not signed (plain health data): use `bundle` to carry work
    /// between devices, hubs and servers.
    Changes {
        #[command(subcommand)]
        command: ChangesCommand,
    },
    /// Bundles: this device's work for its hub or server in a file sealed to it and
    /// signed, and the peer's bundles applied, for when there is no network at all.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
    /// Alerts and tasks the forms' rules raised (TB suspects, notifiable alerts,
    /// isolation), open ones first by deadline; prints JSON. Clinicians and
    /// supervisors.
    Alerts {
        /// Closed ones too.
        #[arg(long)]
        all: bool,
    },
    /// Rebuild the list and search tables from the documents.
    Rebuild,
    /// Fold change rows into compacted snapshots.
    Compact {
        /// Fold documents with more change rows than this.
        #[arg(long, default_value_t = tern_store::COMPACT_AFTER)]
        threshold: usize,
    },
    /// Check the database (`PRAGMA integrity_check`); prints JSON.
    Check,
    /// Enrol this device with a server or a supervisor's hub using a one-time code
    /// from `tern admin` (a hub's code ends in `#FINGERPRINT`, which the device pins);
    /// the acting user proves the server account of the same name with its own
    /// password (TERN_ACCOUNT_PASSWORD, else the store password). A device enrolled
    /// with the central server may enrol with its team's hub too (server first: the
    /// server records the device, then the hub links it): it then syncs with either
    /// (`sync --server`), and bundles name theirs (`bundle export --to`).
    Enroll {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
    },
    /// Push local changes and pull the site's changes; prints JSON counters. An acting
    /// user not yet proven on this device proves their account first (its password:
    /// TERN_ACCOUNT_PASSWORD, else the store password); until then their changes stay.
    Sync {
        /// The hub or server to sync with, by address or bundle id, when the device
        /// enrolled with more than one (default: the first it enrolled with).
        #[arg(long, value_name = "URL|PEER")]
        server: Option<String>,
    },
    /// Enrolment and sync state as JSON (device_id, server, last_sync, pending_changes).
    Status,
    /// Merge the work a revoked device kept (its `DB.unsynced-<time>.tern` file) into
    /// this store, which must not be enrolled (make one with `init`); prints JSON
    /// counters. The file opens with the password of one of the revoked device's
    /// local users (--from-user, default the acting user; TERN_UNSYNCED_PASSWORD,
    /// else the store password); restricted sections only if that user held them.
    Recover {
        #[arg(value_name = "IN_FILE")]
        file: PathBuf,
        /// The revoked device's local user whose password opens the file.
        #[arg(long, value_name = "NAME")]
        from_user: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a local user (their password: TERN_NEW_PASSWORD or a prompt).
    Add {
        name: String,
        #[arg(long, default_value = "screener")]
        role: String,
    },
    /// Change the acting user's password (TERN_NEW_PASSWORD or a prompt); the data is
    /// not re-encrypted.
    Passwd,
}

#[derive(Subcommand)]
enum SubjectCommand {
    /// Register a subject; prints its id.
    Add {
        /// FIELD=VALUE, e.g. --set given_name=Amina --set date_of_birth=1990-05-01
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// Set one subject field.
    Set {
        subject: String,
        field: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Print a subject as JSON.
    Show { subject: String },
    /// Search offline by name fragment, date of birth or document number; prints JSON.
    Search {
        /// Name fragment (accent- and case-insensitive).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        dob: Option<String>,
        #[arg(long)]
        document: Option<String>,
        /// Include subjects merged into another.
        #[arg(long)]
        all: bool,
    },
    /// Mark OTHER as the same person as KEEP and merge it into KEEP.
    Merge { keep: String, other: String },
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Start a record with the newest version of a form; prints the record id.
    New {
        #[arg(long)]
        form: String,
        #[arg(long)]
        subject: String,
    },
    /// Set one answer (FIELD or group[i].field); exits 0 once durable.
    Set {
        record: String,
        field: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Required after lock: the record is then amended.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Move a record to draft, submitted, reviewed, locked or returned.
    Status {
        record: String,
        status: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Accept a warning of a rule with a reason.
    Confirm {
        record: String,
        rule: String,
        #[arg(long)]
        reason: String,
    },
    /// Print the record, its conflicts and the form's verdict as JSON.
    Show { record: String },
    /// Resolve a conflict on a field with a value.
    Resolve {
        record: String,
        field: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Print the history of the record (or one field) as a JSON array.
    History {
        record: String,
        field: Option<String>,
    },
    /// List records as a JSON array (from the projection).
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        form: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        conflicts: bool,
        /// At most this many, newest first (default 1000).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Import records, one JSON object of answers per line.
    Import {
        #[arg(long)]
        form: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ChangesCommand {
    /// Write every change this store has to a file (unencrypted: a support tool).
    Export { file: PathBuf },
    /// Merge a change file (idempotent, any order).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Write what PEER has not acknowledged to OUT_FILE; prints a JSON summary.
    Export {
        /// The hub or server (by id) the bundle is for; needed when the device has two.
        #[arg(long, value_name = "PEER")]
        to: Option<String>,
        #[arg(value_name = "OUT_FILE")]
        out: PathBuf,
    },
    /// Apply a bundle the device's hub or server wrote for it; prints a JSON summary.
    Import {
        #[arg(value_name = "IN_FILE")]
        file: PathBuf,
    },
}

/// Reads a password from `var`, or prompts when stdin is a terminal.
pub fn password(var: &str, prompt: &str) -> Result<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set {var} (stdin is not a terminal, so there is no prompt)");
    }
    rpassword::prompt_password(prompt).context("cannot read the password")
}

/// The store unlocked for the acting user, and the password that unlocked it.
fn open(args: &DeviceArgs) -> Result<(Store, String)> {
    let user = args
        .user
        .clone()
        .or_else(|| std::env::var("TERN_USER").ok());
    let pass = password("TERN_PASSWORD", "Password: ")?;
    Ok((Store::open(&args.db, user.as_deref(), &pass)?, pass))
}

/// The acting user's server account password, which proves the account at enrolment
/// and at the first sync on this device: `TERN_ACCOUNT_PASSWORD` when set, else the
/// password that unlocked the store (one password for both is the usual case).
fn account_password(store_password: String) -> String {
    std::env::var("TERN_ACCOUNT_PASSWORD").unwrap_or(store_password)
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    emit(&serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn run(args: DeviceArgs) -> Result<ExitCode> {
    if let DeviceCommand::Init { user, role, site } = &args.command {
        let role = Role::parse(role)?;
        let pass = password("TERN_PASSWORD", "New password: ")?;
        let store = Store::init(&args.db, user, role, &pass, site)?;
        emit(store.device());
        return Ok(ExitCode::SUCCESS);
    }
    let (mut store, pass) = open(&args)?;
    match args.command {
        DeviceCommand::Enroll { server, code } => {
            crate::device_sync::enroll(&mut store, &server, &code, &account_password(pass))
        }
        DeviceCommand::Sync { server } => {
            if let Some(peer) = &server {
                store.use_peer(peer)?;
            }
            crate::device_sync::sync(store, &account_password(pass))
        }
        DeviceCommand::Status => crate::device_sync::status(&store),
        DeviceCommand::Recover { file, from_user } => recover(&mut store, &file, from_user, pass),
        DeviceCommand::Init { .. } => unreachable_init(),
        DeviceCommand::User { command } => user(&mut store, command),
        DeviceCommand::Subject { command } => subject(&mut store, command),
        DeviceCommand::Record { command } => record(&mut store, command),
        DeviceCommand::Changes { command } => changes(&mut store, command),
        DeviceCommand::Bundle { command } => bundle(&mut store, command),
        DeviceCommand::Alerts { all } => {
            print_json(&store.alerts(!all)?)?;
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::Rebuild => {
            let n = store.rebuild_projections()?;
            print_json(&serde_json::json!({ "documents": n }))?;
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::Compact { threshold } => {
            let n = store.compact(threshold)?;
            print_json(&serde_json::json!({ "compacted": n }))?;
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::Check => {
            let result = store.integrity_check()?;
            let ok = result == "ok";
            print_json(&serde_json::json!({ "integrity_check": result }))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn unreachable_init() -> Result<ExitCode> {
    bail!("init was handled before opening the store")
}

fn user(store: &mut Store, command: UserCommand) -> Result<ExitCode> {
    match command {
        UserCommand::Add { name, role } => {
            let role = Role::parse(&role)?;
            let pass = password("TERN_NEW_PASSWORD", &format!("Password for {name}: "))?;
            store.add_user(&name, role, &pass)?;
            emit(&name);
        }
        UserCommand::Passwd => {
            let pass = password("TERN_NEW_PASSWORD", "New password: ")?;
            store.change_password(&pass)?;
            emit(store.user());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn subject(store: &mut Store, command: SubjectCommand) -> Result<ExitCode> {
    match command {
        SubjectCommand::Add { set } => {
            let mut values = Vec::new();
            for s in set {
                let Some((k, v)) = s.split_once('=') else {
                    bail!(
                        "--set takes FIELD=VALUE; `{}` has no `=`",
                        s.chars().take(40).collect::<String>()
                    );
                };
                values.push((k.trim().to_string(), v.to_string()));
            }
            emit(&store.add_subject(&values)?);
        }
        SubjectCommand::Set {
            subject,
            field,
            value,
        } => {
            store.set_subject_field(&subject, &field, &value)?;
        }
        SubjectCommand::Show { subject } => print_json(&store.show_subject(&subject)?)?,
        SubjectCommand::Search {
            name,
            dob,
            document,
            all,
        } => {
            if name.is_none() && dob.is_none() && document.is_none() {
                bail!("give --name, --dob or --document to search");
            }
            let q = SubjectQuery {
                name,
                date_of_birth: dob,
                document,
                include_merged: all,
                limit: None,
            };
            print_json(&store.search_subjects(&q)?)?;
        }
        SubjectCommand::Merge { keep, other } => store.merge_subjects(&keep, &other)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn record(store: &mut Store, command: RecordCommand) -> Result<ExitCode> {
    match command {
        RecordCommand::New { form, subject } => emit(&store.new_record(&form, &subject)?),
        RecordCommand::Set {
            record,
            field,
            value,
            reason,
        } => store.set_answer(&record, &field, &value, reason.as_deref())?,
        RecordCommand::Status {
            record,
            status,
            comment,
        } => store.set_status(&record, &status, comment.as_deref())?,
        RecordCommand::Confirm {
            record,
            rule,
            reason,
        } => store.confirm(&record, &rule, &reason)?,
        RecordCommand::Show { record } => print_json(&store.show(&record)?)?,
        RecordCommand::Resolve {
            record,
            field,
            value,
        } => store.resolve(&record, &field, &value)?,
        RecordCommand::History { record, field } => {
            print_json(&store.history(&record, field.as_deref())?)?
        }
        RecordCommand::List {
            status,
            form,
            subject,
            conflicts,
            limit,
        } => {
            let filter = RecordFilter {
                status,
                form_id: form,
                subject_id: subject,
                conflicts_only: conflicts,
                limit,
                ..RecordFilter::default()
            };
            print_json(&store.list_records(&filter)?)?
        }
        RecordCommand::Import { form, file } => return import(store, &form, &file),
    }
    Ok(ExitCode::SUCCESS)
}

fn import(store: &mut Store, form: &str, file: &Path) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let report = store.import_records(form, &text)?;
    print_json(&report)?;
    if report.refused.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} line(s) refused; see `refused` in the output",
            report.refused.len()
        );
        Ok(ExitCode::from(1))
    }
}

fn bundle(store: &mut Store, command: BundleCommand) -> Result<ExitCode> {
    use tern_sync::device_bundle;
    let summary = match command {
        BundleCommand::Export { to, out } => {
            device_bundle::export(store, to.as_deref(), &out, &mut |_| {})?
        }
        BundleCommand::Import { file } => device_bundle::import(store, &file, &mut |_| {})?,
    };
    print_json(&summary)?;
    Ok(ExitCode::SUCCESS)
}

/// `recover`: the file's password is `TERN_UNSYNCED_PASSWORD`, else the store's.
fn recover(
    store: &mut Store,
    file: &Path,
    from_user: Option<String>,
    store_password: String,
) -> Result<ExitCode> {
    let user = from_user.unwrap_or_else(|| store.user().to_string());
    let pass = std::env::var("TERN_UNSYNCED_PASSWORD").unwrap_or(store_password);
    print_json(&store.recover_unsynced(file, &user, &pass)?)?;
    Ok(ExitCode::SUCCESS)
}

fn changes(store: &mut Store, command: ChangesCommand) -> Result<ExitCode> {
    match command {
        ChangesCommand::Export { file } => print_json(&store.export_changes(&file)?)?,
        ChangesCommand::Import { file } => print_json(&store.import_changes(&file)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
