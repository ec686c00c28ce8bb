//! Two documents may hold byte-identical chunks: two records created by the same user
//! for the same subject in the same millisecond are identical documents (the record
//! id is not inside), and so are their empty restricted twins. Each must be stored,
//! verified and pulled under its own id; a server that kept a chunk once over the
//! whole log acknowledged the second and never stored it.

use crate::common::*;
use tern_store::DocKind;

fn scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let admin = accounts(&backend.storage);
    let tmp = tempfile::tempdir().expect("tmp");
    let url = server.url();
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
