//! What an export carries of a record (pure): which fields (purpose, restricted
//! sections, identity), the record with its pseudonyms, and the values as CSV and
//! FHIR read them.

use super::pseudonym::Pseudonyms;
use super::purpose::Purpose;
use crate::facts::FactsRow;
use serde_json::{Map, Value as J};
use tern_forms::{Field, FieldKind, FieldSource, Form};

/// What an export may carry beyond pseudonymised, non-restricted data; each needs a
/// supervisor's approval (FORMS.md 2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Protection {
    /// Identity: the subject's id, name, date of birth and documents.
    pub identified: bool,
    /// Restricted sections (HIV, mental health, violence, FGM, LGBTI, trafficking).
    pub restricted: bool,
}

/// The field whose section is a notifiable-disease export's only data.
pub const ALERT_FIELD: &str = "alert_open";

/// Whether an export carries field `field` of `form` as a column or item.
pub fn carries(form: &Form, field: &Field, purpose: Purpose, p: Protection) -> bool {
    if matches!(field.kind(), FieldKind::Note) || field.id() == "encounter_id" {
        return false;
    }
    // The record's own subject id names the person: the subject pseudonym stands for
    // it, and only an identified export adds it, with the other identity columns.
    if field.id() == "subject_id" {
        return false;
    }
    // Subject fields come from the subject document (sex and age are columns of
    // their own; the rest is identity).
    if field.source() == FieldSource::Subject {
        return false;
    }
    if tern_record::is_restricted_path(form, field.id()) && !p.restricted {
        return false;
    }
    if tern_record::is_identity_path(form, field.id()) && !p.identified {
        return false;
    }
    if purpose == Purpose::NotifiableDisease {
        let group_or_self = form.group_of(field).unwrap_or(field);
        let alert_section = form.field(ALERT_FIELD).map(|a| form.section_of(a).id());
        return field.source() == FieldSource::Context
            || Some(form.section_of(group_or_self).id()) == alert_section;
    }
    true
}

/// Answers that name another subject: pseudonymised with the same key, so links
/// inside one export survive (a TB contact's source case) and none leave it.
pub fn is_subject_reference(id: &str) -> bool {
    id.ends_with("subject_id") || id.ends_with("pseudo_id")
}

/// The identity of a subject, only in an identified export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub subject_id: String,
    pub name: String,
    pub date_of_birth: Option<String>,
    pub documents: String,
}

/// A record as an export writes it.
#[derive(Debug, Clone)]
pub struct ExportRecord {
    /// The record's pseudonymous key (replaces its id and `encounter_id`).
    pub record_key: String,
    /// The (surviving, after merges) subject's pseudonym.
    pub subject_key: String,
    pub site: String,
    pub form_id: String,
    pub form_version: String,
    pub status: String,
    /// `YYYY-MM-DD`.
    pub encounter_date: String,
    /// The encounter's start (RFC 3339), when known.
    pub started: Option<String>,
    pub complete: bool,
    pub sex: Option<String>,
    pub age_years: Option<i64>,
    /// Answers the export carries (restricted ones only when approved), subject
    /// references pseudonymised.
    pub answers: Map<String, J>,
    /// Calculated values the export carries (paths `group[i].field` in repeats).
    pub calculated: Map<String, J>,
    pub identity: Option<Identity>,
}

impl ExportRecord {
    /// Builds the record an export writes from its facts row (and its restricted
    /// answers when approved), keeping only the fields the export carries; `subject`
    /// is the subject's surviving id (after merges) and its identity, when exported.
    pub fn new(
        form: &Form,
        row: &FactsRow,
        restricted: Option<&Map<String, J>>,
        (subject, identity): (&str, Option<Identity>),
        keys: &Pseudonyms,
        purpose: Purpose,
        p: Protection,
    ) -> ExportRecord {
        let keep = |path: &str| -> bool {
            let id = path.rsplit('.').next().unwrap_or(path);
            let id = id.split('[').next().unwrap_or(id);
            form.field(id).is_some_and(|f| carries(form, f, purpose, p))
        };
        let pseudo = |id: &str, v: &J| -> J {
            match v {
                J::String(s) if is_subject_reference(id) && !s.is_empty() => {
                    J::String(keys.subject(s))
                }
                other => other.clone(),
            }
        };
        let mut answers = Map::new();
        let sources = std::iter::once(&row.facts.answers).chain(restricted);
        for m in sources {
            for (k, v) in m {
                if !keep(k) {
                    continue;
                }
                let v = match v {
                    // Repeat instances: pseudonymise references inside them too.
                    J::Array(items) => J::Array(
                        items
                            .iter()
                            .map(|it| match it {
                                J::Object(o) => J::Object(
                                    o.iter()
                                        .filter(|(ck, _)| keep(ck))
                                        .map(|(ck, cv)| (ck.clone(), pseudo(ck, cv)))
                                        .collect(),
                                ),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => pseudo(k, other),
                };
                answers.insert(k.clone(), v);
            }
        }
        let calculated = row
            .facts
            .calculated
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let started = row
            .facts
            .answers
            .get("encounter_start")
            .and_then(J::as_str)
            .map(str::to_string)
            .or_else(|| (!row.created.is_empty()).then(|| row.created.clone()));
        ExportRecord {
            record_key: keys.record(&row.record_id),
            subject_key: keys.subject(subject),
            site: row.site.clone(),
            form_id: row.form_id.clone(),
            form_version: row.form_version.clone(),
            status: row.status.clone(),
            encounter_date: row.encounter_date.clone(),
            started,
            complete: row.facts.complete,
            sex: row.facts.sex.clone(),
            age_years: row.facts.age_years,
            answers,
            calculated,
            identity,
        }
    }

    /// The value of a top-level field: its answer, else its calculated value.
    pub fn value(&self, id: &str) -> Option<&J> {
        self.answers
            .get(id)
            .or_else(|| self.calculated.get(id))
            .filter(|v| !v.is_null())
    }

    /// The instances of a repeat group.
    pub fn instances(&self, group: &str) -> &[J] {
        self.answers
            .get(group)
            .and_then(J::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The value of field `id` in instance `i` of `group`.
    pub fn child_value<'a>(&'a self, group: &str, i: usize, id: &str) -> Option<&'a J> {
        self.instances(group)
            .get(i)
            .and_then(|o| o.get(id))
            .or_else(|| self.calculated.get(&format!("{group}[{i}].{id}")))
            .filter(|v| !v.is_null())
    }
}

/// The columns of a form version's tables: the main table's fields and, for each
/// repeat group, its children.
#[derive(Debug, Clone)]
pub struct Layout<'f> {
    pub main: Vec<&'f Field>,
    pub groups: Vec<(&'f Field, Vec<&'f Field>)>,
}

impl<'f> Layout<'f> {
    pub fn of(form: &'f Form, purpose: Purpose, p: Protection) -> Layout<'f> {
        let mut main = Vec::new();
        let mut groups: Vec<(&Field, Vec<&Field>)> = Vec::new();
        for f in form.fields() {
            match form.group_of(f) {
                None if f.kind() == FieldKind::Repeat => {
                    if carries(form, f, purpose, p) {
                        groups.push((f, Vec::new()));
                    }
                }
                None => {
                    if carries(form, f, purpose, p) {
                        main.push(f);
                    }
                }
                Some(g) => {
                    if carries(form, f, purpose, p) {
                        if let Some((_, children)) =
                            groups.iter_mut().find(|(x, _)| x.id() == g.id())
                        {
                            children.push(f);
                        }
                    }
                }
            }
        }
        groups.retain(|(_, c)| !c.is_empty());
        Layout { main, groups }
    }
}
