//! Test counts summed over every `cargo test` run of a command.

use std::fmt;

/// Passed, failed and ignored tests, read from libtest's `test result:` lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TestTally {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestTally {
    /// Adds the counts from one line of test output, if it is a libtest
    /// summary such as `test result: ok. 5 passed; 0 failed; 1 ignored; ...`.
    pub fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };

        for field in rest.split(';') {
            let mut words = field.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = number.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }

    /// Returns true if every count is zero.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Renders the plain closing line `N passed, N failed, N skipped`, which CI
/// reads as a test summary whatever the test runner. Ignored tests count as
/// skipped.
impl fmt::Display for TestTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.ignored
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_line_reads_passing_summary() {
        let mut tally = TestTally::default();
        tally.add_line(
            "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s\n",
        );

        assert_eq!(tally.passed, 12);
        assert_eq!(tally.failed, 0);
        assert_eq!(tally.ignored, 2);
    }

    #[test]
    fn add_line_reads_failing_summary() {
        let mut tally = TestTally::default();
        tally.add_line("test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured");

        assert_eq!(tally.passed, 3);
        assert_eq!(tally.failed, 1);
    }

    #[test]
    fn add_line_sums_several_runs() {
        let mut tally = TestTally::default();
        tally.add_line("test result: ok. 2 passed; 0 failed; 0 ignored");
        tally.add_line("test result: ok. 5 passed; 0 failed; 1 ignored");

        assert_eq!(tally.passed, 7);
        assert_eq!(tally.ignored, 1);
    }

    #[test]
    fn add_line_ignores_other_output() {
        let mut tally = TestTally::default();
        tally.add_line("test gate::tests::close_wakes ... ok");
        tally.add_line("running 3 tests");
        tally.add_line("4 passed; 0 failed");

        assert!(tally.is_empty(), "{tally:?}");
    }

    #[test]
    fn display_is_plain_closing_line() {
        let tally = TestTally {
            passed: 40,
            failed: 1,
            ignored: 3,
        };

        assert_eq!(tally.to_string(), "40 passed, 1 failed, 3 skipped");
    }
}
