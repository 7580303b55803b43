//! The performance targets, each checked against the figures of one run.

use crate::counts::{Counts, CpuRun};
use crate::crc::Version;
use crate::handoff::{Peer, DEFAULT_LOW, HIGH, LOADS, WORKER_COUNTS};

use super::criterion::Results;
use super::{median, ratio, Inputs};

/// Low water marks at which the backpressured targets are checked: 0,
/// high / 2 and high - 1.
pub const CHECKED_LOWS: [u32; 3] = [0, HIGH / 2, HIGH - 1];

/// Minimum share of the work-bound limit that bp's backpressured throughput
/// must reach.
pub const WORK_BOUND_SHARE: f64 = 0.95;

/// Minimum ratio of bp's chunks per CPU-second to a peer's.
pub const CPU_RATIO: f64 = 1.5;

/// Largest spread of `bp gzip`'s peak resident memory over the input sizes
/// that counts as flat: "within a few MiB".
pub const RSS_SPREAD_KIB: u64 = 4 * 1024;

/// Largest ratio of `bp gzip`'s output size to pigz's.
pub const GZIP_SIZE_RATIO: f64 = 1.02;

/// Whether a target was met.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// The measured figure reaches the required one.
    Met,
    /// The measured figure falls short.
    Missed,
    /// Not measured in this run, for the reason given.
    Pending(String),
}

/// One target in one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The target, such as `handoff: parity with the fastest peer`.
    pub target: &'static str,
    /// The configuration, such as `3 workers`.
    pub case: String,
    /// The measured figure.
    pub measured: String,
    /// The required figure.
    pub required: String,
    /// Whether the target was met.
    pub status: Status,
}

impl Verdict {
    fn checked(
        target: &'static str,
        case: String,
        measured: String,
        required: String,
        met: bool,
    ) -> Self {
        let status = if met { Status::Met } else { Status::Missed };
        Self {
            target,
            case,
            measured,
            required,
            status,
        }
    }

    fn pending(target: &'static str, case: String, reason: &str) -> Self {
        Self {
            target,
            case,
            measured: "-".to_owned(),
            required: "-".to_owned(),
            status: Status::Pending(reason.to_owned()),
        }
    }
}

/// Checks every target.
pub fn evaluate(inputs: &Inputs<'_>) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    handoff_parity(inputs.results, &mut verdicts);
    pipeline_parity(inputs.results, &mut verdicts);
    work_bound_share(inputs.results, &mut verdicts);
    match inputs.counts {
        Ok(counts) => {
            cpu_ratio(counts, &mut verdicts);
            futex_calls(counts, &mut verdicts);
            allocations(counts, &mut verdicts);
            rss_flat(counts, &mut verdicts);
            gzip_against_pigz(counts, &mut verdicts);
        }
        Err(reason) => {
            verdicts.push(Verdict::pending(
                "counted figures",
                "all".to_owned(),
                reason,
            ));
        }
    }
    verdicts
}

/// Returns the fastest of `peers` in `group` as (name, median ns).
fn fastest(results: &Results, group: &str, peers: &[&str], value: &str) -> Option<(String, f64)> {
    peers
        .iter()
        .filter_map(|peer| {
            let measured = results.get(group, peer, value)?;
            Some((peer.to_string(), measured.median_ns))
        })
        .min_by(|left, right| left.1.total_cmp(&right.1))
}

const HANDOFF: &str = "handoff: throughput at least that of the fastest peer";
const PIPELINE: &str = "pipeline_file: throughput at least that of the fastest peer";

