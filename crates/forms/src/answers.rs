//! Answers read by each field's declared type. Data is stored language-neutral: option
//! codes, ISO dates, ASCII digits (Eastern Arabic and Persian digits are accepted and
//! normalised).

use crate::definition::{FieldKind, Form};
use crate::value::{parse_date, parse_datetime, Value};
use serde_json::{Map, Value as J};

/// The answers of one record, typed and shaped after the form: one cell per field
/// outside repeats, one per instance inside a repeat group (and a repeat group has one
/// empty cell per instance).
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub(crate) cells: Vec<Vec<Value>>,
}

/// An answer that could not be taken, with the field path (`group[i].field`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AnswerProblem {
    pub field: String,
    /// `unknown_field`, `wrong_type`, `not_a_choice` or `too_many`.
    pub rule: String,
    pub message: String,
}

/// Maps Eastern Arabic (٠-٩) and Persian (۰-۹) digits and separators to ASCII.
pub fn normalize_digits(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{066B}' => '.',
            '\u{066C}' => ',',
            other => other,
        })
        .collect()
}

impl Answers {
    /// No answers at all.
    pub fn empty(form: &Form) -> Answers {
        Answers {
            cells: form
                .fields
                .iter()
                .map(|f| {
                    if f.group.is_some() || f.kind == FieldKind::Repeat {
                        Vec::new()
                    } else {
                        vec![Value::Empty]
                    }
                })
                .collect(),
        }
    }

    /// Reads a JSON object `{field_id: value}` (repeat groups as arrays of objects).
    /// Answers that cannot be read are left empty and reported.
    pub fn from_json(form: &Form, object: &Map<String, J>) -> (Answers, Vec<AnswerProblem>) {
        let mut answers = Answers::empty(form);
        let mut problems = Vec::new();
        for (id, value) in object {
            let Some(&index) = form.by_id.get(id) else {
                problems.push(AnswerProblem {
                    field: id.clone(),
                    rule: "unknown_field".into(),
                    message: format!(
                        "`{id}` is not a field of form {} {}",
                        form.form_id, form.version
                    ),
                });
                continue;
            };
            let field = &form.fields[index];
            if field.group.is_some() {
                problems.push(AnswerProblem {
                    field: id.clone(),
                    rule: "unknown_field".into(),
                    message: format!(
                        "`{id}` belongs inside its repeat group, not at the top level"
                    ),
                });
                continue;
            }
            if field.kind == FieldKind::Repeat {
                answers.read_repeat(form, index, value, &mut problems);
                continue;
            }
            match read_value(form, index, value) {
                Ok(v) => answers.cells[index][0] = v,
                Err(p) => problems.push(p.at(id)),
            }
        }
        (answers, problems)
    }

    fn read_repeat(
        &mut self,
        form: &Form,
        group: usize,
        value: &J,
        problems: &mut Vec<AnswerProblem>,
    ) {
        let gid = &form.fields[group].id;
        let items = match value {
            J::Array(items) => items.as_slice(),
            J::Null => &[],
            _ => {
                problems.push(AnswerProblem {
                    field: gid.clone(),
                    rule: "wrong_type".into(),
                    message: format!("`{gid}` is a repeat group: give an array of objects"),
                });
                return;
            }
        };
        let mut items = items;
        if let Some(max) = form.fields[group].max {
            if items.len() > max as usize {
                problems.push(AnswerProblem {
                    field: gid.clone(),
                    rule: "too_many".into(),
                    message: format!(
                        "`{gid}` holds at most {max}; the extra {} were not taken",
                        items.len() - max as usize
                    ),
                });
                items = &items[..max as usize];
            }
        }
        let children: Vec<usize> = (0..form.fields.len())
            .filter(|&c| form.fields[c].group == Some(group))
            .collect();
        self.cells[group] = vec![Value::Empty; items.len()];
        for &c in &children {
            self.cells[c] = vec![Value::Empty; items.len()];
        }
        for (i, item) in items.iter().enumerate() {
            let Some(obj) = item.as_object() else {
                problems.push(AnswerProblem {
                    field: format!("{gid}[{i}]"),
                    rule: "wrong_type".into(),
                    message: format!("each entry of `{gid}` must be an object of answers"),
                });
                continue;
            };
            for (id, v) in obj {
                let path = format!("{gid}[{i}].{id}");
                match form.by_id.get(id) {
                    Some(&c) if form.fields[c].group == Some(group) => match read_value(form, c, v)
                    {
                        Ok(value) => self.cells[c][i] = value,
                        Err(p) => problems.push(p.at(&path)),
                    },
                    _ => problems.push(AnswerProblem {
                        field: path,
                        rule: "unknown_field".into(),
                        message: format!("`{id}` is not a field of repeat group `{gid}`"),
                    }),
                }
            }
        }
    }

