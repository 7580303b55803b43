//! The project's checks. To add one, write a `fn(&mut Context) -> Result<(),
//! StepError>` below and add a [`Step`] to [`STEPS`]; it then gets its own
//! command and, with `in_ci: true`, runs in `cargo xtask ci`.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::{Cmd, CmdError};
use crate::step::{Context, Step, StepError};
use crate::toolchain::{self, Missing, NIGHTLY};

/// Every step, in the order `cargo xtask ci` runs them: fast checks first, so
/// a formatting slip fails in seconds rather than after the test build.
pub const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        about: "check formatting (cargo fmt --all --check)",
        in_ci: true,
        run: fmt,
    },
    Step {
        name: "clippy",
        about: "lint every crate and target with warnings denied",
        in_ci: true,
        run: clippy,
    },
    Step {
        name: "test",
        about: "run the unit, integration and doc tests of the workspace",
        in_ci: true,
        run: test,
    },
    Step {
        name: "loom",
        about: "run the loom models in loom-tests (RUSTFLAGS=\"--cfg loom\", release)",
        in_ci: true,
        run: loom,
    },
    Step {
        name: "miri",
        about: "run the bp-core and bp-std tests under Miri (nightly)",
        in_ci: true,
        run: miri,
    },
    Step {
        name: "nostd",
        about: "build bp-core for bare-metal targets without std",
        in_ci: true,
        run: nostd,
    },
    Step {
        name: "qemu",
        about: "build the example firmware and run it under qemu-system-arm",
        in_ci: true,
        run: qemu,
    },
    Step {
        name: "doc",
        about: "build the workspace docs with rustdoc warnings denied",
        in_ci: true,
        run: doc,
    },
    Step {
        name: "tsan",
        about: "run the bp-std stress tests under ThreadSanitizer (nightly, -Zbuild-std)",
        in_ci: true,
        run: tsan,
    },
    Step {
        name: "fuzz",
        about: "run each cargo-fuzz target in fuzz/ for --seconds (nightly, cargo-fuzz)",
        in_ci: true,
        run: fuzz,
    },
    Step {
        name: "mutants",
        about: "mutation-test bp-core with cargo-mutants against its unit tests and loom models",
        in_ci: false,
        run: mutants,
    },
    Step {
        name: "bench",
        about: "benchmark bp against peer crates; write BENCHMARKS.md and its plot (~15 min)",
        in_ci: false,
        run: bench,
    },
];

/// Options that steps take on the command line: the step, the option and
/// its help line. Each option takes one value, a positive integer.
pub const STEP_OPTIONS: &[(&str, &str, &str)] = &[(
    "fuzz",
    "--seconds",
    "seconds to run each fuzz target (default 60, and 30 within ci)",
)];

/// Bare-metal targets that bp-core must build for, with the features each
/// needs. Targets without compare-and-swap need `critical-section`; a library
/// build needs no critical-section implementation, only a final link does.
const NOSTD_BUILDS: &[(&str, &[&str])] = &[
    ("thumbv7em-none-eabihf", &[]),
    ("thumbv6m-none-eabi", &["critical-section"]),
    ("riscv32imc-unknown-none-elf", &["critical-section"]),
];

/// Target of the example firmware in `firmware/`, a Cortex-M3.
const FIRMWARE_TARGET: &str = "thumbv7m-none-eabi";

/// Time limit for one firmware run under QEMU. A passing run takes seconds;
/// a firmware that hangs is killed and fails the step.
const QEMU_LIMIT: Duration = Duration::from_secs(120);

/// Seconds per fuzz target of `cargo xtask fuzz` without `--seconds`.
const FUZZ_SECONDS: u64 = 60;

/// Seconds per fuzz target within `cargo xtask ci`.
const CI_FUZZ_SECONDS: u64 = 30;

/// libFuzzer's limit for one input, in seconds. Inputs are at most a few
/// kilobytes of operations on one thread and take microseconds, so an input
/// that runs this long is a hang.
const FUZZ_INPUT_TIMEOUT_SECS: u64 = 10;

/// Directory of the cargo-fuzz project.
const FUZZ_DIR: &str = "fuzz";

/// Extra libFuzzer options of single targets.
///
/// NOTE: `pipeline_input` runs without leak detection. `std::thread::scope`
/// returns once the scoped closures have finished, which can be before
/// their threads have exited, so libFuzzer's leak check after an input can
/// find a thread's handle or its list of thread-local destructors still
/// allocated. Leaks of the pipeline's own memory go unreported there, but
/// `gate_ops` and `ring_ops`, which start no threads, keep the check.
const FUZZ_TARGET_OPTIONS: &[(&str, &str)] = &[("pipeline_input", "-detect_leaks=0")];

