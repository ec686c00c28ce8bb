//! `docs/clinical-rules.md` is the clinical review table of every rule. This test
//! keeps it true: every rule of every real form is in the table, every rule the table
//! lists is in each form it names (and in no form it does not name), says what harm it
//! prevents, and has at least one case where it fires and one where it must not in
//! that form's `tests/rule_cases/<form>.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const FORMS: &[&str] = &["pda", "pec", "arr_t1", "arr_t2"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of the table: rule id -> (harm, forms).
fn table() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let path = repo().join("docs/clinical-rules.md");
    let text = std::fs::read_to_string(&path).expect("docs/clinical-rules.md");
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `id` | harm | forms | cases | confirm |
        if cells.len() < 7 || !cells[1].starts_with('`') {
            continue;
        }
        let id = cells[1].trim_matches('`').to_string();
        let forms: BTreeSet<String> = cells[3]
            .split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect();
        let harm = cells[2].to_string();
        assert!(
            rows.insert(id.clone(), (harm, forms)).is_none(),
            "{id} is listed twice"
        );
    }
    rows
}

#[test]
fn the_clinical_review_table_lists_every_rule_with_both_outcomes() {
    let rows = table();
    assert!(rows.len() > 100, "the table was read ({} rows)", rows.len());
    let mut problems = Vec::new();
    let mut in_forms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for form in FORMS {
        let def = json(&repo().join(format!("schemas/forms/{form}.json")));
        let cases = json(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/rule_cases/{form}.json")),
        );
        let cases = cases.as_array().expect("cases are a list");
        for rule in def["rules"].as_array().expect("rules") {
            let id = rule["id"].as_str().expect("rule id").to_string();
            in_forms
                .entry(id.clone())
                .or_default()
                .insert(form.to_string());
            let outcome = |fires: bool| {
                cases
                    .iter()
                    .filter(|c| c["rule"] == id.as_str() && c["fires"] == fires)
                    .count()
            };
            if outcome(true) == 0 {
                problems.push(format!("{form}: {id} has no case where it fires"));
            }
            if outcome(false) == 0 {
                problems.push(format!("{form}: {id} has no case where it must not fire"));
            }
        }
    }
    for (id, forms) in &in_forms {
        match rows.get(id) {
            None => problems.push(format!("{id} (in {forms:?}) is missing from the table")),
            Some((harm, listed)) => {
                if listed != forms {
                    problems.push(format!(
                        "{id}: the table names {listed:?}, the forms have it in {forms:?}"
                    ));
                }
                if harm.len() < 10 {
                    problems.push(format!(
                        "{id}: the table does not say what harm it prevents"
                    ));
                }
            }
        }
    }
    for id in rows.keys() {
        if !in_forms.contains_key(id) {
            problems.push(format!("{id} is in the table but in no form"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
