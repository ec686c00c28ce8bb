//! `tern export`: the records of one form for a purpose, as CSV (zip) or FHIR R4,
//! pseudonymised per recipient and purpose, optionally encrypted to a registered
//! recipient (issue 18). Thin over `tern_server::export::service::Exporter`:
//! progress on stderr, the report as JSON on stdout.

use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tern_server::export::service::{ExportFailure, ExportRequest, Exporter};

use crate::emit;

#[derive(Args)]
pub struct ExportArgs {
    /// Folder of the embedded SQLite database.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// PostgreSQL database URL.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The form whose records to export (pda, pec, arr_t1, arr_t2).
    #[arg(long = "form", value_name = "FORM_ID")]
    form: String,
    /// csv (a zip), fhir (an R4 collection Bundle) or fhir-ndjson.
    #[arg(long, value_parser = ["csv", "fhir", "fhir-ndjson"])]
    format: String,
    /// screening, share_destination, research or notifiable_disease.
    #[arg(long, value_parser = ["screening", "share_destination", "research", "notifiable_disease"])]
    purpose: String,
    /// A registered recipient: pseudonyms keyed to it, the file encrypted to its key.
    #[arg(long, value_name = "NAME")]
    recipient: Option<String>,
    /// Only this site (repeatable; default all sites, or the approval's).
    #[arg(long = "site", value_name = "SITE")]
    sites: Vec<String>,
    /// First encounter day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Last encounter day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Include identity data (needs --approval: a supervisor's approval).
    #[arg(long, requires = "approval")]
    identified: bool,
    /// The id of a supervisor's approval (identified data, restricted sections).
    #[arg(long, value_name = "ID")]
    approval: Option<String>,
    /// The data manager the access log names (password from TERN_PASSWORD);
    /// default TERN_USER.
    #[arg(long = "as", value_name = "ACCOUNT")]
    account: Option<String>,
    /// The file to write (replaced only when the export is complete).
    out_file: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<ExitCode> {
    let Some(account) = args
        .account
        .clone()
        .or_else(|| std::env::var("TERN_USER").ok())
    else {
        eprintln!(
            "error: name the data manager making the export with --as ACCOUNT (or TERN_USER)"
        );
        return Ok(ExitCode::from(2));
    };
    let storage = crate::serve::storage(args.data.clone(), args.database_url.clone())?;
    let password = crate::device::password("TERN_PASSWORD", &format!("Password for {account}: "))?;
    let exporter = Exporter::open(&storage).context("cannot open the server store")?;
    let caller = exporter.sign_in(&account, &password)?;
    let req = ExportRequest {
        form: args.form,
        format: args.format,
        purpose: args.purpose,
        recipient: args.recipient,
        sites: args.sites,
        since: args.since,
        until: args.until,
        identified: args.identified,
        approval: args.approval,
    };
    let mut last_pct = u64::MAX;
    let mut progress = |done: u64, total: u64| {
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        if pct != last_pct {
            last_pct = pct;
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "exporting: {done} of {total} records ({pct}%)");
        }
    };
    match exporter.export(&caller, &req, &args.out_file, &mut progress) {
        Ok(report) => {
            if !report.encrypted {
                eprintln!(
                    "warning: {} is not encrypted; give --recipient NAME to encrypt it to a registered recipient",
                    args.out_file.display()
                );
            }
            if report.outcome.left_out_total() > 0 {
                let reasons: Vec<String> = report
                    .outcome
                    .left_out
                    .iter()
                    .map(|(k, v)| format!("{v} {}", k.name()))
                    .collect();
                eprintln!(
                    "left out {} records the purpose does not cover: {}",
                    report.outcome.left_out_total(),
                    reasons.join(", ")
                );
            }
            emit(&serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(ExportFailure::Refused(e)) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Err(ExportFailure::Failed(e)) => Err(e.into()),
    }
}
