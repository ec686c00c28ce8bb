//! Subjects: the screened people. Identity (names, document numbers, phone) lives
//! only in the subject document's `identity` map and the search projection, never
//! in record documents; records link by the pseudonymous `subject_id`.

use crate::doc::{self, Slot, Write};
use crate::error::{Result, SearchGap, StoreError};
use crate::store::{Kind, Store};
use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::{Map, Value as J};
use tern_record::fields::EXTRA_IDENTITY;
pub(crate) use tern_record::fields::{is_identity_field, normalise_document};
use tern_record::fold::{fold, skeleton};

/// Subject fields typed by the form that edits them (`pda`, FORMS.md 3.3).
const TYPED: &[&str] = &[
    "family_name",
    "given_name",
    "sex",
    "date_of_birth",
    "dob_precision",
    "nationality",
    "country_of_birth",
];
const EXTRA_FIELDS: &[&str] = &["family_group_id"];
/// The form whose field definitions type the subject fields.
const SUBJECT_FORM: &str = "pda";

/// A search over the subject projection. Every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct SubjectQuery {
    /// A name fragment: each word matches a name, accent- and case-insensitive, or
    /// its transliteration skeleton (words of 4 letters or more).
    pub name: Option<String>,
    pub date_of_birth: Option<String>,
    pub document: Option<String>,
    /// Include subjects merged into another.
    pub include_merged: bool,
    pub limit: Option<usize>,
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectHit {
    pub subject_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sex: Option<String>,
    pub merged_into: Option<String>,
}

impl Store {
    /// Registers a subject with `field=value` pairs and returns its new id.
    pub fn add_subject(&mut self, values: &[(String, String)]) -> Result<String> {
        self.role
            .require(self.role.may_capture(), "register subjects")?;
        let typed = self.typed_subject_values(values)?;
        let id = crate::ids::new_subject_id()?;
        self.in_tx(|s| s.create_subject(&id, &typed))?;
        Ok(id)
    }

    fn typed_subject_values(&mut self, values: &[(String, String)]) -> Result<Vec<(String, J)>> {
        let mut typed = Vec::new();
        for (field, raw) in values {
            typed.push((field.clone(), self.subject_value(field, raw)?));
        }
        Ok(typed)
    }

    /// Creates a subject document inside the open transaction: one change for the
    /// creation, one per value.
    fn create_subject(&mut self, id: &str, typed: &[(String, J)]) -> Result<()> {
        let author = self.author();
        let t = self.now_ms();
        let created = self.now().to_rfc3339();
        let (mut d, h) = doc::new_subject(&author, id, &created, t)?;
        let mut new = vec![h];
        new.extend(write_subject_fields(&mut d, &author, typed.iter(), t)?);
        self.put_doc(id, Kind::Subject, d, &new)?;
        self.project_subject(id)
    }

    /// For `record import`, inside the open transaction: links the subject `id` if the
    /// store has it (filling only fields it lacks), or registers it.
    pub(crate) fn import_subject(
        &mut self,
        id: Option<String>,
        values: &[(String, String)],
    ) -> Result<String> {
        let typed = self.typed_subject_values(values)?;
        let id = match id {
            Some(id) => id,
            None => crate::ids::new_subject_id()?,
        };
        if self.doc(&id)?.is_none() {
            self.create_subject(&id, &typed)?;
            return Ok(id);
        }
        let have = self.subject_values(&id)?;
        let author = self.author();
        let t = self.now_ms();
        let mut d = self
            .take_doc(&id)?
            .ok_or_else(|| StoreError::NoSubject(id.clone()))?;
        let missing = typed.iter().filter(|(f, _)| !have.contains_key(f));
        let new = write_subject_fields(&mut d, &author, missing, t)?;
        self.put_doc(&id, Kind::Subject, d, &new)?;
        self.project_subject(&id)?;
        Ok(id)
    }

    /// Sets one subject field.
    pub fn set_subject_field(&mut self, subject: &str, field: &str, raw: &str) -> Result<()> {
        self.role
            .require(self.role.may_capture(), "edit subjects")?;
        let id = crate::ids::parse_subject_id(subject)?;
        let value = self.subject_value(field, raw)?;
        let author = self.author();
        let t = self.now_ms();
        self.in_tx(|s| {
            let mut d = s
                .take_doc(&id)?
                .ok_or_else(|| StoreError::NoSubject(id.clone()))?;
            let map = crate::records::subject_map(is_identity_field(field));
            let h = doc::write_answer(
                &mut d,
                &author,
                map,
                &Slot::Top(field.into()),
                &Write::Register(value),
                &[],
                format!("set {field}"),
                t,
            )?;
            let new: Vec<_> = h.into_iter().collect();
            s.put_doc(&id, Kind::Subject, d, &new)?;
            s.project_subject(&id)
        })
    }

