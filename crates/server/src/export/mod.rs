//! Exports for health authorities (issue 18, FORMS.md 7 and 8): the records of one
//! form whose consent or legal basis covers a purpose, pseudonymised per recipient
//! and purpose, as a zip of CSV files or FHIR R4 (a `collection` Bundle or NDJSON),
//! optionally encrypted to the recipient's `age` key.
//!
//! The writing core ([`write`]) is synchronous and pure apart from the `Write` it is
//! given: it pages through a [`Source`] (the `record_facts` projection) and writes as
//! it goes, so memory stays flat however many records there are. [`service`] holds
//! the rules around it (who may export, approvals, recipients, the access log) and
//! the blocking facade the CLI uses; [`store`] the storage each backend adds.

pub mod api;
pub mod csv;
pub mod fhir;
pub mod model;
pub mod pseudonym;
pub mod purpose;
pub mod service;
pub mod store;

use crate::facts::FactsRow;
use model::{ExportRecord, Identity, Layout, Protection};
use pseudonym::Pseudonyms;
pub use purpose::{LeftOut, Purpose};
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Seek, Write};
use std::sync::Arc;
use tern_forms::Form;

/// Records read per page.
pub const PAGE: usize = 500;

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A zip of CSV files (one per form version, one per repeat group, a dictionary).
    Csv,
    /// One FHIR R4 `collection` Bundle (JSON).
    Fhir,
    /// FHIR R4 resources, one JSON object a line.
    FhirNdjson,
}

impl std::str::FromStr for Format {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Format, ExportError> {
        match s {
            "csv" => Ok(Format::Csv),
            "fhir" => Ok(Format::Fhir),
            "fhir-ndjson" => Ok(Format::FhirNdjson),
            other => Err(ExportError::Usage(format!(
                "unknown format `{other}`: use csv, fhir or fhir-ndjson"
            ))),
        }
    }
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Fhir => "fhir",
            Format::FhirNdjson => "fhir-ndjson",
        }
    }

    /// The usual file name ending.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "zip",
            Format::Fhir => "json",
            Format::FhirNdjson => "ndjson",
        }
    }
}

