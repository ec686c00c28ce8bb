//! Bundles against sync (docs/bundles.md, "Figures"): a device with `--records`
//! realistic pre-departure records (default 2,000) writes a bundle for its server; the
//! server imports it (verified before it returns); the same records' sync bytes are
//! measured by syncing them after. Then the server writes a bundle of everything for a
//! fresh device, which imports it, against another fresh device's sync. Prints sizes,
//! the ratio to sync bytes (goal ≤ 1.2) and times (export repeated `--runs` times:
//! median and p95). Not a test: `cargo bench -p tern-hub --bench bundle [-- --records
//! 2000 --runs 5]`.

#[path = "../../store/benches/bench_records.rs"]
mod bench_records;
mod common;

use std::time::{Duration, Instant};
use tern_server::admin::Admin;
use tern_server::{ServeConfig, Storage};
use tern_store::{Role, Store};
use tern_sync::device_bundle;

use common::{arg, ACCOUNT_PASSWORD, PASSWORD};

fn median_p95(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let at = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize].as_secs_f64();
    (at(0.5), at(0.95))
}

fn main() {
    let records = arg("--records", 2000);
    let runs = arg("--runs", 5).max(1);
    let tmp = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tmp.path().join("server");
    let server = rt
        .block_on(tern_server::start(ServeConfig {
            storage: Storage::Dir(dir.clone()),
            listen: "127.0.0.1:0".parse().expect("addr"),
            tls: None,
            demo: false,
            dashboard: None,
            upstream: None,
            tls_pem: None,
            limits: Default::default(),
        }))
        .expect("server");
    let url = format!("http://{}", server.addr);
    let admin = Admin::open(&Storage::Dir(dir)).expect("admin");
    admin.add_site("site-a").expect("site");
    admin
        .add_user(
            "amina",
            "clinician",
            ACCOUNT_PASSWORD,
            &["site-a".to_string()],
        )
        .expect("user");
    let device = |name: &str| {
        let db = tmp.path().join(name);
        let mut s = Store::init(&db, "amina", Role::Clinician, PASSWORD, "site-a").expect("init");
        let code = admin.enrolment_code("site-a", None).expect("code");
        tern_sync::enrol(&mut s, &url, &code, ACCOUNT_PASSWORD).expect("enrol");
        s
    };
    let mut a = device("a.db");
    bench_records::import_bench_records(&mut a, records);
    eprintln!("{records} records on device A");

    // Up: device → server.
    let out = tmp.path().join("up.bundle");
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let s = device_bundle::export(&mut a, None, &out, &mut |_| {}).expect("export");
        times.push(t.elapsed());
        size = s.bytes;
    }
    let (export_med, export_p95) = median_p95(times);
    let bytes = std::fs::read(&out).expect("read");
    let t = Instant::now();
    let imported = admin.bundle_import(&bytes).expect("import");
    let import_up = t.elapsed();
    let (_, report) = tern_sync::sync(a).expect("sync");
    println!(
        "up, {records} records: bundle {:.2} MB, sync {:.2} MB up ({:.2} ×, goal ≤ 1.2); export median {:.2} s, p95 {:.2} s ({runs} runs); import (stored and verified) {:.2} s, {} chunks",
        size as f64 / 1e6,
        report.bytes_sent as f64 / 1e6,
        size as f64 / report.bytes_sent as f64,
        export_med,
        export_p95,
        import_up.as_secs_f64(),
        imported.new_changes
    );

    // Down: server → a fresh device, against a fresh device's sync.
    let mut z = device("z.db");
    let z_id = z.device().to_string();
    let mut times = Vec::new();
    let mut down = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (b, _) = admin.bundle_export(&z_id).expect("export down");
        times.push(t.elapsed());
        down = b;
    }
    let (down_med, down_p95) = median_p95(times);
    let path = tmp.path().join("down.bundle");
    std::fs::write(&path, &down).expect("write");
    let t = Instant::now();
    let applied = device_bundle::import(&mut z, &path, &mut |_| {}).expect("import down");
    let import_down = t.elapsed();
    let w = device("w.db");
    let (_, pulled) = tern_sync::sync(w).expect("sync down");
    println!(
        "down, {records} records: bundle {:.2} MB, sync {:.2} MB down ({:.2} ×, goal ≤ 1.2); export median {:.2} s, p95 {:.2} s ({runs} runs); import {:.2} s, {} chunks",
        down.len() as f64 / 1e6,
        pulled.bytes_received as f64 / 1e6,
        down.len() as f64 / pulled.bytes_received as f64,
        down_med,
        down_p95,
        import_down.as_secs_f64(),
        applied.new_changes
    );
    rt.block_on(server.shutdown());
}
