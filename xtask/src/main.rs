//! Project commands for the bp workspace, run as `cargo xtask <command>`.
//!
//! `cargo xtask ci` is the test command that CI runs. It runs every step in
//! [`steps::STEPS`] marked for CI, installs the rustup toolchains, components
//! and targets those steps need, and prints a timing table at the end.

mod cmd;
mod step;
mod steps;
mod tally;
mod toolchain;

use std::env;
use std::path::{self, Path, PathBuf};
use std::process::ExitCode;

use step::{Context, Report, Step};
use steps::{STEPS, STEP_OPTIONS};

/// Commands that are not steps. A step must not take one of these names.
const RESERVED_COMMANDS: &[&str] = &["ci", "help"];

/// Exit code for a failed step.
const EXIT_FAILED: u8 = 1;
/// Exit code for an invalid command line.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let invocation = match parse_args(&args) {
        Ok(invocation) => invocation,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("Run `cargo xtask --help` to list the commands.");
            return ExitCode::from(EXIT_USAGE);
        }
    };

    let (selected, strict, ci, options) = match invocation {
        Invocation::Help => {
            print!("{}", help_text());
            return ExitCode::SUCCESS;
        }
        Invocation::Ci { strict } => (
            STEPS.iter().filter(|step| step.in_ci).collect(),
            strict,
            true,
            Vec::new(),
        ),
        Invocation::Step {
            step,
            strict,
            options,
        } => (vec![step], strict, false, options),
    };

    let mut context = match enter_workspace() {
        Ok(context) => context,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    context.ci = ci;
    context.options = options;

    // On CI a skipped step would hide a missing install step, so CI=true
    // implies --strict.
    let strict = strict || std::env::var("CI").is_ok_and(|value| value == "true");
    let report = step::run_steps(&selected, &mut context, strict);
    print_report(&report, &context);
    if report.failure.is_some() {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Command requested on the command line.
#[derive(Debug)]
enum Invocation {
    Help,
    Ci {
        strict: bool,
    },
    Step {
        step: &'static Step,
        strict: bool,
        /// Step options and their values, such as `("--seconds", "30")`.
        options: Vec<(&'static str, String)>,
    },
}

/// Parses `<command> [--strict] [<step option> <value>]...`, or `--help`
/// alone.
fn parse_args(args: &[String]) -> Result<Invocation, String> {
    let mut command = None;
    let mut strict = false;
    let mut options = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" | "help" => return Ok(Invocation::Help),
            "--strict" => strict = true,
            option if option.starts_with('-') => {
                let Some(&(_, name, _)) = STEP_OPTIONS.iter().find(|(_, name, _)| *name == option)
                else {
                    return Err(format!("unknown option `{option}`"));
                };
                let value = args
                    .next()
                    .ok_or_else(|| format!("option `{option}` needs a value"))?;
                if !value.parse::<u64>().is_ok_and(|number| number > 0) {
                    return Err(format!(
                        "invalid value `{value}` for `{option}`: expected a positive integer"
                    ));
                }
                options.push((name, value.clone()));
            }
            name if command.is_none() => command = Some(name),
            extra => return Err(format!("unexpected argument `{extra}`; give one command")),
        }
    }

    let Some(command) = command else {
        return Err("missing command".to_owned());
    };
    let applies = |name: &str| {
        STEP_OPTIONS
            .iter()
            .any(|(step, option, _)| *step == command && *option == name)
    };
    if let Some((name, _)) = options.iter().find(|(name, _)| !applies(name)) {
        return Err(format!("option `{name}` does not apply to `{command}`"));
    }

    match command {
        "ci" => Ok(Invocation::Ci { strict }),
        name => STEPS
            .iter()
            .find(|step| step.name == name)
            .map(|step| Invocation::Step {
                step,
                strict,
                options,
            })
            .ok_or_else(|| format!("unknown command `{name}`")),
    }
}

fn help_text() -> String {
    let width = STEPS
        .iter()
        .map(|step| step.name.len())
        .chain(RESERVED_COMMANDS.iter().map(|name| name.len()))
        .max()
        .unwrap_or(0);

    let mut text = String::from(
        "Project commands for the bp workspace.\n\n\
         Usage: cargo xtask <command> [--strict]\n\n\
         Commands:\n",
    );
    text += &format!(
        "  {:<width$}  run every step marked [ci] in order, stop at the first failure, print timings\n",
        "ci"
    );
    for step in STEPS {
        let marker = if step.in_ci { " [ci]" } else { "" };
        text += &format!("  {:<width$}  {}{marker}\n", step.name, step.about);
    }
    text += &format!("  {:<width$}  print this help\n", "help");
    text += "\nOptions:\n\
             \x20 --strict    fail a step whose toolchain, component or target is missing and\n\
             \x20             cannot be installed (by default such a step is reported as SKIPPED)\n\
             \x20 -h, --help  print this help\n";
    for (step, option, about) in STEP_OPTIONS {
        text += &format!("  {option} <value>  ({step} only) {about}\n");
    }
    text
}

/// Changes to the workspace root, so every cargo command applies to the whole
/// workspace, and returns the context for the steps.
fn enter_workspace() -> Result<Context, String> {
    // Resolve a relative CARGO_TARGET_DIR against the directory cargo was
    // started from, before leaving it.
    let target_dir = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => Some(
            path::absolute(&dir)
                .map_err(|error| format!("invalid CARGO_TARGET_DIR {dir:?}: {error}"))?,
        ),
        _ => None,
    };

    let root = workspace_root();
    env::set_current_dir(&root).map_err(|error| {
        format!(
            "could not enter the workspace root {}: {error}",
            root.display()
        )
    })?;
    eprintln!("xtask: workspace {}", root.display());

    Ok(Context {
        target_dir: target_dir.unwrap_or_else(|| root.join("target")),
        tally: Default::default(),
        ci: false,
        options: Vec::new(),
    })
}

