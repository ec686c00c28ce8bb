//! Bad form files give clear errors at the right line and column, never panics.
//! Each case is a small form text and the diagnostics it must produce.

use tern_forms::{ConfigTables, Form, SourceFile};

fn config() -> ConfigTables {
    let table = r#"{"table": "tb", "version": "1", "status": "placeholder", "source": "test",
        "key": "country", "columns": {"incidence": "decimal"}, "rows": {"SO": {"incidence": null}}}"#;
    ConfigTables::parse(&[SourceFile::new("tb.json", table)]).expect("table loads")
}

/// A valid form with `fields` (after an `age` field, from line 13) and `rules` spliced in.
fn form(fields: &str, rules: &str) -> String {
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(",\n{fields}")
    };
    format!(
        r#"{{
  "form_id": "t",
  "version": "1.0.0",
  "title": "Test",
  "languages": ["en"],
  "choice_lists": {{"yn": [{{"code": "yes", "label": "Yes"}}, {{"code": "no", "label": "No"}}]}},
  "sections": [
    {{
      "id": "main",
      "title": "Main",
      "fields": [
        {{"id": "age", "type": "integer", "label": "Age"}}{fields}
      ]
    }}
  ],
  "rules": [
{rules}
  ]
}}"#
    )
}

fn lint(text: &str) -> Vec<String> {
    match Form::parse(&SourceFile::new("f.json", text), &config()) {
        Ok(_) => Vec::new(),
        Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn a_valid_form_has_no_problems() {
    let text = form(
        r#"        {"id": "smoker", "type": "select_one", "choices": "yn", "label": "Smoker", "relevant": "${age} >= 12"},
        {"id": "inc", "type": "calculate", "calculate": "lookup('tb', 'SO', 'incidence')"}"#,
        r#"    {"id": "age_range", "field": "age", "severity": "error", "assert": ". >= 0 and . <= 120", "message": "Age {age} is not plausible."}"#,
    );
    assert_eq!(lint(&text), Vec::<String>::new());
}

#[test]
fn problems_name_file_line_column_and_what_to_do() {
    // (fields, rules, expected diagnostic lines: each must appear exactly)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "relevant": "${agee} > 1"}"#,
            "",
            &["f.json:13:67: in `${agee} > 1`: unknown field `${agee}`: no field has this id in the form"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "relevant": "${age} + 'a' > 1"}"#,
            "",
            &["f.json:13:76: in `${age} + 'a' > 1`: `+` needs a number, but this is a text"],
        ),
        (
            r#"        {"id": "age", "type": "text", "label": "Again"}"#,
            "",
            &["f.json:13:16: field id `age` is used twice"],
        ),
        (
            r#"        {"id": "a", "type": "calculate", "calculate": "${b} + 1"},
        {"id": "b", "type": "calculate", "calculate": "${a} + 1"}"#,
            "",
            &["f.json:13:55: cycle: a → b → a (each reads the next in its relevance or calculation)"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "relevant": "${age} >"}"#,
            "",
            &["f.json:13:75: in `${age} >`: the expression ends too early"],
        ),
        (
            r#"        {"id": "x", "type": "select_one", "choices": "nope", "label": "X"}"#,
            "",
            &["f.json:13:54: field `x` uses unknown choice list `nope`"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "choices": "yn", "label": "X", "appearance": "likert"}"#,
            "",
            &["f.json:13:51: field `x` is an integer: its scale `yn` needs integer codes"],
        ),
        (
            r#"        {"id": "x", "type": "text", "choices": "yn", "label": "X"}"#,
            "",
            &["f.json:13:48: field `x` is not a select or integer field: remove `choices`"],
        ),
        (
            r#"        {"id": "x", "type": "number", "label": "X"}"#,
            "",
            &["f.json:13:29: field `x` has unknown type `number`; types are text, integer, decimal, date, datetime, select_one, select_multiple, boolean, calculate, repeat, note"],
        ),
        (
            "",
            r#"    {"id": "r1", "field": "nothing", "severity": "error", "assert": "true()", "message": "M"}"#,
            &["f.json:17:27: rule `r1` is attached to unknown field `nothing`"],
        ),
        (
            "",
            r#"    {"id": "r1", "field": "age", "severity": "error", "assert": "${age}", "message": "M"}"#,
            &["f.json:17:66: in `${age}`: this gives a number, but a boolean is needed here"],
        ),
        (
            "",
            r#"    {"id": "r1", "field": "age", "severity": "fatal", "assert": "true()", "message": "Age {agee}"}"#,
            &[
                "f.json:17:46: severity `fatal` must be error, warning or action",
                "f.json:17:86: message inserts `{agee}`, which is not a field id",
            ],
        ),
        (
            r#"        {"id": "x", "type": "calculate", "calculate": "lookup('tb', 'SO', 'rate')"}"#,
            "",
            &["f.json:13:75: in `lookup('tb', 'SO', 'rate')`: table `tb` has no column `rate`; its columns are: [\"incidence\"]"],
        ),
        (
            r#"        {"id": "x", "type": "text", "label": "X", "relevant": "regex(${x}, '[a-')"}"#,
            "",
            &["f.json:13:76: in `regex(${x}, '[a-')`: invalid regular expression: error: invalid character class range, the start must be <= the end"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "colour": "red"}"#,
            "",
            &["f.json:13:61: unknown field `colour`, expected one of `id`, `type`, `label`, `hint`, `choices`, `required`, `relevant`, `calculate`, `value_type`, `fields`, `min`, `max`, `source`, `editable_subject`, `identity`, `restricted`, `unit`, `code`, `decimals`, `licensed_text`, `appearance`, `write_roles`, `choices_from`, `codes`"],
        ),
        (
            r#"        {"id": "x", "type": "text", "label": "X", "write_roles": ["clinician", "nurse"]}"#,
            "",
            &["f.json:13:80: write role `nurse` is not a role; roles are screener, clinician, supervisor, data_manager, admin"],
        ),
        (
            r#"        {"id": "x", "type": "text", "label": "X", "write_roles": []}"#,
            "",
            &["f.json:13:66: write_roles is empty, so nobody could write here: list the roles that may (from screener, clinician, supervisor, data_manager, admin), or leave it out to let every role that enters answers write"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "codes": [{"system": "http://loinc.org", "code": "1-8", "role": "panel"}]}"#,
            "",
            &["f.json:13:63: codes adds codes beside `code`: give the primary code in `code`"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "code": {"system": "http://loinc.org", "code": "1-8"}, "codes": [{"system": "http://loinc.org", "code": "1-8", "role": "chart"}]}"#,
            "",
            &["f.json:13:119: code `1-8` is given twice", "f.json:13:173: code role `chart` must be one of fhir-vital-signs, panel"],
        ),
        (
            r#"        {"id": "x", "type": "integer", "label": "X", "choices_from": {"accounts": ["clinician"]}}"#,
            "",
            &["f.json:13:70: choices_from applies to text answers only (not subject, context or identity fields)"],
        ),
        (
            r#"        {"id": "x", "type": "text", "label": "X", "choices_from": {"accounts": ["nurse"]}}"#,
            "",
            &["f.json:13:81: write role `nurse` is not a role; roles are screener, clinician, supervisor, data_manager, admin"],
        ),
        (
            r#"        {"id": "x", "type": "text", "label": "X", "write_roles": ["clinician", "clinician"]}"#,
            "",
            &["f.json:13:80: write role `clinician` is listed twice"],
        ),
        (
            r#"        {"id": "g", "type": "repeat", "label": "G", "write_roles": ["Clinician"], "fields": [{"id": "h", "type": "text", "label": "H"}]}"#,
            "",
            &["f.json:13:69: write role `Clinician` is not a role; roles are screener, clinician, supervisor, data_manager, admin"],
        ),
    ];
    let mut failures = Vec::new();
    for (fields, rules, expected) in cases {
        let text = form(fields, rules);
        let got = lint(&text);
        if got != expected.iter().map(|s| s.to_string()).collect::<Vec<_>>() {
            failures.push(format!(
                "for fields {fields:?} rules {rules:?}\n  expected {expected:#?}\n  got {got:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A section's `write_roles` hold for its fields, a repeat group's for its children,
/// unless a field names its own; an empty list on a section is refused too.
#[test]
fn write_roles_are_inherited_from_section_and_group() {
    let text = r#"{
  "form_id": "t", "version": "1.0.0", "title": "T", "languages": ["en"],
  "sections": [
    {"id": "open", "title": "Open", "fields": [{"id": "a", "type": "text", "label": "A"}]},
    {"id": "signoff", "title": "Sign-off", "write_roles": ["clinician"], "fields": [
      {"id": "b", "type": "text", "label": "B"},
      {"id": "c", "type": "text", "label": "C", "write_roles": ["clinician", "supervisor"]},
      {"id": "g", "type": "repeat", "label": "G", "fields": [{"id": "h", "type": "text", "label": "H"}]}
    ]},
    {"id": "grp", "title": "Group", "fields": [
      {"id": "r", "type": "repeat", "label": "R", "write_roles": ["screener"], "fields": [
        {"id": "s", "type": "text", "label": "S"},
        {"id": "t2", "type": "text", "label": "T", "write_roles": ["clinician"]}
      ]}
    ]}
  ]
}"#;
    let form = Form::parse(&SourceFile::new("f.json", text), &config()).expect("loads");
    let roles = |id: &str| {
        form.field(id)
            .expect("field")
            .write_roles()
            .map(|r| r.join(","))
    };
    assert_eq!(roles("a"), None);
    assert_eq!(roles("b").as_deref(), Some("clinician"));
    assert_eq!(roles("c").as_deref(), Some("clinician,supervisor"));
    assert_eq!(roles("g").as_deref(), Some("clinician"));
    assert_eq!(roles("h").as_deref(), Some("clinician"));
    assert_eq!(roles("r").as_deref(), Some("screener"));
    assert_eq!(roles("s").as_deref(), Some("screener"));
    assert_eq!(roles("t2").as_deref(), Some("clinician"));
    assert_eq!(
        form.sections()[1]
            .write_roles()
            .map(|r| r.join(","))
            .as_deref(),
        Some("clinician")
    );
    let empty = text.replace(
        r#""write_roles": ["clinician"], "fields": [
      {"id": "b""#,
        r#""write_roles": [], "fields": [
      {"id": "b""#,
    );
    let got = lint(&empty);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("f.json:5:59: write_roles is empty"),
        "{got:?}"
    );
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "null",
        "[]",
        "{",
        "{\"form_id\": 1}",
        &form(
            r#"        {"id": "g", "type": "repeat", "label": "G", "fields": [{"id": "h", "type": "repeat", "label": "H", "fields": []}]}"#,
            "",
        ),
        &form(
            r#"        {"id": "x", "type": "integer", "label": "X", "relevant": "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1"}"#,
            "",
        ),
    ];
    for text in inputs {
        let _ = lint(text);
    }
}

/// `configured()` tells a missing configuration value from a "no": a `null` cell or a
/// missing row is false, a present value true, an empty key empty.
#[test]
fn configured_tells_a_missing_configuration_value() {
    let table = r#"{"table": "tb", "version": "1", "status": "placeholder", "source": "test",
        "key": "country", "columns": {"incidence": "decimal"},
        "rows": {"SO": {"incidence": null}, "KE": {"incidence": 233}}}"#;
    let config = ConfigTables::parse(&[SourceFile::new("tb.json", table)]).expect("table");
    let text = form(
        r#"        {"id": "country", "type": "text", "label": "Country"},
        {"id": "known", "type": "calculate", "value_type": "boolean", "calculate": "configured('tb', ${country}, 'incidence')"},
        {"id": "sid", "type": "text", "label": "Subject"},
        {"id": "sid_ok", "type": "calculate", "value_type": "boolean", "calculate": "subject-id-valid(${sid})"}"#,
        "",
    );
    let form = Form::parse(&SourceFile::new("f.json", text), &config).expect("form loads");
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("time");
    let eval = |country: &str, sid: &str| {
        let mut answers = serde_json::Map::new();
        if !country.is_empty() {
            answers.insert("country".into(), country.into());
        }
        if !sid.is_empty() {
            answers.insert("sid".into(), sid.into());
        }
        let r = form.evaluate_json(&answers, &tern_forms::EvalContext::new(now));
        (
            r.calculated.get("known").cloned(),
            r.calculated.get("sid_ok").cloned(),
        )
    };
    let t = Some(serde_json::json!(true));
    let f = Some(serde_json::json!(false));
    assert_eq!(eval("KE", "7K3M9QX2TBX"), (t.clone(), t.clone()));
    assert_eq!(
        eval("SO", "7K3M9QX2TB4"),
        (f.clone(), f.clone()),
        "null cell, bad check"
    );
    assert_eq!(eval("XX", "").0, f, "missing row");
    let (empty, _) = eval("", "");
    assert!(
        empty.is_none() || empty == Some(serde_json::Value::Null),
        "{empty:?}"
    );
    // A misspelt column is a lint error, as for lookup().
    let bad = form_text_with_calc("configured('tb', 'SO', 'incidense')");
    assert!(
        lint(&bad)
            .iter()
            .any(|e| e.contains("no column `incidense`")),
        "{:?}",
        lint(&bad)
    );
}

fn form_text_with_calc(calc: &str) -> String {
    form(
        &format!(
            r#"        {{"id": "c", "type": "calculate", "value_type": "boolean", "calculate": "{calc}"}}"#
        ),
        "",
    )
}