/// The one target that the ThreadSanitizer step builds for: `-Zbuild-std`
/// needs an explicit target, and the sanitizer runtime used here is the
/// x86_64 Linux one.
const TSAN_TARGET: &str = "x86_64-unknown-linux-gnu";

const TSAN_FLAGS: &str = "-Zsanitizer=thread";

/// Directory of the bp-std integration tests; the stress tests are those
/// whose file name contains `stress`.
const STRESS_TEST_DIR: &str = "crates/bp-std/tests";

/// Stress test sizes under ThreadSanitizer, which slows every memory access
/// down, unless the caller set them. They keep the step to minutes.
const TSAN_STRESS_SIZES: &[(&str, &str)] = &[
    ("BP_STRESS_CHUNKS", "5000"),
    ("BP_STRESS_OPS", "20000"),
    ("BP_STRESS_SECS", "1"),
];

/// ThreadSanitizer options: stop at the first report, so the test binary
/// fails with it.
const TSAN_OPTIONS: &str = "halt_on_error=1";

/// Time limit in seconds for building, and for running, the loom models
/// against one mutant: several times what the whole suite takes.
const LOOM_MUTANT_TIMEOUT_SECS: u64 = 30 * 60;

/// Crates whose unit tests run under Miri.
const MIRI_PACKAGES: &[&str] = &["bp-core", "bp-std"];

/// Miri flags used when MIRIFLAGS is unset. With strict provenance, Miri
/// rejects integer-to-pointer casts, which would hide aliasing bugs.
const DEFAULT_MIRIFLAGS: &str = "-Zmiri-strict-provenance";

fn fmt(_: &mut Context) -> Result<(), StepError> {
    toolchain::ensure_component("rustfmt", "fmt")?;
    Cmd::new("cargo").args(["fmt", "--all", "--check"]).run()?;
    Ok(())
}

fn clippy(_: &mut Context) -> Result<(), StepError> {
    toolchain::ensure_component("clippy", "clippy")?;
    Cmd::new("cargo")
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .run()?;
    Ok(())
}

fn test(context: &mut Context) -> Result<(), StepError> {
    Cmd::new("cargo")
        .args(["test", "--workspace"])
        .run_tests(&mut context.tally)?;
    Ok(())
}

fn loom(context: &mut Context) -> Result<(), StepError> {
    // `--cfg loom` changes every crate's build, so it gets its own target
    // directory and leaves the ordinary build in place.
    Cmd::new("cargo")
        .args(["test", "-p", "loom-tests", "--release"])
        .env("RUSTFLAGS", append_flags("RUSTFLAGS", "--cfg loom"))
        .env("CARGO_TARGET_DIR", context.target_dir.join("loom"))
        .run_tests(&mut context.tally)?;
    Ok(())
}

fn miri(context: &mut Context) -> Result<(), StepError> {
    toolchain::ensure_miri()?;

    // cargo-miri builds in `<target dir>/miri`, apart from the ordinary build.
    let nightly = format!("+{NIGHTLY}");
    Cmd::new("cargo").args([&nightly, "miri", "setup"]).run()?;

    // A MIRIFLAGS set by the caller replaces the default, so a flag can be
    // dropped as well as added.
    let miri_flags = env::var_os("MIRIFLAGS").unwrap_or_else(|| DEFAULT_MIRIFLAGS.into());
    let packages = MIRI_PACKAGES.iter().flat_map(|package| ["-p", package]);
    Cmd::new("cargo")
        .args([&nightly, "miri", "test"])
        .args(packages)
        .env("MIRIFLAGS", miri_flags)
        .run_tests(&mut context.tally)?;
    Ok(())
}

fn nostd(_: &mut Context) -> Result<(), StepError> {
    let targets: Vec<&str> = NOSTD_BUILDS.iter().map(|(target, _)| *target).collect();
    toolchain::ensure_targets(&targets)?;

    for (target, features) in NOSTD_BUILDS {
        let mut build = Cmd::new("cargo").args(["build", "-p", "bp-core", "--target", target]);
        if !features.is_empty() {
            build = build.args(["--features", &features.join(",")]);
        }
        build.run()?;
    }
    Ok(())
}

