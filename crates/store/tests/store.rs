//! Integration tests of tern-store, in one binary for fast links.

mod answers;
mod common;
mod crash;
mod merge_props;

use answers::{arr_t1_record, complete_arr_t1};
use common::*;
use serde_json::json;
use tern_store::{Role, Store, StoreError, SubjectQuery};

#[test]
fn wrong_password_and_password_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "amina", Role::Screener);
    s.change_password("new-password").expect("change");
    drop(s);
    assert!(matches!(
        Store::open(&db, None, PASSWORD),
        Err(StoreError::WrongPassword(_))
    ));
    Store::open(&db, None, "new-password").expect("open with the new password");
}

#[test]
fn several_users_each_with_their_own_password() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "amina", Role::Screener);
    s.add_user("bilal", Role::Supervisor, "bilal-pass")
        .expect("add");
    assert!(matches!(
        s.add_user("bilal", Role::Supervisor, "x-pass"),
        Err(StoreError::UserExists(_))
    ));
    drop(s);
    assert!(matches!(
        Store::open(&db, None, PASSWORD),
        Err(StoreError::WhichUser(_))
    ));
    let b = Store::open(&db, Some("bilal"), "bilal-pass").expect("bilal");
    assert_eq!(b.role(), Role::Supervisor);
    assert!(matches!(
        Store::open(&db, Some("bilal"), PASSWORD),
        Err(StoreError::WrongPassword(_))
    ));
}

#[test]
fn database_is_unreadable_without_the_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "amina", Role::Screener);
    subject(&mut s);
    drop(s);
    let bytes = std::fs::read(&db).expect("read");
    assert!(!bytes.starts_with(b"SQLite format 3"));
    let needle = b"Haddad";
    assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    // Plain SQLite (no key) cannot read it.
    let conn = rusqlite::Connection::open(&db).expect("open");
    assert!(conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
    // Nor can a wrong raw key.
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "00".repeat(32)))
        .expect("key");
    assert!(conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
}

#[test]
fn answers_are_typed_and_land_in_the_right_document() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, _) = init(dir.path(), "amina", Role::Clinician);
    let subj = subject(&mut s);
    let r = s.new_record("pda", &subj).expect("record");
    s.set_answer(&r, "temp_c", "37,5", None)
        .expect("decimal with comma");
    s.set_answer(&r, "heart_rate", "٨٠", None)
        .expect("Arabic digits");
    assert!(s.set_answer(&r, "heart_rate", "fast", None).is_err());
    s.set_answer(&r, "current_meds[0].med_name", "metformin", None)
        .expect("repeat");
    s.set_answer(&r, "current_meds[1].med_name", "insulin", None)
        .expect("repeat 2");
    assert!(s
        .set_answer(&r, "current_meds[5].med_name", "x", None)
        .is_err());
    s.set_answer(&r, "hiv_offered", "true", None)
        .expect("restricted");
    s.set_answer(&r, "exam_general_findings", "well", None)
        .expect("text");
    s.set_answer(&r, "family_name", "Haddad-Omar", None)
        .expect("identity via pda");
    assert!(
        s.set_answer(&r, "age_years", "3", None).is_err(),
        "calculated"
    );
    let v = s.show(&r).expect("show");
    assert_eq!(v.answers["temp_c"], json!(37.5));
    assert_eq!(v.answers["heart_rate"], json!(80));
    assert_eq!(v.answers["current_meds"][1]["med_name"], json!("insulin"));
    assert_eq!(v.answers["hiv_offered"], json!(true));
    assert_eq!(v.answers["exam_general_findings"], json!("well"));
    // Identity lives in the subject, never in the record document.
    assert!(!v.answers.contains_key("family_name"));
    assert_eq!(v.subject["family_name"], json!("Haddad-Omar"));
    let hist = s.history(&r, Some("temp_c")).expect("history");
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].user, "amina");
}

