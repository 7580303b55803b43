//! The sections of `BENCHMARKS.md`, one function each.

use crate::counts::Counts;
use crate::crc::{self, Version};
use crate::handoff::{
    Peer, CAPACITY, DEFAULT_LOW, HANDOFF_CHUNKS, HIGH, LOADS, LOWS, WORKER_COUNTS,
};
use crate::latency::WakeLatency;
use crate::tokens::{self, TokenPool};
use crate::work::PAYLOAD_BYTES;

use super::criterion::Results;
use super::table::Table;
use super::targets::{self, Status};
use super::{per_second, ratio, Inputs, BUSY_LOAD};

fn format_load(load: &[f64]) -> String {
    let fields: Vec<String> = load.iter().map(|value| format!("{value:.2}")).collect();
    if fields.is_empty() {
        "unknown".to_owned()
    } else {
        fields.join(", ")
    }
}

pub fn machine(inputs: &Inputs<'_>) -> String {
    let environment = inputs.environment;
    let versions: Vec<String> = environment
        .versions
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    let start_load = inputs
        .counts
        .map(|counts| format_load(&counts.load_average))
        .unwrap_or_else(|_| "unknown".to_owned());

    let mut text = String::from("## Machine and run\n\n");
    text += &format!("- Date: {}\n", environment.date);
    text += &format!("- Command: `{}`\n", inputs.command);
    text += &format!(
        "- CPU: {} ({} CPUs available)\n",
        environment.cpu_model, environment.cpus
    );
    text += &format!("- Memory: {}\n", environment.memory);
    text += &format!("- Kernel: Linux {}\n", environment.kernel);
    text += &format!("- Toolchain: {}\n", environment.rustc);
    text += &format!("- Crates: {}\n", versions.join(", "));
    text += &format!(
        "- Load average (1, 5, 15 min): {start_load} when the counted figures started, {} \
         when this report was written\n",
        format_load(&environment.load_average)
    );

    if let Ok(counts) = inputs.counts {
        text += &wake_latency_line(&counts.wake_latency);
    }

    let busiest = inputs
        .counts
        .iter()
        .flat_map(|counts| counts.load_average.first())
        .chain(environment.load_average.first())
        .fold(0.0, |max: f64, &value| max.max(value));
    if busiest > BUSY_LOAD {
        text += &format!(
            "\nNOTE: the 1-minute load average reached {busiest:.2} on a machine with {} CPUs. \
             The benchmark's own threads count toward it (up to four run at once), so this \
             does not show by itself that other processes competed for the CPUs, but when they \
             did, timings are noisier and slower. Ratios still compare figures taken in the \
             same conditions.\n",
            environment.cpus
        );
    }
    text + "\n"
}

/// Returns the machine's wake-up latencies as one list item, or nothing if
/// none were measured.
fn wake_latency_line(latencies: &[WakeLatency]) -> String {
    if latencies.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = latencies
        .iter()
        .map(|latency| {
            format!(
                "after {} µs asleep, median {:.1} µs (10th to 90th percentile {:.1} to {:.1} µs, \
                 {} wake-ups)",
                latency.asleep_us, latency.p50_us, latency.p10_us, latency.p90_us, latency.samples
            )
        })
        .collect();
    format!(
        "- Wake-up latency of a thread parked in `std::thread::park` (a futex wait), from the \
         `unpark` call until it runs: {}\n",
        parts.join("; ")
    )
}

pub fn targets(inputs: &Inputs<'_>) -> String {
    let mut table = Table::new(&["Target", "Configuration", "Measured", "Required", "Result"]);
    let verdicts = targets::evaluate(inputs);
    for verdict in &verdicts {
        let result = match &verdict.status {
            Status::Met => "met".to_owned(),
            Status::Missed => "**missed**".to_owned(),
            Status::Pending(reason) => format!("pending: {reason}"),
        };
        table.row(vec![
            verdict.target.to_owned(),
            verdict.case.clone(),
            verdict.measured.clone(),
            verdict.required.clone(),
            result,
        ]);
    }

    let met = verdicts.iter().filter(|v| v.status == Status::Met).count();
    let missed = verdicts
        .iter()
        .filter(|v| v.status == Status::Missed)
        .count();
    let pending = verdicts.len() - met - missed;
    let mut text = String::from("## Targets\n\n");
    text += &format!(
        "{met} met, {missed} missed, {pending} pending. Throughput ratios are bp's \
         throughput divided by the peer's (above 1 means bp is faster).\n\n"
    );
    text + &table.render() + "\n"
}

