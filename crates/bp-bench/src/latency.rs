//! How long a wake-up takes to reach a thread that has been asleep: the
//! cost that batched wake-ups pay once per batch, and that bounds the
//! throughput of a backpressured handoff when a batch contains less work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Wake-up latencies measured after one length of sleep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WakeLatency {
    /// How long the sleeper slept before each wake-up, in microseconds.
    pub asleep_us: u64,
    /// Wake-ups measured.
    pub samples: usize,
    /// 10th percentile of the latency, in microseconds.
    pub p10_us: f64,
    /// Median latency, in microseconds.
    pub p50_us: f64,
    /// 90th percentile of the latency, in microseconds.
    pub p90_us: f64,
}

/// Measures `samples` wake-ups of a thread that sleeps in
/// `std::thread::park` (a futex wait on Linux) for `asleep` each time.
///
/// The waking thread busy-waits through the sleep, so only the sleeper's CPU
/// can go idle, as a parked producer's does. Each latency runs from just
/// before the `unpark` call to the moment the sleeper runs again.
///
/// # Panics
///
/// If `samples` is 0.
pub fn measure(asleep: Duration, samples: usize) -> WakeLatency {
    assert!(
        samples > 0,
        "a latency measurement needs at least one sample"
    );
    let epoch = Instant::now();
    // Nanoseconds since `epoch` at the wake call, plus one so that 0 means
    // that no wake-up is pending.
    let woken_at = AtomicU64::new(0);

    let mut latencies: Vec<u64> = thread::scope(|scope| {
        let sleeper = scope.spawn(|| {
            (0..samples)
                .map(|_| loop {
                    // Acquire: pairs with the waker's Release store.
                    let stamp = woken_at.load(Ordering::Acquire);
                    if stamp != 0 {
                        let now = epoch.elapsed().as_nanos() as u64 + 1;
                        woken_at.store(0, Ordering::Release);
                        break now.saturating_sub(stamp);
                    }
                    thread::park();
                })
                .collect()
        });

        for _ in 0..samples {
            let start = Instant::now();
            while start.elapsed() < asleep || woken_at.load(Ordering::Acquire) != 0 {
                std::hint::spin_loop();
            }
            woken_at.store(epoch.elapsed().as_nanos() as u64 + 1, Ordering::Release);
            sleeper.thread().unpark();
        }
        sleeper.join().expect("the sleeping thread panicked")
    });

    latencies.sort_unstable();
    let percentile = |fraction: f64| {
        let index = ((latencies.len() - 1) as f64 * fraction).round() as usize;
        latencies[index] as f64 / 1000.0
    };
    WakeLatency {
        asleep_us: asleep.as_micros() as u64,
        samples,
        p10_us: percentile(0.1),
        p50_us: percentile(0.5),
        p90_us: percentile(0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_ordered_and_counted() {
        let latency = measure(Duration::from_micros(20), 20);

        assert_eq!(latency.samples, 20);
        assert_eq!(latency.asleep_us, 20);
        assert!(latency.p10_us > 0.0, "a wake-up took no time: {latency:?}");
        assert!(latency.p10_us <= latency.p50_us, "{latency:?}");
        assert!(latency.p50_us <= latency.p90_us, "{latency:?}");
    }
}
