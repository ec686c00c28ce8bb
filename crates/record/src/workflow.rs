//! The record workflow of FORMS.md 2: `draft` → `submitted` (screener done) →
//! `reviewed` (clinician signed) → `locked` (supervisor), and back to `returned`
//! (with a comment) for correction. One table decides both what
//! [`Store::set_status`](crate::Store::set_status) accepts and which moves the app
//! offers a user, so the buttons never offer what the store would refuse.

use crate::doc::{self, Author};
use crate::error::{RecordError, Result};
use crate::roles::Role;
use automerge::{Automerge, ReadDoc};
use serde::Serialize;

/// Every status a record can have.
pub const STATUSES: &[&str] = &["draft", "submitted", "reviewed", "locked", "returned"];

/// A move the user may make now, as the app offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusMove {
    /// The status the record goes to.
    pub to: &'static str,
    /// The move needs a comment (returning tells the screener what to correct).
    pub needs_comment: bool,
}

/// One step of the workflow and who may take it.
struct Step {
    from: &'static [&'static str],
    to: &'static str,
    by: fn(Role) -> bool,
}

fn clinician(role: Role) -> bool {
    role == Role::Clinician
}

fn supervisor(role: Role) -> bool {
    role == Role::Supervisor
}

const STEPS: &[Step] = &[
    Step {
        from: &["draft", "returned"],
        to: "submitted",
        by: Role::may_capture,
    },
    Step {
        from: &["submitted"],
        to: "reviewed",
        by: clinician,
    },
    Step {
        from: &["reviewed"],
        to: "locked",
        by: supervisor,
    },
    Step {
        from: &["submitted", "reviewed"],
        to: "returned",
        by: supervisor,
    },
];

/// Whether `from` → `to` is a step of the workflow at all, and if so whether `role`
/// may take it. `None`: no such step for anyone.
pub fn may_move(role: Role, from: &str, to: &str) -> Option<bool> {
    STEPS
        .iter()
        .find(|s| s.to == to && s.from.contains(&from))
        .map(|s| (s.by)(role))
}

/// Whether `role` may set a record's status to `to` at all, whatever it was before:
/// the server's check of pushed changes, which sees each status a change sets but
/// not always the one it replaced. A supervisor resolves a status conflict by
/// picking one of its values, so may set any status but `draft`, which only a
/// record's creation sets.
pub fn may_set_status(role: Role, to: &str) -> bool {
    if role == Role::Supervisor && to != "draft" && STATUSES.contains(&to) {
        return true;
    }
    STEPS.iter().any(|s| s.to == to && (s.by)(role))
}

/// Whether `to` is a move only a device makes: submitting needs the form evaluated
/// over answers the device holds.
fn device_only(to: &str) -> bool {
    to == "submitted"
}

/// The moves `role` may make away from the devices (the dashboard, through
/// [`status_change`]): [`status_moves`] but submitting.
pub fn remote_status_moves(role: Role, from: &str) -> Vec<StatusMove> {
    status_moves(role, from)
        .into_iter()
        .filter(|m| !device_only(m.to))
        .collect()
}

/// The moves `role` may make on a record in status `from`, in workflow order.
pub fn status_moves(role: Role, from: &str) -> Vec<StatusMove> {
    STEPS
        .iter()
        .filter(|s| s.from.contains(&from) && (s.by)(role))
        .map(|s| StatusMove {
            to: s.to,
            needs_comment: s.to == "returned",
        })
        .collect()
}

