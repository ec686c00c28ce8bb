//! Which answer fields a record's changes write, and who wrote them, read from the
//! operations themselves: never from change messages, which an author words as they
//! like. The server checks every pushed record (and restricted twin) with it: each
//! author must be allowed to write each field they wrote by
//! [`crate::Role::may_write_field`], the rule the store applies to its own user on
//! every write. Pure: no SQLite, no form, no roles.

use crate::doc::Author;
use automerge::legacy::{Key, OpType};
use automerge::{Automerge, ChangeHash, Prop, ReadDoc};
use std::collections::BTreeSet;

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
    let mut out = BTreeSet::new();
    for change in doc.get_changes(since) {
        let creation = change.deps().is_empty() && change.seq() == 1;
        let author = Author::from_actor(change.actor_id());
        for op in change.decode().operations {
            if creation && matches!(op.action, OpType::Make(_)) && !op.insert {
                continue;
            }
            let mut props: Vec<Prop> = match op.obj.to_string().as_str() {
                "_root" => Vec::new(),
                obj => match doc.import_obj(obj).and_then(|id| doc.parents(&id)) {
                    Ok(parents) => parents.path().into_iter().map(|(_, p)| p).collect(),
                    // Every object a change of the document names is in it.
                    Err(_) => continue,
                },
            };
            props.push(match &op.key {
                Key::Map(name) => Prop::Map(name.to_string()),
                Key::Seq(_) => Prop::Seq(0),
            });
            if let Some(field) = answer_field(&props) {
                out.insert(FieldWrite {
                    user: author.user.clone(),
                    device: author.device.clone(),
                    field,
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The field a path from the root names: `answers.f...` is `f`, except
/// `answers.group[i].child...`, which is `child`.
fn answer_field(props: &[Prop]) -> Option<String> {
    match props {
        [Prop::Map(top), Prop::Map(_), Prop::Seq(_), Prop::Map(child), ..] if top == "answers" => {
            Some(child.clone())
        }
        [Prop::Map(top), Prop::Map(field), ..] if top == "answers" => Some(field.clone()),
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

    fn writes(d: &Automerge, since: &[ChangeHash]) -> Vec<(String, String)> {
        field_writes(d, since)
            .into_iter()
            .map(|w| (w.user, w.field))
            .collect()
    }

    #[test]
    fn writes_are_read_from_operations_with_their_authors() {
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
        let (mut d, _) = doc::new_record(&author("bilal"), &meta, &shape, 1).expect("record");
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
}
