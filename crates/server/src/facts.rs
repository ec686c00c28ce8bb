//! What the server knows of each record (issue 17): the record's answers and the
//! form engine's verdict on them, kept in the `record_facts` projection beside
//! `records` so that reports read rows, never documents. Pure: the verifier and
//! `tern admin reproject` pass the form (the record's own version), the document's
//! inputs, the subject's values and the day to evaluate on.
//!
//! Kept: the record's answers except restricted and identity fields (a record
//! document holds no restricted answer anyway: those live in its twin, which is not
//! read here), calculated values, missing required answers, errors, open and
//! confirmed warnings, actions, whether it is complete, its outcome and refusal,
//! the subject's sex and age in years. `docs/reports.md` says what and why.

use crate::db::RecordRow;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};
use tern_forms::{EvalContext, Form};
use tern_record::RecordInput;

/// A rule that fired, on a field path (`group[i].field` inside repeats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub field: String,
    pub rule: String,
    /// The form's English message.
    pub message: String,
}

/// An alert or task a rule of the record raises (`tern_forms::alerts_of`: the same
/// alerts the device lists), dated from the alert section's `alert_datetime` when
/// answered, else from the encounter's start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertHit {
    pub rule: String,
    pub field: String,
    /// `tb_suspect`, `notifiable_alert`, `isolation` (`tern_forms::ALERT_KINDS`).
    pub kind: String,
    /// RFC 3339.
    pub fired_at: String,
    /// `fired_at` plus the rule's deadline (RFC 3339); `None` when the form names
    /// none or the configuration value it reads is not set.
    pub deadline: Option<String>,
}

/// The engine's verdict on a record and the answers reports need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RecordFacts {
    /// Answers by field id (repeat groups as arrays of objects), without restricted
    /// or identity fields.
    pub answers: Map<String, J>,
    /// Calculated values (restricted ones left out).
    pub calculated: Map<String, J>,
    /// Required answers still missing (paths; the first ten in a report view).
    pub missing: Vec<String>,
    /// How many required answers are missing.
    #[serde(default)]
    pub missing_total: usize,
    pub errors: Vec<RuleHit>,
    /// Warnings nobody confirmed yet.
    pub warnings: Vec<RuleHit>,
    /// Warnings a user confirmed with a reason (overridden).
    pub confirmed: Vec<RuleHit>,
    /// Automatic actions (alert drafts, TB suspect tasks, end of form).
    pub actions: Vec<RuleHit>,
    /// No missing answers, no errors, every warning confirmed.
    pub complete: bool,
    /// Screening consent refused.
    pub refused: bool,
    /// The subject's sex (from the subject document).
    pub sex: Option<String>,
    /// Whole years at the encounter, when the form calculates it.
    pub age_years: Option<i64>,
    /// The alerts and tasks the record's rules raise (rows written before this
    /// field existed read as none until `tern admin reproject`).
    #[serde(default)]
    pub alerts: Vec<AlertHit>,
}

/// One row of the `record_facts` projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactsRow {
    pub record_id: String,
    pub site: String,
    pub form_id: String,
    pub form_version: String,
    pub subject_id: String,
    pub status: String,
    pub conflict: bool,
    pub created: String,
    /// The encounter's day (`YYYY-MM-DD`): of its start, else of the verification.
    pub encounter_date: String,
    /// `outcome` (pda) or `pec_outcome` (pec), when answered.
    pub outcome: Option<String>,
    pub facts: RecordFacts,
}

/// The day and time an evaluation runs at: the encounter's start when the record
/// has a readable one, otherwise `verified_on` (noon UTC).
pub fn evaluation_time(created: &str, verified_on: NaiveDate) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(created).unwrap_or_else(|_| {
        verified_on
            .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
            .and_utc()
            .fixed_offset()
    })
}

/// The subject's values a form reads (sex, date of birth) from the JSON of a
/// subject document's summary; empty when it is not one.
pub fn subject_values(summary_json: &str) -> Map<String, J> {
    let mut out = Map::new();
    if let Ok(tern_record::DocSummary::Subject {
        sex, date_of_birth, ..
    }) = serde_json::from_str(summary_json)
    {
        if let Some(s) = sex {
            out.insert("sex".into(), J::String(s));
        }
        if let Some(d) = date_of_birth {
            out.insert("date_of_birth".into(), J::String(d));
        }
    }
    out
}

