//! Screening records: start, answer, status workflow, confirm, show, resolve, history.
//! Where each answer lives is decided by the form: record document, restricted twin
//! (FORMS.md 2.2), or the subject document (subject and identity fields, FORMS.md 2.4).

use crate::doc::{self, Conflict, HistoryEntry, RecordMeta, Shape, Slot, Write};
use crate::error::{Result, StoreError};
use crate::store::semver_key;
use crate::store::{restricted_id, Kind, Store};
use crate::workflow::{self, STATUSES};
use serde::Serialize;
use serde_json::{Map, Value as J};
use std::collections::BTreeSet;
use std::sync::Arc;
use tern_forms::{EvalContext, Field, FieldKind, FieldSource, Form};
pub(crate) use tern_record::fields::is_restricted;

/// A record as the engine sees it (see [`Store::assess`]).
pub(crate) struct Assessed {
    pub view: RecordView,
    /// Every value the engine read: answers, subject fields, context values.
    pub values: Map<String, J>,
    pub evaluation: tern_forms::Evaluation,
}

/// Where an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Home {
    Record,
    Restricted,
    /// The subject document, under `fields` or `identity`.
    Subject(&'static str),
}

/// Sections whose fields are administrative rather than clinical (conflict
/// resolution by clinicians covers clinical fields only).
const NON_CLINICAL_SECTIONS: &[&str] = &["metadata", "consent", "identity", "subject"];

/// What `record show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    pub record_id: String,
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub site: String,
    pub status: String,
    pub status_comment: String,
    pub created: String,
    pub answers: Map<String, J>,
    pub subject: Map<String, J>,
    pub conflicts: Vec<Conflict>,
    pub errors: Vec<tern_forms::RuleResult>,
    pub warnings: Vec<tern_forms::RuleResult>,
    pub missing: Vec<String>,
    pub calculated: Map<String, J>,
    pub actions: Vec<tern_forms::RuleResult>,
    pub confirmed: Map<String, J>,
    pub complete: bool,
    /// Fields of the form the acting role may not write (their `write_roles` leave
    /// it out, FORMS.md 2.2): the UI shows them read-only; the store refuses writes.
    pub read_only_fields: Vec<String>,
    /// Answers kept while their field is not relevant (paths; e.g. the pregnancy
    /// block after the sex changed to male): shown as "hidden, kept", never valid
    /// answers, never exported as such (the evaluation's `not_relevant_answers`).
    pub hidden_kept: Vec<String>,
}

pub(crate) fn is_text(field: &Field) -> bool {
    field.kind() == FieldKind::Text && field.appearance() == Some("multiline")
}

fn home(form: &Form, field: &Field, path: &str) -> Result<Home> {
    let refuse = |why: &str| Err(StoreError::answer(path, why));
    match field.kind() {
        FieldKind::Calculate => return refuse("is calculated by the form"),
        FieldKind::Note => return refuse("is a note and takes no answer"),
        FieldKind::Repeat => return refuse("is a repeat group: set group[i].field"),
        _ => {}
    }
    match field.source() {
        FieldSource::Context => refuse("is filled from the record itself"),
        FieldSource::Subject if !field.editable_subject() => {
            refuse("belongs to the subject: change it with the form that edits the subject")
        }
        FieldSource::Subject => Ok(Home::Subject(subject_map(field.is_identity()))),
        FieldSource::Answer if field.is_identity() => Ok(Home::Subject("identity")),
        FieldSource::Answer if is_restricted(form, field) => Ok(Home::Restricted),
        FieldSource::Answer => Ok(Home::Record),
    }
}

pub(crate) fn subject_map(identity: bool) -> &'static str {
    if identity {
        "identity"
    } else {
        "fields"
    }
}

/// Ids of the fields of `form` that `role` may not write ([`Role::may_write_field`];
/// every field for a role that enters no answers, e.g. a supervisor), in form order.
pub(crate) fn read_only_fields(form: &Form, role: crate::Role) -> Vec<String> {
    form.fields()
        .iter()
        .filter(|f| !role.may_capture() || !role.may_write_field(f))
        .map(|f| f.id().to_string())
        .collect()
}

fn is_clinical(form: &Form, field: &Field) -> bool {
    field.source() == FieldSource::Answer
        && !field.is_identity()
        && !NON_CLINICAL_SECTIONS.contains(&form.section_of(field).id())
}

