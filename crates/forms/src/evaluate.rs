//! Evaluating a form over a record's answers: which fields are relevant, which
//! required ones are missing, which rules fire, the calculated values, and whether
//! the record is complete. Results are values, never `Err`.

use crate::answers::{AnswerProblem, Answers};
use crate::definition::{FieldKind, FieldSource, Form, Required, Severity};
use crate::expr::eval::Frame;
use crate::value::Value;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use std::collections::BTreeSet;

/// What evaluation depends on besides the answers. The caller pins the date and time.
#[derive(Debug, Clone)]
pub struct EvalContext {
    pub today: NaiveDate,
    pub now: DateTime<FixedOffset>,
    /// Language of messages (BCP 47); English when the form has no such translation.
    pub language: String,
    /// Warnings already confirmed, as `rule@field` (e.g. `r4a@temp_c`).
    pub confirmed: BTreeSet<String>,
}

impl EvalContext {
    pub fn new(now: DateTime<FixedOffset>) -> Self {
        EvalContext {
            today: now.date_naive(),
            now,
            language: "en".into(),
            confirmed: BTreeSet::new(),
        }
    }
}

/// A rule that fired (or an answer that could not be taken), on a field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// The outcome of evaluating a form over answers. Field paths inside repeat groups
/// are written `group[i].field` (0-based).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub relevant: Vec<String>,
    pub missing: Vec<String>,
    pub errors: Vec<RuleResult>,
    pub warnings: Vec<RuleResult>,
    pub calculated: serde_json::Map<String, serde_json::Value>,
    /// No missing answers, no errors, every warning confirmed.
    pub complete: bool,
    /// Automatic actions the app carries out (end the form, create an alert draft).
    pub actions: Vec<RuleResult>,
    /// Rules with an `alert` whose alert is raised ([`crate::alerts_of`]): while the
    /// rule fires, or with `"while": "when"` while its `when` holds. Not serialised:
    /// the alerts themselves are what callers show.
    #[serde(skip)]
    pub raised: Vec<RuleResult>,
    /// Answers kept for fields that are hidden now.
    pub not_relevant_answers: Vec<String>,
}

impl Form {
    /// Evaluates the form over JSON answers (the `tern forms eval` input). Answers that
    /// cannot be read are reported as errors and otherwise ignored.
    pub fn evaluate_json(
        &self,
        answers: &serde_json::Map<String, serde_json::Value>,
        ctx: &EvalContext,
    ) -> Evaluation {
        let (answers, problems) = Answers::from_json(self, answers);
        let mut evaluation = self.evaluate(&answers, ctx);
        if !problems.is_empty() {
            let mut errors: Vec<RuleResult> = problems.into_iter().map(problem_result).collect();
            errors.append(&mut evaluation.errors);
            evaluation.errors = errors;
            evaluation.complete = false;
        }
        evaluation
    }

    /// Evaluates the form over typed answers.
    pub fn evaluate(&self, answers: &Answers, ctx: &EvalContext) -> Evaluation {
        let n = self.fields.len();
        let raw = &answers.cells;
        let encounter_date = self
            .by_id
            .get("encounter_start")
            .and_then(|&i| match raw[i].first() {
                Some(Value::DateTime(t)) => Some(t.date_naive()),
                Some(Value::Date(d)) => Some(*d),
                _ => None,
            })
            .unwrap_or(ctx.today);
        let mut values: Vec<Vec<Value>> = raw.iter().map(|c| vec![Value::Empty; c.len()]).collect();
        let mut relevant: Vec<Vec<bool>> = raw.iter().map(|c| vec![false; c.len()]).collect();
        let mut section_relevant: Vec<Option<bool>> = vec![None; self.sections.len()];

        for &i in &self.order {
            let field = &self.fields[i];
            let frame = frame(&values, raw, ctx, encounter_date);
            let section = *section_relevant[field.section].get_or_insert_with(|| {
                frame.holds(self.sections[field.section].relevant.as_ref(), None)
            });
            let mut rel = Vec::with_capacity(raw[i].len());
            let mut vals = Vec::with_capacity(raw[i].len());
            for (k, answer) in raw[i].iter().enumerate() {
                let instance = field.group.map(|_| k);
                let parent = field
                    .group
                    .is_none_or(|g| relevant[g].get(k).copied().unwrap_or(false));
                let r = section && parent && frame.holds(field.relevant.as_ref(), instance);
                rel.push(r);
                vals.push(match (r, &field.calculate) {
                    (false, _) => Value::Empty,
                    (true, Some(node)) => self.typed_calculation(i, frame.eval(node, instance)),
                    (true, None) => answer.clone(),
                });
            }
            relevant[i] = rel;
            values[i] = vals;
        }

        let frame = frame(&values, raw, ctx, encounter_date);
        let mut out = Evaluation {
            relevant: Vec::new(),
            missing: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            calculated: serde_json::Map::new(),
            complete: false,
            actions: Vec::new(),
            raised: Vec::new(),
            not_relevant_answers: Vec::new(),
        };
        for i in 0..n {
            let field = &self.fields[i];
            if field.kind == FieldKind::Repeat {
                self.check_group(i, &frame, &mut out);
                continue;
            }
            for k in 0..raw[i].len() {
                let path = self.path(i, k);
                if !relevant[i][k] {
                    if !raw[i][k].is_empty() && field.calculate.is_none() {
                        out.not_relevant_answers.push(path);
                    }
                    continue;
                }
                out.relevant.push(path.clone());
                if field.kind == FieldKind::Calculate {
                    out.calculated.insert(path.clone(), values[i][k].to_json());
                }
                // Context fields are filled by the app, never typed, so never missing.
                if field.source != FieldSource::Context
                    && values[i][k].is_empty()
                    && self.is_required(&field.required, &frame, field.group.map(|_| k))
                {
                    out.missing.push(path);
                }
            }
        }
        let lang = ctx.language.as_str();
        for rule in &self.rules {
            let field = &self.fields[rule.field];
            // A rule on a repeat group itself runs once, over the whole group.
            let on_group = field.kind == FieldKind::Repeat;
            let cells = if on_group { 1 } else { raw[rule.field].len() };
            #[allow(clippy::needless_range_loop)] // `k` also names the instance in paths
            for k in 0..cells {
                let visible = if on_group {
                    self.group_visible(rule.field, &frame)
                } else {
                    relevant[rule.field].get(k).copied().unwrap_or(false)
                };
                if !rule.always && !visible {
                    continue;
                }
                let instance = field.group.map(|_| k);
                let when = frame.holds(rule.when.as_ref(), instance);
                let fires = when
                    && rule
                        .assert
                        .as_ref()
                        .is_none_or(|a| frame.eval(a, instance) == Value::Bool(false));
                let raises = rule
                    .alert
                    .as_ref()
                    .is_some_and(|a| fires || (a.while_when && when));
                if !fires && !raises {
                    continue;
                }
                let path = if on_group {
                    field.id.clone()
                } else {
                    self.path(rule.field, k)
                };
                let message = self.message(lang, rule, &values, raw, k);
                let result = RuleResult {
                    field: path,
                    rule: rule.id.clone(),
                    message,
                };
                if raises {
                    out.raised.push(result.clone());
                }
                if !fires {
                    continue;
                }
                match rule.severity {
                    Severity::Error => out.errors.push(result),
                    Severity::Warning => out.warnings.push(result),
                    Severity::Action => out.actions.push(result),
                }
            }
        }
        out.complete = out.missing.is_empty()
            && out.errors.is_empty()
            && out
                .warnings
                .iter()
                .all(|w| ctx.confirmed.contains(&format!("{}@{}", w.rule, w.field)));
        out
    }

