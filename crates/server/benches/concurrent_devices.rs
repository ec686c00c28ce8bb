//! Many devices syncing at once against one server, on SQLite and on PostgreSQL.
//!
//! Each simulated device is a real tern-store file in a temporary folder, enrolled
//! through the real server (HTTP on 127.0.0.1), holding `--records` pda records of
//! about 20 answers each (imported with `Store::import_records`, the API behind
//! `tern device record import`). The server runs in this process on its own 2-worker
//! runtime, like `tern serve` on a 2-core machine; the PostgreSQL cluster is started
//! the way the tests start it (initdb/pg_ctl as the postgres user, fsync off).
//!
//! Then every device syncs at the same moment (one thread each, released by a
//! barrier), twice: the first sync pushes its records and pulls the forms; then
//! the bench waits until the server has verified and projected every record (its
//! data-manager record list is complete); the second sync finds nothing new for the
//! device, but its cursor is where its first sync left it, so the server looks at
//! everything the others pushed since; the third starts with every cursor at the
//! head. Printed: p50, p95 and max of one device's sync time,
//! the wall time of the round, and the error count (goal: zero).
//!
//! Not part of CI (`cargo test` builds no benches). Run, in release:
//!   cargo bench -p tern-server --bench concurrent_devices
//!   cargo bench -p tern-server --bench concurrent_devices -- --devices 50 --backend sqlite
//! Options: --devices N (200), --records N (20), --per-site N devices per site (1),
//! --backend sqlite|postgres|both (both), --tls (HTTPS with a self-signed certificate
//! the devices trust).

#[allow(dead_code)]
#[path = "../tests/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/pg.rs"]
mod pg;

use common::{Backend, TestServer, ACCOUNT_PASSWORD};
use std::path::PathBuf;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};
use tern_server::admin::Admin;

struct Args {
    devices: usize,
    records: usize,
    per_site: usize,
    backends: Vec<String>,
    tls: bool,
}

fn args() -> Args {
    let mut a = Args {
        devices: 200,
        records: 20,
        per_site: 1,
        backends: vec!["sqlite".into(), "postgres".into()],
        tls: false,
    };
    // The program name first, then the flags.
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = || argv.get(i + 1).cloned().unwrap_or_default();
        let number = |what: &str| -> usize {
            value()
                .parse()
                .unwrap_or_else(|_| panic!("{what} takes a positive number"))
        };
        match argv[i].as_str() {
            "--devices" => a.devices = number("--devices"),
            "--records" => a.records = number("--records"),
            "--per-site" => a.per_site = number("--per-site").max(1),
            "--backend" => {
                a.backends = match value().as_str() {
                    "both" => vec!["sqlite".into(), "postgres".into()],
                    b @ ("sqlite" | "postgres") => vec![b.into()],
                    other => panic!("--backend sqlite|postgres|both, not {other:?}"),
                }
            }
            "--tls" => {
                a.tls = true;
                i += 1;
                continue;
            }
            // `cargo bench` passes --bench; anything else is a mistake.
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    a
}

/// One pda record per line, ~20 answers (2 of them on the subject).
fn records_jsonl(n: usize, device: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let k = i + device;
        let line = serde_json::json!({
            "sex": if k.is_multiple_of(2) { "female" } else { "male" },
            "date_of_birth": format!("19{:02}-0{}-1{}", 60 + k % 40, 1 + k % 9, k % 10),
            "temp_c": 36.0 + (k % 20) as f64 / 10.0,
            "heart_rate": 60 + k % 40,
            "weight_kg": 50 + k % 30,
            "height_cm": 150 + k % 40,
            "resp_rate": 12 + k % 8,
            "sbp": 110 + k % 30,
            "dbp": 70 + k % 20,
            "muac_mm": 250,
            "interpreter_used": k.is_multiple_of(3),
            "case_ref": format!("case-{device}-{i}"),
            "family_group_id": format!("fam-{device}-{}", i / 3),
            "months_in_residence_country": k % 24,
            "drug_allergy": false,
            "hospitalised_12m": k.is_multiple_of(5),
            "past_tb": "no",
            "pregnant": "no",
            "date_left_origin": "2025-11-01",
            "info_sheet_version": "v3",
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Percentile (nearest rank) of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Round {
    name: &'static str,
    times: Vec<Duration>,
    errors: Vec<String>,
    wall: Duration,
    pushed: u64,
    pulled: u64,
    round_trips: u64,
}

/// Every device syncs at once; one thread each, released together.
fn round(name: &'static str, dbs: &[PathBuf]) -> Round {
    eprintln!("{name}: load average before {}", load_average());
    // Unlocking (Argon2id) is not part of a sync: open every store first.
    let stores: Vec<_> = dbs.iter().map(|db| common::open(db)).collect();
    let barrier = Barrier::new(stores.len() + 1);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for store in stores {
            let (barrier, results) = (&barrier, &results);
            s.spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let outcome = tern_sync::sync(store);
                let end = Instant::now();
                let outcome = outcome.map(|(_, r)| r).map_err(|e| e.to_string());
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((start, end, outcome));
            });
        }
        barrier.wait();
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    // Wall: the first device's start to the last device's return.
    let wall = match (
        results.iter().map(|r| r.0).min(),
        results.iter().map(|r| r.1).max(),
    ) {
        (Some(first), Some(last)) => last - first,
        _ => Duration::ZERO,
    };
    let mut r = Round {
        name,
        times: Vec::new(),
        errors: Vec::new(),
        wall,
        pushed: 0,
        pulled: 0,
        round_trips: 0,
    };
    for (start, end, outcome) in results {
        r.times.push(end - start);
        match outcome {
            Ok(report) => {
                r.pushed += report.pushed_changes;
                r.pulled += report.pulled_changes;
                r.round_trips += u64::from(report.round_trips);
            }
            Err(e) => r.errors.push(e),
        }
    }
    r.times.sort();
    eprintln!("{name}: load average after {}", load_average());
    r
}

/// An HTTPS client trusting the bench's certificate (or plain HTTP).
fn http_client(cert_pem: Option<&str>) -> reqwest::blocking::Client {
    let mut b = reqwest::blocking::Client::builder();
    if let Some(pem) = cert_pem {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"));
    }
    b.build().expect("client")
}

fn run(backend: Backend, a: &Args) -> Vec<Round> {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut cert_pem = None;
    let tls = if a.tls {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("certificate");
        let (c, k) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
        std::fs::write(&c, cert.cert.pem()).expect("cert");
        std::fs::write(&k, cert.signing_key.serialize_pem()).expect("key");
        tern_sync::tls::trust_certificates_pem(cert.cert.pem().as_bytes()).expect("trust");
        cert_pem = Some(cert.cert.pem());
        Some((c, k))
    } else {
        None
    };
    let server = TestServer::start_config(tern_server::ServeConfig {
        storage: backend.storage.clone(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls,
        demo: false,
        dashboard: None,
        upstream: None,
        tls_pem: None,
        limits: Default::default(),
    });
    let scheme = if a.tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", server.addr);
    let client = http_client(cert_pem.as_deref());
    let admin = Admin::open(&backend.storage).expect("admin");
    let sites: Vec<String> = (0..a.devices.div_ceil(a.per_site))
        .map(|i| format!("site-{i:03}"))
        .collect();
    for s in &sites {
        admin.add_site(s).expect("site");
    }
    admin
        .add_user("bench", "screener", ACCOUNT_PASSWORD, &sites)
        .expect("account");
    admin
        .add_user("dm", "data_manager", ACCOUNT_PASSWORD, &sites)
        .expect("data manager");

    // Devices: init, enrol through the server, import records (a few at a time).
    let setup = Instant::now();
    let next = Mutex::new(0usize);
    let dbs = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("lock");
                    *n += 1;
                    *n - 1
                };
                if i >= a.devices {
                    break;
                }
                let db = common::device(tmp.path(), &admin, &url, "bench", &sites[i / a.per_site]);
                let mut store = common::open(&db);
                let report = store
                    .import_records("pda", &records_jsonl(a.records, i))
                    .expect("import");
                assert!(
                    report.refused.is_empty() && report.imported == a.records,
                    "import refused: {:?}",
                    report.refused
                );
                drop(store);
                dbs.lock().expect("lock").push(db);
            });
        }
    });
    let dbs = dbs.into_inner().expect("lock");
    eprintln!(
        "{}: {} devices enrolled with {} records each in {:.1} s",
        backend.name,
        dbs.len(),
        a.records,
        setup.elapsed().as_secs_f64()
    );
    let first = round("first sync (push records, pull forms)", &dbs);
    let verified = wait_verified(&client, &url, a.devices * a.records);
    eprintln!(
        "{}: every record verified and projected on the server {:.1} s after the first round ended",
        backend.name,
        verified.as_secs_f64()
    );
    let second = round(
        if a.per_site > 1 {
            "second sync (the site's other records)"
        } else {
            "second sync (nothing new)"
        },
        &dbs,
    );
    // Every cursor is now at the head: what a sync with nothing new anywhere costs.
    let third = round("third sync (nothing new, cursor at the head)", &dbs);
    server.stop();
    vec![first, second, third]
}

