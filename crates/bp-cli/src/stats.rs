//! The `--stats` report on standard error.

use std::{fs, io::Write};

use bp_std::pipeline::Report;

/// Prints `report` for the input `name` to standard error.
pub fn print(name: &str, report: &Report) {
    let config = &report.config;
    let peak_rss = match peak_rss_bytes() {
        Some(bytes) => format!(
            "{:.1} MiB (VmHWM, whole process)",
            bytes as f64 / (1024.0 * 1024.0)
        ),
        None => String::from("unknown (no /proc/self/status)"),
    };
    let text = format!(
        "bp stats for '{name}':\n\
         \x20 bytes            {bytes}\n\
         \x20 chunks           {chunks} (chunk size {chunk_size} bytes)\n\
         \x20 elapsed          {elapsed:.3} s\n\
         \x20 throughput       {throughput:.1} MiB/s\n\
         \x20 settings         workers {workers}, slots {slots}, high {high}, low {low}\n\
         \x20 peak in flight   {peak} (high {high})\n\
         \x20 reader parks     {parks} (wake calls {wake_calls})\n\
         \x20 reader blocked   {blocked:.3} s at the high water mark\n\
         \x20 worker parks     {worker_parks} (wake calls {worker_wakes})\n\
         \x20 peak resident    {peak_rss}\n",
        bytes = report.bytes,
        chunks = report.chunks,
        chunk_size = config.chunk_size,
        elapsed = report.elapsed.as_secs_f64(),
        throughput = report.throughput_mib_per_s(),
        workers = config.workers,
        slots = config.slots,
        high = config.high,
        low = config.low,
        peak = report.peak_in_flight,
        parks = report.producer_parks,
        wake_calls = report.wake_calls,
        blocked = report.producer_blocked.as_secs_f64(),
        worker_parks = report.worker_parks,
        worker_wakes = report.worker_wakes,
    );
    // Statistics are best effort: a closed standard error loses them but
    // does not fail the command.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Peak resident set size of this process so far (`VmHWM` in
/// `/proc/self/status`), on Linux.
fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
