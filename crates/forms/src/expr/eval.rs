//! Stage 4 of the expression language: evaluating a compiled tree. Deterministic: the
//! date and time come from the caller, never from a clock.

use super::check::{Access, Aggregate, Func, Node};
use super::syntax::BinOp;
use crate::answers::normalize_digits;
use crate::value::{parse_date, parse_datetime, Value};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use std::cmp::Ordering;

/// Where an expression is evaluated: the repeat instance it sits in, and the instance
/// an enclosing aggregate (`max-of()`...) is visiting in the group it goes over.
#[derive(Debug, Clone, Copy, Default)]
struct At {
    instance: Option<usize>,
    each: Option<usize>,
}

/// What an expression can see while it is evaluated.
pub(crate) struct Frame<'a> {
    /// Values as expressions see them: empty while a field is hidden.
    pub values: &'a [Vec<Value>],
    /// Answers as kept, for `answer()`.
    pub raw: &'a [Vec<Value>],
    pub today: NaiveDate,
    pub now: DateTime<FixedOffset>,
    pub encounter_date: NaiveDate,
}

fn as_date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::Date(d) => Some(*d),
        Value::DateTime(t) => Some(t.date_naive()),
        Value::Text(s) => parse_date(s).or_else(|| parse_datetime(s).map(|t| t.date_naive())),
        _ => None,
    }
}

fn as_datetime(v: &Value) -> Option<DateTime<FixedOffset>> {
    match v {
        Value::DateTime(t) => Some(*t),
        Value::Date(d) => Some(d.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset()),
        Value::Text(s) => parse_datetime(s),
        _ => None,
    }
}

fn flatten(values: Vec<Value>, out: &mut Vec<Value>) {
    for v in values {
        match v {
            Value::List(inner) => flatten(inner, out),
            Value::Empty => {}
            other => out.push(other),
        }
    }
}

/// Completed months from `a` to `b` (negative when `b` is before `a`).
fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    if b < a {
        return -months_between(b, a);
    }
    let mut m = (b.year() as i64 - a.year() as i64) * 12 + (b.month() as i64 - a.month() as i64);
    if b.day() < a.day() {
        m -= 1;
    }
    m
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(_), Value::DateTime(_)) | (Value::DateTime(_), Value::Date(_)) => {
            as_datetime(a)?.partial_cmp(&as_datetime(b)?)
        }
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => true,
        (true, false) | (false, true) => false,
        _ => compare(a, b) == Some(Ordering::Equal) || a == b,
    }
}

