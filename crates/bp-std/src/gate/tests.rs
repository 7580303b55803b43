use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::thread;

use bp_core::{Park, WaitOutcome, MAX_HIGH};

use super::*;
use crate::sync::{AtomicU32, Ordering};

/// Far enough away that reaching it means a wake-up was lost or a thread hung.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Iterations of the uncontended loop.
const UNCONTENDED_ITERATIONS: usize = if cfg!(miri) { 1_000 } else { 1_000_000 };

fn gate(low: u32, high: u32) -> Gate {
    Gate::new(low, high).unwrap()
}

/// Takes `count` units without blocking.
fn fill(gate: &Gate, count: u32) -> Vec<Permit<'_>> {
    (0..count).map(|_| gate.try_acquire().unwrap()).collect()
}

/// Spins until `condition` holds, failing after [`HANG_LIMIT`].
fn spin_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < HANG_LIMIT,
            "gave up after {HANG_LIMIT:?} waiting until {what}"
        );
        thread::yield_now();
    }
}

/// A futex park that counts the calls the gate makes to it.
#[derive(Debug, Default)]
struct CountingPark {
    waits: AtomicUsize,
    wakes: AtomicUsize,
}

impl Park for CountingPark {
    type Deadline = Instant;

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitOutcome {
        self.waits.fetch_add(1, Ordering::Relaxed);
        FutexPark.wait(word, expected, deadline)
    }

    fn wake_one(&self, word: &AtomicU32) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        FutexPark.wake_one(word);
    }

    fn wake_all(&self, word: &AtomicU32) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        FutexPark.wake_all(word);
    }

    fn is_past(&self, deadline: Instant) -> bool {
        FutexPark.is_past(deadline)
    }
}

fn counting_gate(low: u32, high: u32) -> bp_core::Gate<CountingPark> {
    bp_core::Gate::new(GateConfig::new(low, high).unwrap(), CountingPark::default())
}

#[test]
fn new_rejects_invalid_marks() {
    assert_eq!(
        Gate::new(0, 0).unwrap_err(),
        ConfigError::LowNotBelowHigh { low: 0, high: 0 }
    );
    assert_eq!(
        Gate::new(4, 4).unwrap_err(),
        ConfigError::LowNotBelowHigh { low: 4, high: 4 }
    );
    assert_eq!(
        Gate::new(5, 4).unwrap_err(),
        ConfigError::LowNotBelowHigh { low: 5, high: 4 }
    );
    assert_eq!(
        Gate::new(0, MAX_HIGH + 1).unwrap_err(),
        ConfigError::HighTooLarge {
            high: MAX_HIGH + 1,
            max: MAX_HIGH
        }
    );
}

#[test]
fn new_accepts_edge_marks() {
    for (low, high) in [(0, 1), (3, 4), (0, MAX_HIGH), (MAX_HIGH - 1, MAX_HIGH)] {
        let gate = Gate::new(low, high).unwrap();
        assert_eq!((gate.config().low(), gate.config().high()), (low, high));
        assert_eq!(gate.in_flight(), 0);
        assert!(!gate.is_closed());
    }
}

#[test]
fn errors_display_what_failed() {
    assert!(Gate::new(2, 1)
        .unwrap_err()
        .to_string()
        .contains("low (2) must be below high (1)"));
    assert!(TryAcquireError::Full.to_string().contains("full"));
    assert!(TryAcquireError::Closed.to_string().contains("closed"));
    assert!(AcquireError.to_string().contains("closed"));
    assert!(AcquireTimeoutError::Timeout
        .to_string()
        .contains("timed out"));
    assert!(AcquireTimeoutError::Closed.to_string().contains("closed"));
}

