//! Child processes: echoing, running with the terminal as their output, and
//! counting test results on the way through.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::tally::TestTally;

/// How often a command with a time limit is polled for exit.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A command line with its environment changes, run from the current directory.
///
/// Children get no standard input, because CI has none and a prompt would hang.
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

/// Failure of a command.
#[derive(Debug)]
pub enum CmdError {
    /// The program could not be started.
    Spawn { command: String, source: io::Error },
    /// The program ran and exited unsuccessfully.
    Failed { command: String, status: ExitStatus },
    /// The program ran past its time limit and was killed.
    TimedOut { command: String, limit: Duration },
    /// Reading or forwarding the program's output failed.
    Output { command: String, source: io::Error },
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Spawn { command, source } => {
                write!(f, "could not start `{command}`: {source}")
            }
            Self::Failed { command, status } => write!(f, "`{command}` failed ({status})"),
            Self::TimedOut { command, limit } => write!(
                f,
                "`{command}` timed out after {} s and was killed",
                limit.as_secs()
            ),
            Self::Output { command, source } => {
                write!(f, "could not forward the output of `{command}`: {source}")
            }
        }
    }
}

impl std::error::Error for CmdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn { source, .. } | Self::Output { source, .. } => Some(source),
            Self::Failed { .. } | Self::TimedOut { .. } => None,
        }
    }
}

impl Cmd {
    /// Starts a command line for `program`.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Self {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the command with inherited output after echoing it, and waits.
    pub fn run(&self) -> Result<(), CmdError> {
        self.echo();
        let mut child = self.spawn(Stdio::inherit(), Stdio::inherit())?;
        let status = child.wait().map_err(|source| self.spawn_error(source))?;
        self.check(status)
    }

