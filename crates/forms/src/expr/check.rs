//! Stages 2 and 3 of the expression language: resolve field references and check
//! types, giving a compiled tree that evaluation walks without any look-ups by name.

use super::syntax::{BinOp, Expr, ExprError, ExprKind, Span};
use crate::config::ConfigTable;
use crate::value::{parse_date, parse_datetime, Type, Value};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// What the checker knows of a field.
#[derive(Debug, Clone)]
pub(crate) struct FieldSig {
    pub index: usize,
    /// The repeat group holding the field, if any.
    pub group: Option<usize>,
    pub ty: Type,
}

/// Everything an expression may refer to, and where the expression sits.
pub(crate) struct Scope<'a> {
    pub fields: &'a HashMap<String, FieldSig>,
    pub tables: &'a HashMap<String, Arc<ConfigTable>>,
    /// The field the expression belongs to (for `.`), if any.
    pub host: Option<usize>,
    /// The repeat group the expression is evaluated in, if any.
    pub group: Option<usize>,
}

/// How a field reference reads its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A field outside any repeat group.
    Scalar,
    /// A field of the repeat instance being evaluated.
    Sibling,
    /// Every instance's value of a field inside a repeat group, as a list.
    All,
    /// The repeat group itself (its instance count).
    Group,
    /// A field of the repeat group an aggregate (`max-of()`, `min-of()`, `count-of()`)
    /// iterates over: its value in the instance being visited.
    Each,
}

/// What an aggregate over another repeat group computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Max,
    Min,
    Count,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Const(Value),
    Field {
        index: usize,
        access: Access,
        /// Read the kept answer even while the field is hidden (`answer()`).
        raw: bool,
    },
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    Regex(Box<Node>, Box<Regex>),
    Lookup {
        table: Arc<ConfigTable>,
        column: usize,
        key: Box<Node>,
        /// `configured()`: whether the table has a value for the key, not the value.
        presence: bool,
    },
    MinDaysApart {
        date: usize,
        key: Option<usize>,
        at_least: Option<Box<Node>>,
    },
    /// `max-of(${group}, value, filter?)`, `min-of(...)`, `count-of(${group}, filter?)`:
    /// `value` and `filter` are evaluated once per instance of `group`, where that
    /// group's fields read the visited instance ([`Access::Each`]).
    Aggregate {
        kind: Aggregate,
        group: usize,
        value: Option<Box<Node>>,
        filter: Option<Box<Node>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    True,
    False,
    If,
    Coalesce,
    Not,
    Selected,
    CountSelected,
    Count,
    Sum,
    Min,
    Max,
    CountNonEmpty,
    StringLength,
    Concat,
    String,
    Number,
    Int,
    Round,
    Abs,
    Today,
    Now,
    EncounterDate,
    Date,
    AgeYears,
    AgeMonths,
    AgeDays,
    DaysBetween,
    HoursBetween,
    AddDays,
    Position,
    SubjectIdValid,
}

const FUNCTIONS: &[(&str, Func)] = &[
    ("true", Func::True),
    ("false", Func::False),
    ("if", Func::If),
    ("coalesce", Func::Coalesce),
    ("not", Func::Not),
    ("selected", Func::Selected),
    ("count-selected", Func::CountSelected),
    ("count", Func::Count),
    ("sum", Func::Sum),
    ("min", Func::Min),
    ("max", Func::Max),
    ("count-non-empty", Func::CountNonEmpty),
    ("string-length", Func::StringLength),
    ("concat", Func::Concat),
    ("string", Func::String),
    ("number", Func::Number),
    ("int", Func::Int),
    ("round", Func::Round),
    ("abs", Func::Abs),
    ("today", Func::Today),
    ("now", Func::Now),
    ("encounter-date", Func::EncounterDate),
    ("date", Func::Date),
    ("age-years", Func::AgeYears),
    ("age-months", Func::AgeMonths),
    ("age-days", Func::AgeDays),
    ("days-between", Func::DaysBetween),
    ("hours-between", Func::HoursBetween),
    ("add-days", Func::AddDays),
    ("position", Func::Position),
    ("subject-id-valid", Func::SubjectIdValid),
];

/// Names handled outside the table above because their arguments are not plain values.
const SPECIAL_FUNCTIONS: &[&str] = &[
    "regex",
    "lookup",
    "configured",
    "answer",
    "min-days-apart",
    "max-of",
    "min-of",
    "count-of",
];

