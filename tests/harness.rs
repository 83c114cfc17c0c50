//! The fuzz harnesses (`ragline::harness`, run by the libFuzzer targets in
//! `fuzz/` under `scripts/fuzz.sh`) on the stable toolchain: random bytes,
//! every line of `tests/corpus` and every kept regression input of
//! `fuzz/regressions`.

use proptest::prelude::*;
use ragline::harness;
use std::path::Path;

fn inputs(folder: &str) -> Vec<Vec<u8>> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

#[test]
fn corpus_lines_and_kept_regressions_pass_the_decoder_harness() {
    let config = harness::config();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for file in ["tests/corpus/valid.jsonl", "tests/corpus/invalid.jsonl"] {
        for line in std::fs::read(root.join(file))
            .unwrap()
            .split(|byte| *byte == b'\n')
        {
            harness::decode_bytes(&config, line);
            count += 1;
        }
    }
    let regressions = inputs("fuzz/regressions/decode");
    assert!(!regressions.is_empty());
    for input in &regressions {
        harness::decode_bytes(&config, input);
    }
    assert!(count > 50, "the corpus was read");
}

#[test]
fn kept_regressions_pass_the_engine_harness() {
    let config = harness::config();
    for input in inputs("fuzz/regressions/engine") {
        harness::engine_sequence(&config, &input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_decoder_harness_holds_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        harness::decode_bytes(&harness::config(), &bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_harness_holds_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        harness::engine_sequence(&harness::config(), &bytes);
    }
}
