//! The `tern hub` contract, run against the real binary on loopback: set-up from an
//! upstream `tern serve`, its two stdout lines (address, then fingerprint and a code),
//! a device enrolling with the hub's pinned code and syncing, `tern hub sync` and
//! `status` as JSON, a code from `tern admin` on the hub's folder, and a `kill -9` of
//! the hub followed by a restart that serves the same team.

use serde_json::Value;
use std::path::Path;
use std::process::Child;

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

#[test]
fn a_hub_serves_its_team_and_syncs_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let up = dir.path().join("up");
    let up_s = up.to_str().expect("path").to_string();
    let (mut server, lines) = spawn(
        &["serve", "--data", &up_s, "--listen", "127.0.0.1:0"],
        &[],
        1,
    );
    let upstream = format!("http://{}", lines[0]);
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--data", &up_s];
        all.extend_from_slice(args);
        run(&all, &[("TERN_PASSWORD", "account-pass-1")])
    };
    ok(&admin(&["site", "add", "site-a"]));
    for (name, role) in [("chen", "supervisor"), ("amina", "clinician")] {
        ok(&admin(&[
            "user", "add", name, "--role", role, "--site", "site-a",
        ]));
    }
    let code = ok(&admin(&["device", "enroll", "--site", "site-a"]));

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
    let db_s = db.to_str().expect("path").to_string();
    let device_env = [
        ("TERN_PASSWORD", "device-pass-1"),
        ("TERN_ACCOUNT_PASSWORD", "account-pass-1"),
    ];
    let device = |args: &[&str]| {
        let mut all = vec!["device", "--db", &db_s];
        all.extend_from_slice(args);
        run(&all, &device_env)
    };
    ok(&device(&["init", "--user", "amina", "--site", "site-a"]));
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
