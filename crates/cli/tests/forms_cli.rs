//! The `tern forms` contract, through the real binary: output shapes, exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("tern runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tern-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn lint_accepts_the_real_forms() {
    let out = tern(&[
        "forms",
        "lint",
        "schemas/forms/pda.json",
        "schemas/forms/pec.json",
        "schemas/forms/arr_t1.json",
        "schemas/forms/arr_t2.json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn lint_reports_file_line_column_and_exits_1() {
    let dir = temp_dir("lint");
    let form = dir.join("bad.json");
    std::fs::write(
        &form,
        r#"{
  "form_id": "bad", "version": "1.0.0", "title": "Bad", "languages": ["en"],
  "sections": [{"id": "s", "title": "S", "fields": [
    {"id": "a", "type": "integer", "label": "A", "relevant": "${b} > 1"},
    {"id": "a", "type": "text", "label": "Again"}
  ]}]
}"#,
    )
    .expect("write form");
    let out = tern(&["forms", "lint", form.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let name = form.display().to_string();
    assert_eq!(
        lines,
        [
            format!("{name}:4:63: in `${{b}} > 1`: unknown field `${{b}}`: no field has this id in the form"),
            format!("{name}:5:12: field id `a` is used twice"),
        ]
    );
    // Unreadable and non-JSON files are problems too, not crashes.
    std::fs::write(dir.join("broken.json"), "{\"form_id\": ").expect("write");
    let out = tern(&[
        "forms",
        "lint",
        dir.join("broken.json").to_str().expect("path"),
        dir.join("missing.json").to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.contains("broken.json:1:12: EOF while parsing a value"),
        "{stdout}"
    );
    assert!(stdout.contains("missing.json:1:1: cannot read"), "{stdout}");
}

#[test]
fn eval_prints_the_promised_json() {
    let dir = temp_dir("eval");
    let answers = dir.join("answers.json");
    std::fs::write(
        &answers,
        r#"{"encounter_start": "2026-03-02T09:00:00Z", "sex": "female", "date_of_birth": "2000-01-15",
            "sbp": 80, "dbp": 90, "temp_c": 39.0, "pregnant": "yes",
            "vacc": [{"vaccine_cvx": "03", "source": "administered_here", "date_given": "2026-03-02"}]}"#,
    )
    .expect("write answers");
    let out = tern(&[
        "forms",
        "eval",
        "schemas/forms/pda.json",
        answers.to_str().expect("path"),
        "--today",
        "2026-03-02",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    for key in [
        "relevant",
        "missing",
        "errors",
        "warnings",
        "calculated",
        "complete",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(v["complete"], false);
    assert_eq!(v["calculated"]["age_years"], 26);
    let has = |list: &str, rule: &str, field: &str| {
        v[list]
            .as_array()
            .expect("array")
            .iter()
            .any(|e| e["rule"] == rule && e["field"] == field)
    };
    assert!(has("errors", "r10", "sbp"), "{v:#}");
    assert!(
        has("errors", "r31", "vacc[0].vaccine_cvx"),
        "live vaccine during pregnancy: {v:#}"
    );
    assert!(v["relevant"]
        .as_array()
        .expect("array")
        .iter()
        .any(|f| f == "vacc[0].vaccine_cvx"));
    assert!(v["missing"]
        .as_array()
        .expect("array")
        .iter()
        .any(|f| f == "programme"));
}

#[test]
fn eval_refuses_unreadable_input_with_exit_1() {
    let dir = temp_dir("eval-bad");
    let answers = dir.join("answers.json");
    std::fs::write(&answers, "[1, 2]").expect("write");
    let out = tern(&[
        "forms",
        "eval",
        "schemas/forms/pda.json",
        answers.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must hold one JSON object"));
    let out = tern(&[
        "forms",
        "eval",
        "schemas/forms/nope.json",
        answers.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = tern(&["forms", "eval", "schemas/forms/pda.json"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn eval_takes_confirmed_warnings() {
    let dir = temp_dir("eval-confirm");
    let fixture = repo().join("crates/forms/tests/fixtures/pda_full.json");
    let mut answers: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).expect("fixture")).expect("JSON");
    answers["temp_c"] = serde_json::json!(34.2);
    let path = dir.join("answers.json");
    std::fs::write(&path, answers.to_string()).expect("write");
    let path = path.to_str().expect("path");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "forms",
            "eval",
            "schemas/forms/pda.json",
            path,
            "--today",
            "2026-03-02",
        ];
        args.extend_from_slice(extra);
        let out = tern(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let v = run(&[]);
    assert!(
        v["warnings"]
            .as_array()
            .expect("array")
            .iter()
            .any(|w| w["rule"] == "r4a"),
        "{v:#}"
    );
    assert_eq!(
        v["complete"], false,
        "an unconfirmed warning blocks completion"
    );
    // The TB burden tables are placeholders: their "not configured" warnings are
    // confirmed too (FORMS.md: a missing figure is never read as "no").
    let v = run(&[
        "--confirm",
        "r4a@temp_c",
        "--confirm",
        "who_tb_incidence_not_configured@high_tb_burden_origin",
        "--confirm",
        "ecdc_prevalence_not_configured@country_of_origin",
        "--confirm",
        "endemic_areas_not_configured@country_of_origin",
    ]);
    assert_eq!(v["complete"], true, "{v:#}");
    let out = tern(&[
        "forms",
        "eval",
        "schemas/forms/pda.json",
        path,
        "--confirm",
        "r4a",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
