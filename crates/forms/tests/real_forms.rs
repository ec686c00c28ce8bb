//! The real forms of `schemas/forms`: they load with every translation, and every
//! cross-field rule of FORMS.md section 5 fires exactly when it should, case by case
//! from `tests/rule_cases/<form>.json`.

use chrono::NaiveDate;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tern_forms::{ConfigTables, EvalContext, Form, SourceFile};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SourceFile::new(path.display().to_string(), text)
}

fn tables(dir: &Path) -> ConfigTables {
    let mut files: Vec<SourceFile> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| read(&p))
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    ConfigTables::parse(&files).unwrap_or_else(|d| panic!("{d}"))
}

fn load(form_id: &str, config: &ConfigTables) -> Form {
    let dir = repo().join("schemas/forms");
    let mut form = Form::parse(&read(&dir.join(format!("{form_id}.json"))), config)
        .unwrap_or_else(|d| panic!("{d}"));
    let languages: Vec<String> = form.languages().iter().skip(1).cloned().collect();
    for lang in languages {
        let path = dir.join(format!("translations/{form_id}.{lang}.json"));
        if path.exists() {
            form.add_translation(&read(&path))
                .unwrap_or_else(|d| panic!("{d}"));
        }
    }
    form
}

const FORMS: &[&str] = &["pda", "pec", "arr_t1", "arr_t2"];

#[test]
fn every_real_form_loads_with_complete_translations() {
    let config = tables(&repo().join("schemas/config"));
    for id in FORMS {
        let form = load(id, &config);
        assert_eq!(form.form_id(), *id);
        assert!(
            form.languages().iter().any(|l| l == "ar"),
            "{id} has Arabic"
        );
        assert!(
            form.missing_translations().is_empty(),
            "{id} misses {:?}",
            form.missing_translations()
        );
        for lang in &form.languages()[1..] {
            let review = form.review(lang).expect("loaded translation");
            assert_eq!(
                review.status,
                tern_forms::ReviewStatus::Unreviewed,
                "{id}.{lang} has not been signed off by a translator"
            );
        }
    }
    let pda = load("pda", &config);
    for lang in ["ar", "fa", "uk", "fr"] {
        assert!(
            pda.languages().iter().any(|l| l == lang),
            "pda declares {lang}"
        );
    }
}

#[derive(Deserialize)]
struct Case {
    name: String,
    rule: String,
    today: NaiveDate,
    answers: serde_json::Map<String, serde_json::Value>,
    fires: bool,
    #[serde(default)]
    config: Option<String>,
}

