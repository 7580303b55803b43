//! `BENCHMARKS.md` and its plot, written from criterion's medians and the
//! counted figures of one `cargo xtask bench` run.

pub mod criterion;
pub mod machine;
pub mod plot;
mod sections;
pub mod table;
pub mod targets;

use crate::counts::Counts;
use criterion::Results;
use machine::Environment;

/// Load average above which the report warns that other processes may have
/// disturbed the timings.
pub const BUSY_LOAD: f64 = 1.5;

/// Inputs of a report.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// criterion's results of the run.
    pub results: &'a Results,
    /// The counted figures, or why they are missing.
    pub counts: Result<&'a Counts, &'a str>,
    /// Machine, toolchain and versions.
    pub environment: &'a Environment,
    /// The command that produced the report.
    pub command: &'a str,
    /// Link to the plot, relative to the report.
    pub plot_link: &'a str,
    /// Notes on missed targets, in Markdown, appended as they are.
    pub notes: Option<&'a str>,
}

/// Renders `BENCHMARKS.md`.
pub fn render(inputs: &Inputs<'_>) -> String {
    let mut text = String::from("# Benchmarks\n\n");
    text += &format!(
        "bp against the channels people use today, measured in one run of `{}`. \
         Timed figures are criterion medians; every ratio compares figures from \
         the same run. This file and the plot are generated: edit \
         `crates/bp-bench` instead.\n\n",
        inputs.command
    );
    text += &sections::machine(inputs);
    text += &sections::targets(inputs);
    text += &format!(
        "## Low water mark\n\n![Throughput and futex calls per chunk against the low water \
         mark]({})\n\n",
        inputs.plot_link
    );
    text += &sections::gate(inputs.results);
    text += &sections::handoff(inputs.results);
    text += &sections::backpressured(inputs.results);
    text += &sections::pipeline(inputs.results);
    text += &sections::counted(inputs);
    if let Some(notes) = inputs.notes {
        text += "## Notes on missed targets\n\n";
        text += notes.trim();
        text += "\n";
    }
    text
}

/// Formats a ratio such as `1.23×`.
fn ratio(value: f64) -> String {
    format!("{value:.3}×")
}

/// Formats a count per second with a metric prefix, such as `12.3 M`.
fn per_second(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.1} k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Returns the median of `values`, or `None` if there are none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn per_second_uses_metric_prefixes() {
        assert_eq!(per_second(12_345_678.0), "12.35 M");
        assert_eq!(per_second(45_600.0), "45.6 k");
        assert_eq!(per_second(12.0), "12");
    }
}
