//! Decompression bombs inside Automerge chunks: refused at push before Automerge
//! inflates them, nothing stored; a document that makes the verifier fail or panic
//! is quarantined alone and the others are verified and pulled.

use crate::common::*;
use automerge::transaction::{CommitOptions, Transactable};
use sha2::{Digest, Sha256};
use tern_sync::protocol::{self, DocChanges, Kind, SyncRequest};

fn uleb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        out.push(if n == 0 { b } else { b | 0x80 });
        if n == 0 {
            return;
        }
    }
}

/// An Automerge chunk of `kind` around `data`, with a good checksum.
fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut body = vec![kind];
    uleb(&mut body, data.len() as u64);
    body.extend_from_slice(data);
    let hash = Sha256::digest(&body);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend(body);
    out
}

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
    uleb(&mut data, 1);
    uleb(&mut data, actor.len() as u64);
    data.extend_from_slice(actor.as_bytes());
    data.push(0); // no heads
    data.push(1); // one change column: id 1, deflated
    uleb(&mut data, (1 << 4) | 0b1000);
    uleb(&mut data, column.len() as u64);
    data.push(0); // no op columns
    data.extend(column);
    chunk(0, &data)
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
    let resp = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .body(body)
        .send()
        .expect("post");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn scenario(backend: Backend) {
    let server = TestServer::start(&backend.storage);
    let admin = accounts(&backend.storage);
    let url = server.url();
    let tmp = tempfile::tempdir().expect("tmp");
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
    let record = {
        let mut s = open(&clin);
        new_pda(&mut s)
    };
    sync(&clin);
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
