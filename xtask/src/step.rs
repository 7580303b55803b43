//! Named steps, the runner that times them, and the closing summary table.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cmd::CmdError;
use crate::tally::TestTally;
use crate::toolchain::Missing;

/// One named check. A command of the same name runs it alone, and
/// `cargo xtask ci` runs every step with `in_ci` set, in list order.
#[derive(Debug)]
pub struct Step {
    /// Command name, for example `clippy`.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Whether `cargo xtask ci` runs this step.
    pub in_ci: bool,
    pub run: fn(&mut Context) -> Result<(), StepError>,
}

/// Shared state of the steps: where they build and what they counted.
pub struct Context {
    /// Cargo's target directory for ordinary builds. Steps that change
    /// compiler flags build in a subdirectory of it, so they do not
    /// invalidate the ordinary build.
    pub target_dir: PathBuf,
    /// Tests counted from the `test result:` lines of every test run.
    pub tally: TestTally,
    /// Whether the steps run as part of `cargo xtask ci`, where long steps
    /// take their short form.
    pub ci: bool,
    /// Options given on the command line for the selected step, by name, in
    /// the order given; see [`STEP_OPTIONS`](crate::steps::STEP_OPTIONS).
    pub options: Vec<(&'static str, String)>,
}

impl Context {
    /// Returns the last value given for the step option `name`, if any.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(option, _)| *option == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Failure of a step.
#[derive(Debug)]
pub enum StepError {
    /// A command of the step failed.
    Command(CmdError),
    /// A tool the step needs is missing and could not be installed. The
    /// runner reports the step as skipped unless it runs in strict mode.
    Unavailable(Missing),
    /// A file or directory of the workspace could not be read or created.
    Io { path: PathBuf, source: io::Error },
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Command(error) => error.fmt(f),
            Self::Unavailable(missing) => missing.fmt(f),
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Command(error) => Some(error),
            Self::Unavailable(missing) => Some(missing),
            Self::Io { source, .. } => Some(source),
        }
    }
}

impl From<CmdError> for StepError {
    fn from(error: CmdError) -> Self {
        Self::Command(error)
    }
}

impl From<Missing> for StepError {
    fn from(missing: Missing) -> Self {
        Self::Unavailable(missing)
    }
}

/// End state of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    /// A tool could not be installed, so the step did not run its checks.
    Skipped,
    Failed,
    /// An earlier step failed, so this one never started.
    NotRun,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Skipped => "SKIPPED",
            Self::Failed => "FAILED",
            Self::NotRun => "not run",
        }
    }
}

/// The result of one step, for the summary table.
pub struct Record {
    pub name: &'static str,
    pub status: Status,
    pub duration: Duration,
}

