//! Installing the rustup toolchains, components and targets, and the Debian
//! packages, that steps need.
//!
//! Each `ensure_*` function checks first and calls rustup or apt-get only for
//! what is missing, so a provisioned machine makes no network requests.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::cmd::{Cmd, CmdError};

/// The toolchain used by the Miri step and other nightly-only steps.
pub const NIGHTLY: &str = "nightly";

/// Time limit for one rustup or apt-get install. A minimal nightly toolchain
/// is a few hundred MB, so this allows a slow connection but not a hung one.
const INSTALL_LIMIT: Duration = Duration::from_secs(10 * 60);

/// Seconds an apt-get call waits for the dpkg lock held by another package
/// manager before it fails.
const APT_LOCK_WAIT_SECS: u64 = 120;

/// A tool that was missing and could not be installed.
#[derive(Debug)]
pub struct Missing {
    /// Missing tool, for example "target thumbv6m-none-eabi".
    pub what: String,
    /// Error message from the failed install.
    pub reason: String,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is missing and could not be installed: {}",
            self.what, self.reason
        )
    }
}

impl std::error::Error for Missing {}

/// Makes sure a component of the default toolchain works, probing it with
/// `cargo <probe> --version` (for example `cargo fmt --version`).
pub fn ensure_component(component: &str, probe: &str) -> Result<(), Missing> {
    let works = || Cmd::new("cargo").args([probe, "--version"]).succeeds();
    let install = Cmd::new("rustup").args(["component", "add", component]);
    ensure(&format!("component {component}"), works, install)
}

/// Makes sure the standard library of every target in `targets` is installed
/// for the default toolchain.
pub fn ensure_targets(targets: &[&str]) -> Result<(), Missing> {
    let sysroot = sysroot(None)?;
    let installed = |target: &str| sysroot.join("lib/rustlib").join(target).is_dir();

    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|target| !installed(target))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }

    let what = format!("target {}", missing.join(", "));
    let install = Cmd::new("rustup").args(["target", "add"]).args(&missing);
    ensure(&what, || missing.iter().all(|t| installed(t)), install)
}

/// Makes sure the nightly toolchain is installed.
pub fn ensure_nightly() -> Result<(), Missing> {
    let works = || {
        Cmd::new("cargo")
            .arg(format!("+{NIGHTLY}"))
            .arg("--version")
            .succeeds()
    };
    let install =
        Cmd::new("rustup").args(["toolchain", "install", NIGHTLY, "--profile", "minimal"]);
    ensure("the nightly toolchain", works, install)
}

/// Makes sure Miri and the standard library source it builds from are
/// installed for the nightly toolchain.
pub fn ensure_miri() -> Result<(), Missing> {
    ensure_nightly()?;

    let miri_works = || {
        Cmd::new("cargo")
            .arg(format!("+{NIGHTLY}"))
            .args(["miri", "--version"])
            .succeeds()
    };
    let install_miri =
        Cmd::new("rustup").args(["component", "add", "--toolchain", NIGHTLY, "miri"]);
    ensure("component miri (nightly)", miri_works, install_miri)?;

    ensure_nightly_src()
}

/// Makes sure `program` runs, installing the Debian package `package` and its
/// dependencies, without recommended packages, when it does not. A failed
/// install is retried once after `apt-get update`, because a stale package
/// index is the usual cause. Each apt-get call waits up to
/// `APT_LOCK_WAIT_SECS` for another package manager to release the dpkg lock.
///
/// NOTE: `-y` also accepts removals that the dependencies force. On Debian 12
/// with qemu-utils from bookworm-backports, installing qemu-system-arm
/// removes that qemu-utils, which breaks bookworm's qemu-system-common.
pub fn ensure_debian_package(package: &str, program: &str) -> Result<(), Missing> {
    let works = || Cmd::new(program).arg("--version").succeeds();
    let apt_get = format!("apt-get -o DPkg::Lock::Timeout={APT_LOCK_WAIT_SECS}");
    let options = "-y --no-install-recommends";
    let script = format!(
        "{apt_get} install {options} {package} || \
         {{ {apt_get} update && {apt_get} install {options} {package}; }}"
    );
    let install = Cmd::new("sh")
        .args(["-c", &script])
        .env("DEBIAN_FRONTEND", "noninteractive");
    ensure(&format!("Debian package {package}"), works, install)
}

/// Makes sure the nightly toolchain and its standard library source are
/// installed, for `-Zbuild-std` builds.
pub fn ensure_nightly_src() -> Result<(), Missing> {
    ensure_nightly()?;

    let library = sysroot(Some(NIGHTLY))?.join("lib/rustlib/src/rust/library");
    let install_src =
        Cmd::new("rustup").args(["component", "add", "--toolchain", NIGHTLY, "rust-src"]);
    ensure(
        "component rust-src (nightly)",
        || library.is_dir(),
        install_src,
    )
}

/// Makes sure the cargo subcommand `cargo <subcommand>` works, installing
/// the crate `package` with `cargo install --locked` when it does not.
pub fn ensure_cargo_tool(package: &str, subcommand: &str) -> Result<(), Missing> {
    let works = || Cmd::new("cargo").args([subcommand, "--version"]).succeeds();
    let install = Cmd::new("cargo").args(["install", package, "--locked"]);
    ensure(
        &format!("cargo subcommand {subcommand} ({package})"),
        works,
        install,
    )
}

/// Checks with `is_present`, runs `install` if that fails, and checks again.
fn ensure(what: &str, is_present: impl Fn() -> bool, install: Cmd) -> Result<(), Missing> {
    if is_present() {
        return Ok(());
    }

    eprintln!("xtask: {what} is missing; installing it");
    let missing = |reason: String| Missing {
        what: what.to_owned(),
        reason,
    };
    install
        .run_with_limit(INSTALL_LIMIT)
        .map_err(|error| missing(error.to_string()))?;

    if is_present() {
        Ok(())
    } else {
        Err(missing(format!(
            "`{install}` succeeded but {what} is still not usable"
        )))
    }
}

/// Returns the sysroot of `toolchain`, or of the default toolchain for `None`.
fn sysroot(toolchain: Option<&str>) -> Result<PathBuf, Missing> {
    let mut rustc = Cmd::new("rustc");
    if let Some(toolchain) = toolchain {
        rustc = rustc.arg(format!("+{toolchain}"));
    }
    let rustc = rustc.args(["--print", "sysroot"]);

    rustc
        .read_stdout()
        .map(PathBuf::from)
        .map_err(|error: CmdError| Missing {
            what: format!("the {} toolchain", toolchain.unwrap_or("default")),
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_skips_install_when_present() {
        // `false` as the installer would fail if it ran.
        assert!(ensure("tool", || true, Cmd::new("false")).is_ok());
    }

    #[test]
    fn ensure_reports_failed_install() {
        let missing = ensure("target example", || false, Cmd::new("false")).unwrap_err();

        assert_eq!(missing.what, "target example");
        assert!(missing.reason.contains("`false` failed"), "{missing}");
    }

    #[test]
    fn ensure_reports_tool_still_missing_after_install() {
        let missing = ensure("component example", || false, Cmd::new("true")).unwrap_err();

        assert!(missing.reason.contains("still not usable"), "{missing}");
    }

    #[test]
    fn default_toolchain_has_sysroot() {
        let sysroot = sysroot(None).unwrap();

        assert!(
            sysroot.join("lib/rustlib").is_dir(),
            "{}",
            sysroot.display()
        );
    }
}