impl Frame<'_> {
    /// True when there is no condition or it evaluates to true (empty counts as false).
    pub(crate) fn holds(&self, condition: Option<&Node>, instance: Option<usize>) -> bool {
        condition.is_none_or(|node| self.eval(node, instance) == Value::Bool(true))
    }

    /// Evaluates `node`; `instance` is the repeat instance the expression sits in.
    pub(crate) fn eval(&self, node: &Node, instance: Option<usize>) -> Value {
        self.eval_at(
            node,
            At {
                instance,
                each: None,
            },
        )
    }

    fn read(&self, index: usize, access: Access, raw: bool, at: At) -> Value {
        let instance = at.instance;
        let cells = if raw {
            &self.raw[index]
        } else {
            &self.values[index]
        };
        match access {
            Access::Scalar => cells.first().cloned().unwrap_or(Value::Empty),
            Access::Sibling => instance
                .and_then(|i| cells.get(i))
                .cloned()
                .unwrap_or(Value::Empty),
            Access::All => {
                let mut out = Vec::new();
                for v in cells {
                    match v {
                        Value::List(items) => out.extend(items.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
                Value::List(out)
            }
            Access::Group => Value::Number(cells.len() as f64),
            Access::Each => at
                .each
                .and_then(|j| cells.get(j))
                .cloned()
                .unwrap_or(Value::Empty),
        }
    }

    fn eval_at(&self, node: &Node, at: At) -> Value {
        let instance = at.instance;
        match node {
            Node::Const(v) => v.clone(),
            Node::Field { index, access, raw } => self.read(*index, *access, *raw, at),
            Node::Neg(a) => match self.eval_at(a, at) {
                Value::Number(n) => Value::Number(-n),
                _ => Value::Empty,
            },
            Node::Binary(op, a, b) => self.binary(*op, a, b, at),
            Node::Call(func, args) => self.call(*func, args, at),
            Node::Regex(subject, re) => match self.eval_at(subject, at) {
                Value::Text(s) => Value::Bool(re.is_match(&s)),
                _ => Value::Empty,
            },
            Node::Lookup {
                table,
                column,
                key,
                presence,
            } => {
                let key = match self.eval_at(key, at) {
                    Value::Text(s) if !s.is_empty() => s,
                    Value::Number(n) if n.fract() == 0.0 => format!("{}", n as i64),
                    Value::Number(n) => n.to_string(),
                    _ => return Value::Empty,
                };
                let value = table.get(&key, *column);
                if *presence {
                    Value::Bool(!matches!(value, Value::Empty))
                } else {
                    value
                }
            }
            Node::MinDaysApart {
                date,
                key,
                at_least,
            } => {
                let Some(i) = instance else {
                    return Value::Empty;
                };
                let dates = &self.values[*date];
                let Some(mine) = dates.get(i).and_then(as_date) else {
                    return Value::Empty;
                };
                let key_of = |k: usize| {
                    key.map(|kf| self.values[kf].get(k).cloned().unwrap_or(Value::Empty))
                };
                let my_key = key_of(i);
                if my_key.as_ref().is_some_and(Value::is_empty) {
                    return Value::Empty;
                }
                let floor = match at_least.as_ref().map(|a| self.eval_at(a, at)) {
                    Some(Value::Number(n)) => n as i64,
                    _ => 0,
                };
                let best = (0..dates.len())
                    .filter(|&j| j != i)
                    .filter(|&j| match (&my_key, key_of(j)) {
                        (Some(mine), Some(theirs)) => equal(mine, &theirs),
                        _ => true,
                    })
                    .filter_map(|j| as_date(&dates[j]))
                    .map(|d| (d - mine).num_days().abs())
                    .filter(|&gap| gap >= floor)
                    .min();
                best.map(|g| Value::Number(g as f64))
                    .unwrap_or(Value::Empty)
            }
            Node::Aggregate {
                kind,
                group,
                value,
                filter,
            } => self.aggregate(*kind, *group, value.as_deref(), filter.as_deref(), at),
        }
    }

    /// Visits every instance of `group` where `filter` holds: their count, or the
    /// largest or smallest non-empty `value` (empty when there is none).
    fn aggregate(
        &self,
        kind: Aggregate,
        group: usize,
        value: Option<&Node>,
        filter: Option<&Node>,
        at: At,
    ) -> Value {
        let instances = self.values.get(group).map_or(0, Vec::len);
        let mut count = 0usize;
        let mut best: Option<Value> = None;
        for j in 0..instances {
            let visit = At {
                instance: at.instance,
                each: Some(j),
            };
            if filter.is_some_and(|f| self.eval_at(f, visit) != Value::Bool(true)) {
                continue;
            }
            count += 1;
            let Some(node) = value else {
                continue;
            };
            let v = self.eval_at(node, visit);
            if v.is_empty() {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => match compare(&v, b) {
                    Some(Ordering::Greater) => kind == Aggregate::Max,
                    Some(Ordering::Less) => kind == Aggregate::Min,
                    _ => false,
                },
            };
            if better {
                best = Some(v);
            }
        }
        match kind {
            Aggregate::Count => Value::Number(count as f64),
            Aggregate::Max | Aggregate::Min => best.unwrap_or(Value::Empty),
        }
    }

    fn boolean(&self, node: &Node, at: At) -> Option<bool> {
        match self.eval_at(node, at) {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn binary(&self, op: BinOp, a: &Node, b: &Node, at: At) -> Value {
        match op {
            // Three-valued logic, short-circuiting where the answer is already known.
            BinOp::And => {
                let l = self.boolean(a, at);
                if l == Some(false) {
                    return Value::Bool(false);
                }
                match (l, self.boolean(b, at)) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Empty,
                }
            }
            BinOp::Or => {
                let l = self.boolean(a, at);
                if l == Some(true) {
                    return Value::Bool(true);
                }
                match (l, self.boolean(b, at)) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Empty,
                }
            }
            BinOp::Eq => Value::Bool(equal(&self.eval_at(a, at), &self.eval_at(b, at))),
            BinOp::Ne => Value::Bool(!equal(&self.eval_at(a, at), &self.eval_at(b, at))),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (l, r) = (self.eval_at(a, at), self.eval_at(b, at));
                if l.is_empty() || r.is_empty() {
                    return Value::Empty;
                }
                match compare(&l, &r) {
                    Some(ord) => Value::Bool(match op {
                        BinOp::Lt => ord == Ordering::Less,
                        BinOp::Le => ord != Ordering::Greater,
                        BinOp::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }),
                    None => Value::Empty,
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let (Value::Number(x), Value::Number(y)) =
                    (self.eval_at(a, at), self.eval_at(b, at))
                else {
                    return Value::Empty;
                };
                let r = match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul => x * y,
                    BinOp::Div => x / y,
                    _ => x % y,
                };
                if r.is_finite() {
                    Value::Number(r)
                } else {
                    Value::Empty
                }
            }
        }
    }

    fn call(&self, func: Func, args: &[Node], at: At) -> Value {
        let instance = at.instance;
        let arg = |i: usize| {
            args.get(i)
                .map(|a| self.eval_at(a, at))
                .unwrap_or(Value::Empty)
        };
        let number = |i: usize| match arg(i) {
            Value::Number(n) => Some(n),
            _ => None,
        };
        let num = |v: Option<f64>| {
            v.filter(|n| n.is_finite())
                .map(Value::Number)
                .unwrap_or(Value::Empty)
        };
        let all = || {
            let mut out = Vec::new();
            flatten(args.iter().map(|a| self.eval_at(a, at)).collect(), &mut out);
            out
        };
        match func {
            Func::True => Value::Bool(true),
            Func::False => Value::Bool(false),
            Func::Today => Value::Date(self.today),
            Func::Now => Value::DateTime(self.now),
            Func::EncounterDate => Value::Date(self.encounter_date),
            Func::Position => instance
                .map(|i| Value::Number(i as f64 + 1.0))
                .unwrap_or(Value::Empty),
            Func::If => match self.boolean(&args[0], at) {
                Some(true) => arg(1),
                _ => arg(2),
            },
            Func::Coalesce => args
                .iter()
                .map(|a| self.eval_at(a, at))
                .find(|v| !v.is_empty())
                .unwrap_or(Value::Empty),
            Func::Not => match arg(0) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Empty,
            },
            Func::Selected => {
                let Value::Text(code) = arg(1) else {
                    return Value::Bool(false);
                };
                let mut items = Vec::new();
                flatten(vec![arg(0)], &mut items);
                Value::Bool(
                    items
                        .iter()
                        .any(|v| matches!(v, Value::Text(t) if *t == code)),
                )
            }
            Func::CountSelected => {
                let mut items = Vec::new();
                flatten(vec![arg(0)], &mut items);
                Value::Number(items.len() as f64)
            }
            Func::Count => match arg(0) {
                Value::Number(n) => Value::Number(n),
                Value::List(items) => Value::Number(items.len() as f64),
                _ => Value::Number(0.0),
            },
            Func::CountNonEmpty => match arg(0) {
                Value::List(items) => {
                    Value::Number(items.iter().filter(|v| !v.is_empty()).count() as f64)
                }
                _ => Value::Number(0.0),
            },
            Func::Sum => Value::Number(
                all()
                    .iter()
                    .filter_map(|v| match v {
                        Value::Number(n) => Some(*n),
                        _ => None,
                    })
                    .sum(),
            ),
            Func::Min | Func::Max => {
                let items = all();
                let pick = items.into_iter().reduce(|best, v| {
                    let better = match compare(&v, &best) {
                        Some(Ordering::Less) => func == Func::Min,
                        Some(Ordering::Greater) => func == Func::Max,
                        _ => false,
                    };
                    if better {
                        v
                    } else {
                        best
                    }
                });
                pick.unwrap_or(Value::Empty)
            }
            Func::SubjectIdValid => match arg(0) {
                Value::Text(s) if !s.is_empty() => Value::Bool(subject_id_valid(&s)),
                _ => Value::Empty,
            },
            Func::StringLength => match arg(0) {
                Value::Text(s) => Value::Number(s.chars().count() as f64),
                _ => Value::Number(0.0),
            },
            Func::Concat => Value::Text(
                args.iter()
                    .map(|a| self.eval_at(a, at).to_string())
                    .collect(),
            ),
            Func::String => match arg(0) {
                Value::Empty => Value::Empty,
                v => Value::Text(v.to_string()),
            },
            Func::Number => match arg(0) {
                Value::Number(n) => Value::Number(n),
                Value::Bool(b) => Value::Number(if b { 1.0 } else { 0.0 }),
                Value::Text(s) => num(normalize_digits(&s).parse::<f64>().ok()),
                _ => Value::Empty,
            },
            Func::Int => num(number(0).map(f64::trunc)),
            Func::Abs => num(number(0).map(f64::abs)),
            Func::Round => {
                let digits = number(1).unwrap_or(0.0).clamp(-15.0, 15.0) as i32;
                let factor = 10f64.powi(digits);
                num(number(0).map(|n| (n * factor).round() / factor))
            }
            Func::Date => match arg(0) {
                Value::Empty => Value::Empty,
                v => as_date(&v).map(Value::Date).unwrap_or(Value::Empty),
            },
            Func::AgeYears | Func::AgeMonths | Func::AgeDays | Func::DaysBetween => {
                let (Some(a), Some(b)) = (as_date(&arg(0)), as_date(&arg(1))) else {
                    return Value::Empty;
                };
                let n = match func {
                    Func::AgeYears => {
                        let m = months_between(a, b);
                        if m >= 0 {
                            m / 12
                        } else {
                            -((-m) / 12)
                        }
                    }
                    Func::AgeMonths => months_between(a, b),
                    _ => (b - a).num_days(),
                };
                Value::Number(n as f64)
            }
            Func::HoursBetween => {
                let (Some(a), Some(b)) = (as_datetime(&arg(0)), as_datetime(&arg(1))) else {
                    return Value::Empty;
                };
                Value::Number((b - a).num_seconds() as f64 / 3600.0)
            }
            Func::AddDays => {
                let (Some(d), Some(n)) = (as_date(&arg(0)), number(1)) else {
                    return Value::Empty;
                };
                let days = n.trunc().clamp(-1.0e6, 1.0e6) as i64;
                d.checked_add_signed(Duration::days(days))
                    .map(Value::Date)
                    .unwrap_or(Value::Empty)
            }
        }
    }
}