/// Evaluates a record with its form and keeps what reports need.
pub fn record_facts(
    form: &Form,
    record: &RecordRow,
    input: &RecordInput,
    subject: &Map<String, J>,
    verified_on: NaiveDate,
) -> FactsRow {
    let values = tern_record::evaluation_values(form, &record.record_id, input, subject);
    let at = evaluation_time(&record.created, verified_on);
    let mut ctx = EvalContext::new(at);
    ctx.confirmed = input.confirmed.clone();
    let eval = form.evaluate_json(&values, &ctx);
    let hidden = |p: &str| {
        tern_record::is_restricted_path(form, p) || tern_record::is_identity_path(form, p)
    };
    let hits = |v: &[tern_forms::RuleResult]| -> Vec<RuleHit> {
        v.iter()
            .filter(|r| !hidden(&r.field))
            .map(|r| RuleHit {
                field: r.field.clone(),
                rule: r.rule.clone(),
                message: r.message.clone(),
            })
            .collect()
    };
    let (confirmed, open): (Vec<RuleHit>, Vec<RuleHit>) = hits(&eval.warnings)
        .into_iter()
        .partition(|w| input.confirmed.contains(&format!("{}@{}", w.rule, w.field)));
    let answers: Map<String, J> = input
        .answers
        .iter()
        .filter(|(k, _)| !hidden(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let calculated: Map<String, J> = eval
        .calculated
        .iter()
        .filter(|(k, _)| !hidden(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let text = |m: &Map<String, J>, k: &str| m.get(k).and_then(J::as_str).map(str::to_string);
    let outcome = text(&answers, "outcome").or_else(|| text(&answers, "pec_outcome"));
    let rfc3339 = |t: DateTime<FixedOffset>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let fired_at = text(&answers, "alert_datetime")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .unwrap_or(at);
    let alerts = tern_forms::alerts_of(form, &eval, fired_at)
        .into_iter()
        .filter(|a| !hidden(&a.field))
        .map(|a| AlertHit {
            rule: a.rule,
            field: a.field,
            kind: a.kind,
            fired_at: rfc3339(a.fired_at),
            deadline: a.deadline.map(rfc3339),
        })
        .collect();
    let facts = RecordFacts {
        refused: text(&answers, "consent_screening").as_deref() == Some("refused"),
        sex: text(subject, "sex"),
        age_years: calculated
            .get("age_years")
            .and_then(J::as_f64)
            .map(|a| a.floor() as i64),
        missing_total: eval.missing.iter().filter(|p| !hidden(p)).count(),
        missing: eval
            .missing
            .iter()
            .filter(|p| !hidden(p))
            .cloned()
            .collect(),
        errors: hits(&eval.errors),
        warnings: open,
        confirmed,
        actions: hits(&eval.actions),
        complete: eval.complete,
        answers,
        calculated,
        alerts,
    };
    FactsRow {
        record_id: record.record_id.clone(),
        site: record.site.clone(),
        form_id: record.form_id.clone(),
        form_version: record.form_version.clone(),
        subject_id: record.subject_id.clone(),
        status: record.status.clone(),
        conflict: record.conflict,
        created: record.created.clone(),
        encounter_date: at.date_naive().to_string(),
        outcome,
        facts,
    }
}

/// Whether reports read a field (crate::reports): the compact copy of a row that
/// reports parse keeps only these, so a report over 100,000 records reads a
/// fraction of the bytes.
fn reports_read(id: &str) -> bool {
    const EXACT: &[&str] = &[
        "outcome",
        "pec_outcome",
        "consent_screening",
        "age_years",
        "cxr_result",
        "active_tb_cxr_result",
        "sx_cough_2w",
        "isolation_started",
        "contacts_listed",
        "notified_at",
        "vacc_evidence",
        "vacc",
        "catchup_plan",
        "referral",
    ];
    const PREFIXES: &[&str] = &[
        "tb_",
        "alert_",
        "vuln_",
        "vacc[",
        "catchup_plan[",
        "referral[",
    ];
    const SUFFIXES: &[&str] = &[
        "_offered",
        "_accepted",
        "_result",
        "_eligible",
        "_linked_to_care",
    ];
    EXACT.contains(&id)
        || PREFIXES.iter().any(|p| id.starts_with(p))
        || SUFFIXES.iter().any(|x| id.ends_with(x))
}

/// The compact copy of a row that reports read: the answers and calculated values
/// reports use (no nulls), rule hits without their messages, everything else as is.
pub fn report_view(row: &FactsRow) -> FactsRow {
    let keep = |m: &Map<String, J>| -> Map<String, J> {
        m.iter()
            .filter(|(k, v)| !v.is_null() && reports_read(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let bare = |v: &[RuleHit]| -> Vec<RuleHit> {
        v.iter()
            .map(|h| RuleHit {
                message: String::new(),
                ..h.clone()
            })
            .collect()
    };
    let f = &row.facts;
    FactsRow {
        facts: RecordFacts {
            answers: keep(&f.answers),
            calculated: keep(&f.calculated),
            missing: f.missing.iter().take(10).cloned().collect(),
            missing_total: f.missing_total,
            errors: bare(&f.errors),
            warnings: bare(&f.warnings),
            confirmed: bare(&f.confirmed),
            // Actions keep their message: the alert worklist reads it.
            actions: f.actions.clone(),
            complete: f.complete,
            refused: f.refused,
            sex: f.sex.clone(),
            age_years: f.age_years,
            alerts: f.alerts.clone(),
        },
        ..row.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(form: &str, version: &str, created: &str) -> RecordRow {
        RecordRow {
            record_id: "r1".into(),
            site: "site-a".into(),
            form_id: form.into(),
            form_version: version.into(),
            subject_id: "S".into(),
            status: "draft".into(),
            conflict: false,
            created: created.into(),
        }
    }

    fn input(answers: J, confirmed: &[&str]) -> RecordInput {
        RecordInput {
            answers: answers.as_object().cloned().unwrap_or_default(),
            confirmed: confirmed.iter().map(|s| s.to_string()).collect(),
            subject_id: "S".into(),
            site: "site-a".into(),
            device: "d1".into(),
            creator: "amina".into(),
            created: "2026-03-10T09:00:00Z".into(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_record_is_judged_on_its_encounter_day_with_its_subject() {
        let form = tern_record::builtin::form("pda", "1.1.0").expect("pda 1.1.0");
        let subject = subject_values(
            &serde_json::to_string(&tern_record::DocSummary::Subject {
                subject_id: "S".into(),
                display_name: "A name".into(),
                date_of_birth: Some("2000-03-11".into()),
                documents: String::new(),
                sex: Some("female".into()),
                merged_into: None,
                conflict: false,
                created: String::new(),
            })
            .expect("json"),
        );
        let inp = input(
            serde_json::json!({"temp_c": 41.5, "consent_screening": "granted", "outcome": "deferred"}),
            &[],
        );
        let f = record_facts(
            &form,
            &row("pda", "1.1.0", "2026-03-10T09:00:00Z"),
            &inp,
            &subject,
            day("2030-01-01"),
        );
        assert_eq!(f.encounter_date, "2026-03-10");
        assert_eq!(
            f.facts.age_years,
            Some(25),
            "a day before the 26th birthday: {:?}",
            f.facts.calculated.get("age_years")
        );
        assert_eq!(f.facts.sex.as_deref(), Some("female"));
        assert!(!f.facts.refused);
        assert_eq!(f.outcome.as_deref(), Some("deferred"));
        assert!(!f.facts.complete);
        assert!(f.facts.answers.contains_key("temp_c"));
        assert!(
            !f.facts.answers.contains_key("date_of_birth"),
            "only the record's answers"
        );
        let refused = record_facts(
            &form,
            &row("pda", "1.1.0", "2026-03-10T09:00:00Z"),
            &input(serde_json::json!({"consent_screening": "refused"}), &[]),
            &subject,
            day("2030-01-01"),
        );
        assert!(refused.facts.refused);
    }

    #[test]
    fn confirmed_warnings_are_kept_apart_from_open_ones() {
        let form = tern_record::builtin::form("pda", "1.1.0").expect("pda 1.1.0");
        let answers = serde_json::json!({"temp_c": 41.5});
        let open = record_facts(
            &form,
            &row("pda", "1.1.0", ""),
            &input(answers.clone(), &[]),
            &Map::new(),
            day("2026-03-10"),
        );
        let w = open
            .facts
            .warnings
            .iter()
            .find(|w| w.field == "temp_c")
            .expect("warning");
        let key = format!("{}@{}", w.rule, w.field);
        let done = record_facts(
            &form,
            &row("pda", "1.1.0", ""),
            &input(answers, &[&key]),
            &Map::new(),
            day("2026-03-10"),
        );
        assert_eq!(
            open.encounter_date, "2026-03-10",
            "no start: the verification day"
        );
        assert!(done.facts.warnings.iter().all(|x| x.field != "temp_c"));
        assert!(done.facts.confirmed.iter().any(|x| x.field == "temp_c"));
    }

    #[test]
    fn restricted_answers_are_not_kept() {
        let form = tern_record::builtin::form("pda", "1.1.0").expect("pda 1.1.0");
        let f = record_facts(
            &form,
            &row("pda", "1.1.0", ""),
            &input(
                serde_json::json!({"hiv_offered": true, "tb_cough": true}),
                &[],
            ),
            &Map::new(),
            day("2026-03-10"),
        );
        assert!(!f.facts.answers.contains_key("hiv_offered"));
        assert!(f.facts.answers.contains_key("tb_cough"));
        assert!(f.facts.missing.iter().all(|p| !p.starts_with("hiv_")));
    }

    #[test]
    fn an_older_version_is_evaluated_with_its_own_form() {
        // 1.1.0 added per-antigen calculations (vacc_tetanus, ...) that 1.0.0 lacks.
        let answers = serde_json::json!({"vacc": [{"vaccine_cvx": "20", "source": "card"}]});
        let judge = |version: &str| {
            let form = tern_record::builtin::form("pda", version).expect("pda");
            record_facts(
                &form,
                &row("pda", version, "2026-03-10T09:00:00Z"),
                &input(answers.clone(), &[]),
                &Map::new(),
                day("2026-03-10"),
            )
        };
        let tetanus = |f: &FactsRow| {
            f.facts
                .calculated
                .keys()
                .any(|k| k.ends_with("vacc_tetanus"))
        };
        let (old, new) = (judge("1.0.0"), judge("1.1.0"));
        assert_eq!(old.form_version, "1.0.0");
        assert!(
            !tetanus(&old),
            "1.0.0 has no vacc_tetanus: {:?}",
            old.facts.calculated.keys()
        );
        assert!(
            tetanus(&new),
            "1.1.0 has: {:?}",
            new.facts.calculated.keys()
        );
    }
}
