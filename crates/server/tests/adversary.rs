//! An attacker with an enrolled tablet (docs/security.md): each scenario failed on
//! the code before authors were bound to devices, enrolment asked for the account's
//! own password and the server set the site of pushed chunks itself.
//!
//! - A screener adds a clinician's name as a local user on their tablet and writes a
//!   TB diagnosis as her: the device keeps that work (the user is unproven), cannot
//!   open restricted sections, and a tampered device that pushes it anyway is refused.
//!   Once the clinician proves her account with her own password, her work travels.
//! - Enrolment codes: no password, a wrong password, an administrator's password for a
//!   clinician, a code naming another account, an expired and a reused code are all
//!   refused, and a refused attempt leaves the code usable by its rightful owner.
//! - Site labels: a change to a site-A record labelled site B is stored as site A (a
//!   site-B device never pulls it); a site-B device's change to a site-A record is
//!   refused.

use crate::common::*;
use automerge::transaction::Transactable;
use serde_bytes::ByteBuf;
use std::path::Path;
use tern_store::{Role, Store};
use tern_sync::protocol::{self, DocChanges, ErrorCode, Kind, SyncRequest};
use tern_sync::SyncError;

fn refused(result: Result<impl std::fmt::Debug, SyncError>, want: ErrorCode, what: &str) -> String {
    match result {
        Err(SyncError::Refused { code, message }) if code == want => message,
        other => panic!("{what}: expected a {want:?} refusal, got {other:?}"),
    }
}