    /// Reads a subject field value by its declared type.
    fn subject_value(&mut self, field: &str, raw: &str) -> Result<J> {
        if EXTRA_IDENTITY.contains(&field) || EXTRA_FIELDS.contains(&field) {
            let t = raw.trim();
            return Ok(if t.is_empty() {
                J::Null
            } else {
                J::String(t.into())
            });
        }
        if !TYPED.contains(&field) {
            let known: Vec<&str> = TYPED
                .iter()
                .chain(EXTRA_IDENTITY)
                .chain(EXTRA_FIELDS)
                .copied()
                .collect();
            return Err(StoreError::answer(
                field,
                format!("is not a subject field; use one of {}", known.join(", ")),
            ));
        }
        let version = self.newest_version(SUBJECT_FORM)?;
        let form = self.form(SUBJECT_FORM, &version)?;
        let f = form
            .field(field)
            .ok_or_else(|| StoreError::answer(field, "is not in the subject form"))?;
        crate::records::read_value(&form, f, &Slot::Top(field.into()), &J::String(raw.into()))
    }

    /// The subject a given id now stands for, following merges.
    pub(crate) fn effective_subject(&mut self, id: &str) -> Result<String> {
        let mut current = id.to_string();
        for _ in 0..8 {
            let next: Option<Option<String>> = self
                .conn
                .query_row(
                    "SELECT merged_into FROM subjects WHERE subject_id = ?1",
                    [&current],
                    |r| r.get(0),
                )
                .optional()?;
            match next.flatten() {
                Some(n) if n != current => current = n,
                _ => break,
            }
        }
        Ok(current)
    }

    /// Subject fields and identity of a subject (after merges), empty when unknown.
    pub(crate) fn subject_values(&mut self, id: &str) -> Result<Map<String, J>> {
        let id = self.effective_subject(id)?;
        let Some(d) = self.doc(&id)? else {
            return Ok(Map::new());
        };
        let mut out = doc::read_answers(d, "fields").answers;
        out.extend(doc::read_answers(d, "identity").answers);
        Ok(out)
    }

    /// A subject as JSON: fields, identity (if the role may see it), conflicts, merges.
    pub fn show_subject(&mut self, subject: &str) -> Result<J> {
        self.role.require(self.role.may_read(), "read subjects")?;
        let id = crate::ids::parse_subject_id(subject)?;
        let see_identity = self.role.may_see_identity();
        let d = self
            .doc(&id)?
            .ok_or_else(|| StoreError::NoSubject(id.clone()))?;
        let fields = doc::read_answers(d, "fields");
        let identity = doc::read_answers(d, "identity");
        let mut conflicts = fields.conflicts;
        let mut out = Map::new();
        out.insert("subject_id".into(), J::String(id.clone()));
        out.insert("fields".into(), J::Object(fields.answers));
        if see_identity {
            out.insert("identity".into(), J::Object(identity.answers));
            conflicts.extend(identity.conflicts);
        }
        out.insert(
            "merged_into".into(),
            doc::root_str(d, "merged_into")
                .map(J::String)
                .unwrap_or(J::Null),
        );
        out.insert(
            "merged_from".into(),
            J::Array(
                doc::root_map_strings(d, "merged_from")
                    .keys()
                    .cloned()
                    .map(J::String)
                    .collect(),
            ),
        );
        out.insert(
            "conflicts".into(),
            serde_json::to_value(conflicts).unwrap_or(J::Null),
        );
        Ok(J::Object(out))
    }

