#![no_main]
// The Automerge chunk reader with the size bounds in place, then a load, as the
// server runs them (tern_record::fuzzing::chunk, whose corpus `cargo test -p
// tern-record --lib chunk_corpus` replays). Panics inside Automerge's load are
// contained there, as the server's verifier contains them; any other is a bug.
//
// Both modules are compiled here from tern-record's own source files, the same
// code the store and the server run, so that this target links neither SQLCipher
// nor OpenSSL (tern-store's C dependencies): `cargo fuzz run chunk
// --no-default-features` builds in a few minutes without a sanitizer.

#[allow(dead_code)]
#[path = "../../crates/record/src/chunk.rs"]
mod chunk;
#[allow(dead_code)]
#[path = "../../crates/record/src/fuzzing.rs"]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::chunk(data));
