//! The rules around an export (FORMS.md 2.2 and 7): only a data manager exports;
//! identified data and restricted sections only under a supervisor's approval for
//! that purpose, form and those sites; pseudonyms keyed to the recipient and
//! purpose with the server's secret; the file encrypted to a registered recipient;
//! every export in the access log (who, purpose, filter, record count). Also the
//! blocking facade the CLI uses ([`Exporter`]).

use super::model::Protection;
use super::pseudonym::Pseudonyms;
use super::store::{Approval, DbSource, ExportDb, Recipient};
use super::{ExportError, Format, Outcome, Plan, Purpose, Query};
use crate::auth::{self, Action};
use crate::postgres::PgDb;
use crate::service::{self, ApiError, ApiResult, Caller};
use crate::sqlite::SqliteDb;
use crate::{ServerError, Storage};
use std::io::Write;
use std::path::{Path, PathBuf};
use tern_record::Role;
use tern_sync::protocol::ErrorCode;

/// What a data manager asks to export.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct ExportRequest {
    pub form: String,
    pub format: String,
    pub purpose: String,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub identified: bool,
    #[serde(default)]
    pub approval: Option<String>,
}

/// An export checked and ready to write.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    /// The recipient's public key: the file is encrypted to it.
    pub recipient_key: Option<age::x25519::Recipient>,
    pub approval: Option<String>,
}

/// What the CLI and the API report of a finished export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportReport {
    pub form: String,
    pub purpose: Purpose,
    pub format: Format,
    pub recipient: Option<String>,
    pub encrypted: bool,
    pub identified: bool,
    pub restricted_sections: bool,
    #[serde(flatten)]
    pub outcome: Outcome,
}

fn day(name: &str, v: &Option<String>) -> ApiResult<Option<String>> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| d.to_string())
                .map_err(|_| {
                    ApiError::bad(format!(
                        "`{name}` must be a day written YYYY-MM-DD, not `{s}`"
                    ))
                })
        })
        .transpose()
}

fn valid_name(what: &str, s: &str) -> ApiResult<()> {
    if tern_sync::protocol::valid_name(s) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "a {what} is 1 to 80 letters, digits, `-`, `_` or `.`"
        )))
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an `age` X25519 public key (`age1...`).
pub fn parse_public_key(key: &str) -> ApiResult<age::x25519::Recipient> {
    key.trim().parse::<age::x25519::Recipient>().map_err(|_| {
        ApiError::bad(
            "not an age public key: give the recipient's `age1...` key (age-keygen prints it)",
        )
    })
}