fn qemu(context: &mut Context) -> Result<(), StepError> {
    toolchain::ensure_targets(&[FIRMWARE_TARGET])?;
    toolchain::ensure_debian_package("qemu-system-arm", "qemu-system-arm")?;

    // The firmware is a workspace of its own that builds for one target only,
    // so `cargo build --workspace` never compiles it.
    let target_dir = context.target_dir.join("firmware");
    Cmd::new("cargo")
        .args(["build", "--release", "--target", FIRMWARE_TARGET])
        .args(["--manifest-path", "firmware/Cargo.toml"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .run()?;

    // The firmware ends with a semihosting exit call, and with
    // `target=native` QEMU turns it into its own exit status: 0 only for the
    // "application exit" reason, which the firmware gives only when every
    // check passed. A panic or failed check exits with 1.
    let firmware = target_dir
        .join(FIRMWARE_TARGET)
        .join("release")
        .join("bp-firmware");
    Cmd::new("qemu-system-arm")
        .args(["-cpu", "cortex-m3", "-machine", "lm3s6965evb", "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(&firmware)
        .run_with_limit(QEMU_LIMIT)?;
    Ok(())
}

fn doc(_: &mut Context) -> Result<(), StepError> {
    Cmd::new("cargo")
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", append_flags("RUSTDOCFLAGS", "-D warnings"))
        .run()?;
    Ok(())
}

fn tsan(context: &mut Context) -> Result<(), StepError> {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Err(Missing {
            what: format!("ThreadSanitizer for {TSAN_TARGET}"),
            reason: "this step runs on x86_64 Linux hosts only".to_owned(),
        }
        .into());
    }
    toolchain::ensure_nightly_src()?;

    // The sanitizer changes every crate's build, the standard library's too,
    // so it gets its own target directory.
    let nightly = format!("+{NIGHTLY}");
    let mut command = Cmd::new("cargo")
        .args([&nightly, "test", "-Zbuild-std", "--target", TSAN_TARGET])
        .args(["-p", "bp-std"]);
    for test in stress_tests()? {
        command = command.args(["--test", &test]);
    }
    command = command
        .env("RUSTFLAGS", append_flags("RUSTFLAGS", TSAN_FLAGS))
        .env("RUSTDOCFLAGS", append_flags("RUSTDOCFLAGS", TSAN_FLAGS))
        .env("TSAN_OPTIONS", append_flags("TSAN_OPTIONS", TSAN_OPTIONS))
        .env("CARGO_TARGET_DIR", context.target_dir.join("tsan"));
    for (name, value) in TSAN_STRESS_SIZES {
        if env::var_os(name).is_none() {
            command = command.env(name, value);
        }
    }
    command.run_tests(&mut context.tally)?;
    Ok(())
}

/// Returns the names of the bp-std stress tests, sorted.
fn stress_tests() -> Result<Vec<String>, StepError> {
    let names = file_stems(Path::new(STRESS_TEST_DIR), "rs")?;
    Ok(names
        .into_iter()
        .filter(|name| name.contains("stress"))
        .collect())
}

fn fuzz(context: &mut Context) -> Result<(), StepError> {
    let seconds = match context.option("--seconds") {
        Some(value) => value.parse().expect("parse_args checks step option values"),
        None if context.ci => CI_FUZZ_SECONDS,
        None => FUZZ_SECONDS,
    };
    toolchain::ensure_nightly()?;
    toolchain::ensure_cargo_tool("cargo-fuzz", "fuzz")?;

    let nightly = format!("+{NIGHTLY}");
    let target_dir = context.target_dir.join("fuzz");
    let targets = file_stems(&Path::new(FUZZ_DIR).join("fuzz_targets"), "rs")?;
    for target in &targets {
        let mut run = Cmd::new("cargo")
            .args([&nightly, "fuzz", "run", "--target-dir"])
            .arg(&target_dir)
            .arg(target);

        // Within ci the new inputs go to a scratch corpus and the committed
        // one is only read, so the checkout stays clean. Otherwise libFuzzer
        // adds them to fuzz/corpus/<target>, to be minimized and committed.
        if context.ci {
            let scratch = target_dir.join("scratch-corpus").join(target);
            create_dir(&scratch)?;
            run = run
                .arg(&scratch)
                .arg(Path::new(FUZZ_DIR).join("corpus").join(target));
        }

        run = run
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-timeout={FUZZ_INPUT_TIMEOUT_SECS}"))
            .arg("-print_final_stats=1");
        for (_, option) in FUZZ_TARGET_OPTIONS
            .iter()
            .filter(|(name, _)| name == target)
        {
            run = run.arg(option);
        }
        let result = run.run();
        if let Err(error) = result {
            eprintln!(
                "xtask: fuzz target {target} failed. Copy the input that libFuzzer saved \
                 under {FUZZ_DIR}/artifacts/{target}/ to {FUZZ_DIR}/regressions/{target}/, \
                 so that `cargo test -p bp-fuzz-model` replays it, and fix the bug."
            );
            return Err(error.into());
        }
    }
    Ok(())
}

fn mutants(context: &mut Context) -> Result<(), StepError> {
    toolchain::ensure_cargo_tool("cargo-mutants", "mutants")?;
    let output = context.target_dir.join("mutants");

    // Pass 1: every mutant of bp-core against its unit tests, which take
    // seconds per mutant.
    let unit_output = output.join("unit");
    create_dir(&unit_output)?;
    let unit = Cmd::new("cargo")
        .args(["mutants", "-p", "bp-core", "--cargo-test-arg=--lib", "-o"])
        .arg(&unit_output);
    run_mutants(unit)?;
    let unit_outcomes = MutantOutcomes::read(&unit_output)?;
    eprintln!("xtask: unit tests: {unit_outcomes}");
    if unit_outcomes.missed.is_empty() {
        return Ok(());
    }

    // Pass 2: the survivors against the loom models, which take minutes per
    // mutant, in a release build with `--cfg loom`. cargo-mutants runs its
    // baseline on the mutated package's own tests, which do not build with
    // `--cfg loom`, so the baseline is skipped and the time limits are fixed.
    let loom_output = output.join("loom");
    create_dir(&loom_output)?;
    let mut loom = Cmd::new("cargo")
        .args(["mutants", "-p", "bp-core", "--test-package", "loom-tests"])
        .args(["--cargo-test-arg=--release", "--baseline=skip"])
        .arg(format!("--timeout={LOOM_MUTANT_TIMEOUT_SECS}"))
        .arg(format!("--build-timeout={LOOM_MUTANT_TIMEOUT_SECS}"))
        .arg("-o")
        .arg(&loom_output)
        .env("RUSTFLAGS", append_flags("RUSTFLAGS", "--cfg loom"));
    for name in &unit_outcomes.missed {
        loom = loom.arg("--re").arg(format!("^{}$", escape_regex(name)));
    }
    run_mutants(loom)?;
    let loom_outcomes = MutantOutcomes::read(&loom_output)?;
    eprintln!("xtask: loom models, on the survivors: {loom_outcomes}");

    let tested = unit_outcomes.tested();
    let caught = tested - loom_outcomes.missed.len();
    eprintln!(
        "xtask: mutation score of bp-core: {caught} of {tested} viable mutants caught ({:.1}%)",
        100.0 * caught as f64 / tested as f64
    );
    for name in &loom_outcomes.missed {
        eprintln!("xtask: missed: {name}");
    }
    Ok(())
}

/// Runs a cargo-mutants command. Exit codes 2 (mutants missed) and 3 (tests
/// timed out) are results, read from its output directory; any other
/// failure fails the step.
fn run_mutants(command: Cmd) -> Result<(), StepError> {
    match command.run() {
        Ok(()) => Ok(()),
        Err(CmdError::Failed { status, .. }) if matches!(status.code(), Some(2 | 3)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The outcome lists that cargo-mutants writes to `mutants.out`.
struct MutantOutcomes {
    caught: Vec<String>,
    missed: Vec<String>,
    timeout: Vec<String>,
    unviable: Vec<String>,
}

impl MutantOutcomes {
    /// Reads the lists from `<output>/mutants.out/`.
    fn read(output: &Path) -> Result<Self, StepError> {
        let list = |name: &str| -> Result<Vec<String>, StepError> {
            let path = output.join("mutants.out").join(name);
            let text = fs::read_to_string(&path).map_err(|source| StepError::Io {
                path: path.clone(),
                source,
            })?;
            Ok(text.lines().map(str::to_owned).collect())
        };
        Ok(Self {
            caught: list("caught.txt")?,
            missed: list("missed.txt")?,
            timeout: list("timeout.txt")?,
            unviable: list("unviable.txt")?,
        })
    }

    /// Returns the number of mutants that built, so that tests ran on them.
    fn tested(&self) -> usize {
        self.caught.len() + self.missed.len() + self.timeout.len()
    }
}

impl fmt::Display for MutantOutcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} caught, {} timed out (caught by the time limit), {} missed, {} unviable",
            self.caught.len(),
            self.timeout.len(),
            self.missed.len(),
            self.unviable.len()
        )
    }
}

/// Escapes the regular expression metacharacters in `text`.
fn escape_regex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Creates `dir` and its parents if they do not exist.
fn create_dir(dir: &Path) -> Result<(), StepError> {
    fs::create_dir_all(dir).map_err(|source| StepError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Returns the stems of the files in `dir` with extension `extension`, sorted.
fn file_stems(dir: &Path, extension: &str) -> Result<Vec<String>, StepError> {
    let io_error = |source| StepError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut stems = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error)? {
        let path: PathBuf = entry.map_err(io_error)?.path();
        if path.extension().is_some_and(|found| found == extension) {
            if let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) {
                stems.push(stem.to_owned());
            }
        }
    }
    stems.sort();
    Ok(stems)
}

/// Runs the criterion benchmarks of bp-bench, then its counted figures
/// (CPU time, futex calls, allocations, and `bp gzip` against pigz), and
/// writes `BENCHMARKS.md` and `docs/bench-low-water.svg` from both.
///
/// pigz and strace are installed with apt-get when missing; if that fails,
/// the report marks their figures as pending instead of failing the step.
fn bench(context: &mut Context) -> Result<(), StepError> {
    for package in ["pigz", "strace"] {
        if let Err(missing) = toolchain::ensure_debian_package(package, package) {
            eprintln!("xtask: {missing}; the report marks the figures that need it as pending");
        }
    }

    // Results of renamed or removed benchmarks would otherwise reach the
    // report, so criterion starts from an empty directory.
    let criterion_dir = context.target_dir.join("criterion");
    if criterion_dir.exists() {
        fs::remove_dir_all(&criterion_dir).map_err(|source| StepError::Io {
            path: criterion_dir.clone(),
            source,
        })?;
    }

    Cmd::new("cargo")
        .args(["build", "--release", "--bins"])
        .args(["-p", "bp-cli", "-p", "bp-bench"])
        .run()?;
    Cmd::new("cargo")
        .args(["bench", "-p", "bp-bench", "--bench", "peers"])
        .env("CRITERION_HOME", &criterion_dir)
        .run()?;

    let release = context.target_dir.join("release");
    let counts = context.target_dir.join("bp-bench-counts.json");
    Cmd::new(release.join("bp-bench"))
        .arg("counts")
        .arg("--bp")
        .arg(release.join("bp"))
        .arg("--out")
        .arg(&counts)
        .run()?;
    Cmd::new(release.join("bp-bench"))
        .arg("report")
        .arg("--criterion")
        .arg(&criterion_dir)
        .arg("--counts")
        .arg(&counts)
        .args(["--lock", "Cargo.lock", "--markdown", "BENCHMARKS.md"])
        .args(["--plot", "docs/bench-low-water.svg"])
        .args(["--notes", "crates/bp-bench/missed-targets.md"])
        .run()?;
    Ok(())
}

/// Returns the current value of the flags variable `name` with `extra`
/// appended, so flags the caller set are kept.
fn append_flags(name: &str, extra: &str) -> OsString {
    match env::var_os(name) {
        Some(mut flags) if !flags.is_empty() => {
            flags.push(" ");
            flags.push(extra);
            flags
        }
        _ => OsString::from(extra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_are_unique() {
        for (index, step) in STEPS.iter().enumerate() {
            let later = &STEPS[index + 1..];
            assert!(
                later.iter().all(|other| other.name != step.name),
                "step name `{}` appears twice",
                step.name
            );
        }
    }

    #[test]
    fn escape_regex_escapes_mutant_name() {
        let name = "src/a.rs:3:5: replace Gate<P>::f -> &[u8] with Box::leak(x)";

        assert_eq!(
            escape_regex(name),
            r"src/a\.rs:3:5: replace Gate<P>::f -> &\[u8\] with Box::leak\(x\)"
        );
    }

    #[test]
    fn step_options_name_existing_steps() {
        for (step, option, _) in STEP_OPTIONS {
            assert!(
                STEPS.iter().any(|known| known.name == *step),
                "option `{option}` names the unknown step `{step}`"
            );
        }
    }

    #[test]
    fn step_names_are_not_reserved_commands() {
        for step in STEPS {
            assert!(
                !crate::RESERVED_COMMANDS.contains(&step.name),
                "step `{}` would shadow a built-in command",
                step.name
            );
        }
    }
}
