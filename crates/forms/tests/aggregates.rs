//! Aggregates over another repeat group with a filter: `max-of(${group}, value,
//! filter?)`, `min-of(...)`, `count-of(${group}, filter?)`. Wrong uses are refused when
//! the form loads, with a message saying what to write; evaluation agrees with the
//! same aggregate computed directly over random groups.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{json, Map, Value as J};
use tern_forms::{ConfigTables, EvalContext, Form, SourceFile};

/// A form with two repeat groups, `vacc` (doses) and `plan`, and `CALCS` spliced into
/// `plan` and `TOP` into the top level.
const FORM: &str = r#"{
  "form_id": "agg", "version": "1.0.0", "title": "Aggregates", "languages": ["en"],
  "choice_lists": {"src": [{"code": "card", "label": "Card"}, {"code": "verbal", "label": "Verbal"}]},
  "sections": [{"id": "s", "title": "S", "fields": [
    {"id": "dob", "type": "date", "label": "DOB"},
    {"id": "flag", "type": "boolean", "label": "Flag"},
    {"id": "vacc", "type": "repeat", "label": "Doses", "fields": [
      {"id": "vd", "type": "date", "label": "Date"},
      {"id": "vs", "type": "select_one", "choices": "src", "label": "Source"},
      {"id": "va", "type": "text", "label": "Antigen"},
      {"id": "vn", "type": "integer", "label": "Dose number"}
    ]},
    {"id": "plan", "type": "repeat", "label": "Plan", "fields": [
      {"id": "pa", "type": "text", "label": "Antigen"}CALCS
    ]}TOP
  ]}]
}"#;

const PLAN_CALCS: &str = r#",
      {"id": "last", "type": "calculate", "value_type": "date", "calculate": "max-of(${vacc}, ${vd}, ${va} = ${pa} and ${vs} != 'verbal')"},
      {"id": "first", "type": "calculate", "value_type": "date", "calculate": "min-of(${vacc}, ${vd}, ${va} = ${pa} and ${vs} != 'verbal')"},
      {"id": "n", "type": "calculate", "value_type": "integer", "calculate": "count-of(${vacc}, ${va} = ${pa} and ${vs} != 'verbal')"},
      {"id": "none", "type": "calculate", "value_type": "date", "calculate": "max-of(${vacc}, ${vd}, false())"}"#;

const TOP_CALCS: &str = r#",
    {"id": "top_max", "type": "calculate", "value_type": "integer", "calculate": "max-of(${vacc}, ${vn})"},
    {"id": "top_count", "type": "calculate", "value_type": "integer", "calculate": "count-of(${vacc})"},
    {"id": "top_after_dob", "type": "calculate", "value_type": "integer", "calculate": "count-of(${vacc}, ${vd} >= ${dob} and not(${flag}))"}"#;

fn form_with(calcs: &str, top: &str) -> Result<Form, String> {
    let text = FORM.replace("CALCS", calcs).replace("TOP", top);
    Form::parse(&SourceFile::new("agg.json", text), &ConfigTables::default())
        .map_err(|d| d.to_string())
}

fn form() -> Form {
    form_with(PLAN_CALCS, TOP_CALCS).unwrap_or_else(|e| panic!("{e}"))
}