/// Checks a request against the caller's role, the approval and the recipient, and
/// resolves it into what to write.
pub async fn prepare<D: ExportDb>(
    db: &D,
    caller: &Caller,
    req: &ExportRequest,
) -> ApiResult<Prepared> {
    caller.require(Action::Export, "export data (data managers only)")?;
    let purpose: Purpose = req
        .purpose
        .parse()
        .map_err(|e: super::purpose::UnknownPurpose| ApiError::bad(e.to_string()))?;
    let format: Format = req
        .format
        .parse()
        .map_err(|e: ExportError| ApiError::bad(e.to_string()))?;
    if !super::known_form(&req.form) {
        return Err(ApiError::bad(
            ExportError::UnknownForm(req.form.clone()).to_string(),
        ));
    }
    let since = day("since", &req.since)?;
    let until = day("until", &req.until)?;
    if let (Some(s), Some(u)) = (&since, &until) {
        if s > u {
            return Err(ApiError::bad("`since` is after `until`: swap them"));
        }
    }
    let mut sites = req.sites.clone();
    sites.sort();
    sites.dedup();
    for s in &sites {
        valid_name("site", s)?;
        if !db.site_exists(s).await? {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no site `{s}`")));
        }
    }
    if req.identified && req.approval.is_none() {
        return Err(ApiError::bad(
            "an identified export needs a supervisor's approval: ask for one in the \
             dashboard (Exports) and give its id with --approval",
        ));
    }
    let mut protection = Protection::default();
    if let Some(id) = &req.approval {
        let a = db.approval(id).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no export approval `{id}`"))
        })?;
        let refuse = |why: &str| {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("approval `{id}` {why}"),
            ))
        };
        if a.approved_by.is_none() {
            return refuse(
                "is not approved yet: a supervisor of its sites approves it in the dashboard",
            );
        }
        if a.requested_by != caller.account {
            return refuse("was asked for by another data manager");
        }
        if a.purpose != purpose.name() || a.form_id != req.form {
            return refuse(&format!(
                "is for purpose {} and form {}, not this export",
                a.purpose, a.form_id
            ));
        }
        if req.identified && !a.identified {
            return refuse("does not cover identified data");
        }
        if sites.is_empty() {
            sites = a.sites.clone();
        } else if !sites.iter().all(|s| a.sites.contains(s)) {
            return refuse(&format!("covers sites {} only", a.sites.join(", ")));
        }
        protection = Protection {
            identified: req.identified,
            restricted: a.restricted,
        };
    }
    let (recipient, recipient_key) = match &req.recipient {
        Some(name) => {
            let r = db
                .recipients()
                .await?
                .into_iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        format!(
                            "no recipient `{name}`: an administrator registers it with \
                             `tern admin recipient add {name} AGE_PUBLIC_KEY`"
                        ),
                    )
                })?;
            (Some(r.name), Some(parse_public_key(&r.public_key)?))
        }
        None => (None, None),
    };
    let fresh = hex::encode(
        auth::random::<32>().map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
    );
    let keys = match &recipient {
        Some(name) => {
            let secret = db.export_secret(&fresh).await?;
            let secret = hex::decode(secret)
                .map_err(|_| ApiError::new(ErrorCode::Internal, "the export secret is damaged"))?;
            Pseudonyms::new(&secret, name, purpose.name())
        }
        // No recipient: pseudonyms of this export only.
        None => Pseudonyms::new(fresh.as_bytes(), "", purpose.name()),
    };
    Ok(Prepared {
        plan: Plan {
            query: Query {
                form_id: req.form.clone(),
                sites: (!sites.is_empty()).then_some(sites),
                since,
                until,
            },
            format,
            purpose,
            protection,
            keys,
            made_at: now_text(),
            recipient,
        },
        recipient_key,
        approval: req.approval.clone(),
    })
}

/// The access-log entry of a finished export: who, purpose, filter, record count.
pub async fn log_export<D: ExportDb>(
    db: &D,
    caller: &Caller,
    p: &Prepared,
    outcome: &Outcome,
) -> ApiResult<()> {
    let q = &p.plan.query;
    let object = format!(
        "form={} purpose={} format={} recipient={} sites={} since={} until={} identified={} \
         restricted={} approval={} records={} left_out={}",
        q.form_id,
        p.plan.purpose,
        p.plan.format.name(),
        p.plan.recipient.as_deref().unwrap_or("-"),
        q.sites.as_ref().map_or("all".to_string(), |s| s.join("+")),
        q.since.as_deref().unwrap_or("-"),
        q.until.as_deref().unwrap_or("-"),
        p.plan.protection.identified,
        p.plan.protection.restricted,
        p.approval.as_deref().unwrap_or("-"),
        outcome.records,
        outcome.left_out_total(),
    );
    let site = q
        .sites
        .as_ref()
        .and_then(|s| (s.len() == 1).then(|| s[0].clone()))
        .unwrap_or_default();
    db.audit(&caller.audit("export", &site, &object)).await?;
    Ok(())
}

/// The report of a finished export.
pub fn report(p: &Prepared, outcome: Outcome) -> ExportReport {
    ExportReport {
        form: p.plan.query.form_id.clone(),
        purpose: p.plan.purpose,
        format: p.plan.format,
        recipient: p.plan.recipient.clone(),
        encrypted: p.recipient_key.is_some(),
        identified: p.plan.protection.identified,
        restricted_sections: p.plan.protection.restricted,
        outcome,
    }
}

/// Writes an export to `out`, encrypted to the recipient's key when there is one.
pub fn write_to(
    source: &mut dyn super::Source,
    p: &Prepared,
    out: &mut dyn Write,
    progress: super::Progress<'_>,
) -> Result<Outcome, ExportError> {
    match &p.recipient_key {
        None => super::write(source, &p.plan, out, progress),
        Some(key) => {
            let mut enc =
                age::Encryptor::with_recipients(std::iter::once(key as &dyn age::Recipient))
                    .map_err(|e| ExportError::Encrypt(e.to_string()))?
                    .wrap_output(out)?;
            let outcome = super::write(source, &p.plan, &mut enc, progress)?;
            enc.finish()?;
            Ok(outcome)
        }
    }
}