#[test]
fn high_one_admits_one_unit() {
    let gate = gate(0, 1);
    let permit = gate.try_acquire().unwrap();
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Full);
    assert_eq!(
        gate.acquire_timeout(Duration::ZERO).unwrap_err(),
        AcquireTimeoutError::Timeout
    );
    drop(permit);

    // Low is 0: the only unit must be back before anyone resumes.
    let permit = gate.acquire().unwrap();
    assert_eq!(gate.in_flight(), 1);
    drop(permit);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn low_high_minus_one_resumes_after_one_release() {
    let gate = Arc::new(gate(3, 4));
    let permits = fill(&gate, 4);
    let producer = thread::spawn({
        let gate = Arc::clone(&gate);
        move || {
            let permit = gate
                .acquire_owned_timeout(HANG_LIMIT)
                .expect("the producer was not woken at low");
            let in_flight = gate.in_flight();
            drop(permit);
            in_flight
        }
    });
    spin_until("the producer parks", || gate.stats().parks == 1);

    let mut permits = permits.into_iter();
    drop(permits.next());
    let in_flight_on_resume = producer.join().unwrap();
    assert_eq!(in_flight_on_resume, 4);
    assert_eq!(gate.stats().wake_calls, 1);
    drop(permits);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn close_twice_reports_first_call_only() {
    let gate = gate(1, 2);
    assert!(gate.close());
    assert!(!gate.close());
    assert!(gate.is_closed());
}

#[test]
fn acquire_after_close_fails_in_every_form() {
    let gate = Arc::new(gate(1, 2));
    gate.close();
    let far = Instant::now() + HANG_LIMIT;

    // Borrowed permits.
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_eq!(gate.acquire().unwrap_err(), AcquireError);
    assert_eq!(
        gate.acquire_timeout(HANG_LIMIT).unwrap_err(),
        AcquireTimeoutError::Closed
    );
    assert_eq!(
        gate.acquire_timeout(Duration::MAX).unwrap_err(),
        AcquireTimeoutError::Closed
    );
    assert_eq!(
        gate.acquire_deadline(far).unwrap_err(),
        AcquireTimeoutError::Closed
    );

    // Owned permits.
    assert_eq!(
        gate.try_acquire_owned().unwrap_err(),
        TryAcquireError::Closed
    );
    assert_eq!(gate.acquire_owned().unwrap_err(), AcquireError);
    assert_eq!(
        gate.acquire_owned_timeout(HANG_LIMIT).unwrap_err(),
        AcquireTimeoutError::Closed
    );
    assert_eq!(
        gate.acquire_owned_deadline(far).unwrap_err(),
        AcquireTimeoutError::Closed
    );

    // The failed owned acquires dropped their clones of the Arc.
    assert_eq!(Arc::strong_count(&gate), 1);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn release_after_close_still_counts() {
    let gate = Arc::new(gate(0, 3));
    let borrowed = gate.try_acquire().unwrap();
    let owned = gate.acquire_owned().unwrap();
    assert!(gate.close());
    drop(borrowed);
    assert_eq!(gate.in_flight(), 1);
    drop(owned);
    assert_eq!(gate.in_flight(), 0);
    assert!(gate.is_closed());
    assert_eq!(gate.stats().wake_calls, 0);
}

#[test]
fn timeout_returns_timeout_and_deregisters() {
    let gate = gate(1, 2);
    let permits = fill(&gate, 2);
    assert_eq!(
        gate.acquire_timeout(Duration::from_millis(1)).unwrap_err(),
        AcquireTimeoutError::Timeout
    );
    // The deadline may pass during the spin, before the producer registers,
    // as it does under Miri. Either way it registers at most once.
    assert!(gate.stats().parks <= 1, "{:?}", gate.stats());

    // Both the release that crosses low and close make a wake call exactly
    // when a waiter is registered, so neither may make one now.
    drop(permits);
    assert_eq!(gate.in_flight(), 0);
    assert_eq!(gate.stats().wake_calls, 0);
    assert!(gate.close());
    assert_eq!(gate.stats().wake_calls, 0);
}

#[test]
fn past_deadline_times_out_only_when_full() {
    let gate = gate(0, 1);
    let past = Instant::now();
    let permit = gate.acquire_deadline(past).unwrap();
    assert_eq!(
        gate.acquire_deadline(past).unwrap_err(),
        AcquireTimeoutError::Timeout
    );
    drop(permit);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn timeout_beyond_instant_range_waits_without_limit() {
    let gate = gate(0, 1);
    let permit = gate.acquire_timeout(Duration::MAX).unwrap();
    assert_eq!(gate.in_flight(), 1);

    thread::scope(|scope| {
        let producer = scope.spawn(|| gate.acquire_timeout(Duration::MAX).map(drop));
        spin_until("the producer parks", || gate.stats().parks == 1);
        gate.close();
        assert_eq!(producer.join().unwrap(), Err(AcquireTimeoutError::Closed));
    });
    drop(permit);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn blocked_producer_wakes_on_close() {
    let gate = gate(1, 2);
    let permits = fill(&gate, 2);
    thread::scope(|scope| {
        let untimed = scope.spawn(|| gate.acquire().map(drop));
        let timed = scope.spawn(|| gate.acquire_timeout(HANG_LIMIT).map(drop));
        spin_until("both producers park", || gate.stats().parks == 2);

        assert!(gate.close());
        assert_eq!(untimed.join().unwrap(), Err(AcquireError));
        assert_eq!(timed.join().unwrap(), Err(AcquireTimeoutError::Closed));
    });
    assert_eq!(gate.stats().wake_calls, 1);
    assert_eq!(gate.in_flight(), 2);
    drop(permits);
    assert_eq!(gate.in_flight(), 0);
}

/// Fills a gate, blocks a producer on it and releases one unit at a time:
/// the producer must resume at `low` and not before, and exactly one wake
/// call must reach the park.
fn check_blocked_producer_wakes_at_low(low: u32, high: u32) {
    let gate = counting_gate(low, high);
    let mut permits: Vec<_> = (0..high).map(|_| gate.try_acquire().unwrap()).collect();
    let resumed = AtomicBool::new(false);

    thread::scope(|scope| {
        let producer = scope.spawn(|| {
            let permit = gate
                .acquire_until(Instant::now() + HANG_LIMIT)
                .expect("the producer was not woken at low");
            let in_flight = gate.in_flight();
            resumed.store(true, Ordering::Relaxed);
            drop(permit);
            in_flight
        });
        spin_until("the producer parks", || gate.stats().parks == 1);

        // Releases above low: no wake call, and the producer stays blocked.
        // Had it taken a unit, the count would exceed the permits held here.
        while permits.len() > low as usize + 1 {
            permits.pop();
            assert_eq!(
                gate.in_flight(),
                permits.len() as u32,
                "the producer took a unit above low"
            );
            assert!(
                !resumed.load(Ordering::Relaxed),
                "the producer resumed above low"
            );
            assert_eq!(gate.park().wakes.load(Ordering::Relaxed), 0);
        }

        // The release that reaches low wakes it. Nothing is released after
        // that, so the producer sees exactly its own unit on top of low.
        permits.pop();
        let in_flight_on_resume = producer.join().unwrap();
        assert_eq!(in_flight_on_resume, low + 1);
    });

    assert_eq!(gate.park().wakes.load(Ordering::Relaxed), 1);
    assert_eq!(gate.stats().wake_calls, 1);
    assert_eq!(gate.stats().parks, 1);
    assert!(gate.park().waits.load(Ordering::Relaxed) >= 1);
    drop(permits);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn blocked_producer_wakes_at_low_only() {
    check_blocked_producer_wakes_at_low(1, 4);
}

#[test]
fn blocked_producer_wakes_at_low_zero() {
    check_blocked_producer_wakes_at_low(0, 3);
}

#[test]
fn blocked_producer_wakes_with_high_one() {
    check_blocked_producer_wakes_at_low(0, 1);
}

#[test]
fn blocked_producer_wakes_at_high_minus_one() {
    check_blocked_producer_wakes_at_low(3, 4);
}

/// With no producer parked, releases make no wake call, even when several
/// threads cross the low water mark back and forth.
#[test]
fn releases_without_parked_producer_make_no_wake_call() {
    const THREADS: usize = 4;
    let rounds = if cfg!(miri) { 50 } else { 20_000 };
    // A unit per thread at most, so no acquire ever finds the gate full.
    let gate = counting_gate(1, THREADS as u32);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..rounds {
                    let permit = gate.acquire().unwrap();
                    assert!(gate.in_flight() <= THREADS as u32);
                    drop(permit);
                }
            });
        }
    });

    assert_eq!(gate.stats().parks, 0);
    assert_eq!(gate.stats().wake_calls, 0);
    assert_eq!(gate.park().waits.load(Ordering::Relaxed), 0);
    assert_eq!(gate.park().wakes.load(Ordering::Relaxed), 0);
    assert_eq!(gate.in_flight(), 0);
}

