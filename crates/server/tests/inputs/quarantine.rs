//! Quarantine per author: when a screener's forged write and a clinician's change
//! of the same record are verified together, only the screener's change is
//! quarantined; the clinician's is verified and shown.

use crate::common::*;
use automerge::transaction::Transactable;
use automerge::ReadDoc;
use std::sync::Arc;
use tern_server::db::{Db, NewDoc};
use tern_server::service::{self, Caller};
use tern_server::verify::{verify_all, DocCache};
use tern_server::Storage;
use tern_store::{ChunkLimits, Role};

/// A change of `record` by `actor` setting answer `field` to the JSON text `value`.
fn change(base: &[u8], actor: &str, field: &str, value: &str) -> ([u8; 32], Vec<u8>) {
    let mut doc = automerge::AutoCommit::load(base).expect("load");
    doc.set_actor(automerge::ActorId::from(actor.as_bytes().to_vec()));
    let Some((_, answers)) = doc.get(automerge::ROOT, "answers").expect("get") else {
        panic!("no answers map");
    };
    doc.put(&answers, field, value).expect("put");
    doc.commit();
    let c = doc.get_last_local_change().expect("change");
    (c.hash().0, c.raw_bytes().to_vec())
}

async fn scenario_db<D: Db>(db: Arc<D>, record: &str, amina: &str, bilal: &str) {
    let chunks = db.doc_changes(record, i64::MAX).await.expect("chunks");
    let base = tern_store::load_chunks(chunks).expect("load").save();
    let good = change(&base, &format!("tern:{amina}:amina"), "temp_c", "38.5");
    let forged = change(
        &base,
        &format!("tern:{bilal}:bilal"),
        "tb_diagnosis",
        "\"pulmonary_tb\"",
    );
    for (device, c) in [(amina, good), (bilal, forged)] {
        db.store_changes(
            device,
            &[NewDoc {
                doc_id: record.into(),
                kind: "record".into(),
                site: "site-a".into(),
                changes: vec![c],
            }],
        )
        .await
        .expect("stored");
    }
    verify_all(&db, &mut DocCache::default(), 10, &ChunkLimits::default())
        .await
        .expect("verified");
    let listed = db.quarantined().await.expect("quarantined");
    assert!(
        listed
            .iter()
            .any(|(d, why)| d == record && why.contains("`bilal` (screener)")),
        "{listed:?}"
    );
    let caller = Caller {
        account: "amina".into(),
        role: Role::Clinician,
        sites: vec!["site-a".into()],
        device: None,
    };
    let view = service::view_record(db.as_ref(), &caller, record)
        .await
        .expect("view");
    let answers = &view["data"]["answers"];
    assert_eq!(
        answers["temp_c"],
        serde_json::json!(38.5),
        "the clinician's change went with the forged one: {answers}"
    );
    assert!(answers["tb_diagnosis"].is_null(), "{answers}");
    assert_eq!(db.backlog().await.expect("backlog").unverified, 0);
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let scr = device(tmp.path(), &admin, &url, "bilal", "site-a");
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let record = screened_and_synced(&scr);
    let token = login(&url, "amina");
    server_view(&url, &token, &record);
    server.stop();
    let (amina, bilal) = (
        open(&clin).device().to_string(),
        open(&scr).device().to_string(),
    );
    runtime().block_on(async {
        match &backend.storage {
            Storage::Dir(dir) => {
                let db = Arc::new(tern_server::sqlite::SqliteDb::open(dir).expect("db"));
                scenario_db(db, &record, &amina, &bilal).await
            }
            Storage::Keyed(..) => unreachable!("the tests use key files"),
            Storage::Url(u) => {
                let db = Arc::new(tern_server::postgres::PgDb::connect(u).await.expect("db"));
                scenario_db(db, &record, &amina, &bilal).await
            }
        }
    });
}

#[test]
fn quarantine_per_author_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn quarantine_per_author_on_postgres() {
    scenario(postgres());
}

/// A record with vitals, made on the screener's device `scr` and synced.
pub(super) fn screened_and_synced(scr: &std::path::Path) -> String {
    let record = {
        let mut s = open(scr);
        let r = new_pda(&mut s);
        s.set_answer(&r, "temp_c", "37.5", None).expect("vitals");
        r
    };
    sync(scr);
    record
}