fn evaluate(form: &Form, answers: J) -> Map<String, J> {
    let J::Object(answers) = answers else {
        panic!("answers are an object")
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z").expect("time");
    let result = form.evaluate_json(&answers, &EvalContext::new(now));
    assert!(
        result.errors.is_empty(),
        "answers are readable: {:?}",
        result.errors
    );
    result.calculated
}

#[test]
fn the_filter_reads_the_visited_instance_and_the_current_one() {
    let calc = evaluate(
        &form(),
        json!({
            "dob": "2020-01-01",
            "vacc": [
                {"vd": "2025-01-10", "vs": "card", "va": "measles", "vn": 1},
                {"vd": "2025-03-10", "vs": "verbal", "va": "measles", "vn": 2},
                {"vd": "2025-02-10", "vs": "card", "va": "measles", "vn": 3},
                {"vd": "2025-05-10", "vs": "card", "va": "polio", "vn": 1},
                {"vs": "card", "va": "measles"}
            ],
            "plan": [{"pa": "measles"}, {"pa": "polio"}, {"pa": "hepb"}]
        }),
    );
    // The verbal dose of 10 March is not the latest documented measles dose.
    assert_eq!(calc["plan[0].last"], json!("2025-02-10"));
    assert_eq!(calc["plan[0].first"], json!("2025-01-10"));
    // The dose without a date still counts, but has no date to compare.
    assert_eq!(calc["plan[0].n"], json!(3));
    assert_eq!(calc["plan[1].last"], json!("2025-05-10"));
    assert_eq!(calc["plan[1].n"], json!(1));
    // No dose passes the filter: empty, and a count of 0.
    assert_eq!(calc["plan[2].last"], J::Null);
    assert_eq!(calc["plan[2].first"], J::Null);
    assert_eq!(calc["plan[2].n"], json!(0));
    assert_eq!(calc["plan[0].none"], J::Null);
    // From outside any group, without a filter, and with a filter on top-level fields.
    assert_eq!(calc["top_max"], json!(3));
    assert_eq!(calc["top_count"], json!(5));
    // `flag` is unanswered, so `not(${flag})` is empty and no instance passes.
    assert_eq!(calc["top_after_dob"], json!(0));
}

#[test]
fn an_empty_group_gives_empty_and_zero() {
    let calc = evaluate(&form(), json!({"plan": [{"pa": "measles"}]}));
    assert_eq!(calc["plan[0].last"], J::Null);
    assert_eq!(calc["plan[0].n"], json!(0));
    assert_eq!(calc["top_max"], J::Null);
    assert_eq!(calc["top_count"], json!(0));
}

#[test]
fn wrong_uses_are_refused_when_the_form_loads() {
    let calc = |expr: &str, ty: &str| {
        format!(
            r#",
      {{"id": "bad", "type": "calculate", "value_type": "{ty}", "calculate": "{expr}"}}"#
        )
    };
    // (expression, value type, part of the message)
    let cases: &[(&str, &str, &str)] = &[
        (
            "max-of(${vaccs}, ${vd})",
            "date",
            "unknown field `${vaccs}`",
        ),
        ("max-of(${vacc}, ${vdd})", "date", "unknown field `${vdd}`"),
        (
            "max-of(${vd}, ${vd})",
            "date",
            "`${vd}` is a date, not a repeat group",
        ),
        (
            "max-of('vacc', ${vd})",
            "date",
            "must be a repeat group, such as ${vacc}",
        ),
        (
            "max-of(${vacc}, ${va})",
            "text",
            "max-of() needs a number, date or datetime to compare, but this is a text",
        ),
        (
            "max-of(${vacc}, ${vd}, ${va})",
            "date",
            "the filter of max-of() needs a boolean, but this is a text",
        ),
        (
            "count-of(${vacc}, ${vn} + 1)",
            "integer",
            "the filter of count-of() needs a boolean, but this is a number",
        ),
        (
            "max-of(${vacc}, ${vd}, ${va} > ${pa})",
            "date",
            "`>` needs numbers, dates or datetimes, not text",
        ),
        (
            "max-of(${vacc})",
            "date",
            "max-of() takes 2 to 3 argument(s), not 1",
        ),
        (
            "count-of(${vacc}, true(), true())",
            "integer",
            "count-of() takes 1 to 2 argument(s), not 3",
        ),
        (
            "max-of(${vacc}, ${vd}, count-of(${plan}) > 0)",
            "date",
            "cannot sit inside another max-of(), min-of() or count-of()",
        ),
        (
            "max-of(${plan}, position())",
            "integer",
            "the repeat group this expression sits in",
        ),
        ("max-of(${vacc}, ${vd})", "integer", "gives a date"),
    ];
    for (expr, ty, want) in cases {
        let err = match form_with(&calc(expr, ty), "") {
            Ok(_) => panic!("`{expr}` loaded"),
            Err(e) => e,
        };
        assert!(err.contains(want), "`{expr}`: {err}\nwanted: {want}");
    }
}

fn date(days: u16) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("date") + chrono::Duration::days(days as i64)
}

