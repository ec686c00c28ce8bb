#![no_main]
// The Automerge chunk reader with the size bounds in place, then a load, as the
// server runs them (tern_store::fuzzing::chunk, whose corpus `cargo test -p
// tern-store --lib chunk_corpus` replays). Panics inside Automerge's load are
// contained there, as the server's verifier contains them; any other is a bug.
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_store::fuzzing::chunk(data));
