//! Shared by the benchmarks (tern-store's and tern-server's): realistic pre-departure
//! records from `scripts/bench-records.py` imported into a store.

use tern_store::Store;

/// Imports `n` realistic pda records (about 120 answers each, seeded) into `store`.
pub fn import_bench_records(store: &mut Store, n: usize) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench-records.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(n.to_string())
        .output()
        .expect("python3 runs the record generator");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let report = store.import_records("pda", &text).expect("import");
    assert_eq!(report.imported, n, "{:?}", report.refused.first());
}
