//! `bp-bench counts`: the figures that are counted rather than timed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bp_bench::counts::{
    parse_strace_futex_calls, AllocRecord, Counts, CpuRun, FutexCheck, FutexRecord, SpinRecord,
};
use bp_bench::handoff::{self, Job, Load, Peer, DEFAULT_LOW, LOADS, WORKER_COUNTS};
use bp_bench::latency;
use bp_bench::report::machine;
use bp_bench::rusage;
use bp_bench::work::Spin;

use crate::gzip;

/// Runs of each CPU-time configuration; the report takes their median.
const CPU_REPEATS: usize = 3;

/// The configuration that the strace cross-check runs: ~10 µs per chunk,
/// one worker, low = high / 2.
const FUTEX_CHECK: (u64, usize, u32, u64) = (10, 1, DEFAULT_LOW, 20_000);

/// Sleep lengths, in microseconds, after which the wake-up latency is
/// measured: about one batch of ~1 µs chunks, and a long sleep.
const WAKE_LATENCY_SLEEPS: [u64; 2] = [20, 200];

/// Returns the wake-ups to measure per sleep length.
fn wake_samples(quick: bool) -> usize {
    if quick {
        50
    } else {
        1000
    }
}

/// Measures every counted figure. `bp` is the `bp` binary for the gzip
/// figures; `quick` shrinks every run.
pub fn measure(bp: Option<&Path>, quick: bool) -> Counts {
    let load_average = machine::load_average();
    eprintln!("bp-bench: load average at start: {load_average:?}");

    let spins: Vec<(Load, Spin)> = LOADS
        .iter()
        .map(|&load| (load, Spin::calibrate(Duration::from_micros(load.micros))))
        .collect();
    let wake_latency = WAKE_LATENCY_SLEEPS
        .iter()
        .map(|&micros| latency::measure(Duration::from_micros(micros), wake_samples(quick)))
        .collect();
    let cpu_runs = measure_cpu(&spins, quick);
    let futex_check = check_futex(quick);
    let allocations = count_allocations();
    let (rss, gzip) = match bp {
        Some(bp) if bp.is_file() => gzip::measure(bp, quick),
        Some(bp) => {
            let reason = format!("the bp binary {} was not found", bp.display());
            (Err(reason.clone()), Err(reason))
        }
        None => {
            let reason = "no bp binary was given".to_owned();
            (Err(reason.clone()), Err(reason))
        }
    };

    Counts {
        load_average,
        spins: spins
            .iter()
            .map(|(load, spin)| SpinRecord {
                micros: load.micros,
                iterations: spin.iterations,
            })
            .collect(),
        cpu_runs,
        futex_check,
        allocations,
        rss,
        gzip,
        wake_latency,
    }
}

/// Runs every backpressured configuration [`CPU_REPEATS`] times, repeats
/// outermost so that a disturbance spreads over all peers.
fn measure_cpu(spins: &[(Load, Spin)], quick: bool) -> Vec<CpuRun> {
    let peers = Peer::backpressured_set();
    let repeats = if quick { 1 } else { CPU_REPEATS };

    let mut runs = Vec::new();
    for repeat in 1..=repeats {
        eprintln!("bp-bench: CPU time, round {repeat} of {repeats}");
        for &(load, spin) in spins {
            for workers in WORKER_COUNTS {
                let chunks = if quick { load.chunks / 20 } else { load.chunks };
                let job = Job {
                    chunks,
                    workers,
                    spin,
                };
                for &peer in &peers {
                    runs.push(cpu_run(load, peer, &job));
                }
            }
        }
    }
    runs
}

fn cpu_run(load: Load, peer: Peer, job: &Job) -> CpuRun {
    let before = rusage::own();
    let start = Instant::now();
    let outcome = handoff::run(peer, job);
    let wall = start.elapsed();
    let after = rusage::own();

    CpuRun {
        micros: load.micros,
        workers: job.workers,
        peer: peer.name(),
        chunks: job.chunks,
        cpu_ns: (after.cpu - before.cpu).as_nanos() as u64,
        wall_ns: wall.as_nanos() as u64,
        futex: outcome.ring.as_ref().map(FutexRecord::from_stats),
    }
}

/// Returns the path of a sibling binary of this one, such as
/// `bp-bench-futex`.
fn sibling(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|error| format!("no current_exe: {error}"))?;
    let path = exe.with_file_name(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} was not found; build it with `cargo build --release -p bp-bench --bins`",
            path.display()
        ))
    }
}

/// Runs the futex probe under `strace -f -c -e trace=futex` and compares
/// the calls strace saw with the ring's counters.
fn check_futex(quick: bool) -> Result<FutexCheck, String> {
    eprintln!("bp-bench: futex cross-check with strace");
    let probe = sibling("bp-bench-futex")?;
    let (micros, workers, low, chunks) = FUTEX_CHECK;
    let chunks = if quick { chunks / 10 } else { chunks };
    let summary_path = std::env::temp_dir().join(format!("bp-bench-strace-{}", std::process::id()));

    let output = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=futex", "-o"])
        .arg(&summary_path)
        .arg(&probe)
        .args([micros, workers as u64, u64::from(low), chunks].map(|n| n.to_string()))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not run strace: {error}"))?;
    let summary = std::fs::read_to_string(&summary_path);
    let _ = std::fs::remove_file(&summary_path);
    if !output.status.success() {
        return Err(format!("strace with the probe failed ({})", output.status));
    }

    let summary = summary.map_err(|error| format!("could not read strace's summary: {error}"))?;
    let (traced, traced_errors) = parse_strace_futex_calls(&summary)
        .ok_or_else(|| format!("strace's summary lists no futex calls:\n{summary}"))?;
    let counted: FutexRecord = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("the probe printed no counters: {error}"))?;
    Ok(FutexCheck {
        micros,
        workers,
        low,
        chunks,
        counted,
        traced,
        traced_errors: Some(traced_errors),
    })
}

/// Runs `bp-bench-allocs`, whose global allocator counts allocations.
fn count_allocations() -> Result<Vec<AllocRecord>, String> {
    eprintln!("bp-bench: heap allocations");
    let output = Command::new(sibling("bp-bench-allocs")?)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not run bp-bench-allocs: {error}"))?;
    if !output.status.success() {
        return Err(format!("bp-bench-allocs failed ({})", output.status));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("bp-bench-allocs printed no records: {error}"))
}
