//! Stage 1 of the expression language: text → syntax tree.
//!
//! The syntax is XLSForm/ODK's (`${age_years} >= 10 and selected(${x}, 'a')`), so that
//! forms written for ODK read the same here. Parsing never fails as a whole: it returns
//! the tree it could build and the errors it met, each with a byte span into the text.

use std::fmt;

/// Byte range into the expression text, for error positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A parsed expression. Equality ignores spans, so a printed and re-parsed tree
/// compares equal to the original.
#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Text(String),
    /// `${field_id}`
    Field(String),
    /// `.`: the value of the field the expression belongs to.
    Current,
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
        }
    }
}

/// A problem found while parsing or checking an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub span: Span,
    pub message: String,
}

impl ExprError {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        ExprError {
            span,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Field(String),
    Name(String),
    Dot,
    LParen,
    RParen,
    Comma,
    Op(BinOp),
    Minus,
    End,
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next_token(&mut self) -> Result<(Token, Span), ExprError> {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let span = |end: usize| Span { start, end };
        let Some(&c) = bytes.get(self.pos) else {
            return Ok((Token::End, span(start)));
        };
        let single = |tok: Token, me: &mut Self| {
            me.pos += 1;
            Ok((tok, span(start + 1)))
        };
        match c {
            b'(' => single(Token::LParen, self),
            b')' => single(Token::RParen, self),
            b',' => single(Token::Comma, self),
            b'+' => single(Token::Op(BinOp::Add), self),
            b'-' => single(Token::Minus, self),
            b'*' => single(Token::Op(BinOp::Mul), self),
            b'=' => {
                // `==` is a common slip from other languages; accept it as `=`.
                self.pos += if bytes.get(self.pos + 1) == Some(&b'=') {
                    2
                } else {
                    1
                };
                Ok((Token::Op(BinOp::Eq), span(self.pos)))
            }
            b'!' if bytes.get(self.pos + 1) == Some(&b'=') => {
                self.pos += 2;
                Ok((Token::Op(BinOp::Ne), span(self.pos)))
            }
            b'<' | b'>' => {
                let eq = bytes.get(self.pos + 1) == Some(&b'=');
                self.pos += if eq { 2 } else { 1 };
                let op = match (c, eq) {
                    (b'<', false) => BinOp::Lt,
                    (b'<', true) => BinOp::Le,
                    (_, false) => BinOp::Gt,
                    (_, true) => BinOp::Ge,
                };
                Ok((Token::Op(op), span(self.pos)))
            }
            b'\'' | b'"' => {
                let close = self.text[start + 1..].find(c as char).ok_or_else(|| {
                    ExprError::new(
                        span(bytes.len()),
                        "unterminated text: add the closing quote",
                    )
                })?;
                let end = start + 1 + close;
                self.pos = end + 1;
                Ok((
                    Token::Text(self.text[start + 1..end].to_string()),
                    span(self.pos),
                ))
            }
            b'$' => {
                if bytes.get(self.pos + 1) != Some(&b'{') {
                    return Err(ExprError::new(
                        span(start + 1),
                        "expected `${field_id}` after `$`",
                    ));
                }
                let close = self.text[start..].find('}').ok_or_else(|| {
                    ExprError::new(span(bytes.len()), "unterminated field reference: add `}`")
                })?;
                let name = &self.text[start + 2..start + close];
                self.pos = start + close + 1;
                if !is_field_name(name) {
                    return Err(ExprError::new(
                        span(self.pos),
                        format!("`{name}` is not a field id (letters, digits and _ only)"),
                    ));
                }
                Ok((Token::Field(name.to_string()), span(self.pos)))
            }
            b'0'..=b'9' | b'.' => {
                let mut end = self.pos;
                while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
                    end += 1;
                }
                let raw = &self.text[start..end];
                self.pos = end;
                if raw == "." {
                    return Ok((Token::Dot, span(end)));
                }
                match raw.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok((Token::Number(n), span(end))),
                    Ok(_) => Err(ExprError::new(span(end), "this number is too large")),
                    Err(_) => Err(ExprError::new(
                        span(end),
                        format!("`{raw}` is not a number"),
                    )),
                }
            }
            c if c.is_ascii_alphabetic() => {
                let mut end = self.pos;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'-'
                        || bytes[end] == b'_')
                {
                    end += 1;
                }
                let word = &self.text[start..end];
                self.pos = end;
                let tok = match word {
                    "and" => Token::Op(BinOp::And),
                    "or" => Token::Op(BinOp::Or),
                    "div" => Token::Op(BinOp::Div),
                    "mod" => Token::Op(BinOp::Mod),
                    _ => Token::Name(word.to_string()),
                };
                Ok((tok, span(end)))
            }
            _ => {
                let ch = self.text[start..].chars().next().unwrap_or(' ');
                self.pos += ch.len_utf8();
                Err(ExprError::new(
                    span(self.pos),
                    format!("unexpected character `{ch}`"),
                ))
            }
        }
    }
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    span: Span,
    depth: usize,
}