/// Returns the workspace root, the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR at run time as well; the value from
    // build time serves when the binary is started directly.
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Prints the timing table, skip reasons and the failure, then the test
/// counts as the closing line of a passing run.
fn print_report(report: &Report, context: &Context) {
    println!();
    println!("==> summary");
    print!("{}", step::summary_table(report));

    for (name, missing) in &report.skips {
        eprintln!("warning: step `{name}` was skipped: {missing}");
    }
    if !context.tally.is_empty() {
        println!("tests: {}", context.tally);
    }
    if let Some((name, error)) = &report.failure {
        eprintln!("error: step `{name}` failed: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation, String> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        parse_args(&args)
    }

    #[test]
    fn parse_args_reads_ci_with_strict() {
        let invocation = parse(&["ci", "--strict"]).unwrap();

        assert!(
            matches!(invocation, Invocation::Ci { strict: true }),
            "{invocation:?}"
        );
    }

    #[test]
    fn parse_args_finds_step_by_name() {
        let invocation = parse(&["miri"]).unwrap();

        match invocation {
            Invocation::Step {
                step,
                strict,
                options,
            } => {
                assert_eq!(step.name, "miri");
                assert!(!strict);
                assert!(options.is_empty());
            }
            other => panic!("expected the miri step, got {other:?}"),
        }
    }

    #[test]
    fn parse_args_reads_step_option() {
        let invocation = parse(&["fuzz", "--seconds", "5"]).unwrap();

        match invocation {
            Invocation::Step { step, options, .. } => {
                assert_eq!(step.name, "fuzz");
                assert_eq!(options, [("--seconds", "5".to_owned())]);
            }
            other => panic!("expected the fuzz step, got {other:?}"),
        }
    }

    #[test]
    fn parse_args_rejects_misplaced_step_option() {
        assert_eq!(
            parse(&["ci", "--seconds", "5"]).unwrap_err(),
            "option `--seconds` does not apply to `ci`"
        );
        assert_eq!(
            parse(&["fuzz", "--seconds"]).unwrap_err(),
            "option `--seconds` needs a value"
        );
        assert_eq!(
            parse(&["fuzz", "--seconds", "0"]).unwrap_err(),
            "invalid value `0` for `--seconds`: expected a positive integer"
        );
    }

    #[test]
    fn parse_args_help_wins_over_command() {
        assert!(matches!(parse(&["ci", "--help"]), Ok(Invocation::Help)));
        assert!(matches!(parse(&["-h"]), Ok(Invocation::Help)));
    }

    #[test]
    fn parse_args_rejects_bad_input() {
        assert_eq!(parse(&[]).unwrap_err(), "missing command");
        assert_eq!(parse(&["deploy"]).unwrap_err(), "unknown command `deploy`");
        assert_eq!(
            parse(&["ci", "--fast"]).unwrap_err(),
            "unknown option `--fast`"
        );
        assert!(parse(&["fmt", "doc"])
            .unwrap_err()
            .contains("unexpected argument `doc`"));
    }

    #[test]
    fn help_text_lists_every_command() {
        let help = help_text();

        for name in STEPS
            .iter()
            .map(|step| step.name)
            .chain(RESERVED_COMMANDS.iter().copied())
        {
            assert!(
                help.lines().any(|line| line.trim_start().starts_with(name)),
                "help does not list `{name}`:\n{help}"
            );
        }
    }
}
