//! Records and subjects as Automerge documents. Pure: no SQLite, no clock (the time
//! of a change is passed in), no randomness. The store loads and saves the bytes.
//!
//! Layout of a record document (and of its restricted twin, which has only
//! `answers`):
//! - root: `form_id`, `form_version`, `subject_id`, `site`, `device`, `creator`,
//!   `created`, `status`, `status_comment`, `confirmed` (map `rule@field` → reason),
//!   `answers` (map field id → value).
//! - A repeat group is a list of maps, created empty with the record so that two
//!   devices never create two competing lists.
//! - A free-text field two people may edit (multiline text, notes) is an Automerge
//!   Text, created with the record (or the repeat instance) for the same reason; its
//!   edits merge character by character.
//! - Every other answer is a register holding the answer's JSON (`"2020-01-31"`,
//!   `36.5`, `["a","b"]`); clearing writes `null`, so a clear against a concurrent
//!   value is a visible conflict rather than a silent deletion.
//!
//! A subject document has `subject_id`, `created`, `fields` (sex, date of birth, ...),
//! `identity` (names, document numbers: never copied into records), `merged_into`.
//!
//! Every change carries actor = `tern:<device>:<user>`, the time in milliseconds and
//! a message `<verb> <path>[: reason]` naming the field, never its value. A change
//! that writes a top-level register leaves the path out (`set`, `amend: why`): the
//! key of its operation is the field, and a record's ~120 answer changes would
//! otherwise carry every field name twice (a quarter of a synced record's bytes).

use crate::error::{RecordError, Result};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Automerge, Change, ChangeHash, ObjId as ExId, ObjType, ReadDoc, ScalarValue, Value,
    ROOT,
};
use serde::Serialize;
use serde_json::{Map, Value as J};

/// The kind of an Automerge document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Record,
    /// The restricted twin of a record (sensitive sections).
    Restricted,
    Subject,
}

impl DocKind {
    pub fn name(self) -> &'static str {
        match self {
            DocKind::Record => "record",
            DocKind::Restricted => "restricted",
            DocKind::Subject => "subject",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "record" => Some(DocKind::Record),
            "restricted" => Some(DocKind::Restricted),
            "subject" => Some(DocKind::Subject),
            _ => None,
        }
    }
}

/// The id of the restricted twin of a record.
pub fn restricted_id(record: &str) -> String {
    format!("{record}.restricted")
}

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub device: String,
    pub user: String,
}

impl Author {
    pub fn actor(&self) -> ActorId {
        ActorId::from(format!("tern:{}:{}", self.device, self.user).into_bytes())
    }

    pub fn from_actor(actor: &ActorId) -> Author {
        let text = String::from_utf8_lossy(actor.to_bytes()).to_string();
        let mut parts = text.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("tern"), Some(device), Some(user)) => Author {
                device: device.into(),
                user: user.into(),
            },
            _ => Author {
                device: actor.to_hex_string(),
                user: String::new(),
            },
        }
    }
}

/// Where an answer lives: a top-level field, or a field of one repeat instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Top(String),
    Repeat {
        group: String,
        index: usize,
        field: String,
    },
}

impl Slot {
    /// Reads `field` or `group[i].field`.
    pub fn parse(path: &str) -> Result<Slot> {
        let bad =
            || RecordError::answer(path, "write a field id, or group[i].field inside a repeat");
        match path.split_once('[') {
            None => {
                if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad());
                }
                Ok(Slot::Top(path.to_string()))
            }
            Some((group, rest)) => {
                let (index, field) = rest.split_once("].").ok_or_else(bad)?;
                let index: usize = index.parse().map_err(|_| bad())?;
                if group.is_empty() || field.is_empty() {
                    return Err(bad());
                }
                Ok(Slot::Repeat {
                    group: group.into(),
                    index,
                    field: field.into(),
                })
            }
        }
    }

    pub fn field(&self) -> &str {
        match self {
            Slot::Top(f) => f,
            Slot::Repeat { field, .. } => field,
        }
    }

    pub fn path(&self) -> String {
        match self {
            Slot::Top(f) => f.clone(),
            Slot::Repeat {
                group,
                index,
                field,
            } => format!("{group}[{index}].{field}"),
        }
    }
}

/// A value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A register answer, as JSON (`null` clears).
    Register(J),
    /// The whole new content of a text field; only the difference becomes operations.
    Text(String),
}