/// Formats a criterion median as nanoseconds per element with its relative
/// median absolute deviation.
fn ns_cell(results: &Results, group: &str, function: &str, value: &str) -> String {
    match results.get(group, function, value) {
        Some(measured) => format!(
            "{:.1} ± {:.0}%",
            measured.ns_per_element(),
            100.0 * measured.mad_ns / measured.median_ns
        ),
        None => "-".to_owned(),
    }
}

/// Formats bp's throughput relative to `function`'s.
fn ratio_cell(results: &Results, group: &str, bp: &str, function: &str, value: &str) -> String {
    match (
        results.get(group, bp, value),
        results.get(group, function, value),
    ) {
        (Some(bp), Some(peer)) => ratio(peer.median_ns / bp.median_ns),
        _ => "-".to_owned(),
    }
}

/// Formats a count with spaces between groups of three digits.
fn thousands(count: u64) -> String {
    let digits = count.to_string();
    let mut text = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            text.push(' ');
        }
        text.push(digit);
    }
    text
}

fn missing(group: &str) -> String {
    format!("No results for `{group}` in this run.\n\n")
}

pub fn gate(results: &Results) -> String {
    let group = "gate_uncontended";
    let text = format!(
        "## gate_uncontended\n\nOne thread acquires one unit of a bound of {} and releases \
         it, with no other thread. Median ns per acquire and release; the ratio is bp's \
         `acquire` throughput over the peer's.\n\n",
        tokens::HIGH
    );
    if !results.has_group(group) {
        return text + &missing(group);
    }

    let pools = [
        tokens::BpGate::NAME,
        tokens::BpGateTry::NAME,
        tokens::TokioSemaphore::NAME,
        tokens::MutexCondvar::NAME,
        tokens::CrossbeamTokens::NAME,
    ];
    let mut table = Table::new(&["Pool", ">ns per unit", ">bp_acquire / pool"]);
    for pool in pools {
        table.row(vec![
            pool.to_owned(),
            ns_cell(results, group, pool, ""),
            ratio_cell(results, group, tokens::BpGate::NAME, pool, ""),
        ]);
    }
    text + &table.render() + "\n"
}

pub fn handoff(results: &Results) -> String {
    let group = "handoff";
    let text = format!(
        "## handoff\n\nOne producer hands {} chunks per iteration (fewer than the 10 \
         million first planned, to keep the whole run under 20 minutes) to the workers, writing a {PAYLOAD_BYTES}-byte payload in place; at most {CAPACITY} chunks \
         are in flight. Workers only read the payload. bp runs with low = {DEFAULT_LOW}. \
         Median ns per chunk; the ratio is bp's throughput over the peer's.\n\n",
        thousands(HANDOFF_CHUNKS)
    );
    if !results.has_group(group) {
        return text + &missing(group);
    }

    let bp = Peer::Bp { low: DEFAULT_LOW }.name();
    let mut header = vec!["Peer".to_owned()];
    for workers in WORKER_COUNTS {
        header.push(format!(">{workers} worker(s): ns per chunk"));
        header.push(">chunks/s".to_owned());
        header.push(">bp / peer".to_owned());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&header);

    for peer in Peer::handoff_set() {
        let name = peer.name();
        let mut row = vec![name.clone()];
        for workers in WORKER_COUNTS {
            let value = workers.to_string();
            let rate = results
                .get(group, &name, &value)
                .and_then(|measured| measured.per_second());
            row.push(ns_cell(results, group, &name, &value));
            row.push(rate.map_or("-".to_owned(), per_second));
            row.push(ratio_cell(results, group, &bp, &name, &value));
        }
        table.row(row);
    }
    text + &table.render() + "\n"
}

