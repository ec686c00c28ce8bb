//! Runtime values and static types of the expression language and of answers.

use chrono::{DateTime, FixedOffset, NaiveDate};
use std::fmt;

/// A value an expression computes or an answer holds. `Empty` is an unanswered or
/// hidden field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Bool(bool),
    Number(f64),
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
    /// A select_multiple answer, or the values of one field across repeat instances.
    List(Vec<Value>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(s) => s.is_empty(),
            Value::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// The answer as JSON, the way answers files and records store it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Empty => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::Text(s) => J::String(s.clone()),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => J::String(format_datetime(t)),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
        }
    }
}

/// Whole numbers print without a fraction (`12`, not `12.0`).
pub(crate) fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

pub(crate) fn format_datetime(t: &DateTime<FixedOffset>) -> String {
    if t.offset().local_minus_utc() == 0 {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// Parses an ISO 8601 datetime; a datetime without offset is taken as UTC.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Some(naive.and_utc().fixed_offset());
        }
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%MZ"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t);
        }
    }
    None
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl fmt::Display for Value {
    /// How a value is inserted into a message (`{temp_c}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Empty => Ok(()),
            Value::Number(n) => {
                let rounded = (n * 100.0).round() / 100.0;
                write!(f, "{rounded}")
            }
            Value::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            other => match other.to_json() {
                serde_json::Value::String(s) => write!(f, "{s}"),
                j => write!(f, "{j}"),
            },
        }
    }
}

/// Static type of an expression, decided by the type checker before any evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    Text,
    Date,
    DateTime,
    /// select_multiple answers and repeat-field values seen from outside the group.
    List(Box<Type>),
    /// A repeat group itself (only `count()` takes one).
    Group,
    /// The type of an empty literal such as `coalesce()` of nothing known; matches all.
    Any,
}

impl Type {
    pub fn list_of(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// The element type for lists, the type itself otherwise.
    pub fn element(&self) -> &Type {
        match self {
            Type::List(inner) => inner,
            other => other,
        }
    }

    pub fn matches(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Any, _) | (_, Type::Any) => true,
            (Type::List(a), Type::List(b)) => a.matches(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => write!(f, "boolean"),
            Type::Number => write!(f, "number"),
            Type::Text => write!(f, "text"),
            Type::Date => write!(f, "date"),
            Type::DateTime => write!(f, "datetime"),
            Type::List(inner) => write!(f, "list of {inner}"),
            Type::Group => write!(f, "repeat group"),
            Type::Any => write!(f, "any"),
        }
    }
}