/// One of several concurrent values of a field, with who wrote it and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictValue {
    pub value: J,
    pub user: String,
    pub device: String,
    pub time: String,
}

/// A field with concurrent different values, all kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub field: String,
    pub values: Vec<ConflictValue>,
    /// For consent fields: the most restrictive value, which applies meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<J>,
}

/// One entry of a field's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub field: String,
    pub value: J,
    pub user: String,
    pub device: String,
    pub time: String,
    pub message: String,
    /// The reason given for an amendment of a locked record (`amend X: why`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn damaged(e: impl std::fmt::Display) -> RecordError {
    RecordError::BadDocument("document".into(), e.to_string())
}

/// Commits the open transaction of `doc` as one change and returns its bytes.
fn commit(
    tx: automerge::transaction::Transaction<'_>,
    message: String,
    time_ms: i64,
) -> Option<ChangeHash> {
    let (hash, _) = tx.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(time_ms),
    );
    hash
}

/// The bytes of the change `hash` of `doc`, to be stored as one row.
pub fn change_bytes(doc: &Automerge, hash: ChangeHash) -> Result<(ChangeHash, Vec<u8>)> {
    let change = doc
        .get_change_by_hash(&hash)
        .ok_or_else(|| damaged("a new change went missing"))?;
    Ok((hash, change.raw_bytes().to_vec()))
}

/// What a record document starts with.
#[derive(Debug, Clone)]
pub struct RecordMeta {
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub site: String,
    pub created: String,
}

/// The ids the new document should prepare: repeat groups (lists) and top-level text
/// fields (Automerge Text), so no two devices ever create competing objects.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub lists: Vec<String>,
    pub texts: Vec<String>,
}

/// A new record document, made by one change.
pub fn new_record(
    author: &Author,
    meta: &RecordMeta,
    shape: &Shape,
    time_ms: i64,
) -> Result<(Automerge, ChangeHash)> {
    let mut doc = Automerge::new().with_actor(author.actor());
    let mut tx = doc.transaction();
    let put = |tx: &mut automerge::transaction::Transaction<'_>, k: &str, v: &str| {
        tx.put(ROOT, k, v).map_err(damaged)
    };
    put(&mut tx, "form_id", &meta.form_id)?;
    put(&mut tx, "form_version", &meta.form_version)?;
    put(&mut tx, "subject_id", &meta.subject_id)?;
    put(&mut tx, "site", &meta.site)?;
    put(&mut tx, "created", &meta.created)?;
    put(&mut tx, "device", &author.device)?;
    put(&mut tx, "creator", &author.user)?;
    put(&mut tx, "status", "draft")?;
    tx.put_object(ROOT, "confirmed", ObjType::Map)
        .map_err(damaged)?;
    prepare_answers(&mut tx, shape)?;
    let hash =
        commit(tx, "create record".into(), time_ms).ok_or_else(|| damaged("empty create"))?;
    Ok((doc, hash))
}

/// A new restricted twin of a record: only `answers`.
pub fn new_restricted(
    author: &Author,
    shape: &Shape,
    time_ms: i64,
) -> Result<(Automerge, ChangeHash)> {
    let mut doc = Automerge::new().with_actor(author.actor());
    let mut tx = doc.transaction();
    prepare_answers(&mut tx, shape)?;
    let hash = commit(tx, "create restricted part".into(), time_ms)
        .ok_or_else(|| damaged("empty create"))?;
    Ok((doc, hash))
}

fn prepare_answers(tx: &mut automerge::transaction::Transaction<'_>, shape: &Shape) -> Result<()> {
    let answers = tx
        .put_object(ROOT, "answers", ObjType::Map)
        .map_err(damaged)?;
    for list in &shape.lists {
        tx.put_object(&answers, list.as_str(), ObjType::List)
            .map_err(damaged)?;
    }
    for text in &shape.texts {
        tx.put_object(&answers, text.as_str(), ObjType::Text)
            .map_err(damaged)?;
    }
    Ok(())
}

