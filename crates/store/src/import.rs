//! `record import`: records from other tools, one JSON object of answers per line.
//! Each answer becomes its own change, as if typed, so imported records look like
//! real ones; each line is imported whole (one transaction) or refused with a reason.

use crate::error::{ImportLineError, Result, StoreError};
use crate::store::Store;
use serde::Serialize;
use serde_json::{Map, Value as J};
use tern_forms::FieldSource;

/// A refused line and why (never its content).
#[derive(Debug, Clone, Serialize)]
pub struct ImportRefusal {
    pub line: usize,
    pub reason: String,
}

/// What `record import` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordImportReport {
    pub imported: usize,
    pub records: Vec<String>,
    pub refused: Vec<ImportRefusal>,
}

impl Store {
    /// Imports one record per non-empty line of `text` with the newest version of
    /// `form_id`. `subject_id` in a line links that subject, or registers it under
    /// that id if the store lacks it; without it a new subject is registered.
    pub fn import_records(&mut self, form_id: &str, text: &str) -> Result<RecordImportReport> {
        self.role
            .require(self.role.may_capture(), "import records")?;
        let version = self.newest_version(form_id)?;
        let form = self.form(form_id, &version)?;
        let mut report = RecordImportReport::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match self.import_line(&form, line) {
                Ok(id) => {
                    report.imported += 1;
                    report.records.push(id);
                }
                Err(e) => report.refused.push(ImportRefusal {
                    line: i + 1,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(report)
    }

    fn import_line(&mut self, form: &tern_forms::Form, line: &str) -> Result<String> {
        let object: Map<String, J> = match serde_json::from_str(line) {
            Ok(J::Object(o)) => o,
            Ok(_) => return Err(StoreError::BadImportLine(ImportLineError::NotAnObject)),
            Err(e) => {
                return Err(StoreError::BadImportLine(ImportLineError::NotJson(
                    e.column(),
                )))
            }
        };
        let subject_id = match object.get("subject_id") {
            Some(J::String(s)) => Some(crate::ids::parse_subject_id(s)?),
            Some(_) => return Err(StoreError::answer("subject_id", "must be text")),
            None => None,
        };
        let mut subject_values = Vec::new();
        let mut answers = Map::new();
        for (k, v) in object {
            match form.field(&k).map(|f| f.source()) {
                Some(FieldSource::Context) => continue,
                Some(FieldSource::Subject) => subject_values.push((k, v)),
                _ if crate::subjects::is_identity_field(&k) && form.field(&k).is_none() => {
                    subject_values.push((k, v))
                }
                _ => {
                    answers.insert(k, v);
                }
            }
        }
        // Check every answer before writing any.
        let (_, problems) = tern_forms::Answers::from_json(form, &answers);
        if let Some(p) = problems.into_iter().next() {
            return Err(crate::records::problem_error(form, &p));
        }
        let mut typed_subject = Vec::new();
        for (k, v) in &subject_values {
            let raw = match v {
                J::String(s) => s.clone(),
                J::Array(items) => items
                    .iter()
                    .filter_map(J::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
                J::Null => continue,
                other => other.to_string(),
            };
            typed_subject.push((k.clone(), raw));
        }
        self.defer_projection = true;
        let result = self.in_tx(|s| {
            let subject = s.import_subject(subject_id, &typed_subject)?;
            let record = s.create_record(form, &subject)?;
            for (k, v) in &answers {
                match v {
                    J::Array(items)
                        if form
                            .field(k)
                            .is_some_and(|f| f.kind() == tern_forms::FieldKind::Repeat) =>
                    {
                        for (i, item) in items.iter().enumerate() {
                            for (child, value) in item.as_object().into_iter().flatten() {
                                let path = format!("{k}[{i}].{child}");
                                s.write_field(
                                    &record,
                                    form,
                                    &path,
                                    value,
                                    format!("set {path}"),
                                    false,
                                )?;
                            }
                        }
                    }
                    J::Null => {}
                    _ => s.write_field(&record, form, k, v, format!("set {k}"), false)?,
                }
            }
            s.defer_projection = false;
            s.project_record(&record)?;
            // An imported record is written whole: fold its changes into snapshots now
            // (the history stays inside the documents).
            s.fold_doc(&record)?;
            s.fold_doc(&crate::store::restricted_id(&record))?;
            s.fold_doc(&subject)?;
            Ok(record)
        });
        self.defer_projection = false;
        result
    }
}
