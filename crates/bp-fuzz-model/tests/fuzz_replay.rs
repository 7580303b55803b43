//! Replays the committed fuzz corpora and crash inputs on stable.
//!
//! For each target, every file in `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` is run through the same function that the
//! cargo-fuzz target calls, so CI checks every input the fuzzer kept, and
//! every crash it ever found, without nightly or libFuzzer.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Directory of the cargo-fuzz project, relative to this crate.
const FUZZ_DIR: &str = "../../fuzz";

/// Returns the files in `fuzz/<kind>/<target>/`, sorted; none if the
/// directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FUZZ_DIR)
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("unreadable corpus directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `run` on every corpus and regression input of `target` and fails
/// with the list of inputs that panicked. The corpus must not be empty, so
/// that a moved or deleted corpus fails the test instead of passing it.
fn replay(target: &str, run: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    assert!(
        !corpus.is_empty(),
        "no corpus for fuzz target {target} in {FUZZ_DIR}/corpus/{target}"
    );

    let mut failures = Vec::new();
    let all = corpus
        .iter()
        .chain(inputs("regressions", target).iter())
        .cloned()
        .collect::<Vec<_>>();
    for path in &all {
        let data = fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs of {target} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    println!("{target}: {} inputs replayed", all.len());
}

#[test]
fn gate_ops_corpus() {
    replay("gate_ops", bp_fuzz_model::gate_ops::run);
}

#[test]
fn ring_ops_corpus() {
    replay("ring_ops", bp_fuzz_model::ring_ops::run);
}

#[test]
fn pipeline_input_corpus() {
    replay("pipeline_input", bp_fuzz_model::pipeline_input::run);
}
