//! The project's checks. To add one, write a `fn(&mut Context) -> Result<(),
//! StepError>` below and add a [`Step`] to [`STEPS`]; it then gets its own
//! command and, with `in_ci: true`, runs in `cargo xtask ci`.

use std::env;
use std::ffi::OsString;

use crate::cmd::Cmd;
use crate::step::{Context, Step, StepError};
use crate::toolchain::{self, NIGHTLY};

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
        name: "doc",
        about: "build the workspace docs with rustdoc warnings denied",
        in_ci: true,
        run: doc,
    },
];

/// Bare-metal targets that bp-core must build for, with the features each
/// needs. Targets without compare-and-swap need `critical-section`; a library
/// build needs no critical-section implementation, only a final link does.
const NOSTD_BUILDS: &[(&str, &[&str])] = &[
    ("thumbv7em-none-eabihf", &[]),
    ("thumbv6m-none-eabi", &["critical-section"]),
    ("riscv32imc-unknown-none-elf", &["critical-section"]),
];

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

fn doc(_: &mut Context) -> Result<(), StepError> {
    Cmd::new("cargo")
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", append_flags("RUSTDOCFLAGS", "-D warnings"))
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
