//! The FORMS.md 8 reports from the API, over records made for the purpose, on both
//! databases: the verifier's record facts give the figures, names only for roles
//! with identity rights, CSV guarded, and a reprojection gives the same reports.

use crate::common::*;

fn report(url: &str, token: &str, name: &str) -> serde_json::Value {
    let (status, body) = get(url, &format!("/v1/reports/{name}"), token);
    assert_eq!(status, 200, "{name}: {body}");
    body
}

fn column(r: &serde_json::Value, row: usize, name: &str) -> serde_json::Value {
    let cols = r["columns"].as_array().cloned().unwrap_or_default();
    let i = cols
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("{name} in {r}"));
    r["rows"][row][i].clone()
}

fn reports_from_records(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let dev = device(tmp.path(), &admin, &url, "amina", "site-a");
    let (suspect, refused) = {
        let mut s = open(&dev);
        let subject = s
            .add_subject(&[
                ("sex".into(), "female".into()),
                ("date_of_birth".into(), "1990-05-01".into()),
                ("dob_precision".into(), "exact".into()),
                ("nationality".into(), "SY".into()),
            ])
            .expect("subject");
        let a = s.new_record("pda", &subject).expect("record");
        for (f, v) in [
            ("consent_screening", "granted"),
            ("tb_cough", "true"),
            ("tb_cough_weeks", "3"),
            ("outcome", "deferred"),
        ] {
            s.set_answer(&a, f, v, None).expect(f);
        }
        let b = s.new_record("pda", &subject).expect("record");
        s.set_answer(&b, "consent_screening", "refused", None)
            .expect("refusal");
        (a, b)
    };
    sync(&dev);
    let chen = login(&url, "chen");
    let dana = login(&url, "dana");
    let bilal = login(&url, "bilal");
    // The verifier projects after the acknowledgement: wait (bounded) for both.
    let mut daily = serde_json::Value::Null;
    for _ in 0..100 {
        daily = report(&url, &chen, "daily");
        if column(&daily, 0, "total").as_u64() == Some(2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let name = backend.name;
    assert_eq!(column(&daily, 0, "total"), 2, "{name}: {daily}");
    assert_eq!(column(&daily, 0, "refused"), 1, "{name}: {daily}");
    assert_eq!(column(&daily, 0, "outcome:deferred"), 1, "{name}: {daily}");

    let tb = report(&url, &chen, "tb_suspects");
    assert_eq!(tb["rows"].as_array().map(Vec::len), Some(1), "{name}: {tb}");
    assert_eq!(column(&tb, 0, "record"), suspect.as_str());
    assert_eq!(column(&tb, 0, "age_band"), "18-59");
    assert!(
        column(&tb, 0, "name").is_string(),
        "a supervisor sees names: {tb}"
    );
    let tb_dm = report(&url, &dana, "tb_suspects");
    assert!(
        !tb_dm["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .any(|c| c == "name"),
        "{name}: a data manager sees no names: {tb_dm}"
    );
    assert_ne!(
        column(&tb_dm, 0, "subject"),
        column(&tb, 0, "subject"),
        "pseudonymised"
    );

    let incomplete = report(&url, &chen, "incomplete");
    let listed: Vec<&str> = incomplete["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r[0].as_str())
        .collect();
    assert!(listed.contains(&suspect.as_str()), "{name}: {incomplete}");
    assert!(
        !listed.contains(&refused.as_str()) || listed.len() == 2,
        "{incomplete}"
    );

    // A worklist on the screen is bounded; its total, chart and CSV stay whole.
    let all = listed.len();
    assert!(all >= 1, "{incomplete}");
    assert_eq!(incomplete["total_rows"], all, "{name}: {incomplete}");
    let (status, one) = get(&url, "/v1/reports/incomplete?limit=1", &chen);
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["rows"].as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one["total_rows"], all, "{name}: {one}");
    assert_eq!(
        one["rows"][0], incomplete["rows"][0],
        "the first rows are kept"
    );
    assert_eq!(
        one["chart"], incomplete["chart"],
        "the chart counts every row"
    );
    let csv = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/reports/incomplete?format=csv&limit=1"))
        .bearer_auth(&chen)
        .send()
        .expect("csv")
        .text()
        .expect("text");
    assert_eq!(
        csv.lines().count(),
        all + 1,
        "{name}: the CSV has every row"
    );
    for bad in ["0", "5001", "many"] {
        let (status, r) = get(&url, &format!("/v1/reports/incomplete?limit={bad}"), &chen);
        assert_eq!(status, 400, "limit={bad}: {r}");
    }

    // Filters: another site, another form, a window before the records.
    for q in [
        "site=site-b",
        "form=arr_t1",
        "from=2020-01-01&until=2020-01-31",
    ] {
        let (status, r) = get(&url, &format!("/v1/reports/daily?{q}"), &chen);
        assert_eq!(status, 200, "{r}");
        assert_eq!(
            r["rows"].as_array().map(Vec::len),
            Some(0),
            "{name} {q}: {r}"
        );
    }
    let (status, r) = get(&url, "/v1/reports/daily?from=yesterday", &chen);
    assert_eq!(status, 400, "{r}");
    assert_eq!(
        get(&url, "/v1/reports/tb_suspects", &bilal).0,
        403,
        "a screener sees no reports"
    );
    assert_eq!(get(&url, "/v1/reports/nope", &chen).0, 404);

    // CSV: a header of column keys and one line per row.
    let csv = reqwest::blocking::Client::new()
        .get(format!("{url}/v1/reports/tb_suspects?format=csv"))
        .bearer_auth(&chen)
        .send()
        .expect("csv");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().expect("text");
    assert!(text.starts_with("record,subject,name,site"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");

    // Every view is in the access log.
    let (_, log) = get(&url, "/v1/audit", &dana);
    assert!(
        log.to_string().contains("report_tb_suspects"),
        "{name}: {log}"
    );

    // Reprojection from the documents gives the same reports.
    let before: Vec<serde_json::Value> = crate_reports()
        .iter()
        .map(|r| report(&url, &chen, r))
        .collect();
    let done = admin.reproject().expect("reproject");
    assert_eq!(done.records, 2, "{name}: {done:?}");
    let after: Vec<serde_json::Value> = crate_reports()
        .iter()
        .map(|r| report(&url, &chen, r))
        .collect();
    assert_eq!(before, after, "{name}");

    // A database whose report parts an older server wrote (another parts version)
    // gets them rebuilt from the documents once, when the server starts.
    server.stop();
    outdate_report_parts(&backend.storage);
    let server = TestServer::start(&backend.storage);
    let url = server.url();
    let chen = login(&url, "chen");
    let rebuilt: Vec<serde_json::Value> = crate_reports()
        .iter()
        .map(|r| report(&url, &chen, r))
        .collect();
    assert_eq!(before, rebuilt, "{name}: the parts were rebuilt at start");
    server.stop();
}

/// Rewrites every record's report parts from facts that say the record is complete
/// and locked (what a reprojection from the documents corrects), and marks the parts
/// as written by version 1.
fn outdate_report_parts(storage: &tern_server::Storage) {
    async fn outdate<D: tern_server::db::Db>(db: &D) {
        let all = tern_server::db::FactsFilter::default();
        let mut rows = db.facts(&all).await.expect("facts");
        assert!(!rows.is_empty());
        for r in &mut rows {
            r.status = "locked".into();
            r.facts.missing.clear();
            r.facts.missing_total = 0;
            r.facts.errors.clear();
            r.facts.warnings.clear();
            r.facts.confirmed.clear();
        }
        db.put_facts(&rows).await.expect("put");
        let (incomplete, _) = tern_server::report_api::make(
            db,
            "incomplete",
            &all,
            false,
            false,
            chrono::Utc::now(),
            Some(10),
        )
        .await
        .expect("report");
        assert_eq!(incomplete.total_rows, 0, "outdated: {incomplete:?}");
        db.set_setting(tern_server::reports::PARTS_SETTING, "1")
            .await
            .expect("setting");
    }
    let rt = runtime();
    match storage {
        tern_server::Storage::Url(url) => rt.block_on(async {
            let db = tern_server::postgres::PgDb::connect(url)
                .await
                .expect("postgres");
            outdate(&db).await
        }),
        tern_server::Storage::Dir(dir) => {
            let db = tern_server::sqlite::SqliteDb::open(dir).expect("sqlite");
            rt.block_on(outdate(&db))
        }
        other => panic!("no such test storage: {other:?}"),
    }
}

fn crate_reports() -> &'static [&'static str] {
    tern_server::reports::REPORTS
}

#[test]
fn reports_from_records_on_sqlite() {
    reports_from_records(sqlite());
}

#[test]
fn reports_from_records_on_postgres() {
    reports_from_records(postgres());
}

/// A record started on arr_t1 1.0.0 (a device whose binary did not have 1.1.0 yet)
/// and never edited keeps its version through sync, and the server judges it with
/// 1.0.0: the legal basis that 1.1.0 requires is not missing from it, while it is
/// from a record started on 1.1.0 (the "incomplete" report, from the verifier's
/// facts; and again after a reprojection).
fn an_older_version_through_sync(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let dev = device(tmp.path(), &admin, &url, "amina", "site-a");
    let (old, new) = {
        let mut s = open(&dev);
        let subject = s
            .add_subject(&[
                ("sex".into(), "male".into()),
                ("date_of_birth".into(), "1990-05-01".into()),
                ("dob_precision".into(), "exact".into()),
                ("nationality".into(), "SY".into()),
            ])
            .expect("subject");
        let old = s
            .new_record_version("arr_t1", "1.0.0", &subject)
            .expect("a 1.0.0 record");
        let new = s.new_record("arr_t1", &subject).expect("a 1.1.0 record");
        (old, new)
    };
    sync(&dev);
    let chen = login(&url, "chen");
    let name = backend.name;
    let missing = |report: &serde_json::Value, record: &str| -> (u64, String) {
        let rows = report["rows"].as_array().cloned().unwrap_or_default();
        let i = rows
            .iter()
            .position(|r| r[0] == record)
            .unwrap_or_else(|| panic!("{name}: {record} in {report}"));
        (
            column(report, i, "missing").as_u64().unwrap_or(0),
            column(report, i, "missing_fields")
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    let mut incomplete = serde_json::Value::Null;
    for _ in 0..100 {
        incomplete = report(&url, &chen, "incomplete");
        if incomplete["rows"].as_array().map(Vec::len) == Some(2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let v = server_view(&url, &chen, &old);
    assert_eq!(v["record"]["form_version"], "1.0.0", "{name}: {v}");
    for round in ["verifier", "reprojection"] {
        let (old_n, old_fields) = missing(&incomplete, &old);
        let (new_n, new_fields) = missing(&incomplete, &new);
        assert!(
            !old_fields.contains("legal_basis_screening"),
            "{name} {round}: 1.0.0 has no legal basis field: {old_fields}"
        );
        assert!(
            new_fields.contains("legal_basis_screening"),
            "{name} {round}: 1.1.0 requires it: {new_fields}"
        );
        assert!(old_n < new_n, "{name} {round}: {old_n} < {new_n}");
        admin.reproject().expect("reproject");
        incomplete = report(&url, &chen, "incomplete");
    }
    server.stop();
}

#[test]
fn an_older_version_through_sync_on_sqlite() {
    an_older_version_through_sync(sqlite());
}

#[test]
fn an_older_version_through_sync_on_postgres() {
    an_older_version_through_sync(postgres());
}

/// `tern serve` without `--dashboard` serves the dashboard built into it (when the
/// UI was built before the server, as CI does).
#[test]
fn the_embedded_dashboard_is_served_without_a_folder() {
    if !tern_server::dashboard::embedded() {
        eprintln!("built without ui/dist: nothing embedded to check");
        return;
    }
    let backend = sqlite();
    let server = TestServer::start(&backend.storage);
    let page = reqwest::blocking::get(format!("{}/dashboard.html", server.url())).expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .contains("script-src 'self'"));
}
