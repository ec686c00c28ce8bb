//! Which answer fields a record's changes write, and who wrote them, read from the
//! operations themselves: never from change messages, which an author words as they
//! like. The server checks every pushed record (and restricted twin) with it: each
//! author must be allowed to write each field they wrote by
//! [`crate::Role::may_write_field`], the rule the store applies to its own user on
//! every write. Pure: no SQLite, no form, no roles.

use crate::doc::Author;
use automerge::legacy::{Key, OpType};
use automerge::{Automerge, ChangeHash, ObjId as ExId, Prop, ReadDoc, ScalarValue, Value, ROOT};
use std::collections::{BTreeSet, HashMap};

/// One author's write of one field (for a repeat group's child, the child's id; for
/// adding or removing an instance, the group's id). Carries no value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldWrite {
    pub user: String,
    pub device: String,
    pub field: String,
}

/// One author's setting of a record's status, read from the operation. A status is
/// a workflow word (`reviewed`, `locked`, ...), never health data. The server checks
/// each against [`crate::may_set_status`], as the store does for its own user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusWrite {
    pub user: String,
    pub device: String,
    pub to: String,
}

/// Who set the record's status as it stands (several under a conflict): cheap, for
/// documents whose changes are not read one by one. A new record's `draft`, set by
/// its creation, is left out as in [`changed_parts`].
pub fn current_status_writes(doc: &Automerge) -> Vec<StatusWrite> {
    let Ok(all) = doc.get_all(ROOT, "status") else {
        return Vec::new();
    };
    all.into_iter()
        .filter_map(|(value, id)| {
            let to = match value {
                Value::Scalar(s) => s.as_str()?.to_string(),
                Value::Object(_) => return None,
            };
            let creation = doc
                .hash_for_opid(&id)
                .and_then(|h| doc.get_change_by_hash(&h))
                .is_some_and(|c| c.deps().is_empty() && c.seq() == 1);
            if creation && to == "draft" {
                return None;
            }
            let ExId::Id(_, actor, _) = id else {
                return None;
            };
            let author = Author::from_actor(&actor);
            Some(StatusWrite {
                user: author.user,
                device: author.device,
                to,
            })
        })
        .collect()
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
    /// Every status the changes set, with its author, in change order.
    pub statuses: Vec<StatusWrite>,
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
        let author = Author::from_actor(change.actor_id());
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
                [] => {
                    parts.root = true;
                    if let (Key::Map(name), OpType::Put(ScalarValue::Str(to))) =
                        (&op.key, &op.action)
                    {
                        // A new record's `draft` is part of its skeleton.
                        if name.as_str() == "status" && !(creation && to.as_str() == "draft") {
                            parts.statuses.push(StatusWrite {
                                user: author.user.clone(),
                                device: author.device.clone(),
                                to: to.to_string(),
                            });
                        }
                    }
                }
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
        use crate::doc::DocKind;
        use crate::summary::{summarize, summarize_since};
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

    #[test]
    fn status_writes_are_read_with_their_authors_but_not_a_new_records_draft() {
        let mut d = skeleton();
        assert!(changed_parts(&d, &[]).statuses.is_empty());
        assert!(current_status_writes(&d).is_empty());
        let status = |d: &mut Automerge, who: &str, to: &str, t: i64| {
            doc::write_root(
                d,
                &author(who),
                &[("status", to)],
                format!("status {to}"),
                t,
            )
            .expect("status");
        };
        status(&mut d, "amina", "submitted", 2);
        let checked = d.get_heads();
        status(&mut d, "sam", "locked", 3);
        let seen = |w: Vec<StatusWrite>| -> Vec<(String, String)> {
            w.into_iter().map(|w| (w.user, w.to)).collect()
        };
        let amina = ("amina".to_string(), "submitted".to_string());
        let sam = ("sam".to_string(), "locked".to_string());
        assert_eq!(seen(changed_parts(&d, &[]).statuses), [amina, sam.clone()]);
        assert_eq!(
            seen(changed_parts(&d, &checked).statuses),
            vec![sam.clone()]
        );
        assert_eq!(seen(current_status_writes(&d)), [sam]);
        // A later return to draft is a write like any other.
        status(&mut d, "amina", "draft", 4);
        let draft = ("amina".to_string(), "draft".to_string());
        assert_eq!(seen(current_status_writes(&d)), vec![draft.clone()]);
        assert_eq!(
            seen(changed_parts(&d, &checked).statuses).last(),
            Some(&draft)
        );
    }
}