#[derive(Debug, Clone)]
struct Dose {
    date: Option<u16>,
    verbal: bool,
    antigen: &'static str,
}

fn doses() -> impl Strategy<Value = Vec<Dose>> {
    prop::collection::vec(
        (
            prop::option::of(0u16..3000),
            any::<bool>(),
            prop::sample::select(vec!["measles", "polio", "hepb"]),
        )
            .prop_map(|(date, verbal, antigen)| Dose {
                date,
                verbal,
                antigen,
            }),
        0..8,
    )
}

proptest! {
    /// `max-of` and `min-of` are the largest and smallest dates among the instances
    /// that pass the filter (empty when none does or none has a date); `count-of` is
    /// how many pass.
    #[test]
    fn aggregates_equal_the_filtered_values(doses in doses(), antigen in prop::sample::select(vec!["measles", "polio", "hepb", "bcg"])) {
        let form = form();
        let vacc: Vec<J> = doses.iter().map(|d| {
            let mut m = Map::new();
            if let Some(day) = d.date {
                m.insert("vd".into(), json!(date(day).to_string()));
            }
            m.insert("vs".into(), json!(if d.verbal { "verbal" } else { "card" }));
            m.insert("va".into(), json!(d.antigen));
            J::Object(m)
        }).collect();
        let calc = evaluate(&form, json!({"vacc": vacc, "plan": [{"pa": antigen}]}));
        let passing: Vec<&Dose> = doses.iter().filter(|d| d.antigen == antigen && !d.verbal).collect();
        let dates: Vec<NaiveDate> = passing.iter().filter_map(|d| d.date.map(date)).collect();
        let as_json = |d: Option<&NaiveDate>| d.map_or(J::Null, |d| json!(d.to_string()));
        prop_assert_eq!(&calc["plan[0].last"], &as_json(dates.iter().max()));
        prop_assert_eq!(&calc["plan[0].first"], &as_json(dates.iter().min()));
        prop_assert_eq!(&calc["plan[0].n"], &json!(passing.len()));
        prop_assert_eq!(&calc["plan[0].none"], &J::Null);
        prop_assert_eq!(&calc["top_count"], &json!(doses.len()));
    }

    /// A verbal dose never moves the latest documented date: adding one anywhere
    /// leaves `max-of` as it was.
    #[test]
    fn a_verbal_dose_never_changes_the_latest_documented_date(doses in doses(), day in 0u16..3000, at in 0usize..8) {
        let form = form();
        let to_json = |doses: &[Dose]| -> Vec<J> {
            doses.iter().map(|d| {
                let mut m = Map::new();
                if let Some(day) = d.date {
                    m.insert("vd".into(), json!(date(day).to_string()));
                }
                m.insert("vs".into(), json!(if d.verbal { "verbal" } else { "card" }));
                m.insert("va".into(), json!(d.antigen));
                J::Object(m)
            }).collect()
        };
        let before = evaluate(&form, json!({"vacc": to_json(&doses), "plan": [{"pa": "measles"}]}));
        let mut more = doses.clone();
        more.insert(at.min(more.len()), Dose { date: Some(day), verbal: true, antigen: "measles" });
        let after = evaluate(&form, json!({"vacc": to_json(&more), "plan": [{"pa": "measles"}]}));
        prop_assert_eq!(&before["plan[0].last"], &after["plan[0].last"]);
        prop_assert_eq!(&before["plan[0].n"], &after["plan[0].n"]);
    }
}
