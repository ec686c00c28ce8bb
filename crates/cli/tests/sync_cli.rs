//! The `tern serve`, `tern admin` and `tern device enroll|sync|status` contract, run
//! against the real binary on loopback.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

mod common;
use common::{json_of, ok};

const TERN: &str = env!("CARGO_BIN_EXE_tern");

fn run(args: &[&str], password: &str) -> Output {
    Command::new(TERN)
        .args(args)
        .env("TERN_PASSWORD", password)
        // The server accounts' own password (enrolment, proofs): not the device's.
        .env("TERN_ACCOUNT_PASSWORD", "account-pass-1")
        .env_remove("TERN_USER")
        .stdin(Stdio::null())
        .output()
        .expect("run tern")
}

/// Starts `tern serve` and reads its first two stdout lines (address, demo).
fn serve(data: &Path, listen: &str) -> (Child, String, Value) {
    let mut child = Command::new(TERN)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", listen, "--demo"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = lines.next().expect("a first line").expect("utf8");
    let demo: Value =
        serde_json::from_str(&lines.next().expect("demo line").expect("utf8")).expect("demo JSON");
    (child, addr, demo)
}

/// `tern serve` on a free port with its data in `dir/srv`: the process, its URL,
/// and `tern admin --data dir/srv ARGS...`.
fn serve_with_admin(dir: &Path) -> (Child, String, impl Fn(&[&str]) -> Output) {
    let data = dir.join("srv");
    let (server, addr, _) = serve(&data, "127.0.0.1:0");
    let data_s = data.to_string_lossy().to_string();
    let admin = move |args: &[&str]| {
        let mut all = vec!["admin", "--data", &data_s];
        all.extend_from_slice(args);
        run(&all, "account-pass-1")
    };
    (server, format!("http://{addr}"), admin)
}

