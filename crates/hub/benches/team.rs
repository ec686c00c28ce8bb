//! A field team and its hub on loopback (docs/hub.md, "Benchmarks"): `--devices`
//! devices (default 10) with `--records` realistic pre-departure records each
//! (default 200) sync with the hub at once; then the hub syncs everything upstream.
//! Prints wall time and bytes for each step. Not a test: `cargo bench -p tern-hub
//! --bench team [-- --devices 10 --records 200]`.

#[path = "../../store/benches/bench_records.rs"]
mod bench_records;
mod common;

use std::time::Instant;
use tern_hub::Hub;
use tern_server::admin::Admin;
use tern_server::{ServeConfig, Storage};
use tern_store::{Role, Store};

use common::{arg, ACCOUNT_PASSWORD, PASSWORD};

fn main() {
    let devices = arg("--devices", 10);
    let records = arg("--records", 200);
    let tmp = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let up_dir = tmp.path().join("upstream");
    let config = |storage: Storage, tls_pem, upstream| ServeConfig {
        storage,
        listen: "127.0.0.1:0".parse().expect("addr"),
        tls: None,
        demo: false,
        dashboard: None,
        upstream,
        tls_pem,
        limits: Default::default(),
    };
    let up = rt
        .block_on(tern_server::start(config(
            Storage::Dir(up_dir.clone()),
            None,
            None,
        )))
        .expect("upstream");
    let up_url = format!("http://{}", up.addr);
    let admin = Admin::open(&Storage::Dir(up_dir)).expect("admin");
    admin.add_site("site-a").expect("site");
    for (name, role) in [("chen", "supervisor"), ("amina", "clinician")] {
        admin
            .add_user(name, role, ACCOUNT_PASSWORD, &["site-a".to_string()])
            .expect("user");
    }
    let code = admin.enrolment_code("site-a", None).expect("code");
    let hub = Hub::init(
        &tmp.path().join("hub"),
        &up_url,
        &code,
        "chen",
        ACCOUNT_PASSWORD,
    )
    .expect("hub");
    let served = rt
        .block_on(tern_server::start(
            hub.serve_config("127.0.0.1:0".parse().expect("addr"))
                .expect("config"),
        ))
        .expect("hub serves");
    let hub_url = format!("https://{}", served.addr);

    let mut dbs = Vec::new();
    for i in 0..devices {
        let db = tmp.path().join(format!("d{i}.db"));
        let mut s = Store::init(&db, "amina", Role::Clinician, PASSWORD, "site-a").expect("init");
        tern_sync::enrol(
            &mut s,
            &hub_url,
            &hub.enrolment_code(None).expect("code"),
            ACCOUNT_PASSWORD,
        )
        .expect("enrol");
        bench_records::import_bench_records(&mut s, records);
        dbs.push(db);
    }
    eprintln!("{devices} devices with {records} records each, enrolled with the hub");

    // The whole team at once.
    let t = Instant::now();
    let reports: Vec<tern_sync::SyncReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = dbs
            .iter()
            .map(|db| {
                scope.spawn(move || {
                    let s = Store::open(db, None, PASSWORD).expect("open");
                    tern_sync::sync(s).expect("sync").1
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let team = t.elapsed();
    let up_bytes: u64 = reports.iter().map(|r| r.bytes_sent).sum();
    let down_bytes: u64 = reports.iter().map(|r| r.bytes_received).sum();
    println!(
        "team → hub: {devices} devices × {records} records in {:.2} s (acknowledged), {:.1} MB up, {:.1} MB down, {:.0} bytes/record up",
        team.as_secs_f64(),
        up_bytes as f64 / 1e6,
        down_bytes as f64 / 1e6,
        up_bytes as f64 / (devices * records) as f64
    );

    // The hub's upstream sync, until everything it verified has gone up.
    let total = (devices * records) as i64;
    let t = Instant::now();
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut rounds = 0u32;
    let mut first_sync = None;
    for _ in 0..600 {
        let report = hub.sync().expect("hub sync");
        sent += report.bytes_sent;
        received += report.bytes_received;
        rounds += report.round_trips;
        if first_sync.is_none() && report.pushed_changes > 0 {
            first_sync = Some(t.elapsed());
        }
        let backlog = admin.backlog().expect("backlog");
        if backlog.records >= total && backlog.unverified == 0 && !report.waiting {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let upstream = t.elapsed();
    println!(
        "hub → upstream: {total} records acknowledged and verified upstream in {:.2} s ({} round trips), {:.1} MB up, {:.1} MB down",
        upstream.as_secs_f64(),
        rounds,
        sent as f64 / 1e6,
        received as f64 / 1e6
    );
    rt.block_on(served.shutdown());
    rt.block_on(up.shutdown());
}
