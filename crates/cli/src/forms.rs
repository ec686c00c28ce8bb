//! `tern forms`: lint, eval and list form definitions.
//!
//! A form file `DIR/<id>.json` comes with its translations in
//! `DIR/translations/<id>.<lang>.json` and reads the configuration tables in
//! `DIR/../config/` unless `--config` names another folder.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tern_forms::{ConfigTables, Diagnostic, EvalContext, Form, SourceFile};

#[derive(Subcommand)]
pub enum FormsCommand {
    /// Check form files, their translations and the tables they read. Prints one line
    /// per problem, `FILE:LINE:COL: message`, and exits 1 if there is any.
    Lint {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Folder of configuration tables (default: ../config beside the form).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Evaluate a form over a JSON object of answers and print the result as JSON.
    Eval {
        form: PathBuf,
        answers: PathBuf,
        /// Language of messages (BCP 47), e.g. ar.
        #[arg(long, default_value = "en")]
        lang: String,
        /// The evaluation date, YYYY-MM-DD (default: the date of --now).
        #[arg(long)]
        today: Option<NaiveDate>,
        /// The evaluation time, ISO 8601 (default: the clock, or the end of --today).
        #[arg(long)]
        now: Option<String>,
        /// A warning already confirmed, as RULE@FIELD (e.g. r4a@temp_c); repeatable.
        #[arg(long = "confirm", value_name = "RULE@FIELD")]
        confirmed: Vec<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the form as the app draws it, in one language, as JSON.
    Describe {
        form: PathBuf,
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the form as a FHIR R4 Questionnaire (JSON), as FHIR exports refer to it.
    Fhir {
        form: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print a JSON summary of every form in a folder (default schemas/forms).
    List {
        #[arg(default_value = "schemas/forms")]
        dir: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub fn run(command: FormsCommand) -> Result<ExitCode> {
    match command {
        FormsCommand::Lint { files, config } => lint(&files, config.as_deref()),
        FormsCommand::Eval {
            form,
            answers,
            lang,
            today,
            now,
            confirmed,
            config,
        } => eval(
            &form,
            &answers,
            EvalOptions {
                lang: &lang,
                today,
                now: now.as_deref(),
                confirmed,
            },
            config.as_deref(),
        ),
        FormsCommand::List { dir, config } => list(&dir, config.as_deref()),
        FormsCommand::Describe { form, lang, config } => describe(&form, &lang, config.as_deref()),
        FormsCommand::Fhir { form, config } => fhir(&form, config.as_deref()),
    }
}

fn read(path: &Path) -> Result<SourceFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

fn config_dir(form: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    let dir = form.parent()?.join("..").join("config");
    dir.is_dir().then_some(dir)
}

/// Loads every `*.json` table in `dir`.
fn load_config(dir: Option<&Path>) -> Result<Result<ConfigTables, Vec<Diagnostic>>> {
    let Some(dir) = dir else {
        return Ok(Ok(ConfigTables::default()));
    };
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the configuration folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        files.push(read(&path)?);
    }
    Ok(ConfigTables::parse(&files).map_err(|d| d.0))
}

/// Loads a form with its translations; `Err` holds every problem found.
fn load_form(path: &Path, config: Option<&Path>) -> Result<Result<Form, Vec<Diagnostic>>> {
    let tables = match load_config(config_dir(path, config).as_deref())? {
        Ok(t) => t,
        Err(problems) => return Ok(Err(problems)),
    };
    let file = read(path)?;
    let mut form = match Form::parse(&file, &tables) {
        Ok(f) => f,
        Err(d) => return Ok(Err(d.0)),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    let languages: Vec<String> = form.languages().iter().skip(1).cloned().collect();
    for lang in languages {
        let tpath = dir
            .join("translations")
            .join(format!("{}.{lang}.json", form.form_id()));
        if !tpath.exists() {
            let line = file
                .text
                .lines()
                .position(|l| l.contains("\"languages\""))
                .map_or(1, |i| i + 1);
            problems.push(Diagnostic {
                file: file.name.clone(),
                line,
                column: 1,
                message: format!(
                    "language `{lang}` is declared but {} does not exist",
                    tpath.display()
                ),
            });
            continue;
        }
        if let Err(d) = form.add_translation(&read(&tpath)?) {
            problems.extend(d.0);
        }
    }
    Ok(if problems.is_empty() {
        Ok(form)
    } else {
        Err(problems)
    })
}

fn lint(files: &[PathBuf], config: Option<&Path>) -> Result<ExitCode> {
    let mut count = 0;
    for path in files {
        match load_form(path, config) {
            Ok(Ok(_)) => {}
            Ok(Err(problems)) => {
                for p in &problems {
                    crate::emit(&p.to_string());
                }
                count += problems.len();
            }
            Err(e) => {
                crate::emit(&format!("{}:1:1: {e:#}", path.display()));
                count += 1;
            }
        }
    }
    if count == 0 {
        eprintln!("{} form(s) checked, no problems", files.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{count} problem(s) found");
        Ok(ExitCode::from(1))
    }
}

fn parse_now(s: &str) -> Result<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc().fixed_offset());
        }
    }
    bail!("--now `{s}` is not a date and time such as 2026-03-01T09:30:00Z")
}

/// What `tern forms eval` evaluates against besides the answers.
struct EvalOptions<'a> {
    lang: &'a str,
    today: Option<NaiveDate>,
    now: Option<&'a str>,
    confirmed: Vec<String>,
}

fn eval(
    form_path: &Path,
    answers_path: &Path,
    options: EvalOptions,
    config: Option<&Path>,
) -> Result<ExitCode> {
    let EvalOptions {
        lang,
        today,
        now,
        confirmed,
    } = options;
    let malformed = |c: &String| {
        c.split_once('@')
            .is_none_or(|(r, f)| r.is_empty() || f.is_empty())
    };
    if let Some(bad) = confirmed.iter().find(|c| malformed(c)) {
        eprintln!("--confirm `{bad}` must be RULE@FIELD, e.g. r4a@temp_c");
        return Ok(ExitCode::from(2));
    }
    let form = match load_form(form_path, config)? {
        Ok(f) => f,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} is not a valid form: fix the problems above (tern forms lint)",
                form_path.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let text = std::fs::read_to_string(answers_path)
        .with_context(|| format!("cannot read {}", answers_path.display()))?;
    let answers: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", answers_path.display()))?;
    let Some(answers) = answers.as_object() else {
        bail!(
            "{} must hold one JSON object {{field_id: value}}",
            answers_path.display()
        );
    };
    let now = match (now, today) {
        (Some(s), _) => parse_now(s)?,
        // A pinned day without a time: the end of that day, so nothing earlier that
        // day counts as "in the future".
        (None, Some(day)) => day
            .and_hms_opt(23, 59, 59)
            .context("invalid --today")?
            .and_utc()
            .fixed_offset(),
        (None, None) => Utc::now().fixed_offset(),
    };
    let mut ctx = EvalContext::new(now);
    ctx.today = today.unwrap_or(now.date_naive());
    ctx.language = lang.to_string();
    ctx.confirmed = confirmed.into_iter().collect();
    if lang != "en" && !form.languages().iter().any(|l| l == lang) {
        eprintln!(
            "form {} has no `{lang}` translation; messages are in English",
            form.form_id()
        );
    }
    let evaluation = form.evaluate_json(answers, &ctx);
    crate::emit(&serde_json::to_string_pretty(&evaluation)?);
    Ok(ExitCode::SUCCESS)
}

/// Loads a form for a command that needs a valid one, printing its problems if not.
fn load_valid_form(path: &Path, config: Option<&Path>) -> Result<Option<Form>> {
    match load_form(path, config)? {
        Ok(f) => Ok(Some(f)),
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} is not a valid form: fix the problems above (tern forms lint)",
                path.display()
            );
            Ok(None)
        }
    }
}