#[test]
fn every_rule_case_fires_exactly_when_it_should() {
    let shipped = tables(&repo().join("schemas/config"));
    let fixture = tables(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config"));
    let mut failures = Vec::new();
    let mut count = 0;
    for id in FORMS {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/rule_cases/{id}.json"));
        let cases: Vec<Case> = serde_json::from_str(&read(&path).text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let with_shipped = load(id, &shipped);
        let with_fixture = load(id, &fixture);
        let mut rules_covered = std::collections::BTreeSet::new();
        for case in cases {
            let form = if case.config.as_deref() == Some("test") {
                &with_fixture
            } else {
                &with_shipped
            };
            let now = case
                .today
                .and_hms_opt(23, 59, 59)
                .expect("valid time")
                .and_utc()
                .fixed_offset();
            let mut ctx = EvalContext::new(now);
            ctx.today = case.today;
            let result = form.evaluate_json(&case.answers, &ctx);
            let fired = result
                .errors
                .iter()
                .chain(&result.warnings)
                .chain(&result.actions)
                .any(|r| r.rule == case.rule);
            let answer_problems: Vec<_> = result
                .errors
                .iter()
                .filter(|r| {
                    matches!(
                        r.rule.as_str(),
                        "unknown_field" | "wrong_type" | "not_a_choice" | "too_many"
                    )
                })
                .collect();
            if fired != case.fires || !answer_problems.is_empty() {
                failures.push(format!(
                    "{id}: `{}` (rule {}): expected fires={}, got {fired}; answer problems {answer_problems:?}",
                    case.name, case.rule, case.fires
                ));
            }
            if case.fires {
                rules_covered.insert(case.rule.clone());
            }
            count += 1;
        }
        // Every rule of the form has at least one case where it fires.
        for rule in rule_ids(&read(&repo().join(format!("schemas/forms/{id}.json"))).text) {
            if !rules_covered.contains(&rule) {
                failures.push(format!("{id}: rule {rule} has no case where it fires"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn rule_ids(form_text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(form_text).expect("form is JSON");
    v["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_realistic_full_pre_departure_record_is_complete() {
    let config = tables(&repo().join("schemas/config"));
    let form = load("pda", &config);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pda_full.json");
    let answers: serde_json::Value =
        serde_json::from_str(&read(&fixture).text).expect("fixture is JSON");
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z").expect("time");
    // The shipped burden tables are placeholders (all null): the record says so, and
    // is complete only once each "not configured" warning has been confirmed.
    let mut ctx = EvalContext::new(now);
    let unconfirmed = form.evaluate_json(answers.as_object().expect("object"), &ctx);
    assert!(!unconfirmed.complete);
    let mut not_configured: Vec<&str> = unconfirmed
        .warnings
        .iter()
        .map(|w| w.rule.as_str())
        .collect();
    not_configured.sort();
    assert_eq!(
        not_configured,
        [
            "ecdc_prevalence_not_configured",
            "endemic_areas_not_configured",
            "who_tb_incidence_not_configured"
        ],
        "{:#?}",
        (
            &unconfirmed.missing,
            &unconfirmed.errors,
            &unconfirmed.warnings
        )
    );
    for w in &unconfirmed.warnings {
        ctx.confirmed.insert(format!("{}@{}", w.rule, w.field));
    }
    let result = form.evaluate_json(answers.as_object().expect("object"), &ctx);
    assert!(
        result.complete,
        "{:#?}",
        (&result.missing, &result.errors, &result.warnings)
    );
    assert_eq!(result.calculated["age_years"], serde_json::json!(31));
    assert_eq!(result.calculated["bmi"], serde_json::json!(22.3));
    assert_eq!(
        result.calculated["cxr_required"],
        serde_json::json!(true),
        "US programme, age 31"
    );
    // The pregnancy block is shown for a woman of 31, hidden for a man.
    assert!(result.relevant.iter().any(|f| f == "pregnant"));
    let mut male = answers.as_object().expect("object").clone();
    male.insert("sex".into(), "male".into());
    male.remove("pregnant");
    male.remove("preg_test_result");
    let result = form.evaluate_json(&male, &ctx);
    assert!(!result.relevant.iter().any(|f| f == "pregnant"));
    assert!(
        result.complete,
        "{:#?}",
        (&result.missing, &result.errors, &result.warnings)
    );
}

#[test]
fn messages_come_in_the_chosen_language() {
    let config = tables(&repo().join("schemas/config"));
    let form = load("pda", &config);
    let answers = serde_json::json!({"encounter_start": "2026-03-02T09:00:00Z", "temp_c": 98.6});
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z").expect("time");
    let mut ctx = EvalContext::new(now);
    let english = form.evaluate_json(answers.as_object().expect("object"), &ctx);
    let r5 = english
        .errors
        .iter()
        .find(|e| e.rule == "r5")
        .expect("°F reading is refused");
    assert_eq!(r5.message, "This looks like °F. Enter temperature in °C.");
    assert!(
        !english.errors.iter().any(|e| e.rule == "r4"),
        "r5 is checked before r4"
    );
    ctx.language = "ar".into();
    let arabic = form.evaluate_json(answers.as_object().expect("object"), &ctx);
    let r5 = arabic
        .errors
        .iter()
        .find(|e| e.rule == "r5")
        .expect("°F reading is refused");
    assert!(
        r5.message
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "{}",
        r5.message
    );
}

#[test]
fn likert_items_carry_their_scale_in_every_language() {
    let config = tables(&repo().join("schemas/config"));
    let form = load("pda", &config);
    for lang in ["en", "ar", "fa", "fr", "uk"] {
        let view = form.view(lang);
        let likert: Vec<_> = view
            .sections
            .iter()
            .flat_map(|s| &s.fields)
            .filter(|f| f.appearance.as_deref() == Some("likert"))
            .collect();
        assert_eq!(likert.len(), 15, "{lang}: the 15 RHS items");
        for f in likert {
            assert_eq!(f.kind, "integer", "{}", f.id);
            let scale = f.choices.as_ref().expect("a likert item names its scale");
            let codes: Vec<i64> = scale
                .iter()
                .map(|c| c.code.parse().expect("integer codes"))
                .collect();
            let top = if f.id == "rhs_item_15" { 10 } else { 4 };
            assert_eq!(codes, (0..=top).collect::<Vec<_>>(), "{lang} {}", f.id);
            assert!(scale.iter().all(|c| !c.label.is_empty()));
        }
    }
    let en = form.view("en");
    let item = en
        .sections
        .iter()
        .flat_map(|s| &s.fields)
        .find(|f| f.id == "rhs_item_01")
        .expect("item 1");
    let labels: Vec<&str> = item
        .choices
        .as_ref()
        .expect("scale")
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels.first(), Some(&"Not at all"));
    assert_eq!(labels.last(), Some(&"Extremely"));
}

/// FORMS.md 2.2: TB classification, outcome, fitness to travel and sign-off are the
/// clinician's alone; every other field of the real forms is open to every role that
/// enters answers (the restricted sections are limited by `restricted`, not here).
#[test]
fn clinician_only_fields_are_marked_in_the_real_forms() {
    let config = tables(&repo().join("schemas/config"));
    let clinician_only: &[(&str, &[&str])] = &[
        (
            "pda",
            &[
                "clinician_id",
                "tb_diagnosis",
                "tb_class_us",
                "tb_extrapulmonary_site",
                "outcome",
                "deferral_reason",
                "deferral_until",
            ],
        ),
        ("pec", &["pec_outcome", "pec_hold_reason"]),
        ("arr_t1", &[]),
        ("arr_t2", &["clinician_id"]),
    ];
    for (form_id, expected) in clinician_only {
        let form = load(form_id, &config);
        let mut marked: Vec<&str> = form
            .fields()
            .iter()
            .filter(|f| f.write_roles().is_some())
            .map(|f| {
                assert_eq!(
                    f.write_roles(),
                    Some(&["clinician".to_string()][..]),
                    "{form_id}.{}",
                    f.id()
                );
                f.id()
            })
            .collect();
        marked.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(marked, expected, "{form_id}");
    }
}

/// The expected date of delivery is one rule (FORMS.md 3.6) computed the same way in
/// the pre-departure and the arrival forms, for LMP and for fractional ultrasound ages.
#[test]
fn edd_is_the_same_date_in_pda_and_arr_t2() {
    let config = tables(&repo().join("schemas/config"));
    let pda = load("pda", &config);
    let arr = load("arr_t2", &config);
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("time");
    let ctx = EvalContext::new(now);
    for (pregnancy, want) in [
        (serde_json::json!({"lmp_date": "2025-12-01"}), "2026-09-07"),
        (
            serde_json::json!({"ga_ultrasound_weeks": 20.05}),
            "2026-07-28",
        ),
        (
            serde_json::json!({"ga_ultrasound_weeks": 20.1, "lmp_date": "2025-10-01"}),
            "2026-07-27",
        ),
    ] {
        let mut answers = serde_json::json!({
            "encounter_start": "2026-03-10T08:00:00Z", "programme": "us", "rule_set": "default",
            "consent_screening": "granted", "legal_basis_screening": "legal_obligation",
            "sex": "female", "date_of_birth": "1994-05-01", "dob_precision": "exact",
            "pregnant": "yes"
        });
        for (k, v) in pregnancy.as_object().expect("object") {
            answers[k] = v.clone();
        }
        let a = pda.evaluate_json(answers.as_object().expect("object"), &ctx);
        let b = arr.evaluate_json(answers.as_object().expect("object"), &ctx);
        assert_eq!(
            a.calculated["edd"],
            serde_json::json!(want),
            "pda {pregnancy}"
        );
        assert_eq!(
            b.calculated["edd"],
            serde_json::json!(want),
            "arr_t2 {pregnancy}"
        );
    }
}

/// Issue 14 item 6: the vital signs carry the further LOINC codes FORMS.md 3.7 names
/// (SpO2 2708-6 for the FHIR vital-signs profile, the blood pressure panel 85354-9,
/// the vital-signs panel 85353-1), primary code first, in the form view.
#[test]
fn vital_signs_carry_their_further_loinc_codes() {
    let config = tables(&repo().join("schemas/config"));
    for form_id in ["pda", "arr_t2"] {
        let view = load(form_id, &config).view("en");
        let codes = |id: &str| -> Vec<(String, Option<String>)> {
            view.sections
                .iter()
                .flat_map(|s| &s.fields)
                .find(|f| f.id == id)
                .unwrap_or_else(|| panic!("{form_id} has {id}"))
                .codes
                .iter()
                .map(|c| (c.code.clone(), c.role.clone()))
                .collect()
        };
        let panel = ("85353-1".to_string(), Some("panel".to_string()));
        assert_eq!(
            codes("spo2"),
            [
                ("59408-5".to_string(), None),
                ("2708-6".to_string(), Some("fhir-vital-signs".to_string())),
                panel.clone()
            ],
            "{form_id}"
        );
        for bp in ["sbp", "dbp"] {
            let c = codes(bp);
            assert!(
                c.contains(&("85354-9".to_string(), Some("panel".to_string()))),
                "{form_id} {bp}: {c:?}"
            );
            assert!(c.contains(&panel), "{form_id} {bp}");
        }
        assert!(codes("temp_c").contains(&panel), "{form_id}");
    }
}

/// The catch-up due date is computed from the documented doses and the schedule
/// table: verbal history never counts, a combination vaccine counts for every
/// antigen it contains, and with no documented dose the dose is due at the
/// screening date (or at the minimum age, when later).
#[test]
fn catchup_due_dates_are_computed_from_documented_doses() {
    let config = tables(&repo().join("schemas/config"));
    let dose = |cvx: &str, date: &str, source: &str| serde_json::json!({"vaccine_cvx": cvx, "date_precision": "exact", "date_given": date, "source": source});
    let plan = |antigen: &str, n: i64| serde_json::json!({"antigen": antigen, "next_dose_no": n});
    for id in ["pda", "arr_t2"] {
        let form = load(id, &config);
        let answers = serde_json::json!({
            "encounter_start": "2026-03-09T08:00:00Z",
            "date_of_birth": "2023-01-15",
            "vacc": [
                dose("03", "2025-01-20", "card"),
                dose("03", "2026-03-01", "verbal"),
                dose("146", "2026-02-20", "registry"),
                dose("146", "2025-12-01", "card"),
                dose("08", "2025-11-01", "card"),
            ],
            "catchup_plan": [
                plan("measles", 2),
                plan("polio", 3),
                plan("hepb", 4),
                plan("varicella", 1),
                plan("dtp", 3),
            ]
        });
        let serde_json::Value::Object(answers) = answers else {
            unreachable!()
        };
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("time");
        let result = form.evaluate_json(&answers, &EvalContext::new(now));
        let calc = |path: &str| result.calculated[path].clone();
        let j = |s: &str| serde_json::json!(s);
        // Measles: the verbal dose of 1 March is not counted; 2025-01-20 + 28 days is
        // past, so dose 2 is due at the screening date.
        assert_eq!(calc("catchup_plan[0].catchup_documented_doses"), 1, "{id}");
        assert_eq!(
            calc("catchup_plan[0].catchup_last_dose"),
            j("2025-01-20"),
            "{id}"
        );
        assert_eq!(calc("catchup_plan[0].catchup_due"), j("2026-03-09"), "{id}");
        // Polio: two hexavalent doses; dose 3 is 28 days after the latest.
        assert_eq!(calc("catchup_plan[1].catchup_documented_doses"), 2, "{id}");
        assert_eq!(calc("catchup_plan[1].catchup_due"), j("2026-03-20"), "{id}");
        // Hepatitis B: three doses (08 and two hexavalent), dose 4 has no schedule row:
        // 28 days after the latest.
        assert_eq!(calc("catchup_plan[2].catchup_dose_no"), 4, "{id}");
        assert_eq!(calc("catchup_plan[2].catchup_due"), j("2026-03-20"), "{id}");
        // Varicella: no dose, the child is past the minimum age: due now.
        assert_eq!(calc("catchup_plan[3].catchup_documented_doses"), 0, "{id}");
        assert_eq!(calc("catchup_plan[3].catchup_due"), j("2026-03-09"), "{id}");
        // DTaP: dose 3 of the computed plan is dose 3 (two hexavalent doses).
        assert_eq!(calc("catchup_plan[4].catchup_dose_no"), 3, "{id}");
        assert_eq!(calc("catchup_plan[4].catchup_due"), j("2026-03-20"), "{id}");
    }
}

/// The schedule table names antigens of the forms' antigen list and doses 1-6, and
/// its intervals are whole, non-negative days; dose 1 has no interval.
#[test]
fn catchup_schedule_rows_name_antigens_and_doses() {
    let text = std::fs::read_to_string(repo().join("schemas/config/catchup_schedule.json"))
        .expect("catchup_schedule.json");
    let table: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        table["status"], "placeholder",
        "figures await the programme"
    );
    let form: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/forms/pda.json")).expect("pda"),
    )
    .expect("json");
    let antigens: Vec<&str> = form["choice_lists"]["antigen"]
        .as_array()
        .expect("antigen list")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    let rows = table["rows"].as_object().expect("rows");
    assert!(!rows.is_empty());
    for (key, row) in rows {
        let (antigen, dose) = key
            .split_once(':')
            .unwrap_or_else(|| panic!("{key}: antigen:dose"));
        assert!(antigens.contains(&antigen), "{key}: unknown antigen");
        let dose: u32 = dose
            .parse()
            .unwrap_or_else(|_| panic!("{key}: dose number"));
        assert!((1..=6).contains(&dose), "{key}: dose 1-6");
        for (col, v) in row.as_object().expect("row") {
            if let Some(n) = v.as_i64() {
                assert!(n >= 0, "{key}.{col} is negative");
            }
        }
        let interval = row["min_interval_days"].as_i64();
        assert_eq!(
            interval == Some(0),
            dose == 1,
            "{key}: only dose 1 has no interval"
        );
        if dose > 1 {
            assert!(
                rows.contains_key(&format!("{antigen}:{}", dose - 1)),
                "{key}: the previous dose has a row"
            );
        }
    }
}