// ---------------------------------------------------------------- approvals

/// A data manager's request for an identified export or one with restricted
/// sections.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ApprovalRequest {
    pub purpose: String,
    pub form: String,
    pub sites: Vec<String>,
    #[serde(default)]
    pub identified: bool,
    #[serde(default)]
    pub restricted: bool,
}

/// Records a data manager's request (access-logged); a supervisor of every one of
/// its sites approves it.
pub async fn request_approval<D: ExportDb>(
    db: &D,
    caller: &Caller,
    req: &ApprovalRequest,
) -> ApiResult<Approval> {
    caller.require(
        Action::Export,
        "ask for export approvals (data managers only)",
    )?;
    let purpose: Purpose = req
        .purpose
        .parse()
        .map_err(|e: super::purpose::UnknownPurpose| ApiError::bad(e.to_string()))?;
    if !super::known_form(&req.form) {
        return Err(ApiError::bad(
            ExportError::UnknownForm(req.form.clone()).to_string(),
        ));
    }
    if !req.identified && !req.restricted {
        return Err(ApiError::bad(
            "ask for identified data, restricted sections or both: a pseudonymised export needs no approval",
        ));
    }
    if req.sites.is_empty() {
        return Err(ApiError::bad("name the sites the export covers"));
    }
    let mut sites = req.sites.clone();
    sites.sort();
    sites.dedup();
    for s in &sites {
        valid_name("site", s)?;
        if !db.site_exists(s).await? {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no site `{s}`")));
        }
    }
    let id = format!(
        "A{}",
        &auth::new_token().map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?[..16]
    );
    let a = Approval {
        id,
        purpose: purpose.name().into(),
        form_id: req.form.clone(),
        sites,
        identified: req.identified,
        restricted: req.restricted,
        requested_by: caller.account.clone(),
        requested_at: now_text(),
        approved_by: None,
        approved_at: None,
    };
    db.add_approval(&a).await?;
    db.audit(&caller.audit(
        "request_export_approval",
        "",
        &format!(
            "{} form={} purpose={} sites={} identified={} restricted={}",
            a.id,
            a.form_id,
            a.purpose,
            a.sites.join("+"),
            a.identified,
            a.restricted
        ),
    ))
    .await?;
    Ok(a)
}

/// Whether `caller` may approve `a`: a supervisor of every one of its sites
/// (FORMS.md 2.2, the second approver of an identified export).
pub fn may_approve(caller: &Caller, a: &Approval) -> bool {
    caller.role == Role::Supervisor
        && caller.device.is_none()
        && a.sites.iter().all(|s| caller.sites.contains(s))
        && (!a.restricted || caller.role.may_see_restricted())
        && a.requested_by != caller.account
}

/// A supervisor approves a request (access-logged).
pub async fn approve<D: ExportDb>(db: &D, caller: &Caller, id: &str) -> ApiResult<Approval> {
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("no export approval `{id}` for you"),
        )
    };
    let a = db.approval(id).await?.ok_or_else(not_found)?;
    if caller.role != Role::Supervisor {
        return Err(ApiError::forbidden(
            "approve exports (supervisors of the export's sites only)",
        ));
    }
    if !may_approve(caller, &a) {
        return Err(ApiError::forbidden(&format!(
            "approve exports of sites {} (a supervisor of every one of them approves)",
            a.sites.join(", ")
        )));
    }
    let at = now_text();
    if !db.approve(id, &caller.account, &at).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("approval `{id}` was already given"),
        ));
    }
    db.audit(&caller.audit(
        "approve_export",
        a.sites.first().map_or("", String::as_str),
        id,
    ))
    .await?;
    db.approval(id).await?.ok_or_else(not_found)
}

/// The requests a caller sees: data managers all, supervisors those of their sites.
pub async fn approvals<D: ExportDb>(db: &D, caller: &Caller) -> ApiResult<Vec<Approval>> {
    let all = db.approvals().await?;
    match caller.role {
        Role::DataManager => Ok(all),
        Role::Supervisor => Ok(all
            .into_iter()
            .filter(|a| a.sites.iter().all(|s| caller.sites.contains(s)))
            .collect()),
        _ => Err(ApiError::forbidden("see export approvals")),
    }
}

