//! The dashboard's record view shows only what the verifier judged: a change
//! acknowledged but not yet verified (which may yet be quarantined) is not shown.

use crate::common::*;
use automerge::transaction::Transactable;
use automerge::ReadDoc;
use tern_server::db::{Db, NewDoc};
use tern_server::service::{self, Caller};
use tern_server::Storage;
use tern_store::Role;

async fn scenario_db<D: Db>(db: &D, record: &str, actor: &str, device: &str) {
    // A change of the record, stored as a push would store it, never verified
    // (this server's verifier is stopped).
    let chunks = db.doc_changes(record, i64::MAX).await.expect("chunks");
    let mut doc =
        automerge::AutoCommit::load(&tern_store::load_chunks(chunks).expect("load").save())
            .expect("load");
    doc.set_actor(automerge::ActorId::from(actor.as_bytes().to_vec()));
    let answers = match doc.get(automerge::ROOT, "answers").expect("get") {
        Some((_, id)) => id,
        None => panic!("no answers map"),
    };
    // Answers are JSON text.
    doc.put(&answers, "sex", "\"unverified-marker\"")
        .expect("put");
    doc.commit();
    let change = doc.get_last_local_change().expect("change");
    db.store_changes(
        device,
        &[NewDoc {
            doc_id: record.into(),
            kind: "record".into(),
            site: "site-a".into(),
            changes: vec![(change.hash().0, change.raw_bytes().to_vec())],
        }],
    )
    .await
    .expect("stored");
    let caller = Caller {
        account: "amina".into(),
        role: Role::Clinician,
        sites: vec!["site-a".into()],
        device: None,
    };
    let view = service::view_record(db, &caller, record)
        .await
        .expect("view");
    assert!(
        !view.to_string().contains("unverified-marker"),
        "an unverified change is shown: {}",
        view["data"]
    );
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let (record, device) = {
        let mut s = open(&clin);
        let subject = s
            .add_subject(&[("sex".into(), "female".into())])
            .expect("subject");
        (
            s.new_record("pda", &subject).expect("record"),
            s.device().to_string(),
        )
    };
    sync(&clin);
    let amina = login(&url, "amina");
    server_view(&url, &amina, &record);
    server.stop();
    let actor = format!("tern:{device}:amina");
    runtime().block_on(async {
        match &backend.storage {
            Storage::Dir(dir) => {
                let db = tern_server::sqlite::SqliteDb::open(dir).expect("db");
                scenario_db(&db, &record, &actor, &device).await
            }
            Storage::Keyed(..) => unreachable!("the tests use key files"),
            Storage::Url(u) => {
                let db = tern_server::postgres::PgDb::connect(u).await.expect("db");
                scenario_db(&db, &record, &actor, &device).await
            }
        }
    });
}

#[test]
fn record_view_shows_only_verified_chunks_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn record_view_shows_only_verified_chunks_on_postgres() {
    scenario(postgres());
}