/// Checks that `bp` in `group` is at least as fast as the fastest of
/// `peers`, all with the parameter `value`.
fn parity(
    results: &Results,
    (target, case): (&'static str, String),
    (group, value): (&str, &str),
    bp: &str,
    peers: &[&str],
) -> Verdict {
    let bp_result = results.get(group, bp, value);
    let best = fastest(results, group, peers, value);
    let (Some(bp_result), Some((name, best_ns))) = (bp_result, best) else {
        return Verdict::pending(target, case, "not measured in this run");
    };

    let throughput_ratio = best_ns / bp_result.median_ns;
    Verdict::checked(
        target,
        case,
        format!("{} of {name}", ratio(throughput_ratio)),
        format!("≥ {}", ratio(1.0)),
        throughput_ratio >= 1.0,
    )
}

fn handoff_parity(results: &Results, verdicts: &mut Vec<Verdict>) {
    let peers: Vec<String> = Peer::CHANNELS.iter().map(|peer| peer.name()).collect();
    let peers: Vec<&str> = peers.iter().map(String::as_str).collect();
    let bp = Peer::Bp { low: DEFAULT_LOW }.name();
    for workers in WORKER_COUNTS {
        let case = format!("{workers} worker(s), low = {DEFAULT_LOW}");
        let value = workers.to_string();
        verdicts.push(parity(
            results,
            (HANDOFF, case),
            ("handoff", &value),
            &bp,
            &peers,
        ));
    }
}

fn pipeline_parity(results: &Results, verdicts: &mut Vec<Verdict>) {
    let case = "CRC-32 of 256 MiB".to_owned();
    let peers = [Version::Crossbeam.name(), Version::StdSync.name()];
    let bp = Version::Bp.name();
    verdicts.push(parity(
        results,
        (PIPELINE, case),
        ("pipeline_file", ""),
        bp,
        &peers,
    ));
}

const WORK_BOUND: &str = "backpressured: throughput share of the work-bound limit";

fn work_bound_share(results: &Results, verdicts: &mut Vec<Verdict>) {
    let limit_name = Peer::WorkBound.name();
    for load in LOADS {
        let group = load.group();
        for workers in WORKER_COUNTS {
            let value = workers.to_string();
            let limit = results.get(&group, &limit_name, &value);
            for low in CHECKED_LOWS {
                let case = format!("~{} µs, {workers} worker(s), low = {low}", load.micros);
                let bp = results.get(&group, &Peer::Bp { low }.name(), &value);
                let (Some(limit), Some(bp)) = (limit, bp) else {
                    verdicts.push(Verdict::pending(WORK_BOUND, case, "not measured"));
                    continue;
                };

                let share = limit.median_ns / bp.median_ns;
                verdicts.push(Verdict::checked(
                    WORK_BOUND,
                    case,
                    format!("{:.1}%", share * 100.0),
                    format!("≥ {:.0}%", WORK_BOUND_SHARE * 100.0),
                    share >= WORK_BOUND_SHARE,
                ));
            }
        }
    }
}

/// Returns the median chunks per CPU-second of the runs of `peer`.
pub fn cpu_rate(counts: &Counts, micros: u64, workers: usize, peer: &str) -> Option<f64> {
    let rates = runs_of(counts, micros, workers, peer)
        .map(CpuRun::chunks_per_cpu_second)
        .collect();
    median(rates)
}

/// Returns the runs of `peer` in one backpressured configuration.
pub fn runs_of<'a>(
    counts: &'a Counts,
    micros: u64,
    workers: usize,
    peer: &'a str,
) -> impl Iterator<Item = &'a CpuRun> {
    counts
        .cpu_runs
        .iter()
        .filter(move |run| run.micros == micros && run.workers == workers && run.peer == peer)
}

const CPU: &str = "backpressured: chunks per CPU-second against the peer, low = high / 2";

fn cpu_ratio(counts: &Counts, verdicts: &mut Vec<Verdict>) {
    let bp = Peer::Bp { low: DEFAULT_LOW }.name();
    for load in LOADS {
        for workers in WORKER_COUNTS {
            for peer in [Peer::Crossbeam, Peer::Thingbuf] {
                let case = format!(
                    "~{} µs, {workers} worker(s), against {}",
                    load.micros,
                    peer.name()
                );
                let bp_rate = cpu_rate(counts, load.micros, workers, &bp);
                let peer_rate = cpu_rate(counts, load.micros, workers, &peer.name());
                let (Some(bp_rate), Some(peer_rate)) = (bp_rate, peer_rate) else {
                    verdicts.push(Verdict::pending(CPU, case, "not measured"));
                    continue;
                };

                let cpu_ratio = bp_rate / peer_rate;
                verdicts.push(Verdict::checked(
                    CPU,
                    case,
                    ratio(cpu_ratio),
                    format!("≥ {}", ratio(CPU_RATIO)),
                    cpu_ratio >= CPU_RATIO,
                ));
            }
        }
    }
}

/// Returns bp's futex calls per chunk over all runs at `low`, by its
/// ring's counters.
pub fn futex_per_chunk(counts: &Counts, micros: u64, workers: usize, low: u32) -> Option<f64> {
    let name = Peer::Bp { low }.name();
    let (calls, chunks) = runs_of(counts, micros, workers, &name)
        .filter_map(|run| Some((run.futex?.total(), run.chunks)))
        .fold((0, 0), |(calls, chunks), (run_calls, run_chunks)| {
            (calls + run_calls, chunks + run_chunks)
        });
    (chunks > 0).then(|| calls as f64 / chunks as f64)
}

/// Returns the futex-call bound per chunk at `low`: one park and one wake
/// for every `high - low` chunks.
pub fn futex_bound(low: u32) -> f64 {
    2.0 / f64::from(HIGH - low)
}

const FUTEX: &str = "backpressured: futex calls per chunk at most 2 / (high - low)";

