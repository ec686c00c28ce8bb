//! A supervisor's access log is filtered by site before it is cut to the newest
//! 1,000 entries: a busy other site does not hide their own site's entries.

use crate::common::*;
use tern_server::db::{AuditEntry, Db};
use tern_server::Storage;

fn entry(site: &str, i: usize) -> AuditEntry {
    AuditEntry {
        at: format!("2026-12-03T10:{:02}:00Z", i % 60),
        actor: "other".into(),
        role: "clinician".into(),
        device: String::new(),
        site: site.into(),
        action: "view_record".into(),
        object: format!("r{i}"),
    }
}

async fn write<D: Db>(db: &D) {
    db.audit(&entry("site-a", 0)).await.expect("audit");
    for i in 0..1100 {
        db.audit(&entry("site-b", i)).await.expect("audit");
    }
}

fn scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let _admin = accounts(&backend.storage);
    runtime().block_on(async {
        match &backend.storage {
            Storage::Dir(dir) => {
                write(&tern_server::sqlite::SqliteDb::open(dir).expect("db")).await
            }
            Storage::Keyed(..) => unreachable!("the tests use key files"),
            Storage::Url(url) => {
                write(&tern_server::postgres::PgDb::connect(url).await.expect("db")).await
            }
        }
    });
    let url = server.url();
    let chen = login(&url, "chen");
    let (status, log) = get(&url, "/v1/audit", &chen);
    assert_eq!(status, 200, "{log}");
    let entries = log.as_array().expect("a list");
    assert!(
        entries
            .iter()
            .any(|e| e["object"] == "r0" && e["site"] == "site-a"),
        "{}: the site's entry is hidden behind another site's",
        backend.name
    );
    assert!(entries.iter().all(|e| e["site"] != "site-b"));
    server.stop();
}

#[test]
fn audit_view_filtered_before_its_limit_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn audit_view_filtered_before_its_limit_on_postgres() {
    scenario(postgres());
}