/// Every function name the language knows, for error messages and fuzzing.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .map(|(n, _)| *n)
        .chain(SPECIAL_FUNCTIONS.iter().copied())
}

/// Resolves and type-checks `expr`. Errors are collected, not thrown: the returned
/// type is `Any` where a part could not be checked.
pub(crate) fn check(expr: &Expr, scope: &Scope, errors: &mut Vec<ExprError>) -> (Node, Type) {
    Checker {
        scope,
        errors,
        each: None,
    }
    .node(expr)
}

struct Checker<'s, 'a> {
    scope: &'s Scope<'a>,
    errors: &'s mut Vec<ExprError>,
    /// The repeat group an enclosing aggregate iterates over, while checking its
    /// value and filter.
    each: Option<usize>,
}

fn is_temporal(t: &Type) -> bool {
    matches!(t, Type::Date | Type::DateTime | Type::Any)
}

impl Checker<'_, '_> {
    fn error(&mut self, span: Span, message: impl Into<String>) -> (Node, Type) {
        self.errors.push(ExprError::new(span, message));
        (Node::Const(Value::Empty), Type::Any)
    }

    fn field(&mut self, name: &str, span: Span, raw: bool) -> (Node, Type) {
        let Some(sig) = self.scope.fields.get(name) else {
            return self.error(
                span,
                format!("unknown field `${{{name}}}`: no field has this id in the form"),
            );
        };
        let (access, ty) = match (&sig.ty, sig.group) {
            (Type::Group, _) => (Access::Group, Type::Group),
            (ty, None) => (Access::Scalar, ty.clone()),
            (ty, Some(g)) if Some(g) == self.each => (Access::Each, ty.clone()),
            (ty, Some(g)) if Some(g) == self.scope.group => (Access::Sibling, ty.clone()),
            (ty, Some(_)) => (Access::All, Type::list_of(ty.element().clone())),
        };
        (
            Node::Field {
                index: sig.index,
                access,
                raw,
            },
            ty,
        )
    }

    fn node(&mut self, expr: &Expr) -> (Node, Type) {
        match &expr.kind {
            ExprKind::Number(n) => (Node::Const(Value::Number(*n)), Type::Number),
            ExprKind::Text(s) => (Node::Const(Value::Text(s.clone())), Type::Text),
            ExprKind::Field(name) => self.field(name, expr.span, false),
            ExprKind::Current => match self.scope.host {
                Some(index) => {
                    let access = if self.scope.group.is_some() {
                        Access::Sibling
                    } else {
                        Access::Scalar
                    };
                    let ty = self
                        .scope
                        .fields
                        .values()
                        .find(|s| s.index == index)
                        .map(|s| s.ty.clone())
                        .unwrap_or(Type::Any);
                    (
                        Node::Field {
                            index,
                            access,
                            raw: false,
                        },
                        ty,
                    )
                }
                None => self.error(
                    expr.span,
                    "`.` means the current field, but this expression has none",
                ),
            },
            ExprKind::Neg(inner) => {
                let (node, ty) = self.node(inner);
                self.expect(inner.span, &ty, &Type::Number, "`-`");
                (Node::Neg(Box::new(node)), Type::Number)
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r),
            ExprKind::Call(name, args) => self.call(name, args, expr.span),
        }
    }

    fn expect(&mut self, span: Span, got: &Type, want: &Type, what: &str) {
        if !got.matches(want) {
            self.errors.push(ExprError::new(
                span,
                format!("{what} needs a {want}, but this is a {got}"),
            ));
        }
    }

