//! Pulls never serve a chunk before the verifier judged it: a change is acknowledged
//! as soon as it is durable, but other devices get it only once verified (and never
//! once quarantined). Driven on the storage itself, so that the verifier's timing
//! plays no part: SQLite and PostgreSQL.

use crate::common::*;
use tern_server::db::{Db, NewDoc, Scope, Verified};
use tern_server::{postgres::PgDb, sqlite::SqliteDb, Storage};

fn chunk(doc: &str, n: u8) -> NewDoc {
    NewDoc {
        doc_id: doc.into(),
        kind: "record".into(),
        site: "site-a".into(),
        changes: vec![([n; 32], vec![n; 16])],
    }
}

/// What another device of the site would pull: (docs of the items, head).
async fn pulled<D: Db>(db: &D) -> (Vec<String>, i64) {
    let scope = Scope {
        sites: vec!["site-a".into()],
        restricted: true,
        exclude_origin: "dev-b".into(),
    };
    let page = db.pull(&scope, 0, 1 << 20).await.expect("pull");
    (
        page.items.into_iter().map(|i| i.doc_id).collect(),
        page.head,
    )
}

async fn scenario<D: Db>(db: D, name: &str) {
    assert_eq!(
        db.store_changes("dev-a", &[chunk("r1", 1)])
            .await
            .expect("store"),
        1
    );
    let (docs, head) = pulled(&db).await;
    assert!(
        docs.is_empty(),
        "{name}: an unverified chunk was served: {docs:?}"
    );
    assert_eq!(head, 0, "{name}: the head stops below it");

    let verify = |doc: &str, upto: i64| Verified {
        doc_id: doc.into(),
        upto,
        record: None,
        summary: None,
        facts: None,
    };
    db.verified(&[verify("r1", 1)]).await.expect("verified");
    assert_eq!(pulled(&db).await, (vec!["r1".to_string()], 1), "{name}");

    // A second document waits while a third, stored after it, is verified: nothing
    // past the waiting one is served, in log order.
    db.store_changes("dev-a", &[chunk("r2", 2)])
        .await
        .expect("store");
    db.store_changes("dev-a", &[chunk("r3", 3)])
        .await
        .expect("store");
    db.verified(&[verify("r3", 3)]).await.expect("verified");
    assert_eq!(pulled(&db).await, (vec!["r1".to_string()], 1), "{name}");

    // Quarantined: never served, and no longer holding the others back.
    db.quarantine("r2", 2, "forged").await.expect("quarantine");
    assert_eq!(
        pulled(&db).await,
        (vec!["r1".to_string(), "r3".to_string()], 3),
        "{name}"
    );
}

#[test]
fn pulls_stop_at_the_first_unverified_chunk_on_sqlite() {
    let backend = sqlite();
    let Storage::Dir(dir) = &backend.storage else {
        unreachable!("sqlite() gives a folder")
    };
    let db = SqliteDb::open(dir).expect("open");
    runtime().block_on(scenario(db, backend.name));
}

#[test]
fn pulls_stop_at_the_first_unverified_chunk_on_postgres() {
    let backend = postgres();
    let Storage::Url(url) = &backend.storage else {
        unreachable!("postgres() gives a URL")
    };
    let rt = runtime();
    let db = rt.block_on(PgDb::connect(url)).expect("connect");
    rt.block_on(scenario(db, backend.name));
}
