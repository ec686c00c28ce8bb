//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz entry points, so
//! CI checks every input the fuzzers kept without needing a nightly toolchain.

use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry_path in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry_path.expect("corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        entry(&data);
        count += 1;
    }
    assert!(count > 0, "the {target} corpus is empty");
}

#[test]
fn form_corpus_replays_without_panic() {
    replay("form", tern_forms::fuzzing::form_file);
}

#[test]
fn expression_corpus_replays_without_panic() {
    replay("expression", tern_forms::fuzzing::expression);
}