/// The outcome of running a list of steps.
pub struct Report {
    pub records: Vec<Record>,
    /// The failed step and its error, if any step failed.
    pub failure: Option<(&'static str, StepError)>,
    /// Reasons for skipped steps, by step name.
    pub skips: Vec<(&'static str, Missing)>,
    pub total: Duration,
}

/// Runs `steps` in order and stops at the first failure. In strict mode a
/// missing tool fails its step, otherwise it skips it.
pub fn run_steps(steps: &[&Step], context: &mut Context, strict: bool) -> Report {
    let started = Instant::now();
    let mut report = Report {
        records: Vec::new(),
        failure: None,
        skips: Vec::new(),
        total: Duration::ZERO,
    };

    for (index, step) in steps.iter().enumerate() {
        if report.failure.is_some() {
            report.records.push(Record {
                name: step.name,
                status: Status::NotRun,
                duration: Duration::ZERO,
            });
            continue;
        }

        eprintln!();
        eprintln!(
            "==> [{}/{}] {}: {}",
            index + 1,
            steps.len(),
            step.name,
            step.about
        );
        let step_started = Instant::now();
        let result = (step.run)(context);
        let duration = step_started.elapsed();

        let status = match result {
            Ok(()) => Status::Passed,
            Err(StepError::Unavailable(missing)) if !strict => {
                eprintln!("==> {} SKIPPED: {missing}", step.name);
                report.skips.push((step.name, missing));
                Status::Skipped
            }
            Err(error) => {
                report.failure = Some((step.name, error));
                Status::Failed
            }
        };
        eprintln!(
            "==> {} {} in {}",
            step.name,
            status.label(),
            format_duration(duration)
        );
        report.records.push(Record {
            name: step.name,
            status,
            duration,
        });
    }

    report.total = started.elapsed();
    report
}

/// Renders the step table with a total row.
pub fn summary_table(report: &Report) -> String {
    let width = report
        .records
        .iter()
        .map(|record| record.name.len())
        .chain(["step".len(), "total".len()])
        .max()
        .unwrap_or(0);

    let mut table = format!("{:<width$}  {:<8} {:>10}\n", "step", "result", "time");
    for record in &report.records {
        let time = match record.status {
            Status::NotRun => "-".to_owned(),
            _ => format_duration(record.duration),
        };
        table += &format!(
            "{:<width$}  {:<8} {:>10}\n",
            record.name,
            record.status.label(),
            time
        );
    }
    table += &format!(
        "{:<width$}  {:<8} {:>10}\n",
        "total",
        "",
        format_duration(report.total)
    );
    table
}

/// Formats a duration as `12.3s` or, from one minute on, as `4m 05s`.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = duration.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            target_dir: PathBuf::from("target"),
            tally: TestTally::default(),
            ci: false,
            options: Vec::new(),
        }
    }

    fn pass(_: &mut Context) -> Result<(), StepError> {
        Ok(())
    }

    fn fail(_: &mut Context) -> Result<(), StepError> {
        Err(crate::cmd::Cmd::new("false").run().unwrap_err().into())
    }

    fn missing_tool(_: &mut Context) -> Result<(), StepError> {
        Err(Missing {
            what: "target example".to_owned(),
            reason: "offline".to_owned(),
        }
        .into())
    }

    const PASS: Step = Step {
        name: "pass",
        about: "passes",
        in_ci: true,
        run: pass,
    };
    const FAIL: Step = Step {
        name: "fail",
        about: "fails",
        in_ci: true,
        run: fail,
    };
    const MISSING: Step = Step {
        name: "missing",
        about: "needs a tool that cannot be installed",
        in_ci: true,
        run: missing_tool,
    };

    fn statuses(report: &Report) -> Vec<Status> {
        report.records.iter().map(|record| record.status).collect()
    }

    #[test]
    fn run_steps_stops_at_first_failure() {
        let report = run_steps(&[&PASS, &FAIL, &PASS], &mut context(), false);

        assert_eq!(
            statuses(&report),
            [Status::Passed, Status::Failed, Status::NotRun]
        );
        assert_eq!(report.failure.as_ref().map(|(name, _)| *name), Some("fail"));
    }

    #[test]
    fn run_steps_skips_step_with_missing_tool() {
        let report = run_steps(&[&MISSING, &PASS], &mut context(), false);

        assert_eq!(statuses(&report), [Status::Skipped, Status::Passed]);
        assert!(report.failure.is_none());
        assert_eq!(report.skips.len(), 1);
    }

    #[test]
    fn run_steps_strict_fails_step_with_missing_tool() {
        let report = run_steps(&[&MISSING, &PASS], &mut context(), true);

        assert_eq!(statuses(&report), [Status::Failed, Status::NotRun]);
        assert!(matches!(
            report.failure,
            Some(("missing", StepError::Unavailable(_)))
        ));
    }

    #[test]
    fn summary_table_lists_every_step_and_total() {
        let report = Report {
            records: vec![
                Record {
                    name: "fmt",
                    status: Status::Passed,
                    duration: Duration::from_millis(1_240),
                },
                Record {
                    name: "clippy",
                    status: Status::Failed,
                    duration: Duration::from_secs(75),
                },
                Record {
                    name: "doc",
                    status: Status::NotRun,
                    duration: Duration::ZERO,
                },
            ],
            failure: None,
            skips: Vec::new(),
            total: Duration::from_secs(77),
        };

        let expected = "\
step    result         time
fmt     passed         1.2s
clippy  FAILED       1m 15s
doc     not run           -
total                1m 17s
";
        assert_eq!(summary_table(&report), expected);
    }

    #[test]
    fn format_duration_switches_to_minutes() {
        assert_eq!(format_duration(Duration::from_millis(59_940)), "59.9s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m 00s");
        assert_eq!(format_duration(Duration::from_secs(3_725)), "62m 05s");
    }
}