/// An uncontended acquire and release never reach the park, so they make no
/// system call; `strace -f -e trace=futex` on this test shows the same.
#[test]
fn uncontended_acquire_makes_no_park_call() {
    let gate = gate(0, 1);
    for _ in 0..UNCONTENDED_ITERATIONS {
        let permit = gate.acquire().unwrap();
        drop(permit);
    }
    assert_eq!(gate.stats().parks, 0);
    assert_eq!(gate.stats().wake_calls, 0);
    assert_eq!(gate.stats().peak_in_flight, 1);

    let counted = counting_gate(0, 1);
    for _ in 0..UNCONTENDED_ITERATIONS {
        let permit = counted.acquire().unwrap();
        drop(permit);
    }
    assert_eq!(counted.park().waits.load(Ordering::Relaxed), 0);
    assert_eq!(counted.park().wakes.load(Ordering::Relaxed), 0);
}

#[test]
fn owned_permit_moves_to_another_thread() {
    let gate = Arc::new(gate(1, 4));
    let permit = gate.acquire_owned().unwrap();
    assert_eq!(Arc::strong_count(&gate), 2);
    assert!(core::ptr::eq(permit.gate(), &*gate));

    thread::spawn(move || drop(permit)).join().unwrap();
    assert_eq!(gate.in_flight(), 0);
    assert_eq!(Arc::strong_count(&gate), 1);
}