pub fn backpressured(results: &Results) -> String {
    let mut text = format!(
        "## backpressured\n\nAs handoff, but each worker spins for a calibrated time per \
         chunk, so the producer spends most of its time blocked. `bp_lowN` is bp with \
         high = {HIGH} and low = N; `work_bound` is the same work on the same number of \
         threads with no handoff. Chunks per second (criterion median), and that \
         throughput as a share of the work-bound limit.\n\n"
    );
    let limit_name = Peer::WorkBound.name();
    for load in LOADS {
        let group = load.group();
        text += &format!(
            "### ~{} µs per chunk ({} chunks per iteration)\n\n",
            load.micros,
            thousands(load.chunks)
        );
        if !results.has_group(&group) {
            text += &missing(&group);
            continue;
        }

        let mut header = vec!["Peer".to_owned()];
        for workers in WORKER_COUNTS {
            header.push(format!(">{workers} worker(s): chunks/s"));
            header.push(">of limit".to_owned());
        }
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut table = Table::new(&header);

        for peer in Peer::backpressured_set() {
            let name = peer.name();
            let mut row = vec![name.clone()];
            for workers in WORKER_COUNTS {
                let value = workers.to_string();
                let measured = results.get(&group, &name, &value);
                let limit = results.get(&group, &limit_name, &value);
                row.push(
                    measured
                        .and_then(|measured| measured.per_second())
                        .map_or("-".to_owned(), per_second),
                );
                row.push(match (measured, limit) {
                    (Some(measured), Some(limit)) => {
                        format!("{:.1}%", 100.0 * limit.median_ns / measured.median_ns)
                    }
                    _ => "-".to_owned(),
                });
            }
            table.row(row);
        }
        text += &table.render();
        text += "\n";
    }
    text
}

pub fn pipeline(results: &Results) -> String {
    let group = "pipeline_file";
    let text = format!(
        "## pipeline_file\n\nCRC-32 of a 256 MiB in-memory input of mixed data: a reader \
         thread fills {} reused buffers of {} KiB, {} workers hash the chunks, and the calling \
         thread combines the CRCs in input order, freeing each buffer after its CRC is \
         combined.\n\n",
        crc::SLOTS,
        crc::CHUNK_SIZE / 1024,
        crc::WORKERS
    );
    if !results.has_group(group) {
        return text + "Pending: no results in this run.\n\n";
    }

    let mut table = Table::new(&["Version", ">ms per input", ">MiB/s", ">bp / version"]);
    for version in Version::ALL {
        let name = version.name();
        let measured = results.get(group, name, "");
        table.row(vec![
            name.to_owned(),
            measured.map_or("-".to_owned(), |m| format!("{:.1}", m.median_ns / 1e6)),
            measured
                .and_then(|m| m.per_second())
                .map_or("-".to_owned(), |rate| {
                    format!("{:.0}", rate / (1024.0 * 1024.0))
                }),
            ratio_cell(results, group, Version::Bp.name(), name, ""),
        ]);
    }
    text + &table.render() + "\n"
}

pub fn counted(inputs: &Inputs<'_>) -> String {
    let mut text = String::from("## Counted figures\n\n");
    let counts = match inputs.counts {
        Ok(counts) => counts,
        Err(reason) => return text + &format!("Pending: {reason}\n\n"),
    };
    text += &cpu_time(counts);
    text += &futex(counts);
    text += &allocations(counts);
    text += &rss(counts);
    text += &gzip(counts);
    text
}

fn cpu_time(counts: &Counts) -> String {
    let mut text = String::from(
        "### CPU time (backpressured)\n\nChunks per CPU-second: chunks divided by the user \
         plus system time of the whole process during the run (`getrusage(RUSAGE_SELF)`), \
         median of the runs. The ratio is bp's figure at low = high / 2 over the peer's.\n\n",
    );
    let spins: Vec<String> = counts
        .spins
        .iter()
        .map(|spin| format!("~{} µs = {} iterations", spin.micros, spin.iterations))
        .collect();
    text += &format!("Calibrated spins: {}.\n\n", spins.join(", "));

    let bp = Peer::Bp { low: DEFAULT_LOW }.name();
    let mut header = vec!["Load".to_owned(), "Peer".to_owned()];
    for workers in WORKER_COUNTS {
        header.push(format!(">{workers} worker(s): chunks per CPU-s"));
        header.push(">bp / peer".to_owned());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&header);

    for load in LOADS {
        for peer in Peer::backpressured_set() {
            let name = peer.name();
            let mut row = vec![format!("~{} µs", load.micros), name.clone()];
            for workers in WORKER_COUNTS {
                let rate = targets::cpu_rate(counts, load.micros, workers, &name);
                let bp_rate = targets::cpu_rate(counts, load.micros, workers, &bp);
                row.push(rate.map_or("-".to_owned(), per_second));
                row.push(match (bp_rate, rate) {
                    (Some(bp_rate), Some(rate)) => ratio(bp_rate / rate),
                    _ => "-".to_owned(),
                });
            }
            table.row(row);
        }
    }
    text + &table.render() + "\n"
}

