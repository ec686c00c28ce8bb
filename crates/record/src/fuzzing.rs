//! The entry point of the fuzz target `chunk` (`fuzz/`), shared with the test that
//! replays its corpus (`fuzz/corpus/chunk/`) in every `cargo test`, so both run
//! exactly the same code: the chunk reader the server runs on every pushed chunk
//! (`chunk_kind`, `document_actors`, `check_size`), then a load within the size
//! bounds, as the verifier does.
//!
//! Input: the first byte says how to read the rest. `0`: the rest is a chunk as
//! pushed (magic, checksum and all). Otherwise the rest is the body of a chunk of
//! type `(b - 1) % 3`, sealed here with a good checksum, so that mutations reach
//! Automerge instead of stopping at the checksum.
//!
//! Automerge 0.12 panics on some damaged chunks (docs/security-inputs.md); the
//! server's verifier contains such a panic per document, and so does this entry
//! point for the load alone. A panic anywhere else (tern-record's own reader) is a
//! bug and escapes.

use crate::chunk::{check_size, chunk_kind, document_actors, load_chunks_within, ChunkLimits};
use sha2::{Digest, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// See the module documentation.
pub fn chunk(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode == 0 {
        rest.to_vec()
    } else {
        seal((mode - 1) % 3, rest)
    };
    let limits = ChunkLimits {
        change: 1 << 20,
        document: 8 << 20,
    };
    let _ = chunk_kind(&bytes);
    let _ = document_actors(&bytes);
    if check_size(&bytes, &limits).is_ok() {
        // Silence the panic hook for the load only (libFuzzer's aborts).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let _ = std::panic::catch_unwind(|| load_chunks_within([bytes.clone()], &limits));
        std::panic::set_hook(hook);
    }
}

/// Appends `n` as an unsigned LEB128 number (Automerge's lengths).
pub fn push_uleb(out: &mut Vec<u8>, n: usize) {
    let mut n = n as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        out.push(if n == 0 { b } else { b | 0x80 });
        if n == 0 {
            break;
        }
    }
}

/// A chunk of type `kind` around `body`, with its length and a good checksum.
pub fn seal(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut data = vec![kind];
    push_uleb(&mut data, body.len());
    data.extend_from_slice(body);
    let hash = Sha256::digest(&data);
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&hash[..4]);
    out.extend(data);
    out
}

#[cfg(test)]
mod tests {
    use automerge::{transaction::Transactable, ActorId, AutoCommit, ROOT};

    /// Real chunks in the input format: a document with and without deflated
    /// columns, and a change, each raw and sealed.
    fn seeds() -> Vec<(String, Vec<u8>)> {
        let mut doc = AutoCommit::new();
        doc.set_actor(ActorId::from(b"tern:dev1:amina".to_vec()));
        doc.put(ROOT, "temp_c", 37.5).expect("put");
        doc.put(ROOT, "long", "x".repeat(400)).expect("put");
        doc.commit();
        let change = doc
            .get_last_local_change()
            .expect("change")
            .raw_bytes()
            .to_vec();
        let mut out = Vec::new();
        for (name, raw) in [
            ("document", doc.save_nocompress()),
            ("document_deflated", doc.save()),
            ("change", change),
        ] {
            let mut plain = vec![0];
            plain.extend_from_slice(&raw);
            out.push((format!("seed_{name}_raw"), plain));
            // The body after magic, checksum, type and length, with its type.
            let kind = raw[8];
            let body_at = 9 + raw[9..].iter().position(|b| b & 0x80 == 0).unwrap_or(0) + 1;
            let mut sealed = vec![kind + 1];
            sealed.extend_from_slice(&raw[body_at..]);
            out.push((format!("seed_{name}_sealed"), sealed));
        }
        out
    }

    fn corpus() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/chunk")
    }

    #[test]
    fn sealed_seeds_are_the_real_chunks() {
        for (name, seed) in seeds() {
            if seed[0] == 0 {
                continue;
            }
            let bytes = super::seal(seed[0] - 1, &seed[1..]);
            assert!(crate::chunk::load_chunks([bytes]).is_ok(), "{name}");
        }
    }

    /// Every input the fuzzer kept, and the seeds, run through the entry point.
    #[test]
    fn chunk_corpus_replays_without_panic() {
        let mut n = 0;
        for (_, seed) in seeds() {
            super::chunk(&seed);
        }
        for entry in std::fs::read_dir(corpus()).expect("fuzz/corpus/chunk") {
            let path = entry.expect("entry").path();
            super::chunk(&std::fs::read(&path).expect("read"));
            n += 1;
        }
        assert!(n > 0, "the chunk corpus is empty");
    }

    /// The committed corpus starts the fuzzer from every kind of seed (sealed seeds
    /// differ at every run, so their presence is checked, not their bytes). After a
    /// change of the chunk layout, write them again with
    /// `TERN_WRITE_CORPUS=1 cargo test -p tern-record --lib the_chunk_corpus_holds`.
    #[test]
    fn the_chunk_corpus_holds_a_seed_of_every_kind() {
        let write = std::env::var_os("TERN_WRITE_CORPUS").is_some();
        if write {
            std::fs::create_dir_all(corpus()).expect("mkdir");
        }
        for (name, seed) in seeds() {
            let path = corpus().join(&name);
            if write {
                std::fs::write(&path, seed).expect("write");
            }
            assert!(
                path.exists(),
                "fuzz/corpus/chunk/{name} is missing: run TERN_WRITE_CORPUS=1 cargo test -p tern-record --lib the_chunk_corpus_holds"
            );
        }
    }
}