/// Reads a command-line value by the field's declared type into canonical JSON
/// (`null` for an empty value, which clears the answer).
pub(crate) fn read_value(form: &Form, field: &Field, slot: &Slot, raw: &J) -> Result<J> {
    let raw = match (field.kind(), raw) {
        (FieldKind::SelectMultiple, J::String(s)) => J::Array(
            s.split([',', ' '])
                .filter(|p| !p.is_empty())
                .map(|p| J::String(p.to_string()))
                .collect(),
        ),
        (_, J::String(s)) if s.is_empty() => J::Null,
        (_, other) => other.clone(),
    };
    if raw.is_null() {
        return Ok(J::Null);
    }
    let mut object = Map::new();
    let instance = match slot {
        Slot::Top(id) => {
            object.insert(id.clone(), raw);
            None
        }
        Slot::Repeat {
            group,
            index,
            field,
        } => {
            let mut items = vec![J::Object(Map::new()); *index];
            let mut item = Map::new();
            item.insert(field.clone(), raw);
            items.push(J::Object(item));
            object.insert(group.clone(), J::Array(items));
            Some(*index)
        }
    };
    let (answers, problems) = tern_forms::Answers::from_json(form, &object);
    if let Some(p) = problems.into_iter().next() {
        return Err(problem_error(form, &p));
    }
    Ok(answers
        .get(form, field.id(), instance)
        .map(|v| v.to_json())
        .unwrap_or(J::Null))
}

/// An answer the form refused, described without the value (which may be health
/// data and must not reach logs or error output).
pub(crate) fn problem_error(form: &Form, p: &tern_forms::AnswerProblem) -> StoreError {
    let id = p.field.rsplit('.').next().unwrap_or(&p.field);
    let id = id.split('[').next().unwrap_or(id);
    let field = form.field(id);
    let message = match (p.rule.as_str(), field) {
        ("unknown_field", _) | (_, None) => {
            format!("is not a field of form {} here", form.form_id())
        }
        ("not_a_choice", Some(f)) => format!(
            "takes a code of choice list `{}`",
            f.choice_list().unwrap_or_default()
        ),
        ("too_many", Some(_)) => "has more instances than the form allows".to_string(),
        (_, Some(f)) => match f.kind() {
            FieldKind::Integer => "takes a whole number".into(),
            FieldKind::Decimal => "takes a number such as 36.5".into(),
            FieldKind::Date => "takes a date YYYY-MM-DD".into(),
            FieldKind::DateTime => "takes a date and time such as 2026-03-01T09:30:00Z".into(),
            FieldKind::Boolean => "takes true or false".into(),
            FieldKind::SelectMultiple => "takes a list of choice codes".into(),
            other => format!("takes a {} value", other.name()),
        },
    };
    StoreError::answer(p.field.clone(), message)
}

/// The repeat groups and text fields a new document prepares, and the text fields of
/// each repeat instance.
fn shape(form: &Form, restricted: bool) -> Shape {
    let mut shape = Shape::default();
    for f in form.fields() {
        if form.group_of(f).is_some() || is_restricted(form, f) != restricted {
            continue;
        }
        if f.source() != FieldSource::Answer || f.is_identity() {
            continue;
        }
        if f.kind() == FieldKind::Repeat {
            shape.lists.push(f.id().to_string());
        } else if is_text(f) {
            shape.texts.push(f.id().to_string());
        }
    }
    shape
}

fn instance_texts(form: &Form, slot: &Slot) -> Vec<String> {
    let Slot::Repeat { group, .. } = slot else {
        return Vec::new();
    };
    form.fields()
        .iter()
        .filter(|f| form.group_of(f).is_some_and(|g| g.id() == group) && is_text(f))
        .map(|f| f.id().to_string())
        .collect()
}

/// Whether a record of form version `old` can move to `new` by rewriting its
/// `form_version` alone: every field of `old` is in `new` with the same type, choice
/// list, repeat group and home (record, restricted twin, subject), and `new` adds no
/// repeat group or multiline text field (those are created with a record, so two
/// devices never create competing ones). The built-in forms keep this (a test).
pub fn movable(old: &Form, new: &Form) -> std::result::Result<(), String> {
    if old.form_id() != new.form_id() {
        return Err("another form".into());
    }
    let home = |form: &Form, f: &Field| {
        (
            f.kind(),
            f.choice_list().map(str::to_string),
            form.group_of(f).map(|g| g.id().to_string()),
            is_restricted(form, f),
            f.source(),
            f.is_identity(),
            is_text(f),
        )
    };
    for f in old.fields() {
        let Some(n) = new.field(f.id()) else {
            return Err(format!("field {} is gone", f.id()));
        };
        if home(old, f) != home(new, n) {
            return Err(format!("field {} changed its type or place", f.id()));
        }
    }
    for n in new.fields() {
        let container = n.kind() == FieldKind::Repeat || (is_text(n) && new.group_of(n).is_none());
        if container && old.field(n.id()).is_none() {
            return Err(format!(
                "field {} is a new repeat group or text field",
                n.id()
            ));
        }
    }
    Ok(())
}

impl Store {
    /// Starts a record of the newest version of `form_id` for a subject.
    pub fn new_record(&mut self, form_id: &str, subject: &str) -> Result<String> {
        let version = self.newest_version(form_id)?;
        self.new_record_version(form_id, &version, subject)
    }

    /// Starts a record of a given stored version of `form_id`: what a device whose
    /// binary did not have the newest version yet did (tests of the move to the
    /// newest version, [`Store::move_to_newest`]); the app uses [`Store::new_record`].
    pub fn new_record_version(
        &mut self,
        form_id: &str,
        version: &str,
        subject: &str,
    ) -> Result<String> {
        self.role
            .require(self.role.may_capture(), "start a record")?;
        let subject = crate::ids::parse_subject_id(subject)?;
        let form = self.form(form_id, version)?;
        if self.doc(&subject)?.is_none() {
            return Err(StoreError::NoSubject(subject));
        }
        self.in_tx(|s| s.create_record(&form, &subject))
    }