#[test]
fn screeners_never_see_restricted_sections() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "clin", Role::Clinician);
    s.add_user("scr", Role::Screener, "scr-pass").expect("add");
    let subj = subject(&mut s);
    let r = s.new_record("pda", &subj).expect("record");
    s.set_answer(&r, "hiv_offered", "true", None)
        .expect("restricted");
    drop(s);
    let mut scr = Store::open(&db, Some("scr"), "scr-pass").expect("open");
    assert!(matches!(
        scr.set_answer(&r, "hiv_offered", "false", None),
        Err(StoreError::Forbidden { .. })
    ));
    let v = scr.show(&r).expect("show");
    assert!(!v.answers.contains_key("hiv_offered"));
    assert!(scr
        .history(&r, None)
        .expect("h")
        .iter()
        .all(|h| !h.field.starts_with("hiv")));
}

/// The workflow moves the store offers the unlocked user on a record.
fn moves(s: &mut Store, r: &str) -> Vec<&'static str> {
    let info = s.record_info(r).expect("info");
    info.status_moves.iter().map(|m| m.to).collect()
}

#[test]
fn workflow_with_returns_and_amendments() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "clin", Role::Clinician);
    s.add_user("sup", Role::Supervisor, "sup-pass")
        .expect("add");
    let r = arr_t1_record(&mut s);
    assert!(matches!(
        s.set_status(&r, "submitted", None),
        Err(StoreError::Incomplete { .. })
    ));
    assert!(matches!(
        s.set_status(&r, "locked", None),
        Err(StoreError::BadTransition { .. })
    ));
    complete_arr_t1(&mut s, &r);
    assert!(s.show(&r).expect("show").complete);
    // A warning blocks completion until confirmed with a reason. (A 42 °C check is
    // referred on, so it cannot close with "no further check": r42.)
    s.set_answer(&r, "t1_temp_c", "42", None).expect("temp");
    s.set_answer(&r, "t1_no_further_check", "false", None)
        .expect("referred on");
    let v = s.show(&r).expect("show");
    assert!(!v.complete && v.warnings.iter().any(|w| w.rule == "r4a"));
    assert!(matches!(
        s.confirm(&r, "r99", "x"),
        Err(StoreError::NoWarning(_))
    ));
    s.confirm(&r, "r4a", "re-measured, thermometer checked")
        .expect("confirm");
    let v = s.show(&r).expect("show");
    assert!(v.complete, "{:?}", v.warnings);
    assert!(v.confirmed.contains_key("r4a@t1_temp_c"));
    assert_eq!(moves(&mut s, &r), ["submitted"]);
    assert!(s.record_info(&r).expect("info").editable);
    assert!(s.read_only_fields(&r).expect("read-only").is_empty());
    s.set_status(&r, "submitted", None).expect("submit");
    assert!(!s.record_info(&r).expect("info").amendment);
    // The clinician is offered the sign-off next, and nothing else.
    assert_eq!(moves(&mut s, &r), ["reviewed"]);
    // Edits after submission are allowed and kept in the history.
    s.set_answer(&r, "t1_personnel_id", "P8", None)
        .expect("edit after submit");
    drop(s);
    let mut sup = Store::open(&db, Some("sup"), "sup-pass").expect("sup");
    assert_eq!(moves(&mut sup, &r), ["returned"]);
    // A supervisor reads and moves records but enters no answers: every field is
    // read-only for them.
    assert!(!sup.record_info(&r).expect("info").editable);
    assert!(sup
        .read_only_fields(&r)
        .expect("read-only")
        .contains(&"t1_personnel_id".to_string()));
    assert!(sup.record_info(&r).expect("info").status_moves[0].needs_comment);
    assert!(matches!(
        sup.set_answer(&r, "t1_personnel_id", "P9", None),
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        sup.set_status(&r, "returned", None),
        Err(StoreError::CommentRequired)
    ));
    sup.set_status(&r, "returned", Some("check the location"))
        .expect("return");
    assert_eq!(
        sup.show(&r).expect("show").status_comment,
        "check the location"
    );
    drop(sup);
    let mut s = Store::open(&db, Some("clin"), PASSWORD).expect("clin");
    s.set_status(&r, "submitted", None).expect("resubmit");
    s.set_status(&r, "reviewed", None).expect("review");
    assert!(moves(&mut s, &r).is_empty());
    assert!(matches!(
        s.set_status(&r, "locked", None),
        Err(StoreError::Forbidden { .. })
    ));
    drop(s);
    let mut sup = Store::open(&db, Some("sup"), "sup-pass").expect("sup");
    assert_eq!(moves(&mut sup, &r), ["locked", "returned"]);
    sup.set_status(&r, "locked", None).expect("lock");
    assert!(moves(&mut sup, &r).is_empty());
    drop(sup);
    let mut s = Store::open(&db, Some("clin"), PASSWORD).expect("clin");
    // The app asks for a reason before the first change of a locked record.
    assert!(s.record_info(&r).expect("info").amendment);
    assert!(matches!(
        s.set_answer(&r, "t1_personnel_id", "P10", None),
        Err(StoreError::ReasonRequired)
    ));
    s.set_answer(&r, "t1_personnel_id", "P10", Some("typo on paper form"))
        .expect("amend");
    let h = s.history(&r, Some("t1_personnel_id")).expect("history");
    let values: Vec<&serde_json::Value> = h.iter().map(|e| &e.value).collect();
    assert_eq!(values, [&json!("clin"), &json!("P8"), &json!("P10")]);
    assert!(h[2].message.starts_with("amend t1_personnel_id: "));
    assert_eq!(h[2].reason.as_deref(), Some("typo on paper form"));
    assert_eq!(h[1].reason, None);
    let statuses: Vec<serde_json::Value> = s
        .history(&r, Some("status"))
        .expect("h")
        .into_iter()
        .map(|e| e.value)
        .collect();
    assert_eq!(
        statuses,
        [
            json!("submitted"),
            json!("returned"),
            json!("submitted"),
            json!("reviewed"),
            json!("locked")
        ]
    );
}

