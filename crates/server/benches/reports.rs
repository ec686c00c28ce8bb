//! What the record facts projection costs the verifier per record, and what every
//! report costs over 100,000 records (goal: p95 under 300 ms), on SQLite and
//! PostgreSQL. Figures in docs/reports.md.
//!
//! The rows are made from a few evaluated templates (a TB suspect with vaccinations,
//! a refusal, an arrival record with tests and a measles alert, a plain arrival
//! check) copied under new ids over 365 days and four sites, and written with
//! `put_facts` (which also writes what each record gives the reports). Each report
//! is made as the endpoint makes it for the screen, over a 366-day window (all rows):
//! `report_api::make` reads its counts added up in SQL, or a worklist's first 500
//! lines with its chart and total counted in SQL, and assembles the report; a
//! worklist's CSV download (every line) is timed after it.
//!
//! Not part of CI. Run:
//!   cargo bench -p tern-server --bench reports -- --records 100000 --backend sqlite
//! Options: --records N (100000), --runs N (10), --backend sqlite|postgres.

#[path = "common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/pg.rs"]
mod pg;

use common::{arg, cpu_time, percentiles};
use serde_json::json;
use std::time::{Duration, Instant};
use tern_server::db::{Db, FactsFilter};
use tern_server::facts::{record_facts, FactsRow};
use tern_server::reports::{self, REPORTS};

