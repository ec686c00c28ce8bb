//! Entry points shared by the fuzz targets (`fuzz/`) and the test that replays their
//! corpus in CI, so both exercise exactly the same code.

use crate::{ConfigTables, EvalContext, Form, SourceFile};

/// Parses arbitrary bytes as a form file; if it loads, evaluates it over no answers
/// and over answers taken from the same bytes.
pub fn form_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(form) = Form::parse(
        &SourceFile::new("fuzz.json", text),
        &ConfigTables::default(),
    ) else {
        return;
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:00:00Z").expect("constant time");
    let ctx = EvalContext::new(now);
    let _ = form.evaluate_json(&serde_json::Map::new(), &ctx);
    if let Ok(serde_json::Value::Object(answers)) = serde_json::from_str(text) {
        let _ = form.evaluate_json(&answers, &ctx);
    }
}

/// Parses arbitrary bytes as an expression, prints it and parses the print again,
/// which must give the same tree.
pub fn expression(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (Some(expr), _) = crate::expr::syntax::parse(text) else {
        return;
    };
    let printed = expr.to_string();
    let (again, errors) = crate::expr::syntax::parse(&printed);
    assert!(errors.is_empty(), "printed form does not parse: {printed}");
    assert_eq!(
        again.as_ref(),
        Some(&expr),
        "round trip changed the tree: {printed}"
    );
}