/// Clinicians amina (A) and bilal (B) holding one new record (A's `a.tern` change
/// file carried it to B), and a supervisor's store that has seen nothing yet.
fn one_record_on_two_clinicians(dir: &std::path::Path) -> (Store, Store, Store, String) {
    let (mut a, _) = init(dir, "amina", Role::Clinician);
    let (mut b, _) = init(dir, "bilal", Role::Clinician);
    let (sup, _) = init(dir, "sara", Role::Supervisor);
    let subj = subject(&mut a);
    let r = a.new_record("pda", &subj).expect("record");
    let fa = dir.join("a.tern");
    a.export_changes(&fa).expect("export");
    b.import_changes(&fa).expect("import");
    (a, b, sup, r)
}

#[test]
fn change_files_merge_idempotently_and_report_conflicts() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, mut b, mut sup, r) = one_record_on_two_clinicians(dir.path());
    let fa = dir.path().join("a.tern");
    let again = b.import_changes(&fa).expect("import twice");
    assert_eq!(again.new_changes, 0);
    a.set_answer(&r, "temp_c", "37.1", None).expect("a");
    b.set_answer(&r, "temp_c", "38.4", None).expect("b");
    a.set_answer(&r, "consent_research", "granted", None)
        .expect("a");
    b.set_answer(&r, "consent_research", "withdrawn", None)
        .expect("b");
    a.set_answer(&r, "exam_general_findings", "clear chest", None)
        .expect("a");
    let fb = dir.path().join("b.tern");
    b.export_changes(&fb).expect("export b");
    a.import_changes(&fb).expect("import b");
    let v = a.show(&r).expect("show");
    let fields: Vec<&str> = v.conflicts.iter().map(|c| c.field.as_str()).collect();
    assert!(fields.contains(&"temp_c") && fields.contains(&"consent_research"));
    assert_eq!(v.answers["consent_research"], json!("withdrawn"));
    assert!(!v.complete);
    let temp = v
        .conflicts
        .iter()
        .find(|c| c.field == "temp_c")
        .expect("temp");
    let mut users: Vec<&str> = temp.values.iter().map(|x| x.user.as_str()).collect();
    users.sort();
    assert_eq!(users, ["amina", "bilal"]);
    let listed = a
        .list_records(&tern_store::RecordFilter {
            conflicts_only: true,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(listed.len(), 1);
    // A screener-less clinician may resolve clinical fields, not consent.
    assert!(matches!(
        a.resolve(&r, "consent_research", "withdrawn"),
        Err(StoreError::Forbidden { .. })
    ));
    a.resolve(&r, "temp_c", "38.4")
        .expect("clinician resolves a clinical field");
    // The supervisor resolves consent; the resolution syncs back.
    let fa = dir.path().join("a2.tern");
    a.export_changes(&fa).expect("export");
    sup.import_changes(&fa).expect("sup import");
    sup.resolve(&r, "consent_research", "withdrawn")
        .expect("resolve");
    let fs = dir.path().join("s.tern");
    sup.export_changes(&fs).expect("export sup");
    a.import_changes(&fs).expect("a import");
    b.import_changes(&fs).expect("b import");
    for st in [&mut a, &mut b] {
        let v = st.show(&r).expect("show");
        assert!(v.conflicts.is_empty(), "{:?}", v.conflicts);
        assert_eq!(v.answers["temp_c"], json!(38.4));
        assert_eq!(v.answers["consent_research"], json!("withdrawn"));
    }
    let h = a.history(&r, Some("consent_research")).expect("history");
    let values: Vec<&serde_json::Value> = h.iter().map(|e| &e.value).collect();
    assert!(values.contains(&&json!("granted")) && values.contains(&&json!("withdrawn")));
    assert!(h
        .iter()
        .any(|e| e.user == "sara" && e.message.starts_with("resolve")));
}

#[test]
fn a_status_conflict_is_resolved_with_one_of_its_values() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Clinician);
    let (mut sup, _) = init(dir.path(), "sara", Role::Supervisor);
    let r = arr_t1_record(&mut a);
    complete_arr_t1(&mut a, &r);
    a.set_status(&r, "submitted", None).expect("submit");
    let fa = dir.path().join("a.tern");
    a.export_changes(&fa).expect("export");
    sup.import_changes(&fa).expect("import");
    // Offline at once: the clinician signs, the supervisor returns it.
    a.set_status(&r, "reviewed", None).expect("sign");
    sup.set_status(&r, "returned", Some("check the location"))
        .expect("return");
    let fa = dir.path().join("a2.tern");
    a.export_changes(&fa).expect("export");
    sup.import_changes(&fa).expect("import");
    let v = sup.show(&r).expect("show");
    assert!(
        v.conflicts.iter().any(|c| c.field == "status"),
        "{:?}",
        v.conflicts
    );
    assert!(matches!(
        sup.resolve(&r, "status", "locked"),
        Err(StoreError::NotAConflictValue(_))
    ));
    sup.resolve(&r, "status", "returned").expect("resolve");
    let v = sup.show(&r).expect("show");
    assert!(v.conflicts.is_empty(), "{:?}", v.conflicts);
    assert_eq!(v.status, "returned");
}

