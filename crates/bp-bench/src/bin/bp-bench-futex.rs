//! Runs one backpressured bp handoff and prints the ring's futex counters
//! as JSON, so that `strace -f -c -e trace=futex` can check them.
//!
//! Usage: `bp-bench-futex MICROS WORKERS LOW CHUNKS`

use std::process::ExitCode;
use std::time::Duration;

use bp_bench::counts::FutexRecord;
use bp_bench::handoff::{self, Job, Peer};
use bp_bench::work::Spin;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Result<Vec<u64>, _> = args.iter().map(|arg| arg.parse::<u64>()).collect();
    let (micros, workers, low, chunks) = match numbers.as_deref() {
        Ok(&[micros, workers, low, chunks]) if workers > 0 && low < u64::from(handoff::HIGH) => {
            (micros, workers as usize, low as u32, chunks)
        }
        _ => {
            eprintln!(
                "usage: bp-bench-futex MICROS WORKERS LOW CHUNKS (whole numbers, WORKERS at \
                 least 1, LOW below {}); got {args:?}",
                handoff::HIGH
            );
            return ExitCode::from(2);
        }
    };

    let job = Job {
        chunks,
        workers,
        spin: Spin::calibrate(Duration::from_micros(micros)),
    };
    let outcome = handoff::run(Peer::Bp { low }, &job);
    let stats = outcome.ring.expect("a bp run returns the ring's counters");
    let record = FutexRecord::from_stats(&stats);
    println!(
        "{}",
        serde_json::to_string(&record).expect("a record serializes")
    );
    ExitCode::SUCCESS
}
