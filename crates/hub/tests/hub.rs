//! A field team with its supervisor's hub (docs/hub.md), all on 127.0.0.1: an upstream
//! server, a hub set up from it, and device stores enrolled with the hub.
//!
//! - Devices enrol with the hub while it is online (the upstream checks passwords) and
//!   pin its certificate: a code with another fingerprint is refused.
//! - With the upstream down, the team syncs with the hub; concurrent edits converge
//!   with their conflict; the hub syncs up once the upstream is back, and a device of
//!   the upstream gets the team's records with the conflict kept.
//! - A forged change pushed to the hub is quarantined there and never reaches upstream.
//! - A device revoked upstream is refused by the hub after the hub's next sync.
//! - A stolen hub folder does not open without the passphrase; a hub revoked upstream
//!   destroys its keys and database.

#[path = "../../server/tests/pg.rs"]
mod pg;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tern_hub::{Hub, HubError};
use tern_server::admin::Admin;
use tern_server::{Running, ServeConfig, Storage};
use tern_store::{Role, Store};
use tern_sync::SyncError;

const PASSWORD: &str = "device-pass-1";
const ACCOUNT_PASSWORD: &str = "account-pass-1";

struct Served {
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
}

impl Served {
    fn start(config: ServeConfig) -> Served {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let running = rt
            .block_on(tern_server::start(config))
            .expect("server starts");
        Served {
            rt,
            running: Some(running),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.as_ref().expect("running").addr
    }

    fn stop(mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown());
        }
    }
}

fn upstream_config(storage: &Storage, listen: SocketAddr) -> ServeConfig {
    ServeConfig {
        storage: storage.clone(),
        listen,
        tls: None,
        demo: false,
        dashboard: None,
        upstream: None,
        tls_pem: None,
        limits: Default::default(),
    }
}

fn accounts(admin: &Admin) {
    admin.add_site("site-a").expect("site");
    let a = vec!["site-a".to_string()];
    for (name, role) in [
        ("chen", "supervisor"),
        ("bilal", "screener"),
        ("amina", "clinician"),
    ] {
        admin
            .add_user(name, role, ACCOUNT_PASSWORD, &a)
            .expect("user");
    }
}

fn device(dir: &Path, user: &str, url: &str, code: &str) -> PathBuf {
    let db = dir.join(format!("{user}-{}.db", code.len() + user.len()));
    let db = if db.exists() {
        dir.join(format!("{user}-2.db"))
    } else {
        db
    };
    let mut s = Store::init(&db, user, Role::Screener, PASSWORD, "site-a").expect("init");
    tern_sync::enrol(&mut s, url, code, ACCOUNT_PASSWORD).expect("enrol with the hub");
    db
}

/// Signs in to the hub's API (its self-signed certificate accepted for the test):
/// the status.
fn hub_login(url: &str, user: &str, password: &str) -> u16 {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client")
        .post(format!("{url}/v1/login"))
        .body(serde_json::json!({"user": user, "password": password}).to_string())
        .send()
        .expect("login")
        .status()
        .as_u16()
}

fn open(db: &Path) -> Store {
    Store::open(db, None, PASSWORD).expect("open")
}

fn sync(db: &Path) -> tern_sync::SyncReport {
    tern_sync::sync(open(db)).expect("sync").1
}

