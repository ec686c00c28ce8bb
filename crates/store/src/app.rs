//! What the field app needs beyond the command line's operations: forms by version,
//! a record's verdict in the user's language, the values the engine reads, one line
//! of the record list with what the list shows (last change, comment, conflicts,
//! unsynced), empty repeat instances added and instances removed, and likely
//! duplicates of a person about to be registered. The Tauri shell adapts these; it
//! decides nothing itself.

use crate::doc;
use crate::error::{Result, StoreError};
use crate::records::{is_restricted, RecordRow};
use crate::store::{restricted_id, Kind, Store};
use crate::subjects::{SubjectHit, SubjectQuery};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ObjType, ReadDoc, Value, ROOT};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value as J};
use std::collections::BTreeSet;
use std::sync::Arc;
use tern_forms::{Evaluation, FieldKind, Form};

/// One line of the field app's record list.
#[derive(Debug, Clone, Serialize)]
pub struct RecordInfo {
    #[serde(flatten)]
    pub row: RecordRow,
    /// When the projection last changed (RFC 3339).
    pub updated: String,
    /// The supervisor's comment when returned for correction (empty otherwise).
    pub status_comment: String,
    /// Fields (and the status) with concurrent values not yet resolved.
    pub conflict_count: usize,
    /// The record has local changes the server has not acknowledged.
    pub unsynced: bool,
    /// Given name and family initial, or the subject id when the role may not see
    /// identity or the subject has no name.
    pub subject_label: String,
    /// Changes are amendments and need a reason (the record is locked, FORMS.md 2).
    pub amendment: bool,
    /// The workflow moves the user may make now (FORMS.md 2), so the app offers only
    /// what the store accepts.
    pub status_moves: Vec<crate::StatusMove>,
    /// The user's role enters answers at all (a supervisor reads and moves records).
    pub editable: bool,
}

/// Whether changes to a record in `status` are amendments that need a reason; the
/// writes refuse them without one (`StoreError::ReasonRequired`).
fn needs_amendment_reason(status: &str) -> bool {
    status == "locked"
}

/// The change message of a repeat instance added or removed: with the reason when the
/// record is locked, refused without one.
fn repeat_message(status: &str, verb: String, reason: Option<&str>) -> Result<String> {
    if !needs_amendment_reason(status) {
        return Ok(verb);
    }
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Ok(format!("{verb} (amendment: {})", r.replace('\n', " "))),
        None => Err(StoreError::ReasonRequired),
    }
}

/// Whether the acting role is kept from a path because its field, group or section
/// is restricted (FORMS.md 2.2).
fn restricted_path(form: &Form, path: &str) -> bool {
    let id = path.rsplit('.').next().unwrap_or(path);
    let id = id.split('[').next().unwrap_or(id);
    form.field(id).is_some_and(|f| is_restricted(form, f))
}

/// The local users of a store, read from its key file without unlocking it (the
/// unlock screen lists them). Empty when the store does not exist yet.
pub fn local_users(db: &std::path::Path) -> Result<Vec<String>> {
    if !crate::keys::key_path(db).exists() {
        return Ok(Vec::new());
    }
    Ok(crate::keys::KeyFile::read(db)?.users())
}

impl Store {
    /// A form version the store holds, with its translations.
    pub fn form_version(&mut self, form_id: &str, version: &str) -> Result<Arc<Form>> {
        self.form(form_id, version)
    }

    /// The people a field picked from the site's accounts offers (`(name, role)`):
    /// the account list the server sent, or before enrolment the device's local
    /// users.
    pub fn site_people(&self) -> Result<Vec<(String, String)>> {
        if let Some(accounts) = self.site_accounts()? {
            return Ok(accounts);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT name, role FROM users ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The view of a form version in `language`, with the choices of fields picked
    /// from the site's accounts (`choices_from`) filled from [`Store::site_people`].
    pub fn form_view(
        &mut self,
        form_id: &str,
        version: &str,
        language: &str,
    ) -> Result<tern_forms::FormView> {
        let mut view = self.form(form_id, version)?.view(language);
        view.fill_account_choices(&self.site_people()?);
        Ok(view)
    }

    /// The newest version of every form the store holds, by form id.
    pub fn newest_forms(&mut self) -> Result<Vec<Arc<Form>>> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT form_id FROM forms ORDER BY form_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            let version = self.newest_version(&id)?;
            out.push(self.form(&id, &version)?);
        }
        Ok(out)
    }