#[test]
fn tampered_or_truncated_change_files_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Clinician);
    let (mut b, _) = init(dir.path(), "bilal", Role::Clinician);
    let subj = subject(&mut a);
    let r = a.new_record("pda", &subj).expect("record");
    a.set_answer(&r, "temp_c", "37.1", None).expect("a");
    let f = dir.path().join("a.tern");
    a.export_changes(&f).expect("export");
    let bytes = std::fs::read(&f).expect("read");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", bytes[..bytes.len() - 10].to_vec()),
        ("empty", Vec::new()),
        ("flipped", {
            let mut t = bytes.clone();
            let i = t.len() - 40;
            t[i] ^= 1;
            t
        }),
        (
            "header only",
            bytes[..bytes.iter().position(|&x| x == b'\n').expect("nl") + 1].to_vec(),
        ),
    ];
    for (name, content) in cases {
        let bad = dir.path().join(format!("{name}.tern"));
        std::fs::write(&bad, content).expect("write");
        let err = b.import_changes(&bad).expect_err(name);
        assert!(
            matches!(err, StoreError::BadChangeFile { .. }),
            "{name}: {err}"
        );
        assert!(
            b.list_records(&Default::default())
                .expect("list")
                .is_empty(),
            "{name}"
        );
    }
    // A file whose hash was recomputed over altered change bytes is still refused by
    // the change checksums.
    let forged = dir.path().join("forged.tern");
    common::partial(&f, &forged, |_| true);
    let mut text = std::fs::read(&forged).expect("read");
    let nl = text.iter().position(|&b| b == b'\n').expect("nl");
    let body = String::from_utf8(text.split_off(nl + 1)).expect("utf8");
    let altered = body.replacen("\"changes\":[\"856f4a83", "\"changes\":[\"856f4a84", 1);
    if altered != body {
        use sha2::{Digest, Sha256};
        let mut out = format!(
            "TERN-CHANGES 1 {} {}\n",
            hex::encode(Sha256::digest(altered.as_bytes())),
            altered.len()
        )
        .into_bytes();
        out.extend_from_slice(altered.as_bytes());
        std::fs::write(&forged, out).expect("write");
        assert!(b.import_changes(&forged).is_err());
        assert!(b
            .list_records(&Default::default())
            .expect("list")
            .is_empty());
    }
}

