//! Decompression bombs inside Automerge chunks: refused at push before Automerge
//! inflates them, nothing stored; a document that makes the verifier fail or panic
//! is quarantined alone and the others are verified and pulled.

use crate::common::*;
use automerge::transaction::{CommitOptions, Transactable};
use tern_record::fuzzing::{push_uleb, seal};
use tern_sync::protocol::{self, DocChanges, Kind, SyncRequest};

/// A whole document by `actor` whose one change column is `inflated` zero bytes,
/// deflated: its actor table reads fine, and Automerge would inflate it whole.
pub fn document_bomb(actor: &str, inflated: usize) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = inflated;
    while left > 0 {
        let n = left.min(zeros.len());
        e.write_all(&zeros[..n]).expect("deflate");
        left -= n;
    }
    let column = e.finish().expect("deflate");
    let mut data = Vec::new();
    push_uleb(&mut data, 1);
    push_uleb(&mut data, actor.len());
    data.extend_from_slice(actor.as_bytes());
    data.push(0); // no heads
    data.push(1); // one change column: id 1, deflated
    push_uleb(&mut data, (1 << 4) | 0b1000);
    push_uleb(&mut data, column.len());
    data.push(0); // no op columns
    data.extend(column);
    seal(0, &data)
}

fn push(url: &str, token: &str, doc: &str, chunks: Vec<Vec<u8>>) -> (u16, serde_json::Value) {
    let body = protocol::encode(&SyncRequest {
        cursor: 0,
        push: vec![DocChanges {
            doc: doc.into(),
            kind: Kind::Record,
            site: "site-a".into(),
            changes: chunks.into_iter().map(serde_bytes::ByteBuf::from).collect(),
            summary: None,
        }],
        max_pull_bytes: 1024,
        accounts_version: 0,
    })
    .expect("encode");
    post_bytes(&format!("{url}/v1/sync"), Some(token), body)
}

fn scenario(backend: Backend) {
    let Scene {
        server,
        admin,
        url,
        tmp,
    } = Scene::start(&backend);
    let clin = device(tmp.path(), &admin, &url, "amina", "site-a");
    let (token, actor) = {
        let s = open(&clin);
        let token = s.enrolment().expect("e").expect("enrolled").token;
        (token, format!("tern:{}:amina", s.device()))
    };
    let before = admin.backlog().expect("backlog");

    // A whole document of 200 KB whose column inflates to 200 MiB: refused at push.
    let bomb = document_bomb(&actor, 200 << 20);
    assert!(bomb.len() < 300_000, "{} bytes", bomb.len());
    let (status, body) = push(&url, &token, "bomb-doc", vec![bomb]);
    assert_eq!(
        status, 400,
        "{}: a document bomb acknowledged: {body}",
        backend.name
    );
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("inflates to more than 67108864 bytes"),
        "{message}"
    );
    // A change of 9 MiB (its message alone): refused, not stored inflated.
    let mut doc = automerge::AutoCommit::new();
    doc.set_actor(automerge::ActorId::from(actor.as_bytes().to_vec()));
    doc.put(automerge::ROOT, "k", "v").expect("put");
    doc.commit_with(CommitOptions::default().with_message("a".repeat(9 << 20)));
    let big = doc
        .get_last_local_change()
        .expect("change")
        .raw_bytes()
        .to_vec();
    let (status, body) = push(&url, &token, "big-change", vec![big]);
    assert_eq!(
        status, 400,
        "{}: a 9 MiB change acknowledged: {body}",
        backend.name
    );
    assert_eq!(
        admin.backlog().expect("backlog").head,
        before.head,
        "nothing stored"
    );

    // A small document within the limits that Automerge cannot load (it panics
    // on this one): acknowledged, then quarantined alone; a good record pushed
    // after it is verified and visible.
    let (status, body) = push(&url, &token, "bad-doc", vec![document_bomb(&actor, 1024)]);
    assert_eq!(status, 200, "{body}");
    let record = synced_pda(&clin);
    let amina = login(&url, "amina");
    server_view(&url, &amina, &record);
    let quarantined = admin.quarantined().expect("quarantined");
    assert!(
        quarantined.iter().any(|(doc, _)| doc == "bad-doc"),
        "{quarantined:?}"
    );
    server.stop();
}

#[test]
fn decompression_bombs_on_sqlite() {
    scenario(sqlite());
}

#[test]
fn decompression_bombs_on_postgres() {
    scenario(postgres());
}