    /// Marks `other` as the same person as `keep`: `other` points to `keep`, `keep`
    /// lists `other`, and answers `keep` lacks are copied over. Each is a change.
    pub fn merge_subjects(&mut self, keep: &str, other: &str) -> Result<()> {
        self.role
            .require(self.role.may_see_identity(), "merge subjects")?;
        let keep = crate::ids::parse_subject_id(keep)?;
        let other = crate::ids::parse_subject_id(other)?;
        if keep == other || self.effective_subject(&keep)? == other {
            return Err(StoreError::SelfMerge);
        }
        let author = self.author();
        let t = self.now_ms();
        let now = self.now().to_rfc3339();
        self.in_tx(|s| {
            let mut o = s
                .take_doc(&other)?
                .ok_or_else(|| StoreError::NoSubject(other.clone()))?;
            let mut k = s
                .take_doc(&keep)?
                .ok_or_else(|| StoreError::NoSubject(keep.clone()))?;
            let mut new_o = Vec::new();
            new_o.extend(doc::write_root(
                &mut o,
                &author,
                &[("merged_into", &keep)],
                format!("merge into {keep}"),
                t,
            )?);
            let mut new_k = Vec::new();
            new_k.extend(doc::write_in_map(
                &mut k,
                &author,
                "merged_from",
                &other,
                &now,
                format!("merge from {other}"),
                t,
            )?);
            for map in ["fields", "identity"] {
                let have = doc::read_answers(&k, map).answers;
                for (field, value) in doc::read_answers(&o, map).answers {
                    if have.contains_key(&field) {
                        continue;
                    }
                    new_k.extend(doc::write_answer(
                        &mut k,
                        &author,
                        map,
                        &Slot::Top(field.clone()),
                        &Write::Register(value),
                        &[],
                        format!("merge {field}: from {other}"),
                        t,
                    )?);
                }
            }
            s.put_doc(&other, Kind::Subject, o, &new_o)?;
            s.put_doc(&keep, Kind::Subject, k, &new_k)?;
            s.project_subject(&other)?;
            s.project_subject(&keep)
        })
    }

    /// Searches subjects offline from the projection (never from documents).
    pub fn search_subjects(&self, q: &SubjectQuery) -> Result<Vec<SubjectHit>> {
        self.role
            .require(self.role.may_see_identity(), "search subjects")?;
        let mut sql = String::from(
            "SELECT subject_id, display_name, date_of_birth, sex, merged_into FROM subjects WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        let arg = |v: String, args: &mut Vec<String>| {
            args.push(v);
            format!("?{}", args.len())
        };
        if let Some(name) = &q.name {
            let words: Vec<String> = fold(name)
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            if words.is_empty() {
                return Err(StoreError::EmptySearch(SearchGap::NoNameLetter));
            }
            for w in words {
                let like = format!("%{}%", escape_like(&w));
                let a = arg(like, &mut args);
                if w.chars().count() >= 4 {
                    let sk = format!("%{}%", escape_like(&skeleton(&w)));
                    let b = arg(sk, &mut args);
                    sql.push_str(&format!(
                        " AND (name_fold LIKE {a} ESCAPE '\\' OR name_skeleton LIKE {b} ESCAPE '\\')"
                    ));
                } else {
                    sql.push_str(&format!(" AND name_fold LIKE {a} ESCAPE '\\'"));
                }
            }
        }
        if let Some(dob) = &q.date_of_birth {
            let a = arg(dob.trim().to_string(), &mut args);
            sql.push_str(&format!(" AND date_of_birth = {a}"));
        }
        if let Some(docno) = &q.document {
            let n = normalise_document(docno);
            if n.is_empty() {
                return Err(StoreError::EmptySearch(SearchGap::NoDocumentCharacter));
            }
            let a = arg(format!("%{}%", escape_like(&n)), &mut args);
            sql.push_str(&format!(" AND documents LIKE {a} ESCAPE '\\'"));
        }
        if !q.include_merged {
            sql.push_str(" AND merged_into IS NULL");
        }
        sql.push_str(&format!(
            " ORDER BY display_name LIMIT {}",
            q.limit.unwrap_or(50)
        ));
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok(SubjectHit {
                subject_id: r.get(0)?,
                name: Some(r.get(1)?),
                date_of_birth: r.get(2)?,
                sex: r.get(3)?,
                merged_into: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Writes subject fields into a subject document, one change each (empty values
/// skipped), each field in the identity or the subject map as it belongs.
fn write_subject_fields<'a>(
    d: &mut automerge::Automerge,
    author: &doc::Author,
    fields: impl Iterator<Item = &'a (String, J)>,
    t: i64,
) -> Result<Vec<automerge::ChangeHash>> {
    let mut new = Vec::new();
    for (field, value) in fields.filter(|(_, v)| !v.is_null()) {
        let map = crate::records::subject_map(is_identity_field(field));
        new.extend(doc::write_answer(
            d,
            author,
            map,
            &Slot::Top(field.clone()),
            &Write::Register(value.clone()),
            &[],
            format!("set {field}"),
            t,
        )?);
    }
    Ok(new)
}