#[test]
fn changes_arrive_in_any_order_and_in_parts() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Clinician);
    let (mut b, _) = init(dir.path(), "bilal", Role::Clinician);
    let subj = subject(&mut a);
    let r = a.new_record("pda", &subj).expect("record");
    for (i, t) in ["36.5", "36.9", "37.2", "37.8"].iter().enumerate() {
        a.set_answer(&r, "temp_c", t, None).expect("set");
        a.set_answer(&r, &format!("current_meds[{i}].med_name"), "m", None)
            .expect("set");
    }
    let f = dir.path().join("a.tern");
    a.export_changes(&f).expect("export");
    let odd = dir.path().join("odd.tern");
    let even = dir.path().join("even.tern");
    common::partial(&f, &odd, |i| i % 2 == 1);
    common::partial(&f, &even, |i| i % 2 == 0);
    let rep = b.import_changes(&odd).expect("odd");
    assert!(rep.waiting > 0, "{rep:?}");
    b.import_changes(&odd).expect("odd again");
    b.import_changes(&even).expect("even");
    assert_eq!(
        b.show(&r).expect("show").answers,
        a.show(&r).expect("show").answers
    );
    b.compact(0).expect("compact");
    assert_eq!(
        b.show(&r).expect("show").answers,
        a.show(&r).expect("show").answers
    );
    assert_eq!(b.history(&r, Some("temp_c")).expect("h").len(), 4);
}