/// A new subject document with its identity and subject fields, one change for the
/// creation and one per field.
pub fn new_subject(
    author: &Author,
    subject_id: &str,
    created: &str,
    time_ms: i64,
) -> Result<(Automerge, ChangeHash)> {
    let mut doc = Automerge::new().with_actor(author.actor());
    let mut tx = doc.transaction();
    tx.put(ROOT, "subject_id", subject_id).map_err(damaged)?;
    tx.put(ROOT, "created", created).map_err(damaged)?;
    tx.put_object(ROOT, "fields", ObjType::Map)
        .map_err(damaged)?;
    tx.put_object(ROOT, "identity", ObjType::Map)
        .map_err(damaged)?;
    tx.put_object(ROOT, "merged_from", ObjType::Map)
        .map_err(damaged)?;
    let hash =
        commit(tx, "create subject".into(), time_ms).ok_or_else(|| damaged("empty create"))?;
    Ok((doc, hash))
}

fn map_at(doc: &Automerge, parent: &ExId, key: &str) -> Option<ExId> {
    match doc.get(parent, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// The map holding the answer of `slot` under `top` (a root key such as `answers`),
/// creating the repeat instance when `slot.index` is one past the end.
fn container_for_write(
    tx: &mut automerge::transaction::Transaction<'_>,
    top: &str,
    slot: &Slot,
    instance_texts: &[String],
) -> Result<ExId> {
    let answers = match tx.get(ROOT, top).map_err(damaged)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => return Err(damaged(format!("no `{top}` map"))),
    };
    match slot {
        Slot::Top(_) => Ok(answers),
        Slot::Repeat { group, index, .. } => {
            let list = match tx.get(&answers, group.as_str()).map_err(damaged)? {
                Some((Value::Object(ObjType::List), id)) => id,
                _ => {
                    return Err(RecordError::answer(
                        slot.path(),
                        format!("`{group}` is not a repeat group of this record"),
                    ))
                }
            };
            let len = tx.length(&list);
            if *index < len {
                match tx.get(&list, *index).map_err(damaged)? {
                    Some((Value::Object(ObjType::Map), id)) => Ok(id),
                    _ => Err(damaged("repeat instance is not a map")),
                }
            } else if *index == len {
                let item = tx
                    .insert_object(&list, len, ObjType::Map)
                    .map_err(damaged)?;
                for t in instance_texts {
                    tx.put_object(&item, t.as_str(), ObjType::Text)
                        .map_err(damaged)?;
                }
                Ok(item)
            } else {
                Err(RecordError::answer(
                    slot.path(),
                    format!("`{group}` has {len} instance(s); the next is [{len}]"),
                ))
            }
        }
    }
}

/// Writes one answer as one change. `top` is `answers` for records, `fields` or
/// `identity` for subjects. Returns `None` when the value is already there (no change).
#[allow(clippy::too_many_arguments)]
pub fn write_answer(
    doc: &mut Automerge,
    author: &Author,
    top: &str,
    slot: &Slot,
    value: &Write,
    instance_texts: &[String],
    message: String,
    time_ms: i64,
) -> Result<Option<ChangeHash>> {
    let message = short_message(message, slot, value);
    doc.set_actor(author.actor());
    let mut tx = doc.transaction();
    let obj = container_for_write(&mut tx, top, slot, instance_texts)?;
    let key = slot.field();
    match value {
        Write::Register(v) => {
            let encoded = v.to_string();
            let current = tx.get_all(&obj, key).map_err(damaged)?;
            let same = current.len() == 1
                && matches!(&current[0].0, Value::Scalar(s) if s.as_str() == Some(encoded.as_str()));
            if !same {
                tx.put(&obj, key, ScalarValue::Str(encoded.into()))
                    .map_err(damaged)?;
            }
        }
        Write::Text(s) => {
            let all = tx.get_all(&obj, key).map_err(damaged)?;
            let text_obj = match all.as_slice() {
                [(Value::Object(ObjType::Text), id)] => id.clone(),
                // Absent, a register, or a conflict: one new Text replaces them all.
                _ => tx.put_object(&obj, key, ObjType::Text).map_err(damaged)?,
            };
            tx.update_text(&text_obj, s).map_err(damaged)?;
        }
    }
    Ok(commit(tx, message, time_ms))
}

/// `<verb> <path>[: reason]` without the path when the change's operation names the
/// field itself (a top-level register): `<verb>[: reason]`.
fn short_message(message: String, slot: &Slot, value: &Write) -> String {
    let (Slot::Top(field), Write::Register(_)) = (slot, value) else {
        return message;
    };
    let Some((verb, rest)) = message.split_once(' ') else {
        return message;
    };
    match rest.strip_prefix(field.as_str()) {
        Some("") => verb.to_string(),
        Some(tail) if tail.starts_with(':') => format!("{verb}{tail}"),
        _ => message,
    }
}

/// Sets root registers (status, comment, merged_into) in one change.
pub fn write_root(
    doc: &mut Automerge,
    author: &Author,
    values: &[(&str, &str)],
    message: String,
    time_ms: i64,
) -> Result<Option<ChangeHash>> {
    doc.set_actor(author.actor());
    let mut tx = doc.transaction();
    for (k, v) in values {
        tx.put(ROOT, *k, *v).map_err(damaged)?;
    }
    Ok(commit(tx, message, time_ms))
}

/// Puts `key` → `value` into the root map `map` (confirmed warnings, merged_from).
pub fn write_in_map(
    doc: &mut Automerge,
    author: &Author,
    map: &str,
    key: &str,
    value: &str,
    message: String,
    time_ms: i64,
) -> Result<Option<ChangeHash>> {
    doc.set_actor(author.actor());
    let mut tx = doc.transaction();
    let obj = match tx.get(ROOT, map).map_err(damaged)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, map, ObjType::Map).map_err(damaged)?,
    };
    tx.put(&obj, key, value).map_err(damaged)?;
    Ok(commit(tx, message, time_ms))
}

