//! The `tern` command. Thin: parses arguments, reads files, calls the crates, prints.
//! stdout carries only what a command promises; messages go to stderr. Exit 0 on
//! success, 1 when input or the operation was refused, 2 on a usage error.

mod admin;
mod device;
mod device_sync;
mod export;
mod forms;
mod hub;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tern",
    version,
    about = "Tern: offline-first migrant health screening"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The encrypted device store: subjects, records, merge, history.
    Device(device::DeviceArgs),
    /// Run the central server (SQLite in --data DIR, or PostgreSQL).
    Serve(serve::ServeArgs),
    /// Administer a server store: sites, users, devices.
    Admin(admin::AdminArgs),
    /// Run a supervisor hub for a field team, synced with its upstream server.
    Hub(hub::HubArgs),
    /// Export the records of a form for a purpose: CSV (zip) or FHIR R4, pseudonymised
    /// per recipient and purpose; prints a JSON report.
    Export(export::ExportArgs),
    /// Check, inspect and evaluate form definitions.
    Forms {
        #[command(subcommand)]
        command: forms::FormsCommand,
    },
}

/// Writes one line to stdout. A closed pipe (`tern ... | head`) ends the program
/// quietly instead of panicking.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Forms { command } => forms::run(command),
        Command::Device(args) => device::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Hub(args) => hub::run(args),
        Command::Export(args) => export::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
