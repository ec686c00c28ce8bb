//! Replays the `sync_message` fuzz corpus through the fuzz entry point, so CI checks
//! every input the fuzzer kept without a nightly toolchain.

#[test]
fn sync_message_corpus_replays_without_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/sync_message");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        tern_sync::fuzzing::message(&data);
        n += 1;
    }
    assert!(n > 0, "the sync_message corpus is empty");
}