/// Deeper nesting than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses an expression. On error the tree is `None` and the errors say where.
pub fn parse(text: &str) -> (Option<Expr>, Vec<ExprError>) {
    match parse_inner(text) {
        Ok(expr) => (Some(expr), Vec::new()),
        Err(e) => (None, vec![e]),
    }
}

fn parse_inner(text: &str) -> Result<Expr, ExprError> {
    let mut lexer = Lexer { text, pos: 0 };
    let (token, span) = lexer.next_token()?;
    let mut p = Parser {
        lexer,
        token,
        span,
        depth: 0,
    };
    if p.token == Token::End {
        return Err(ExprError::new(span, "the expression is empty"));
    }
    let expr = p.expr(0)?;
    if p.token != Token::End {
        return Err(ExprError::new(
            p.span,
            "unexpected text after the end of the expression",
        ));
    }
    Ok(expr)
}

fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
        BinOp::Add | BinOp::Sub => 4,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
    }
}

impl Parser<'_> {
    fn bump(&mut self) -> Result<(), ExprError> {
        let (token, span) = self.lexer.next_token()?;
        self.token = token;
        self.span = span;
        Ok(())
    }

    fn binary_op(&self) -> Option<BinOp> {
        match self.token {
            Token::Op(op) => Some(op),
            Token::Minus => Some(BinOp::Sub),
            _ => None,
        }
    }

    /// Precedence climbing; all binary operators are left-associative, and
    /// comparisons do not chain (`a < b < c` is refused).
    fn expr(&mut self, min_prec: u8) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.span,
                "the expression is nested too deeply",
            ));
        }
        let mut lhs = self.unary()?;
        while let Some(op) = self.binary_op() {
            let prec = precedence(op);
            if prec < min_prec {
                break;
            }
            self.bump()?;
            let rhs = self.expr(prec + 1)?;
            if prec == 3 {
                if let Some(next) = self.binary_op() {
                    if precedence(next) == 3 {
                        return Err(ExprError::new(
                            self.span,
                            "comparisons cannot be chained: join them with `and`",
                        ));
                    }
                }
            }
            let span = Span {
                start: lhs.span.start,
                end: rhs.span.end,
            };
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.token == Token::Minus {
            let start = self.span.start;
            self.bump()?;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ExprError::new(
                    self.span,
                    "the expression is nested too deeply",
                ));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            let span = Span {
                start,
                end: inner.span.end,
            };
            return Ok(Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                span,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let span = self.span;
        let leaf = |kind| Expr { kind, span };
        match std::mem::replace(&mut self.token, Token::End) {
            Token::Number(n) => {
                self.bump()?;
                Ok(leaf(ExprKind::Number(n)))
            }
            Token::Text(s) => {
                self.bump()?;
                Ok(leaf(ExprKind::Text(s)))
            }
            Token::Field(f) => {
                self.bump()?;
                Ok(leaf(ExprKind::Field(f)))
            }
            Token::Dot => {
                self.bump()?;
                Ok(leaf(ExprKind::Current))
            }
            Token::LParen => {
                self.bump()?;
                let inner = self.expr(0)?;
                if self.token != Token::RParen {
                    return Err(ExprError::new(self.span, "expected `)`"));
                }
                self.bump()?;
                Ok(inner)
            }
            Token::Name(name) => {
                self.bump()?;
                if self.token != Token::LParen {
                    return Err(ExprError::new(
                        span,
                        format!("`{name}` is not a function call or operator; field references are written `${{{name}}}`"),
                    ));
                }
                self.bump()?;
                let mut args = Vec::new();
                if self.token != Token::RParen {
                    loop {
                        args.push(self.expr(0)?);
                        match self.token {
                            Token::Comma => self.bump()?,
                            Token::RParen => break,
                            _ => return Err(ExprError::new(self.span, "expected `,` or `)`")),
                        }
                    }
                }
                let end = self.span.end;
                self.bump()?;
                Ok(Expr {
                    kind: ExprKind::Call(name, args),
                    span: Span {
                        start: span.start,
                        end,
                    },
                })
            }
            Token::End => Err(ExprError::new(span, "the expression ends too early")),
            other => {
                self.token = other;
                Err(ExprError::new(
                    span,
                    "expected a value, a field or a function call",
                ))
            }
        }
    }
}