/// Syncs `db` until `check` holds (the other side verifies after acknowledging).
fn sync_until(db: &Path, what: &str, check: impl Fn(&mut Store) -> bool) {
    for _ in 0..100 {
        sync(db);
        if check(&mut open(db)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{what}: never happened");
}

#[test]
fn a_team_syncs_with_its_hub_offline_and_the_hub_syncs_up() {
    let tmp = tempfile::tempdir().expect("tmp");
    scenario(&Storage::Dir(tmp.path().join("upstream")));
}

#[test]
fn a_hub_syncs_up_to_a_postgres_server() {
    let pg = pg::Postgres::start();
    scenario(&Storage::Url(pg.url()));
}

fn scenario(storage: &Storage) {
    let tmp = tempfile::tempdir().expect("tmp");
    let up = Served::start(upstream_config(
        storage,
        "127.0.0.1:0".parse().expect("addr"),
    ));
    let up_addr = up.addr();
    let up_url = format!("http://{up_addr}");
    let admin = Admin::open(storage).expect("admin");
    accounts(&admin);

    // The hub: a screener's account cannot run one; the supervisor's can.
    let hub_dir = tmp.path().join("hub");
    let code = admin.enrolment_code("site-a", None).expect("code");
    match Hub::init(
        &tmp.path().join("not-a-hub"),
        &up_url,
        &code,
        "bilal",
        ACCOUNT_PASSWORD,
    ) {
        Err(HubError::NotSupervisor(..)) => {}
        other => panic!("a screener's hub: {other:?}"),
    }
    let code = admin.enrolment_code("site-a", None).expect("code");
    let hub = Hub::init(&hub_dir, &up_url, &code, "chen", ACCOUNT_PASSWORD).expect("hub set up");
    let served = Served::start(
        hub.serve_config("127.0.0.1:0".parse().expect("addr"))
            .expect("config"),
    );
    let hub_url = format!("https://{}", served.addr());

    // Devices enrol with the hub, pinning its certificate.
    let wrong = format!(
        "{}#{}",
        hub.enrolment_code(None)
            .expect("code")
            .split('#')
            .next()
            .expect("code"),
        "00".repeat(32)
    );
    let mut stray = Store::init(
        &tmp.path().join("stray.db"),
        "bilal",
        Role::Screener,
        PASSWORD,
        "site-a",
    )
    .expect("init");
    match tern_sync::enrol(&mut stray, &hub_url, &wrong, ACCOUNT_PASSWORD) {
        Err(SyncError::Untrusted { .. }) => {}
        other => panic!("a device trusted another certificate: {other:?}"),
    }
    let a = device(
        tmp.path(),
        "bilal",
        &hub_url,
        &hub.enrolment_code(None).expect("code"),
    );
    let b = device(
        tmp.path(),
        "amina",
        &hub_url,
        &hub.enrolment_code(None).expect("code"),
    );
    // A screener's device that will be tampered with (enrolled while the hub is online:
    // enrolment needs the upstream's password check).
    let forger = device(
        tmp.path(),
        "bilal",
        &hub_url,
        &hub.enrolment_code(None).expect("code"),
    );

    // Issue 12: a clinician's tablet escrows its restricted key with the hub at
    // enrolment; a supervisor proven on it later, through the hub, receives that key
    // with the proof and reads the restricted sections at once.
    let shared = device(
        tmp.path(),
        "amina",
        &hub_url,
        &hub.enrolment_code(None).expect("code"),
    );
    let restricted = {
        let mut s = open(&shared);
        s.add_user("chen", Role::Supervisor, PASSWORD)
            .expect("chen");
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("record");
        for (field, value) in [
            ("hiv_offered", "true"),
            ("hiv_accepted", "true"),
            ("hiv_lab_id", "LAB-HUB-4711"),
        ] {
            s.set_answer(&r, field, value, None).expect(field);
        }
        r
    };
    let mut chen = Store::open(&shared, Some("chen"), PASSWORD).expect("chen");
    tern_sync::prove(&mut chen, ACCOUNT_PASSWORD).expect("chen proves through the hub");
    assert_eq!(
        chen.show(&restricted)
            .expect("show")
            .answers
            .get("hiv_lab_id")
            .cloned(),
        Some(serde_json::json!("LAB-HUB-4711")),
        "the key came with the proof"
    );
    drop(chen);

    // Signing in to the hub: checked by the upstream while it answers.
    assert_eq!(hub_login(&hub_url, "amina", ACCOUNT_PASSWORD), 200);
    assert_eq!(hub_login(&hub_url, "amina", "not-her-password"), 401);

    // The upstream goes away: the team works with the hub alone.
    up.stop();
    // Only the hub's supervisor signs in now, with the password the hub keeps.
    assert_eq!(hub_login(&hub_url, "chen", ACCOUNT_PASSWORD), 200);
    assert_eq!(hub_login(&hub_url, "amina", ACCOUNT_PASSWORD), 401);
    let record = {
        let mut s = open(&a);
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("record");
        s.set_answer(&r, "weight_kg", "60", None).expect("weight");
        r
    };
    sync(&a);
    sync_until(&b, "b gets a's record", |s| s.show(&record).is_ok());
    open(&a)
        .set_answer(&record, "weight_kg", "61", None)
        .expect("a edits");
    open(&b)
        .set_answer(&record, "weight_kg", "62", None)
        .expect("b edits");
    sync(&a);
    sync(&b);
    sync_until(&a, "a sees the conflict", |s| {
        !s.show(&record).expect("show").conflicts.is_empty()
    });
    sync_until(&b, "b sees the conflict", |s| {
        !s.show(&record).expect("show").conflicts.is_empty()
    });
    match hub.sync() {
        Err(HubError::Sync(SyncError::Offline { .. })) => {}
        other => panic!("a hub synced with no upstream: {other:?}"),
    }

    // A tampered screener's device writes a clinician's field: the hub quarantines it.
    sync(&forger);
    {
        let mut s = open(&forger);
        s.apply_accounts(999, &[("bilal".into(), "clinician".into())])
            .expect("a forged account list");
        s.set_answer(&record, "tb_diagnosis", "pulmonary_tb", None)
            .expect("the tampered store lets it through");
    }
    sync(&forger);

    // The upstream is back: the hub syncs up.
    let up = Served::start(upstream_config(storage, up_addr));
    let mut pushed = 0;
    for _ in 0..50 {
        let report = hub.sync().expect("hub syncs up");
        pushed += report.pushed_changes;
        if pushed > 0 && !report.waiting {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(pushed > 0, "the hub pushed the team's work");
    // What upstream acknowledged is never sent again.
    let again = hub.sync().expect("hub syncs again");
    assert_eq!(again.pushed_changes, 0, "{again:?}");
    let status = hub.status().expect("status");
    assert!(status.last_sync.is_some(), "{status:?}");

    // A clinician's device at the upstream gets the team's record, conflict kept, and
    // nothing of the forged change.
    let c = {
        let db = tmp.path().join("upstream-device.db");
        let mut s = Store::init(&db, "amina", Role::Screener, PASSWORD, "site-a").expect("init");
        let code = admin.enrolment_code("site-a", None).expect("code");
        tern_sync::enrol(&mut s, &up_url, &code, ACCOUNT_PASSWORD).expect("enrol upstream");
        db
    };
    sync_until(
        &c,
        "the upstream device gets the record with its conflict",
        |s| {
            s.show(&record)
                .map(|v| !v.conflicts.is_empty())
                .unwrap_or(false)
        },
    );
    let view = open(&c).show(&record).expect("show");
    assert!(
        view.answers.get("tb_diagnosis").is_none(),
        "a forged change reached the upstream: {:?}",
        view.answers
    );
    let devices = admin.devices().expect("devices");
    let a_id = open(&a).device().to_string();
    assert!(
        devices
            .iter()
            .any(|d| d.id == a_id && d.via_hub.as_deref() == Some(hub.info().device_id.as_str())),
        "the upstream lists the hub's device as enrolled through it"
    );

    // Revoked upstream, refused by the hub after its next sync.
    admin.revoke(&a_id).expect("revoke");
    let report = hub.sync().expect("hub sync");
    assert!(report.revoked_devices.contains(&a_id), "{report:?}");
    match tern_sync::sync(open(&a)) {
        Err(SyncError::Revoked) => {}
        other => panic!(
            "a revoked device synced with the hub: {:?}",
            other.map(|r| r.1)
        ),
    }

    // A stolen hub folder: nothing opens without the passphrase.
    match Hub::open(&hub_dir, None, "not-the-passphrase") {
        Err(HubError::Key(_)) => {}
        other => panic!("the hub opened with a wrong passphrase: {other:?}"),
    }
    assert!(
        Admin::open(&Storage::Dir(hub_dir.clone())).is_err(),
        "the hub's database opened without its key"
    );

    // The hub itself revoked upstream: it destroys its keys.
    admin.revoke(&hub.info().device_id).expect("revoke the hub");
    match hub.sync() {
        Err(HubError::Revoked) => {}
        other => panic!("a revoked hub synced: {other:?}"),
    }
    assert!(
        !tern_store::key_path(&hub_dir.join("tern-server.db")).exists(),
        "the hub's key is gone"
    );
    assert!(!tern_hub::is_hub(&hub_dir));
    served.stop();
    up.stop();
}

/// The store as bilal (a device with more than one local user asks who).
fn bilal(db: &Path) -> Store {
    Store::open(db, Some("bilal"), PASSWORD).expect("open")
}

/// Syncs `db` with one of its peers (by address), as amina (a clinician's session
/// sends her restricted sections too).
fn sync_with(db: &Path, peer: &str) -> tern_sync::SyncReport {
    let mut s = Store::open(db, Some("amina"), PASSWORD).expect("open");
    s.use_peer(peer).expect("a peer of the device");
    tern_sync::sync(s).expect("sync").1
}

/// Issue 15: a device enrolled with the central server in town joins its team's hub
/// for a field trip. It keeps a cursor and a push marker per peer, syncs with the hub
/// while the server is out of reach and with the server when back in town (before the
/// hub synced up, so the server first gets its work without what it builds on), and
/// every change ends up once on the device, the hub, the server and a server device.
#[test]
fn a_device_syncs_with_its_hub_in_the_field_and_the_server_in_town() {
    let tmp = tempfile::tempdir().expect("tmp");
    let storage = Storage::Dir(tmp.path().join("upstream"));
    let up = Served::start(upstream_config(
        &storage,
        "127.0.0.1:0".parse().expect("addr"),
    ));
    let up_addr = up.addr();
    let up_url = format!("http://{up_addr}");
    let admin = Admin::open(&storage).expect("admin");
    accounts(&admin);
    let code = admin.enrolment_code("site-a", None).expect("code");
    let hub = Hub::init(
        &tmp.path().join("hub"),
        &up_url,
        &code,
        "chen",
        ACCOUNT_PASSWORD,
    )
    .expect("hub set up");
    let served = Served::start(
        hub.serve_config("127.0.0.1:0".parse().expect("addr"))
            .expect("config"),
    );
    let hub_url = format!("https://{}", served.addr());

    // In town: the device enrols with the server; a clinician proves herself on it
    // there.
    let d = tmp.path().join("both.db");
    {
        let mut s = Store::init(&d, "bilal", Role::Screener, PASSWORD, "site-a").expect("init");
        let code = admin.enrolment_code("site-a", None).expect("code");
        tern_sync::enrol(&mut s, &up_url, &code, ACCOUNT_PASSWORD).expect("enrol upstream");
        s.add_user("amina", Role::Clinician, PASSWORD)
            .expect("amina");
    }
    let mut amina = Store::open(&d, Some("amina"), PASSWORD).expect("amina");
    tern_sync::prove(&mut amina, ACCOUNT_PASSWORD).expect("amina proves at the server");
    drop(amina);

    // It joins the team's hub, pinning its certificate; the same hub twice is refused
    // before the code is spent.
    {
        let mut s = bilal(&d);
        let code = hub.enrolment_code(None).expect("code");
        tern_sync::enrol(&mut s, &hub_url, &code, ACCOUNT_PASSWORD).expect("enrol with the hub");
        let again = hub.enrolment_code(None).expect("code");
        match tern_sync::enrol(&mut s, &hub_url, &again, ACCOUNT_PASSWORD) {
            Err(SyncError::Store(tern_store::StoreError::Peer(
                tern_store::PeerRefusal::AlreadyEnrolled { server },
            ))) => assert_eq!(server, hub_url),
            other => panic!("enrolled twice with one hub: {other:?}"),
        }
        let peers = bilal(&d).peers().expect("peers");
        assert_eq!(peers.len(), 2, "{peers:?}");
        assert_eq!(peers[0].server, up_url);
        assert!(peers[0].default && !peers[0].pinned, "{peers:?}");
        assert_eq!(peers[1].server, hub_url);
        assert!(!peers[1].default && peers[1].pinned, "{peers:?}");
        assert!(peers[1].bundle_peer.is_some(), "{peers:?}");
    }
    let teammate = device(
        tmp.path(),
        "bilal",
        &hub_url,
        &hub.enrolment_code(None).expect("code"),
    );

    // In the field: the server is out of reach. The clinician (proven at the server,
    // not at the hub) records on the device and syncs with the hub.
    up.stop();
    let record = {
        let mut s = Store::open(&d, Some("amina"), PASSWORD).expect("amina");
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        let r = s.new_record("pda", &subject).expect("record");
        s.set_answer(&r, "weight_kg", "60", None).expect("weight");
        r
    };
    let first = sync_with(&d, &hub_url);
    assert!(first.pushed_changes > 0, "{first:?}");
    sync_until(&teammate, "the teammate gets the record", |s| {
        s.show(&record).is_ok()
    });
    open(&teammate)
        .set_answer(&record, "weight_kg", "61", None)
        .expect("the teammate corrects the weight");
    sync(&teammate);
    for _ in 0..100 {
        sync_with(&d, &hub_url);
        let weight = bilal(&d).show(&record).expect("show").answers["weight_kg"].clone();
        if weight == serde_json::json!(61.0) || weight == serde_json::json!(61) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    {
        let mut s = Store::open(&d, Some("amina"), PASSWORD).expect("amina");
        s.set_answer(&record, "height_cm", "165", None)
            .expect("height, on top of the teammate's weight");
    }
    // The hub has it; the server (the default peer) has none of it yet.
    sync_with(&d, &hub_url);
    let status = bilal(&d).sync_status().expect("status");
    assert_eq!(status.peers[1].pending_changes, 0, "{status:?}");
    assert!(status.peers[0].pending_changes > 0, "{status:?}");

    // In town, before the hub syncs up: the device syncs with the server directly.
    let up = Served::start(upstream_config(&storage, up_addr));
    let direct = sync_with(&d, &up_url);
    assert!(direct.pushed_changes > 0, "{direct:?}");
    assert_eq!(
        bilal(&d).sync_status().expect("status").peers[0].pending_changes,
        0
    );
    // Then the hub syncs up, carrying the teammate's correction (and the device's work
    // again, which the server stores once).
    for _ in 0..50 {
        let report = hub.sync().expect("hub syncs up");
        if !report.waiting && report.pushed_changes == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // A clinician's device at the server sees everything once.
    let c = {
        let db = tmp.path().join("town.db");
        let mut s = Store::init(&db, "bilal", Role::Screener, PASSWORD, "site-a").expect("init");
        let code = admin.enrolment_code("site-a", None).expect("code");
        tern_sync::enrol(&mut s, &up_url, &code, ACCOUNT_PASSWORD).expect("enrol upstream");
        db
    };
    sync_until(&c, "the server device gets the whole record", |s| {
        s.show(&record)
            .map(|v| v.answers.get("height_cm").is_some())
            .unwrap_or(false)
    });
    sync_with(&d, &up_url);
    sync_with(&d, &hub_url);
    sync(&teammate);
    let history = |db: &Path| bilal(db).history(&record, None).expect("history");
    let on_device = history(&d);
    assert_eq!(history(&c), on_device, "the server device's history");
    assert_eq!(history(&teammate), on_device, "the teammate's history");
    let mut hashes: Vec<_> = on_device.iter().map(|h| format!("{h:?}")).collect();
    let n = hashes.len();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), n, "a change is in the history twice");
    let view = open(&c).show(&record).expect("show");
    assert!(view.conflicts.is_empty(), "{:?}", view.conflicts);
    assert_eq!(
        view.answers["height_cm"],
        bilal(&d).show(&record).expect("d").answers["height_cm"]
    );
    assert_eq!(
        view.answers["weight_kg"],
        bilal(&d).show(&record).expect("d").answers["weight_kg"]
    );
    served.stop();
    up.stop();
}
