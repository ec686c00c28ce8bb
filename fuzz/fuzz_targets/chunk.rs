#![no_main]
// The Automerge chunk reader with the size bounds in place: `check_size` first, as
// the server does, then a load. Automerge 0.12 panics on some damaged chunks (the
// server's verifier catches them per document; see docs/security-inputs.md), so a
// crash here inside automerge is expected; one in tern_store is a bug.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = tern_store::ChunkLimits {
        change: 1 << 20,
        document: 8 << 20,
    };
    if tern_store::check_size(data, &limits).is_ok() {
        let _ = tern_store::load_chunks_within([data.to_vec()], &limits);
    }
});