#[test]
fn projections_rebuild_from_documents() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Clinician);
    let subj = subject(&mut a);
    let r = a.new_record("arr_t1", &subj).expect("record");
    let before = a.list_records(&Default::default()).expect("list");
    let n = a.rebuild_projections().expect("rebuild");
    assert_eq!(n, 2);
    let after = a.list_records(&Default::default()).expect("list");
    assert_eq!(before.len(), after.len());
    assert_eq!(after[0].record_id, r);
    let hits = a
        .search_subjects(&SubjectQuery {
            name: Some("amina".into()),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(hits.len(), 1);
}

#[test]
fn subjects_search_and_merge() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Screener);
    let one = a
        .add_subject(&[
            ("given_name".into(), "Muhammad".into()),
            ("family_name".into(), "Al-Hassan".into()),
            ("date_of_birth".into(), "1985-02-03".into()),
        ])
        .expect("one");
    let two = a
        .add_subject(&[
            ("given_name".into(), "Mohamed".into()),
            ("family_name".into(), "Alhassan".into()),
            ("document_number".into(), "P 123-456".into()),
        ])
        .expect("two");
    let _three = a
        .add_subject(&[
            ("given_name".into(), "José".into()),
            ("family_name".into(), "Núñez".into()),
        ])
        .expect("three");
    let q = |name: &str| SubjectQuery {
        name: Some(name.into()),
        ..Default::default()
    };
    assert_eq!(a.search_subjects(&q("JOSE nunez")).expect("s").len(), 1);
    assert_eq!(a.search_subjects(&q("mohammed")).expect("s").len(), 2);
    assert_eq!(a.search_subjects(&q("hass")).expect("s").len(), 2);
    let by_doc = a
        .search_subjects(&SubjectQuery {
            document: Some("p123456".into()),
            ..Default::default()
        })
        .expect("s");
    assert_eq!(by_doc[0].subject_id, two);
    let by_dob = a
        .search_subjects(&SubjectQuery {
            date_of_birth: Some("1985-02-03".into()),
            ..Default::default()
        })
        .expect("s");
    assert_eq!(by_dob[0].subject_id, one);
    a.merge_subjects(&one, &two).expect("merge");
    assert_eq!(a.search_subjects(&q("mohammed")).expect("s").len(), 1);
    let shown = a.show_subject(&one).expect("show");
    assert_eq!(shown["identity"]["document_number"], json!("P 123-456"));
    assert_eq!(shown["merged_from"], json!([two]));
    // Records of the merged subject read the kept subject's fields.
    let r = a.new_record("arr_t1", &two).expect("record on the old id");
    let v = a.show(&r).expect("show");
    assert_eq!(v.subject["date_of_birth"], json!("1985-02-03"));
}

#[test]
fn record_import_whole_or_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, _) = init(dir.path(), "amina", Role::Clinician);
    let subj = subject(&mut a);
    let lines = format!(
        "{}\n{}\n{}\nnot json\n",
        json!({"subject_id": subj, "temp_c": 37.2, "current_meds": [{"med_name": "x"}]}),
        json!({"given_name": "New", "family_name": "Person", "sex": "male", "temp_c": "hot"}),
        json!({"given_name": "Other", "heart_rate": 70}),
    );
    let rep = a.import_records("pda", &lines).expect("import");
    assert_eq!(rep.imported, 2);
    assert_eq!(
        rep.refused.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 4]
    );
    assert!(
        !rep.refused[0].reason.contains("hot"),
        "no values in reasons"
    );
    let v = a.show(&rep.records[0]).expect("show");
    assert_eq!(v.answers["temp_c"], json!(37.2));
    assert_eq!(a.history(&rep.records[0], None).expect("h").len(), 2);
    // The refused line left nothing behind.
    assert_eq!(a.list_records(&Default::default()).expect("list").len(), 2);
    let hits = a
        .search_subjects(&SubjectQuery {
            name: Some("new person".into()),
            ..Default::default()
        })
        .expect("s");
    assert!(hits.is_empty());
}