    fn is_required(&self, required: &Required, frame: &Frame, instance: Option<usize>) -> bool {
        match required {
            Required::No => false,
            Required::Yes => true,
            Required::When(node) => frame.holds(Some(node), instance),
        }
    }

    fn group_visible(&self, index: usize, frame: &Frame) -> bool {
        let field = &self.fields[index];
        frame.holds(self.sections[field.section].relevant.as_ref(), None)
            && frame.holds(field.relevant.as_ref(), None)
    }

    /// A repeat group is relevant as a whole; required means at least one instance,
    /// `min` asks for more.
    fn check_group(&self, index: usize, frame: &Frame, out: &mut Evaluation) {
        let field = &self.fields[index];
        if !self.group_visible(index, frame) {
            if !frame.raw[index].is_empty() {
                out.not_relevant_answers.push(field.id.clone());
            }
            return;
        }
        out.relevant.push(field.id.clone());
        let min = field
            .min
            .unwrap_or(0)
            .max(self.is_required(&field.required, frame, None) as u32) as usize;
        if frame.raw[index].len() < min {
            out.missing.push(field.id.clone());
        }
    }

    /// `field` or `group[i].field`.
    pub(crate) fn path(&self, index: usize, instance: usize) -> String {
        let field = &self.fields[index];
        match field.group {
            Some(g) => format!("{}[{instance}].{}", self.fields[g].id, field.id),
            None if field.kind == FieldKind::Repeat => format!("{}[{instance}]", field.id),
            None => field.id.clone(),
        }
    }

    /// Rounds decimals and truncates integers as the field declares.
    fn typed_calculation(&self, index: usize, value: Value) -> Value {
        let field = &self.fields[index];
        match (value, field.value_kind, field.decimals) {
            (Value::Number(n), Some(FieldKind::Integer), _) => Value::Number(n.trunc()),
            (Value::Number(n), _, Some(d)) => {
                let factor = 10f64.powi(d as i32);
                Value::Number((n * factor).round() / factor)
            }
            (v, _, _) => v,
        }
    }

    fn message(
        &self,
        lang: &str,
        rule: &crate::definition::Rule,
        values: &[Vec<Value>],
        raw: &[Vec<Value>],
        k: usize,
    ) -> String {
        let key = format!("rule.{}.message", rule.id);
        let mut text = self.text(lang, &key).unwrap_or(&rule.id).to_string();
        for name in &rule.placeholders {
            let Some(&i) = self.by_id.get(name) else {
                continue;
            };
            let same_group = self.fields[i].group.is_some()
                && self.fields[i].group == self.fields[rule.field].group;
            let pick = |cells: &[Vec<Value>]| -> Value {
                let c = &cells[i];
                if same_group {
                    c.get(k).cloned().unwrap_or(Value::Empty)
                } else if self.fields[i].group.is_some() {
                    Value::List(c.clone())
                } else {
                    c.first().cloned().unwrap_or(Value::Empty)
                }
            };
            let mut v = pick(values);
            if v.is_empty() {
                v = pick(raw);
            }
            // Values are isolated so that right-to-left messages keep numbers intact.
            let shown = if lang == "en" {
                v.to_string()
            } else {
                format!("\u{2068}{v}\u{2069}")
            };
            text = text.replace(&format!("{{{name}}}"), &shown);
        }
        text
    }
}

fn frame<'a>(
    values: &'a [Vec<Value>],
    raw: &'a [Vec<Value>],
    ctx: &EvalContext,
    encounter_date: NaiveDate,
) -> Frame<'a> {
    Frame {
        values,
        raw,
        today: ctx.today,
        now: ctx.now,
        encounter_date,
    }
}

fn problem_result(p: AnswerProblem) -> RuleResult {
    RuleResult {
        field: p.field,
        rule: p.rule,
        message: p.message,
    }
}