/// A root string register (`status`, `form_id`, ...), the winner if concurrent.
pub fn root_str(doc: &Automerge, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok()?? {
        (Value::Scalar(s), _) => s.as_str().map(str::to_string),
        _ => None,
    }
}

/// The string entries of a root map (`confirmed`, `merged_from`).
pub fn root_map_strings(doc: &Automerge, map: &str) -> Map<String, J> {
    let mut out = Map::new();
    if let Some(obj) = map_at(doc, &ROOT, map) {
        for key in doc.keys(&obj) {
            if let Ok(Some((Value::Scalar(s), _))) = doc.get(&obj, key.as_str()) {
                if let Some(s) = s.as_str() {
                    out.insert(key.clone(), J::String(s.to_string()));
                }
            }
        }
    }
    out
}

/// One value of a cell as JSON: registers decode their JSON, texts give their text.
fn cell_json(doc: &Automerge, value: &Value<'_>, id: &ExId, heads: Option<&[ChangeHash]>) -> J {
    match value {
        Value::Scalar(s) => match s.as_str() {
            Some(text) => serde_json::from_str(text).unwrap_or(J::Null),
            None => J::Null,
        },
        Value::Object(ObjType::Text) => {
            let t = match heads {
                Some(h) => doc.text_at(id, h),
                None => doc.text(id),
            };
            match t {
                Ok(s) if !s.is_empty() => J::String(s),
                _ => J::Null,
            }
        }
        Value::Object(_) => J::Null,
    }
}

/// Consent statuses from least to most restrictive.
fn consent_rank(v: &J) -> u8 {
    match v.as_str() {
        Some("withdrawn") => 3,
        Some("refused") => 2,
        Some("granted") => 1,
        _ => 0,
    }
}

pub fn is_consent(field: &str) -> bool {
    field.starts_with("consent_")
}

/// Answers and open conflicts of a map of answers (`answers`, `fields`, `identity`).
#[derive(Debug)]
pub struct Read {
    pub answers: Map<String, J>,
    pub conflicts: Vec<Conflict>,
}

/// Reads every answer under root key `top`. For a field with concurrent values the
/// answer is the most restrictive one for consent fields, otherwise Automerge's
/// deterministic pick, and the field is listed in `conflicts` with every value.
pub fn read_answers(doc: &Automerge, top: &str) -> Read {
    let mut read = Read {
        answers: Map::new(),
        conflicts: Vec::new(),
    };
    let Some(answers) = map_at(doc, &ROOT, top) else {
        return read;
    };
    for item in doc.map_range(&answers, ..) {
        let key = item.key.to_string();
        if let automerge::ValueRef::Object(ObjType::List) = item.value {
            let list = item.id();
            let mut items = Vec::new();
            for i in 0..doc.length(&list) {
                let mut entry = Map::new();
                if let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) {
                    read_map(
                        doc,
                        &m,
                        &format!("{key}[{i}]."),
                        &mut entry,
                        &mut read.conflicts,
                    );
                }
                items.push(J::Object(entry));
            }
            read.answers.insert(key, J::Array(items));
            continue;
        }
        let value = if item.conflict {
            read_cell(doc, &answers, &key, &key, &mut read.conflicts)
        } else {
            fast_cell(doc, &item)
        };
        if let Some(v) = value {
            read.answers.insert(key, v);
        }
    }
    read
}