/// Why an export failed. Messages name what to do and never carry health data.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Usage(String),
    /// A record's restricted twin the server stores does not load.
    #[error("a restricted section does not load: {0}")]
    DamagedTwin(String),
    #[error("no form `{0}` on this server: use pda, pec, arr_t1 or arr_t2")]
    UnknownForm(String),
    #[error("records of form {0} version {1} cannot be exported: this server does not know that version")]
    UnknownVersion(String, String),
    #[error("storage: {0}")]
    Storage(#[from] crate::db::DbError),
    #[error("writing the export: {0}")]
    Io(#[from] io::Error),
    #[error("writing the zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("encrypting the export: {0}")]
    Encrypt(String),
}

/// Which records an export reads: one form, some sites (`None`: all), encounter days
/// `since..=until` (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub form_id: String,
    pub sites: Option<Vec<String>>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Where an export reads records: the `record_facts` projection and the documents of
/// a server store (see [`store`]), or anything else in tests.
pub trait Source {
    /// How many records the query covers (for progress).
    fn count(&mut self, q: &Query) -> Result<u64, ExportError>;
    /// The form versions of the query's records, oldest first.
    fn versions(&mut self, q: &Query) -> Result<Vec<String>, ExportError>;
    /// Up to `limit` rows (optionally of one version) after `after` (encounter day,
    /// record id), in that order.
    fn page(
        &mut self,
        q: &Query,
        version: Option<&str>,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> Result<Vec<FactsRow>, ExportError>;
    /// Subject document summaries (JSON of `DocSummary`) by id.
    fn subjects(&mut self, ids: &[String]) -> Result<HashMap<String, String>, ExportError>;
    /// The answers of a record's restricted sections (read only for an approved
    /// export).
    fn restricted(&mut self, record_id: &str) -> Result<Map<String, J>, ExportError>;
}

/// What to write.
#[derive(Debug, Clone)]
pub struct Plan {
    pub query: Query,
    pub format: Format,
    pub purpose: Purpose,
    pub protection: Protection,
    pub keys: Pseudonyms,
    /// When the export was made (RFC 3339).
    pub made_at: String,
    /// The recipient named (pseudonyms keyed to it), if any.
    pub recipient: Option<String>,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// Records exported.
    pub records: u64,
    /// Records the query covered but the purpose did not, by reason.
    pub left_out: BTreeMap<LeftOut, u64>,
    /// Distinct subjects (after merges).
    pub subjects: u64,
    /// Files inside a CSV export.
    pub files: Vec<String>,
}

impl Outcome {
    pub fn left_out_total(&self) -> u64 {
        self.left_out.values().sum()
    }
}

/// A count in an aggregate that leaves the server: 1 to 4 become `"<5"`.
pub fn suppressed(n: u64) -> J {
    if (1..5).contains(&n) {
        J::String("<5".into())
    } else {
        J::from(n)
    }
}

/// Progress: records looked at so far and in all.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// A subject's surviving id after merges, and what an export may say of it.
#[derive(Debug, Clone, Default)]
struct SubjectInfo {
    id: String,
    date_of_birth: Option<String>,
    identity: Option<Identity>,
}

/// Resolves the subjects of a page: merged subjects to the one they were merged
/// into (bounded chains), so a merged person exports as one.
fn subjects_of(
    source: &mut dyn Source,
    rows: &[FactsRow],
    identified: bool,
) -> Result<HashMap<String, SubjectInfo>, ExportError> {
    let mut summaries: HashMap<String, tern_record::DocSummary> = HashMap::new();
    let mut want: Vec<String> = rows
        .iter()
        .map(|r| r.subject_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for _ in 0..8 {
        if want.is_empty() {
            break;
        }
        let got = source.subjects(&want)?;
        let mut next = Vec::new();
        for (id, json) in got {
            if let Ok(s) = serde_json::from_str::<tern_record::DocSummary>(&json) {
                if let tern_record::DocSummary::Subject {
                    merged_into: Some(m),
                    ..
                } = &s
                {
                    if !summaries.contains_key(m) && !m.is_empty() {
                        next.push(m.clone());
                    }
                }
                summaries.insert(id, s);
            }
        }
        want = next;
    }
    let mut out = HashMap::new();
    for r in rows {
        let mut id = r.subject_id.clone();
        for _ in 0..8 {
            match summaries.get(&id) {
                Some(tern_record::DocSummary::Subject {
                    merged_into: Some(m),
                    ..
                }) if !m.is_empty() && m != &id => id = m.clone(),
                _ => break,
            }
        }
        let info = match summaries.get(&id) {
            Some(tern_record::DocSummary::Subject {
                display_name,
                date_of_birth,
                documents,
                ..
            }) => SubjectInfo {
                id: id.clone(),
                date_of_birth: date_of_birth.clone(),
                identity: identified.then(|| Identity {
                    subject_id: id.clone(),
                    name: display_name.clone(),
                    date_of_birth: date_of_birth.clone(),
                    documents: documents.clone(),
                }),
            },
            _ => SubjectInfo {
                id: id.clone(),
                identity: identified.then(|| Identity {
                    subject_id: id.clone(),
                    ..Identity::default()
                }),
                ..SubjectInfo::default()
            },
        };
        out.insert(r.subject_id.clone(), info);
    }
    Ok(out)
}

/// A temporary file for a child table while the main table streams: unlinked at
/// once, and encrypted with a key that lives only in memory (age, a fresh X25519
/// identity), so no plain health data touches the disk.
struct Spill {
    identity: age::x25519::Identity,
    writer: age::stream::StreamWriter<io::BufWriter<std::fs::File>>,
}

impl Spill {
    fn new() -> Result<Spill, ExportError> {
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let file = tempfile::tempfile()?;
        let writer =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| ExportError::Encrypt(e.to_string()))?
                .wrap_output(io::BufWriter::new(file))?;
        Ok(Spill { identity, writer })
    }

    fn copy_to(self, out: &mut dyn Write) -> Result<(), ExportError> {
        let mut file = self
            .writer
            .finish()?
            .into_inner()
            .map_err(|e| ExportError::Io(e.into_error()))?;
        file.rewind()?;
        let mut reader = age::Decryptor::new(io::BufReader::new(file))
            .map_err(|e| ExportError::Encrypt(e.to_string()))?
            .decrypt(std::iter::once(&self.identity as &dyn age::Identity))
            .map_err(|e| ExportError::Encrypt(e.to_string()))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])?;
        }
        Ok(())
    }
}

/// The form of a version, or why it cannot be exported.
fn form_of(form_id: &str, version: &str) -> Result<Arc<Form>, ExportError> {
    tern_record::builtin::form(form_id, version)
        .ok_or_else(|| ExportError::UnknownVersion(form_id.into(), version.into()))
}

