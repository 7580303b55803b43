//! The figures that are counted rather than timed, as the `bp-bench counts`
//! command records them in JSON for `bp-bench report`.
//!
//! A part that could not be measured (a missing tool or binary) is stored as
//! `Err` with the reason, which the report shows.

use serde::{Deserialize, Serialize};

use bp_std::ring::RingStats;

use crate::latency::WakeLatency;

/// Everything one `bp-bench counts` run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counts {
    /// `/proc/loadavg` (1, 5 and 15 minutes) when the run started.
    pub load_average: Vec<f64>,
    /// Spin iterations calibrated for each backpressured load.
    pub spins: Vec<SpinRecord>,
    /// Backpressured runs timed by CPU time, several per configuration.
    pub cpu_runs: Vec<CpuRun>,
    /// Futex calls counted by bp against those strace saw, for one run.
    pub futex_check: Result<FutexCheck, String>,
    /// Heap allocations in steady state, per scenario and peer.
    pub allocations: Result<Vec<AllocRecord>, String>,
    /// Peak resident memory of `bp gzip` against input size.
    pub rss: Result<Vec<RssRecord>, String>,
    /// `bp gzip` against `pigz` on the same file.
    pub gzip: Result<GzipComparison, String>,
    /// Wake-up latency of a sleeping thread, for each length of sleep.
    #[serde(default)]
    pub wake_latency: Vec<WakeLatency>,
}

/// The spin calibrated for one backpressured load.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpinRecord {
    /// Target time per chunk in microseconds.
    pub micros: u64,
    /// Loop iterations that took that long when calibrated.
    pub iterations: u64,
}

/// One backpressured run measured by CPU time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CpuRun {
    /// Target work per chunk in microseconds.
    pub micros: u64,
    /// Worker threads.
    pub workers: usize,
    /// Peer name, as in the benchmark ids (`bp_low16`, `crossbeam`, ...).
    pub peer: String,
    /// Chunks handed over.
    pub chunks: u64,
    /// User plus system CPU time of the whole process during the run, in
    /// nanoseconds.
    pub cpu_ns: u64,
    /// Wall-clock time of the run in nanoseconds.
    pub wall_ns: u64,
    /// bp's futex calls, from the ring's counters.
    pub futex: Option<FutexRecord>,
}

impl CpuRun {
    /// Returns chunks per second of CPU time.
    pub fn chunks_per_cpu_second(&self) -> f64 {
        self.chunks as f64 / (self.cpu_ns as f64 * 1e-9)
    }
}

/// bp's futex calls during one run, from its ring's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FutexRecord {
    /// Times the producer registered to park at the high water mark; each
    /// registration makes one `FUTEX_WAIT` call or more.
    pub producer_parks: u64,
    /// `FUTEX_WAKE` calls that woke the producer.
    pub producer_wakes: u64,
    /// Times a worker registered to park on an empty ring.
    pub worker_parks: u64,
    /// `FUTEX_WAKE` calls that woke workers.
    pub worker_wakes: u64,
}

impl FutexRecord {
    /// Reads the counters of a ring.
    pub fn from_stats(stats: &RingStats) -> Self {
        Self {
            producer_parks: stats.gate.parks as u64,
            producer_wakes: stats.gate.wake_calls as u64,
            worker_parks: stats.worker_parks as u64,
            worker_wakes: stats.worker_wake_calls as u64,
        }
    }

    /// Returns the futex calls counted: parks and wakes of both sides. A
    /// park that the kernel returns from spuriously makes more than one
    /// call, so this is a lower bound; the strace check measures the gap.
    pub fn total(&self) -> u64 {
        self.producer_parks + self.producer_wakes + self.worker_parks + self.worker_wakes
    }
}

/// One run of the futex probe under `strace -f -c -e trace=futex`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FutexCheck {
    /// Target work per chunk in microseconds.
    pub micros: u64,
    /// Worker threads.
    pub workers: usize,
    /// Low water mark.
    pub low: u32,
    /// Chunks handed over.
    pub chunks: u64,
    /// Futex calls by bp's counters in the traced run.
    pub counted: FutexRecord,
    /// Futex calls strace saw in the whole process, thread start and join
    /// included.
    pub traced: u64,
    /// Of those, calls that returned an error, mostly `EAGAIN` from a
    /// `FUTEX_WAIT` whose word changed before the thread slept. `None` in
    /// records made before this field existed.
    #[serde(default)]
    pub traced_errors: Option<u64>,
}