#[test]
fn serve_admin_enroll_sync_status_revoke() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("srv");
    let data_s = data.to_string_lossy().to_string();
    let (mut server, addr, demo) = serve(&data, "127.0.0.1:0");
    assert!(
        addr.starts_with("127.0.0.1:"),
        "first line is the address: {addr}"
    );
    assert_eq!(demo["users"].as_array().map(Vec::len), Some(5));
    assert!(demo["enrolment_code"]
        .as_str()
        .is_some_and(|c| c.len() == 19));

    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--data", &data_s];
        all.extend_from_slice(args);
        run(&all, "account-pass-1")
    };
    assert_eq!(ok(&admin(&["site", "add", "site-a"])), "site-a");
    assert_eq!(
        ok(&admin(&[
            "user",
            "add",
            "amina",
            "--role",
            "clinician",
            "--site",
            "site-a"
        ])),
        "amina"
    );
    assert_eq!(
        admin(&["user", "add", "x", "--role", "nurse", "--site", "site-a"])
            .status
            .code(),
        Some(1)
    );
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));

    let db = dir.path().join("a.db");
    let db_s = db.to_string_lossy().to_string();
    let device = |args: &[&str]| {
        let mut all = vec!["device", "--db", &db_s];
        all.extend_from_slice(args);
        run(&all, "device-pass-1")
    };
    ok(&device(&["init", "--user", "amina", "--site", "site-a"]));
    let status = json_of(&device(&["status"]));
    assert!(status["server"].is_null());
    let e = json_of(&device(&[
        "enroll",
        "--server",
        &format!("http://{addr}"),
        "--code",
        &code,
    ]));
    assert_eq!(e["role"], "clinician");
    // A code is used once.
    let again = device(&[
        "enroll",
        "--server",
        &format!("http://{addr}"),
        "--code",
        &code,
    ]);
    assert_eq!(again.status.code(), Some(1));

    let subject = ok(&device(&["subject", "add", "--set", "sex=female"]));
    let record = ok(&device(&[
        "record",
        "new",
        "--form",
        "pda",
        "--subject",
        &subject,
    ]));
    let status = json_of(&device(&["status"]));
    for k in ["device_id", "server", "last_sync", "pending_changes"] {
        assert!(status.get(k).is_some(), "status has {k}");
    }
    assert!(status["pending_changes"].as_i64().is_some_and(|n| n > 0));
    let report = json_of(&device(&["sync"]));
    for k in [
        "pushed_changes",
        "pulled_changes",
        "bytes_sent",
        "bytes_received",
        "round_trips",
    ] {
        assert!(report.get(k).is_some(), "sync report has {k}");
    }
    assert!(report["pushed_changes"].as_u64().is_some_and(|n| n > 0));
    let idle = json_of(&device(&["sync"]));
    assert_eq!(idle["round_trips"], 1);
    assert_eq!(json_of(&device(&["status"]))["pending_changes"], 0);
    // Roles sync down: after a sync, a new local user must be an account of the site
    // (and takes its server role).
    let add_user = |name: &str| {
        Command::new(TERN)
            .args(["device", "--db", &db_s, "user", "add", name])
            .env("TERN_PASSWORD", "device-pass-1")
            .env("TERN_NEW_PASSWORD", "other-pass-1")
            .env("TERN_USER", "amina")
            .stdin(Stdio::null())
            .output()
            .expect("run tern")
    };
    let refused = add_user("nobody");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a server account"));
    // The server verifies after acknowledging: its backlog empties (bounded wait).
    let mut backlog = json_of(&admin(&["status"]));
    for _ in 0..100 {
        if backlog["unverified"] == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        backlog = json_of(&admin(&["status"]));
    }
    assert_eq!(backlog["unverified"], 0, "{backlog}");
    assert_eq!(backlog["records"], 1, "{backlog}");
    assert_eq!(backlog["quarantined"], 0, "{backlog}");
    assert_eq!(
        json_of(&admin(&["quarantine", "list"])),
        serde_json::json!([]),
        "tern admin quarantine list"
    );
    // Release and reject (the real ones: crates/server/tests/inputs/quarantine_review.rs):
    // nothing to decide is refused (exit 1), as is a decision without a reason.
    for args in [
        &[
            "quarantine",
            "release",
            "nope",
            "--reason",
            "asked by the clinician",
        ][..],
        &["quarantine", "reject", "nope", "--reason", " "][..],
    ] {
        let out = admin(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = admin(&[
        "quarantine",
        "release",
        "nope",
        "--reason",
        "asked by the clinician",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no quarantined changes of document `nope`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let list = json_of(&admin(&["device", "list"]));
    let id = status["device_id"].as_str().expect("id").to_string();
    let row = list
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["id"] == id.as_str())
        .expect("listed")
        .clone();
    for k in ["id", "site", "user", "last_sync", "revoked"] {
        assert!(row.get(k).is_some(), "device list has {k}");
    }
    assert_eq!(row["revoked"], false);

    // Offline: exit 1 with a message saying what to do.
    let _ = server.kill();
    let _ = server.wait();
    let offline = device(&["sync"]);
    assert_eq!(offline.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&offline.stderr).contains("cannot reach the server"));

    // Work done offline, which the server never acknowledges.
    ok(&device(&["record", "set", &record, "temp_c", "38.2"]));

    // Revoked: exit 1, keys and database destroyed, the unsynced work kept encrypted.
    let (mut server, again, _) = serve(&data, &addr);
    assert_eq!(again, addr);
    ok(&admin(&["device", "revoke", &id]));
    let revoked = device(&["sync"]);
    assert_eq!(revoked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&revoked.stderr).contains("revoked"));
    assert!(!db.exists(), "the database is destroyed");
    assert!(
        !dir.path().join("a.db.keys").exists(),
        "the keys are destroyed"
    );
    let _ = server.kill();
    let _ = server.wait();
    recover_the_revoked_work(dir.path(), &record);
}