/// Whether this server knows form `form_id` at all.
pub fn known_form(form_id: &str) -> bool {
    tern_record::builtin::FORMS.iter().any(|(name, text)| {
        name.strip_suffix(".json") == Some(form_id)
            || serde_json::from_str::<J>(text)
                .ok()
                .is_some_and(|v| v["form_id"] == form_id)
    })
}

/// Records read so far of how many the query covers, told page by page.
struct Counter<'p> {
    done: u64,
    total: u64,
    tell: Progress<'p>,
}

/// Pages through the query (optionally one version), calling `each` per record the
/// purpose covers, counting the others.
fn each_record(
    source: &mut dyn Source,
    plan: &Plan,
    version: Option<&str>,
    forms: &HashMap<String, Arc<Form>>,
    outcome: &mut Outcome,
    counter: &mut Counter<'_>,
    each: &mut dyn FnMut(&ExportRecord, &SubjectInfo) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let mut after: Option<(String, String)> = None;
    loop {
        let rows = source.page(&plan.query, version, after.as_ref(), PAGE)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some((last.encounter_date.clone(), last.record_id.clone()));
        let subjects = subjects_of(source, &rows, plan.protection.identified)?;
        for row in &rows {
            counter.done += 1;
            if let Err(why) = purpose::covers(plan.purpose, &row.facts.answers) {
                *outcome.left_out.entry(why).or_default() += 1;
                continue;
            }
            let form = forms.get(&row.form_version).ok_or_else(|| {
                ExportError::UnknownVersion(row.form_id.clone(), row.form_version.clone())
            })?;
            let restricted = if plan.protection.restricted {
                Some(source.restricted(&row.record_id)?)
            } else {
                None
            };
            let info = subjects.get(&row.subject_id).cloned().unwrap_or_default();
            let record = ExportRecord::new(
                form,
                row,
                restricted.as_ref(),
                (&info.id, info.identity.clone()),
                &plan.keys,
                plan.purpose,
                plan.protection,
            );
            outcome.records += 1;
            each(&record, &info)?;
        }
        (counter.tell)(counter.done, counter.total);
        if rows.len() < PAGE {
            break;
        }
    }
    Ok(())
}