    /// Runs the command like [`Cmd::run`], but kills it after `limit`.
    ///
    /// Used for downloads, which can hang on a network that drops packets.
    pub fn run_with_limit(&self, limit: Duration) -> Result<(), CmdError> {
        self.echo();
        let mut child = self.spawn(Stdio::inherit(), Stdio::inherit())?;
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().map_err(|e| self.spawn_error(e))? {
                return self.check(status);
            }
            if Instant::now() >= deadline {
                // The kill can fail only if the child exited meanwhile; the
                // wait below then reaps it either way.
                let _ = child.kill();
                let _ = child.wait();
                return Err(CmdError::TimedOut {
                    command: self.to_string(),
                    limit,
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Runs a test command, forwarding its standard output line by line to
    /// ours and adding each `test result:` line to `tally`.
    ///
    /// Standard error stays attached to the terminal, so cargo's progress
    /// display still works.
    pub fn run_tests(&self, tally: &mut TestTally) -> Result<(), CmdError> {
        self.run_tests_into(&mut io::stdout().lock(), tally)
    }

    /// Runs a test command like [`Cmd::run_tests`], forwarding its standard
    /// output to `out`.
    fn run_tests_into(&self, out: &mut dyn Write, tally: &mut TestTally) -> Result<(), CmdError> {
        self.echo();
        let mut child = self.spawn(Stdio::piped(), Stdio::inherit())?;
        let forwarded = self.forward_stdout(&mut child, out, tally);

        // Wait even when forwarding failed, so the child is reaped.
        let status = child.wait().map_err(|source| self.spawn_error(source))?;
        forwarded?;
        self.check(status)
    }

    /// Runs the command silently and reports whether it succeeded.
    pub fn succeeds(&self) -> bool {
        self.spawn(Stdio::null(), Stdio::null())
            .and_then(|mut child| child.wait().map_err(|e| self.spawn_error(e)))
            .is_ok_and(|status| status.success())
    }

    /// Runs the command silently and returns its standard output, trimmed.
    pub fn read_stdout(&self) -> Result<String, CmdError> {
        let output = self
            .command()
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|source| self.spawn_error(source))?;
        self.check(output.status)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command.envs(self.envs.iter().map(|(key, value)| (key, value)));
        command
    }

    fn spawn(&self, stdout: Stdio, stderr: Stdio) -> Result<Child, CmdError> {
        self.command()
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|source| self.spawn_error(source))
    }

    fn forward_stdout(
        &self,
        child: &mut Child,
        out: &mut dyn Write,
        tally: &mut TestTally,
    ) -> Result<(), CmdError> {
        let output_error = |source| CmdError::Output {
            command: self.to_string(),
            source,
        };
        let Some(stdout) = child.stdout.take() else {
            return Ok(());
        };

        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(output_error)? == 0 {
                return Ok(());
            }
            out.write_all(&line).map_err(output_error)?;
            out.flush().map_err(output_error)?;
            tally.add_line(&String::from_utf8_lossy(&line));
        }
    }

    fn echo(&self) {
        eprintln!("$ {self}");
    }

    fn check(&self, status: ExitStatus) -> Result<(), CmdError> {
        if status.success() {
            Ok(())
        } else {
            Err(CmdError::Failed {
                command: self.to_string(),
                status,
            })
        }
    }

    fn spawn_error(&self, source: io::Error) -> CmdError {
        CmdError::Spawn {
            command: self.to_string(),
            source,
        }
    }
}

/// Renders the command as a shell line, environment first, quoting words
/// that contain spaces or are empty.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{}={} ", key.to_string_lossy(), quote(value))?;
        }
        write!(f, "{}", quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    if word.is_empty() || word.contains(|c: char| c.is_whitespace() || c == '"') {
        format!("{word:?}")
    } else {
        word.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_env_first_and_quotes_spaces() {
        let cmd = Cmd::new("cargo")
            .args(["test", "-p", "loom-tests"])
            .env("RUSTFLAGS", "--cfg loom");

        assert_eq!(
            cmd.to_string(),
            r#"RUSTFLAGS="--cfg loom" cargo test -p loom-tests"#
        );
    }

    #[test]
    fn display_quotes_empty_argument() {
        let cmd = Cmd::new("echo").arg("");

        assert_eq!(cmd.to_string(), r#"echo """#);
    }

    #[test]
    fn run_reports_exit_status_of_failed_command() {
        let error = Cmd::new("false").run().unwrap_err();

        assert!(matches!(error, CmdError::Failed { .. }), "{error:?}");
        assert!(error.to_string().contains("`false` failed"), "{error}");
    }

    #[test]
    fn run_reports_missing_program() {
        let error = Cmd::new("xtask-no-such-program").run().unwrap_err();

        assert!(matches!(error, CmdError::Spawn { .. }), "{error:?}");
    }

    #[test]
    fn run_with_limit_kills_command_past_limit() {
        let error = Cmd::new("sleep")
            .arg("30")
            .run_with_limit(Duration::ZERO)
            .unwrap_err();

        assert!(matches!(error, CmdError::TimedOut { .. }), "{error:?}");
    }

    #[test]
    fn run_tests_counts_forwarded_result_lines() {
        let line = "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured\n";
        let mut tally = TestTally::default();
        let mut forwarded = Vec::new();

        // Forward into a buffer: the real standard output is not captured by
        // the test harness and is read by CI for its own test counts.
        Cmd::new("printf")
            .args(["%s", line])
            .run_tests_into(&mut forwarded, &mut tally)
            .unwrap();

        assert_eq!(String::from_utf8(forwarded).unwrap(), line);
        assert_eq!(tally.passed, 3);
        assert_eq!(tally.ignored, 1);
    }

    #[test]
    fn read_stdout_trims_output() {
        let text = Cmd::new("printf").arg("  value\\n").read_stdout().unwrap();

        assert_eq!(text, "value");
    }

    #[test]
    fn succeeds_reflects_exit_status() {
        assert!(Cmd::new("true").succeeds());
        assert!(!Cmd::new("false").succeeds());
    }
}