    /// Lets `${dob} < '2020-01-01'` compare a date with a date written as text.
    fn coerce_literal(node: &mut Node, ty: &mut Type, want: &Type) -> bool {
        if let Node::Const(Value::Text(s)) = node {
            let converted = match want {
                Type::Date => parse_date(s).map(Value::Date),
                Type::DateTime => parse_datetime(s).map(Value::DateTime),
                _ => None,
            };
            if let Some(v) = converted {
                *node = Node::Const(v);
                *ty = want.clone();
                return true;
            }
        }
        false
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr) -> (Node, Type) {
        let (mut ln, mut lt) = self.node(l);
        let (mut rn, mut rt) = self.node(r);
        let span = Span {
            start: l.span.start,
            end: r.span.end,
        };
        let result = match op {
            BinOp::And | BinOp::Or => {
                self.expect(l.span, &lt, &Type::Bool, &format!("`{}`", op.symbol()));
                self.expect(r.span, &rt, &Type::Bool, &format!("`{}`", op.symbol()));
                Type::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let what = format!("`{}`", op.symbol());
                if is_temporal(&lt) && lt != Type::Any || is_temporal(&rt) && rt != Type::Any {
                    self.errors.push(ExprError::new(
                        span,
                        format!("{what} does not work on dates: use add-days(), days-between() or age-years()"),
                    ));
                } else {
                    self.expect(l.span, &lt, &Type::Number, &what);
                    self.expect(r.span, &rt, &Type::Number, &what);
                }
                Type::Number
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if matches!(lt, Type::Date | Type::DateTime) {
                    let want = lt.clone();
                    Self::coerce_literal(&mut rn, &mut rt, &want);
                } else if matches!(rt, Type::Date | Type::DateTime) {
                    let want = rt.clone();
                    Self::coerce_literal(&mut ln, &mut lt, &want);
                }
                let ordered = !matches!(op, BinOp::Eq | BinOp::Ne);
                if matches!(lt, Type::List(_) | Type::Group)
                    || matches!(rt, Type::List(_) | Type::Group)
                {
                    self.errors.push(ExprError::new(
                        span,
                        format!(
                            "`{}` compares single values, not lists: use selected() for a select_multiple or count() for a repeat",
                            op.symbol()
                        ),
                    ));
                } else if !lt.matches(&rt) {
                    self.errors.push(ExprError::new(
                        span,
                        format!("`{}` compares a {lt} with a {rt}", op.symbol()),
                    ));
                } else if ordered && matches!(lt, Type::Bool | Type::Text) {
                    self.errors.push(ExprError::new(
                        span,
                        format!(
                            "`{}` needs numbers, dates or datetimes, not {lt}",
                            op.symbol()
                        ),
                    ));
                }
                Type::Bool
            }
        };
        (Node::Binary(op, Box::new(ln), Box::new(rn)), result)
    }

    fn arity(&mut self, name: &str, span: Span, args: &[Expr], min: usize, max: usize) -> bool {
        if args.len() < min || args.len() > max {
            let want = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            self.errors.push(ExprError::new(
                span,
                format!("{name}() takes {want} argument(s), not {}", args.len()),
            ));
            return false;
        }
        true
    }