fn futex_calls(counts: &Counts, verdicts: &mut Vec<Verdict>) {
    for load in LOADS {
        for workers in WORKER_COUNTS {
            for low in CHECKED_LOWS {
                let case = format!("~{} µs, {workers} worker(s), low = {low}", load.micros);
                let Some(per_chunk) = futex_per_chunk(counts, load.micros, workers, low) else {
                    verdicts.push(Verdict::pending(FUTEX, case, "not measured"));
                    continue;
                };

                let bound = futex_bound(low);
                verdicts.push(Verdict::checked(
                    FUTEX,
                    case,
                    format!("{per_chunk:.4}"),
                    format!("≤ {bound:.4}"),
                    per_chunk <= bound,
                ));
            }
        }
    }
}

const ALLOCATIONS: &str = "zero heap allocations per chunk in steady state (bp)";

fn allocations(counts: &Counts, verdicts: &mut Vec<Verdict>) {
    let records = match &counts.allocations {
        Ok(records) => records,
        Err(reason) => {
            verdicts.push(Verdict::pending(ALLOCATIONS, "all".to_owned(), reason));
            return;
        }
    };
    for record in records
        .iter()
        .filter(|record| record.peer.starts_with("bp"))
    {
        verdicts.push(Verdict::checked(
            ALLOCATIONS,
            format!("{}, {} worker(s)", record.scenario, record.workers),
            format!("{:.4}", record.per_chunk()),
            "0".to_owned(),
            record.extra_allocations == 0,
        ));
    }
}

const RSS: &str = "bp gzip: peak resident memory flat from 16 MiB to 1 GiB of input";

fn rss_flat(counts: &Counts, verdicts: &mut Vec<Verdict>) {
    let case = "level 6, 2 workers".to_owned();
    let records = match &counts.rss {
        Ok(records) if !records.is_empty() => records,
        Ok(_) => {
            verdicts.push(Verdict::pending(RSS, case, "no runs"));
            return;
        }
        Err(reason) => {
            verdicts.push(Verdict::pending(RSS, case, reason));
            return;
        }
    };
    let peaks = records.iter().map(|record| record.max_rss_kib);
    let spread = peaks.clone().max().unwrap_or(0) - peaks.min().unwrap_or(0);
    verdicts.push(Verdict::checked(
        RSS,
        case,
        format!("spread {:.1} MiB", spread as f64 / 1024.0),
        format!("≤ {} MiB", RSS_SPREAD_KIB / 1024),
        spread <= RSS_SPREAD_KIB,
    ));
}

const GZIP_SPEED: &str = "bp gzip: throughput at least that of pigz -p 2 (median of runs)";
const GZIP_SIZE: &str = "bp gzip: output within 2% of pigz's size";

/// Returns (min, median, max) of `values`.
pub fn spread(values: Vec<f64>) -> Option<(f64, f64, f64)> {
    let min = values.iter().copied().reduce(f64::min)?;
    let max = values.iter().copied().reduce(f64::max)?;
    Some((min, median(values)?, max))
}

/// Returns the per-run ratios of pigz's time to bp's (bp's relative
/// throughput) and of bp's output size to pigz's.
pub fn gzip_ratios(counts: &Counts) -> Option<(Vec<f64>, Vec<f64>)> {
    let comparison = counts.gzip.as_ref().ok()?;
    let pairs = comparison.bp.iter().zip(&comparison.pigz);
    let speed = pairs
        .clone()
        .map(|(bp, pigz)| pigz.seconds / bp.seconds)
        .collect();
    let size = pairs
        .map(|(bp, pigz)| bp.output_bytes as f64 / pigz.output_bytes as f64)
        .collect();
    Some((speed, size))
}

fn gzip_against_pigz(counts: &Counts, verdicts: &mut Vec<Verdict>) {
    let case = "256 MiB mixed input, level 6, 2 threads".to_owned();
    let ratios =
        gzip_ratios(counts).and_then(|(speed, size)| Some((spread(speed)?, spread(size)?)));
    let Some(((speed_min, speed_median, speed_max), (size_min, size_median, size_max))) = ratios
    else {
        let reason = counts.gzip.as_ref().err().map_or("no runs", String::as_str);
        verdicts.push(Verdict::pending(GZIP_SPEED, case.clone(), reason));
        verdicts.push(Verdict::pending(GZIP_SIZE, case, reason));
        return;
    };

    verdicts.push(Verdict::checked(
        GZIP_SPEED,
        case.clone(),
        format!(
            "{} (min {}, max {})",
            ratio(speed_median),
            ratio(speed_min),
            ratio(speed_max)
        ),
        format!("≥ {}", ratio(1.0)),
        speed_median >= 1.0,
    ));
    verdicts.push(Verdict::checked(
        GZIP_SIZE,
        case,
        format!(
            "{:.4} (min {:.4}, max {:.4})",
            size_median, size_min, size_max
        ),
        format!("≤ {GZIP_SIZE_RATIO:.2}"),
        size_median <= GZIP_SIZE_RATIO,
    ));
}
