//! What the benchmarks (reports, exports) share: their command-line options,
//! percentiles, and sample record facts (a record of a built-in form evaluated once,
//! then copied under new ids over 365 days and four sites).

use std::time::Duration;

use tern_server::db::RecordRow;
use tern_server::facts::FactsRow;

/// The value after `name` on the command line, or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// The median and the 95th percentile.
pub fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95))
}

/// CPU time this process has used so far, over all its threads (from
/// /proc/self/task/*/schedstat, nanoseconds): what a report costs whatever else
/// runs on the machine (the database's own work included for SQLite, which runs in
/// the process; PostgreSQL's server processes are not counted).
pub fn cpu_time() -> Duration {
    let mut ns: u64 = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(t.path().join("schedstat")) {
                ns += text
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(ns)
}

/// A record of `form` (version 1.1.0) with `answers`, ready for `record_facts`.
pub fn template(
    form: &str,
    answers: serde_json::Value,
) -> (
    std::sync::Arc<tern_forms::Form>,
    RecordRow,
    tern_store::RecordInput,
) {
    let f = tern_store::builtin::form(form, "1.1.0").expect("form");
    let record = RecordRow {
        record_id: "t".into(),
        site: "site-a".into(),
        form_id: form.into(),
        form_version: "1.1.0".into(),
        subject_id: "S".into(),
        status: "submitted".into(),
        conflict: false,
        created: "2026-03-10T09:00:00Z".into(),
    };
    let input = tern_store::RecordInput {
        answers: answers.as_object().cloned().unwrap_or_default(),
        created: record.created.clone(),
        subject_id: "S".into(),
        site: "site-a".into(),
        ..Default::default()
    };
    (f, record, input)
}

/// `records` copies of `made` in turn: new record ids, two records a subject, sites
/// `site-0`..`site-3`, encounter days over the 365 days up to `day`, one in 97 in
/// conflict.
pub fn spread(made: &[FactsRow], records: usize, day: chrono::NaiveDate) -> Vec<FactsRow> {
    (0..records)
        .map(|i| {
            let mut r = made[i % made.len()].clone();
            r.record_id = format!("r{i:07}");
            r.subject_id = format!("S{:07}", i / 2);
            r.site = format!("site-{}", i % 4);
            r.conflict = i % 97 == 0;
            r.encounter_date = (day - chrono::Duration::days((i % 365) as i64)).to_string();
            r.created = format!("{}T09:00:00Z", r.encounter_date);
            r
        })
        .collect()
}
