//! Stress test of the gate on oversubscribed cores.
//!
//! Four producers and eight consumers share a gate with `high = 4`. Producers
//! acquire permits, each in its own way (untimed, with a short timeout, with a
//! short deadline, or trying first), and hand them through a channel to the
//! consumers, which release them. The test runs once with [`FutexPark`] and
//! once with [`FallbackPark`].
//!
//! Checks:
//! - the bound: at every acquire, neither the gate's count nor an auxiliary
//!   count of held permits exceeds `high`;
//! - conservation at the end: every operation acquired and released once, and
//!   nothing is left in flight;
//! - no stale registration at the end: a release that crosses low makes no
//!   wake call;
//! - progress: a watchdog fails the test when the operation count stops
//!   advancing for a while, instead of letting a lost wake-up hang it.
//!
//! Environment:
//! - `BP_STRESS_OPS`: acquire and release pairs per run (default 400000,
//!   a few seconds in a debug build).
//! - `BP_STRESS_STALL_SECS`: seconds without progress before the watchdog
//!   fails the test (default 20).

use std::env;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bp_std::{
    AcquireError, AcquireTimeoutError, FallbackPark, FutexPark, Gate, GateConfig, GateStats,
    OwnedPermit, TryAcquireError,
};

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 8;
const LOW: u32 = 1;
const HIGH: u32 = 4;

const DEFAULT_OPS: u64 = if cfg!(miri) { 100 } else { 400_000 };
const DEFAULT_STALL_SECS: u64 = if cfg!(miri) { 600 } else { 20 };

/// How often the watchdog looks at the operation count.
const WATCHDOG_TICK: Duration = Duration::from_millis(100);

/// Timeout of the producers that use one: short, so that timeouts race with
/// the wake-ups of releases.
const SHORT_TIMEOUT: Duration = Duration::from_micros(50);

/// How a producer takes a unit.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Untimed,
    Timeout,
    Deadline,
    TryFirst,
}

const MODES: [Mode; PRODUCERS] = [Mode::Untimed, Mode::Timeout, Mode::Deadline, Mode::TryFirst];

/// The operations the stress test needs from a gate, so that it can run with
/// either park.
trait StressGate: Send + Sync + 'static {
    type Permit: Send + 'static;

    fn try_acquire(self: &Arc<Self>) -> Result<Self::Permit, TryAcquireError>;
    fn acquire(self: &Arc<Self>) -> Result<Self::Permit, AcquireError>;
    fn acquire_deadline(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<Self::Permit, AcquireTimeoutError>;
    fn in_flight(&self) -> u32;
    fn stats(&self) -> GateStats;
}

impl StressGate for Gate {
    type Permit = OwnedPermit;

    fn try_acquire(self: &Arc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.try_acquire_owned()
    }

    fn acquire(self: &Arc<Self>) -> Result<OwnedPermit, AcquireError> {
        self.acquire_owned()
    }

    fn acquire_deadline(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<OwnedPermit, AcquireTimeoutError> {
        self.acquire_owned_deadline(deadline)
    }

    fn in_flight(&self) -> u32 {
        Gate::in_flight(self)
    }

    fn stats(&self) -> GateStats {
        Gate::stats(self)
    }
}

type FallbackGate = bp_core::Gate<FallbackPark>;
type FallbackPermit = bp_core::OwnedPermit<Arc<FallbackGate>, FallbackPark>;

impl StressGate for FallbackGate {
    type Permit = FallbackPermit;

    fn try_acquire(self: &Arc<Self>) -> Result<FallbackPermit, TryAcquireError> {
        FallbackPermit::try_acquire(Arc::clone(self))
    }

    fn acquire(self: &Arc<Self>) -> Result<FallbackPermit, AcquireError> {
        FallbackPermit::acquire(Arc::clone(self))
    }