/// A move made away from the devices (the supervisor dashboard, on the server): the
/// change that moves the record `doc` to `to`, by `user` on `device`, when `role`
/// may make that move from the status the record stands at. Submitting stays on the
/// devices, where the form is evaluated; a return needs a comment. The change is
/// applied to `doc` and returned as the bytes to store.
pub fn status_change(
    doc: &mut Automerge,
    role: Role,
    device: &str,
    user: &str,
    to: &str,
    comment: Option<&str>,
    time_ms: i64,
) -> Result<Vec<u8>> {
    if !STATUSES.contains(&to) {
        return Err(RecordError::UnknownStatus(to.chars().take(20).collect()));
    }
    let from = doc::root_str(doc, "status").unwrap_or_else(|| "draft".into());
    if device_only(to) {
        return Err(RecordError::SubmitOnDevice);
    }
    let allowed = may_move(role, &from, to).ok_or_else(|| RecordError::BadTransition {
        from: from.clone(),
        to: to.into(),
    })?;
    role.require(allowed, &format!("move a record from {from} to {to}"))?;
    let comment = comment.map(str::trim).unwrap_or_default();
    if to == "returned" && comment.is_empty() {
        return Err(RecordError::CommentRequired);
    }
    let author = Author {
        device: device.into(),
        user: user.into(),
    };
    let hash = doc::write_root(
        doc,
        &author,
        &[("status", to), ("status_comment", comment)],
        format!("status {to}"),
        time_ms,
    )?
    .ok_or_else(|| RecordError::AlreadyInStatus(to.to_string()))?;
    doc.get_change_by_hash(&hash)
        .map(|c| c.raw_bytes().to_vec())
        .ok_or_else(|| {
            RecordError::BadDocument("the record".into(), "its new change is missing".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(role: Role, from: &str) -> Vec<&'static str> {
        status_moves(role, from).iter().map(|m| m.to).collect()
    }

    #[test]
    fn each_role_gets_its_part_of_the_workflow() {
        assert_eq!(targets(Role::Screener, "draft"), ["submitted"]);
        assert_eq!(targets(Role::Screener, "returned"), ["submitted"]);
        assert!(targets(Role::Screener, "submitted").is_empty());
        assert!(targets(Role::Screener, "locked").is_empty());
        assert_eq!(targets(Role::Clinician, "draft"), ["submitted"]);
        assert_eq!(targets(Role::Clinician, "submitted"), ["reviewed"]);
        assert!(targets(Role::Clinician, "reviewed").is_empty());
        assert_eq!(targets(Role::Supervisor, "submitted"), ["returned"]);
        assert_eq!(
            targets(Role::Supervisor, "reviewed"),
            ["locked", "returned"]
        );
        assert!(targets(Role::Supervisor, "locked").is_empty());
        assert!(targets(Role::Supervisor, "draft").is_empty());
        for role in [Role::DataManager, Role::Admin] {
            for from in STATUSES {
                assert!(targets(role, from).is_empty(), "{role:?} from {from}");
            }
        }
    }

    #[test]
    fn only_a_return_needs_a_comment() {
        let moves = status_moves(Role::Supervisor, "reviewed");
        assert!(moves
            .iter()
            .all(|m| m.needs_comment == (m.to == "returned")));
    }

    #[test]
    fn the_offered_moves_are_exactly_the_accepted_ones() {
        let roles = [
            Role::Screener,
            Role::Clinician,
            Role::Supervisor,
            Role::DataManager,
            Role::Admin,
        ];
        for role in roles {
            for from in STATUSES {
                for to in STATUSES {
                    let offered = targets(role, from).contains(to);
                    assert_eq!(
                        may_move(role, from, to) == Some(true),
                        offered,
                        "{role:?} {from} -> {to}"
                    );
                }
            }
        }
        assert_eq!(may_move(Role::Supervisor, "locked", "draft"), None);
        // What the server allows whatever the status before: every move the table
        // gives a role, a supervisor's conflict resolution, never a return to draft.
        for role in roles {
            for from in STATUSES {
                for to in targets(role, from) {
                    assert!(may_set_status(role, to), "{role:?} -> {to}");
                }
            }
            assert!(!may_set_status(role, "draft"), "{role:?}");
            assert!(!may_set_status(role, "approved"), "{role:?}");
        }
        assert!(!may_set_status(Role::Screener, "locked"));
        assert!(!may_set_status(Role::Screener, "reviewed"));
        assert!(!may_set_status(Role::Clinician, "locked"));
        assert!(may_set_status(Role::Supervisor, "reviewed"));
        assert_eq!(may_move(Role::Screener, "reviewed", "locked"), Some(false));
    }

    #[test]
    fn a_move_made_on_the_server_is_a_change_by_its_author() {
        let meta = doc::RecordMeta {
            form_id: "pda".into(),
            form_version: "1.0.0".into(),
            subject_id: "S".into(),
            site: "site-a".into(),
            created: "2026-01-01T00:00:00Z".into(),
        };
        let creator = Author {
            device: "dev1".into(),
            user: "amina".into(),
        };
        let mut d = doc::new_record(&creator, &meta, &doc::Shape::default(), 1)
            .expect("record")
            .0;
        // From draft nothing but a submit, which stays on the devices.
        assert!(matches!(
            status_change(&mut d, Role::Supervisor, "web", "sam", "locked", None, 2),
            Err(RecordError::BadTransition { .. })
        ));
        assert!(matches!(
            status_change(&mut d, Role::Clinician, "web", "kim", "submitted", None, 2),
            Err(RecordError::SubmitOnDevice)
        ));
        doc::write_root(&mut d, &creator, &[("status", "submitted")], "s".into(), 2)
            .expect("submit");
        assert!(matches!(
            status_change(&mut d, Role::Screener, "web", "bob", "reviewed", None, 3),
            Err(RecordError::Forbidden { .. })
        ));
        assert!(matches!(
            status_change(
                &mut d,
                Role::Supervisor,
                "web",
                "sam",
                "returned",
                Some(" "),
                3
            ),
            Err(RecordError::CommentRequired)
        ));
        let bytes = status_change(&mut d, Role::Clinician, "web", "kim", "reviewed", None, 3)
            .expect("sign-off");
        let change = automerge::Change::from_bytes(bytes).expect("a change");
        assert_eq!(change.actor_id().to_bytes(), b"tern:web:kim");
        assert_eq!(doc::root_str(&d, "status").as_deref(), Some("reviewed"));
        assert_eq!(
            remote_status_moves(Role::Supervisor, "reviewed")
                .iter()
                .map(|m| m.to)
                .collect::<Vec<_>>(),
            ["locked", "returned"]
        );
        assert!(
            remote_status_moves(Role::Clinician, "draft").is_empty(),
            "no submit"
        );
        status_change(&mut d, Role::Supervisor, "web", "sam", "locked", None, 4).expect("lock");
        assert_eq!(doc::root_str(&d, "status").as_deref(), Some("locked"));
    }
}
