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
        hiv_record(&mut s)
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

#[test]
fn a_shared_tablet_seals_restricted_sections_on_postgres() {
    scenario(postgres());
}

/// The device's restricted public key as its database holds it (hex), read with the
/// data key of `user`.
fn restricted_public(db: &Path, user: &str) -> Option<String> {
    let key = tern_store::database_key(db, user, PASSWORD).expect("data key");
    let conn = rusqlite::Connection::open(db).expect("raw");
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.as_str()))
        .expect("key");
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'restricted_public'",
        [],
        |r| r.get(0),
    )
    .ok()
}

fn token_of(db: &Path, user: &str) -> String {
    open_as(db, user)
        .enrolment()
        .expect("enrolment")
        .expect("enrolled")
        .token
}

/// A user's X25519 key pair as a test client makes it: (public hex, secret).
fn key_pair() -> (String, crypto_box::SecretKey) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("random");
    let secret = crypto_box::SecretKey::from(bytes);
    (hex::encode(secret.public_key().as_bytes()), secret)
}

/// `POST /v1/device/accounts` as a client sends it, with the user's public key.
fn prove_http(url: &str, token: &str, account: &str, public: &str) -> (u16, serde_json::Value) {
    post(
        url,
        "/v1/device/accounts",
        token,
        serde_json::json!({"account": account, "password": ACCOUNT_PASSWORD,
                           "public_key": public}),
    )
}

/// The restricted secret key in a proof's answer, opened with the user's secret key;
/// its public key (hex).
fn granted_public(answer: &serde_json::Value, user: &crypto_box::SecretKey) -> Option<String> {
    let sealed = hex::decode(answer["restricted_key"].as_str()?).expect("hex");
    let plain = user.unseal(&sealed).expect("sealed to the user's key");
    let bytes: [u8; 32] = plain.as_slice().try_into().expect("32 bytes");
    Some(hex::encode(
        crypto_box::SecretKey::from(bytes).public_key().as_bytes(),
    ))
}

/// `account`'s proof on the device at `db` with a new key pair of theirs: must
/// succeed; the public key of the restricted key it brings, if any.
fn proof_grants(url: &str, db: &Path, account: &str, name: &str) -> Option<String> {
    let (public, secret) = key_pair();
    let (status, answer) = prove_http(url, &token_of(db, account), account, &public);
    assert_eq!(status, 200, "{name}: {answer}");
    granted_public(&answer, &secret)
}

fn escrow_http(
    url: &str,
    token: &str,
    public: &str,
    secret: &crypto_box::SecretKey,
) -> (u16, serde_json::Value) {
    post(
        url,
        "/v1/device/restricted-key",
        token,
        serde_json::json!({"public": public, "secret": hex::encode(secret.to_bytes())}),
    )
}

