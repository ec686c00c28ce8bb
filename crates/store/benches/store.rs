//! Store benchmarks (not run in CI). `cargo bench -p tern-store --bench store`
//! first prints the figures issue 4 asks for (p50/p95 of durable saves, record open
//! and evaluation, a 10,000-record store, 50,000-subject search, memory, bytes per
//! record), then runs the divan micro-benchmarks. `TERN_BENCH_SCALE=0.1` shrinks
//! the large stores for a quick look.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tern_store::{RecordFilter, Role, Store, SubjectQuery};

const PASSWORD: &str = "bench-password";

fn scale(n: usize) -> usize {
    let f: f64 = std::env::var("TERN_BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    ((n as f64) * f).max(10.0) as usize
}

fn store(dir: &Path, name: &str, role: Role) -> (Store, std::path::PathBuf) {
    let db = dir.join(format!("{name}.db"));
    (
        Store::init(&db, name, role, PASSWORD, "bench").expect("init"),
        db,
    )
}

fn subject(s: &mut Store, i: usize) -> String {
    const GIVEN: &[&str] = &[
        "Amina", "Muhammad", "José", "Fatima", "Yusuf", "Olena", "Ahmed", "Mariam",
    ];
    const FAMILY: &[&str] = &[
        "Haddad",
        "Al-Hassan",
        "Núñez",
        "Karimi",
        "Shevchenko",
        "Osman",
        "Tesfaye",
    ];
    s.add_subject(&[
        ("given_name".into(), GIVEN[i % GIVEN.len()].into()),
        (
            "family_name".into(),
            format!("{}{}", FAMILY[(i / 7) % FAMILY.len()], i),
        ),
        (
            "sex".into(),
            if i.is_multiple_of(2) {
                "female"
            } else {
                "male"
            }
            .into(),
        ),
        (
            "date_of_birth".into(),
            format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i % 12, 1 + i % 28),
        ),
        ("document_number".into(), format!("P{i:08}")),
    ])
    .expect("subject")
}

