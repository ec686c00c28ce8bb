//! Helpers shared by the integration tests (one binary: `tests/store.rs`).

use std::path::{Path, PathBuf};
use tern_store::{Role, Store};

pub const PASSWORD: &str = "test-password";

pub fn init(dir: &Path, name: &str, role: Role) -> (Store, PathBuf) {
    let db = dir.join(format!("{name}.db"));
    let store = Store::init(&db, name, role, PASSWORD, "site-a").expect("init");
    (store, db)
}

pub fn subject(store: &mut Store) -> String {
    store
        .add_subject(&[
            ("given_name".into(), "Amina".into()),
            ("family_name".into(), "Haddad".into()),
            ("sex".into(), "female".into()),
            ("date_of_birth".into(), "1990-05-01".into()),
        ])
        .expect("subject")
}

/// Rewrites a change file with only the changes `keep` selects, in reverse order,
/// with a correct header: a partial, out-of-order delivery.
pub fn partial(file: &Path, out: &Path, keep: impl Fn(usize) -> bool) {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(file).expect("read");
    let nl = bytes.iter().position(|&b| b == b'\n').expect("header");
    let mut body: serde_json::Value = serde_json::from_slice(&bytes[nl + 1..]).expect("json");
    let mut n = 0;
    for doc in body["docs"].as_array_mut().expect("docs") {
        let changes = doc["changes"].as_array_mut().expect("changes");
        let mut kept: Vec<serde_json::Value> = Vec::new();
        for c in changes.drain(..) {
            if keep(n) {
                kept.push(c);
            }
            n += 1;
        }
        kept.reverse();
        *changes = kept;
    }
    let body = serde_json::to_vec(&body).expect("encode");
    let mut out_bytes = format!(
        "TERN-CHANGES 1 {} {}\n",
        hex::encode(Sha256::digest(&body)),
        body.len()
    )
    .into_bytes();
    out_bytes.extend_from_slice(&body);
    std::fs::write(out, out_bytes).expect("write");
}