/// Waits (bounded) until the server's record list (a data manager's view, filled by
/// the verifier after the acknowledgement) holds `expected` records.
fn wait_verified(client: &reqwest::blocking::Client, url: &str, expected: usize) -> Duration {
    let start = Instant::now();
    let login = client
        .post(format!("{url}/v1/login"))
        .body(serde_json::json!({"user": "dm", "password": ACCOUNT_PASSWORD}).to_string())
        .send()
        .and_then(|r| r.bytes())
        .expect("login");
    let login: serde_json::Value = serde_json::from_slice(&login).expect("login answer");
    let token = login["token"].as_str().expect("token").to_string();
    while start.elapsed() < Duration::from_secs(600) {
        let n = client
            .get(format!("{url}/v1/records"))
            .bearer_auth(&token)
            .send()
            .ok()
            .and_then(|r| r.bytes().ok())
            .and_then(|b| serde_json::from_slice::<Vec<serde_json::Value>>(&b).ok())
            .map_or(0, |v| v.len());
        if n >= expected {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the server did not verify {expected} records within 10 minutes");
}

/// The machine is shared: the 1-minute load average says how much.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let a = args();
    println!(
        "{} devices syncing at once over {}, {} pda records of ~20 answers each, {} device(s) per site",
        a.devices,
        if a.tls { "HTTPS" } else { "HTTP" },
        a.records,
        a.per_site
    );
    println!();
    println!(
        "| backend | round | p50 | p95 | max | wall | errors | pushed | pulled | round trips |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for name in &a.backends {
        let backend = if name == "postgres" {
            common::postgres()
        } else {
            common::sqlite()
        };
        let label = backend.name;
        for r in run(backend, &a) {
            println!(
                "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.name,
                ms(pct(&r.times, 50.0)),
                ms(pct(&r.times, 95.0)),
                ms(pct(&r.times, 100.0)),
                ms(r.wall),
                r.errors.len(),
                r.pushed,
                r.pulled,
                r.round_trips
            );
            let mut distinct = r.errors.clone();
            distinct.sort();
            distinct.dedup();
            for e in distinct.iter().take(5) {
                eprintln!("  {label} error: {e}");
            }
        }
    }
}