/// Posts one raw push page with a device's token: `(status, error code)`.
fn push_raw(url: &str, token: &str, push: Vec<DocChanges>) -> (u16, Option<String>) {
    let body = protocol::encode(&SyncRequest {
        cursor: 0,
        push,
        max_pull_bytes: 1024,
        accounts_version: 0,
    })
    .expect("encode");
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header("content-type", protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .expect("post");
    let status = resp.status().as_u16();
    let v: serde_json::Value =
        serde_json::from_slice(&resp.bytes().expect("body")).unwrap_or_default();
    (status, v["code"].as_str().map(str::to_string))
}

fn token(db: &Path) -> String {
    open(db).enrolment().expect("e").expect("enrolled").token
}

fn open_as(db: &Path, user: &str, password: &str) -> Store {
    Store::open(db, Some(user), password).expect("open")
}

/// A screener's tablet, an impostor local user, and the real clinician's proof.
fn impersonation(url: &str, admin: &tern_server::admin::Admin, dir: &Path, name: &str) {
    let tablet = device(dir, admin, url, "bilal", "site-a");
    let record = synced_pda(&tablet);
    // The screener adds "amina" (a clinician on the server) with a password of their
    // own choosing: the account list gives the name its clinician role...
    open(&tablet)
        .add_user("amina", Role::Screener, "chosen-by-bilal")
        .expect("a local user may be added offline");
    let mut fake = open_as(&tablet, "amina", "chosen-by-bilal");
    assert_eq!(fake.role(), Role::Clinician, "{name}");
    assert!(!fake.is_proven().expect("proven"), "{name}: unproven");
    // ...but an unproven user opens no restricted section.
    assert!(
        fake.set_answer(&record, "hiv_offered", "true", None)
            .is_err(),
        "{name}: an unproven user wrote a restricted section"
    );
    fake.set_answer(&record, "tb_diagnosis", "pulmonary_tb", None)
        .expect("the impostor's work is kept on the device");
    let status = fake.sync_status().expect("status");
    assert_eq!(status.unproven_users, vec!["amina".to_string()], "{name}");
    drop(fake);

    // The device does not push the impostor's change; proving with the wrong
    // password (the one the screener chose) is refused.
    let (_, report) = tern_sync::sync(open_as(&tablet, "amina", "chosen-by-bilal")).expect("sync");
    assert_eq!(report.pushed_changes, 0, "{name}: {report:?}");
    let err = tern_sync::prove(
        &mut open_as(&tablet, "amina", "chosen-by-bilal"),
        "chosen-by-bilal",
    );
    refused(err, ErrorCode::Unauthorized, name);
    let amina = login(url, "amina");
    let v = server_view(url, &amina, &record);
    assert!(
        v["data"]["answers"]["tb_diagnosis"].is_null(),
        "{name}: {v}"
    );

    // A tampered device marks the impostor proven and pushes: the server refuses the
    // whole page, stores nothing.
    open_as(&tablet, "amina", "chosen-by-bilal")
        .set_proven("clinician")
        .expect("a tampered store");
    let err = tern_sync::sync(open_as(&tablet, "amina", "chosen-by-bilal")).map(|(_, r)| r);
    let message = refused(err, ErrorCode::Forbidden, name);
    assert!(
        message.contains("has not proven the account"),
        "{name}: {message}"
    );
    let v = server_view(url, &amina, &record);
    assert!(
        v["data"]["answers"]["tb_diagnosis"].is_null(),
        "{name}: {v}"
    );
    assert_eq!(
        tern_sync::sync(open(&other_site_device(admin, url, dir)))
            .expect("sync")
            .1
            .pulled_documents,
        0,
        "{name}: nothing of site-a reaches site-b"
    );

    // The real clinician on her own tablet: a new local user proves her account with
    // her own password; her work is pushed from then on.
    let shared = device(dir, admin, url, "chen", "site-a");
    open(&shared)
        .add_user("amina", Role::Screener, PASSWORD)
        .expect("add");
    let mut real = open_as(&shared, "amina", PASSWORD);
    tern_sync::sync(open_as(&shared, "amina", PASSWORD)).expect("first pull");
    real.refresh_user().expect("refresh");
    real.set_answer(&record, "temp_c", "38.2", None)
        .expect("work");
    drop(real);
    let (_, held) = tern_sync::sync(open_as(&shared, "amina", PASSWORD)).expect("sync");
    assert_eq!(held.pushed_changes, 0, "{name}: held before the proof");
    let mut real = open_as(&shared, "amina", PASSWORD);
    tern_sync::prove(&mut real, ACCOUNT_PASSWORD).expect("her own password proves her");
    assert!(real.is_proven().expect("p"), "{name}");
    // Restricted sections are sealed to the tablet's restricted key, which chen's
    // enrolment escrowed with the server: the answer to her proof carries it, sealed to
    // her own key, so she opens them at once, with no key holder signing in
    // (docs/security.md, "Restricted sections sealed on the device").
    real.set_answer(&record, "hiv_offered", "true", None)
        .expect("a proven clinician opens restricted sections right after her proof");
    drop(real);
    let (_, sent) = tern_sync::sync(open_as(&shared, "amina", PASSWORD)).expect("sync");
    assert!(sent.pushed_changes >= 2, "{name}: {sent:?}");
    for _ in 0..200 {
        let v = server_view(url, &amina, &record);
        if v["data"]["answers"]["temp_c"] == serde_json::json!(38.2) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{name}: the proven clinician's work never reached the server");
}

fn other_site_device(
    admin: &tern_server::admin::Admin,
    url: &str,
    dir: &Path,
) -> std::path::PathBuf {
    device(dir, admin, url, "other", "site-b")
}

/// Enrolment codes ask for the account's own password, once.
fn codes(url: &str, admin: &tern_server::admin::Admin, dir: &Path, name: &str) {
    let db = dir.join("codes.db");
    let mut s = Store::init(&db, "chen", Role::Screener, PASSWORD, "site-a").expect("init");
    let code = admin.enrolment_code("site-a", None).expect("code");
    for (password, why) in [
        ("", "no password"),
        ("not-his-password", "a wrong password"),
        (PASSWORD, "the device password, not the account's"),
    ] {
        let err = tern_sync::enrol(&mut s, url, &code, password);
        let want = ErrorCode::Unauthorized;
        refused(err, want, &format!("{name}: {why}"));
        assert!(s.enrolment().expect("e").is_none(), "{name}: {why}");
    }
    // An administrator's password does not stand in for the supervisor's.
    let mut as_root = Store::init(
        &dir.join("root.db"),
        "chen",
        Role::Screener,
        PASSWORD,
        "site-a",
    )
    .expect("init");
    refused(
        tern_sync::enrol(&mut as_root, url, &code, ROOT_PASSWORD),
        ErrorCode::Unauthorized,
        name,
    );
    // A code naming an account enrols only that account.
    let hers = admin.enrolment_code("site-a", Some("amina")).expect("code");
    let mut bilal = Store::init(
        &dir.join("bilal.db"),
        "bilal",
        Role::Screener,
        PASSWORD,
        "site-a",
    )
    .expect("init");
    let message = refused(
        tern_sync::enrol(&mut bilal, url, &hers, ACCOUNT_PASSWORD),
        ErrorCode::Forbidden,
        name,
    );
    assert!(message.contains("`amina`"), "{name}: {message}");
    // The rightful owner's password enrols with the code the attempts left valid.
    let e = tern_sync::enrol(&mut s, url, &code, ACCOUNT_PASSWORD).expect("enrol");
    assert_eq!(
        (e.account.as_str(), e.role.as_str()),
        ("chen", "supervisor")
    );
    assert!(
        s.is_proven().expect("p"),
        "{name}: the enrolling user is proven"
    );
    // Single use.
    let message = refused(
        tern_sync::enrol(&mut bilal, url, &code, ACCOUNT_PASSWORD),
        ErrorCode::Forbidden,
        name,
    );
    assert!(message.contains("already used"), "{name}: {message}");
    // Expiry.
    let short = admin.enrolment_code_valid("site-a", None, 1).expect("code");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let message = refused(
        tern_sync::enrol(&mut bilal, url, &short, ACCOUNT_PASSWORD),
        ErrorCode::Forbidden,
        name,
    );
    assert!(message.contains("expired"), "{name}: {message}");
}

/// The site of a pushed chunk is the server's, never the pusher's label.
fn site_labels(url: &str, admin: &tern_server::admin::Admin, dir: &Path, name: &str) {
    let a = device(dir, admin, url, "amina", "site-a");
    let record = synced_pda(&a);
    let clinician = login(url, "amina");
    server_view(url, &clinician, &record);
    // A later change of the site-a record, labelled site-b by the pusher.
    open(&a)
        .set_answer(&record, "temp_c", "36.9", None)
        .expect("answer");
    let page = open(&a).pending_changes(0, 1 << 20).expect("page");
    let chunk = page
        .chunks
        .iter()
        .find(|c| c.doc_id == record)
        .expect("the change");
    let (status, code) = push_raw(
        url,
        &token(&a),
        vec![DocChanges {
            doc: record.clone(),
            kind: Kind::Record,
            site: "site-b".into(),
            changes: vec![ByteBuf::from(chunk.bytes.clone())],
            summary: None,
        }],
    );
    assert_eq!((status, code), (200, None), "{name}: stored, as site-a");
    for _ in 0..200 {
        if server_view(url, &clinician, &record)["data"]["answers"]["temp_c"]
            == serde_json::json!(36.9)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let b = other_site_device(admin, url, dir);
    let (_, report) = tern_sync::sync(open(&b)).expect("sync b");
    assert_eq!(
        report.pulled_documents, 0,
        "{name}: a site-b device pulled a site-a record: {report:?}"
    );

    // The other direction: a site-b device pushes a change of its own into the
    // site-a record, labelled site-b: refused, nothing stored.
    let b_device = open(&b).device().to_string();
    let mut doc = automerge::AutoCommit::new();
    doc.set_actor(automerge::ActorId::from(
        format!("tern:{b_device}:other").into_bytes(),
    ));
    doc.put(automerge::ROOT, "site", "site-b").expect("put");
    let change = doc
        .get_last_local_change()
        .expect("change")
        .raw_bytes()
        .to_vec();
    let (status, code) = push_raw(
        url,
        &token(&b),
        vec![DocChanges {
            doc: record.clone(),
            kind: Kind::Record,
            site: "site-b".into(),
            changes: vec![ByteBuf::from(change)],
            summary: None,
        }],
    );
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("forbidden")),
        "{name}: a site-b device wrote into a site-a record"
    );
}

const ROOT_PASSWORD: &str = "root-pass-1";

/// POSTs JSON with a device's token: `(status, error code)`.
fn post_json(url: &str, token: &str, body: serde_json::Value) -> (u16, Option<String>) {
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .expect("post");
    let status = resp.status().as_u16();
    let v: serde_json::Value =
        serde_json::from_slice(&resp.bytes().expect("body")).unwrap_or_default();
    (status, v["code"].as_str().map(str::to_string))
}

/// The supervisor-hub endpoints: only a device of a supervisor's account acts as a
/// hub; a hub cannot claim a device this server enrolled itself, nor revoke it, unless
/// an account that proved itself on that device proves itself again through the hub
/// (the device joins its team's hub, issue 15).
fn hub_endpoints(url: &str, admin: &tern_server::admin::Admin, dir: &Path, name: &str) {
    let screener = device(dir, admin, url, "bilal", "site-a");
    let direct = device(dir, admin, url, "amina", "site-a");
    let direct_id = open(&direct).device().to_string();
    let prove_as = |token: &str, device: &str, account: &str| {
        post_json(
            &format!("{url}/v1/hub/prove"),
            token,
            serde_json::json!({"device": device, "account": account, "password": ACCOUNT_PASSWORD}),
        )
    };
    let prove = |token: &str, device: &str| prove_as(token, device, "amina");
    let forbidden = (403, Some("forbidden".to_string()));
    assert_eq!(
        prove(&token(&screener), "field-tablet-1"),
        forbidden,
        "{name}"
    );
    assert_eq!(
        post_json(
            &format!("{url}/v1/hub/devices"),
            &token(&screener),
            serde_json::json!({"devices": [[direct_id.clone(), true]]}),
        ),
        forbidden,
        "{name}: a screener's device revoked another device"
    );
    let hub = device(dir, admin, url, "chen", "site-a");
    // bilal never proved himself on amina's tablet: his password claims nothing.
    assert_eq!(
        prove_as(&token(&hub), &direct_id, "bilal"),
        forbidden,
        "{name}: a hub adopted a device by naming its id"
    );
    assert_eq!(
        post_json(
            &format!("{url}/v1/hub/devices"),
            &token(&hub),
            serde_json::json!({"devices": [[direct_id.clone(), true]]}),
        )
        .0,
        200,
        "{name}"
    );
    let listed = admin.devices().expect("devices");
    let d = listed.iter().find(|d| d.id == direct_id).expect("listed");
    assert!(
        !d.revoked && d.via_hub.is_none(),
        "{name}: a hub took over or revoked a device it does not hold: {d:?}"
    );
    // amina, who enrolled her tablet here, proves herself through the hub: her tablet
    // joins the hub, and keeps its own enrolment here.
    assert_eq!(prove(&token(&hub), &direct_id).0, 200, "{name}");
    let hub_id = open(&hub).device().to_string();
    let listed = admin.devices().expect("devices");
    let d = listed.iter().find(|d| d.id == direct_id).expect("listed");
    assert!(
        !d.revoked && d.via_hub.as_deref() == Some(hub_id.as_str()),
        "{name}: {d:?}"
    );
    tern_sync::sync(open(&direct)).expect("the tablet still syncs here with its own token");
    // Its own device: registered through it, the account bound.
    assert_eq!(prove(&token(&hub), "field-tablet-1").0, 200, "{name}");
    let listed = admin.devices().expect("devices");
    assert!(
        listed
            .iter()
            .any(|d| d.id == "field-tablet-1" && d.via_hub.as_deref() == Some(hub_id.as_str())),
        "{name}"
    );
}

fn scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let admin = accounts(&backend.storage);
    // An administrator with a password of their own.
    admin
        .add_user("root2", "admin", ROOT_PASSWORD, &["site-a".to_string()])
        .expect("admin");
    let url = server.url();
    let tmp = tempfile::tempdir().expect("tmp");
    impersonation(&url, &admin, tmp.path(), backend.name);
    codes(&url, &admin, tmp.path(), backend.name);
    site_labels(&url, &admin, tmp.path(), backend.name);
    server.stop();
}

#[test]
fn an_enrolled_tablet_cannot_act_as_another_account_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn an_enrolled_tablet_cannot_act_as_another_account_on_postgres() {
    scenario(postgres());
}

/// Apart from the scenario above, whose sign-ins and enrolments use up the per-address
/// attempt limit of its server.
fn hub_scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let admin = accounts(&backend.storage);
    let tmp = tempfile::tempdir().expect("tmp");
    hub_endpoints(&server.url(), &admin, tmp.path(), backend.name);
    server.stop();
}

#[test]
fn only_a_supervisors_device_acts_as_a_hub_on_sqlite() {
    hub_scenario(sqlite());
}

#[test]
fn only_a_supervisors_device_acts_as_a_hub_on_postgres() {
    hub_scenario(postgres());
}
