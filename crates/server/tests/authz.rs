//! The role × endpoint authorization matrix (FORMS.md 2.2), a device of another
//! site, a revoked device, forged, malformed, oversized and old-version messages.

use crate::common::*;
use tern_store::{Role, Store};
use tern_sync::protocol::{self, SyncRequest};
use tern_sync::SyncError;

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);

    // A record at site-a, synced and projected.
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = {
        let mut s = open(&clin);
        let r = new_pda(&mut s);
        s.set_answer(&r, "hiv_offered", "true", None)
            .expect("restricted");
        r
    };
    sync(&clin);
    let amina = login(&url, "amina");
    server_view(&url, &amina, &record);

    let tokens: Vec<(&str, String)> = ["bilal", "amina", "chen", "dana", "root", "other"]
        .iter()
        .map(|u| (*u, login(&url, u)))
        .collect();
    let view = format!("/v1/records/{record}");
    // Expected status per endpoint, in the order of `tokens`:
    // screener, clinician, supervisor, data manager, admin, clinician of site-b.
    let matrix: Vec<(&str, [u16; 6])> = vec![
        ("/v1/records", [403, 200, 200, 200, 403, 200]),
        (view.as_str(), [200, 200, 200, 403, 403, 404]),
        ("/v1/export", [403, 403, 403, 200, 403, 403]),
        ("/v1/audit", [403, 403, 200, 200, 200, 403]),
        ("/v1/admin/devices", [403, 403, 403, 403, 200, 403]),
    ];
    for (path, expected) in &matrix {
        for ((user, token), want) in tokens.iter().zip(expected) {
            let (status, body) = get(&url, path, token);
            assert_eq!(status, *want, "{}: {user} GET {path}: {body}", backend.name);
        }
        assert_eq!(
            get(&url, path, "not-a-token").0,
            401,
            "{path} without a valid token"
        );
    }
    // Restricted sections only for roles that may see them.
    let (_, v) = get(&url, &view, &tokens[0].1);
    assert!(
        v["data"]["restricted"].is_null(),
        "a screener never sees restricted sections"
    );
    let (_, v) = get(&url, &view, &tokens[1].1);
    assert_eq!(
        v["data"]["restricted"]["answers"]["hiv_offered"],
        serde_json::json!(true)
    );
    // Site-b's clinician does not even see site-a records in lists.
    let (_, list) = get(&url, "/v1/records", &tokens[5].1);
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    // The data manager's list is pseudonymised.
    let (_, list) = get(&url, "/v1/records", &tokens[3].1);
    assert!(list[0]["subject_id"]
        .as_str()
        .is_some_and(|s| s.starts_with("P-")));
    // Record views and exports are in the access log, without health values.
    let (_, log) = get(&url, "/v1/audit", &tokens[4].1);
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "login",
        "view_record",
        "view_record_restricted",
        "export",
        "enrol",
        "sync",
    ] {
        assert!(
            actions.contains(&a),
            "{}: access log has {a}: {actions:?}",
            backend.name
        );
    }
    assert!(!log.to_string().contains("hiv_offered"));
    // Wrong passwords are rate limited (an account of its own: the limit also holds
    // for enrolment, which the device scenarios below need for bilal).
    for _ in 0..5 {
        let (s, _) = post_bytes(
            &format!("{url}/v1/login"),
            None,
            br#"{"user":"chen","password":"nope-nope"}"#.to_vec(),
        );
        assert_eq!(s, 401);
    }
    let (s, body) = post_bytes(
        &format!("{url}/v1/login"),
        None,
        br#"{"user":"chen","password":"nope-nope"}"#.to_vec(),
    );
    assert_eq!(s, 429, "{body}");
    // The limit holds for enrolment too: the right password of a limited account
    // does not enrol a device.
    let mut limited = tern_store::Store::init(
        &tmp.path().join("limited.db"),
        "chen",
        Role::Screener,
        PASSWORD,
        "site-a",
    )
    .expect("init");
    let code = admin.enrolment_code("site-a", None).expect("code");
    match tern_sync::enrol(&mut limited, &url, &code, ACCOUNT_PASSWORD) {
        Err(SyncError::Refused { code, .. }) => {
            assert_eq!(code, protocol::ErrorCode::RateLimited)
        }
        other => panic!("a rate-limited account enrolled: {other:?}"),
    }

    // Devices: a data manager's device may not sync; a site-b device gets nothing of
    // site-a and may not push into it.
    let dm = device(tmp.path(), &admin, &url, "dana", "site-a");
    match tern_sync::sync(open(&dm)) {
        Err(SyncError::Refused { code, .. }) => assert_eq!(code, protocol::ErrorCode::Forbidden),
        other => panic!(
            "a data manager's device synced: {:?}",
            other.map(|(_, r)| r)
        ),
    }
    let b = device(tmp.path(), &admin, &url, "other", "site-b");
    let r = sync(&b);
    assert_eq!(
        r.pulled_documents, 0,
        "{}: nothing of site-a reaches site-b",
        backend.name
    );
    // Site-b's device carries a change into site-a's record (forged scope).
    {
        let export = tmp.path().join("a.changes");
        open(&clin).export_changes(&export).expect("export");
        let mut bs = open(&b);
        bs.import_changes(&export).expect("import");
        bs.set_answer(&record, "temp_c", "39.0", None)
            .expect("edit");
    }
    match tern_sync::sync(open(&b)) {
        Err(SyncError::Refused { code, message }) => {
            assert_eq!(code, protocol::ErrorCode::Forbidden, "{message}");
            assert!(message.contains("nothing was stored"), "{message}");
        }
        other => panic!(
            "{}: a site-b device pushed into site-a: {:?}",
            backend.name,
            other.map(|(_, r)| r)
        ),
    }

    // A change by a local user with no server account is refused whole. (From
    // enrolment on the store refuses such a user; an account deleted on the server
    // later, stood in for here by a device list that still names it, or a tampered
    // device leave only the server's check.)
    let forged = device(tmp.path(), &admin, &url, "bilal", "site-a");
    {
        let mut s = open(&forged);
        assert!(
            s.add_user("mallory", Role::Clinician, PASSWORD).is_err(),
            "{}: from enrolment on, a name that is no account is refused on the device",
            backend.name
        );
        s.apply_accounts(
            1,
            &[
                ("bilal".into(), "screener".into()),
                ("mallory".into(), "clinician".into()),
            ],
        )
        .expect("a stale list");
        s.add_user("mallory", Role::Clinician, PASSWORD)
            .expect("an account as far as the device knows");
    }
    let bilal = || Store::open(&forged, Some("bilal"), PASSWORD).expect("bilal");
    tern_sync::sync(bilal()).expect("bilal syncs (nothing of mallory's yet)");
    assert!(
        bilal()
            .add_user("trudy", Role::Clinician, PASSWORD)
            .is_err(),
        "{}: after a sync, a name that is no account is refused on the device",
        backend.name
    );
    {
        let mut m = Store::open(&forged, Some("mallory"), PASSWORD).expect("mallory");
        let subject = m
            .add_subject(&[("sex".into(), "male".into())])
            .expect("subject");
        m.new_record("pda", &subject).expect("record");
        // Mallory never proved an account on this device: the device keeps her work,
        // and her proof is refused, naming her and what to do.
        match tern_sync::prove(&mut m, ACCOUNT_PASSWORD) {
            Err(SyncError::Refused { code, message }) => {
                assert_eq!(code, protocol::ErrorCode::Forbidden);
                assert!(message.contains("`mallory`"), "{message}");
                assert!(message.contains("nothing was stored"), "{message}");
                assert!(
                    message.contains("add the account `mallory` to site `site-a`"),
                    "{message}"
                );
            }
            other => panic!("forged author proven: {other:?}"),
        }
        match tern_sync::sync(m) {
            Ok((_, report)) => assert_eq!(report.pushed_changes, 0, "{report:?}"),
            Err(e) => panic!("the others' sync failed: {e}"),
        }
    }

    // Malformed, oversized and old-version frames: clear errors, nothing changes.
    let token = {
        let s = open(&clin);
        s.enrolment().expect("e").expect("enrolled").token
    };
    let sync_url = format!("{url}/v1/sync");
    let (s, body) = post_bytes(&sync_url, Some(&token), b"not a frame".to_vec());
    assert_eq!(
        (s, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
    let old = protocol::encode_version(
        &SyncRequest {
            cursor: 0,
            push: vec![],
            max_pull_bytes: 1024,
            accounts_version: 0,
        },
        0,
    )
    .expect("encode");
    let (s, body) = post_bytes(&sync_url, Some(&token), old);
    assert_eq!((s, body["code"].as_str()), (426, Some("upgrade")), "{body}");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("update tern")));
    let (s, _) = post_bytes(
        &sync_url,
        Some(&token),
        vec![0u8; protocol::MAX_BODY + 1024],
    );
    assert_eq!(s, 413, "oversized body");
    let (s, _) = post_bytes(&sync_url, None, b"x".to_vec());
    assert_eq!(s, 401);

    // A revoked device gets nothing and destroys its keys and database.
    let device_id = open(&clin).device().to_string();
    admin.revoke(&device_id).expect("revoke");
    let (s, body) = post_bytes(
        &sync_url,
        Some(&token),
        protocol::encode(&SyncRequest {
            cursor: 0,
            push: vec![],
            max_pull_bytes: 1024,
            accounts_version: 0,
        })
        .expect("enc"),
    );
    assert_eq!((s, body["code"].as_str()), (403, Some("revoked")));
    match tern_sync::sync(open(&clin)) {
        Err(SyncError::Revoked) => {}
        other => panic!("revoked device synced: {:?}", other.map(|(_, r)| r)),
    }
    assert!(!clin.exists(), "the database is gone");
    assert!(!tern_store::key_path(&clin).exists(), "the keys are gone");
    let listed = admin.devices().expect("list");
    assert!(listed.iter().any(|d| d.id == device_id && d.revoked));
    server.stop();
}

#[test]
fn authorization_matrix_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn authorization_matrix_on_postgres() {
    scenario(postgres());
}
