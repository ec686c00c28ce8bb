//! Which answer fields a record's changes write, and who wrote them, read from the
//! operations themselves: never from change messages, which an author words as they
//! like. The server checks every pushed record (and restricted twin) with it: each
//! author must be allowed to write each field they wrote by
//! [`crate::Role::may_write_field`], the rule the store applies to its own user on
//! every write. Pure: no SQLite, no form, no roles.

use crate::doc::Author;
use automerge::legacy::{Key, OpType};
use automerge::{Automerge, ChangeHash, Prop, ReadDoc};
use std::collections::{BTreeSet, HashMap};

/// One author's write of one field (for a repeat group's child, the child's id; for
/// adding or removing an instance, the group's id). Carries no value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldWrite {
    pub user: String,
    pub device: String,
    pub field: String,
}

/// The fields written under `answers` by the changes of `doc` that are not in
/// `since` (the heads of a state already checked; empty: every change), each
/// author and field once. Creating empty containers in a document's first change
/// (the record skeleton: the `answers` map, its repeat lists and text fields) is
/// not a write: it carries no data and comes with every new record, whoever creates
/// it. Any other operation counts, values, clears, deletions and text edits alike.
pub fn field_writes(doc: &Automerge, since: &[ChangeHash]) -> Vec<FieldWrite> {
    changed_parts(doc, since).writes
}

/// What the changes of a document since `since` touched: the fields (with
/// [`field_writes`]), and whether any touched the root (status, site, ...) or
/// something below a top-level answer (a repeat group, a text field's characters). The verifier reads this once per document, for the
/// write rights and to summarise a loaded document again without re-reading every
/// answer ([`crate::summarize_since`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangedParts {
    pub writes: Vec<FieldWrite>,
    /// An operation on a root key (status, site, form, ...).
    pub root: bool,
    /// An operation below a top-level answer: inside a repeat group (whose fields are
    /// not keys of `answers`) or a text field.
    pub nested: bool,
}

/// See [`ChangedParts`].
pub fn changed_parts(doc: &Automerge, since: &[ChangeHash]) -> ChangedParts {
    let mut parts = ChangedParts::default();
    let mut out = BTreeSet::new();
    // The path of each object the operations name, found once: a whole record's
    // ~500 operations touch a handful of objects.
    let mut paths: HashMap<String, Option<Vec<Prop>>> = HashMap::new();
    for change in doc.get_changes(since) {
        let creation = change.deps().is_empty() && change.seq() == 1;
        let mut fields: BTreeSet<String> = BTreeSet::new();
        for op in change.decode().operations {
            if creation && matches!(op.action, OpType::Make(_)) && !op.insert {
                continue;
            }
            let path = paths.entry(op.obj.to_string()).or_insert_with_key(|obj| {
                if obj == "_root" {
                    return Some(Vec::new());
                }
                // Every object a change of the document names is in it.
                let parents = doc.import_obj(obj).and_then(|id| doc.parents(&id)).ok()?;
                Some(parents.path().into_iter().map(|(_, p)| p).collect())
            });
            let Some(path) = path else {
                continue;
            };
            match path.as_slice() {
                [] => parts.root = true,
                [Prop::Map(top), Prop::Map(_), ..] if top == "answers" => parts.nested = true,
                _ => {}
            }
            let key = match &op.key {
                Key::Map(name) => Prop::Map(name.to_string()),
                Key::Seq(_) => Prop::Seq(0),
            };
            if let Some(field) = answer_field(path, &key) {
                if !fields.contains(field) {
                    fields.insert(field.to_string());
                }
            }
        }
        if fields.is_empty() {
            continue;
        }
        let author = Author::from_actor(change.actor_id());
        for field in fields {
            out.insert(FieldWrite {
                user: author.user.clone(),
                device: author.device.clone(),
                field,
            });
        }
    }
    parts.writes = out.into_iter().collect();
    parts
}

