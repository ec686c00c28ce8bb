//! The `tern hub` contract, run against the real binary on loopback: set-up from an
//! upstream `tern serve`, its two stdout lines (address, then fingerprint and a code),
//! a device enrolling with the hub's pinned code and syncing, `tern hub sync` and
//! `status` as JSON, a code from `tern admin` on the hub's folder, and a `kill -9` of
//! the hub followed by a restart that serves the same team.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[path = "common/binary.rs"]
mod binary;
mod common;
use binary::{run, spawn, SUPERVISOR};
use common::{json_of, ok};

fn hub(dir: &Path, listen: &str, extra: &[&str]) -> (Child, String, Value) {
    let data = dir.join("hub");
    let data = data.to_str().expect("path");
    let mut args = vec!["hub", "--data", data, "--listen", listen];
    args.extend_from_slice(extra);
    let (child, lines) = spawn(&args, &SUPERVISOR, 2);
    let info: Value = serde_json::from_str(&lines[1]).expect("second line is JSON");
    (child, lines[0].clone(), info)
}

/// `tern admin --data DATA ARGS...` with the accounts' password.
fn admin_of(data: &str, args: &[&str]) -> Output {
    let mut all = vec!["admin", "--data", data];
    all.extend_from_slice(args);
    run(&all, &[("TERN_PASSWORD", "account-pass-1")])
}

/// A new device store at `db` for amina (clinician, site-a): `tern device --db DB
/// ARGS...` with her store and account passwords.
fn amina_device(db: &Path) -> impl Fn(&[&str]) -> Output {
    let db_s = db.to_str().expect("path").to_string();
    let device = move |args: &[&str]| {
        let mut all = vec!["device", "--db", db_s.as_str()];
        all.extend_from_slice(args);
        run(
            &all,
            &[
                ("TERN_PASSWORD", "device-pass-1"),
                ("TERN_ACCOUNT_PASSWORD", "account-pass-1"),
            ],
        )
    };
    ok(&device(&["init", "--user", "amina", "--site", "site-a"]));
    device
}

/// An upstream `tern serve` in `dir/up` with site-a, chen (supervisor) and amina
/// (clinician): its process, URL, folder and an enrolment code for the hub.
fn upstream(dir: &Path) -> (Child, String, String, String) {
    let up_s = dir.join("up").to_str().expect("path").to_string();
    let (server, lines) = spawn(
        &["serve", "--data", &up_s, "--listen", "127.0.0.1:0"],
        &[],
        1,
    );
    ok(&admin_of(&up_s, &["site", "add", "site-a"]));
    for (name, role) in [("chen", "supervisor"), ("amina", "clinician")] {
        ok(&admin_of(
            &up_s,
            &["user", "add", name, "--role", role, "--site", "site-a"],
        ));
    }
    let code = ok(&admin_of(&up_s, &["device", "enroll", "--site", "site-a"]));
    (server, format!("http://{}", lines[0]), up_s, code)
}