/// Heap allocations of one scenario in steady state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AllocRecord {
    /// Scenario name: `handoff`, `backpressured_1us` or `pipeline_file`.
    pub scenario: String,
    /// Peer name.
    pub peer: String,
    /// Worker threads.
    pub workers: usize,
    /// Chunks by which the longer run exceeded the shorter one.
    pub extra_chunks: u64,
    /// Allocations by which the longer run exceeded the shorter one.
    pub extra_allocations: u64,
}

impl AllocRecord {
    /// Returns heap allocations per chunk in steady state.
    pub fn per_chunk(&self) -> f64 {
        self.extra_allocations as f64 / self.extra_chunks as f64
    }
}

/// Peak resident memory of one `bp gzip` run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RssRecord {
    /// Input size in bytes.
    pub input_bytes: u64,
    /// Peak resident set size of the process in KiB.
    pub max_rss_kib: u64,
    /// Wall-clock time in seconds.
    pub seconds: f64,
}

/// `bp gzip` against `pigz` at the same level and thread count.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GzipComparison {
    /// Input size in bytes.
    pub input_bytes: u64,
    /// Compression level of both.
    pub level: u32,
    /// Compression threads of both.
    pub threads: usize,
    /// `pigz --version` output.
    pub pigz_version: String,
    /// Runs of `bp gzip`, in order.
    pub bp: Vec<GzipRun>,
    /// Runs of `pigz`, interleaved with those of bp.
    pub pigz: Vec<GzipRun>,
}

/// One compression run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GzipRun {
    /// Wall-clock time in seconds.
    pub seconds: f64,
    /// Compressed size in bytes.
    pub output_bytes: u64,
}

/// Returns the futex calls and the failed ones among them from the summary
/// that `strace -c` writes, or `None` if it lists no futex row.
///
/// The summary's rows are `% time, seconds, usecs/call, calls, [errors,]
/// syscall`. strace 5 and 6 leave the errors column empty when no call
/// failed.
pub fn parse_strace_futex_calls(summary: &str) -> Option<(u64, u64)> {
    summary.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.last() != Some(&"futex") || fields.len() < 5 {
            return None;
        }
        let calls = fields[3].parse().ok()?;
        let errors = if fields.len() >= 6 {
            fields[4].parse().ok()?
        } else {
            0
        };
        Some((calls, errors))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_strace_reads_calls_with_errors_column() {
        let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.004152           5       812        41 futex
------ ----------- ----------- --------- --------- ----------------
100.00    0.004152           5       812        41 total
";
        assert_eq!(parse_strace_futex_calls(summary), Some((812, 41)));
    }

    #[test]
    fn parse_strace_reads_calls_without_errors() {
        let summary = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000020          10         2           futex
";
        assert_eq!(parse_strace_futex_calls(summary), Some((2, 0)));
    }

    #[test]
    fn parse_strace_without_futex_row_is_none() {
        let summary = "100.00    0.000020          10         2           total\n";

        assert_eq!(parse_strace_futex_calls(summary), None);
    }

    #[test]
    fn counts_round_trip_through_json() {
        let counts = Counts {
            load_average: vec![0.5, 0.7, 1.0],
            spins: vec![SpinRecord {
                micros: 1,
                iterations: 400,
            }],
            cpu_runs: Vec::new(),
            futex_check: Err("strace is not installed".to_owned()),
            allocations: Ok(Vec::new()),
            rss: Err("no bp binary".to_owned()),
            gzip: Err("no bp binary".to_owned()),
            wake_latency: Vec::new(),
        };

        let json = serde_json::to_string(&counts).unwrap();
        let read: Counts = serde_json::from_str(&json).unwrap();

        assert_eq!(read.spins[0].iterations, 400);
        assert_eq!(read.futex_check.unwrap_err(), "strace is not installed");
    }
}