#[test]
fn a_screener_is_told_which_sections_are_withheld_and_sees_none_of_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, db) = init(dir.path(), "clin", Role::Clinician);
    s.add_user("sami", Role::Screener, "sami-pass")
        .expect("add");
    let subj = subject(&mut s);
    let r = s.new_record("pda", &subj).expect("record");
    s.set_answer(&r, "rhs_administered", "true", None)
        .expect("a clinician answers a restricted field");
    assert!(s.withheld_sections(&r).expect("withheld").is_empty());
    let clinician = s.evaluate_record(&r, "en").expect("eval");
    assert!(clinician.relevant.iter().any(|p| p == "rhs_item_01"));
    let view = s.form_version("pda", "1.0.0").expect("form").view("en");
    let restricted: Vec<&str> = view
        .sections
        .iter()
        .flat_map(|s| {
            let whole = s.restricted.is_some();
            s.fields
                .iter()
                .flat_map(|f| std::iter::once(f).chain(&f.fields))
                .filter(move |f| whole || f.restricted.is_some())
                .map(|f| f.id.as_str())
        })
        .collect();
    assert!(restricted.contains(&"rhs_item_01"));
    drop(s);

    let mut sc = Store::open(&db, Some("sami"), "sami-pass").expect("screener");
    let withheld = sc.withheld_sections(&r).expect("withheld");
    assert!(
        withheld.contains(&"mental_health".to_string()),
        "{withheld:?}"
    );
    for id in &withheld {
        let section = view.sections.iter().find(|s| &s.id == id).expect("section");
        assert!(
            section.restricted.is_some() || section.fields.iter().all(|f| f.restricted.is_some())
        );
    }
    let eval = sc.evaluate_record(&r, "en").expect("eval");
    let shown: Vec<&String> = eval
        .relevant
        .iter()
        .chain(&eval.missing)
        .filter(|p| {
            let id = p.rsplit('.').next().unwrap_or(p);
            restricted.contains(&id.split('[').next().unwrap_or(id))
        })
        .collect();
    assert!(shown.is_empty(), "a screener is shown {shown:?}");
    assert!(eval.relevant.iter().any(|p| p == "temp_c"));
    assert!(matches!(
        sc.set_answer(&r, "rhs_item_01", "2", None),
        Err(StoreError::Forbidden { .. })
    ));
}

#[test]
fn adding_a_repeat_instance_writes_nothing_into_the_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut s, _) = init(dir.path(), "clin", Role::Clinician);
    let subj = subject(&mut s);
    let r = s.new_record("pda", &subj).expect("record");
    s.add_repeat(&r, "current_meds", None).expect("add");
    assert!(s.history(&r, None).expect("history").is_empty());
    s.set_answer(&r, "current_meds[0].med_name", "Metformin", None)
        .expect("answer");
    let h = s.history(&r, None).expect("history");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].field, "current_meds[0].med_name");
}