    /// The typed value of a top-level field, or of a repeat field in instance `i`.
    pub fn get(&self, form: &Form, id: &str, instance: Option<usize>) -> Option<&Value> {
        let &index = form.by_id.get(id)?;
        self.cells[index].get(instance.unwrap_or(0))
    }

    /// Sets one answer from JSON, read by the field's type. A repeat instance is
    /// created when `instance` is one past the last.
    pub fn set(
        &mut self,
        form: &Form,
        id: &str,
        instance: Option<usize>,
        value: &J,
    ) -> Result<(), AnswerProblem> {
        let path = match instance {
            Some(i) => form
                .field(id)
                .and_then(|f| form.group_of(f))
                .map(|g| format!("{}[{i}].{id}", g.id))
                .unwrap_or_else(|| id.to_string()),
            None => id.to_string(),
        };
        let Some(&index) = form.by_id.get(id) else {
            return Err(AnswerProblem {
                field: path,
                rule: "unknown_field".into(),
                message: format!("`{id}` is not a field of form {}", form.form_id),
            });
        };
        let v = read_value(form, index, value).map_err(|p| p.at(&path))?;
        match (form.fields[index].group, instance) {
            (None, None) => self.cells[index][0] = v,
            (Some(g), Some(i)) => {
                let count = self.cells[g].len();
                if i > count || form.fields[g].max.is_some_and(|m| i >= m as usize) {
                    return Err(AnswerProblem {
                        field: path,
                        rule: "too_many".into(),
                        message: format!(
                            "`{}` has {count} instance(s); instance {i} cannot be set",
                            form.fields[g].id
                        ),
                    });
                }
                if i == count {
                    for c in 0..form.fields.len() {
                        if c == g || form.fields[c].group == Some(g) {
                            self.cells[c].push(Value::Empty);
                        }
                    }
                }
                self.cells[index][i] = v;
            }
            _ => {
                return Err(AnswerProblem {
                    field: path,
                    rule: "wrong_type".into(),
                    message: format!(
                    "`{id}` is addressed as group[i].field inside a repeat, and plainly outside"
                ),
                })
            }
        }
        Ok(())
    }

    /// The answers as the JSON object `from_json` reads (empty answers left out).
    pub fn to_json(&self, form: &Form) -> Map<String, J> {
        let mut out = Map::new();
        for (i, f) in form.fields.iter().enumerate() {
            if f.group.is_some() {
                continue;
            }
            if f.kind == FieldKind::Repeat {
                let children: Vec<usize> = (0..form.fields.len())
                    .filter(|&c| form.fields[c].group == Some(i))
                    .collect();
                let items: Vec<J> = (0..self.cells[i].len())
                    .map(|k| {
                        let mut obj = Map::new();
                        for &c in &children {
                            if !self.cells[c][k].is_empty() {
                                obj.insert(form.fields[c].id.clone(), self.cells[c][k].to_json());
                            }
                        }
                        J::Object(obj)
                    })
                    .collect();
                if !items.is_empty() {
                    out.insert(f.id.clone(), J::Array(items));
                }
            } else if !self.cells[i][0].is_empty() {
                out.insert(f.id.clone(), self.cells[i][0].to_json());
            }
        }
        out
    }
}

struct Problem {
    rule: &'static str,
    message: String,
}

impl Problem {
    fn at(self, path: &str) -> AnswerProblem {
        AnswerProblem {
            field: path.to_string(),
            rule: self.rule.to_string(),
            message: self.message,
        }
    }
}

fn wrong(message: String) -> Problem {
    Problem {
        rule: "wrong_type",
        message,
    }
}