/// About 120 plausible pda answers as `(field, value)`, read by each field's type.
fn pda_answers() -> Vec<(String, String)> {
    let text = tern_store::builtin::FORMS
        .iter()
        .find(|(n, _)| *n == "pda.json")
        .map(|(_, t)| *t)
        .expect("pda");
    let form: serde_json::Value = serde_json::from_str(text).expect("json");
    let lists = &form["choice_lists"];
    let mut out = Vec::new();
    for section in form["sections"].as_array().expect("sections") {
        if section.get("restricted").is_some() {
            continue;
        }
        for f in section["fields"].as_array().expect("fields") {
            if f.get("source").is_some()
                || f.get("restricted").is_some()
                || f.get("identity").is_some()
            {
                continue;
            }
            let id = f["id"].as_str().expect("id").to_string();
            let first_choice = || {
                f["choices"]
                    .as_str()
                    .and_then(|l| lists[l].as_array())
                    .and_then(|c| c.first())
                    .and_then(|c| c["code"].as_str())
                    .map(str::to_string)
            };
            let value = match f["type"].as_str().unwrap_or_default() {
                "text" => Some("seen, nothing abnormal".to_string()),
                "integer" => Some("2".into()),
                "decimal" => Some("36.6".into()),
                "date" => Some("2026-01-10".into()),
                "datetime" => Some("2026-01-10T09:30:00Z".into()),
                "boolean" => Some("false".into()),
                "select_one" | "select_multiple" => first_choice(),
                _ => None,
            };
            if let Some(v) = value {
                out.push((id, v));
            }
        }
    }
    out.truncate(120);
    out
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.50);
    let p95 = percentile(samples, 0.95);
    println!(
        "{name}: p50 {:.3} ms, p95 {:.3} ms (n = {})",
        ms(p50),
        ms(p95),
        samples.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn file_size(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(std::path::PathBuf::from(wal))
            .map(|m| m.len())
            .unwrap_or(0)
}

fn figures() {
    let dir = tempfile::tempdir().expect("tmp");
    println!("== tern-store figures ==");

    // 1. Save latency of one durable answer.
    let (mut s, _) = store(dir.path(), "save", Role::Clinician);
    let subj = subject(&mut s, 0);
    let r = s.new_record("pda", &subj).expect("record");
    let mut samples = Vec::new();
    for i in 0..1000 {
        let v = format!("{}.{}", 36 + i % 3, i % 10);
        let t = Instant::now();
        s.set_answer(&r, "temp_c", &v, None).expect("set");
        samples.push(t.elapsed());
    }
    report(
        "save one answer (durable, WAL + synchronous=FULL)",
        &mut samples,
    );

    // The floor: one plain SQLite commit with the same pragmas on this disk.
    let raw = rusqlite::Connection::open(dir.path().join("raw.db")).expect("raw");
    raw.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(x BLOB);")
        .expect("raw");
    let mut samples = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        raw.execute("INSERT INTO t VALUES (zeroblob(150))", [])
            .expect("insert");
        samples.push(t.elapsed());
    }
    report(
        "  floor: one bare SQLite WAL commit, synchronous=FULL, same disk",
        &mut samples,
    );

    // 2. Opening a record and evaluating its form.
    let answers = pda_answers();
    let r120 = s.new_record("pda", &subj).expect("record");
    for (f, v) in &answers {
        let _ = s.set_answer(&r120, f, v, None);
    }
    let held = s.show(&r120).expect("show").answers.len();
    let mut samples = Vec::new();
    for _ in 0..200 {
        s.forget_documents();
        let t = Instant::now();
        s.show(&r120).expect("show");
        samples.push(t.elapsed());
    }
    report(
        &format!("open + evaluate a pda record with {held} top-level answers (cold)"),
        &mut samples,
    );
    let mut samples = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        s.show(&r120).expect("show");
        samples.push(t.elapsed());
    }
    report("  same, document already in memory", &mut samples);
    // 5,000 changes: the record above gets 5,000 saves of one field.
    let r5k = s.new_record("pda", &subj).expect("record");
    for i in 0..5000 {
        s.set_answer(&r5k, "temp_c", &format!("{}.{}", 36 + i % 3, i % 10), None)
            .expect("set");
    }
    let mut samples = Vec::new();
    for _ in 0..30 {
        s.forget_documents();
        let t = Instant::now();
        s.show(&r5k).expect("show");
        samples.push(t.elapsed());
    }
    report(
        "open + evaluate a record with 5,000 changes (auto-compacted every 256 saves)",
        &mut samples,
    );
    s.compact(0).expect("compact");
    let mut samples = Vec::new();
    for _ in 0..30 {
        s.forget_documents();
        let t = Instant::now();
        s.show(&r5k).expect("show");
        samples.push(t.elapsed());
    }
    report(
        "open + evaluate a record with 5,000 changes, fully compacted",
        &mut samples,
    );
    drop(s);

    // 3. Bytes on disk per record versus the same answers as JSON.
    let mut obj = serde_json::Map::new();
    for (f, v) in &answers {
        obj.insert(f.clone(), serde_json::Value::String(v.clone()));
    }
    let json_bytes = serde_json::Value::Object(obj.clone()).to_string().len();
    let typed = scale(100);
    let (mut s, db) = store(dir.path(), "bytes", Role::Clinician);
    let subj1 = subject(&mut s, 1);
    s.vacuum().expect("vacuum");
    let base = file_size(&db);
    for _ in 0..typed {
        let r = s.new_record("pda", &subj1).expect("record");
        for (f, v) in &answers {
            let _ = s.set_answer(&r, f, v, None);
        }
    }
    s.vacuum().expect("vacuum");
    let rows = file_size(&db).saturating_sub(base) / typed as u64;
    s.compact(0).expect("compact");
    s.vacuum().expect("vacuum");
    let folded = file_size(&db).saturating_sub(base) / typed as u64;
    println!(
        "bytes per record ({} answers, typed one by one): {rows} as change rows, {folded} compacted, vs {json_bytes} as JSON (encrypted file, after checkpoint + vacuum, projections included)",
        answers.len()
    );
    drop(s);
    let n = scale(1000);
    let (mut s, db) = store(dir.path(), "import", Role::Clinician);
    obj.insert(
        "subject_id".into(),
        serde_json::Value::String(subject(&mut s, 2)),
    );
    let line = serde_json::Value::Object(obj).to_string();
    let lines: String = (0..n).map(|_| format!("{line}\n")).collect();
    s.vacuum().expect("vacuum");
    let base = file_size(&db);
    let t = Instant::now();
    let rep = s.import_records("pda", &lines).expect("import");
    let took = t.elapsed();
    s.vacuum().expect("vacuum");
    println!(
        "record import: {} records ({} refused) of {} answers in {:.1} s, {} bytes per record (folded at import)",
        rep.imported,
        rep.refused.len(),
        answers.len(),
        took.as_secs_f64(),
        file_size(&db).saturating_sub(base) / n as u64
    );
    drop(s);

    // 4. A store with 10,000 records: open, list, memory.
    let n = scale(10_000);
    let (mut s, db) = store(dir.path(), "big", Role::Clinician);
    let mut lines = String::new();
    for i in 0..n {
        lines.push_str(&format!(
            "{{\"given_name\":\"P{i}\",\"sex\":\"female\",\"temp_c\":36.{},\"weight_kg\":{},\"heart_rate\":{}}}\n",
            i % 10,
            40 + i % 40,
            60 + i % 40
        ));
    }
    let t = Instant::now();
    let rep = s.import_records("pda", &lines).expect("import");
    println!(
        "imported {} records in {:.1} s",
        rep.imported,
        t.elapsed().as_secs_f64()
    );
    drop(s);
    let rss0 = rss_kib();
    let t = Instant::now();
    let mut s = Store::open(&db, None, PASSWORD).expect("open");
    let open = t.elapsed();
    let t = Instant::now();
    let list = s
        .list_records(&RecordFilter {
            limit: Some(50),
            ..Default::default()
        })
        .expect("list");
    let first_list = t.elapsed();
    println!(
        "open a store with {n} records: {:.1} ms (Argon2id unlock included); first list of 50: {:.2} ms",
        ms(open),
        ms(first_list)
    );
    for row in list.iter().take(50) {
        s.show(&row.record_id).expect("show");
    }
    println!(
        "memory: RSS grew by {} KiB after opening and showing 50 of {n} records (documents loaded on demand, at most 32 kept)",
        rss_kib().saturating_sub(rss0)
    );
    let mut samples = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        s.list_records(&RecordFilter {
            limit: Some(50),
            ..Default::default()
        })
        .expect("list");
        samples.push(t.elapsed());
    }
    report(&format!("list 50 newest of {n} records"), &mut samples);
    drop(s);

    // 5. Searching 50,000 subjects.
    let n = scale(50_000);
    let (mut s, _) = store(dir.path(), "subjects", Role::Screener);
    let t = Instant::now();
    for i in 0..n {
        subject(&mut s, i);
    }
    println!(
        "registered {n} subjects in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for (label, q) in [
        (
            "name fragment `hadd`",
            SubjectQuery {
                name: Some("hadd".into()),
                ..Default::default()
            },
        ),
        (
            "name `mohamed` (transliteration)",
            SubjectQuery {
                name: Some("mohamed".into()),
                ..Default::default()
            },
        ),
        (
            "date of birth",
            SubjectQuery {
                date_of_birth: Some("1975-02-26".into()),
                ..Default::default()
            },
        ),
        (
            "document number",
            SubjectQuery {
                document: Some("p00012345".into()),
                ..Default::default()
            },
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            s.search_subjects(&q).expect("search");
            samples.push(t.elapsed());
        }
        report(&format!("search {n} subjects by {label}"), &mut samples);
    }
    println!("== divan micro-benchmarks ==");
}