    /// The engine's verdict on a record, messages in `language` (English when the
    /// form lacks it), with confirmed warnings applied and restricted fields hidden
    /// from roles that may not see them: not relevant, not missing, no messages.
    pub fn evaluate_record(&mut self, record: &str, language: &str) -> Result<Evaluation> {
        let mut eval = self.assess(record, language)?.evaluation;
        if !self.may_see_restricted() {
            let (form, _) = self.record_form(record)?;
            eval.relevant.retain(|p| !restricted_path(&form, p));
            eval.not_relevant_answers
                .retain(|p| !restricted_path(&form, p));
        }
        Ok(eval)
    }

    /// The sections of a record's form the acting role may not see (restricted, or
    /// made only of restricted fields; FORMS.md 2.2), so the UI can leave them out
    /// and say why. Empty for roles that see restricted sections.
    pub fn withheld_sections(&mut self, record: &str) -> Result<Vec<String>> {
        self.role.require(self.role.may_read(), "read records")?;
        if self.may_see_restricted() {
            return Ok(Vec::new());
        }
        let (form, _) = self.record_form(record)?;
        Ok(form
            .view("en")
            .sections
            .into_iter()
            .filter(|s| {
                s.restricted.is_some()
                    || (!s.fields.is_empty() && s.fields.iter().all(|f| f.restricted.is_some()))
            })
            .map(|s| s.id)
            .collect())
    }

    /// The fields of a record's form the acting role may not write (the form's
    /// `write_roles` leave it out; FORMS.md 2.2: e.g. TB classification and outcome
    /// for a screener; every field for a role that enters no answers), so the UI can
    /// show them read-only; the store refuses writes to them whatever the UI does.
    /// Empty when the role may write every field.
    pub fn read_only_fields(&mut self, record: &str) -> Result<Vec<String>> {
        self.role.require(self.role.may_read(), "read records")?;
        let (form, _) = self.record_form(record)?;
        Ok(crate::records::read_only_fields(&form, self.role))
    }

    /// Every value the engine reads for a record: its answers, the subject's fields
    /// (identity only for roles that may see it) and the context values.
    pub fn record_values(&mut self, record: &str) -> Result<Map<String, J>> {
        Ok(self.assess(record, "en")?.values)
    }

    /// One line of the record list: the projection row and what the list shows.
    pub fn record_info(&mut self, record: &str) -> Result<RecordInfo> {
        self.role.require(self.role.may_read(), "read records")?;
        let row: Option<(RecordRow, String)> = self
            .conn
            .query_row(
                "SELECT record_id, form_id, form_version, subject_id, site, status, conflict, created, updated
                 FROM records WHERE record_id = ?1",
                [record],
                |r| {
                    Ok((
                        RecordRow {
                            record_id: r.get(0)?,
                            form_id: r.get(1)?,
                            form_version: r.get(2)?,
                            subject_id: r.get(3)?,
                            site: r.get(4)?,
                            status: r.get(5)?,
                            conflict: r.get(6)?,
                            created: r.get(7)?,
                        },
                        r.get(8)?,
                    ))
                },
            )
            .optional()?;
        let (row, updated) = row.ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let amendment = needs_amendment_reason(&row.status);
        let d = self
            .doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let status_comment = doc::root_str(d, "status_comment").unwrap_or_default();
        let mut conflict_count = doc::read_answers(d, "answers").conflicts.len()
            + usize::from(doc::root_conflict(d, "status").is_some());
        if self.may_see_restricted() {
            if let Some(r) = self.doc(&restricted_id(record))? {
                conflict_count += doc::read_answers(r, "answers").conflicts.len();
            }
        }
        let unsynced = self.unsynced_records()?.contains(record);
        let subject_label = self.subject_label(&row.subject_id)?;
        let status_moves = crate::status_moves(self.role, &row.status);
        Ok(RecordInfo {
            status_moves,
            editable: self.role.may_capture(),
            row,
            updated,
            status_comment,
            conflict_count,
            unsynced,
            subject_label,
            amendment,
        })
    }