#[test]
fn owned_try_acquire_stops_at_high() {
    let gate = Arc::new(gate(0, 2));
    let first = gate.try_acquire_owned().unwrap();
    let second = gate.acquire_owned_deadline(Instant::now()).unwrap();
    assert_eq!(gate.try_acquire_owned().unwrap_err(), TryAcquireError::Full);
    assert_eq!(
        gate.acquire_owned_timeout(Duration::ZERO).unwrap_err(),
        AcquireTimeoutError::Timeout
    );
    assert_eq!(Arc::strong_count(&gate), 3);
    drop((first, second));
    assert_eq!(gate.in_flight(), 0);
    assert_eq!(Arc::strong_count(&gate), 1);
}

#[test]
fn permit_releases_during_unwinding() {
    let gate = gate(0, 1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _permit = gate.acquire().unwrap();
        panic!("the holder of a permit panics");
    }));
    assert!(result.is_err());
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn borrowed_permit_reports_its_gate() {
    let gate = gate(0, 1);
    let permit = gate.try_acquire().unwrap();
    assert!(core::ptr::eq(permit.gate(), &gate));
    assert!(core::ptr::eq(gate.as_core(), permit.gate().as_core()));
}

#[test]
fn stats_track_peak_in_flight() {
    let gate = gate(1, 3);
    let permits = fill(&gate, 3);
    drop(permits);
    assert_eq!(
        gate.stats(),
        GateStats {
            parks: 0,
            wake_calls: 0,
            peak_in_flight: 3
        }
    );
}

static_assertions::assert_impl_all!(Gate: Send, Sync);
static_assertions::assert_impl_all!(Permit<'static>: Send, Sync);
static_assertions::assert_impl_all!(OwnedPermit: Send, Sync);
static_assertions::assert_not_impl_any!(Permit<'static>: Clone);
static_assertions::assert_not_impl_any!(OwnedPermit: Clone);