/// The Crockford Base32 alphabet of subject ids (FORMS.md 2).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether `s` is a subject id in its canonical form: 10 Crockford Base32 characters
/// and the check character of the Luhn mod 32 algorithm over their values (the same
/// computation as the store's `ids.rs`, which creates the ids and normalises typed
/// ones; a form sees them canonical, so lower case and O/I/L aliases are refused).
pub(crate) fn subject_id_valid(s: &str) -> bool {
    const N: u32 = 32;
    let values: Option<Vec<u32>> = s
        .bytes()
        .map(|b| CROCKFORD.iter().position(|&c| c == b).map(|p| p as u32))
        .collect();
    let Some(values) = values else {
        return false;
    };
    if values.len() != 11 {
        return false;
    }
    let (body, check) = values.split_at(10);
    let mut factor = 2;
    let mut sum = 0;
    for v in body.iter().rev() {
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / N + addend % N;
    }
    (N - sum % N) % N == check[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_id_check_characters() {
        // Computed by the store's algorithm: body 7K3M9QX2TB, check X.
        let good = "7K3M9QX2TBX";
        assert!(subject_id_valid(good), "{good}");
        // Every single changed character is caught.
        for i in 0..11 {
            for &c in CROCKFORD.iter() {
                let mut b = good.as_bytes().to_vec();
                if b[i] == c {
                    continue;
                }
                b[i] = c;
                let changed = String::from_utf8(b).expect("ascii");
                assert!(!subject_id_valid(&changed), "{changed}");
            }
        }
        assert!(!subject_id_valid("7k3m9qx2tb4"), "not canonical");
        assert!(!subject_id_valid("7K3M9QX2TB"), "too short");
        assert!(!subject_id_valid("7K3M9QX2TB44"), "too long");
        assert!(!subject_id_valid("7K3M9QX2TU4"), "U is not a symbol");
        assert!(!subject_id_valid(""));
    }

    #[test]
    fn completed_months_and_years() {
        let d = |s| parse_date(s).expect("test date");
        assert_eq!(months_between(d("2020-01-31"), d("2020-02-29")), 0);
        assert_eq!(months_between(d("2020-01-15"), d("2020-02-15")), 1);
        assert_eq!(
            months_between(d("2010-06-10"), d("2026-06-09")),
            16 * 12 - 1
        );
        assert_eq!(months_between(d("2026-06-10"), d("2026-01-10")), -5);
    }
}