#[test]
fn a_hub_serves_its_team_and_syncs_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, upstream, up_s, code) = upstream(dir.path());
    let admin = |args: &[&str]| admin_of(&up_s, args);

    // Set-up and its two lines.
    let (mut hub_proc, addr, info) = hub(
        dir.path(),
        "127.0.0.1:0",
        &["--upstream", &upstream, "--code", &code],
    );
    assert!(addr.starts_with("https://127.0.0.1:"), "{addr}");
    let fingerprint = info["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    assert_eq!(fingerprint.len(), 64);
    let team_code = info["enrolment_code"].as_str().expect("code").to_string();
    assert!(
        team_code.ends_with(&format!("#{fingerprint}")),
        "{team_code}"
    );

    // A device of the team.
    let db = dir.path().join("a.db");
    let device = amina_device(&db);
    let e = json_of(&device(&[
        "enroll", "--server", &addr, "--code", &team_code,
    ]));
    assert_eq!(e["role"], "clinician", "{e}");
    let subject = ok(&device(&["subject", "add", "--set", "sex=female"]));
    ok(&device(&[
        "record",
        "new",
        "--form",
        "pda",
        "--subject",
        &subject,
    ]));
    let report = json_of(&device(&["sync"]));
    assert!(
        report["pushed_changes"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );

    // tern admin on the hub's folder: codes carry the fingerprint.
    let hub_data = dir.path().join("hub");
    let hub_s = hub_data.to_str().expect("path").to_string();
    let hub_code = ok(&run(
        &[
            "admin", "--data", &hub_s, "device", "enroll", "--site", "site-a",
        ],
        &SUPERVISOR,
    ));
    assert!(hub_code.ends_with(&fingerprint), "{hub_code}");
    let wrong = run(
        &["admin", "--data", &hub_s, "device", "list"],
        &[("TERN_USER", "chen"), ("TERN_PASSWORD", "not-the-password")],
    );
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "a wrong password opens nothing"
    );

    // kill -9 of the hub, then a restart serves the same team (same certificate).
    hub_proc.kill().expect("kill -9");
    let _ = hub_proc.wait();
    let listen = addr.trim_start_matches("https://").to_string();
    let (mut hub_proc, addr2, info2) = hub(dir.path(), &listen, &[]);
    assert_eq!(addr2, addr);
    assert_eq!(info2["fingerprint"], fingerprint.as_str());
    ok(&device(&[
        "record",
        "new",
        "--form",
        "pec",
        "--subject",
        &subject,
    ]));
    let report = json_of(&device(&["sync"]));
    assert!(
        report["pushed_changes"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );

    // The upstream gets the team's record (the hub syncs on start and on demand).
    let mut records = 0;
    for _ in 0..100 {
        let sync = run(&["hub", "--data", &hub_s, "sync"], &SUPERVISOR);
        if sync.status.success() {
            let r: Value = serde_json::from_slice(&sync.stdout).expect("sync JSON");
            assert!(r.get("pushed_changes").is_some(), "{r}");
        }
        let backlog = json_of(&admin(&["status"]));
        records = backlog["records"].as_i64().unwrap_or(0);
        if records == 2 && backlog["unverified"] == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(records, 2, "both records reached the upstream");
    let status = json_of(&run(&["hub", "--data", &hub_s, "status"], &SUPERVISOR));
    for k in [
        "upstream",
        "device_id",
        "fingerprint",
        "sites",
        "pending_up",
        "last_sync",
    ] {
        assert!(status.get(k).is_some(), "status has {k}: {status}");
    }
    assert_eq!(status["pending_up"], 0, "{status}");
    let listed = json_of(&admin(&["device", "list"]));
    assert!(
        listed
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["via_hub"] == status["device_id"]),
        "{listed}"
    );
    let _ = hub_proc.kill();
    let _ = hub_proc.wait();
    let _ = server.kill();
    let _ = server.wait();
}

/// A TCP proxy between the hub and its upstream that passes everything until told to
/// hold: from then on, the next `POST /v1/sync` the hub sends never reaches the
/// upstream (the hub waits for its answer, as on a link that went dead mid-push).
struct Proxy {
    addr: String,
    /// Upstream sync requests seen so far.
    syncs: Arc<AtomicUsize>,
    /// Sync requests let through before holding (`usize::MAX`: pass everything).
    pass: Arc<AtomicUsize>,
    /// Whether a request is held now.
    held: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let target = upstream.trim_start_matches("http://").to_string();
        let (syncs, pass, held) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(usize::MAX)),
            Arc::new(AtomicBool::new(false)),
        );
        let (s, p, h) = (syncs.clone(), pass.clone(), held.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let (mut c_in, mut s_out) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                });
                let (s, p, h) = (s.clone(), p.clone(), h.clone());
                std::thread::spawn(move || {
                    const SYNC: &[u8] = b"POST /v1/sync HTTP";
                    let mut buf = [0u8; 64 * 1024];
                    loop {
                        let n = match c_in.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let chunk = &buf[..n];
                        if let Some(at) = chunk.windows(SYNC.len()).position(|w| w == SYNC) {
                            if s.fetch_add(1, Ordering::SeqCst) >= p.load(Ordering::SeqCst) {
                                let _ = s_out.write_all(&chunk[..at]);
                                h.store(true, Ordering::SeqCst);
                                // Held: read on (so the hub's request is sent) and
                                // forward nothing, until the hub goes away.
                                while matches!(c_in.read(&mut buf), Ok(n) if n > 0) {}
                                return;
                            }
                        }
                        if s_out.write_all(chunk).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Proxy {
            addr: format!("http://{addr}"),
            syncs,
            pass,
            held,
        }
    }

    /// Lets `n` more sync requests through, then holds the next one.
    fn hold_after(&self, n: usize) {
        self.pass
            .store(self.syncs.load(Ordering::SeqCst) + n, Ordering::SeqCst);
    }

    fn pass_all(&self) {
        self.pass.store(usize::MAX, Ordering::SeqCst);
    }
}

/// issue 15: `kill -9` of the hub in the middle of an upstream push. The hub pushes in
/// small pages (`TERN_HUB_PUSH_PAGE_KIB=64`); the link holds the third round trip and
/// the hub is killed while it waits. Pages acknowledged before are not sent again:
/// what is still pending after the kill is less than the whole, the next sync pushes
/// exactly that, and the upstream holds every record once, verified.
#[test]
fn a_hub_killed_during_an_upstream_push_resumes_without_resending() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, upstream, up_s, code) = upstream(dir.path());
    let proxy = Proxy::start(&upstream);
    let admin = |args: &[&str]| admin_of(&up_s, args);
    let (mut hub_proc, addr, info) = hub(
        dir.path(),
        "127.0.0.1:0",
        &["--upstream", &proxy.addr, "--code", &code],
    );
    let team_code = info["enrolment_code"].as_str().expect("code").to_string();
    let hub_s = dir.path().join("hub").to_str().expect("path").to_string();

    // The team's work reaches the hub and is verified there.
    const RECORDS: usize = 300;
    let db = dir.path().join("a.db");
    let device = amina_device(&db);
    json_of(&device(&[
        "enroll", "--server", &addr, "--code", &team_code,
    ]));
    let file = dir.path().join("records.jsonl");
    let lines: Vec<String> = (0..RECORDS)
        .map(|i| {
            serde_json::json!({"given_name": format!("P{i}"), "sex": "female",
                "temp_c": 36.5, "heart_rate": 60 + i % 40, "weight_kg": 50 + i % 30})
            .to_string()
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("write");
    let imported = json_of(&device(&[
        "record",
        "import",
        "--form",
        "pda",
        file.to_str().expect("path"),
    ]));
    assert_eq!(imported["imported"], RECORDS, "{imported}");
    json_of(&device(&["sync"]));
    let hub_admin = |args: &[&str]| {
        let mut all = vec!["admin", "--data", &hub_s];
        all.extend_from_slice(args);
        run(&all, &SUPERVISOR)
    };
    let mut verified = false;
    for _ in 0..300 {
        let b = json_of(&hub_admin(&["status"]));
        if b["records"] == RECORDS && b["unverified"] == 0 {
            verified = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(verified, "the hub verified the team's records");
    hub_proc.kill().expect("stop the hub's server");
    let _ = hub_proc.wait();
    let total = json_of(&run(&["hub", "--data", &hub_s, "status"], &SUPERVISOR))["pending_up"]
        .as_i64()
        .expect("pending_up");
    assert!(total > 0);

    // An upstream sync in 64 KiB pages; the third round trip hangs; kill -9.
    proxy.hold_after(2);
    let mut sync = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["hub", "--data", &hub_s, "sync"])
        .env("TERN_USER", "chen")
        .env("TERN_PASSWORD", "account-pass-1")
        .env("TERN_HUB_PUSH_PAGE_KIB", "64")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut waited = 0;
    while !proxy.held.load(Ordering::SeqCst) && waited < 600 {
        assert!(
            sync.try_wait().expect("wait").is_none(),
            "the sync ended before the link went dead: more records are needed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert!(proxy.held.load(Ordering::SeqCst), "a round trip is held");
    sync.kill().expect("kill -9");
    let _ = sync.wait();
    let pending = json_of(&run(&["hub", "--data", &hub_s, "status"], &SUPERVISOR))["pending_up"]
        .as_i64()
        .expect("pending_up");
    assert!(
        pending > 0 && pending < total,
        "acknowledged pages are not pending again: {pending} of {total}"
    );

    // The link is back: the next sync pushes what was pending, nothing more.
    proxy.pass_all();
    let report = json_of(&run(&["hub", "--data", &hub_s, "sync"], &SUPERVISOR));
    assert_eq!(report["pushed_changes"], pending, "{report}");
    let mut records = 0;
    for _ in 0..300 {
        let b = json_of(&admin(&["status"]));
        records = b["records"].as_i64().unwrap_or(0);
        if records == RECORDS as i64 && b["unverified"] == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        records, RECORDS as i64,
        "every record reached the upstream once"
    );
    let status = json_of(&run(&["hub", "--data", &hub_s, "status"], &SUPERVISOR));
    assert_eq!(status["pending_up"], 0, "{status}");
    let _ = server.kill();
    let _ = server.wait();
}

/// Issue 15's command lines for a device with two peers: enrolled with the server,
/// then with its team's hub; `status` lists both; `sync --server` picks one (an
/// unknown one is refused); `bundle export` asks for `--to` and takes a peer's id.
#[test]
fn a_device_enrols_with_the_server_and_its_hub_and_names_its_peer() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, upstream, up_s, code) = upstream(dir.path());
    let (mut hub_proc, hub_url, info) = hub(
        dir.path(),
        "127.0.0.1:0",
        &["--upstream", &upstream, "--code", &code],
    );
    let team_code = info["enrolment_code"].as_str().expect("code").to_string();
    let db = dir.path().join("both.db");
    let device = amina_device(&db);
    let server_code = ok(&admin_of(&up_s, &["device", "enroll", "--site", "site-a"]));
    json_of(&device(&[
        "enroll",
        "--server",
        &upstream,
        "--code",
        &server_code,
    ]));
    json_of(&device(&[
        "enroll", "--server", &hub_url, "--code", &team_code,
    ]));
    let status = json_of(&device(&["status"]));
    let peers = status["peers"].as_array().expect("peers").clone();
    assert_eq!(peers.len(), 2, "{status}");
    assert_eq!(peers[0]["server"], upstream.as_str(), "{status}");
    assert_eq!(peers[1]["server"], hub_url.as_str(), "{status}");
    assert_eq!(peers[1]["pinned"], true, "{status}");
    assert_eq!(
        status["server"],
        upstream.as_str(),
        "the first is the default"
    );

    let subject = ok(&device(&["subject", "add", "--set", "sex=female"]));
    ok(&device(&[
        "record",
        "new",
        "--form",
        "pda",
        "--subject",
        &subject,
    ]));
    let to_hub = json_of(&device(&["sync", "--server", &hub_url]));
    assert!(
        to_hub["pushed_changes"].as_u64().is_some_and(|n| n > 0),
        "{to_hub}"
    );
    let status = json_of(&device(&["status"]));
    assert_eq!(status["peers"][1]["pending_changes"], 0, "{status}");
    assert!(
        status["peers"][0]["pending_changes"]
            .as_i64()
            .is_some_and(|n| n > 0),
        "the server has not acknowledged anything yet: {status}"
    );
    let unknown = device(&["sync", "--server", "https://127.0.0.1:9"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("not a hub or server"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    let out = dir.path().join("up.ternbundle");
    let out_s = out.to_str().expect("path");
    let which = device(&["bundle", "export", out_s]);
    assert_eq!(which.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&which.stderr).contains("--to"),
        "{}",
        String::from_utf8_lossy(&which.stderr)
    );
    assert!(!out.exists(), "nothing written without --to");
    let server_id = peers[0]["bundle_peer"]
        .as_str()
        .expect("server's bundle id");
    let bundle = json_of(&device(&["bundle", "export", "--to", server_id, out_s]));
    assert_eq!(bundle["recipient"], server_id, "{bundle}");
    assert!(
        bundle["chunks"].as_u64().is_some_and(|n| n > 0),
        "the server's bundle carries what only the hub acknowledged: {bundle}"
    );
    let _ = hub_proc.kill();
    let _ = hub_proc.wait();
    let _ = server.kill();
    let _ = server.wait();
}
