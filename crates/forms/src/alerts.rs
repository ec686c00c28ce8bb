//! Alerts and tasks as data (issue 14 item 4): a rule with an `alert` attribute
//! raises an alert of its kind (a TB suspect task, a notifiable disease alert, ...)
//! while it fires. Pure: the caller passes the evaluation and the time the alert is
//! dated from, so the device store and the server derive the same alerts from the
//! same record.

use crate::definition::{AlertSpec, Form};
use crate::evaluate::Evaluation;
use chrono::{DateTime, Duration, FixedOffset};
use serde::Serialize;

/// One alert a firing rule raises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The rule that fired (`r34`, `alert_required_syndrome`).
    pub rule: String,
    /// The field (path) the rule is attached to.
    pub field: String,
    /// One of [`crate::ALERT_KINDS`].
    pub kind: String,
    pub fired_at: DateTime<FixedOffset>,
    /// `fired_at` plus the rule's deadline; `None` when the rule names none or its
    /// deadline field has no value (e.g. a configuration value not set).
    pub deadline: Option<DateTime<FixedOffset>>,
}

impl Form {
    /// Whether any rule of the form raises an alert (callers skip evaluating
    /// records of forms that raise none).
    pub fn raises_alerts(&self) -> bool {
        self.rules.iter().any(|r| r.alert.is_some())
    }

    /// The alert rule `rule` raises when it fires, if any.
    pub fn alert_of_rule(&self, rule: &str) -> Option<&AlertSpec> {
        self.rules
            .iter()
            .find(|r| r.id == rule)
            .and_then(|r| r.alert.as_ref())
    }
}

/// The alerts `evaluation` (of `form`) raises: one per rule with an `alert` (per
/// repeat instance) while the rule fires, or while its `when` holds for an alert
/// with `"while": "when"`; dated `fired_at`, in rule order. Confirming a warning
/// does not withdraw its alert.
pub fn alerts_of(
    form: &Form,
    evaluation: &Evaluation,
    fired_at: DateTime<FixedOffset>,
) -> Vec<Alert> {
    let mut out = Vec::new();
    for r in &evaluation.raised {
        let Some(spec) = form.alert_of_rule(&r.rule) else {
            continue;
        };
        let hours = match (&spec.deadline_hours, &spec.deadline_field) {
            (Some(h), _) => Some(f64::from(*h)),
            (None, Some(f)) => evaluation.calculated.get(f).and_then(|v| v.as_f64()),
            (None, None) => None,
        };
        let deadline = hours
            .filter(|h| h.is_finite() && *h >= 0.0 && *h < 1.0e6)
            .map(|h| fired_at + Duration::seconds((h * 3600.0).round() as i64));
        out.push(Alert {
            rule: r.rule.clone(),
            field: r.field.clone(),
            kind: spec.kind.clone(),
            fired_at,
            deadline,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigTables, EvalContext, SourceFile};
    use serde_json::json;

    fn form(alert: serde_json::Value) -> Result<Form, crate::Diagnostics> {
        let text = json!({
            "form_id": "t", "version": "1.0.0", "title": "T", "languages": ["en"],
            "choice_lists": {},
            "sections": [{"id": "s", "title": "S", "fields": [
                {"id": "cough", "type": "boolean", "label": "Cough"},
                {"id": "alert_open", "type": "boolean", "label": "Alert opened"},
                {"id": "hours", "type": "calculate", "calculate": "24", "value_type": "integer"}
            ]}],
            "rules": [
                {"id": "r34", "field": "cough", "severity": "action", "when": "${cough}",
                 "message": "TB suspect.", "alert": {"kind": "tb_suspect", "deadline_hours": 72}},
                {"id": "syndrome", "field": "alert_open", "severity": "error", "when": "${cough}",
                 "assert": "${alert_open} = true()", "message": "Open an alert.", "alert": alert}
            ]
        });
        Form::parse(
            &SourceFile::new("t.json", text.to_string()),
            &ConfigTables::default(),
        )
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    #[test]
    fn firing_rules_with_an_alert_raise_it_with_its_deadline() {
        let f =
            form(json!({"kind": "notifiable_alert", "deadline_field": "hours", "while": "when"}))
                .expect("form");
        let now = at("2026-03-09T08:00:00Z");
        let ctx = EvalContext::new(now);
        let none = f.evaluate_json(json!({"cough": false}).as_object().expect("obj"), &ctx);
        assert!(
            alerts_of(&f, &none, now).is_empty(),
            "a rule that does not fire raises nothing"
        );
        let eval = f.evaluate_json(json!({"cough": true}).as_object().expect("obj"), &ctx);
        let alerts = alerts_of(&f, &eval, now);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].kind, "tb_suspect");
        assert_eq!(alerts[0].deadline, Some(at("2026-03-12T08:00:00Z")));
        assert_eq!(alerts[1].rule, "syndrome");
        assert_eq!(alerts[1].deadline, Some(at("2026-03-10T08:00:00Z")));
        // Once the form's own alert is opened the rule stops firing; `while: when`
        // keeps the alert raised.
        let opened = f.evaluate_json(
            json!({"cough": true, "alert_open": true})
                .as_object()
                .expect("obj"),
            &ctx,
        );
        assert!(opened.errors.is_empty());
        assert_eq!(alerts_of(&f, &opened, now).len(), 2);
    }

    #[test]
    fn an_alert_that_stops_with_its_rule() {
        let f = form(json!({"kind": "notifiable_alert"})).expect("form");
        let now = at("2026-03-09T08:00:00Z");
        let ctx = EvalContext::new(now);
        let opened = f.evaluate_json(
            json!({"cough": true, "alert_open": true})
                .as_object()
                .expect("obj"),
            &ctx,
        );
        let alerts = alerts_of(&f, &opened, now);
        assert_eq!(alerts.len(), 1, "only r34: {alerts:?}");
        assert_eq!(alerts[0].rule, "r34");
    }

    #[test]
    fn the_loader_checks_alerts() {
        for (bad, says) in [
            (json!({"kind": "party"}), "alert kind `party`"),
            (
                json!({"kind": "tb_suspect", "deadline_field": "cough"}),
                "deadline_field `cough`",
            ),
            (
                json!({"kind": "tb_suspect", "deadline_hours": 1, "deadline_field": "hours"}),
                "not both",
            ),
            (
                json!({"kind": "tb_suspect", "while": "always"}),
                "alert while `always`",
            ),
        ] {
            let e = form(bad).expect_err("refused").to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
