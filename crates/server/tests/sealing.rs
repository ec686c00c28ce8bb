//! Restricted sections sealed on a shared tablet (issue 12, docs/security.md): the
//! data key opens the device's database, but only a proven clinician or supervisor
//! holds the key of its restricted twins. On a tablet enrolled by a clinician and
//! shared with a screener:
//! - the screener's sync pushes their work while the clinician's restricted changes
//!   wait for her, and never blocks on them;
//! - her next sync pushes them, and the server has them;
//! - restricted changes the screener's session pulls (written on her other device)
//!   are sealed as they arrive: the screener reads nothing of them, in the app or in
//!   the SQLite file with the data key; she reads them at her next session.

use crate::common::*;
use std::path::Path;
use tern_store::{Role, Store};

const MARKER: &str = "LAB-SEALED-4711";

fn open_as(db: &Path, user: &str) -> Store {
    Store::open(db, Some(user), PASSWORD).expect("open")
}

fn lab_id(s: &mut Store, record: &str) -> Option<String> {
    s.show(record)
        .expect("show")
        .answers
        .get("hiv_lab_id")
        .and_then(|v| v.as_str().map(str::to_string))
}

/// Every blob of the restricted twins in the device's database, read with the data
/// key of `user` as any SQLCipher client could.
fn raw_twin_blobs(db: &Path, user: &str) -> Vec<Vec<u8>> {
    let key = tern_store::database_key(db, user, PASSWORD).expect("data key");
    let conn = rusqlite::Connection::open(db).expect("raw");
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.as_str()))
        .expect("key");
    let mut out = Vec::new();
    for sql in [
        "SELECT snapshot FROM docs WHERE kind = 'restricted' AND snapshot IS NOT NULL",
        "SELECT bytes FROM changes WHERE doc_id LIKE '%.restricted'",
    ] {
        let mut stmt = conn.prepare(sql).expect("sql");
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .expect("rows");
        out.extend(rows.map(|r| r.expect("row")));
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn scenario(backend: Backend) {
    let name = backend.name;
    let server = TestServer::start(&backend.storage);
    let url = server.url();
    let admin = accounts(&backend.storage);
    let dir = tempfile::tempdir().expect("tmp");
    // The shared tablet, enrolled by the clinician; the screener added in her session.
    let tablet = device(dir.path(), &admin, &url, "amina", "site-a");
    open_as(&tablet, "amina")
        .add_user("bilal", Role::Screener, PASSWORD)
        .expect("bilal");
    // Her second tablet.
    let other = device(dir.path(), &admin, &url, "amina", "site-a");

    let record = {
        let mut s = open_as(&tablet, "amina");
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let record = s.new_record("pda", &subject).expect("record");
        for (field, value) in [
            ("hiv_offered", "true"),
            ("hiv_accepted", "true"),
            ("hiv_lab_id", MARKER),
        ] {
            s.set_answer(&record, field, value, None).expect(field);
        }
        record
    };

    // The screener proves his account and syncs: his work and the record leave, her
    // restricted changes wait (he cannot read them) and the sync completes.
    let mut bilal = open_as(&tablet, "bilal");
    tern_sync::prove(&mut bilal, ACCOUNT_PASSWORD).expect("prove");
    bilal
        .set_answer(&record, "weight_kg", "61", None)
        .expect("his work");
    assert_eq!(lab_id(&mut bilal, &record), None, "{name}");
    let (bilal, report) = tern_sync::sync(bilal).expect("a screener's sync");
    assert!(report.pushed_changes > 0, "{name}: {report:?}");
    assert!(bilal.sealed_waiting_count().expect("waiting") > 0, "{name}");
    assert_eq!(
        bilal.sync_status().expect("status").pending_changes,
        bilal.sealed_waiting_count().expect("w"),
        "{name}"
    );
    drop(bilal);
    let token = login(&url, "amina");
    let v = wait_for_answer(&url, &token, &record, "weight_kg");
    assert!(
        v["restricted"]["answers"]["hiv_lab_id"].is_null(),
        "{name}: {v}"
    );

    // Her next sync pushes them.
    let (amina, report) = tern_sync::sync(open_as(&tablet, "amina")).expect("her sync");
    assert!(report.pushed_changes > 0, "{name}: {report:?}");
    assert_eq!(amina.sealed_waiting_count().expect("waiting"), 0, "{name}");
    drop(amina);
    let v = wait_for_restricted(&url, &token, &record, MARKER);
    assert!(!v["answers"]["weight_kg"].is_null(), "{name}: {v}");

    // On her other tablet she changes the lab id; the screener's session pulls it.
    tern_sync::sync(open(&other)).expect("other pulls");
    let mut s = open(&other);
    s.set_answer(&record, "hiv_lab_id", &format!("{MARKER}-B"), None)
        .expect("her change");
    tern_sync::sync(s).expect("other pushes");
    wait_for_restricted(&url, &token, &record, &format!("{MARKER}-B"));
    let (mut bilal, report) = tern_sync::sync(open_as(&tablet, "bilal")).expect("pull");
    assert!(report.pulled_changes > 0, "{name}: {report:?}");
    assert_eq!(lab_id(&mut bilal, &record), None, "{name}");
    drop(bilal);
    let blobs = raw_twin_blobs(&tablet, "bilal");
    assert!(!blobs.is_empty(), "{name}");
    for b in &blobs {
        assert!(
            !contains(b, MARKER),
            "{name}: a restricted answer in the file"
        );
        assert!(automerge::Change::from_bytes(b.clone()).is_err(), "{name}");
    }
    // The clinician's next session reads the pulled change.
    let mut amina = open_as(&tablet, "amina");
    assert_eq!(
        lab_id(&mut amina, &record).as_deref(),
        Some(format!("{MARKER}-B").as_str()),
        "{name}"
    );
}

/// The server's record view once `field` has an answer (the verifier runs after the
/// acknowledgement).
fn wait_for_answer(url: &str, token: &str, record: &str, field: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v = server_view(url, token, record);
        if !v["data"]["answers"][field].is_null() {
            return v["data"].clone();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{field} never reached the server view of {record}");
}

fn wait_for_restricted(url: &str, token: &str, record: &str, want: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v = server_view(url, token, record);
        if v["data"]["restricted"]["answers"]["hiv_lab_id"] == serde_json::json!(want) {
            return v["data"].clone();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the restricted answer never reached the server view of {record}");
}

#[test]
fn a_shared_tablet_seals_restricted_sections_on_sqlite() {
    scenario(sqlite());
}

/// A revoked device keeps the work the server never received in an encrypted file
/// before it destroys its keys and database; a local user's password opens it.
fn revoked(backend: Backend) {
    let name = backend.name;
    let server = TestServer::start(&backend.storage);
    let url = server.url();
    let admin = accounts(&backend.storage);
    let dir = tempfile::tempdir().expect("tmp");
    let tablet = device(dir.path(), &admin, &url, "amina", "site-a");
    let record = {
        let mut s = open(&tablet);
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        s.new_record("pda", &subject).expect("record")
    };
    sync(&tablet);
    let mut s = open(&tablet);
    s.set_answer(&record, "temp_c", "38.7", None)
        .expect("synced later");
    for (field, value) in [
        ("hiv_offered", "true"),
        ("hiv_accepted", "true"),
        ("hiv_lab_id", MARKER),
    ] {
        s.set_answer(&record, field, value, None).expect(field);
    }
    let device_id = s.device().to_string();
    drop(s);
    admin.revoke(&device_id).expect("revoke");
    match tern_sync::sync(open(&tablet)) {
        Err(tern_sync::SyncError::Revoked) => {}
        other => panic!("{name}: {:?}", other.map(|(_, r)| r)),
    }
    assert!(
        !tablet.exists() && !tern_store::key_path(&tablet).exists(),
        "{name}"
    );
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".unsynced-"))
        .collect();
    assert_eq!(kept.len(), 1, "{name}: {kept:?}");
    let bytes = std::fs::read(&kept[0]).expect("read");
    assert!(
        !contains(&bytes, MARKER) && !contains(&bytes, "38.7"),
        "{name}: encrypted"
    );
    assert!(
        tern_store::recover_unsynced(&kept[0], "amina", "wrong-pass-9", &dir.path().join("x"))
            .is_err()
    );

    // The programme opens it with the user's password and reads the work.
    let out = dir.path().join("recovered.tern");
    let (docs, left_out) =
        tern_store::recover_unsynced(&kept[0], "amina", PASSWORD, &out).expect("recover");
    assert!(docs >= 2 && left_out == 0, "{name}: {docs} {left_out}");
    let text = std::fs::read(&out).expect("change file");
    let nl = text.iter().position(|&b| b == b'\n').expect("header");
    let body: serde_json::Value = serde_json::from_slice(&text[nl + 1..]).expect("body");
    let answers = |id: &str| {
        let doc = body["docs"]
            .as_array()
            .expect("docs")
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("{name}: {id} not kept"));
        let chunks = doc["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|c| hex::decode(c.as_str().expect("hex")).expect("hex"));
        tern_store::document_answers(&tern_store::load_chunks(chunks).expect("load"))
    };
    assert_eq!(
        answers(&format!("{record}.restricted"))["answers"]["hiv_lab_id"],
        serde_json::json!(MARKER),
        "{name}"
    );
    assert!(!answers(&record)["answers"]["temp_c"].is_null(), "{name}");
}

#[test]
fn a_revoked_device_keeps_its_unsynced_work_encrypted_on_sqlite() {
    revoked(sqlite());
}