fn main() {
    let records: usize = arg("--records", "100000").parse().expect("--records N");
    let runs: usize = arg("--runs", "10").parse().expect("--runs N");
    let backend = arg("--backend", "sqlite");
    let mut subject = serde_json::Map::new();
    subject.insert("date_of_birth".into(), json!("2012-02-01"));
    subject.insert("sex".into(), json!("female"));
    let templates = [
        common::template(
            "pda",
            json!({"consent_screening": "granted", "tb_cough": true, "tb_cough_weeks": 3,
                   "tb_fever": false, "tb_haemoptysis": false, "tb_night_sweats": false,
                   "tb_weight_loss": true, "temp_c": 37.2, "heart_rate": 90, "resp_rate": 18,
                   "weight_kg": 41, "height_cm": 150, "outcome": "deferred",
                   "vacc_evidence": "card_seen",
                   "vacc": [{"vaccine_cvx": "03", "source": "card", "date_given": "2013-03-01"},
                            {"vaccine_cvx": "20", "source": "verbal", "date_given": "2013-03-01"}]}),
        ),
        common::template("pda", json!({"consent_screening": "refused"})),
        common::template(
            "arr_t2",
            json!({"hbv_offered": true, "hbv_accepted": true, "hbv_result": "positive",
                   "sx_fever_rash": true, "vuln_minor_source": "self"}),
        ),
        common::template(
            "arr_t1",
            json!({"t1_isolation": false, "t1_vuln_flags": "none"}),
        ),
    ];
    // Projection cost per record: evaluation and what to keep, per template.
    let day: chrono::NaiveDate = "2026-03-10".parse().expect("day");
    let mut made: Vec<FactsRow> = Vec::new();
    for (form, record, input) in &templates {
        let mut times = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let row = record_facts(form, record, input, &subject, day);
            std::hint::black_box(reports::parts_of(&tern_server::facts::report_view(&row)));
            times.push(t.elapsed());
            if times.len() == 1 {
                made.push(row);
            }
        }
        let (p50, p95) = percentiles(times);
        println!(
            "projection with report parts {} ({} answers): p50 {:.2} ms, p95 {:.2} ms",
            record.form_id,
            input.answers.len(),
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
    for m in &made {
        let j = serde_json::to_string(m).expect("json");
        println!(
            "row {}: {} bytes ({} calculated, {} warnings)",
            m.form_id,
            j.len(),
            m.facts.calculated.len(),
            m.facts.warnings.len()
        );
    }
    let rows = common::spread(&made, records, day);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let tmp = tempfile::tempdir().expect("tmp");
    let pg_server;
    match backend.as_str() {
        "sqlite" => {
            let db = tern_server::sqlite::SqliteDb::open(tmp.path()).expect("sqlite");
            rt.block_on(run(&db, &rows, runs, &backend, || async {}));
        }
        "postgres" => {
            pg_server = pg::Postgres::start();
            let db = rt
                .block_on(tern_server::postgres::PgDb::connect(&pg_server.url()))
                .expect("postgres");
            let url = pg_server.url();
            rt.block_on(run(&db, &rows, runs, &backend, || async move {
                // What autovacuum does on a server that has been running: statistics
                // and the visibility map (index-only scans) after the bulk load.
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                tokio::spawn(conn);
                client
                    .batch_execute("VACUUM ANALYZE")
                    .await
                    .expect("vacuum");
            }));
        }
        other => panic!("--backend sqlite or postgres, not {other}"),
    }
}

async fn run<D: Db, F: std::future::Future<Output = ()>>(
    db: &D,
    rows: &[FactsRow],
    runs: usize,
    backend: &str,
    settle: impl FnOnce() -> F,
) {
    let t = Instant::now();
    for part in rows.chunks(5000) {
        db.put_facts(part).await.expect("put");
    }
    println!(
        "{backend}: wrote {} rows in {:.1} s",
        rows.len(),
        t.elapsed().as_secs_f64()
    );
    settle().await;
    let filter = FactsFilter {
        sites: None,
        from: Some("2025-03-11".into()),
        until: Some("2026-03-10".into()),
        site: None,
        form: None,
    };
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z")
        .expect("now")
        .with_timezone(&chrono::Utc);
    for name in REPORTS {
        let mut total = Vec::new();
        let mut cpu = Vec::new();
        let mut reading = Vec::new();
        let mut parts = 0;
        let mut rows_out = 0;
        let mut total_rows = 0;
        for _ in 0..runs {
            // Reading alone (the query), then the whole report.
            let t = Instant::now();
            match reports::shape(name) {
                Some(reports::Shape::Counts) => {
                    std::hint::black_box(db.report_counts(name, &filter).await.expect("read"));
                }
                _ => {
                    let page = reports::Page::new(name, now, tern_server::report_api::LIST_ROWS);
                    std::hint::black_box(
                        db.report_lines(name, &filter, Some(&page))
                            .await
                            .expect("read"),
                    );
                }
            }
            reading.push(t.elapsed());
            let (t, c) = (Instant::now(), cpu_time());
            let (r, read) = tern_server::report_api::make(
                db,
                name,
                &filter,
                false,
                false,
                now,
                Some(tern_server::report_api::LIST_ROWS),
            )
            .await
            .expect("report");
            total.push(t.elapsed());
            cpu.push(cpu_time().saturating_sub(c));
            parts = read;
            rows_out = r.rows.len();
            total_rows = r.total_rows;
            std::hint::black_box(r);
        }
        let (p50, p95) = percentiles(total);
        let (r50, r95) = percentiles(reading);
        let (c50, c95) = percentiles(cpu);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{backend} {name}: p50 {:.0} ms, p95 {:.0} ms; CPU p50 {:.0} ms, p95 {:.0} ms; the query alone p50 {:.0} ms, p95 {:.0} ms; {parts} parts read, {rows_out} rows of {total_rows}",
            ms(p50), ms(p95), ms(c50), ms(c95), ms(r50), ms(r95),
        );
        // A worklist's CSV download reads every line (fewer runs: a download).
        if reports::shape(name) == Some(reports::Shape::Lines) {
            let mut whole = Vec::new();
            for _ in 0..runs.min(3) {
                let t = Instant::now();
                let (r, _) =
                    tern_server::report_api::make(db, name, &filter, false, false, now, None)
                        .await
                        .expect("report");
                whole.push(t.elapsed());
                std::hint::black_box(r);
            }
            let (w50, w95) = percentiles(whole);
            println!(
                "{backend} {name} whole (CSV): p50 {:.0} ms, p95 {:.0} ms",
                ms(w50),
                ms(w95)
            );
        }
    }
}
