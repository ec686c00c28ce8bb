//! Benchmark: loading the pre-departure form and re-evaluating it after one answer
//! changes. Run with `cargo bench -p tern-forms`; prints median and p95 per operation.
//! Not run in CI: tests check behaviour, benchmarks report speed.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};
use tern_forms::{Answers, ConfigTables, EvalContext, Form, SourceFile};

fn read(path: &Path) -> SourceFile {
    SourceFile::new(
        path.display().to_string(),
        std::fs::read_to_string(path).expect("readable fixture"),
    )
}

/// Runs `f` `n` times and prints median and p95 of the individual timings.
fn measure(name: &str, n: usize, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name:<48} median {:>9.1} µs   p95 {:>9.1} µs   ({n} runs)",
        at(0.5).as_secs_f64() * 1e6,
        at(0.95).as_secs_f64() * 1e6
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut tables: Vec<SourceFile> = std::fs::read_dir(root.join("schemas/config"))
        .expect("config folder")
        .map(|e| read(&e.expect("entry").path()))
        .collect();
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let config = ConfigTables::parse(&tables).expect("tables load");
    let form_file = read(&root.join("schemas/forms/pda.json"));
    let translations: Vec<SourceFile> = ["ar", "fa", "uk", "fr"]
        .iter()
        .map(|l| read(&root.join(format!("schemas/forms/translations/pda.{l}.json"))))
        .collect();

    measure("load pda.json (parse + check)", 200, || {
        black_box(Form::parse(&form_file, &config).expect("form loads"));
    });
    measure("load pda.json + 4 translations", 200, || {
        let mut form = Form::parse(&form_file, &config).expect("form loads");
        for t in &translations {
            form.add_translation(t).expect("translation loads");
        }
        black_box(form);
    });

    let form = Form::parse(&form_file, &config).expect("form loads");
    let full: serde_json::Value =
        serde_json::from_str(&read(&root.join("crates/forms/tests/fixtures/pda_full.json")).text)
            .expect("fixture is JSON");
    let full = full.as_object().expect("fixture is an object");
    let (mut answers, problems) = Answers::from_json(&form, full);
    assert!(problems.is_empty(), "{problems:?}");
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z").expect("time");
    let ctx = EvalContext::new(now);
    println!(
        "pda: {} fields, {} relevant in the full record",
        form.fields().len(),
        form.evaluate(&answers, &ctx).relevant.len()
    );

    let mut weight = 58.0;
    measure("re-evaluate pda after one answer changes", 5000, || {
        weight += 0.1;
        answers
            .set(&form, "weight_kg", None, &serde_json::json!(weight))
            .expect("weight is a decimal");
        black_box(form.evaluate(&answers, &ctx));
    });
    measure(
        "evaluate pda from JSON answers (eval command)",
        2000,
        || {
            black_box(form.evaluate_json(full, &ctx));
        },
    );
    measure("evaluate empty pda record", 5000, || {
        black_box(form.evaluate(&Answers::empty(&form), &ctx));
    });
}