struct Fixture {
    store: Store,
    record: String,
    _dir: tempfile::TempDir,
}

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

fn with_fixture<T>(f: impl FnOnce(&mut Fixture) -> T) -> T {
    let mut guard = FIXTURE.lock().expect("lock");
    let fx = guard.get_or_insert_with(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let (mut store, _) = store(dir.path(), "divan", Role::Clinician);
        let subj = subject(&mut store, 3);
        let record = store.new_record("pda", &subj).expect("record");
        for (k, v) in pda_answers() {
            let _ = store.set_answer(&record, &k, &v, None);
        }
        Fixture {
            store,
            record,
            _dir: dir,
        }
    });
    f(fx)
}

/// One durable answer save.
#[divan::bench(sample_count = 200)]
fn save_one_answer(b: divan::Bencher) {
    let mut i = 0u32;
    b.bench_local(|| {
        i += 1;
        with_fixture(|fx| {
            fx.store
                .set_answer(&fx.record, "heart_rate", &(60 + i % 50).to_string(), None)
                .expect("set")
        })
    });
}

/// Load a record from SQLite and evaluate its form.
#[divan::bench(sample_count = 200)]
fn open_and_evaluate_record(b: divan::Bencher) {
    b.bench_local(|| {
        with_fixture(|fx| {
            fx.store.forget_documents();
            fx.store.show(&fx.record).expect("show")
        })
    });
}

fn main() {
    if std::env::var_os("TERN_BENCH_SKIP_FIGURES").is_none() {
        figures();
    }
    divan::main();
}