/// Reads one JSON answer by the type of field `index`.
fn read_value(form: &Form, index: usize, value: &J) -> Result<Value, Problem> {
    let field = &form.fields[index];
    let id = &field.id;
    if value.is_null() {
        return Ok(Value::Empty);
    }
    let text = |v: &J| -> Option<String> {
        match v {
            J::String(s) => Some(normalize_digits(s)),
            J::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    match field.kind {
        FieldKind::Calculate | FieldKind::Note | FieldKind::Repeat => Ok(Value::Empty),
        FieldKind::Text => match value {
            J::String(s) => Ok(Value::Text(s.clone())),
            J::Number(n) => Ok(Value::Text(n.to_string())),
            _ => Err(wrong(format!("`{id}` is text"))),
        },
        FieldKind::Integer => {
            let s = text(value).ok_or_else(|| wrong(format!("`{id}` takes a whole number")))?;
            if s.is_empty() {
                return Ok(Value::Empty);
            }
            s.parse::<i64>()
                .map(|n| Value::Number(n as f64))
                .map_err(|_| wrong(format!("`{id}` takes a whole number, not `{s}`")))
        }
        FieldKind::Decimal => {
            let s = text(value).ok_or_else(|| wrong(format!("`{id}` takes a number")))?;
            if s.is_empty() {
                return Ok(Value::Empty);
            }
            match s.replace(',', ".").parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::Number(n)),
                _ => Err(wrong(format!(
                    "`{id}` takes a number such as 36.5, not `{s}`"
                ))),
            }
        }
        FieldKind::Date => {
            let s = text(value).ok_or_else(|| wrong(format!("`{id}` takes a date YYYY-MM-DD")))?;
            if s.is_empty() {
                return Ok(Value::Empty);
            }
            parse_date(&s)
                .map(Value::Date)
                .ok_or_else(|| wrong(format!("`{id}` takes a date YYYY-MM-DD, not `{s}`")))
        }
        FieldKind::DateTime => {
            let s = text(value).ok_or_else(|| wrong(format!("`{id}` takes a date and time")))?;
            if s.is_empty() {
                return Ok(Value::Empty);
            }
            parse_datetime(&s).map(Value::DateTime).ok_or_else(|| {
                wrong(format!(
                    "`{id}` takes a date and time such as 2026-03-01T09:30:00Z, not `{s}`"
                ))
            })
        }
        FieldKind::Boolean => match value {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                "" => Ok(Value::Empty),
                _ => Err(wrong(format!("`{id}` is yes/no: true or false, not `{s}`"))),
            },
            _ => Err(wrong(format!("`{id}` is yes/no: true or false"))),
        },
        FieldKind::SelectOne => {
            let code = match value {
                J::String(s) => s.trim().to_string(),
                _ => {
                    return Err(wrong(format!(
                        "`{id}` takes one choice code as text, e.g. \"yes\""
                    )))
                }
            };
            if code.is_empty() {
                return Ok(Value::Empty);
            }
            check_code(form, field.choices.as_deref(), id, &code)?;
            Ok(Value::Text(code))
        }
        FieldKind::SelectMultiple => {
            let codes: Vec<String> = match value {
                J::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(|s| s.trim().to_string()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| wrong(format!("`{id}` takes a list of choice codes as text")))?,
                // ODK stores select_multiple as space-separated codes.
                J::String(s) => s.split_whitespace().map(str::to_string).collect(),
                _ => return Err(wrong(format!("`{id}` takes a list of choice codes"))),
            };
            let mut out: Vec<Value> = Vec::new();
            for code in codes {
                check_code(form, field.choices.as_deref(), id, &code)?;
                let v = Value::Text(code);
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            Ok(if out.is_empty() {
                Value::Empty
            } else {
                Value::List(out)
            })
        }
    }
}

fn check_code(form: &Form, list: Option<&str>, id: &str, code: &str) -> Result<(), Problem> {
    let known = list
        .and_then(|l| form.choice_lists.get(l))
        .is_some_and(|l| l.contains(code));
    if known {
        Ok(())
    } else {
        Err(Problem {
            rule: "not_a_choice",
            message: format!("`{code}` is not a choice of `{id}`"),
        })
    }
}