/// Issue 12's gap closed: the device escrows its restricted key with the server, and
/// a clinician proven after the first key holder receives it with her proof, so she
/// opens restricted sections at once with no holder signing in.
fn escrow(backend: Backend) {
    let name = backend.name;
    let server = TestServer::start(&backend.storage);
    let url = server.url();
    let admin = accounts(&backend.storage);
    admin
        .add_user(
            "zara",
            "clinician",
            ACCOUNT_PASSWORD,
            &["site-a".to_string()],
        )
        .expect("zara");
    let dir = tempfile::tempdir().expect("tmp");

    // Tablet A, enrolled by a clinician: her enrolment made the restricted key and
    // escrowed it.
    let tablet = device(dir.path(), &admin, &url, "amina", "site-a");
    {
        let mut amina = open_as(&tablet, "amina");
        assert!(amina.restricted_sealed(), "{name}");
        assert!(
            amina.restricted_key_to_escrow().expect("escrow").is_none(),
            "{name}: escrowed at enrolment"
        );
        amina
            .add_user("zara", Role::Clinician, PASSWORD)
            .expect("zara");
        amina
            .add_user("bilal", Role::Screener, PASSWORD)
            .expect("bilal");
    }
    let tablet_key = restricted_public(&tablet, "amina").expect("A's key");
    let record = {
        let mut s = open_as(&tablet, "amina");
        hiv_record(&mut s)
    };

    // A second clinician proves after the key holder: her proof brings the key, she
    // reads and writes restricted sections at once; amina never signs in again.
    let mut zara = open_as(&tablet, "zara");
    assert_eq!(lab_id(&mut zara, &record), None, "{name}: before her proof");
    tern_sync::prove(&mut zara, ACCOUNT_PASSWORD).expect("her proof");
    assert_eq!(
        lab_id(&mut zara, &record).as_deref(),
        Some(MARKER),
        "{name}: right after her proof"
    );
    zara.set_answer(&record, "hiv_lab_id", &format!("{MARKER}-A"), None)
        .expect("she writes restricted sections");
    drop(zara);
    let mut zara = open_as(&tablet, "zara");
    assert_eq!(
        lab_id(&mut zara, &record).as_deref(),
        Some(format!("{MARKER}-A").as_str()),
        "{name}: kept as her grant"
    );
    drop(zara);

    // The screener's proof brings no key: not in the store, not in the answer.
    let mut bilal = open_as(&tablet, "bilal");
    tern_sync::prove(&mut bilal, ACCOUNT_PASSWORD).expect("his proof");
    assert_eq!(lab_id(&mut bilal, &record), None, "{name}");
    drop(bilal);
    let (bilal_public, _) = key_pair();
    let (status, answer) = prove_http(&url, &token_of(&tablet, "bilal"), "bilal", &bilal_public);
    assert_eq!(status, 200, "{name}: {answer}");
    assert!(answer["restricted_key"].is_null(), "{name}: {answer}");
    for b in raw_twin_blobs(&tablet, "bilal") {
        assert!(
            !contains(&b, MARKER),
            "{name}: in the clear for the screener"
        );
    }
    // A public key that is no key refuses the proof before anything happens.
    let (status, answer) = prove_http(&url, &token_of(&tablet, "zara"), "zara", "zz");
    assert_eq!(status, 400, "{name}: {answer}");
    // Her proof on tablet A, asked again: A's own key, sealed to the key sent.
    assert_eq!(
        proof_grants(&url, &tablet, "zara", name).as_deref(),
        Some(tablet_key.as_str()),
        "{name}"
    );

    // Tablet B, enrolled by a screener: no restricted key, nothing escrowed. A
    // clinician's proof succeeds and brings no key (never A's).
    let other = device(dir.path(), &admin, &url, "bilal", "site-a");
    open_as(&other, "bilal")
        .add_user("amina", Role::Clinician, PASSWORD)
        .expect("amina on B");
    open_as(&other, "bilal")
        .add_user("zara", Role::Clinician, PASSWORD)
        .expect("zara on B");
    assert!(restricted_public(&other, "bilal").is_none(), "{name}");
    let (public, _) = key_pair();
    let (status, answer) = prove_http(&url, &token_of(&other, "amina"), "amina", &public);
    assert_eq!(status, 200, "{name}: {answer}");
    assert!(
        answer["restricted_key"].is_null(),
        "{name}: B escrowed nothing, and A's key is not B's: {answer}"
    );
    // Her proof with the real client makes B's key and escrows it; zara, proven
    // next, gets B's key, never A's.
    let mut amina = open_as(&other, "amina");
    amina.refresh_user().expect("refresh");
    tern_sync::prove(&mut amina, ACCOUNT_PASSWORD).expect("proven again");
    assert!(amina.restricted_sealed(), "{name}");
    drop(amina);
    let other_key = restricted_public(&other, "bilal").expect("B's key");
    assert_ne!(other_key, tablet_key, "{name}");
    assert_eq!(
        proof_grants(&url, &other, "zara", name).as_deref(),
        Some(other_key.as_str()),
        "{name}: B's own key"
    );

    // A device that sealed before escrow existed (an older client proved its
    // supervisor, no public key sent, nothing escrowed) escrows at its next sync.
    let older = device(dir.path(), &admin, &url, "bilal", "site-a");
    open_as(&older, "bilal")
        .add_user("chen", Role::Supervisor, PASSWORD)
        .expect("chen on C");
    open_as(&older, "bilal")
        .add_user("amina", Role::Clinician, PASSWORD)
        .expect("amina on C");
    let (status, answer) = post(
        &url,
        "/v1/device/accounts",
        &token_of(&older, "chen"),
        serde_json::json!({"account": "chen", "password": ACCOUNT_PASSWORD}),
    );
    assert_eq!(status, 200, "{name}: {answer}");
    assert!(answer["restricted_key"].is_null(), "{name}: {answer}");
    let mut chen = open_as(&older, "chen");
    chen.set_proven("supervisor")
        .expect("as an older client does");
    assert!(
        chen.restricted_key_to_escrow().expect("e").is_some(),
        "{name}"
    );
    let (chen, _) = tern_sync::sync(chen).expect("chen's sync escrows");
    assert!(
        chen.restricted_key_to_escrow().expect("e").is_none(),
        "{name}"
    );
    drop(chen);
    let mut amina = open_as(&older, "amina");
    tern_sync::prove(&mut amina, ACCOUNT_PASSWORD).expect("her proof");
    assert!(
        amina.restricted_key_to_escrow().expect("e").is_none() && !amina.awaits_restricted_key(),
        "{name}: she holds C's key"
    );
    drop(amina);

    // Who may escrow: only a device, once per key.
    let older_token = token_of(&older, "chen");
    let (public, secret) = key_pair();
    let (status, answer) = escrow_http(&url, &older_token, &public, &secret);
    assert_eq!(status, 409, "{name}: another key for C: {answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("never changes")),
        "{name}: {answer}"
    );
    let fresh = device(dir.path(), &admin, &url, "bilal", "site-a");
    let fresh_token = token_of(&fresh, "bilal");
    let (mismatched, _) = key_pair();
    assert_eq!(
        escrow_http(&url, &fresh_token, &mismatched, &secret).0,
        400,
        "{name}: a public key that is not the secret key's"
    );
    assert_eq!(
        escrow_http(&url, &fresh_token, &public, &secret).0,
        200,
        "{name}"
    );
    assert_eq!(
        escrow_http(&url, &fresh_token, &public, &secret).0,
        200,
        "{name}: the same key again"
    );
    let (second, second_secret) = key_pair();
    assert_eq!(
        escrow_http(&url, &fresh_token, &second, &second_secret).0,
        409,
        "{name}"
    );
    let session = login(&url, "amina");
    assert_eq!(
        escrow_http(&url, &session, &second, &second_secret).0,
        403,
        "{name}: a signed-in account is no device"
    );

    // A revoked device gets nothing: neither escrow nor a key with a proof.
    let fresh_id = open_as(&fresh, "bilal").device().to_string();
    admin.revoke(&fresh_id).expect("revoke");
    let (status, answer) = escrow_http(&url, &fresh_token, &public, &secret);
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("revoked")),
        "{name}"
    );
    let (user_public, _) = key_pair();
    let (status, answer) = post(
        &url,
        "/v1/device/accounts",
        &fresh_token,
        serde_json::json!({"account": "chen", "password": ACCOUNT_PASSWORD,
                           "public_key": user_public}),
    );
    assert_eq!(status, 403, "{name}: {answer}");
    assert!(answer["restricted_key"].is_null(), "{name}: {answer}");
    server.stop();
}

#[test]
fn a_clinician_proven_later_gets_the_escrowed_key_on_sqlite() {
    escrow(sqlite());
}

#[test]
fn a_clinician_proven_later_gets_the_escrowed_key_on_postgres() {
    escrow(postgres());
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
    let record = synced_pda(&tablet);
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

/// A new record whose restricted HIV section holds [`MARKER`] as its lab id.
fn hiv_record(s: &mut Store) -> String {
    let record = new_pda(s);
    for (field, value) in [
        ("hiv_offered", "true"),
        ("hiv_accepted", "true"),
        ("hiv_lab_id", MARKER),
    ] {
        s.set_answer(&record, field, value, None).expect(field);
    }
    record
}