/// The recipients' names (data managers choose one).
pub async fn recipient_names<D: ExportDb>(db: &D, caller: &Caller) -> ApiResult<Vec<String>> {
    caller.require(Action::Export, "see export recipients")?;
    Ok(db.recipients().await?.into_iter().map(|r| r.name).collect())
}

/// Registers a recipient's `age` public key (administrators, `tern admin`).
pub async fn add_recipient<D: ExportDb>(db: &D, name: &str, key: &str) -> ApiResult<()> {
    valid_name("recipient name", name)?;
    let parsed = parse_public_key(key)?;
    db.add_recipient(&Recipient {
        name: name.into(),
        public_key: parsed.to_string(),
        added_at: now_text(),
    })
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- the CLI's facade

enum Backend {
    Sqlite(SqliteDb),
    Pg(PgDb),
}

/// A server store opened for exports from the command line.
pub struct Exporter {
    rt: tokio::runtime::Runtime,
    db: Backend,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exporter")
    }
}

/// The file an export writes: `OUT.partial` beside it, renamed over `OUT` only
/// when complete, removed on failure.
fn partial(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

impl Exporter {
    pub fn open(storage: &Storage) -> Result<Exporter, ServerError> {
        // Two threads: the export writes on this one while reads run on the runtime.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        let db = match storage {
            Storage::Dir(dir) => Backend::Sqlite(SqliteDb::open(dir)?),
            Storage::Keyed(dir, key) => Backend::Sqlite(SqliteDb::open_with(dir, Some(&key.0))?),
            Storage::Url(url) => Backend::Pg(rt.block_on(PgDb::connect(url))?),
        };
        Ok(Exporter { rt, db })
    }

    /// The data manager the access log names, proven by the account's password
    /// (rate-limited like every sign-in).
    pub fn sign_in(&self, account: &str, password: &str) -> ApiResult<Caller> {
        let pw = password.to_string();
        let a = match &self.db {
            Backend::Sqlite(db) => self
                .rt
                .block_on(service::check_password(db, account, pw, "export", "")),
            Backend::Pg(db) => self
                .rt
                .block_on(service::check_password(db, account, pw, "export", "")),
        }?;
        Ok(Caller {
            account: a.name,
            role: service::parse_role(&a.role)?,
            sites: a.sites,
            device: None,
        })
    }

    /// Exports to `out` (written whole or not at all) and logs it.
    pub fn export(
        &self,
        caller: &Caller,
        req: &ExportRequest,
        out: &Path,
        progress: super::Progress<'_>,
    ) -> Result<ExportReport, ExportFailure> {
        match &self.db {
            Backend::Sqlite(db) => self.export_with(db, caller, req, out, progress),
            Backend::Pg(db) => self.export_with(db, caller, req, out, progress),
        }
    }

    fn export_with<D: ExportDb>(
        &self,
        db: &D,
        caller: &Caller,
        req: &ExportRequest,
        out: &Path,
        progress: super::Progress<'_>,
    ) -> Result<ExportReport, ExportFailure> {
        let prepared = self.rt.block_on(prepare(db, caller, req))?;
        let tmp = partial(out);
        let result = (|| -> Result<Outcome, ExportError> {
            let file = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::new(file);
            let mut source = DbSource {
                db,
                handle: self.rt.handle().clone(),
            };
            let outcome = write_to(&mut source, &prepared, &mut w, progress)?;
            let file = w
                .into_inner()
                .map_err(|e| ExportError::Io(e.into_error()))?;
            file.sync_all()?;
            std::fs::rename(&tmp, out)?;
            Ok(outcome)
        })();
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
        };
        self.rt
            .block_on(log_export(db, caller, &prepared, &outcome))?;
        Ok(report(&prepared, outcome))
    }

    pub fn add_recipient(&self, name: &str, key: &str) -> ApiResult<()> {
        match &self.db {
            Backend::Sqlite(db) => self.rt.block_on(add_recipient(db, name, key)),
            Backend::Pg(db) => self.rt.block_on(add_recipient(db, name, key)),
        }
    }

    pub fn recipients(&self) -> ApiResult<Vec<Recipient>> {
        Ok(match &self.db {
            Backend::Sqlite(db) => self.rt.block_on(db.recipients())?,
            Backend::Pg(db) => self.rt.block_on(db.recipients())?,
        })
    }
}

/// Why an export from the command line failed: refused (exit 1) or failed writing.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("{0}")]
    Refused(#[from] ApiError),
    #[error("{0}")]
    Failed(#[from] ExportError),
}