    fn acquire_deadline(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<FallbackPermit, AcquireTimeoutError> {
        FallbackPermit::acquire_until(Arc::clone(self), deadline)
    }

    fn in_flight(&self) -> u32 {
        bp_core::Gate::in_flight(self)
    }

    fn stats(&self) -> GateStats {
        bp_core::Gate::stats(self)
    }
}

/// Counters shared by every thread of a run.
#[derive(Debug, Default)]
struct Counters {
    acquired: AtomicU64,
    released: AtomicU64,
    /// Permits held now, raised after each acquire and lowered before each
    /// release, so it never exceeds the gate's own count.
    permits_held: AtomicU32,
    max_permits_held: AtomicU32,
    timeouts: AtomicU64,
}

impl Counters {
    /// Returns a number that grows with every acquire and release. Timeouts
    /// do not count: producers that only time out are making no progress.
    fn progress(&self) -> u64 {
        self.acquired.load(Ordering::Relaxed) + self.released.load(Ordering::Relaxed)
    }
}

/// Reads a positive integer from the environment variable `name`.
fn env_u64(name: &str, default: u64) -> u64 {
    match env::var(name) {
        Err(_) => default,
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(number) if number > 0 => number,
            _ => panic!("invalid {name}={value:?}: expected a positive integer"),
        },
    }
}

/// Takes one unit in the producer's `mode`, retrying after timeouts.
fn acquire_one<G: StressGate>(gate: &Arc<G>, mode: Mode, counters: &Counters) -> G::Permit {
    loop {
        let result = match mode {
            Mode::Untimed => gate.acquire().map_err(AcquireTimeoutError::from),
            Mode::Timeout | Mode::Deadline => {
                let timeout = match mode {
                    Mode::Timeout => SHORT_TIMEOUT,
                    _ => 4 * SHORT_TIMEOUT,
                };
                gate.acquire_deadline(Instant::now() + timeout)
            }
            Mode::TryFirst => match gate.try_acquire() {
                Ok(permit) => Ok(permit),
                Err(TryAcquireError::Full) => gate.acquire().map_err(AcquireTimeoutError::from),
                Err(error) => panic!("try_acquire failed on an open gate: {error}"),
            },
        };
        match result {
            Ok(permit) => return permit,
            Err(AcquireTimeoutError::Timeout) => {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => panic!("acquire failed on an open gate: {error}"),
        }
    }
}

/// Checks the bound right after an acquire and records the permit as held.
fn record_acquire<G: StressGate>(gate: &G, counters: &Counters) {
    let in_flight = gate.in_flight();
    assert!(
        (1..=HIGH).contains(&in_flight),
        "in-flight count {in_flight} outside 1..={HIGH} while holding a permit"
    );

    let held = counters.permits_held.fetch_add(1, Ordering::Relaxed) + 1;
    assert!(
        held <= HIGH,
        "{held} permits held at once, above high = {HIGH}"
    );
    counters.max_permits_held.fetch_max(held, Ordering::Relaxed);
    counters.acquired.fetch_add(1, Ordering::Relaxed);
}

/// Runs the producers and consumers on `gate` until `ops` units have passed
/// through it, failing if progress stalls.
fn run<G: StressGate>(gate: Arc<G>) {
    let ops = env_u64("BP_STRESS_OPS", DEFAULT_OPS);
    let stall_limit = Duration::from_secs(env_u64("BP_STRESS_STALL_SECS", DEFAULT_STALL_SECS));
    let counters = Arc::new(Counters::default());
    let (permit_sender, permit_receiver) = mpsc::channel::<G::Permit>();
    let permit_receiver = Arc::new(Mutex::new(permit_receiver));

    // Every thread owns a clone of `alive` and drops it when it ends, also
    // by a panic, so the watchdog learns that all threads ended when the
    // channel disconnects.
    let (alive, all_ended) = mpsc::channel::<()>();
    let mut threads = Vec::with_capacity(PRODUCERS + CONSUMERS);

    for (index, mode) in MODES.into_iter().enumerate() {
        let share = ops / PRODUCERS as u64 + u64::from(index < (ops % PRODUCERS as u64) as usize);
        let (gate, counters, permit_sender, alive) = (
            Arc::clone(&gate),
            Arc::clone(&counters),
            permit_sender.clone(),
            alive.clone(),
        );
        threads.push(thread::spawn(move || {
            let _alive = alive;
            for _ in 0..share {
                let permit = acquire_one(&gate, mode, &counters);
                record_acquire(&*gate, &counters);
                permit_sender
                    .send(permit)
                    .expect("every consumer ended early");
            }
        }));
    }
    drop(permit_sender);

    for index in 0..CONSUMERS {
        let (counters, permit_receiver, alive) = (
            Arc::clone(&counters),
            Arc::clone(&permit_receiver),
            alive.clone(),
        );
        threads.push(thread::spawn(move || {
            let _alive = alive;
            let mut work = 0u64;
            loop {
                let next = permit_receiver.lock().unwrap().recv();
                let Ok(permit) = next else { break };

                // Work of varying length, so that releases come in many orders.
                for step in 0..(index as u64 * 16 + work % 64) {
                    work = black_box(work.wrapping_add(step));
                }

                counters.permits_held.fetch_sub(1, Ordering::Relaxed);
                counters.released.fetch_add(1, Ordering::Relaxed);
                drop(permit);
            }
        }));
    }
    drop(alive);

    watch_progress(&all_ended, &*gate, &counters, stall_limit);
    for thread in threads {
        thread.join().expect("a stress thread panicked");
    }

    let stats = gate.stats();
    println!(
        "{ops} operations: {} timeouts, {} parks, {} wake calls, peak {} in flight, max {} held",
        counters.timeouts.load(Ordering::Relaxed),
        stats.parks,
        stats.wake_calls,
        stats.peak_in_flight,
        counters.max_permits_held.load(Ordering::Relaxed),
    );

    // Conservation: every unit acquired was released, and none is in flight.
    let acquired = counters.acquired.load(Ordering::Relaxed);
    let released = counters.released.load(Ordering::Relaxed);
    assert_eq!(acquired, ops);
    assert_eq!(released, ops);
    assert_eq!(acquired - released, u64::from(gate.in_flight()));
    assert_eq!(gate.in_flight(), 0);
    assert_eq!(counters.permits_held.load(Ordering::Relaxed), 0);
    assert!(
        stats.peak_in_flight <= HIGH,
        "peak in-flight {} above high",
        stats.peak_in_flight
    );

    // No registration outlives its producer: filling the gate and draining it
    // across low makes no wake call.
    let permits: Vec<_> = (0..HIGH)
        .map(|_| gate.try_acquire().expect("the drained gate refused a unit"))
        .collect();
    drop(permits);
    assert_eq!(
        gate.stats().wake_calls,
        stats.wake_calls,
        "a stale registration drew a wake call"
    );
}

/// Returns once every stress thread has ended; panics if the operation count
/// stops advancing for `stall_limit` before that.
fn watch_progress<G: StressGate>(
    all_ended: &mpsc::Receiver<()>,
    gate: &G,
    counters: &Counters,
    stall_limit: Duration,
) {
    let mut last_progress = counters.progress();
    let mut last_change = Instant::now();
    loop {
        match all_ended.recv_timeout(WATCHDOG_TICK) {
            Err(RecvTimeoutError::Disconnected) => return,
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
        }

        let progress = counters.progress();
        if progress != last_progress {
            last_progress = progress;
            last_change = Instant::now();
        } else if last_change.elapsed() >= stall_limit {
            // The stuck threads stay blocked; the test process ends with them.
            panic!(
                "no progress for {stall_limit:?}: {} acquired, {} released, {} in flight, {:?}",
                counters.acquired.load(Ordering::Relaxed),
                counters.released.load(Ordering::Relaxed),
                gate.in_flight(),
                gate.stats(),
            );
        }
    }
}

#[test]
fn stress_futex_park() {
    run(Arc::new(Gate::new(LOW, HIGH).unwrap()));
}

#[test]
fn stress_fallback_park() {
    let config = GateConfig::new(LOW, HIGH).unwrap();
    run(Arc::new(FallbackGate::new(config, FallbackPark::new())));
}

// The stress test relies on these to move gates and permits between threads.
static_assertions::assert_impl_all!(Gate: Send, Sync);
static_assertions::assert_impl_all!(FutexPark: Send, Sync);
static_assertions::assert_impl_all!(OwnedPermit: Send);