/// The field that the path of an object from the root, then `key` inside it, names:
/// `answers.f...` is `f`, except `answers.group[i].child...`, which is `child`.
fn answer_field<'a>(path: &'a [Prop], key: &'a Prop) -> Option<&'a str> {
    let mut props = path.iter().chain(std::iter::once(key));
    match (props.next(), props.next(), props.next(), props.next()) {
        (Some(Prop::Map(top)), Some(Prop::Map(_)), Some(Prop::Seq(_)), Some(Prop::Map(child)))
            if top == "answers" =>
        {
            Some(child)
        }
        (Some(Prop::Map(top)), Some(Prop::Map(field)), _, _) if top == "answers" => Some(field),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{self, RecordMeta, Shape, Slot, Write};

    fn author(u: &str) -> Author {
        Author {
            device: "dev1".into(),
            user: u.into(),
        }
    }

    fn set(d: &mut Automerge, a: &Author, path: &str, v: Write) -> ChangeHash {
        let slot = Slot::parse(path).expect("path");
        let texts = if path.starts_with("notes[") {
            vec!["remark".to_string()]
        } else {
            Vec::new()
        };
        doc::write_answer(d, a, "answers", &slot, &v, &texts, format!("set {path}"), 1)
            .expect("write")
            .expect("a change")
    }

    /// bilal's new record with a repeat group `notes` (text `remark` inside) and a
    /// text field `summary`.
    fn skeleton() -> Automerge {
        let meta = RecordMeta {
            form_id: "pda".into(),
            form_version: "1.0.0".into(),
            subject_id: "S".into(),
            site: "site-a".into(),
            created: "2026-01-01T00:00:00Z".into(),
        };
        let shape = Shape {
            lists: vec!["notes".into()],
            texts: vec!["summary".into()],
        };
        doc::new_record(&author("bilal"), &meta, &shape, 1)
            .expect("record")
            .0
    }

    fn writes(d: &Automerge, since: &[ChangeHash]) -> Vec<(String, String)> {
        field_writes(d, since)
            .into_iter()
            .map(|w| (w.user, w.field))
            .collect()
    }

    #[test]
    fn writes_are_read_from_operations_with_their_authors() {
        let mut d = skeleton();
        assert!(
            writes(&d, &[]).is_empty(),
            "the skeleton is no write: {:?}",
            writes(&d, &[])
        );
        let bilal = author("bilal");
        let amina = author("amina");
        set(
            &mut d,
            &bilal,
            "temp_c",
            Write::Register(serde_json::json!(37.2)),
        );
        let checked = d.get_heads();
        set(
            &mut d,
            &amina,
            "outcome",
            Write::Register(serde_json::json!("deferred")),
        );
        set(&mut d, &bilal, "summary", Write::Text("seen".into()));
        set(&mut d, &bilal, "notes[0].remark", Write::Text("x".into()));
        set(
            &mut d,
            &bilal,
            "outcome",
            Write::Register(serde_json::Value::Null),
        );
        let all = writes(&d, &[]);
        assert_eq!(
            all,
            vec![
                ("amina".to_string(), "outcome".to_string()),
                ("bilal".into(), "notes".into()),
                ("bilal".into(), "outcome".into()),
                ("bilal".into(), "remark".into()),
                ("bilal".into(), "summary".into()),
                ("bilal".into(), "temp_c".into()),
            ]
        );
        let new = writes(&d, &checked);
        assert!(!new.contains(&("bilal".into(), "temp_c".into())), "{new:?}");
        assert!(new.contains(&("bilal".into(), "outcome".into())), "{new:?}");
        // Loaded from a whole document, the same answer.
        let loaded = Automerge::load(&d.save()).expect("load");
        assert_eq!(writes(&loaded, &[]), all);
    }

    /// The verifier's shortcut gives the same summary as reading the whole record,
    /// whatever the new changes did: a plain answer, a conflicting answer merged from
    /// another device, a status change, a repeat group, a text field.
    #[test]
    fn a_summary_since_some_changes_equals_the_whole_summary() {
        use crate::summary::{summarize, summarize_since};
        use crate::sync_state::DocKind;
        let base = skeleton();
        let amina = Author {
            device: "dev2".into(),
            user: "amina".into(),
        };
        type Step = Box<dyn Fn(&mut Automerge)>;
        let steps: Vec<(&str, Step)> = vec![
            (
                "a plain answer",
                Box::new(move |d| {
                    set(
                        d,
                        &author("bilal"),
                        "temp_c",
                        Write::Register(serde_json::json!(37.2)),
                    );
                }),
            ),
            (
                "a conflict from another device",
                Box::new(move |d| {
                    let mut other = d.fork();
                    set(
                        &mut other,
                        &amina,
                        "weight_kg",
                        Write::Register(serde_json::json!(60)),
                    );
                    set(
                        d,
                        &author("bilal"),
                        "weight_kg",
                        Write::Register(serde_json::json!(61)),
                    );
                    d.merge(&mut other).expect("merge");
                }),
            ),
            (
                "a status change",
                Box::new(|d| {
                    doc::write_root(
                        d,
                        &author("bilal"),
                        &[("status", "submitted")],
                        "status submitted".into(),
                        2,
                    )
                    .expect("status");
                }),
            ),
            (
                "a repeat group",
                Box::new(|d| {
                    set(
                        d,
                        &author("bilal"),
                        "notes[0].remark",
                        Write::Text("x".into()),
                    );
                }),
            ),
            (
                "a text field",
                Box::new(|d| {
                    set(d, &author("bilal"), "summary", Write::Text("seen".into()));
                }),
            ),
            (
                "the conflict resolved",
                Box::new(|d| {
                    set(
                        d,
                        &author("bilal"),
                        "weight_kg",
                        Write::Register(serde_json::json!(61)),
                    );
                }),
            ),
        ];
        let mut d = base;
        for (what, step) in steps {
            for kind in [DocKind::Record, DocKind::Restricted] {
                let before = summarize(kind, &d).expect("summary before");
                let heads = d.get_heads();
                let mut after = d.fork();
                step(&mut after);
                let changed = changed_parts(&after, &heads);
                assert_eq!(
                    summarize_since(kind, &after, &before, &changed),
                    summarize(kind, &after),
                    "{what} ({kind:?})"
                );
            }
            step(&mut d);
        }
        let conflicted = summarize(DocKind::Record, &d);
        assert!(
            matches!(conflicted, Some(crate::DocSummary::Record { .. })),
            "a record summary"
        );
    }
}