/// `tern device --db NEW recover FILE`: the revoked device's unsynced work, opened
/// with its user's password, merged into a new store; bad input changes nothing.
fn recover_the_revoked_work(dir: &Path, record: &str) {
    let kept: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("a.db.unsynced-") && n.ends_with(".tern"))
        })
        .collect();
    assert_eq!(kept.len(), 1, "one unsynced-work file: {kept:?}");
    let kept = kept[0].to_string_lossy().to_string();
    let new = dir.join("recovered.db").to_string_lossy().to_string();
    // The data manager's own store and password; the file opens with amina's.
    let recover = |unsynced_password: Option<&str>, args: &[&str]| {
        let mut c = Command::new(TERN);
        c.args(["device", "--db", &new])
            .args(args)
            .env("TERN_PASSWORD", "manager-pass-1")
            .env_remove("TERN_USER")
            .env_remove("TERN_UNSYNCED_PASSWORD")
            .stdin(Stdio::null());
        if let Some(p) = unsynced_password {
            c.env("TERN_UNSYNCED_PASSWORD", p);
        }
        c.output().expect("run tern")
    };
    ok(&recover(
        None,
        &[
            "init",
            "--user",
            "dm",
            "--role",
            "clinician",
            "--site",
            "site-a",
        ],
    ));
    let nothing = |out: &Output, says: &str| {
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = stderr_of(out);
        assert!(err.contains(says), "{err}");
        assert!(!err.contains("38.2"), "no values in messages: {err}");
        let list = json_of(&recover(None, &["record", "list"]));
        assert_eq!(list, serde_json::json!([]), "nothing recovered");
    };
    // The store's own password is not the revoked device's.
    nothing(
        &recover(None, &["recover", &kept, "--from-user", "amina"]),
        "wrong password",
    );
    nothing(
        &recover(
            Some("not-her-pass"),
            &["recover", &kept, "--from-user", "amina"],
        ),
        "wrong password",
    );
    nothing(
        &recover(Some("device-pass-1"), &["recover", &kept]),
        "no local user `dm`",
    );
    let junk = dir.join("junk.tern");
    std::fs::write(&junk, b"{\"format\": \"something else\"}").expect("write");
    nothing(
        &recover(
            Some("device-pass-1"),
            &["recover", &junk.to_string_lossy(), "--from-user", "amina"],
        ),
        "not a tern unsynced-work file",
    );
    nothing(
        &recover(
            Some("device-pass-1"),
            &["recover", "/nonexistent/x.tern", "--from-user", "amina"],
        ),
        "x.tern",
    );

    let report = json_of(&recover(
        Some("device-pass-1"),
        &["recover", &kept, "--from-user", "amina"],
    ));
    // Only the record holds unacknowledged work (its subject was synced).
    assert_eq!(report["recovered"], 1, "{report}");
    assert_eq!(report["restricted_left_out"], 0, "{report}");
    assert!(report["import"]["new_changes"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let show = json_of(&recover(None, &["record", "show", record]));
    assert_eq!(show["answers"]["temp_c"], serde_json::json!(38.2));
    // Again: idempotent.
    let again = json_of(&recover(
        Some("device-pass-1"),
        &["recover", &kept, "--from-user", "amina"],
    ));
    assert_eq!(again["import"]["new_changes"], 0, "{again}");
}

/// A new device store `dir/FILE` for `user` at site-a; its path.
fn new_device(dir: &std::path::Path, file: &str, user: &str) -> String {
    let db_s = dir.join(file).to_string_lossy().to_string();
    ok(&run(
        &[
            "device", "--db", &db_s, "init", "--user", user, "--site", "site-a",
        ],
        "device-pass-1",
    ));
    db_s
}

/// `user` enrols the device at `db` with the server at `url`.
fn enrol(db: &str, user: &str, url: &str, code: &str) {
    ok(&as_user(
        db,
        user,
        &["enroll", "--server", url, "--code", code],
    ));
}

/// `tern device --db DB --user USER ...`, every local user with the same password.
fn as_user(db: &str, user: &str, args: &[&str]) -> Output {
    Command::new(TERN)
        .args(["device", "--db", db, "--user", user])
        .args(args)
        .env("TERN_PASSWORD", "device-pass-1")
        .env("TERN_NEW_PASSWORD", "device-pass-1")
        .env("TERN_ACCOUNT_PASSWORD", "account-pass-1")
        .env_remove("TERN_USER")
        .stdin(Stdio::null())
        .output()
        .expect("run tern")
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn local_users_must_be_accounts_from_enrolment_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, url, admin) = serve_with_admin(dir.path());
    ok(&admin(&["site", "add", "site-a"]));
    ok(&admin(&[
        "user",
        "add",
        "amina",
        "--role",
        "clinician",
        "--site",
        "site-a",
    ]));

    // A device used offline before enrolment: `karim` is no account of the site and
    // captured a record.
    let db_s = new_device(dir.path(), "a.db", "amina");
    ok(&as_user(&db_s, "amina", &["user", "add", "karim"]));
    let subject = ok(&as_user(
        &db_s,
        "karim",
        &["subject", "add", "--set", "sex=female"],
    ));
    ok(&as_user(
        &db_s,
        "karim",
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));

    // Enrolment is refused before anything is stored, naming the user and what to do.
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));
    let refused = as_user(
        &db_s,
        "amina",
        &["enroll", "--server", &url, "--code", &code],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr_of(&refused));
    let msg = stderr_of(&refused);
    for part in [
        "`karim`",
        "ask an administrator to add these accounts to site site-a",
        "then enrol again",
    ] {
        assert!(msg.contains(part), "{part:?} in {msg}");
    }
    assert!(!msg.contains("`amina`"), "{msg}");
    assert!(refused.stdout.is_empty());
    let status = json_of(&as_user(&db_s, "amina", &["status"]));
    assert!(status["server"].is_null(), "not enrolled: {status}");
    let records = json_of(&as_user(&db_s, "karim", &["record", "list"]));
    assert_eq!(records.as_array().map(Vec::len), Some(1), "data kept");

    // The administrator adds the account: the same code enrols, the data syncs.
    ok(&admin(&[
        "user", "add", "karim", "--role", "screener", "--site", "site-a",
    ]));
    let e = json_of(&as_user(
        &db_s,
        "amina",
        &["enroll", "--server", &url, "--code", &code],
    ));
    assert_eq!(e["sites"][0], "site-a");
    // From enrolment on, before any sync, a new local user must be an account.
    let nobody = as_user(&db_s, "amina", &["user", "add", "nobody"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        stderr_of(&nobody).contains("`nobody` is not a server account of site `site-a`"),
        "{}",
        stderr_of(&nobody)
    );
    let report = json_of(&as_user(&db_s, "karim", &["sync"]));
    assert!(report["pushed_changes"].as_u64().is_some_and(|n| n > 0));

    // A push still refused because an author has no account (an account deleted on
    // the server later, stood in for by a device list that still names it): exit 1,
    // naming the user and what to do; nothing is lost.
    {
        let mut s =
            tern_store::Store::open(std::path::Path::new(&db_s), Some("amina"), "device-pass-1")
                .expect("open");
        s.apply_accounts(
            1,
            &[
                ("amina".into(), "clinician".into()),
                ("ghost".into(), "screener".into()),
                ("karim".into(), "screener".into()),
            ],
        )
        .expect("stale list");
    }
    ok(&as_user(&db_s, "amina", &["user", "add", "ghost"]));
    ok(&as_user(
        &db_s,
        "ghost",
        &["subject", "add", "--set", "sex=male"],
    ));
    let stuck = as_user(&db_s, "ghost", &["sync"]);
    assert_eq!(stuck.status.code(), Some(1));
    assert!(stuck.stdout.is_empty());
    let msg = stderr_of(&stuck);
    for part in [
        "`ghost`, who has no server account",
        "nothing was stored",
        "Ask an administrator to add the account `ghost` to site `site-a`",
        "then sync again",
    ] {
        assert!(msg.contains(part), "{part:?} in {msg}");
    }
    let pending = json_of(&as_user(&db_s, "amina", &["status"]));
    assert!(pending["pending_changes"].as_i64().is_some_and(|n| n > 0));
    ok(&admin(&[
        "user", "add", "ghost", "--role", "screener", "--site", "site-a",
    ]));
    json_of(&as_user(&db_s, "ghost", &["sync"]));
    // The screener's sync pushes everything but the restricted twin's changes, which
    // are sealed to the restricted key and wait for a key holder's session.
    assert!(
        json_of(&as_user(&db_s, "amina", &["status"]))["pending_changes"]
            .as_i64()
            .is_some_and(|n| n <= 1)
    );
    json_of(&as_user(&db_s, "amina", &["sync"]));
    assert_eq!(
        json_of(&as_user(&db_s, "amina", &["status"]))["pending_changes"],
        0
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn an_administrator_changes_an_accounts_role_and_sites_and_devices_follow() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, url, admin) = serve_with_admin(dir.path());
    ok(&admin(&["site", "add", "site-a"]));
    ok(&admin(&["site", "add", "site-b"]));
    for (name, role, site) in [
        ("amina", "clinician", "site-a"),
        ("karim", "screener", "site-b"),
    ] {
        ok(&admin(&[
            "user", "add", name, "--role", role, "--site", site,
        ]));
    }
    let account = |name: &str| -> Value {
        let all = json_of(&admin(&["user", "list"]));
        let found = all
            .as_array()
            .and_then(|a| a.iter().find(|u| u["name"] == name).cloned());
        found.unwrap_or(Value::Null)
    };
    assert_eq!(account("karim")["sites"], serde_json::json!(["site-b"]));
    assert!(account("karim").get("password_hash").is_none());

    // A device at site-a: karim works at site-b only, so he cannot be added, and the
    // message says which command fixes it.
    let db_s = new_device(dir.path(), "a.db", "amina");
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));
    enrol(&db_s, "amina", &url, &code);
    let refused = as_user(&db_s, "amina", &["user", "add", "karim"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr_of(&refused).contains("tern admin user change karim --site site-a"),
        "{}",
        stderr_of(&refused)
    );

    // The administrator gives him site-a; after a sync the device takes him, as the
    // screener he is: a screener may not enter a TB classification.
    assert_eq!(
        ok(&admin(&["user", "change", "karim", "--site", "site-a"])),
        "karim"
    );
    assert_eq!(
        account("karim")["sites"],
        serde_json::json!(["site-a", "site-b"])
    );
    ok(&as_user(&db_s, "amina", &["sync"]));
    ok(&as_user(&db_s, "amina", &["user", "add", "karim"]));
    let subject = ok(&as_user(
        &db_s,
        "karim",
        &["subject", "add", "--set", "sex=female"],
    ));
    let record = ok(&as_user(
        &db_s,
        "karim",
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    let screener = as_user(
        &db_s,
        "karim",
        &["record", "set", &record, "tb_diagnosis", "ltbi"],
    );
    assert_eq!(screener.status.code(), Some(1), "{}", stderr_of(&screener));

    // Now a clinician: the next sync brings the role down and the write is allowed,
    // on the device and on the server.
    assert_eq!(
        ok(&admin(&["user", "change", "karim", "--role", "clinician"])),
        "karim"
    );
    assert_eq!(account("karim")["role"], "clinician");
    ok(&as_user(&db_s, "karim", &["sync"]));
    ok(&as_user(
        &db_s,
        "karim",
        &["record", "set", &record, "tb_diagnosis", "ltbi"],
    ));
    let report = json_of(&as_user(&db_s, "karim", &["sync"]));
    assert!(
        report["pushed_changes"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    let mut quarantined = Value::Null;
    for _ in 0..100 {
        let status = json_of(&admin(&["status"]));
        if status["unverified"] == 0 {
            quarantined = status["quarantined"].clone();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(quarantined, 0, "the clinician's write is accepted");

    // Mistakes are refused with a reason, and change nothing.
    for (args, reason) in [
        (
            vec!["user", "change", "nobody", "--role", "screener"],
            "no user `nobody`",
        ),
        (
            vec!["user", "change", "karim", "--site", "nowhere"],
            "no site `nowhere`",
        ),
        (
            vec!["user", "change", "karim", "--role", "wizard"],
            "wizard",
        ),
        (vec!["user", "change", "karim"], "nothing to change"),
    ] {
        let out = admin(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr_of(&out).contains(reason),
            "{reason:?} in {}",
            stderr_of(&out)
        );
    }
    assert_eq!(account("karim")["role"], "clinician");
    assert_eq!(
        account("karim")["sites"],
        serde_json::json!(["site-a", "site-b"])
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// A screener types a clinician's name as a new local user on their enrolled tablet
/// and writes a TB diagnosis as her: the work stays on the device (she never proved
/// the account here), a sync as her is refused with the password the screener chose,
/// and only her own password lets the work leave. The screener's own work still syncs.
#[test]
fn a_screener_cannot_act_as_a_clinician_through_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, url, admin) = serve_with_admin(dir.path());
    ok(&admin(&["site", "add", "site-a"]));
    ok(&admin(&[
        "user", "add", "bilal", "--role", "screener", "--site", "site-a",
    ]));
    // The clinician's account has a password of her own.
    let clinician = Command::new(TERN)
        .args(["admin", "--data"])
        .arg(dir.path().join("srv"))
        .args([
            "user",
            "add",
            "amina",
            "--role",
            "clinician",
            "--site",
            "site-a",
        ])
        .env("TERN_PASSWORD", "amina-own-pass")
        .stdin(Stdio::null())
        .output()
        .expect("run tern");
    ok(&clinician);

    let db_s = new_device(dir.path(), "tablet.db", "bilal");
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));
    enrol(&db_s, "bilal", &url, &code);
    let subject = ok(&as_user(
        &db_s,
        "bilal",
        &["subject", "add", "--set", "sex=female"],
    ));
    let record = ok(&as_user(
        &db_s,
        "bilal",
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    ok(&as_user(&db_s, "bilal", &["sync"]));

    // The impostor: added offline with a password the screener chose.
    ok(&as_user(&db_s, "bilal", &["user", "add", "amina"]));
    ok(&as_user(
        &db_s,
        "amina",
        &["record", "set", &record, "tb_diagnosis", "pulmonary_tb"],
    ));
    let status = json_of(&as_user(&db_s, "bilal", &["status"]));
    assert_eq!(
        status["unproven_users"],
        serde_json::json!(["amina"]),
        "{status}"
    );
    // A sync as her proves nothing with the screener's password: exit 1, nothing sent.
    let refused = as_user(&db_s, "amina", &["sync"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
    assert!(
        stderr_of(&refused).contains("could not prove their server account"),
        "{}",
        stderr_of(&refused)
    );
    // The screener's sync sends nothing of hers.
    let report = json_of(&as_user(&db_s, "bilal", &["sync"]));
    assert_eq!(report["pushed_changes"], 0, "{report}");
    assert!(
        json_of(&as_user(&db_s, "bilal", &["status"]))["pending_changes"]
            .as_i64()
            .is_some_and(|n| n > 0),
        "her change waits on the device"
    );
    // Her own password proves the account; then her work leaves.
    let proven = Command::new(TERN)
        .args(["device", "--db", &db_s, "--user", "amina", "sync"])
        .env("TERN_PASSWORD", "device-pass-1")
        .env("TERN_ACCOUNT_PASSWORD", "amina-own-pass")
        .env_remove("TERN_USER")
        .stdin(Stdio::null())
        .output()
        .expect("run tern");
    let report = json_of(&proven);
    assert!(
        report["pushed_changes"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    let status = json_of(&as_user(&db_s, "bilal", &["status"]));
    assert_eq!(status["unproven_users"], serde_json::json!([]), "{status}");
    assert_eq!(status["pending_changes"], 0, "{status}");
    let _ = server.kill();
    let _ = server.wait();
}

/// Issue 12: a clinician (zara) proven on a shared tablet after its first key holder
/// (amina, who enrolled it) opens restricted sections right after her proof (her
/// first `device sync`), with no key holder signing in: the tablet escrowed its restricted key with the server at
/// enrolment and the answer to her proof brings it, sealed to her own key. The
/// screener's proof on the same tablet brings nothing.
#[test]
fn a_clinician_proven_after_the_key_holder_opens_restricted_sections_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let (mut server, url, admin) = serve_with_admin(dir.path());
    ok(&admin(&["site", "add", "site-a"]));
    for (user, role) in [
        ("amina", "clinician"),
        ("zara", "clinician"),
        ("bilal", "screener"),
    ] {
        ok(&admin(&[
            "user", "add", user, "--role", role, "--site", "site-a",
        ]));
    }
    let db_s = new_device(dir.path(), "tablet.db", "amina");
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));
    enrol(&db_s, "amina", &url, &code);
    ok(&as_user(&db_s, "amina", &["user", "add", "zara"]));
    ok(&as_user(&db_s, "amina", &["user", "add", "bilal"]));
    let subject = ok(&as_user(
        &db_s,
        "amina",
        &["subject", "add", "--set", "sex=female"],
    ));
    let record = ok(&as_user(
        &db_s,
        "amina",
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    for (field, value) in [
        ("hiv_offered", "true"),
        ("hiv_accepted", "true"),
        ("hiv_lab_id", "LAB-CLI-4711"),
    ] {
        ok(&as_user(
            &db_s,
            "amina",
            &["record", "set", &record, field, value],
        ));
    }
    let lab_id = |user: &str| {
        json_of(&as_user(&db_s, user, &["record", "show", &record]))["answers"]["hiv_lab_id"]
            .clone()
    };
    assert_eq!(lab_id("zara"), Value::Null, "not proven yet");

    // Her first sync proves her account; the answer brings the tablet's key.
    json_of(&as_user(&db_s, "zara", &["sync"]));
    assert_eq!(lab_id("zara"), serde_json::json!("LAB-CLI-4711"));
    ok(&as_user(
        &db_s,
        "zara",
        &["record", "set", &record, "hiv_lab_id", "LAB-CLI-4712"],
    ));

    // The screener's proof brings nothing; his sync leaves her change for her.
    json_of(&as_user(&db_s, "bilal", &["sync"]));
    assert_eq!(lab_id("bilal"), Value::Null);
    json_of(&as_user(&db_s, "zara", &["sync"]));
    assert_eq!(
        json_of(&as_user(&db_s, "zara", &["status"]))["pending_changes"],
        0
    );
    assert_eq!(lab_id("zara"), serde_json::json!("LAB-CLI-4712"));
    let _ = server.kill();
    let _ = server.wait();
}
