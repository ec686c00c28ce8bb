//! Release and reject of quarantined changes (issue 13, crate::quarantine): a
//! supervisor of the record's site releases a screener's forged TB classification
//! through the API and it reaches a clinician's device whose cursor had passed it; a
//! second one is rejected from the CLI and never reaches any device. A screener, a
//! clinician and a supervisor of another site can neither see nor decide; both
//! decisions are in the access log.

use crate::common::*;
use tern_server::admin::Admin;
use tern_server::quarantine::{Choice, QuarantineEntry};

/// Waits (bounded) until `doc` is listed as waiting for a decision.
fn listed(admin: &Admin, doc: &str) -> QuarantineEntry {
    for _ in 0..200 {
        let list = admin.quarantine_list().expect("list");
        if let Some(e) = list.into_iter().find(|e| e.doc == doc) {
            return e;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("document {doc} was never quarantined");
}

/// Makes the store believe `bilal` is a clinician (a tampered device); the next sync
/// brings the real role back.
fn forge(scr: &std::path::Path, record: &str, value: &str) {
    let mut s = open(scr);
    s.apply_accounts(999, &[("bilal".into(), "clinician".into())])
        .expect("a forged account list");
    s.set_answer(record, "tb_diagnosis", value, None)
        .expect("the tampered store lets it through");
}

/// The clinician's device's copy of the record's TB classification after a sync.
fn on_device(clin: &std::path::Path, record: &str) -> serde_json::Value {
    sync(clin);
    let shown = open(clin)
        .show(record)
        .expect("the record is on the device");
    shown
        .answers
        .get("tb_diagnosis")
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// Waits (bounded) until the server's view of `record` shows `want` as its TB
/// classification.
fn wait_for_tb(url: &str, token: &str, record: &str, want: &serde_json::Value) {
    for _ in 0..200 {
        if &server_view(url, token, record)["data"]["answers"]["tb_diagnosis"] == want {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("tb_diagnosis of {record} never became {want}");
}

fn audited(url: &str, token: &str, action: &str, actor: &str, record: &str) -> bool {
    let (status, log) = get(url, "/v1/audit", token);
    assert_eq!(status, 200, "{log}");
    log.as_array()
        .expect("entries")
        .iter()
        .any(|e| e["action"] == action && e["actor"] == actor && e["object"] == record)
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    admin
        .add_user(
            "sofia",
            "supervisor",
            ACCOUNT_PASSWORD,
            &["site-b".to_string()],
        )
        .expect("a supervisor of site-b");
    let scr = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = super::quarantine::screened_and_synced(&scr);
    let amina = login(&url, "amina");
    server_view(&url, &amina, &record);
    assert!(on_device(&clin, &record).is_null());

    // A forged classification is quarantined; the clinician's device syncs past it.
    forge(&scr, &record, "pulmonary_tb");
    sync(&scr);
    let entry = listed(&admin, &record);
    assert_eq!(entry.site, "site-a");
    assert_eq!(entry.authors, vec!["bilal".to_string()], "{entry:?}");
    assert_eq!(entry.changes, 1);
    assert!(entry.reason.contains("tb_diagnosis"), "{entry:?}");
    assert!(
        !entry.reason.contains("pulmonary_tb"),
        "no value: {entry:?}"
    );
    assert!(on_device(&clin, &record).is_null(), "{}", backend.name);

    // Who may not: a screener, a clinician, a supervisor of another site.
    let why = serde_json::json!({"reason": "checked with Dr Amina, who dictated it"});
    let release = format!("/v1/quarantine/{record}/release");
    for (user, status) in [("bilal", 403), ("amina", 403)] {
        let token = login(&url, user);
        assert_eq!(get(&url, "/v1/quarantine", &token).0, status, "{user}");
        assert_eq!(
            post(&url, &release, &token, why.clone()).0,
            status,
            "{user}"
        );
    }
    let sofia = login(&url, "sofia");
    let (status, list) = get(&url, "/v1/quarantine", &sofia);
    assert_eq!((status, list), (200, serde_json::json!([])));
    let (status, body) = post(&url, &release, &sofia, why.clone());
    assert_eq!(status, 404, "another site's document is not found: {body}");
    assert_eq!(listed(&admin, &record).changes, 1, "nothing was decided");

    // The supervisor of site-a sees it and releases it, with a reason.
    let chen = login(&url, "chen");
    let (status, list) = get(&url, "/v1/quarantine", &chen);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["doc"], record.as_str(), "{list}");
    assert_eq!(list[0]["authors"], serde_json::json!(["bilal"]), "{list}");
    let (status, body) = post(&url, &release, &chen, serde_json::json!({"reason": "  "}));
    assert_eq!(status, 400, "a decision needs a reason: {body}");
    let (status, body) = post(&url, &release, &chen, why.clone());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "released");
    assert_eq!(body["changes"], 1);
    let tb = serde_json::json!("pulmonary_tb");
    wait_for_tb(&url, &amina, &record, &tb);
    assert_eq!(
        on_device(&clin, &record),
        tb,
        "{}: the released change reaches a device whose cursor had passed it",
        backend.name
    );
    assert!(admin.quarantine_list().expect("list").is_empty());
    assert_eq!(
        post(&url, &release, &chen, why.clone()).0,
        404,
        "nothing left to decide"
    );
    assert!(audited(&url, &chen, "quarantine_release", "chen", &record));

    // A second forged classification is rejected from the CLI: it never reaches a
    // device, not even after the screener's device syncs again.
    forge(&scr, &record, "ltbi");
    sync(&scr);
    assert_eq!(listed(&admin, &record).changes, 1);
    assert!(admin
        .quarantine_decide(&record, Choice::Reject, "\n")
        .is_err());
    let decided = admin
        .quarantine_decide(&record, Choice::Reject, "not a clinician's finding")
        .expect("rejected");
    assert_eq!(
        (decided.decision.as_str(), decided.changes),
        ("rejected", 1)
    );
    assert!(admin.quarantine_list().expect("list").is_empty());
    assert_eq!(admin.backlog().expect("backlog").quarantined, 0);
    sync(&scr);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(on_device(&clin, &record), tb, "{}", backend.name);
    assert_eq!(
        server_view(&url, &amina, &record)["data"]["answers"]["tb_diagnosis"],
        tb
    );
    assert!(admin.quarantine_list().expect("list").is_empty());
    assert!(audited(
        &url,
        &chen,
        "quarantine_reject",
        "tern-admin",
        &record
    ));
    server.stop();
}

#[test]
fn quarantine_release_and_reject_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn quarantine_release_and_reject_on_postgres() {
    scenario(postgres());
}