fn futex(counts: &Counts) -> String {
    let mut text = String::from(
        "### Futex calls (backpressured, bp)\n\nFrom the ring's counters, summed over the \
         runs of the CPU-time table: producer parks and wakes, worker parks and wakes, the \
         producer's two per chunk, and all four per chunk against the bound 2 / (high - \
         low).\n\n",
    );
    let mut table = Table::new(&[
        "Load",
        ">Workers",
        ">Low",
        ">Chunks",
        ">Producer parks",
        ">Producer wakes",
        ">Worker parks",
        ">Worker wakes",
        ">Producer per chunk",
        ">Per chunk",
        ">Bound",
    ]);
    for load in LOADS {
        for workers in WORKER_COUNTS {
            for low in LOWS {
                let name = Peer::Bp { low }.name();
                let runs: Vec<_> = targets::runs_of(counts, load.micros, workers, &name)
                    .filter_map(|run| Some((run.futex?, run.chunks)))
                    .collect();
                if runs.is_empty() {
                    continue;
                }
                let sum = |field: fn(&crate::counts::FutexRecord) -> u64| {
                    runs.iter().map(|(futex, _)| field(futex)).sum::<u64>()
                };
                let chunks: u64 = runs.iter().map(|(_, chunks)| chunks).sum();
                let producer_calls = sum(|futex| futex.producer_parks + futex.producer_wakes);
                let per_chunk = targets::futex_per_chunk(counts, load.micros, workers, low);
                table.row(vec![
                    format!("~{} µs", load.micros),
                    workers.to_string(),
                    low.to_string(),
                    thousands(chunks),
                    sum(|futex| futex.producer_parks).to_string(),
                    sum(|futex| futex.producer_wakes).to_string(),
                    sum(|futex| futex.worker_parks).to_string(),
                    sum(|futex| futex.worker_wakes).to_string(),
                    format!("{:.4}", producer_calls as f64 / chunks as f64),
                    per_chunk.map_or("-".to_owned(), |value| format!("{value:.4}")),
                    format!("{:.4}", targets::futex_bound(low)),
                ]);
            }
        }
    }
    text += &table.render();

    text += "\n";
    text += &match &counts.futex_check {
        Ok(check) => {
            let errors = check.traced_errors.map_or(String::new(), |errors| {
                format!(", {errors} of which returned an error")
            });
            format!(
                "Cross-check with `strace -f -c -e trace=futex` on one run (~{} µs, {} \
                 worker(s), low = {}, {} chunks): the counters saw {} futex calls, strace saw \
                 {}{errors}. The counters count a park once, while strace also counts each \
                 retry of a `FUTEX_WAIT` that returned early (with `EAGAIN` when a publish or \
                 release changed the word first), and the calls of thread start and join.\n\n",
                check.micros,
                check.workers,
                check.low,
                thousands(check.chunks),
                check.counted.total(),
                check.traced
            )
        }
        Err(reason) => format!("Cross-check with strace: pending: {reason}.\n\n"),
    };
    text
}

