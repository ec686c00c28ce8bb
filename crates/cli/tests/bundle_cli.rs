//! Bundles (issue 16), against the real binary: a server, a hub and two devices on
//! loopback for enrolment only; then, with the server and the hub stopped, the team's
//! work goes device → hub → server and the server's back to the device by bundle files
//! alone, and converges. The same bundle twice changes nothing; every kind of bad
//! bundle is refused (exit 1, a clear message) with the store unchanged.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Output};

#[path = "common/binary.rs"]
mod binary;
mod common;
use binary::{run, spawn, SUPERVISOR};
use common::{json_of, ok};

/// SHA-256 of every file in a store's folder whose name starts with `prefix` (the
/// database, its WAL, its keys): equal before and after means nothing changed.
fn fingerprint(dir: &Path, prefix: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .filter(|e| !e.file_name().to_string_lossy().ends_with("-shm"))
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read");
            (
                e.file_name().to_string_lossy().into_owned(),
                hex::encode(Sha256::digest(&bytes)),
            )
        })
        .collect();
    out.sort();
    out
}

/// What the hub holds, logically (its log head, documents, records, what waits each
/// way): opening a hub rewrites its supervisor's offline password hash, so its files
/// change at every start even when nothing else does.
fn hub_state(t: &Team) -> (Value, Value) {
    (
        json_of(&run(&["admin", "--data", &t.hub, "status"], &SUPERVISOR)),
        json_of(&t.hub(&["status"])),
    )
}

fn refused(out: &Output, says: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused: {err}");
    assert!(
        err.to_lowercase().contains(says),
        "the message says `{says}`: {err}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout when refused");
}

struct Team {
    dir: tempfile::TempDir,
    up: String,
    hub: String,
    hub_id: String,
    a_db: String,
    a_id: String,
    b_db: String,
    /// The server's address (a restart listens there again).
    listen: String,
    server: Option<Child>,
}

const DEVICE_ENV: [(&str, &str); 2] = [
    ("TERN_PASSWORD", "device-pass-1"),
    ("TERN_ACCOUNT_PASSWORD", "account-pass-1"),
];

impl Team {
    fn admin(&self, args: &[&str]) -> Output {
        let mut all = vec!["admin", "--data", &self.up];
        all.extend_from_slice(args);
        run(&all, &[("TERN_PASSWORD", "account-pass-1")])
    }
    fn hub(&self, args: &[&str]) -> Output {
        let mut all = vec!["hub", "--data", &self.hub];
        all.extend_from_slice(args);
        run(&all, &SUPERVISOR)
    }
    fn device(&self, db: &str, args: &[&str]) -> Output {
        let mut all = vec!["device", "--db", db];
        all.extend_from_slice(args);
        run(&all, &DEVICE_ENV)
    }
    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().expect("path").into()
    }
    fn start_server(&mut self, listen: &str) -> String {
        let (server, lines) = spawn(&["serve", "--data", &self.up, "--listen", listen], &[], 1);
        self.server = Some(server);
        format!("http://{}", lines[0])
    }
    fn stop_server(&mut self) {
        if let Some(mut s) = self.server.take() {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.stop_server();
    }
}