/// Writes the export of `plan` to `out`, reading `source` page by page.
pub fn write(
    source: &mut dyn Source,
    plan: &Plan,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<Outcome, ExportError> {
    if !known_form(&plan.query.form_id) {
        return Err(ExportError::UnknownForm(plan.query.form_id.clone()));
    }
    let total = source.count(&plan.query)?;
    let versions = source.versions(&plan.query)?;
    let mut forms = HashMap::new();
    for v in &versions {
        forms.insert(v.clone(), form_of(&plan.query.form_id, v)?);
    }
    progress(0, total);
    let mut outcome = Outcome::default();
    let mut subjects: HashSet<String> = HashSet::new();
    let mut counter = Counter {
        done: 0,
        total,
        tell: progress,
    };
    match plan.format {
        Format::Csv => {
            let mut zip = zip::ZipWriter::new_stream(&mut *out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            let mut dictionary: Vec<u8> = csv::BOM.to_vec();
            csv::line(&mut dictionary, &csv::DICTIONARY_HEADER)?;
            let identified = plan.protection.identified;
            for v in &versions {
                let form = &forms[v];
                let layout = Layout::of(form, plan.purpose, plan.protection);
                let stem = format!("{}_{v}", plan.query.form_id);
                let main_file = format!("{stem}.csv");
                let child_file = |g: &str| format!("{stem}.{g}.csv");
                csv::dictionary_rows(&mut dictionary, form, &layout, &main_file, child_file)?;
                zip.start_file(main_file.as_str(), options)?;
                outcome.files.push(main_file.clone());
                zip.write_all(csv::BOM)?;
                csv::line(&mut zip, &csv::main_header(&layout, identified))?;
                let mut spills = Vec::new();
                for (_, children) in &layout.groups {
                    let mut s = Spill::new()?;
                    s.writer.write_all(csv::BOM)?;
                    csv::line(&mut s.writer, &csv::child_header(children))?;
                    spills.push(s);
                }
                each_record(
                    source,
                    plan,
                    Some(v),
                    &forms,
                    &mut outcome,
                    &mut counter,
                    &mut |r, info| {
                        subjects.insert(info.id.clone());
                        csv::line(&mut zip, &csv::main_row(&layout, r, identified))?;
                        for ((g, children), s) in layout.groups.iter().zip(spills.iter_mut()) {
                            csv::child_rows(&mut s.writer, g, children, r)?;
                        }
                        Ok(())
                    },
                )?;
                for ((g, _), s) in layout.groups.iter().zip(spills) {
                    let name = child_file(g.id());
                    zip.start_file(name.as_str(), options)?;
                    outcome.files.push(name);
                    s.copy_to(&mut zip)?;
                }
            }
            zip.start_file("dictionary.csv", options)?;
            zip.write_all(&dictionary)?;
            outcome.files.push("dictionary.csv".into());
            outcome.subjects = subjects.len() as u64;
            zip.start_file("export.json", options)?;
            outcome.files.push("export.json".into());
            let manifest = manifest(plan, &outcome);
            zip.write_all(
                serde_json::to_string_pretty(&manifest)
                    .map_err(|e| ExportError::Encrypt(e.to_string()))?
                    .as_bytes(),
            )?;
            zip.finish()?;
        }
        Format::Fhir | Format::FhirNdjson => {
            let ndjson = plan.format == Format::FhirNdjson;
            let refs = if ndjson {
                fhir::Refs::Ndjson
            } else {
                fhir::Refs::Bundle
            };
            let mut first = true;
            let mut emit = |out: &mut dyn Write, resource: J| -> Result<(), ExportError> {
                if ndjson {
                    serde_json::to_writer(&mut *out, &resource).map_err(io::Error::from)?;
                    out.write_all(b"\n")?;
                } else {
                    if !first {
                        out.write_all(b",\n")?;
                    }
                    serde_json::to_writer(&mut *out, &fhir::entry(resource))
                        .map_err(io::Error::from)?;
                }
                first = false;
                Ok(())
            };
            if !ndjson {
                let head = json!({
                    "resourceType": "Bundle",
                    "id": plan.keys.uuid("Bundle", &plan.made_at),
                    "type": "collection",
                    "timestamp": fhir::date_time(&plan.made_at).unwrap_or_else(|| plan.made_at.clone()),
                });
                let text = serde_json::to_string(&head).map_err(io::Error::from)?;
                // The head without its closing brace, then the entries.
                out.write_all(&text.as_bytes()[..text.len() - 1])?;
                out.write_all(b",\"entry\":[\n")?;
            }
            for v in &versions {
                let form = &forms[v];
                emit(
                    out,
                    fhir::questionnaire(form, &fhir::questionnaire_id(form), |f| {
                        model::carries(form, f, plan.purpose, plan.protection)
                    }),
                )?;
            }
            let layouts: HashMap<&str, Layout<'_>> = forms
                .iter()
                .map(|(v, f)| (v.as_str(), Layout::of(f, plan.purpose, plan.protection)))
                .collect();
            each_record(
                source,
                plan,
                None,
                &forms,
                &mut outcome,
                &mut counter,
                &mut |r, info| {
                    if subjects.insert(r.subject_key.clone()) {
                        emit(
                            out,
                            fhir::patient(r, &plan.keys, info.date_of_birth.as_deref()),
                        )?;
                    }
                    let (Some(form), Some(layout)) = (
                        forms.get(&r.form_version),
                        layouts.get(r.form_version.as_str()),
                    ) else {
                        return Err(ExportError::UnknownVersion(
                            r.form_id.clone(),
                            r.form_version.clone(),
                        ));
                    };
                    for res in fhir::record_resources(form, layout, r, &plan.keys, refs) {
                        emit(out, res)?;
                    }
                    Ok(())
                },
            )?;
            if !ndjson {
                out.write_all(b"\n]}\n")?;
            }
            outcome.subjects = subjects.len() as u64;
        }
    }
    out.flush()?;
    Ok(outcome)
}

/// The description shipped inside a CSV export: what it is, for what, and the
/// counts (small counts suppressed).
pub fn manifest(plan: &Plan, outcome: &Outcome) -> J {
    let left_out: Map<String, J> = outcome
        .left_out
        .iter()
        .map(|(k, v)| (k.name().to_string(), suppressed(*v)))
        .collect();
    json!({
        "form_id": plan.query.form_id,
        "purpose": plan.purpose.name(),
        "format": plan.format.name(),
        "made_at": plan.made_at,
        "recipient": plan.recipient,
        "sites": plan.query.sites,
        "since": plan.query.since,
        "until": plan.query.until,
        "identified": plan.protection.identified,
        "restricted_sections": plan.protection.restricted,
        "records": suppressed(outcome.records),
        "left_out": left_out,
        "files": outcome.files,
        "pseudonyms": "keyed per recipient and purpose (HMAC-SHA256); an export without a recipient has pseudonyms of its own",
    })
}
