//! What an export of 100,000 records costs (goal: under 60 s and under 200 MB), CSV
//! and FHIR, on SQLite or PostgreSQL. Figures in docs/exports.md.
//!
//! The rows are one evaluated pre-departure record (consent to screening granted, a
//! TB suspect with two vaccinations) copied under new ids over 365 days and four
//! sites, written with `put_facts`; then the data manager exports them as the
//! command line does (`Exporter::export`: a `.partial` file renamed when whole, the
//! access log written). Memory is the process's peak resident set during the export
//! (Linux `VmHWM`, reset before each run through `/proc/self/clear_refs`), given
//! whole and above what the process held before the export began.
//!
//! Not part of CI. Run:
//!   cargo bench -p tern-server --bench exports -- --records 100000 --backend sqlite
//! Options: --records N (100000), --runs N (3), --backend sqlite|postgres.

#[path = "common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/pg.rs"]
mod pg;

use common::{arg, cpu_time, percentiles};
use serde_json::json;
use std::time::Instant;
use tern_server::db::Db;
use tern_server::export::service::{ExportRequest, Exporter};
use tern_server::facts::record_facts;
use tern_server::Storage;

/// A figure of /proc/self/status in KiB (`VmHWM`, `VmRSS`).
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

const SITES: [&str; 4] = ["site-0", "site-1", "site-2", "site-3"];
const PASSWORD: &str = "bench-data-manager-passphrase";

async fn load<D: Db>(db: &D, records: usize) {
    for s in SITES {
        tern_server::service::add_site(db, s).await.expect("site");
    }
    let sites: Vec<String> = SITES.iter().map(|s| s.to_string()).collect();
    tern_server::service::add_user(db, "dana", "data_manager", PASSWORD, &sites)
        .await
        .expect("data manager");
    let mut subject = serde_json::Map::new();
    subject.insert("date_of_birth".into(), json!("2012-02-01"));
    subject.insert("sex".into(), json!("female"));
    let (form, record, input) = common::template(
        "pda",
        json!({"consent_screening": "granted", "tb_cough": true, "tb_cough_weeks": 3,
               "tb_fever": false, "tb_haemoptysis": false, "tb_night_sweats": false,
               "tb_weight_loss": true, "temp_c": 37.2, "heart_rate": 90, "resp_rate": 18,
               "weight_kg": 41, "height_cm": 150, "outcome": "deferred",
               "vacc_evidence": "card_seen",
               "vacc": [{"vaccine_cvx": "03", "source": "card", "date_given": "2013-03-01"},
                        {"vaccine_cvx": "20", "source": "verbal", "date_given": "2013-03-01"}]}),
    );
    let day: chrono::NaiveDate = "2026-03-10".parse().expect("day");
    let made = record_facts(&form, &record, &input, &subject, day);
    let t = Instant::now();
    let rows = common::spread(std::slice::from_ref(&made), records, day);
    for part in rows.chunks(5000) {
        db.put_facts(part).await.expect("put");
    }
    println!("wrote {records} rows in {:.1} s", t.elapsed().as_secs_f64());
}

fn main() {
    let records: usize = arg("--records", "100000").parse().expect("--records N");
    let runs: usize = arg("--runs", "3").parse().expect("--runs N");
    let backend = arg("--backend", "sqlite");
    let tmp = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pg_server;
    let storage = match backend.as_str() {
        "sqlite" => {
            let dir = tmp.path().join("server");
            let db = tern_server::sqlite::SqliteDb::open(&dir).expect("sqlite");
            rt.block_on(load(&db, records));
            Storage::Dir(dir)
        }
        "postgres" => {
            pg_server = pg::Postgres::start();
            let db = rt
                .block_on(tern_server::postgres::PgDb::connect(&pg_server.url()))
                .expect("postgres");
            rt.block_on(load(&db, records));
            Storage::Url(pg_server.url())
        }
        other => panic!("--backend sqlite or postgres, not {other}"),
    };
    drop(rt);
    let exporter = Exporter::open(&storage).expect("exporter");
    let dana = exporter.sign_in("dana", PASSWORD).expect("sign in");
    for format in ["csv", "fhir", "fhir-ndjson"] {
        let req = ExportRequest {
            form: "pda".into(),
            format: format.into(),
            purpose: "screening".into(),
            ..Default::default()
        };
        let out = tmp.path().join(format!("export.{format}"));
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        let mut peak = 0;
        let mut above = 0;
        let mut exported = 0;
        for _ in 0..runs {
            // Resets the peak resident set to what the process holds now.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let before = status_kib("VmRSS:");
            let (t, c) = (Instant::now(), cpu_time());
            let rep = exporter
                .export(&dana, &req, &out, &mut |_, _| {})
                .expect("export");
            times.push(t.elapsed());
            cpu.push(cpu_time().saturating_sub(c));
            let hwm = status_kib("VmHWM:");
            peak = peak.max(hwm);
            above = above.max(hwm.saturating_sub(before));
            exported = rep.outcome.records;
        }
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        let (p50, p95) = percentiles(times);
        let (c50, c95) = percentiles(cpu);
        println!(
            "{backend} {format}: {exported} records in p50 {:.1} s, p95 {:.1} s (CPU p50 {:.1} s, p95 {:.1} s); peak RSS {} MiB ({} MiB above the process before the export); {:.1} MiB written, {} bytes a record",
            p50.as_secs_f64(),
            p95.as_secs_f64(),
            c50.as_secs_f64(),
            c95.as_secs_f64(),
            peak / 1024,
            above / 1024,
            bytes as f64 / 1048576.0,
            bytes / (exported.max(1))
        );
    }
}