/// FORMS.md 2.2: TB classification, outcome, fitness to travel and sign-off are the
/// clinician's. A screener's write is refused, says who may write the field, carries
/// no value and leaves nothing behind, on every write path; the record view names
/// the read-only fields so the UI can render them so.
#[test]
fn a_screener_may_not_write_clinician_only_fields_on_any_path() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut c, db) = init(dir.path(), "clin", Role::Clinician);
    c.add_user("sami", Role::Screener, "sami-pass")
        .expect("add");
    let subj = subject(&mut c);
    let r = c.new_record("pda", &subj).expect("record");
    assert!(c.read_only_fields(&r).expect("read-only").is_empty());
    assert!(c.show(&r).expect("show").read_only_fields.is_empty());
    c.set_answer(&r, "tb_diagnosis", "ltbi", None)
        .expect("a clinician classifies TB");
    c.set_answer(&r, "outcome", "deferred", None)
        .expect("a clinician decides the outcome");
    drop(c);

    let mut s = Store::open(&db, Some("sami"), "sami-pass").expect("screener");
    let before = s.history(&r, None).expect("history").len();
    let read_only = s.read_only_fields(&r).expect("read-only");
    for id in [
        "tb_diagnosis",
        "tb_class_us",
        "outcome",
        "deferral_reason",
        "clinician_id",
    ] {
        assert!(read_only.iter().any(|f| f == id), "{id} in {read_only:?}");
    }
    assert!(!read_only.iter().any(|f| f == "temp_c"), "{read_only:?}");
    assert_eq!(s.show(&r).expect("show").read_only_fields, read_only);
    for (field, value) in [
        ("tb_diagnosis", "pulmonary_tb"),
        ("outcome", "fit_to_travel"),
        ("tb_class_us", "B1_pulmonary"),
        ("clinician_id", "sami"),
        ("outcome", ""),
    ] {
        match s.set_answer(&r, field, value, None) {
            Err(e @ StoreError::Forbidden { .. }) => {
                let m = e.to_string();
                assert!(m.contains(field) && m.contains("clinician"), "{m}");
                assert!(value.is_empty() || !m.contains(value), "no value: {m}");
            }
            other => panic!("a screener wrote {field}: {other:?}"),
        }
    }
    s.set_answer(&r, "temp_c", "37.0", None)
        .expect("a screener enters vitals");
    let v = s.show(&r).expect("show");
    assert_eq!(v.answers["tb_diagnosis"], json!("ltbi"));
    assert_eq!(v.answers["outcome"], json!("deferred"));
    assert_eq!(
        s.history(&r, None).expect("history").len(),
        before + 1,
        "only the vitals were written"
    );
    // Record import: the whole line is refused, nothing is written.
    let records = s.list_records(&Default::default()).expect("list").len();
    let rep = s
        .import_records(
            "pda",
            &format!(
                "{}\n",
                json!({"subject_id": subj, "temp_c": 37.2, "outcome": "not_fit"})
            ),
        )
        .expect("import");
    assert_eq!(rep.imported, 0);
    assert_eq!(rep.refused.len(), 1);
    assert!(
        rep.refused[0].reason.contains("outcome"),
        "{:?}",
        rep.refused
    );
    assert!(
        !rep.refused[0].reason.contains("not_fit"),
        "{:?}",
        rep.refused
    );
    assert_eq!(
        s.list_records(&Default::default()).expect("list").len(),
        records
    );
    // pec: the whole `decision` section is the clinician's.
    let p = s.new_record("pec", &subj).expect("pec");
    assert!(matches!(
        s.set_answer(&p, "pec_outcome", "cleared", None),
        Err(StoreError::Forbidden { .. })
    ));
    assert!(matches!(
        s.set_answer(&p, "pec_hold_reason", "fever", None),
        Err(StoreError::Forbidden { .. })
    ));
    s.set_answer(&p, "pec_temp_c", "36.8", None)
        .expect("a screener takes the temperature");
}

/// Resolving a conflict writes the field, so it obeys the field's write rights too:
/// a supervisor (who resolves conflicts) may not pick a TB classification; a
/// clinician may.
#[test]
fn resolving_a_conflict_on_a_clinician_only_field_needs_a_clinician() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut a, mut b, mut sup, r) = one_record_on_two_clinicians(dir.path());
    a.set_answer(&r, "tb_diagnosis", "ltbi", None).expect("a");
    b.set_answer(&r, "tb_diagnosis", "no_tb", None).expect("b");
    let fb = dir.path().join("b.tern");
    b.export_changes(&fb).expect("export b");
    a.import_changes(&fb).expect("import b");
    let fa = dir.path().join("a2.tern");
    a.export_changes(&fa).expect("export a");
    sup.import_changes(&fa).expect("sup import");
    let v = sup.show(&r).expect("show");
    assert!(v.conflicts.iter().any(|c| c.field == "tb_diagnosis"));
    let history = sup.history(&r, None).expect("history").len();
    match sup.resolve(&r, "tb_diagnosis", "no_tb") {
        Err(e @ StoreError::Forbidden { .. }) => {
            let m = e.to_string();
            assert!(m.contains("tb_diagnosis") && m.contains("clinician"), "{m}");
        }
        other => panic!("a supervisor picked a TB classification: {other:?}"),
    }
    assert_eq!(sup.history(&r, None).expect("history").len(), history);
    assert!(sup
        .show(&r)
        .expect("show")
        .conflicts
        .iter()
        .any(|c| c.field == "tb_diagnosis"));
    a.resolve(&r, "tb_diagnosis", "no_tb")
        .expect("a clinician resolves it");
    assert!(a.show(&r).expect("show").conflicts.is_empty());
}
