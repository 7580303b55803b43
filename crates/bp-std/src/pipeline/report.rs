//! Counters and times of a pipeline run.

use std::time::Duration;

use super::PipelineConfig;

/// Counters and times of one pipeline run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The settings the run used.
    pub config: PipelineConfig,
    /// Bytes read from the source.
    pub bytes: u64,
    /// Chunks published to the workers.
    pub chunks: u64,
    /// Wall-clock time from the start of the run until every thread was
    /// joined.
    pub elapsed: Duration,
    /// Times the reader parked at the high water mark.
    pub producer_parks: u64,
    /// Wake system calls issued to unpark the reader.
    pub wake_calls: u64,
    /// Maximum number of chunks in flight at any instant: claimed by the
    /// reader, waiting for a worker, being processed, or waiting for their
    /// result to be folded. Never above `config.high`.
    pub peak_in_flight: u32,
    /// Times a worker parked on an empty ring.
    pub worker_parks: u64,
    /// Wake system calls issued to unpark workers.
    pub worker_wakes: u64,
    /// Time the reader spent blocked at the high water mark, waiting for
    /// chunks to be processed and their results folded.
    pub producer_blocked: Duration,
}

impl Report {
    /// Input throughput in MiB per second, or 0 for a run too short to time.
    pub fn throughput_mib_per_s(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.bytes as f64 / (1024.0 * 1024.0) / seconds
        } else {
            0.0
        }
    }
}
