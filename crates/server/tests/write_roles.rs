//! Field-level write rights on the server (FORMS.md 2.2, the forms' `write_roles`):
//! a pushed change, or a whole document, in which a screener writes a field only a
//! clinician may write is quarantined (never in views, never pulled), with a reason
//! that names the user, role and field but no value; a clinician's write of the same
//! field goes through. The device store refuses such writes itself; a tampered device
//! (here: a forged account list that makes the screener a clinician locally) leaves
//! only the server's check.

use crate::common::*;
use tern_server::admin::Admin;

/// Waits (bounded) until `doc` has quarantined changes; returns the reason.
pub(crate) fn quarantine_reason(admin: &Admin, doc: &str) -> String {
    for _ in 0..200 {
        let listed = admin.quarantined().expect("quarantined");
        if let Some((_, why)) = listed.into_iter().find(|(d, _)| d == doc) {
            return why;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("document {doc} was never quarantined");
}

/// Waits (bounded) until the server's view of `record` shows `field` as `want`.
pub(crate) fn wait_for_answer(
    url: &str,
    token: &str,
    record: &str,
    field: &str,
    want: &serde_json::Value,
) {
    for _ in 0..200 {
        let v = server_view(url, token, record);
        if &v["data"]["answers"][field] == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let v = server_view(url, token, record);
    panic!("{field} of {record} never became {want} on the server: {v}");
}

/// Makes the store believe its user `bilal` is a clinician, as a tampered device
/// could; the next sync brings the real list back.
fn tamper(store: &mut tern_store::Store, role: &str, version: u64) {
    store
        .apply_accounts(version, &[("bilal".into(), role.into())])
        .expect("a forged account list");
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let amina = login(&url, "amina");

    // A screener's record, synced and verified.
    let scr = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let record = {
        let mut s = open(&scr);
        let r = new_pda(&mut s);
        s.set_answer(&r, "temp_c", "37.5", None).expect("vitals");
        assert!(
            s.set_answer(&r, "tb_diagnosis", "pulmonary_tb", None)
                .is_err(),
            "the store refuses a screener's TB classification"
        );
        r
    };
    sync(&scr);
    wait_for_answer(&url, &amina, &record, "temp_c", &serde_json::json!(37.5));

    // A tampered device writes the TB classification as the screener: the change is
    // acknowledged (the cheap checks cannot tell fields), then quarantined.
    {
        let mut s = open(&scr);
        tamper(&mut s, "clinician", 999);
        s.set_answer(&record, "tb_diagnosis", "pulmonary_tb", None)
            .expect("the tampered store lets it through");
    }
    let report = sync(&scr);
    assert_eq!(report.pushed_documents, 0, "it travelled as a change");
    let why = quarantine_reason(&admin, &record);
    for part in ["`bilal`", "screener", "`tb_diagnosis`", "clinician"] {
        assert!(why.contains(part), "{}: {why}", backend.name);
    }
    assert!(
        !why.contains("pulmonary_tb"),
        "no value in the reason: {why}"
    );
    let v = server_view(&url, &amina, &record);
    assert!(
        v["data"]["answers"]["tb_diagnosis"].is_null(),
        "{}: the quarantined write is not in the view: {v}",
        backend.name
    );
    assert_eq!(v["data"]["answers"]["temp_c"], serde_json::json!(37.5));
    assert_eq!(
        open(&scr).role(),
        tern_store::Role::Screener,
        "the sync brought the real role back"
    );

    // A clinician's device never receives it, and the clinician's own write passes.
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    sync(&clin);
    {
        let mut c = open(&clin);
        let shown = c.show(&record).expect("the clinician has the record");
        assert!(shown.answers.get("tb_diagnosis").is_none(), "{shown:?}");
        assert_eq!(shown.answers["temp_c"], serde_json::json!(37.5));
        c.set_answer(&record, "tb_diagnosis", "ltbi", None)
            .expect("a clinician classifies TB");
    }
    sync(&clin);
    wait_for_answer(
        &url,
        &amina,
        &record,
        "tb_diagnosis",
        &serde_json::json!("ltbi"),
    );
    assert_eq!(
        quarantine_reason(&admin, &record),
        why,
        "nothing more quarantined"
    );

    // A whole document: a second tampered device of the screener's records the
    // outcome before its first sync; the record travels whole and is quarantined.
    let scr2 = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let second = {
        let mut s = open(&scr2);
        tamper(&mut s, "clinician", 999);
        let subject = s
            .add_subject(&[("sex".into(), "male".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("record");
        s.set_answer(&r, "temp_c", "36.6", None).expect("vitals");
        s.set_answer(&r, "outcome", "fit_to_travel", None)
            .expect("the tampered store lets it through");
        // Back to screener before the sync, so that the restricted twin (only its
        // empty skeleton) travels as changes and passes the cheap checks.
        tamper(&mut s, "screener", 1000);
        r
    };
    let report = sync(&scr2);
    assert!(report.pushed_documents >= 1, "{report:?}");
    let why = quarantine_reason(&admin, &second);
    for part in ["`bilal`", "screener", "`outcome`", "clinician"] {
        assert!(why.contains(part), "{}: {why}", backend.name);
    }
    assert!(
        !why.contains("fit_to_travel"),
        "no value in the reason: {why}"
    );
    sync(&clin);
    assert!(
        open(&clin).show(&second).is_err(),
        "{}: the quarantined record never reaches another device",
        backend.name
    );
    server.stop();
}

/// The record workflow (FORMS.md 2) on the server: a screener's tampered device
/// signs a record as reviewed (a change) and locks another before its first sync (a
/// whole document); both are quarantined, naming user, role and status. The
/// clinician's sign-off and the supervisor's lock pass.
fn status_scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let amina = login(&url, "amina");
    let new_complete_record = |s: &mut tern_store::Store| {
        let r = crate::answers::arr_t1_record(s);
        crate::answers::complete_arr_t1(s, &r);
        r
    };

    let scr = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let record = {
        let mut s = open(&scr);
        let r = new_complete_record(&mut s);
        s.set_status(&r, "submitted", None)
            .expect("a screener submits");
        assert!(
            s.set_status(&r, "reviewed", None).is_err(),
            "the store refuses a screener's sign-off"
        );
        r
    };
    sync(&scr);
    wait_for_status(&url, &amina, &record, "submitted");

    // The tampered device signs the record off as the screener.
    {
        let mut s = open(&scr);
        tamper(&mut s, "clinician", 999);
        s.set_status(&record, "reviewed", None)
            .expect("the tampered store lets it through");
    }
    let report = sync(&scr);
    assert_eq!(report.pushed_documents, 0, "it travelled as a change");
    let why = quarantine_reason(&admin, &record);
    for part in ["`bilal`", "screener", "`reviewed`"] {
        assert!(why.contains(part), "{}: {why}", backend.name);
    }
    assert_eq!(
        server_view(&url, &amina, &record)["record"]["status"],
        "submitted",
        "{}: the forged sign-off is not in the view",
        backend.name
    );

    // The clinician signs it off, the supervisor locks it: both pass.
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    sync(&clin);
    open(&clin)
        .set_status(&record, "reviewed", None)
        .expect("the clinician signs");
    sync(&clin);
    wait_for_status(&url, &amina, &record, "reviewed");
    let sup = device(tmp.path(), &admin, &url, "chen", "site-a");
    sync(&sup);
    open(&sup)
        .set_status(&record, "locked", None)
        .expect("the supervisor locks");
    sync(&sup);
    wait_for_status(&url, &amina, &record, "locked");
    assert_eq!(
        quarantine_reason(&admin, &record),
        why,
        "nothing more quarantined"
    );

    // A whole document locked by the screener's tampered device before its first
    // sync: the status it stands at is checked with whoever set it.
    let scr2 = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let second = {
        let mut s = open(&scr2);
        let r = new_complete_record(&mut s);
        tamper(&mut s, "clinician", 999);
        s.set_status(&r, "submitted", None).expect("submit");
        s.set_status(&r, "reviewed", None).expect("forged sign-off");
        tamper(&mut s, "supervisor", 1000);
        s.set_status(&r, "locked", None).expect("forged lock");
        tamper(&mut s, "screener", 1001);
        r
    };
    let report = sync(&scr2);
    assert!(report.pushed_documents >= 1, "{report:?}");
    let why = quarantine_reason(&admin, &second);
    for part in ["`bilal`", "screener", "`locked`"] {
        assert!(why.contains(part), "{}: {why}", backend.name);
    }
    sync(&clin);
    assert!(
        open(&clin).show(&second).is_err(),
        "{}: the forged record never reaches another device",
        backend.name
    );
    server.stop();
}

#[test]
fn status_rights_on_sqlite() {
    status_scenario(sqlite());
}

#[test]
fn status_rights_on_postgres() {
    status_scenario(postgres());
}

#[test]
fn field_write_rights_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn field_write_rights_on_postgres() {
    scenario(postgres());
}

/// Issue 14 item 7: a record started on pda 1.0.0 (a device without the newer
/// binary) moves to the newest version on its next edit; the move (a root write of
/// `form_version`) verifies on the server, whose view then names the new version.
#[test]
fn a_record_moved_to_the_newest_form_version_verifies_on_sqlite() {
    let backend = sqlite();
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let amina = login(&url, "amina");
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = {
        let mut c = open(&clin);
        let subject = c
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let r = c
            .new_record_version("pda", "1.0.0", &subject)
            .expect("an old record");
        c.set_answer(&r, "temp_c", "37.5", None).expect("vitals");
        r
    };
    sync(&clin);
    wait_for_answer(&url, &amina, &record, "temp_c", &serde_json::json!(37.5));
    let v = server_view(&url, &amina, &record);
    assert_eq!(
        v["record"]["form_version"], "1.2.0",
        "moved at its first edit: {v}"
    );
    {
        let mut c = open(&clin);
        c.set_answer(&record, "outcome", "deferred", None)
            .expect("a clinician's outcome");
    }
    sync(&clin);
    wait_for_answer(
        &url,
        &amina,
        &record,
        "outcome",
        &serde_json::json!("deferred"),
    );
    assert!(
        admin
            .quarantined()
            .expect("quarantined")
            .iter()
            .all(|(d, _)| !d.starts_with(&record)),
        "nothing of the moved record is quarantined"
    );
    server.stop();
}