    /// Creates the record and its restricted twin inside the open transaction.
    pub(crate) fn create_record(&mut self, form: &Form, subject: &str) -> Result<String> {
        let id = crate::ids::new_record_id();
        let meta = RecordMeta {
            form_id: form.form_id().into(),
            form_version: form.version().into(),
            subject_id: subject.into(),
            site: self.site.clone(),
            created: self.now().to_rfc3339(),
        };
        let author = self.author();
        let t = self.now_ms();
        let (d, h) = doc::new_record(&author, &meta, &shape(form, false), t)?;
        self.put_doc(&id, Kind::Record, d, &[h])?;
        let (r, h) = doc::new_restricted(&author, &shape(form, true), t)?;
        self.put_doc(&restricted_id(&id), Kind::Restricted, r, &[h])?;
        self.project_record(&id)?;
        Ok(id)
    }

    /// The form a record was started with.
    pub(crate) fn record_form(&mut self, record: &str) -> Result<(std::sync::Arc<Form>, String)> {
        let d = self
            .doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.chars().take(40).collect()))?;
        let form_id = doc::root_str(d, "form_id");
        let version = doc::root_str(d, "form_version");
        let status = doc::root_str(d, "status").unwrap_or_else(|| "draft".into());
        match (form_id, version) {
            (Some(f), Some(v)) => Ok((self.form(&f, &v)?, status)),
            _ => Err(StoreError::NoRecord(record.into())),
        }
    }

    /// Sets one answer from a command-line value read by the field's declared type.
    /// Returns once the change is durable.
    pub fn set_answer(
        &mut self,
        record: &str,
        path: &str,
        raw: &str,
        reason: Option<&str>,
    ) -> Result<()> {
        self.set_answer_json(record, path, &J::String(raw.to_string()), reason)
    }

    /// Sets one answer from JSON (as `Answers::from_json` reads it).
    pub fn set_answer_json(
        &mut self,
        record: &str,
        path: &str,
        value: &J,
        reason: Option<&str>,
    ) -> Result<()> {
        self.role
            .require(self.role.may_capture(), "enter answers")?;
        let (form, status) = self.record_form(record)?;
        let verb = match (status.as_str(), reason) {
            ("locked", None) => return Err(StoreError::ReasonRequired),
            ("locked", Some(r)) => format!("amend {path}: {}", r.replace('\n', " ")),
            _ => format!("set {path}"),
        };
        self.in_tx(|s| {
            let form = s.move_to_newest(record, form, &status)?;
            s.write_field(record, &form, path, value, verb, false)
        })?;
        self.maybe_compact(record)
    }

    /// Moves a record still open on an older version of its form to the newest
    /// version the store has, inside the open transaction, before the write that
    /// triggered it (issue 14 item 7): a record started before a form's safety rules
    /// changed cannot reach a "fit" outcome or clearance without passing them. The
    /// answers stay where they are (every newer version keeps every field of the
    /// older ones, [`movable`]); the move is one change that rewrites `form_version`,
    /// in the record's history as `moved from pda 1.0.0 to 1.1.0`. A locked record
    /// keeps the version it was locked with. Returns the record's form after the move.
    pub(crate) fn move_to_newest(
        &mut self,
        record: &str,
        form: Arc<Form>,
        status: &str,
    ) -> Result<Arc<Form>> {
        if status == "locked" {
            return Ok(form);
        }
        let newest = self.newest_version(form.form_id())?;
        if semver_key(&newest) <= semver_key(form.version()) {
            return Ok(form);
        }
        let new = self.form(form.form_id(), &newest)?;
        if let Err(why) = movable(&form, &new) {
            return Err(StoreError::CannotMove {
                record: record.to_string(),
                form: form.form_id().to_string(),
                version: form.version().to_string(),
                newest,
                why: why.to_string(),
            });
        }
        let author = self.author();
        let t = self.now_ms();
        let mut d = self
            .take_doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let h = doc::write_root(
            &mut d,
            &author,
            &[("form_version", &newest)],
            format!(
                "moved from {id} {} to {newest}",
                form.version(),
                id = form.form_id()
            ),
            t,
        )?;
        let hashes: Vec<_> = h.into_iter().collect();
        self.put_doc(record, Kind::Record, d, &hashes)?;
        Ok(new)
    }

    /// Writes one answer inside the open transaction.
    pub(crate) fn write_field(
        &mut self,
        record: &str,
        form: &Form,
        path: &str,
        value: &J,
        message: String,
        resolving: bool,
    ) -> Result<()> {
        let slot = Slot::parse(path)?;
        let field = form.field(slot.field()).ok_or_else(|| {
            StoreError::answer(path, format!("is not a field of form {}", form.form_id()))
        })?;
        if matches!(slot, Slot::Top(_)) != form.group_of(field).is_none() {
            return Err(StoreError::answer(
                path,
                "inside a repeat write group[i].field; outside, the field id alone",
            ));
        }
        let place = home(form, field, path)?;
        self.role.require_write(field, path)?;
        if place == Home::Restricted {
            self.role.require(
                self.may_see_restricted(),
                "see or enter restricted sections",
            )?;
        }
        if resolving {
            self.role.require(
                self.role.may_resolve(is_clinical(form, field)),
                &format!("resolve a conflict on field {path}"),
            )?;
        }
        let canonical = read_value(form, field, &slot, value)?;
        if let (Some(roles), Some(name)) = (field.account_roles(), canonical.as_str()) {
            self.check_account_pick(path, roles, name)?;
        }
        let write = if is_text(field) {
            Write::Text(canonical.as_str().unwrap_or_default().to_string())
        } else {
            Write::Register(canonical)
        };
        let (doc_id, kind, top) = match place {
            Home::Record => (record.to_string(), Kind::Record, "answers"),
            Home::Restricted => (restricted_id(record), Kind::Restricted, "answers"),
            Home::Subject(map) => (self.record_subject(record)?, Kind::Subject, map),
        };
        let texts = instance_texts(form, &slot);
        let author = self.author();
        let t = self.now_ms();
        let mut d = self
            .take_doc(&doc_id)?
            .ok_or_else(|| StoreError::NoRecord(doc_id.clone()))?;
        let hash = doc::write_answer(&mut d, &author, top, &slot, &write, &texts, message, t)?;
        let new: Vec<_> = hash.into_iter().collect();
        self.put_doc(&doc_id, kind, d, &new)?;
        if kind == Kind::Subject {
            self.project_subject(&doc_id)?;
        }
        if self.defer_projection {
            return Ok(());
        }
        self.project_record(record)
    }

    /// A field picked from the site's accounts (`choices_from`) takes the name of
    /// one with one of `roles`, once the device holds the site's account list
    /// (before enrolment it cannot know them and takes any name). The refusal
    /// names the field and the roles, not the value.
    fn check_account_pick(&self, path: &str, roles: &[String], name: &str) -> Result<()> {
        let Some(accounts) = self.site_accounts()? else {
            return Ok(());
        };
        if tern_record::names_account(&accounts, roles, name) {
            return Ok(());
        }
        Err(StoreError::answer(
            path,
            format!(
                "takes the name of one of the site's accounts with role {}",
                roles.join(" or ")
            ),
        ))
    }

    /// The subject a record's answers about the person go to (following merges).
    pub(crate) fn record_subject(&mut self, record: &str) -> Result<String> {
        let d = self
            .doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let subject = doc::root_str(d, "subject_id").unwrap_or_default();
        self.effective_subject(&subject)
    }

    /// Moves a record along the workflow: draft → submitted → reviewed → locked, or
    /// returned (with a comment) for correction.
    pub fn set_status(&mut self, record: &str, status: &str, comment: Option<&str>) -> Result<()> {
        if !STATUSES.contains(&status) {
            return Err(StoreError::UnknownStatus(status.chars().take(20).collect()));
        }
        let (form, from) = self.record_form(record)?;
        let allowed = workflow::may_move(self.role, &from, status).ok_or_else(|| {
            StoreError::BadTransition {
                from: from.clone(),
                to: status.into(),
            }
        })?;
        self.role
            .require(allowed, &format!("move a record from {from} to {status}"))?;
        if status == "returned" && comment.is_none_or(|c| c.trim().is_empty()) {
            return Err(StoreError::CommentRequired);
        }
        if status == "submitted" {
            // Judged by the newest rules: the move stays even when the submission
            // is refused, so the record shows what the new version still needs.
            self.in_tx(|s| s.move_to_newest(record, form.clone(), &from))?;
            let view = self.show(record)?;
            if !view.complete {
                return Err(StoreError::Incomplete {
                    missing: view.missing.len(),
                    errors: view.errors.len() + view.conflicts.len(),
                    warnings: view.warnings.len(),
                });
            }
        }
        let author = self.author();
        let t = self.now_ms();
        let comment = comment.unwrap_or_default().to_string();
        self.in_tx(|s| {
            s.move_to_newest(record, form, &from)?;
            let mut d = s
                .take_doc(record)?
                .ok_or_else(|| StoreError::NoRecord(record.into()))?;
            let h = doc::write_root(
                &mut d,
                &author,
                &[("status", status), ("status_comment", &comment)],
                format!("status {status}"),
                t,
            )?;
            let new: Vec<_> = h.into_iter().collect();
            s.put_doc(record, Kind::Record, d, &new)?;
            s.project_record(record)
        })
    }

    /// Accepts a warning (`rule` or `rule@field`) with a reason.
    pub fn confirm(&mut self, record: &str, rule: &str, reason: &str) -> Result<()> {
        self.role
            .require(self.role.may_capture(), "confirm warnings")?;
        if reason.trim().is_empty() {
            return Err(StoreError::ConfirmationReason);
        }
        let view = self.show(record)?;
        let keys: Vec<String> = view
            .warnings
            .iter()
            .map(|w| format!("{}@{}", w.rule, w.field))
            .filter(|k| k == rule || k.split('@').next() == Some(rule))
            .collect();
        if keys.is_empty() {
            return Err(StoreError::NoWarning(rule.chars().take(40).collect()));
        }
        let author = self.author();
        let t = self.now_ms();
        self.in_tx(|s| {
            let mut d = s
                .take_doc(record)?
                .ok_or_else(|| StoreError::NoRecord(record.into()))?;
            let mut new = Vec::new();
            for k in &keys {
                new.extend(doc::write_in_map(
                    &mut d,
                    &author,
                    "confirmed",
                    k,
                    reason,
                    format!("confirm {k}"),
                    t,
                )?);
            }
            s.put_doc(record, Kind::Record, d, &new)?;
            s.project_record(record)
        })
    }

    /// Picks or enters the value of a field in conflict; the resolution is a change.
    pub fn resolve(&mut self, record: &str, path: &str, raw: &str) -> Result<()> {
        let view = self.show(record)?;
        if !view.conflicts.iter().any(|c| c.field == path) {
            return Err(StoreError::NoConflict(path.chars().take(80).collect()));
        }
        let (form, from) = self.record_form(record)?;
        if path == "status" {
            self.role.require(
                self.role == crate::Role::Supervisor,
                "resolve a status conflict",
            )?;
            // A status conflict is resolved by picking one of its values.
            let offered = view
                .conflicts
                .iter()
                .filter(|c| c.field == "status")
                .flat_map(|c| &c.values)
                .any(|v| v.value.as_str() == Some(raw));
            if !offered {
                return Err(StoreError::NotAConflictValue(
                    raw.chars().take(20).collect(),
                ));
            }
            let author = self.author();
            let t = self.now_ms();
            return self.in_tx(|s| {
                let mut d = s
                    .take_doc(record)?
                    .ok_or_else(|| StoreError::NoRecord(record.into()))?;
                let h = doc::write_root(
                    &mut d,
                    &author,
                    &[("status", raw)],
                    "resolve status".into(),
                    t,
                )?;
                let new: Vec<_> = h.into_iter().collect();
                s.put_doc(record, Kind::Record, d, &new)?;
                s.project_record(record)
            });
        }
        let value = J::String(raw.to_string());
        self.in_tx(|s| {
            let form = s.move_to_newest(record, form, &from)?;
            s.write_field(record, &form, path, &value, format!("resolve {path}"), true)
        })
    }

    /// The subject's latest pre-departure assessment (`pda`) started at or before
    /// `created`, and its outcome: what a pre-embarkation check (`pec`) links to
    /// (FORMS.md 3.14), so the check shows that outcome and its rules stop clearance
    /// when it is not a "fit" one. Read each time, so a later change of the pda's
    /// outcome reaches the check.
    fn latest_pda_before(
        &mut self,
        subject_id: &str,
        created: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let rows = self.list_records(&RecordFilter {
            form_id: Some("pda".into()),
            subject_id: Some(subject_id.into()),
            ..RecordFilter::default()
        })?;
        let Some(latest) = rows
            .into_iter()
            .filter(|r| r.created.as_str() <= created)
            .max_by(|a, b| a.created.cmp(&b.created))
        else {
            return Ok(None);
        };
        let outcome = match self.doc(&latest.record_id)? {
            Some(d) => doc::read_answers(d, "answers")
                .answers
                .get("outcome")
                .and_then(|v| v.as_str())
                .map(String::from),
            None => None,
        };
        Ok(Some((latest.record_id, outcome)))
    }

    /// The record with its answers, conflicts and the form engine's verdict.
    pub fn show(&mut self, record: &str) -> Result<RecordView> {
        Ok(self.assess(record, "en")?.view)
    }

    /// The record as the engine sees it, with the verdict in `language`: what `show`
    /// prints, every value the engine read (answers, subject fields, context values)
    /// and the evaluation itself.
    pub(crate) fn assess(&mut self, record: &str, language: &str) -> Result<Assessed> {
        self.role.require(self.role.may_read(), "read records")?;
        self.assess_as(record, language, false)
    }

    /// [`Store::assess`], with every answer (restricted ones too) when `full`,
    /// whatever the acting role: for projections derived from the whole record
    /// (alerts), never shown as such to a role that may not see them.
    pub(crate) fn assess_as(
        &mut self,
        record: &str,
        language: &str,
        full: bool,
    ) -> Result<Assessed> {
        let see_restricted =
            (full || self.may_see_restricted()) && self.can_read(&restricted_id(record));
        let (form, status) = self.record_form(record)?;
        let d = self
            .doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let root = |k: &str| doc::root_str(d, k).unwrap_or_default();
        let (subject_id, site, created, comment, device, creator) = (
            root("subject_id"),
            root("site"),
            root("created"),
            root("status_comment"),
            root("device"),
            root("creator"),
        );
        let confirmed = doc::root_map_strings(d, "confirmed");
        let read = doc::read_answers(d, "answers");
        let mut answers = read.answers;
        let mut conflicts = read.conflicts;
        conflicts.extend(doc::root_conflict(d, "status"));
        if see_restricted {
            if let Some(r) = self.doc(&restricted_id(record))? {
                let read = doc::read_answers(r, "answers");
                answers.extend(read.answers);
                conflicts.extend(read.conflicts);
            }
        }
        let subject = self.subject_values(&subject_id)?;
        let mut combined = answers.clone();
        for (k, v) in &subject {
            if form
                .field(k)
                .is_some_and(|f| f.source() == FieldSource::Subject || f.is_identity())
            {
                combined.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in [
            ("encounter_id", record),
            ("form_version", form.version()),
            ("site_id", &site),
            ("device_id", &device),
            ("screener_id", &creator),
            ("encounter_start", &created),
            ("subject_id", &subject_id),
        ] {
            if form.field(k).is_some() {
                combined.insert(k.into(), J::String(v.to_string()));
            }
        }
        if form.field("linked_pda_encounter_id").is_some() {
            if let Some((pda, outcome)) = self.latest_pda_before(&subject_id, &created)? {
                combined.insert("linked_pda_encounter_id".into(), J::String(pda));
                if let (Some(o), true) = (outcome, form.field("linked_pda_outcome").is_some()) {
                    combined.insert("linked_pda_outcome".into(), J::String(o));
                }
            }
        }
        let mut ctx = EvalContext::new(self.now());
        ctx.language = language.to_string();
        ctx.confirmed = confirmed.keys().cloned().collect::<BTreeSet<_>>();
        let mut eval = form.evaluate_json(&combined, &ctx);
        let shown_subject = if self.role.may_see_identity() {
            subject
        } else {
            let mut s = subject;
            s.retain(|k, _| !crate::subjects::is_identity_field(k));
            s
        };
        if !see_restricted {
            let hidden = |p: &str| {
                let id = p.rsplit('.').next().unwrap_or(p);
                form.field(id).is_some_and(|f| is_restricted(&form, f))
            };
            eval.errors.retain(|e| !hidden(&e.field));
            eval.warnings.retain(|e| !hidden(&e.field));
            eval.missing.retain(|p| !hidden(p));
            eval.calculated.retain(|k, _| !hidden(k));
            eval.not_relevant_answers.retain(|p| !hidden(p));
        }
        eval.complete = eval.complete && conflicts.is_empty();
        if !self.role.may_see_identity() {
            combined.retain(|k, _| !crate::subjects::is_identity_field(k));
        }
        let view = RecordView {
            record_id: record.into(),
            form_id: form.form_id().into(),
            form_version: form.version().into(),
            subject_id,
            site,
            status,
            status_comment: comment,
            created,
            answers,
            subject: shown_subject,
            conflicts,
            errors: eval.errors.clone(),
            warnings: eval.warnings.clone(),
            missing: eval.missing.clone(),
            calculated: eval.calculated.clone(),
            actions: eval.actions.clone(),
            confirmed,
            complete: eval.complete,
            read_only_fields: read_only_fields(&form, self.role),
            hidden_kept: eval.not_relevant_answers.clone(),
        };
        Ok(Assessed {
            view,
            values: combined,
            evaluation: eval,
        })
    }

    /// Every value each field (or one field) has had, oldest first.
    pub fn history(&mut self, record: &str, field: Option<&str>) -> Result<Vec<HistoryEntry>> {
        self.role.require(self.role.may_read(), "read records")?;
        let d = self
            .doc(record)?
            .ok_or_else(|| StoreError::NoRecord(record.into()))?;
        let mut out = doc::history(d, "answers", field);
        if self.may_see_restricted() {
            if let Some(r) = self.doc(&restricted_id(record))? {
                out.extend(doc::history(r, "answers", field));
            }
        }
        out.sort_by(|a, b| a.time.cmp(&b.time));
        Ok(out)
    }

    /// Records from the projection (never from documents), newest first.
    pub fn list_records(&self, filter: &RecordFilter) -> Result<Vec<RecordRow>> {
        let mut sql = String::from(
            "SELECT record_id, form_id, form_version, subject_id, site, status, conflict, created
             FROM records WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        for (col, v) in [
            ("status", &filter.status),
            ("form_id", &filter.form_id),
            ("site", &filter.site),
            ("subject_id", &filter.subject_id),
        ] {
            if let Some(v) = v {
                args.push(v.clone());
                sql.push_str(&format!(" AND {col} = ?{}", args.len()));
            }
        }
        if filter.conflicts_only {
            sql.push_str(" AND conflict = 1");
        }
        sql.push_str(&format!(
            " ORDER BY record_id DESC LIMIT {}",
            filter.limit.unwrap_or(1000)
        ));
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok(RecordRow {
                record_id: r.get(0)?,
                form_id: r.get(1)?,
                form_version: r.get(2)?,
                subject_id: r.get(3)?,
                site: r.get(4)?,
                status: r.get(5)?,
                conflict: r.get(6)?,
                created: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub status: Option<String>,
    pub form_id: Option<String>,
    pub site: Option<String>,
    pub subject_id: Option<String>,
    pub conflicts_only: bool,
    pub limit: Option<usize>,
}

/// One line of the record list.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRow {
    pub record_id: String,
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub site: String,
    pub status: String,
    pub conflict: bool,
    pub created: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    /// A new store in a temporary folder (kept while the folder lives) whose one
    /// user is the clinician `user`.
    fn clinician_store(user: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("s.db");
        let s = Store::init(&db, user, Role::Clinician, "pass-word", "x").expect("init");
        (dir, s)
    }

    /// A woman born on 1 May 1990.
    fn woman_born_1990(s: &mut Store) -> String {
        s.add_subject(&[
            ("date_of_birth".into(), "1990-05-01".into()),
            ("sex".into(), "female".into()),
        ])
        .expect("subject")
    }

    /// A pre-embarkation check links the subject's latest pre-departure assessment
    /// and its outcome; clearance is refused while that outcome is not a "fit" one.
    #[test]
    fn a_pec_reads_the_latest_pda_and_its_outcome() {
        let (_dir, mut s) = clinician_store("dr-okafor");
        let subject = woman_born_1990(&mut s);
        // No pda yet: nothing is linked and clearance is refused.
        let early = s.new_record("pec", &subject).expect("pec");
        s.set_answer(&early, "pec_outcome", "cleared", None)
            .expect("outcome");
        let view = s.show(&early).expect("show");
        assert!(view.errors.iter().any(|e| e.rule == "pec_outcome_pda_fit"));

        let pda = s.new_record("pda", &subject).expect("pda");
        s.set_answer(&pda, "outcome", "deferred", None)
            .expect("pda outcome");
        let pec = s.new_record("pec", &subject).expect("pec");
        s.set_answer(&pec, "pec_outcome", "cleared", None)
            .expect("outcome");
        let seen = s.assess(&pec, "en").expect("assess");
        assert_eq!(
            seen.values.get("linked_pda_encounter_id"),
            Some(&J::String(pda.clone()))
        );
        assert_eq!(
            seen.values.get("linked_pda_outcome"),
            Some(&J::String("deferred".into()))
        );
        assert!(seen
            .view
            .errors
            .iter()
            .any(|e| e.rule == "pec_outcome_pda_fit"));
        // The pda's outcome becomes fit: the check reads it and may clear.
        s.set_answer(&pda, "outcome", "fit_with_followup", None)
            .expect("pda outcome");
        let view = s.show(&pec).expect("show");
        assert!(!view.errors.iter().any(|e| e.rule == "pec_outcome_pda_fit"));
    }

    /// Starts a record on an older version of its form, as a device that had not
    /// yet received the new version would have.
    fn old_record(s: &mut Store, form_id: &str, subject: &str) -> String {
        let old = s.form(form_id, "1.0.0").expect("archived form");
        s.in_tx(|s| s.create_record(&old, subject)).expect("record")
    }

    /// Issue 14 item 7: an open record on 1.0.0 moves to the newest version on its
    /// next edit, so the new safety rules judge it; the move is in its history.
    #[test]
    fn an_open_record_moves_to_the_newest_version_on_its_next_edit() {
        let (_dir, mut s) = clinician_store("dr-okafor");
        let subject = woman_born_1990(&mut s);
        let pec = old_record(&mut s, "pec", &subject);
        assert_eq!(s.show(&pec).expect("show").form_version, "1.0.0");
        // 1.0.0 lets a check clear a traveller with no fit pre-departure outcome.
        s.set_answer(&pec, "pec_outcome", "cleared", None)
            .expect("outcome");
        let view = s.show(&pec).expect("show");
        assert_eq!(view.form_version, "1.1.0");
        assert!(view.errors.iter().any(|e| e.rule == "pec_outcome_pda_fit"));
        assert_eq!(
            view.answers.get("pec_outcome"),
            Some(&J::String("cleared".into()))
        );
        let row = s
            .list_records(&RecordFilter::default())
            .expect("list")
            .into_iter()
            .find(|r| r.record_id == pec)
            .expect("row");
        assert_eq!(row.form_version, "1.1.0");
        let moves = s.history(&pec, Some("form_version")).expect("history");
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].message, "moved from pec 1.0.0 to 1.1.0");
        assert_eq!(moves[0].value, J::String("1.1.0".into()));
        // A second edit does not move it again.
        s.set_answer(&pec, "pec_outcome", "hold_travel", None)
            .expect("again");
        assert_eq!(s.history(&pec, Some("form_version")).expect("h").len(), 1);

        // A submission attempt moves it too, even when refused as incomplete.
        let pda = old_record(&mut s, "pda", &subject);
        assert!(s.set_status(&pda, "submitted", None).is_err());
        assert_eq!(s.show(&pda).expect("show").form_version, "1.2.0");
    }

    /// A locked record keeps the version it was locked with, even when amended.
    #[test]
    fn a_locked_record_keeps_its_version() {
        let (_dir, mut s) = clinician_store("dr-okafor");
        let subject = s
            .add_subject(&[("date_of_birth".into(), "1990-05-01".into())])
            .expect("subject");
        let pec = old_record(&mut s, "pec", &subject);
        let author = s.author();
        let t = s.now_ms();
        s.in_tx(|s| {
            let mut d = s.take_doc(&pec)?.expect("doc");
            let h = doc::write_root(
                &mut d,
                &author,
                &[("status", "locked")],
                "status locked".into(),
                t,
            )?;
            let new: Vec<_> = h.into_iter().collect();
            s.put_doc(&pec, Kind::Record, d, &new)?;
            s.project_record(&pec)
        })
        .expect("lock");
        s.set_answer(&pec, "pec_outcome", "hold_travel", Some("typing error"))
            .expect("amend");
        let view = s.show(&pec).expect("show");
        assert_eq!(view.form_version, "1.0.0");
        assert!(s.history(&pec, Some("form_version")).expect("h").is_empty());
    }

    /// Every built-in form version can move to the newest one by rewriting its
    /// `form_version` alone: the guarantee [`Store::move_to_newest`] relies on.
    #[test]
    fn every_builtin_version_moves_to_the_newest() {
        let mut newest: std::collections::HashMap<String, Arc<Form>> = Default::default();
        let mut all = Vec::new();
        for (_, text) in crate::builtin::FORMS {
            let head: J = serde_json::from_str(text).expect("json");
            let (id, v) = (
                head["form_id"].as_str().expect("id"),
                head["version"].as_str().expect("v"),
            );
            let form = crate::builtin::form(id, v).expect("form");
            let keep = newest
                .get(id)
                .is_none_or(|n| semver_key(n.version()) < semver_key(v));
            if keep {
                newest.insert(id.to_string(), form.clone());
            }
            all.push(form);
        }
        for form in all {
            let n = &newest[form.form_id()];
            movable(&form, n).unwrap_or_else(|why| {
                panic!(
                    "{} {} -> {}: {why}",
                    form.form_id(),
                    form.version(),
                    n.version()
                )
            });
        }
    }

    /// Issue 14 item 5: the pregnancy answers of a record whose subject's sex changes
    /// to male are kept, shown as hidden and kept, and no longer count.
    #[test]
    fn answers_hidden_by_a_change_of_relevance_are_kept_and_listed() {
        let (_dir, mut s) = clinician_store("dr-okafor");
        let subject = woman_born_1990(&mut s);
        let r = s.new_record("pda", &subject).expect("pda");
        s.set_answer(&r, "pregnant", "yes", None).expect("pregnant");
        assert!(s.show(&r).expect("show").hidden_kept.is_empty());
        s.set_subject_field(&subject, "sex", "male").expect("sex");
        let view = s.show(&r).expect("show");
        assert_eq!(
            view.answers.get("pregnant"),
            Some(&J::String("yes".into())),
            "kept"
        );
        assert!(
            view.hidden_kept.contains(&"pregnant".to_string()),
            "{:?}",
            view.hidden_kept
        );
        assert!(!view.missing.iter().any(|m| m == "lmp_date"));
    }

    /// Issue 14 item 6: `clinician_id` is a pick from the site's clinicians: the
    /// form view offers them, and once the device holds the account list a name
    /// that is not one of them is refused.
    #[test]
    fn clinician_id_is_picked_from_the_sites_accounts() {
        let (_dir, mut s) = clinician_store("amina");
        let subject = s
            .add_subject(&[("date_of_birth".into(), "1990-05-01".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("pda");
        let offered = |s: &mut Store| -> Vec<String> {
            let view = s.form_view("pda", "1.2.0", "en").expect("view");
            let f = view
                .sections
                .iter()
                .flat_map(|x| &x.fields)
                .find(|f| f.id == "clinician_id")
                .expect("clinician_id");
            assert_eq!(f.choices_from_accounts, Some(vec!["clinician".to_string()]));
            f.choices.iter().flatten().map(|c| c.code.clone()).collect()
        };
        // Before enrolment: the local users are offered, any name is taken.
        assert_eq!(offered(&mut s), vec!["amina".to_string()]);
        s.set_answer(&r, "clinician_id", "Dr Paper", None)
            .expect("no account list yet");
        s.apply_accounts(
            1,
            &[
                ("amina".into(), "clinician".into()),
                ("bilal".into(), "screener".into()),
                ("chidi".into(), "clinician".into()),
            ],
        )
        .expect("accounts");
        assert_eq!(
            offered(&mut s),
            vec!["amina".to_string(), "chidi".to_string()]
        );
        for name in ["bilal", "nobody"] {
            let e = s
                .set_answer(&r, "clinician_id", name, None)
                .expect_err("not a clinician of the site");
            let m = e.to_string();
            assert!(m.contains("clinician_id") && m.contains("clinician"), "{m}");
            assert!(!m.contains(name), "no value: {m}");
        }
        s.set_answer(&r, "clinician_id", "chidi", None)
            .expect("a clinician");
        s.set_answer(&r, "clinician_id", "", None).expect("cleared");
    }
}