/// The fields of one repeat instance.
fn read_map(
    doc: &Automerge,
    obj: &ExId,
    prefix: &str,
    out: &mut Map<String, J>,
    conflicts: &mut Vec<Conflict>,
) {
    for item in doc.map_range(obj, ..) {
        let key = item.key.to_string();
        let value = if item.conflict {
            read_cell(doc, obj, &key, &format!("{prefix}{key}"), conflicts)
        } else {
            fast_cell(doc, &item)
        };
        if let Some(v) = value {
            out.insert(key, v);
        }
    }
}

/// A cell without concurrent values, read straight from the range item.
fn fast_cell(doc: &Automerge, item: &automerge::iter::MapRangeItem<'_>) -> Option<J> {
    let v = match &item.value {
        automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => {
            serde_json::from_str(s).unwrap_or(J::Null)
        }
        automerge::ValueRef::Object(ObjType::Text) => match doc.text(item.id()) {
            Ok(t) if !t.is_empty() => J::String(t),
            _ => J::Null,
        },
        _ => J::Null,
    };
    (!v.is_null()).then_some(v)
}

fn read_cell(
    doc: &Automerge,
    obj: &ExId,
    key: &str,
    path: &str,
    conflicts: &mut Vec<Conflict>,
) -> Option<J> {
    let all = doc.get_all(obj, key).ok()?;
    let values: Vec<(J, ExId)> = all
        .iter()
        .map(|(v, id)| (cell_json(doc, v, id, None), id.clone()))
        .collect();
    let chosen = if values.len() > 1 {
        let distinct = values.iter().any(|(v, _)| *v != values[0].0);
        let effective = if is_consent(key) {
            values
                .iter()
                .map(|(v, _)| v)
                .max_by_key(|v| consent_rank(v))
                .cloned()
        } else {
            None
        };
        if distinct {
            conflicts.push(Conflict {
                field: path.to_string(),
                values: values
                    .iter()
                    .map(|(v, id)| author_of(doc, v.clone(), id))
                    .collect(),
                effective: effective.clone(),
            });
        }
        effective.unwrap_or_else(|| values.last().map(|(v, _)| v.clone()).unwrap_or(J::Null))
    } else {
        values.first().map(|(v, _)| v.clone()).unwrap_or(J::Null)
    };
    (!chosen.is_null()).then_some(chosen)
}

fn author_of(doc: &Automerge, value: J, id: &ExId) -> ConflictValue {
    let (user, device, time) = match id {
        ExId::Id(_, actor, _) => {
            let a = Author::from_actor(actor);
            let time = doc
                .hash_for_opid(id)
                .and_then(|h| doc.get_change_by_hash(&h))
                .map(|c| ms_to_rfc3339(c.timestamp()))
                .unwrap_or_default();
            (a.user, a.device, time)
        }
        ExId::Root => (String::new(), String::new(), String::new()),
    };
    ConflictValue {
        value,
        user,
        device,
        time,
    }
}

/// True when the document has any open conflict under `top` or on the status. One
/// pass over the answers using Automerge's conflict flag; values are only read for
/// the rare flagged fields (to ignore concurrent writes of the same value). This runs
/// on every save, so it must stay cheap.
pub fn has_conflict(doc: &Automerge, top: &str) -> bool {
    if root_conflict(doc, "status").is_some() {
        return true;
    }
    let Some(answers) = map_at(doc, &ROOT, top) else {
        return false;
    };
    map_has_conflict(doc, &answers, true)
}

/// Whether the top-level answer `key` under `top` holds concurrent different values.
pub fn key_has_conflict(doc: &Automerge, top: &str, key: &str) -> bool {
    let Some(answers) = map_at(doc, &ROOT, top) else {
        return false;
    };
    let mut found = Vec::new();
    if doc.get_all(&answers, key).map_or(0, |all| all.len()) > 1 {
        read_cell(doc, &answers, key, key, &mut found);
    }
    !found.is_empty()
}

