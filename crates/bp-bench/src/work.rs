//! The per-chunk work of the handoff scenarios: a 64-byte payload that the
//! producer writes in place and a worker reads, and a calibrated spin.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Bytes of payload in each chunk.
pub const PAYLOAD_BYTES: usize = 64;

/// One chunk's payload, reused in place by every peer that allows it.
#[derive(Clone, Debug)]
pub struct Payload(pub [u8; PAYLOAD_BYTES]);

impl Default for Payload {
    fn default() -> Self {
        Self([0; PAYLOAD_BYTES])
    }
}

impl Payload {
    /// Writes the payload of chunk `seq`: every byte is the low byte of `seq`.
    #[inline]
    pub fn write(&mut self, seq: u64) {
        self.0.fill(seq as u8);
    }

    /// Returns the sum of the payload's bytes, so that a worker reads all
    /// of them.
    #[inline]
    pub fn checksum(&self) -> u64 {
        self.0.iter().map(|&byte| u64::from(byte)).sum()
    }

    /// Returns the sum of [`checksum`](Self::checksum) over chunks
    /// `0..chunks`, which every run of a scenario must reproduce.
    pub fn expected_total(chunks: u64) -> u64 {
        // Each full cycle of 256 sequence numbers contributes 0 + 1 + ... + 255.
        let cycle_sum: u64 = (0..256).sum();
        let full_cycles = chunks / 256;
        let rest = chunks % 256;
        let rest_sum = rest * rest.saturating_sub(1) / 2;
        (full_cycles * cycle_sum + rest_sum) * PAYLOAD_BYTES as u64
    }
}

/// A fixed amount of CPU work: a loop of dependent multiply-adds that the
/// compiler cannot remove or shorten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spin {
    /// Loop iterations per call of [`run`](Self::run).
    pub iterations: u64,
}

/// Iterations timed by one calibration trial.
const CALIBRATION_ITERATIONS: u64 = 2_000_000;

/// Calibration trials; the fastest one counts, because interruptions by
/// other processes only ever make a trial slower.
const CALIBRATION_TRIALS: usize = 7;

impl Spin {
    /// No work at all.
    pub const NONE: Self = Self { iterations: 0 };

    /// Returns a spin that takes about `target` on this machine's current
    /// thread, measured now.
    pub fn calibrate(target: Duration) -> Self {
        let probe = Self {
            iterations: CALIBRATION_ITERATIONS,
        };
        let fastest = (0..CALIBRATION_TRIALS)
            .map(|_| {
                let start = Instant::now();
                probe.run();
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::from_secs(1));

        let per_iteration_ns = fastest.as_nanos() as f64 / CALIBRATION_ITERATIONS as f64;
        let iterations = (target.as_nanos() as f64 / per_iteration_ns).round() as u64;
        Self {
            iterations: iterations.max(1),
        }
    }

    /// Runs the work.
    #[inline]
    pub fn run(&self) {
        let mut state = 0u64;
        for step in 0..self.iterations {
            // black_box on each step keeps the chain of multiply-adds intact.
            state = black_box(
                state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(step),
            );
        }
        black_box(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_total_matches_direct_sum() {
        for chunks in [0, 1, 2, 255, 256, 257, 1000] {
            let direct: u64 = (0..chunks)
                .map(|seq| {
                    let mut payload = Payload::default();
                    payload.write(seq);
                    payload.checksum()
                })
                .sum();
            assert_eq!(Payload::expected_total(chunks), direct, "chunks = {chunks}");
        }
    }

    #[test]
    fn calibrate_returns_nonzero_work() {
        let spin = Spin::calibrate(Duration::from_micros(1));

        assert!(spin.iterations >= 1);
    }
}
