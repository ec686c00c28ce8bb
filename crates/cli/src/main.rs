//! The `tern` command. Thin: parses arguments, reads files, calls the crates, prints.
//! stdout carries only what a command promises; messages go to stderr. Exit 0 on
//! success, 1 when input or the operation was refused, 2 on a usage error.

mod forms;

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
    /// Check, inspect and evaluate form definitions.
    Forms {
        #[command(subcommand)]
        command: forms::FormsCommand,
    },
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
