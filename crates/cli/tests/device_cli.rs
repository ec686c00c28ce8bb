//! The `tern device` contract, run against the real binary.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{json_of, ok};

const TERN: &str = env!("CARGO_BIN_EXE_tern");

fn tern(db: &Path, user: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(TERN);
    c.arg("device").arg("--db").arg(db);
    if let Some(u) = user {
        c.args(["--user", u]);
    }
    c.args(args)
        .env("TERN_PASSWORD", "pass-word")
        .env_remove("TERN_USER")
        .stdin(Stdio::null())
        .output()
        .expect("run tern")
}

fn setup(dir: &Path, name: &str, role: &str) -> std::path::PathBuf {
    let db = dir.join(format!("{name}.db"));
    ok(&tern(&db, None, &["init", "--user", name, "--role", role]));
    db
}

/// Carries `from`'s changes to `to` in the change file `file`.
fn carry(from: &Path, to: &Path, file: &Path) {
    let file = file.to_str().expect("path");
    ok(&tern(from, None, &["changes", "export", file]));
    ok(&tern(to, None, &["changes", "import", file]));
}

#[test]
fn capture_show_history_and_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = setup(dir.path(), "amina", "clinician");
    let subject = ok(&tern(
        &db,
        None,
        &[
            "subject",
            "add",
            "--set",
            "given_name=Amína",
            "--set",
            "family_name=Haddad",
            "--set",
            "sex=female",
            "--set",
            "date_of_birth=1990-05-01",
        ],
    ));
    assert_eq!(subject.len(), 11);
    let record = ok(&tern(
        &db,
        None,
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    assert_eq!(record.len(), 36);
    ok(&tern(
        &db,
        None,
        &["record", "set", &record, "temp_c", "37.5"],
    ));
    ok(&tern(
        &db,
        None,
        &[
            "record",
            "set",
            &record,
            "current_meds[0].med_name",
            "metformin",
        ],
    ));
    // A CVX-like code stays text; a decimal field refuses words.
    let bad = tern(&db, None, &["record", "set", &record, "temp_c", "warm"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("warm"), "no values in messages: {err}");
    assert!(bad.stdout.is_empty());
    let show = json_of(&tern(&db, None, &["record", "show", &record]));
    assert_eq!(show["answers"]["temp_c"], json!(37.5));
    assert_eq!(
        show["answers"]["current_meds"][0]["med_name"],
        json!("metformin")
    );
    assert_eq!(show["status"], json!("draft"));
    assert_eq!(show["conflicts"], json!([]));
    assert!(show["errors"].is_array());
    assert_eq!(show["complete"], json!(false));
    let hist = json_of(&tern(&db, None, &["record", "history", &record, "temp_c"]));
    let entry = &hist[0];
    for key in ["field", "value", "user", "device", "time", "message"] {
        assert!(entry.get(key).is_some(), "{key} in {entry}");
    }
    assert_eq!(entry["user"], json!("amina"));
    let hits = json_of(&tern(&db, None, &["subject", "search", "--name", "AMINA"]));
    assert_eq!(hits[0]["subject_id"], json!(subject));
    // Usage error: exit 2.
    let usage = tern(&db, None, &["record", "frobnicate"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn password_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = setup(dir.path(), "amina", "screener");
    // No variable and no terminal: fail at once.
    let out = Command::new(TERN)
        .args(["device", "--db"])
        .arg(&db)
        .args(["record", "list"])
        .env_remove("TERN_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TERN_PASSWORD"));
    let wrong = Command::new(TERN)
        .args(["device", "--db"])
        .arg(&db)
        .args(["record", "list"])
        .env("TERN_PASSWORD", "nope-nope")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong password"));
    // A second user; then the acting user must be named.
    let add = Command::new(TERN)
        .args(["device", "--db"])
        .arg(&db)
        .args(["user", "add", "sara", "--role", "supervisor"])
        .env("TERN_PASSWORD", "pass-word")
        .env("TERN_NEW_PASSWORD", "sara-pass")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    ok(&add);
    let which = tern(&db, None, &["record", "list"]);
    assert_eq!(which.status.code(), Some(1));
    let by_env = Command::new(TERN)
        .args(["device", "--db"])
        .arg(&db)
        .args(["record", "list"])
        .env("TERN_PASSWORD", "sara-pass")
        .env("TERN_USER", "sara")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(json_of(&by_env), json!([]));
}

#[test]
fn conflicts_travel_by_change_files_and_are_resolved() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = setup(dir.path(), "amina", "clinician");
    let b = setup(dir.path(), "bilal", "clinician");
    let s = setup(dir.path(), "sara", "supervisor");
    let subject = ok(&tern(&a, None, &["subject", "add", "--set", "sex=female"]));
    let record = ok(&tern(
        &a,
        None,
        &["record", "new", "--form", "pda", "--subject", &subject],
    ));
    let fa = dir.path().join("a.tern");
    let fb = dir.path().join("b.tern");
    carry(&a, &b, &fa);
    ok(&tern(
        &a,
        None,
        &["record", "set", &record, "consent_research", "granted"],
    ));
    ok(&tern(
        &b,
        None,
        &["record", "set", &record, "consent_research", "withdrawn"],
    ));
    carry(&b, &a, &fb);
    let show = json_of(&tern(&a, None, &["record", "show", &record]));
    assert_eq!(show["answers"]["consent_research"], json!("withdrawn"));
    let c = &show["conflicts"][0];
    assert_eq!(c["field"], json!("consent_research"));
    let mut users: Vec<&str> = c["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|v| v["user"].as_str().expect("user"))
        .collect();
    users.sort();
    assert_eq!(users, ["amina", "bilal"]);
    for v in c["values"].as_array().expect("values") {
        assert!(v["device"].is_string() && v["time"].is_string() && v.get("value").is_some());
    }
    // Consent is not a clinical field: the clinician may not resolve it.
    let refused = tern(
        &a,
        None,
        &[
            "record",
            "resolve",
            &record,
            "consent_research",
            "withdrawn",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    carry(&a, &s, &fa);
    ok(&tern(
        &s,
        None,
        &[
            "record",
            "resolve",
            &record,
            "consent_research",
            "withdrawn",
        ],
    ));
    let fs = dir.path().join("s.tern");
    carry(&s, &a, &fs);
    let show = json_of(&tern(&a, None, &["record", "show", &record]));
    assert_eq!(show["conflicts"], json!([]));
    // A truncated file is refused and changes nothing.
    let bytes = std::fs::read(&fs).expect("read");
    let cut = dir.path().join("cut.tern");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let out = tern(
        &b,
        None,
        &["changes", "import", cut.to_str().expect("path")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unchanged"));
}

#[test]
fn record_import_reports_refused_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = setup(dir.path(), "amina", "clinician");
    let file = dir.path().join("in.jsonl");
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            json!({"given_name": "A", "sex": "female", "temp_c": 36.6}),
            json!({"temp_c": "hot"})
        ),
    )
    .expect("write");
    let out = tern(
        &db,
        None,
        &[
            "record",
            "import",
            "--form",
            "pda",
            file.to_str().expect("path"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["imported"], json!(1));
    assert_eq!(report["refused"][0]["line"], json!(2));
    let list = json_of(&tern(&db, None, &["record", "list"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

/// `tern device alerts`: a TB suspect on arrival is a task in the list (JSON).
#[test]
fn alerts_are_listed_as_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = setup(dir.path(), "amina", "clinician");
    let subject = ok(&tern(
        &db,
        None,
        &["subject", "add", "--set", "date_of_birth=1990-05-01"],
    ));
    let record = ok(&tern(
        &db,
        None,
        &["record", "new", "--form", "arr_t2", "--subject", &subject],
    ));
    assert_eq!(json_of(&tern(&db, None, &["alerts"])), json!([]));
    ok(&tern(
        &db,
        None,
        &["record", "set", &record, "sx_cough_2w", "true"],
    ));
    let alerts = json_of(&tern(&db, None, &["alerts"]));
    assert_eq!(alerts[0]["record_id"], json!(record));
    assert_eq!(alerts[0]["kind"], json!("tb_suspect"));
    assert_eq!(alerts[0]["state"], json!("open"));
    assert!(alerts[0]["deadline"].is_string(), "{alerts}");
}