fn map_has_conflict(doc: &Automerge, obj: &ExId, descend: bool) -> bool {
    for item in doc.map_range(obj, ..) {
        if item.conflict {
            let mut found = Vec::new();
            read_cell(doc, obj, &item.key, &item.key, &mut found);
            if !found.is_empty() {
                return true;
            }
        }
        if descend && matches!(item.value, automerge::ValueRef::Object(ObjType::List)) {
            let list = item.id();
            for i in 0..doc.length(&list) {
                if let Ok(Some((Value::Object(ObjType::Map), m))) = doc.get(&list, i) {
                    if map_has_conflict(doc, &m, false) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// A conflict on a root register such as `status`.
pub fn root_conflict(doc: &Automerge, key: &str) -> Option<Conflict> {
    let all = doc.get_all(ROOT, key).ok()?;
    if all.len() < 2 {
        return None;
    }
    let values: Vec<ConflictValue> = all
        .iter()
        .map(|(v, id)| author_of(doc, cell_str(v), id))
        .collect();
    if values.iter().all(|v| v.value == values[0].value) {
        return None;
    }
    Some(Conflict {
        field: key.to_string(),
        values,
        effective: None,
    })
}

fn cell_str(v: &Value<'_>) -> J {
    match v {
        Value::Scalar(s) => s.as_str().map(|s| J::String(s.into())).unwrap_or(J::Null),
        Value::Object(_) => J::Null,
    }
}

/// The values of `slot` under `top` as of `heads`, each with the id of the op that
/// wrote it.
fn cell_at(doc: &Automerge, top: &str, slot: &Slot, heads: &[ChangeHash]) -> Vec<(J, ExId)> {
    let Ok(Some((Value::Object(ObjType::Map), answers))) = doc.get_at(ROOT, top, heads) else {
        return Vec::new();
    };
    let obj = match slot {
        Slot::Top(_) => answers,
        Slot::Repeat { group, index, .. } => {
            let Ok(Some((Value::Object(ObjType::List), list))) =
                doc.get_at(&answers, group.as_str(), heads)
            else {
                return Vec::new();
            };
            match doc.get_at(&list, *index, heads) {
                Ok(Some((Value::Object(ObjType::Map), m))) => m,
                _ => return Vec::new(),
            }
        }
    };
    doc.get_all_at(&obj, slot.field(), heads)
        .unwrap_or_default()
        .iter()
        .map(|(v, id)| (cell_json(doc, v, id, Some(heads)), id.clone()))
        .collect()
}

/// Every value a field has had: one entry per change that wrote a field (optionally
/// only `only`), with the value that change wrote, its author and time.
pub fn history(doc: &Automerge, top: &str, only: Option<&str>) -> Vec<HistoryEntry> {
    let mut out = Vec::new();
    let top_map = map_at(doc, &ROOT, top);
    for change in doc.get_changes(&[]) {
        let message = change.message().unwrap_or_default().to_string();
        let Some(written) = written_field(&message) else {
            if only.is_none() || only == Some("status") {
                if let Some(status) = message.strip_prefix("status ") {
                    out.push(entry(&change, "status", J::String(status.into()), &message));
                }
            }
            // A move to a newer form version (`moved from pda 1.0.0 to 1.1.0`).
            if only.is_none() || only == Some("form_version") {
                if let Some(to) = message
                    .strip_prefix("moved from ")
                    .and_then(|m| m.rsplit_once(" to "))
                {
                    out.push(entry(
                        &change,
                        "form_version",
                        J::String(to.1.into()),
                        &message,
                    ));
                }
            }
            continue;
        };
        let path = match written.path {
            Some(p) => p.to_string(),
            None => match top_map.as_ref().and_then(|m| key_written_in(&change, m)) {
                Some(key) => key,
                None => continue,
            },
        };
        if only.is_some_and(|f| f != path) {
            continue;
        }
        let Ok(slot) = Slot::parse(&path) else {
            continue;
        };
        let hash = change.hash();
        let values = cell_at(doc, top, &slot, &[hash]);
        let value = values
            .iter()
            .find(|(_, id)| doc.hash_for_opid(id) == Some(hash))
            .or(values.last())
            .map(|(v, _)| v.clone())
            .unwrap_or(J::Null);
        // The message as shown names the field, whether or not the change spelled it.
        let shown = match written.path {
            Some(_) => message.clone(),
            None => format!("{} {path}{}", written.verb, &message[written.verb.len()..]),
        };
        let mut e = entry(&change, &path, value, &shown);
        e.reason = written.reason.map(str::to_string);
        out.push(e);
    }
    out
}

fn entry(change: &Change, field: &str, value: J, message: &str) -> HistoryEntry {
    let author = Author::from_actor(change.actor_id());
    HistoryEntry {
        field: field.to_string(),
        value,
        user: author.user,
        device: author.device,
        time: ms_to_rfc3339(change.timestamp()),
        message: message.to_string(),
        reason: None,
    }
}

/// What a field-writing change's message says: `set X`, `resolve X`, `amend X: why`,
/// `merge X: from Y`, or the same without the path (`set`, `amend: why`).
struct WrittenField<'a> {
    verb: &'static str,
    path: Option<&'a str>,
    /// An amendment's reason.
    reason: Option<&'a str>,
}

fn written_field(message: &str) -> Option<WrittenField<'_>> {
    let (verb, rest) = ["set", "resolve", "amend", "merge"]
        .iter()
        .find_map(|v| message.strip_prefix(v).map(|rest| (*v, rest)))?;
    let (path, tail) = match rest.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (rest, None),
    };
    // `settle` is not `set`: the verb is followed by a space, a colon or nothing.
    if !(path.is_empty() || path.starts_with(' ')) {
        return None;
    }
    let path = path.trim();
    Some(WrittenField {
        verb,
        path: (!path.is_empty()).then_some(path),
        reason: tail
            .filter(|_| verb == "amend")
            .map(str::trim)
            .filter(|why| !why.is_empty()),
    })
}

/// The key a change put into the map `map` (a top-level answer written without its
/// path in the message).
fn key_written_in(change: &Change, map: &ExId) -> Option<String> {
    let ExId::Id(counter, actor, _) = map else {
        return None;
    };
    change.decode().operations.into_iter().find_map(|op| {
        let on_map = matches!(&op.obj, automerge::legacy::ObjectId::Id(id)
            if id.counter() == *counter && id.actor() == actor);
        match (on_map, op.key) {
            (true, automerge::legacy::Key::Map(k)) => Some(k.to_string()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(d: &str, u: &str) -> Author {
        Author {
            device: d.into(),
            user: u.into(),
        }
    }

    fn meta() -> RecordMeta {
        RecordMeta {
            form_id: "pda".into(),
            form_version: "1.0.0".into(),
            subject_id: "S".into(),
            site: "site".into(),
            created: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn set(doc: &mut Automerge, a: &Author, path: &str, v: Write, t: i64) {
        write_answer(
            doc,
            a,
            "answers",
            &Slot::parse(path).expect("path"),
            &v,
            &[],
            format!("set {path}"),
            t,
        )
        .expect("write");
    }

    #[test]
    fn concurrent_values_are_kept_with_authors_and_consent_takes_the_strictest() {
        let shape = Shape {
            lists: vec!["vacc".into()],
            texts: vec!["notes".into()],
        };
        let a = author("dev1", "amina");
        let b = author("dev2", "bilal");
        let (mut da, _) = new_record(&a, &meta(), &shape, 1000).expect("new");
        let mut db = da.fork().with_actor(b.actor());
        set(&mut da, &a, "temp_c", Write::Register(J::from(37.5)), 2000);
        set(&mut db, &b, "temp_c", Write::Register(J::from(38.1)), 3000);
        set(
            &mut da,
            &a,
            "consent_research",
            Write::Register(J::from("granted")),
            2000,
        );
        set(
            &mut db,
            &b,
            "consent_research",
            Write::Register(J::from("withdrawn")),
            3000,
        );
        set(&mut da, &a, "notes", Write::Text("cough".into()), 2000);
        set(&mut db, &b, "notes", Write::Text("dry cough".into()), 3000);
        set(
            &mut da,
            &a,
            "vacc[0].dose",
            Write::Register(J::from("1")),
            2000,
        );
        set(
            &mut db,
            &b,
            "vacc[0].dose",
            Write::Register(J::from("2")),
            3000,
        );
        da.merge(&mut db).expect("merge");
        assert!(has_conflict(&da, "answers"));
        let read = read_answers(&da, "answers");
        let fields: Vec<&str> = read.conflicts.iter().map(|c| c.field.as_str()).collect();
        assert!(fields.contains(&"temp_c"));
        assert!(fields.contains(&"consent_research"));
        assert!(
            !fields.iter().any(|f| f.starts_with("notes")),
            "text merges"
        );
        // Two devices each added an instance: both are kept, no conflict.
        assert_eq!(read.answers["vacc"].as_array().map(Vec::len), Some(2));
        assert_eq!(read.answers["consent_research"], J::from("withdrawn"));
        let temp = read
            .conflicts
            .iter()
            .find(|c| c.field == "temp_c")
            .expect("conflict");
        let users: Vec<&str> = temp.values.iter().map(|v| v.user.as_str()).collect();
        assert!(users.contains(&"amina") && users.contains(&"bilal"));
        assert!(temp
            .values
            .iter()
            .all(|v| v.time.starts_with("1970-01-01T00:00:0")));
        // Resolving is a plain write that supersedes both.
        set(&mut da, &a, "temp_c", Write::Register(J::from(38.0)), 4000);
        let read = read_answers(&da, "answers");
        assert!(!read.conflicts.iter().any(|c| c.field == "temp_c"));
        let hist = history(&da, "answers", Some("temp_c"));
        assert_eq!(hist.len(), 3);
        assert_eq!(hist.last().map(|h| h.value.clone()), Some(J::from(38.0)));
    }

    #[test]
    fn top_level_answers_leave_the_path_out_of_the_message_and_history_still_names_it() {
        let shape = Shape {
            lists: vec!["vacc".into()],
            texts: vec!["notes".into()],
        };
        let a = author("dev1", "amina");
        let (mut d, _) = new_record(&a, &meta(), &shape, 1000).expect("new");
        set(&mut d, &a, "temp_c", Write::Register(J::from(37.2)), 2000);
        set(
            &mut d,
            &a,
            "vacc[0].dose_no",
            Write::Register(J::from(2)),
            3000,
        );
        set(&mut d, &a, "notes", Write::Text("cough".into()), 4000);
        let amend = format!("amend temp_c: {}", "thermometer was wrong");
        let slot = Slot::parse("temp_c").expect("slot");
        let w = Write::Register(J::from(37.9));
        write_answer(&mut d, &a, "answers", &slot, &w, &[], amend, 5000).expect("amend");
        // A document written before messages were shortened still reads the same.
        let legacy = "set weight_kg".to_string();
        d.set_actor(a.actor());
        let mut tx = d.transaction();
        let answers = match tx.get(ROOT, "answers") {
            Ok(Some((_, id))) => id,
            other => panic!("answers map: {other:?}"),
        };
        tx.put(&answers, "weight_kg", "61").expect("put");
        commit(tx, legacy, 6000);

        let stored: Vec<String> = d
            .get_changes(&[])
            .iter()
            .map(|c| c.message().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            stored[1..],
            [
                "set",
                "set vacc[0].dose_no",
                "set notes",
                "amend: thermometer was wrong",
                "set weight_kg"
            ]
        );

        let hist = history(&d, "answers", None);
        let shown: Vec<(&str, &str)> = hist
            .iter()
            .map(|h| (h.field.as_str(), h.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("temp_c", "set temp_c"),
                ("vacc[0].dose_no", "set vacc[0].dose_no"),
                ("notes", "set notes"),
                ("temp_c", "amend temp_c: thermometer was wrong"),
                ("weight_kg", "set weight_kg"),
            ]
        );
        assert_eq!(hist[3].reason.as_deref(), Some("thermometer was wrong"));
        assert_eq!(hist[3].value, J::from(37.9));
        assert_eq!(history(&d, "answers", Some("temp_c")).len(), 2);
        assert!(written_field("settle x").is_none());
    }

    #[test]
    fn slots_parse() {
        assert_eq!(Slot::parse("a").expect("a"), Slot::Top("a".into()));
        assert_eq!(
            Slot::parse("g[2].f").expect("g"),
            Slot::Repeat {
                group: "g".into(),
                index: 2,
                field: "f".into()
            }
        );
        assert!(Slot::parse("g[x].f").is_err());
        assert!(Slot::parse("g[1]").is_err());
        assert!(Slot::parse("").is_err());
    }
}