    fn text_literal<'e>(&mut self, arg: &'e Expr, what: &str) -> Option<&'e str> {
        match &arg.kind {
            ExprKind::Text(s) => Some(s),
            _ => {
                self.errors.push(ExprError::new(
                    arg.span,
                    format!("{what} must be written as text in quotes"),
                ));
                None
            }
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Span) -> (Node, Type) {
        match name {
            "regex" => return self.regex(args, span),
            "lookup" => return self.lookup(args, span, false),
            "configured" => return self.lookup(args, span, true),
            "answer" => {
                if !self.arity(name, span, args, 1, 1) {
                    return (Node::Const(Value::Empty), Type::Any);
                }
                return match &args[0].kind {
                    ExprKind::Field(f) => self.field(f, args[0].span, true),
                    _ => self.error(
                        args[0].span,
                        "answer() takes a field reference such as ${pregnant}",
                    ),
                };
            }
            "min-days-apart" => return self.min_days_apart(args, span),
            "max-of" => return self.aggregate(Aggregate::Max, args, span),
            "min-of" => return self.aggregate(Aggregate::Min, args, span),
            "count-of" => return self.aggregate(Aggregate::Count, args, span),
            _ => {}
        }
        let Some(&(_, func)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
            let known: Vec<&str> = function_names().collect();
            return self.error(
                span,
                format!(
                    "unknown function `{name}()`; the functions are: {}",
                    known.join(", ")
                ),
            );
        };
        let checked: Vec<(Node, Type)> = args.iter().map(|a| self.node(a)).collect();
        let types: Vec<Type> = checked.iter().map(|(_, t)| t.clone()).collect();
        let nodes: Vec<Node> = checked.into_iter().map(|(n, _)| n).collect();
        let ok = |c: &mut Self, min, max| c.arity(name, span, args, min, max);
        let arg_is = |c: &mut Self, i: usize, accept: &dyn Fn(&Type) -> bool, want: &str| {
            if let Some(t) = types.get(i) {
                if !accept(t) && *t != Type::Any {
                    c.errors.push(ExprError::new(
                        args[i].span,
                        format!("{name}() needs {want} here, but this is a {t}"),
                    ));
                }
            }
        };
        let number = |t: &Type| *t == Type::Number;
        let temporal = |t: &Type| matches!(t, Type::Date | Type::DateTime);
        let ty = match func {
            Func::True | Func::False => {
                ok(self, 0, 0);
                Type::Bool
            }
            Func::Today | Func::EncounterDate => {
                ok(self, 0, 0);
                Type::Date
            }
            Func::Now => {
                ok(self, 0, 0);
                Type::DateTime
            }
            Func::Position => {
                ok(self, 0, 0);
                if self.scope.group.is_none() {
                    self.errors.push(ExprError::new(
                        span,
                        "position() only works inside a repeat group",
                    ));
                }
                Type::Number
            }
            Func::If => {
                if ok(self, 3, 3) {
                    arg_is(self, 0, &|t| *t == Type::Bool, "a boolean");
                    if !types[1].matches(&types[2]) {
                        self.errors.push(ExprError::new(
                            span,
                            format!(
                                "if() gives a {} or a {}: both branches need the same type",
                                types[1], types[2]
                            ),
                        ));
                    }
                    if types[1] == Type::Any {
                        types[2].clone()
                    } else {
                        types[1].clone()
                    }
                } else {
                    Type::Any
                }
            }
            Func::Coalesce => {
                ok(self, 1, usize::MAX);
                let first = types
                    .iter()
                    .find(|t| **t != Type::Any)
                    .cloned()
                    .unwrap_or(Type::Any);
                for (i, t) in types.iter().enumerate() {
                    if !t.matches(&first) {
                        self.errors.push(ExprError::new(
                            args[i].span,
                            format!("coalesce() needs arguments of one type: {first} and {t}"),
                        ));
                    }
                }
                first
            }
            Func::Not => {
                ok(self, 1, 1);
                arg_is(self, 0, &|t| *t == Type::Bool, "a boolean");
                Type::Bool
            }
            Func::Selected => {
                ok(self, 2, 2);
                arg_is(
                    self,
                    0,
                    &|t| matches!(t.element(), Type::Text),
                    "a select_one, select_multiple or list of codes",
                );
                arg_is(self, 1, &|t| *t == Type::Text, "a code in quotes");
                Type::Bool
            }
            Func::CountSelected => {
                ok(self, 1, 1);
                arg_is(
                    self,
                    0,
                    &|t| matches!(t.element(), Type::Text),
                    "a select_multiple",
                );
                Type::Number
            }
            Func::Count => {
                ok(self, 1, 1);
                arg_is(
                    self,
                    0,
                    &|t| matches!(t, Type::Group | Type::List(_)),
                    "a repeat group or a list",
                );
                Type::Number
            }
            Func::CountNonEmpty => {
                ok(self, 1, 1);
                arg_is(self, 0, &|t| matches!(t, Type::List(_)), "a list");
                Type::Number
            }
            Func::Sum => {
                ok(self, 1, usize::MAX);
                for i in 0..types.len() {
                    arg_is(self, i, &|t| *t.element() == Type::Number, "numbers");
                }
                Type::Number
            }
            Func::Min | Func::Max => {
                ok(self, 1, usize::MAX);
                let first = types
                    .iter()
                    .map(|t| t.element().clone())
                    .find(|t| *t != Type::Any)
                    .unwrap_or(Type::Any);
                for i in 0..types.len() {
                    arg_is(
                        self,
                        i,
                        &|t| {
                            t.element().matches(&first)
                                && matches!(
                                    first,
                                    Type::Number | Type::Date | Type::DateTime | Type::Any
                                )
                        },
                        "numbers, dates or datetimes of one type",
                    );
                }
                first
            }
            Func::StringLength => {
                ok(self, 1, 1);
                arg_is(self, 0, &|t| *t == Type::Text, "text");
                Type::Number
            }
            Func::SubjectIdValid => {
                ok(self, 1, 1);
                arg_is(self, 0, &|t| *t == Type::Text, "text");
                Type::Bool
            }
            Func::Concat => {
                ok(self, 1, usize::MAX);
                Type::Text
            }
            Func::String => {
                ok(self, 1, 1);
                Type::Text
            }
            Func::Number => {
                ok(self, 1, 1);
                arg_is(
                    self,
                    0,
                    &|t| matches!(t, Type::Text | Type::Number | Type::Bool),
                    "text or a number",
                );
                Type::Number
            }
            Func::Int | Func::Abs => {
                ok(self, 1, 1);
                arg_is(self, 0, &number, "a number");
                Type::Number
            }
            Func::Round => {
                ok(self, 1, 2);
                arg_is(self, 0, &number, "a number");
                arg_is(self, 1, &number, "a number of digits");
                Type::Number
            }
            Func::Date => {
                ok(self, 1, 1);
                arg_is(
                    self,
                    0,
                    &|t| matches!(t, Type::Text | Type::Date | Type::DateTime),
                    "text, a date or a datetime",
                );
                Type::Date
            }
            Func::AgeYears
            | Func::AgeMonths
            | Func::AgeDays
            | Func::DaysBetween
            | Func::HoursBetween => {
                ok(self, 2, 2);
                arg_is(self, 0, &temporal, "a date or datetime");
                arg_is(self, 1, &temporal, "a date or datetime");
                Type::Number
            }
            Func::AddDays => {
                ok(self, 2, 2);
                arg_is(self, 0, &|t| *t == Type::Date, "a date");
                arg_is(self, 1, &number, "a number of days");
                Type::Date
            }
        };
        (Node::Call(func, nodes), ty)
    }

    fn regex(&mut self, args: &[Expr], span: Span) -> (Node, Type) {
        if !self.arity("regex", span, args, 2, 2) {
            return (Node::Const(Value::Empty), Type::Bool);
        }
        let (subject, ty) = self.node(&args[0]);
        self.expect(args[0].span, &ty, &Type::Text, "regex()");
        let Some(pattern) = self.text_literal(&args[1], "the pattern of regex()") else {
            return (Node::Const(Value::Empty), Type::Bool);
        };
        match Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) => (Node::Regex(Box::new(subject), Box::new(re)), Type::Bool),
            Err(e) => {
                let msg = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                self.error(args[1].span, format!("invalid regular expression: {msg}"))
            }
        }
    }

    /// `lookup('table', key, 'column')`, or with `presence` `configured('table', key,
    /// 'column')`: a boolean telling whether the table has a value there (false for a
    /// missing row or a `null` cell, empty while the key is empty), so a form can say
    /// that a figure it needs is not configured instead of reading it as "no".
    fn lookup(&mut self, args: &[Expr], span: Span, presence: bool) -> (Node, Type) {
        let name = if presence { "configured" } else { "lookup" };
        let result = |ty: Type| if presence { Type::Bool } else { ty };
        if !self.arity(name, span, args, 3, 3) {
            return (Node::Const(Value::Empty), result(Type::Any));
        }
        let (key, key_ty) = self.node(&args[1]);
        if !matches!(key_ty, Type::Text | Type::Number | Type::Any) {
            self.errors.push(ExprError::new(
                args[1].span,
                format!("{name}() keys are text or numbers, but this is a {key_ty}"),
            ));
        }
        let (Some(table_name), Some(column_name)) = (
            self.text_literal(&args[0], &format!("the table name of {name}()")),
            self.text_literal(&args[2], &format!("the column name of {name}()")),
        ) else {
            return (Node::Const(Value::Empty), result(Type::Any));
        };
        let Some(table) = self.scope.tables.get(table_name) else {
            let mut known: Vec<&String> = self.scope.tables.keys().collect();
            known.sort();
            return self.error(
                args[0].span,
                format!("unknown configuration table `{table_name}`; the tables are: {known:?}"),
            );
        };
        let Some(column) = table.column_index(column_name) else {
            return self.error(
                args[2].span,
                format!(
                    "table `{table_name}` has no column `{column_name}`; its columns are: {:?}",
                    table.column_names()
                ),
            );
        };
        let ty = result(table.column_type(column));
        (
            Node::Lookup {
                table: Arc::clone(table),
                column,
                key: Box::new(key),
                presence,
            },
            ty,
        )
    }

    fn sibling(&mut self, arg: &Expr, what: &str) -> Option<(usize, Type)> {
        let ExprKind::Field(name) = &arg.kind else {
            self.errors.push(ExprError::new(
                arg.span,
                format!("{what} must be a field reference"),
            ));
            return None;
        };
        match self.field(name, arg.span, false) {
            (
                Node::Field {
                    index,
                    access: Access::Sibling,
                    ..
                },
                ty,
            ) => Some((index, ty)),
            (Node::Field { .. }, _) => {
                self.errors.push(ExprError::new(
                    arg.span,
                    format!("{what} must be a field of the same repeat group as the rule"),
                ));
                None
            }
            _ => None,
        }
    }

    fn min_days_apart(&mut self, args: &[Expr], span: Span) -> (Node, Type) {
        if !self.arity("min-days-apart", span, args, 1, 3) {
            return (Node::Const(Value::Empty), Type::Number);
        }
        let date = self.sibling(&args[0], "the first argument of min-days-apart()");
        if let Some((_, ty)) = &date {
            if !matches!(ty, Type::Date | Type::DateTime) {
                let ty = ty.clone();
                self.expect(args[0].span, &ty, &Type::Date, "min-days-apart()");
            }
        }
        let key = match args.get(1) {
            Some(a) => self
                .sibling(a, "the key of min-days-apart()")
                .map(|(i, _)| i),
            None => None,
        };
        let at_least = args.get(2).map(|a| {
            let (node, ty) = self.node(a);
            self.expect(a.span, &ty, &Type::Number, "min-days-apart()");
            Box::new(node)
        });
        match date {
            Some((date, _)) => (
                Node::MinDaysApart {
                    date,
                    key,
                    at_least,
                },
                Type::Number,
            ),
            None => (Node::Const(Value::Empty), Type::Number),
        }
    }

    /// `max-of(${group}, value, filter?)`, `min-of(${group}, value, filter?)` and
    /// `count-of(${group}, filter?)`: an aggregate over the instances of another repeat
    /// group. Inside `value` and `filter`, that group's fields read the instance being
    /// visited; the fields of the expression's own repeat instance and of the form
    /// outside groups read as usual (field ids are unique in a form, so a name says
    /// which). `value` is a number, date or datetime; `filter` a boolean, and only
    /// instances where it is true count.
    fn aggregate(&mut self, kind: Aggregate, args: &[Expr], span: Span) -> (Node, Type) {
        let name = match kind {
            Aggregate::Max => "max-of",
            Aggregate::Min => "min-of",
            Aggregate::Count => "count-of",
        };
        let (min, max) = match kind {
            Aggregate::Count => (1, 2),
            _ => (2, 3),
        };
        let fallback = match kind {
            Aggregate::Count => Type::Number,
            _ => Type::Any,
        };
        if !self.arity(name, span, args, min, max) {
            return (Node::Const(Value::Empty), fallback);
        }
        if self.each.is_some() {
            return self.error(
                span,
                format!("{name}() cannot sit inside another max-of(), min-of() or count-of()"),
            );
        }
        let ExprKind::Field(group_name) = &args[0].kind else {
            return self.error(
                args[0].span,
                format!("the first argument of {name}() must be a repeat group, such as ${{vacc}}"),
            );
        };
        let Some(sig) = self.scope.fields.get(group_name) else {
            return self.error(
                args[0].span,
                format!("unknown field `${{{group_name}}}`: no field has this id in the form"),
            );
        };
        if sig.ty != Type::Group {
            return self.error(
                args[0].span,
                format!(
                    "`${{{group_name}}}` is a {}, not a repeat group: {name}() goes over the instances of a repeat group",
                    sig.ty
                ),
            );
        }
        let group = sig.index;
        if self.scope.group == Some(group) {
            return self.error(
                args[0].span,
                format!(
                    "{name}() over `${{{group_name}}}`, the repeat group this expression sits in: a field of it would mean both this instance and the visited one; use min-days-apart() to compare instances of one group"
                ),
            );
        }
        self.each = Some(group);
        let (value, filter_arg) = match kind {
            Aggregate::Count => (None, args.get(1)),
            _ => {
                let arg = &args[1];
                let (node, ty) = self.node(arg);
                let value_ty = if matches!(
                    ty,
                    Type::Number | Type::Date | Type::DateTime | Type::Any
                ) {
                    ty
                } else {
                    self.errors.push(ExprError::new(
                        arg.span,
                        format!("{name}() needs a number, date or datetime to compare, but this is a {ty}"),
                    ));
                    Type::Any
                };
                (Some((node, value_ty)), args.get(2))
            }
        };
        let filter = filter_arg.map(|arg| {
            let (node, ty) = self.node(arg);
            self.expect(
                arg.span,
                &ty,
                &Type::Bool,
                &format!("the filter of {name}()"),
            );
            Box::new(node)
        });
        self.each = None;
        let ty = match &value {
            Some((_, ty)) => ty.clone(),
            None => Type::Number,
        };
        (
            Node::Aggregate {
                kind,
                group,
                value: value.map(|(node, _)| Box::new(node)),
                filter,
            },
            ty,
        )
    }
}