/// Server with site-a (chen supervisor, amina and bilal clinicians); a hub of chen;
/// device A (amina) enrolled with the hub, device B (bilal) with the server, each with
/// a record, B's synced to the server. Then the server and the hub stop.
fn team() -> Team {
    let dir = tempfile::tempdir().expect("tmp");
    let path = |n: &str| dir.path().join(n).to_str().expect("path").to_string();
    let mut t = Team {
        up: path("up"),
        hub: path("hub"),
        hub_id: String::new(),
        a_db: path("a.db"),
        a_id: String::new(),
        b_db: path("b.db"),
        listen: String::new(),
        server: None,
        dir,
    };
    let upstream = t.start_server("127.0.0.1:0");
    t.listen = upstream.trim_start_matches("http://").to_string();
    ok(&t.admin(&["site", "add", "site-a"]));
    for (name, role) in [
        ("chen", "supervisor"),
        ("amina", "clinician"),
        ("bilal", "clinician"),
    ] {
        ok(&t.admin(&["user", "add", name, "--role", role, "--site", "site-a"]));
    }
    let code = ok(&t.admin(&["device", "enroll", "--site", "site-a"]));
    let (mut hub, lines) = spawn(
        &[
            "hub",
            "--data",
            &t.hub,
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
            "--code",
            &code,
        ],
        &SUPERVISOR,
        2,
    );
    let info: Value = serde_json::from_str(&lines[1]).expect("json");
    let team_code = info["enrolment_code"].as_str().expect("code").to_string();
    let a = t.a_db.clone();
    ok(&t.device(&a, &["init", "--user", "amina", "--site", "site-a"]));
    json_of(&t.device(&a, &["enroll", "--server", &lines[0], "--code", &team_code]));
    let b = t.b_db.clone();
    ok(&t.device(&b, &["init", "--user", "bilal", "--site", "site-a"]));
    let code = ok(&t.admin(&["device", "enroll", "--site", "site-a"]));
    json_of(&t.device(&b, &["enroll", "--server", &upstream, "--code", &code]));
    let subject = ok(&t.device(&b, &["subject", "add", "--set", "sex=male"]));
    ok(&t.device(
        &b,
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    json_of(&t.device(&b, &["sync"]));
    let _ = hub.kill();
    let _ = hub.wait();
    t.stop_server();
    t.hub_id = json_of(&t.hub(&["status"]))["device_id"]
        .as_str()
        .expect("hub id")
        .into();
    t.a_id = json_of(&t.device(&a, &["status"]))["device_id"]
        .as_str()
        .expect("device id")
        .into();
    let subject = ok(&t.device(&a, &["subject", "add", "--set", "sex=female"]));
    ok(&t.device(
        &a,
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    t
}

fn records(t: &Team, db: &str) -> usize {
    json_of(&t.device(db, &["record", "list"]))
        .as_array()
        .expect("list")
        .len()
}

#[test]
fn a_round_trip_by_bundles_alone_converges() {
    let mut t = team();
    let a = t.a_db.clone();
    // Device → hub.
    let a1 = t.file("a1.bundle");
    let sent = json_of(&t.device(&a, &["bundle", "export", &a1]));
    assert_eq!(sent["recipient"], t.hub_id.as_str(), "{sent}");
    assert!(sent["chunks"].as_u64().is_some_and(|n| n > 0), "{sent}");
    let got = json_of(&t.hub(&["bundle", "import", &a1]));
    assert!(got["new_changes"].as_u64().is_some_and(|n| n > 0), "{got}");
    // The same bundle again: exit 0, nothing changes.
    let before = hub_state(&t);
    let again = json_of(&t.hub(&["bundle", "import", &a1]));
    assert_eq!(again["already_imported"], true, "{again}");
    assert_eq!(hub_state(&t), before);

    // Hub → server.
    let h1 = t.file("h1.bundle");
    let up = json_of(&t.hub(&["bundle", "export", "--to", "upstream", &h1]));
    assert!(up["chunks"].as_u64().is_some_and(|n| n > 0), "{up}");
    let stored = json_of(&t.admin(&["bundle", "import", &h1]));
    assert!(
        stored["new_changes"].as_u64().is_some_and(|n| n > 0),
        "{stored}"
    );
    let status = json_of(&t.admin(&["status"]));
    assert_eq!(status["records"], 2, "{status}");
    assert_eq!(status["unverified"], 0, "verified on import: {status}");

    // Server → hub → device: bilal's record reaches amina's device.
    let s1 = t.file("s1.bundle");
    let down = json_of(&t.admin(&["bundle", "export", "--to", &t.hub_id, &s1]));
    assert_eq!(down["recipient"], t.hub_id.as_str(), "{down}");
    json_of(&t.hub(&["bundle", "import", &s1]));
    let h2 = t.file("h2.bundle");
    json_of(&t.hub(&["bundle", "export", "--to", &t.a_id, &h2]));
    let applied = json_of(&t.device(&a, &["bundle", "import", &h2]));
    assert!(
        applied["new_changes"].as_u64().is_some_and(|n| n > 0),
        "{applied}"
    );
    assert_eq!(records(&t, &a), 2);
    // The hub's bundle acknowledged the device's work: nothing pending any more.
    let st = json_of(&t.device(&a, &["status"]));
    assert_eq!(st["pending_changes"], 0, "{st}");
    // And the hub's upstream marker moved with the server's bundle.
    let hs = json_of(&t.hub(&["status"]));
    assert_eq!(hs["pending_up"], 0, "{hs}");

    // Device B, online with the server, converges too.
    let b = t.b_db.clone();
    let listen = t.listen.clone();
    t.start_server(&listen);
    json_of(&t.device(&b, &["sync"]));
    assert_eq!(records(&t, &b), 2);
}

/// A bundle from `sender` (a fresh, unknown identity) sealed to `recipient` under the
/// id `recipient_id`, in a file.
fn forged_bundle(path: &str, sender: &str, recipient_id: &str) {
    use tern_sync::bundle::{self, BundleBody, BundleHeader, Direction, Identity};
    let me = Identity::generate(sender).expect("keys");
    let them = Identity::generate(recipient_id).expect("keys");
    let body = BundleBody {
        header: BundleHeader {
            sender: sender.into(),
            recipient: recipient_id.into(),
            seq: 1,
            direction: Direction::Up,
        },
        acked: 0,
        pages: vec![],
    };
    std::fs::write(
        path,
        bundle::seal(&body, &me, &them.public()).expect("seal"),
    )
    .expect("write");
}

#[test]
fn bad_bundles_are_refused_and_change_nothing() {
    let t = team();
    let a = t.a_db.clone();
    let a_dir = PathBuf::from(&t.a_db).parent().expect("dir").to_path_buf();
    let a1 = t.file("a1.bundle");
    json_of(&t.device(&a, &["bundle", "export", &a1]));
    let bytes = std::fs::read(&a1).expect("read");
    let before = hub_state(&t);

    // Altered: one byte in the middle.
    let altered = t.file("altered.bundle");
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid] ^= 0x01;
    std::fs::write(&altered, &b).expect("write");
    refused(&t.hub(&["bundle", "import", &altered]), "altered");
    // Truncated.
    let cut = t.file("cut.bundle");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).expect("write");
    refused(&t.hub(&["bundle", "import", &cut]), "truncated");
    // For another recipient: the hub's bundle imported by the server.
    refused(&t.admin(&["bundle", "import", &a1]), "not for");
    // From an unknown sender.
    let forged = t.file("forged.bundle");
    forged_bundle(&forged, "intruder", &t.hub_id);
    refused(&t.hub(&["bundle", "import", &forged]), "not known");
    assert_eq!(hub_state(&t), before, "the hub unchanged");

    // An older bundle than one imported, with other content.
    let a2 = t.file("a2.bundle");
    json_of(&t.device(&a, &["bundle", "export", &a2]));
    json_of(&t.hub(&["bundle", "import", &a2]));
    let before = hub_state(&t);
    refused(&t.hub(&["bundle", "import", &a1]), "older");
    assert_eq!(hub_state(&t), before, "the hub unchanged");

    // A device refuses what is not its peer's, and what was altered, unchanged.
    let h1 = t.file("h1.bundle");
    json_of(&t.hub(&["bundle", "export", "--to", &t.a_id, &h1]));
    let dev_before = fingerprint(&a_dir, "a.db");
    let hb = std::fs::read(&h1).expect("read");
    let mut bad = hb.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    let bad_path = t.file("h1-bad.bundle");
    std::fs::write(&bad_path, &bad).expect("write");
    refused(&t.device(&a, &["bundle", "import", &bad_path]), "altered");
    refused(&t.device(&a, &["bundle", "import", &a2]), "not for");
    let forged = t.file("forged-dev.bundle");
    forged_bundle(&forged, "intruder", &t.a_id);
    refused(&t.device(&a, &["bundle", "import", &forged]), "not known");
    assert_eq!(
        fingerprint(&a_dir, "a.db"),
        dev_before,
        "the device unchanged"
    );

    // A revoked device's bundle.
    ok(&run(
        &["admin", "--data", &t.hub, "device", "revoke", &t.a_id],
        &SUPERVISOR,
    ));
    let a3 = t.file("a3.bundle");
    json_of(&t.device(&a, &["bundle", "export", &a3]));
    let before = hub_state(&t);
    refused(&t.hub(&["bundle", "import", &a3]), "revoked");
    assert_eq!(hub_state(&t), before, "the hub unchanged");
}