fn describe(path: &Path, lang: &str, config: Option<&Path>) -> Result<ExitCode> {
    let Some(form) = load_valid_form(path, config)? else {
        return Ok(ExitCode::from(1));
    };
    if !form.languages().iter().any(|l| l == lang) {
        eprintln!(
            "form {} has no `{lang}` translation; texts are in English",
            form.form_id()
        );
    }
    crate::emit(&serde_json::to_string_pretty(&form.view(lang))?);
    Ok(ExitCode::SUCCESS)
}

fn fhir(path: &Path, config: Option<&Path>) -> Result<ExitCode> {
    let Some(form) = load_valid_form(path, config)? else {
        return Ok(ExitCode::from(1));
    };
    use tern_server::export::fhir;
    let q = fhir::questionnaire(&form, &fhir::questionnaire_id(&form), |_| true);
    crate::emit(&serde_json::to_string_pretty(&q)?);
    Ok(ExitCode::SUCCESS)
}

fn list(dir: &Path, config: Option<&Path>) -> Result<ExitCode> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    let mut failed = false;
    for path in paths {
        match load_form(&path, config)? {
            Ok(form) => {
                let translations: serde_json::Map<String, serde_json::Value> = form
                    .languages()
                    .iter()
                    .skip(1)
                    .map(|l| {
                        let status = form
                            .review(l)
                            .map(|r| serde_json::to_value(r.status).unwrap_or_default());
                        (l.clone(), status.unwrap_or(serde_json::Value::Null))
                    })
                    .collect();
                out.push(serde_json::json!({
                    "form_id": form.form_id(),
                    "version": form.version(),
                    "file": path.display().to_string(),
                    "sections": form.sections().len(),
                    "fields": form.fields().len(),
                    "languages": form.languages(),
                    "translations": translations,
                }));
            }
            Err(problems) => {
                failed = true;
                for p in &problems {
                    eprintln!("{p}");
                }
            }
        }
    }
    crate::emit(&serde_json::to_string_pretty(&out)?);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
