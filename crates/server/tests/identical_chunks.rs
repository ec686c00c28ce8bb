//! Two documents may hold byte-identical chunks: two records created by the same user
//! for the same subject in the same millisecond are identical documents (the record
//! id is not inside), and so are their empty restricted twins. Each must be stored,
//! verified and pulled under its own id; a server that kept a chunk once over the
//! whole log acknowledged the second and never stored it.

use crate::common::*;
use tern_store::DocKind;

fn scenario(backend: Backend) {
    let Scene {
        server: _server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let d1 = device(tmp.path(), &admin, &url, "amina", "site-a");
    let d2 = device(tmp.path(), &admin, &url, "amina", "site-a");

    let (r1, r2) = {
        let mut s = open(&d1);
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        s.set_now(Some(
            chrono::DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z").expect("time"),
        ));
        let r1 = s.new_record("pda", &subject).expect("r1");
        let r2 = s.new_record("pda", &subject).expect("r2");
        // The precondition: the same bytes travel under two ids.
        let page = s.pending_changes(0, usize::MAX).expect("page");
        let bytes = |id: &str| -> Vec<Vec<u8>> {
            page.chunks
                .iter()
                .filter(|c| c.doc_id == id)
                .map(|c| c.bytes.clone())
                .collect()
        };
        assert_eq!(
            bytes(&r1),
            bytes(&r2),
            "{}: identical records",
            backend.name
        );
        let twin = |r: &str| format!("{r}.restricted");
        assert_eq!(bytes(&twin(&r1)), bytes(&twin(&r2)), "identical twins");
        assert!(page.chunks.iter().any(|c| c.kind == DocKind::Restricted));
        (r1, r2)
    };
    sync(&d1);
    // Changes on top of each: they need the document the server must hold.
    {
        let mut s = open(&d1);
        s.set_answer(&r2, "temp_c", "37.4", None).expect("temp");
        s.set_answer(&r2, "hiv_offered", "true", None)
            .expect("restricted");
    }
    sync(&d1);

    // The server verifies everything (bounded wait) and quarantines nothing.
    let mut backlog = admin.backlog().expect("backlog");
    for _ in 0..200 {
        if backlog.unverified == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        backlog = admin.backlog().expect("backlog");
    }
    assert_eq!(
        backlog.unverified, 0,
        "{}: everything verified",
        backend.name
    );
    assert_eq!(
        backlog.quarantined, 0,
        "{}: nothing quarantined",
        backend.name
    );
    assert_eq!(backlog.records, 2, "{}: both records", backend.name);
    let token = login(&url, "amina");
    for r in [&r1, &r2] {
        server_view(&url, &token, r);
    }

    sync(&d2);
    let mut s = open(&d2);
    for r in [&r1, &r2] {
        s.show(r).expect("the record reached the second device");
    }
    let v = s.show(&r2).expect("r2");
    assert_eq!(
        v.answers["temp_c"],
        serde_json::json!(37.4),
        "{}",
        backend.name
    );
    assert_eq!(
        v.answers["hiv_offered"],
        serde_json::json!(true),
        "{}",
        backend.name
    );
}

#[test]
fn identical_chunks_of_two_documents_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn identical_chunks_of_two_documents_on_postgres() {
    scenario(postgres());
}

/// A PostgreSQL database made before (`hash` unique over the whole log) loses that
/// constraint when a server opens it; its rows stay, and a byte-identical chunk of
/// another document can then be stored.
#[test]
fn an_old_postgres_log_becomes_unique_per_document() {
    let pg = crate::pg::Postgres::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sql = |q: &'static str| {
        rt.block_on(async {
            let client = pg_client(&pg.url()).await;
            client.batch_execute(q).await.expect("sql");
            client
                .query_one(
                    "SELECT count(*) FROM pg_constraint WHERE conname = 'log_hash_key'",
                    &[],
                )
                .await
                .expect("constraint")
                .get::<_, i64>(0)
        })
    };
    let before = sql(
        "CREATE TABLE log(seq BIGINT PRIMARY KEY, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
             site TEXT NOT NULL, hash BYTEA NOT NULL UNIQUE, bytes BYTEA NOT NULL,
             origin TEXT NOT NULL, quarantined BOOLEAN NOT NULL DEFAULT FALSE);
         INSERT INTO log VALUES (1, 'doc-1', 'record', 'site-a', '\\x07', '\\x01', 'dev', FALSE);",
    );
    assert_eq!(before, 1, "the old constraint is there");
    drop(tern_server::admin::Admin::open(&tern_server::Storage::Url(pg.url())).expect("open"));
    let after = sql(
        "INSERT INTO log VALUES (2, 'doc-2', 'record', 'site-a', '\\x07', '\\x01', 'dev', FALSE);",
    );
    assert_eq!(
        after, 0,
        "dropped: the same chunk under another document is stored"
    );
    // Opening again is harmless.
    drop(tern_server::admin::Admin::open(&tern_server::Storage::Url(pg.url())).expect("reopen"));
}