/// Prints an expression so that parsing the output gives the same tree, with only the
/// parentheses the tree needs (so printing never nests deeper than the original).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::Text(s) if s.contains('\'') => write!(f, "\"{s}\""),
            ExprKind::Text(s) => write!(f, "'{s}'"),
            ExprKind::Field(name) => write!(f, "${{{name}}}"),
            ExprKind::Current => write!(f, "."),
            ExprKind::Neg(inner) if matches!(inner.kind, ExprKind::Binary(..)) => {
                write!(f, "-({inner})")
            }
            ExprKind::Neg(inner) => write!(f, "-{inner}"),
            ExprKind::Binary(op, l, r) => {
                let parent = precedence(*op);
                write_operand(f, l, parent, false)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, r, parent, true)
            }
            ExprKind::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Operators are left-associative and comparisons do not chain, which decides when an
/// operand needs parentheses.
fn write_operand(
    f: &mut fmt::Formatter<'_>,
    operand: &Expr,
    parent: u8,
    right: bool,
) -> fmt::Result {
    let needs = match &operand.kind {
        ExprKind::Binary(op, ..) => {
            let own = precedence(*op);
            own < parent || (right && own == parent) || (own == 3 && parent == 3)
        }
        _ => false,
    };
    if needs {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

/// Every `${field}` an expression mentions, in order of appearance.
pub fn field_refs(expr: &Expr, out: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Field(name) => out.push(name.clone()),
        ExprKind::Neg(inner) => field_refs(inner, out),
        ExprKind::Binary(_, l, r) => {
            field_refs(l, out);
            field_refs(r, out);
        }
        ExprKind::Call(_, args) => args.iter().for_each(|a| field_refs(a, out)),
        ExprKind::Number(_) | ExprKind::Text(_) | ExprKind::Current => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let (expr, errors) = parse(text);
        assert!(errors.is_empty(), "{text}: {errors:?}");
        expr.map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn precedence_and_printing() {
        let same = [
            "1 + 2 * 3",
            "(1 + 2) * 3",
            "${a} >= 10 and ${b} != 'male'",
            "(a() or b()) and c()",
            "a() or b() and c()",
            "10 - 2 - 3",
            "10 - (2 - 3)",
            "-${x} div 2 mod 3",
            "-(1 + 2)",
            "(1 < 2) = true()",
            "selected(${x}, 'a')",
            ". >= 0.5",
            "count-selected(.) = 1",
        ];
        for text in same {
            assert_eq!(round_trip(text), text);
        }
        assert_eq!(round_trip("((1)) + (2 * 3)"), "1 + 2 * 3");
        assert_eq!(round_trip("\"it's\""), "\"it's\"");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases: [(&str, &str, usize); 9] = [
            ("${a} +", "ends too early", 6),
            ("${a b}", "not a field id", 0),
            ("'abc", "unterminated text", 0),
            ("1 < 2 < 3", "cannot be chained", 6),
            ("foo", "not a function call", 0),
            ("f(1 2)", "expected `,` or `)`", 4),
            ("", "empty", 0),
            ("1 # 2", "unexpected character", 2),
            (&"9".repeat(400), "too large", 0),
        ];
        for (text, msg, start) in cases {
            let (expr, errors) = parse(text);
            assert!(expr.is_none(), "{text}");
            assert!(errors[0].message.contains(msg), "{text}: {:?}", errors[0]);
            assert_eq!(errors[0].span.start, start, "{text}: {:?}", errors[0]);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let (_, errors) = parse(&text);
        assert!(errors[0].message.contains("nested too deeply"));
        let text = "-".repeat(10_000) + "1";
        let (_, errors) = parse(&text);
        assert!(errors[0].message.contains("nested too deeply"));
    }
}
