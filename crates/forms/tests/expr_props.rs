//! Property tests of the expression language: no input makes it panic, printing then
//! parsing gives the same tree, and whatever loads evaluates without panicking.
//! The number of cases comes from `PROPTEST_CASES` (proptest's default: 256).

use proptest::prelude::*;
use tern_forms::expr::syntax::{parse, BinOp, Expr, ExprKind, Span};
use tern_forms::{ConfigTables, EvalContext, Form, SourceFile};

fn leaf() -> impl Strategy<Value = ExprKind> {
    prop_oneof![
        (0u32..100_000).prop_map(|n| ExprKind::Number(n as f64)),
        (0.0f64..1.0e9).prop_map(ExprKind::Number),
        "[a-z '0-9-]{0,8}".prop_map(ExprKind::Text),
        "[a-z_][a-z0-9_]{0,8}".prop_map(ExprKind::Field),
        Just(ExprKind::Current),
    ]
}

fn op() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Mod,
    ])
}

fn function_name() -> impl Strategy<Value = String> {
    let names: Vec<String> = tern_forms::expr::function_names()
        .map(String::from)
        .chain(["foo-bar".to_string()])
        .collect();
    prop::sample::select(names)
}

fn expr() -> impl Strategy<Value = Expr> {
    let wrap = |kind| Expr {
        kind,
        span: Span::default(),
    };
    leaf()
        .prop_map(wrap)
        .prop_recursive(6, 48, 4, move |inner| {
            prop_oneof![
                inner
                    .clone()
                    .prop_map(move |e| wrap(ExprKind::Neg(Box::new(e)))),
                (op(), inner.clone(), inner.clone())
                    .prop_map(move |(o, l, r)| wrap(ExprKind::Binary(o, Box::new(l), Box::new(r)))),
                (function_name(), prop::collection::vec(inner, 0..4))
                    .prop_map(move |(f, args)| wrap(ExprKind::Call(f, args))),
            ]
        })
}

/// Text made of the language's own tokens, more likely to get deep into the parser
/// than random characters.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "${a}",
        "${age_years}",
        ".",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "div",
        "mod",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "and",
        "or",
        "'x'",
        "\"y\"",
        "12",
        "3.5",
        "if",
        "selected",
        "today",
        "count",
        "regex",
        "'[a-'",
        "lookup",
        "max-of",
        "min-of",
        "count-of",
        "${g}",
        "$",
        "${",
        "}",
        "'",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..24).prop_map(|t| t.join(" "))
}

const FORM: &str = r#"{
  "form_id": "p", "version": "1.0.0", "title": "P", "languages": ["en"],
  "choice_lists": {"c": [{"code": "x", "label": "X"}, {"code": "y", "label": "Y"}]},
  "sections": [{"id": "s", "title": "S", "fields": [
    {"id": "a", "type": "integer", "label": "A"},
    {"id": "age_years", "type": "decimal", "label": "Age"},
    {"id": "t", "type": "text", "label": "T"},
    {"id": "d", "type": "date", "label": "D"},
    {"id": "m", "type": "select_multiple", "choices": "c", "label": "M"},
    {"id": "g", "type": "repeat", "label": "G", "fields": [{"id": "gv", "type": "integer", "label": "GV"}]},
    {"id": "out", "type": "calculate", "calculate": "EXPR"}
  ]}]
}"#;

fn answers() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    (
        prop::option::of(-1000i64..1000),
        prop::option::of(-1.0e6f64..1.0e6),
        prop::option::of(".{0,6}"),
        prop::option::of((1900i32..2100, 1u32..13, 1u32..29)),
        prop::collection::vec(0i64..5, 0..4),
    )
        .prop_map(|(a, age, t, d, g)| {
            let mut m = serde_json::Map::new();
            if let Some(a) = a {
                m.insert("a".into(), a.into());
            }
            if let Some(age) = age {
                m.insert("age_years".into(), age.into());
            }
            if let Some(t) = t {
                m.insert("t".into(), t.into());
            }
            if let Some((y, mo, da)) = d {
                m.insert("d".into(), format!("{y:04}-{mo:02}-{da:02}").into());
            }
            m.insert("m".into(), serde_json::json!(["x"]));
            m.insert(
                "g".into(),
                g.into_iter()
                    .map(|v| serde_json::json!({"gv": v}))
                    .collect(),
            );
            m
        })
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let (parsed, errors) = parse(&printed);
        prop_assert!(errors.is_empty(), "{printed}: {errors:?}");
        prop_assert_eq!(parsed, Some(e), "{}", printed);
    }

    #[test]
    fn parsing_any_text_never_panics(text in ".{0,64}") {
        let _ = parse(&text);
    }

    #[test]
    fn parsing_token_soup_never_panics(text in token_soup()) {
        let _ = parse(&text);
    }

    #[test]
    fn whatever_loads_evaluates_without_panicking(e in prop_oneof![expr().prop_map(|e| e.to_string()), token_soup()], answers in answers()) {
        let escaped = serde_json::to_string(&e).expect("string");
        let text = FORM.replace("\"EXPR\"", &escaped);
        if let Ok(form) = Form::parse(&SourceFile::new("p.json", text), &ConfigTables::default()) {
            let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z").expect("time");
            let _ = form.evaluate_json(&answers, &EvalContext::new(now));
        }
    }
}