    /// Given name and family initial of a subject, or its id.
    fn subject_label(&mut self, subject: &str) -> Result<String> {
        if !self.role.may_see_identity() {
            return Ok(subject.into());
        }
        let values = self.subject_values(subject)?;
        let text = |k: &str| values.get(k).and_then(J::as_str).unwrap_or("").trim();
        let (given, family) = (text("given_name"), text("family_name"));
        let initial: String = family.chars().take(1).collect();
        Ok(match (given.is_empty(), initial.is_empty()) {
            (true, true) => subject.into(),
            (false, true) => given.into(),
            (true, false) => format!("{initial}."),
            (false, false) => format!("{given} {initial}."),
        })
    }

    /// Records (by id) with local changes the server has not acknowledged; every
    /// record before enrolment.
    pub fn unsynced_records(&self) -> Result<BTreeSet<String>> {
        let has_log: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sync_log'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?;
        let ids: Vec<String> = if has_log {
            let acked = self.push_acked_by_a_peer()?;
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT doc_id FROM sync_log WHERE seq > ?1 AND from_server = 0",
            )?;
            let rows = stmt.query_map([acked], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        } else {
            let mut stmt = self.conn.prepare("SELECT record_id FROM records")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let records: BTreeSet<String> = {
            let mut stmt = self.conn.prepare("SELECT record_id FROM records")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        Ok(ids
            .into_iter()
            .map(|id| id.trim_end_matches(".restricted").to_string())
            .filter(|id| records.contains(id))
            .collect())
    }

    /// The repeat group `group` of a record, the document it lives in and its number
    /// of instances.
    fn repeat_of(&mut self, record: &str, group: &str) -> Result<(Arc<Form>, String, usize)> {
        let (form, _) = self.record_form(record)?;
        let field = form
            .field(group)
            .filter(|f| f.kind() == FieldKind::Repeat)
            .ok_or_else(|| StoreError::answer(group, "is not a repeat group of this form"))?;
        self.role.require_write(field, group)?;
        let doc_id = if is_restricted(&form, field) {
            self.role.require(
                self.may_see_restricted(),
                "see or enter restricted sections",
            )?;
            restricted_id(record)
        } else {
            record.to_string()
        };
        let d = self
            .doc(&doc_id)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let count = doc::read_answers(d, "answers")
            .answers
            .get(group)
            .and_then(J::as_array)
            .map_or(0, Vec::len);
        Ok((form, doc_id, count))
    }

    /// Adds an empty instance at the end of a repeat group (one change, durable on
    /// return; not a value in any field's history). Refused past the form's maximum
    /// number of instances, and on a locked record without a reason.
    pub fn add_repeat(&mut self, record: &str, group: &str, reason: Option<&str>) -> Result<()> {
        self.role
            .require(self.role.may_capture(), "enter answers")?;
        let (_, status) = self.record_form(record)?;
        let (form, _, count) = self.repeat_of(record, group)?;
        let message = repeat_message(&status, format!("add {group}[{count}]"), reason)?;
        let field = form
            .field(group)
            .ok_or_else(|| StoreError::answer(group, "is not a field of this form"))?;
        if field
            .max_instances()
            .is_some_and(|max| count >= max as usize)
        {
            return Err(StoreError::answer(
                group,
                "has as many instances as the form allows",
            ));
        }
        let child = form
            .fields()
            .iter()
            .find(|f| form.group_of(f).is_some_and(|g| g.id() == group))
            .ok_or_else(|| StoreError::answer(group, "has no fields"))?;
        let path = format!("{group}[{count}].{}", child.id());
        self.in_tx(|s| {
            let form = s.move_to_newest(record, form, &status)?;
            s.write_field(record, &form, &path, &J::Null, message, false)
        })?;
        self.maybe_compact(record)
    }

    /// Removes instance `index` of a repeat group (one change; the history keeps what
    /// it held). A locked record needs a reason.
    pub fn remove_repeat(
        &mut self,
        record: &str,
        group: &str,
        index: usize,
        reason: Option<&str>,
    ) -> Result<()> {
        self.role
            .require(self.role.may_capture(), "enter answers")?;
        let (form, status) = self.record_form(record)?;
        let message = repeat_message(&status, format!("remove {group}[{index}]"), reason)?;
        let (_, doc_id, count) = self.repeat_of(record, group)?;
        if index >= count {
            return Err(StoreError::answer(
                format!("{group}[{index}]"),
                format!("does not exist; `{group}` has {count} instance(s)"),
            ));
        }
        let kind = if doc_id == record {
            Kind::Record
        } else {
            Kind::Restricted
        };
        let actor = self.author().actor();
        let t = self.now_ms();
        self.in_tx(|s| {
            s.move_to_newest(record, form, &status)?;
            let mut d = s
                .take_doc(&doc_id)?
                .ok_or_else(|| StoreError::NoRecord(doc_id.clone()))?;
            d.set_actor(actor);
            let mut tx = d.transaction();
            let damaged = |e: automerge::AutomergeError| {
                StoreError::BadDocument(doc_id.clone(), e.to_string())
            };
            let answers = match tx.get(ROOT, "answers").map_err(damaged)? {
                Some((Value::Object(ObjType::Map), id)) => id,
                _ => return Err(StoreError::BadDocument(doc_id.clone(), "no answers".into())),
            };
            let list = match tx.get(&answers, group).map_err(damaged)? {
                Some((Value::Object(ObjType::List), id)) => id,
                _ => {
                    return Err(StoreError::answer(
                        format!("{group}[{index}]"),
                        "is not a repeat instance",
                    ))
                }
            };
            tx.delete(&list, index).map_err(damaged)?;
            let (hash, _) =
                tx.commit_with(CommitOptions::default().with_message(message).with_time(t));
            let new: Vec<_> = hash.into_iter().collect();
            s.put_doc(&doc_id, kind, d, &new)?;
            s.project_record(record)
        })
    }

    /// Subjects that are likely the person about to be registered: the same family
    /// name (accents, case and transliteration folded) and date of birth, or the same
    /// given and family names whatever the date.
    pub fn likely_duplicates(
        &self,
        family_name: &str,
        given_name: &str,
        date_of_birth: &str,
    ) -> Result<Vec<SubjectHit>> {
        let family = family_name.trim();
        if family.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits = self.search_subjects(&SubjectQuery {
            name: Some(family.into()),
            date_of_birth: Some(date_of_birth.trim().into()).filter(|d: &String| !d.is_empty()),
            limit: Some(20),
            ..SubjectQuery::default()
        })?;
        if !given_name.trim().is_empty() {
            let same_name = self.search_subjects(&SubjectQuery {
                name: Some(format!("{} {family}", given_name.trim())),
                limit: Some(20),
                ..SubjectQuery::default()
            })?;
            for h in same_name {
                if !hits.iter().any(|x| x.subject_id == h.subject_id) {
                    hits.push(h);
                }
            }
        }
        Ok(hits)
    }

    /// Whether a subject exists (after merges), for adapters that must say
    /// `not_found` before reading it.
    pub fn has_subject(&mut self, subject: &str) -> Result<bool> {
        let id = crate::ids::parse_subject_id(subject)?;
        let id = self.effective_subject(&id)?;
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM subjects WHERE subject_id = ?1",
                params![id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The people a search box's text finds: a subject id finds that subject; a date
    /// (YYYY-MM-DD) searches dates of birth; text with a digit, document numbers;
    /// anything else, names. Blank text finds no one. At most `limit` subject ids.
    pub fn quick_search(&mut self, text: &str, limit: usize) -> Result<Vec<String>> {
        let q = text.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        if let Ok(id) = crate::ids::parse_subject_id(q) {
            if self.has_subject(&id)? {
                return Ok(vec![id]);
            }
        }
        let mut query = SubjectQuery {
            limit: Some(limit),
            ..SubjectQuery::default()
        };
        if chrono::NaiveDate::parse_from_str(q, "%Y-%m-%d").is_ok() {
            query.date_of_birth = Some(q.into());
        } else if q.chars().any(char::is_numeric) {
            query.document = Some(q.into());
        } else {
            query.name = Some(q.into());
        }
        Ok(self
            .search_subjects(&query)?
            .into_iter()
            .map(|h| h.subject_id)
            .collect())
    }

    /// One of the field app's record lists, newest first. "Today" is the records
    /// created on `today` in the device's time zone `offset`; "needs correction" the
    /// returned records and those with unresolved conflicts.
    pub fn record_list(
        &mut self,
        list: &RecordList,
        today: chrono::NaiveDate,
        offset: chrono::FixedOffset,
    ) -> Result<Vec<RecordRow>> {
        let by = |status: Option<&str>, subject: Option<&str>, conflicts: bool| {
            crate::records::RecordFilter {
                status: status.map(str::to_string),
                subject_id: subject.map(str::to_string),
                conflicts_only: conflicts,
                ..crate::records::RecordFilter::default()
            }
        };
        let mut rows = match list {
            RecordList::Today => self
                .list_records(&by(None, None, false))?
                .into_iter()
                .filter(|r| {
                    chrono::DateTime::parse_from_rfc3339(&r.created)
                        .is_ok_and(|t| t.with_timezone(&offset).date_naive() == today)
                })
                .collect(),
            RecordList::Drafts => self.list_records(&by(Some("draft"), None, false))?,
            RecordList::NeedsCorrection => {
                let mut rows = self.list_records(&by(Some("returned"), None, false))?;
                for r in self.list_records(&by(None, None, true))? {
                    if !rows.iter().any(|x| x.record_id == r.record_id) {
                        rows.push(r);
                    }
                }
                rows
            }
            RecordList::Subject(subject) => self.list_records(&by(None, Some(subject), false))?,
        };
        rows.sort_by(|a, b| b.record_id.cmp(&a.record_id));
        Ok(rows)
    }
}

/// The field app's record lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordList {
    /// Created today (the device's day).
    Today,
    Drafts,
    /// Returned for correction, or with unresolved conflicts.
    NeedsCorrection,
    /// A person's records.
    Subject(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Store::init(
            &dir.path().join("s.db"),
            "amina",
            Role::Clinician,
            "pass-word",
            "site-a",
        )
        .expect("init");
        (dir, s)
    }

    fn subject(s: &mut Store, family: &str, given: &str, dob: &str) -> String {
        s.add_subject(&[
            ("family_name".into(), family.into()),
            ("given_name".into(), given.into()),
            ("sex".into(), "female".into()),
            ("date_of_birth".into(), dob.into()),
        ])
        .expect("subject")
    }

    #[test]
    fn a_search_text_finds_by_id_date_document_or_name() {
        let (_d, mut s) = store();
        let halima = subject(&mut s, "Yusuf", "Halima", "1996-01-15");
        let other = subject(&mut s, "Rahimi", "Yusuf", "1990-02-03");
        assert!(s.quick_search("   ", 50).expect("blank").is_empty());
        assert_eq!(
            s.quick_search(&halima, 50).expect("id"),
            vec![halima.clone()]
        );
        assert_eq!(
            s.quick_search("1990-02-03", 50).expect("dob"),
            vec![other.clone()]
        );
        assert_eq!(
            s.quick_search("Halima", 50).expect("name"),
            vec![halima.clone()]
        );
        let both = s.quick_search("Yusuf", 50).expect("name");
        assert_eq!(both.len(), 2, "{both:?}");
        assert_eq!(s.quick_search("Yusuf", 1).expect("limit").len(), 1);
        // A digit makes it a document number, which no one has here.
        assert!(s.quick_search("P1234567", 50).expect("doc").is_empty());
    }

    #[test]
    fn today_is_the_devices_day_and_needs_correction_holds_returned_records() {
        let (_d, mut s) = store();
        let sub = subject(&mut s, "Yusuf", "Halima", "1996-01-15");
        // Made at 23:30 UTC on 9 March: 10 March in Kabul (+04:30), 9 March in UTC.
        s.set_now(chrono::DateTime::parse_from_rfc3339("2026-03-09T23:30:00Z").ok());
        let late = s.new_record("pda", &sub).expect("record");
        s.set_now(None);
        let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        let kabul = chrono::FixedOffset::east_opt(4 * 3600 + 1800).expect("offset");
        let utc = chrono::FixedOffset::east_opt(0).expect("offset");
        let ids = |rows: Vec<RecordRow>| rows.into_iter().map(|r| r.record_id).collect::<Vec<_>>();
        let today = |s: &mut Store, d: &str, o| {
            ids(s.record_list(&RecordList::Today, day(d), o).expect("list"))
        };
        assert_eq!(today(&mut s, "2026-03-10", kabul), vec![late.clone()]);
        assert!(today(&mut s, "2026-03-10", utc).is_empty());
        assert_eq!(today(&mut s, "2026-03-09", utc), vec![late.clone()]);
        let drafts = ids(s
            .record_list(&RecordList::Drafts, day("2026-03-10"), utc)
            .expect("drafts"));
        assert_eq!(drafts, vec![late.clone()]);
        let fix = s
            .record_list(&RecordList::NeedsCorrection, day("2026-03-10"), utc)
            .expect("fix");
        assert!(fix.is_empty());
        let mine = ids(s
            .record_list(&RecordList::Subject(sub.clone()), day("2026-03-10"), utc)
            .expect("subject"));
        assert_eq!(mine, vec![late]);
    }

    #[test]
    fn evaluation_speaks_the_language_asked_and_values_include_the_subject() {
        let (_d, mut s) = store();
        let sub = subject(&mut s, "Yusuf", "Halima", "1996-01-15");
        let r = s.new_record("pda", &sub).expect("record");
        let en = s.evaluate_record(&r, "en").expect("eval");
        assert!(!en.relevant.is_empty());
        assert!(!en.complete);
        let values = s.record_values(&r).expect("values");
        assert_eq!(values.get("family_name"), Some(&J::String("Yusuf".into())));
        assert_eq!(values.get("encounter_id"), Some(&J::String(r.clone())));
        let info = s.record_info(&r).expect("info");
        assert_eq!(info.subject_label, "Halima Y.");
        assert_eq!(info.row.status, "draft");
        assert!(info.unsynced);
        assert_eq!(info.conflict_count, 0);
        let forms = s.newest_forms().expect("forms");
        assert!(forms.iter().any(|f| f.form_id() == "pda"));
        let pda = s.form_version("pda", "1.0.0").expect("pda");
        assert_ne!(pda.view("ar").title, pda.view("en").title);
        assert_eq!(pda.view("fa").direction, "rtl");
    }

    #[test]
    fn repeat_instances_are_added_empty_and_removed() {
        let (_d, mut s) = store();
        let sub = subject(&mut s, "Rahimi", "Yusuf", "1990-02-03");
        let r = s.new_record("pda", &sub).expect("record");
        let form = s.form_version("pda", "1.0.0").expect("form");
        let group = form
            .fields()
            .iter()
            .find(|f| f.kind() == FieldKind::Repeat && !is_restricted(&form, f))
            .expect("a repeat group")
            .id()
            .to_string();
        s.add_repeat(&r, &group, None).expect("add");
        s.add_repeat(&r, &group, None).expect("add");
        let count = |s: &mut Store| {
            s.record_values(&r).expect("values")[&group]
                .as_array()
                .map_or(0, Vec::len)
        };
        assert_eq!(count(&mut s), 2);
        // Adding an instance writes no value into any field's history.
        assert!(s.history(&r, None).expect("history").is_empty());
        s.remove_repeat(&r, &group, 0, None).expect("remove");
        assert_eq!(count(&mut s), 1);
        assert!(s.remove_repeat(&r, &group, 5, None).is_err());
        assert!(s.add_repeat(&r, "no_such_group", None).is_err());
    }

    #[test]
    fn likely_duplicates_fold_names_and_match_the_date() {
        let (_d, mut s) = store();
        let a = subject(&mut s, "Müller", "Anna", "1980-01-01");
        subject(&mut s, "Other", "Person", "1980-01-01");
        let hits = s
            .likely_duplicates("muller", "", "1980-01-01")
            .expect("dups");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].subject_id, a);
        let hits = s
            .likely_duplicates("Müller", "Anna", "1999-09-09")
            .expect("dups");
        assert_eq!(hits.len(), 1);
        assert!(s
            .likely_duplicates("Nobody", "", "1980-01-01")
            .expect("none")
            .is_empty());
        assert!(s.has_subject(&a).expect("has"));
        assert_eq!(
            local_users(s.path()).expect("users"),
            vec!["amina".to_string()]
        );
    }
}