fn allocations(counts: &Counts) -> String {
    let text = String::from(
        "### Heap allocations per chunk\n\nA counting global allocator in \
         `bp-bench-allocs`: each scenario runs twice with different chunk counts, and the \
         difference in allocations is divided by the difference in chunks, so start-up \
         allocations cancel out.\n\n",
    );
    let records = match &counts.allocations {
        Ok(records) => records,
        Err(reason) => return text + &format!("Pending: {reason}.\n\n"),
    };
    let mut table = Table::new(&[
        "Scenario",
        "Peer",
        ">Workers",
        ">Extra chunks",
        ">Per chunk",
    ]);
    for record in records {
        table.row(vec![
            record.scenario.clone(),
            record.peer.clone(),
            record.workers.to_string(),
            thousands(record.extra_chunks),
            format!("{:.4}", record.per_chunk()),
        ]);
    }
    text + &table.render() + "\n"
}

fn rss(counts: &Counts) -> String {
    let text = String::from(
        "### Peak resident memory of `bp gzip`\n\n`bp gzip -l 6 --workers 2` on generated \
         mixed input, output discarded; peak resident set size from `wait4`.\n\n",
    );
    let records = match &counts.rss {
        Ok(records) => records,
        Err(reason) => return text + &format!("Pending: {reason}.\n\n"),
    };
    let mut table = Table::new(&[">Input MiB", ">Peak RSS MiB", ">Seconds"]);
    for record in records {
        table.row(vec![
            (record.input_bytes >> 20).to_string(),
            format!("{:.1}", record.max_rss_kib as f64 / 1024.0),
            format!("{:.2}", record.seconds),
        ]);
    }
    text + &table.render() + "\n"
}

fn gzip(counts: &Counts) -> String {
    let mut text = String::from("### `bp gzip` against `pigz`\n\n");
    let comparison = match &counts.gzip {
        Ok(comparison) => comparison,
        Err(reason) => return text + &format!("Pending: {reason}.\n\n"),
    };
    text += &format!(
        "Both at level {} with {} threads on the same {} MiB file of mixed data, runs \
         interleaved; {}. Throughput ratio: pigz's time over bp's for each pair of runs; \
         size ratio: bp's output over pigz's.\n\n",
        comparison.level,
        comparison.threads,
        comparison.input_bytes >> 20,
        comparison.pigz_version
    );

    let mib = comparison.input_bytes as f64 / (1024.0 * 1024.0);
    let mut table = Table::new(&["Tool", ">MiB/s min", ">median", ">max", ">Output bytes"]);
    for (name, runs) in [("bp gzip", &comparison.bp), ("pigz", &comparison.pigz)] {
        let rates = runs.iter().map(|run| mib / run.seconds).collect();
        let (min, median, max) = targets::spread(rates).unwrap_or_default();
        table.row(vec![
            name.to_owned(),
            format!("{min:.1}"),
            format!("{median:.1}"),
            format!("{max:.1}"),
            runs.first()
                .map_or("-".to_owned(), |run| run.output_bytes.to_string()),
        ]);
    }
    text += &table.render();

    if let Some((speed, size)) = targets::gzip_ratios(counts) {
        let format_spread = |values: Vec<f64>| {
            targets::spread(values).map_or("-".to_owned(), |(min, median, max)| {
                format!("min {min:.3}, median {median:.3}, max {max:.3}")
            })
        };
        text += &format!(
            "\nThroughput ratio bp / pigz: {}. Size ratio bp / pigz: {}.\n",
            format_spread(speed),
            format_spread(size)
        );
    }
    text + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1 000");
        assert_eq!(thousands(20_000), "20 000");
        assert_eq!(thousands(1_000_000), "1 000 000");
    }

    #[test]
    fn wake_latency_line_lists_each_sleep() {
        let latency = |asleep_us, p50_us| WakeLatency {
            asleep_us,
            samples: 1000,
            p10_us: 1.0,
            p50_us,
            p90_us: 50.0,
        };

        let line = wake_latency_line(&[latency(20, 1.5), latency(200, 33.25)]);

        assert!(line.starts_with("- Wake-up latency"), "{line}");
        assert!(line.contains("after 20 µs asleep, median 1.5 µs"), "{line}");
        assert!(
            line.contains("after 200 µs asleep, median 33.2 µs"),
            "{line}"
        );
        assert!(line.contains("1.0 to 50.0 µs, 1000 wake-ups"), "{line}");
        assert!(line.ends_with('\n'), "{line}");
    }

    #[test]
    fn wake_latency_line_empty_without_figures() {
        assert_eq!(wake_latency_line(&[]), "");
    }
}
