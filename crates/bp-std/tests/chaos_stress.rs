//! Chaos stress of the gate and the ring on oversubscribed cores: many more
//! threads than cores, random timeouts, closes at random moments, and
//! workers that panic while they hold a unit or a slot.
//!
//! Each test runs rounds until its time is up, every round with new water
//! marks and a new close point drawn from a seeded generator. A round ends
//! with a close, after which every thread must end by itself. The gate test
//! closes from its watchdog thread, the ring test from the producer or from
//! a worker.
//!
//! Checks:
//! - the bound: no acquire or claim sees more than `high` units in flight;
//! - close: an acquire or claim that starts after `close` has returned fails
//!   with `Closed`, and every thread blocked at the close wakes and ends;
//! - unwinding: a panic while a permit or a taken chunk is held releases it,
//!   also when the panic ends the thread;
//! - conservation at the end of each round: every unit acquired was
//!   released, every chunk published was delivered exactly once with its
//!   payload intact, and nothing is left in flight;
//! - progress: a watchdog fails the test when acquires, releases and chunks
//!   stop advancing, instead of letting a lost wake-up hang it.
//!
//! Environment:
//! - `BP_STRESS_SECS`: seconds for which each test starts new rounds (default
//!   2; a soak run can set 3600). Every test runs at least one round.
//! - `BP_STRESS_SEED`: seed of the random choices (default: from the clock).
//!   It is printed, and repeats the choices of a run but not its thread
//!   interleavings.
//! - `BP_STRESS_STALL_SECS`: seconds without progress before the watchdog
//!   fails the test (default 20).

use std::any::Any;
use std::env;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bp_std::ring::{bounded, ClaimTimeoutError, TakeTimeoutError, TryClaimError, TryTakeError};
use bp_std::ring::{Producer, RingConfig, Worker};
use bp_std::{AcquireTimeoutError, Gate, OwnedPermit, TryAcquireError};

/// Producer threads of the gate test.
const GATE_PRODUCERS: usize = 8;
/// Consumer threads of the gate test; the first half may die by a panic.
const GATE_CONSUMERS: usize = 16;
/// Worker threads of the ring test; the last half may die by a panic.
const RING_WORKERS: usize = 16;

/// Percent of held units and chunks whose holder panics instead of
/// releasing them normally.
const PANIC_PERCENT: u64 = 3;

/// Maximum random timeout, in microseconds: short, so that timeouts race
/// with wake-ups.
const MAX_TIMEOUT_MICROS: u64 = 300;

const DEFAULT_SECS: u64 = if cfg!(miri) { 0 } else { 2 };
const DEFAULT_STALL_SECS: u64 = if cfg!(miri) { 600 } else { 20 };

/// Range of the number of acquires (gate) or chunks (ring) before the close.
const CLOSE_AFTER: (u64, u64) = if cfg!(miri) { (5, 20) } else { (200, 3000) };

/// How often the watchdog looks at the progress count.
const WATCHDOG_TICK: Duration = Duration::from_millis(20);

/// The payload of every panic this test causes on purpose.
struct InjectedPanic;

/// A small xorshift generator: enough to vary choices, and repeatable from
/// a seed without an extra dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Zero is the one state xorshift never leaves; mixing avoids it for
        // neighbouring seeds too.
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Returns a number in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Returns a number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn timeout(&mut self) -> Duration {
        Duration::from_micros(self.below(MAX_TIMEOUT_MICROS + 1))
    }
}

/// Reads a non-negative integer from the environment variable `name`.
fn env_u64(name: &str, default: u64) -> u64 {
    match env::var(name) {
        Err(_) => default,
        Ok(value) => value.trim().parse().unwrap_or_else(|_| {
            panic!("invalid {name}={value:?}: expected a non-negative integer")
        }),
    }
}

/// Returns the seed from `BP_STRESS_SEED`, or one from the clock. Miri
/// isolates the test from the wall clock, so there the default is fixed.
fn seed() -> u64 {
    let from_clock = if cfg!(miri) {
        1
    } else {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |elapsed| elapsed.as_nanos() as u64)
    };
    env_u64("BP_STRESS_SEED", from_clock)
}

/// Keeps the default panic hook from printing the panics this test injects.
fn silence_injected_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<InjectedPanic>() {
                default_hook(info);
            }
        }));
    });
}

/// Runs `round(seed)` with fresh seeds until `BP_STRESS_SECS` have passed,
/// at least once, and returns the number of rounds.
fn run_rounds(name: &str, mut round: impl FnMut(u64, Duration)) -> u64 {
    silence_injected_panics();
    let duration = Duration::from_secs(env_u64("BP_STRESS_SECS", DEFAULT_SECS));
    let stall_limit = Duration::from_secs(env_u64("BP_STRESS_STALL_SECS", DEFAULT_STALL_SECS));
    let seed = seed();
    println!("{name}: BP_STRESS_SEED={seed}");

    let mut seeds = Rng::new(seed);
    let start = Instant::now();
    let mut rounds = 0;
    loop {
        round(seeds.next_u64(), stall_limit);
        rounds += 1;
        if start.elapsed() >= duration {
            return rounds;
        }
    }
}

/// Waits until every thread has dropped its `alive` sender, calling `tick`
/// about every [`WATCHDOG_TICK`]. Panics with `describe()` if `progress`
/// stays unchanged for `stall_limit` before that.
fn watch(
    all_ended: &Receiver<()>,
    progress: impl Fn() -> u64,
    stall_limit: Duration,
    mut tick: impl FnMut(),
    describe: impl Fn() -> String,
) {
    let mut last_progress = progress();
    let mut last_change = Instant::now();
    loop {
        match all_ended.recv_timeout(WATCHDOG_TICK) {
            Err(RecvTimeoutError::Disconnected) => return,
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
        }
        tick();

        let now = progress();
        if now != last_progress {
            last_progress = now;
            last_change = Instant::now();
        } else if last_change.elapsed() >= stall_limit {
            // The stuck threads stay blocked; the test process ends with them.
            panic!("no progress for {stall_limit:?}: {}", describe());
        }
    }
}

/// Joins `threads` and returns how many ended by an injected panic; any
/// other panic fails the test.
fn join_all(threads: Vec<JoinHandle<()>>) -> u64 {
    let mut died = 0;
    for thread in threads {
        if let Err(payload) = thread.join() {
            if payload.is::<InjectedPanic>() {
                died += 1;
            } else {
                panic::resume_unwind(payload);
            }
        }
    }
    died
}

/// Runs `release` with `held`, then panics with [`InjectedPanic`], so that
/// `held` is dropped during unwinding. With `caught`, the panic is caught
/// here and the thread goes on; otherwise it ends the thread.
fn panic_holding<T>(held: T, caught: bool, release: impl FnOnce()) {
    let unwind = move || {
        let _held = held;
        release();
        panic::panic_any(InjectedPanic);
    };
    if caught {
        let result: Result<(), Box<dyn Any + Send>> = panic::catch_unwind(AssertUnwindSafe(unwind));
        assert!(result.is_err(), "the injected panic did not unwind");
    } else {
        unwind();
    }
}

// ---------------------------------------------------------------------------
// The gate
// ---------------------------------------------------------------------------

/// Counters shared by the threads of one gate round.
#[derive(Default)]
struct GateCounters {
    acquired: AtomicU64,
    released: AtomicU64,
    /// Permits held now: raised after each acquire and lowered before each
    /// release, so it never exceeds the gate's own count.
    held: AtomicU32,
    timeouts: AtomicU64,
    caught_panics: AtomicU64,
    /// Set once `close` has returned.
    closed: AtomicBool,
}

impl GateCounters {
    fn progress(&self) -> u64 {
        self.acquired.load(Ordering::Relaxed) + self.released.load(Ordering::Relaxed)
    }

    /// Checks the bound right after an acquire and records the permit.
    fn record_acquire(&self, gate: &Gate, high: u32) {
        let in_flight = gate.in_flight();
        assert!(
            (1..=high).contains(&in_flight),
            "in-flight count {in_flight} outside 1..={high} while holding a permit"
        );
        let held = self.held.fetch_add(1, Ordering::Relaxed) + 1;
        assert!(
            held <= high,
            "{held} permits held at once, above high = {high}"
        );
        self.acquired.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a release; called before the permit is dropped.
    fn record_release(&self) {
        self.held.fetch_sub(1, Ordering::Relaxed);
        self.released.fetch_add(1, Ordering::Relaxed);
    }
}

/// Takes one permit in a randomly chosen way: a try, an untimed acquire, or
/// an acquire with a random timeout or deadline.
fn acquire_randomly(gate: &Arc<Gate>, rng: &mut Rng) -> Result<OwnedPermit, AcquireTimeoutError> {
    match rng.below(4) {
        0 => match gate.try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(TryAcquireError::Full) => Err(AcquireTimeoutError::Timeout),
            Err(TryAcquireError::Closed) => Err(AcquireTimeoutError::Closed),
            Err(error) => panic!("unexpected try_acquire error {error:?}"),
        },
        1 => gate.acquire_owned().map_err(AcquireTimeoutError::from),
        2 => gate.acquire_owned_timeout(rng.timeout()),
        _ => gate.acquire_owned_deadline(Instant::now() + rng.timeout()),
    }
}

fn gate_producer(
    gate: Arc<Gate>,
    counters: Arc<GateCounters>,
    permits: mpsc::Sender<OwnedPermit>,
    mut rng: Rng,
) {
    let high = gate.config().high();
    loop {
        // Acquire: pairs with the Release store after `close` returned, so
        // the acquire below must see the closed gate.
        let closed_before = counters.closed.load(Ordering::Acquire);
        match acquire_randomly(&gate, &mut rng) {
            Ok(permit) => {
                assert!(!closed_before, "acquired a permit after close returned");
                counters.record_acquire(&gate, high);
                if let Err(unsent) = permits.send(permit) {
                    // Every consumer died; release the permit here.
                    counters.record_release();
                    drop(unsent);
                }
            }
            Err(AcquireTimeoutError::Timeout) => {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
            Err(AcquireTimeoutError::Closed) => {
                assert!(gate.is_closed(), "acquire reported Closed on an open gate");
                return;
            }
            Err(error) => panic!("unexpected acquire error {error:?}"),
        }
    }
}

fn gate_consumer(
    permits: Arc<Mutex<Receiver<OwnedPermit>>>,
    counters: Arc<GateCounters>,
    mortal: bool,
    mut rng: Rng,
) {
    loop {
        // The guard is a temporary, so the lock is free again before any
        // panic below.
        let next = permits
            .lock()
            .expect("a consumer panicked holding the lock")
            .recv();
        let Ok(permit) = next else {
            return;
        };

        if rng.percent(PANIC_PERCENT) {
            let caught = !mortal || rng.percent(50);
            if caught {
                counters.caught_panics.fetch_add(1, Ordering::Relaxed);
            }
            panic_holding(permit, caught, || counters.record_release());
            continue;
        }

        // Hold the permit for a varying while, so releases come in many orders.
        for _ in 0..rng.below(4) {
            thread::yield_now();
        }
        counters.record_release();
        drop(permit);
    }
}

fn gate_round(seed: u64, stall_limit: Duration) -> (GateSummary, Arc<GateCounters>) {
    let mut rng = Rng::new(seed);
    let high = rng.between(1, 6) as u32;
    let low = rng.below(u64::from(high)) as u32;
    let close_after = rng.between(CLOSE_AFTER.0, CLOSE_AFTER.1);
    let gate = Arc::new(Gate::new(low, high).expect("drawn marks are valid"));
    let counters = Arc::new(GateCounters::default());

    // Every thread owns a clone of `alive` and drops it when it ends, also
    // by a panic, so the watchdog learns that all threads ended when the
    // channel disconnects.
    let (alive, all_ended) = mpsc::channel::<()>();
    let (permit_sender, permit_receiver) = mpsc::channel::<OwnedPermit>();
    let permit_receiver = Arc::new(Mutex::new(permit_receiver));
    let mut threads = Vec::new();

    for _ in 0..GATE_PRODUCERS {
        let (gate, counters, sender, alive) = (
            Arc::clone(&gate),
            Arc::clone(&counters),
            permit_sender.clone(),
            alive.clone(),
        );
        let rng = Rng::new(rng.next_u64());
        threads.push(thread::spawn(move || {
            let _alive = alive;
            gate_producer(gate, counters, sender, rng);
        }));
    }
    drop(permit_sender);

    for index in 0..GATE_CONSUMERS {
        let (receiver, counters, alive) = (
            Arc::clone(&permit_receiver),
            Arc::clone(&counters),
            alive.clone(),
        );
        let mortal = index < GATE_CONSUMERS / 2;
        let rng = Rng::new(rng.next_u64());
        threads.push(thread::spawn(move || {
            let _alive = alive;
            gate_consumer(receiver, counters, mortal, rng);
        }));
    }
    drop(permit_receiver);
    drop(alive);

    // The watchdog thread is also the closer: it closes the gate once
    // `close_after` permits were acquired, and then waits for every thread.
    watch(
        &all_ended,
        || counters.progress(),
        stall_limit,
        || {
            if !counters.closed.load(Ordering::Relaxed)
                && counters.acquired.load(Ordering::Relaxed) >= close_after
            {
                assert!(
                    gate.close(),
                    "the gate was closed before the closer closed it"
                );
                // Release: pairs with the producers' Acquire load.
                counters.closed.store(true, Ordering::Release);
            }
        },
        || {
            format!(
                "gate low {low} high {high}: {} acquired, {} released, {} in flight, closed: {}, {:?}",
                counters.acquired.load(Ordering::Relaxed),
                counters.released.load(Ordering::Relaxed),
                gate.in_flight(),
                gate.is_closed(),
                gate.stats(),
            )
        },
    );
    let died = join_all(threads);

    // Conservation: every permit came back, also those dropped by unwinding.
    let acquired = counters.acquired.load(Ordering::Relaxed);
    assert_eq!(counters.released.load(Ordering::Relaxed), acquired);
    assert_eq!(counters.held.load(Ordering::Relaxed), 0);
    assert_eq!(gate.in_flight(), 0, "units left in flight");
    assert!(gate.is_closed());
    let stats = gate.stats();
    assert!(
        stats.peak_in_flight <= high,
        "peak in-flight {} above high {high}",
        stats.peak_in_flight
    );

    let summary = GateSummary {
        acquired,
        died,
        parks: stats.parks as u64,
        wake_calls: stats.wake_calls as u64,
    };
    (summary, counters)
}

/// Totals of a gate test, printed at its end.
#[derive(Default)]
struct GateSummary {
    acquired: u64,
    died: u64,
    parks: u64,
    wake_calls: u64,
}

#[test]
fn gate_survives_timeouts_closes_and_panics() {
    let mut total = GateSummary::default();
    let (mut timeouts, mut caught) = (0, 0);
    let rounds = run_rounds("gate chaos", |seed, stall_limit| {
        let (summary, counters) = gate_round(seed, stall_limit);
        total.acquired += summary.acquired;
        total.died += summary.died;
        total.parks += summary.parks;
        total.wake_calls += summary.wake_calls;
        timeouts += counters.timeouts.load(Ordering::Relaxed);
        caught += counters.caught_panics.load(Ordering::Relaxed);
    });
    println!(
        "gate chaos: {rounds} rounds, {} permits, {timeouts} timeouts, {caught} caught panics, \
         {} threads ended by a panic, {} parks, {} wake calls",
        total.acquired, total.died, total.parks, total.wake_calls
    );
    assert!(total.acquired > 0);
}

// ---------------------------------------------------------------------------
// The ring
// ---------------------------------------------------------------------------

/// The test's record of where each slot is, checked at every hand-over.
const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const PUBLISHED: u8 = 2;
const HELD: u8 = 3;

type Payload = [u64; 4];

/// Payload of chunk `seq`: every word derived from it, so a torn or stale
/// chunk is detected.
fn payload(seq: u64) -> Payload {
    core::array::from_fn(|word| {
        seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(word as u32 * 16)
    })
}

/// Which side closes the ring in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseSide {
    /// The producer calls `close`, then stops.
    ProducerClose,
    /// The producer drops its handle, which closes the ring.
    ProducerDrop,
    /// A worker calls `close`; the producer learns of it from a failed claim
    /// or publish.
    Worker,
}

/// State shared by the threads of one ring round.
struct RingShared {
    high: u32,
    /// Where each slot is, in the test's own bookkeeping.
    states: Vec<AtomicU8>,
    /// Times each sequence number was delivered.
    deliveries: Vec<AtomicU8>,
    /// Chunks whose holder finished with them, normally or by a panic.
    completed: AtomicU64,
    claims: AtomicU64,
    timeouts: AtomicU64,
    dropped_unpublished: AtomicU64,
    caught_panics: AtomicU64,
    /// Set by the one worker that wins the right to close, in a round
    /// closed from the worker side.
    closing: AtomicBool,
    /// Set once the closing `close` has returned.
    closed: AtomicBool,
}

impl RingShared {
    fn progress(&self) -> u64 {
        self.completed.load(Ordering::Relaxed) + self.claims.load(Ordering::Relaxed)
    }

    /// Moves slot `index` from `from` to `to`, failing if the ring handed
    /// the slot out in a state it could not be in.
    fn transition(&self, index: usize, from: u8, to: u8) {
        if let Err(actual) =
            self.states[index].compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
        {
            panic!("slot {index}: expected state {from} before moving to {to}, found {actual}");
        }
    }

    /// Records that close has returned, so later claims must fail.
    fn mark_closed(&self) {
        // Release: pairs with the producer's Acquire load before each claim.
        self.closed.store(true, Ordering::Release);
    }
}

/// Claims one slot in a randomly chosen way; `None` means the ring is closed.
fn claim_randomly<'a>(
    producer: &'a Producer<Payload>,
    rng: &mut Rng,
    shared: &RingShared,
) -> Option<bp_std::ring::Claim<'a, Payload>> {
    loop {
        let result = match rng.below(3) {
            0 => match producer.try_claim() {
                Ok(claim) => Ok(claim),
                Err(TryClaimError::Full) => Err(ClaimTimeoutError::Timeout),
                Err(TryClaimError::Closed) => Err(ClaimTimeoutError::Closed),
                Err(error) => panic!("unexpected try_claim error {error:?}"),
            },
            1 => producer.claim().map_err(|_| ClaimTimeoutError::Closed),
            _ => producer.claim_timeout(rng.timeout()),
        };
        match result {
            Ok(claim) => return Some(claim),
            Err(ClaimTimeoutError::Timeout) => {
                shared.timeouts.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
            Err(ClaimTimeoutError::Closed) => return None,
            Err(error) => panic!("unexpected claim error {error:?}"),
        }
    }
}

/// Claims, fills and publishes chunks until the ring closes; closes it
/// itself after `close_after` chunks unless a worker does. Returns the
/// number of chunks published.
fn ring_producer(
    producer: Producer<Payload>,
    shared: &RingShared,
    side: CloseSide,
    close_after: u64,
    mut rng: Rng,
) -> u64 {
    let mut published = 0;
    loop {
        if side != CloseSide::Worker && published == close_after {
            match side {
                CloseSide::ProducerClose => assert!(producer.close()),
                _ => drop(producer),
            }
            shared.mark_closed();
            return published;
        }

        // Acquire: pairs with the Release store after `close` returned.
        let closed_before = shared.closed.load(Ordering::Acquire);
        let Some(mut claim) = claim_randomly(&producer, &mut rng, shared) else {
            assert!(
                side == CloseSide::Worker,
                "claim failed before the producer closed"
            );
            return published;
        };
        assert!(!closed_before, "claimed a slot after close returned");
        shared.claims.fetch_add(1, Ordering::Relaxed);
        let in_flight = producer.in_flight();
        assert!(
            in_flight <= shared.high,
            "in flight {in_flight} above high {}",
            shared.high
        );
        let index = claim.slot_index();
        shared.transition(index, FREE, CLAIMED);

        if rng.percent(5) {
            shared.transition(index, CLAIMED, FREE);
            shared.dropped_unpublished.fetch_add(1, Ordering::Relaxed);
            drop(claim);
            continue;
        }

        *claim = payload(published);
        // A worker may take the chunk as soon as it is published, so the
        // record moves first and moves back if the publish fails.
        shared.transition(index, CLAIMED, PUBLISHED);
        match claim.publish() {
            Ok(seq) => {
                assert_eq!(seq, published, "sequence numbers must be consecutive");
                published += 1;
            }
            Err(error) => {
                assert!(
                    side == CloseSide::Worker,
                    "publish failed before the producer closed"
                );
                shared.transition(index, PUBLISHED, FREE);
                drop(error.claim);
                return published;
            }
        }
    }
}

/// Takes one chunk in a randomly chosen way; `None` once the ring is closed
/// and drained.
fn take_randomly<'a>(
    worker: &'a Worker<Payload>,
    rng: &mut Rng,
    shared: &RingShared,
) -> Option<bp_std::ring::Taken<'a, Payload>> {
    loop {
        let result = match rng.below(3) {
            0 => match worker.try_take() {
                Ok(chunk) => Ok(chunk),
                Err(TryTakeError::Empty) => Err(TakeTimeoutError::Timeout),
                Err(TryTakeError::Closed) => Err(TakeTimeoutError::Closed),
                Err(error) => panic!("unexpected try_take error {error:?}"),
            },
            1 => worker.take().ok_or(TakeTimeoutError::Closed),
            _ => worker.take_timeout(rng.timeout()),
        };
        match result {
            Ok(chunk) => return Some(chunk),
            Err(TakeTimeoutError::Timeout) => {
                shared.timeouts.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
            Err(TakeTimeoutError::Closed) => return None,
            Err(error) => panic!("unexpected take error {error:?}"),
        }
    }
}

/// Takes, checks and releases chunks until the ring is closed and drained.
/// With `close_after`, the first worker to see that many chunks completed
/// closes the ring.
fn ring_worker(
    worker: Worker<Payload>,
    shared: &RingShared,
    close_after: Option<u64>,
    mortal: bool,
    mut rng: Rng,
) {
    while let Some(chunk) = take_randomly(&worker, &mut rng, shared) {
        let index = chunk.slot_index();
        shared.transition(index, PUBLISHED, HELD);
        let seq = chunk.seq();
        assert_eq!(*chunk, payload(seq), "chunk {seq} corrupted");
        assert!(
            (seq as usize) < shared.deliveries.len(),
            "chunk {seq} is beyond the {} chunks a round can publish",
            shared.deliveries.len()
        );
        let deliveries = shared.deliveries[seq as usize].fetch_add(1, Ordering::Relaxed);
        assert_eq!(deliveries, 0, "chunk {seq} delivered twice");

        let release = || {
            shared.transition(index, HELD, FREE);
            shared.completed.fetch_add(1, Ordering::Relaxed);
        };
        if rng.percent(PANIC_PERCENT) {
            let caught = !mortal || rng.percent(50);
            if caught {
                shared.caught_panics.fetch_add(1, Ordering::Relaxed);
            }
            panic_holding(chunk, caught, release);
        } else {
            for _ in 0..rng.below(4) {
                thread::yield_now();
            }
            release();
            drop(chunk);
        }

        if let Some(close_after) = close_after {
            if shared.completed.load(Ordering::Relaxed) >= close_after
                && !shared.closing.swap(true, Ordering::Relaxed)
            {
                assert!(
                    worker.close(),
                    "the ring was closed before the closing worker"
                );
                shared.mark_closed();
            }
        }
    }
}

/// Totals of a ring test, printed at its end.
#[derive(Default)]
struct RingSummary {
    published: u64,
    died: u64,
    timeouts: u64,
    dropped_unpublished: u64,
    caught_panics: u64,
    worker_closes: u64,
}

fn ring_round(seed: u64, stall_limit: Duration, summary: &mut RingSummary) {
    let mut rng = Rng::new(seed);
    let slots = rng.between(1, 6) as usize;
    let high = rng.between(1, slots as u64) as u32;
    let low = rng.below(u64::from(high)) as u32;
    let close_after = rng.between(CLOSE_AFTER.0, CLOSE_AFTER.1);
    let side = match rng.below(3) {
        0 => CloseSide::ProducerClose,
        1 => CloseSide::ProducerDrop,
        _ => CloseSide::Worker,
    };

    let (producer, worker) =
        bounded(RingConfig { slots, low, high }, |_| [0; 4]).expect("drawn ring shape is valid");
    // A worker-side close comes after more than `close_after` chunks: at
    // most `high` are in flight beyond those completed, and each worker
    // completes at most one more chunk before it checks for the close.
    let max_chunks = close_after as usize + slots + 2 * RING_WORKERS + 1;
    let shared = Arc::new(RingShared {
        high,
        states: (0..slots).map(|_| AtomicU8::new(FREE)).collect(),
        deliveries: (0..max_chunks).map(|_| AtomicU8::new(0)).collect(),
        completed: AtomicU64::new(0),
        claims: AtomicU64::new(0),
        timeouts: AtomicU64::new(0),
        dropped_unpublished: AtomicU64::new(0),
        caught_panics: AtomicU64::new(0),
        closing: AtomicBool::new(false),
        closed: AtomicBool::new(false),
    });

    let (alive, all_ended) = mpsc::channel::<()>();
    let mut workers = Vec::new();
    for index in 0..RING_WORKERS {
        let (worker, shared, alive) = (worker.clone(), Arc::clone(&shared), alive.clone());
        let closer = (side == CloseSide::Worker).then_some(close_after);
        let mortal = index >= RING_WORKERS / 2;
        let rng = Rng::new(rng.next_u64());
        workers.push(thread::spawn(move || {
            let _alive = alive;
            ring_worker(worker, &shared, closer, mortal, rng);
        }));
    }
    let stats_handle = worker.clone();
    drop(worker);

    let producer_thread = {
        let (shared, alive) = (Arc::clone(&shared), alive.clone());
        let rng = Rng::new(rng.next_u64());
        thread::spawn(move || {
            let _alive = alive;
            ring_producer(producer, &shared, side, close_after, rng)
        })
    };
    drop(alive);

    watch(
        &all_ended,
        || shared.progress(),
        stall_limit,
        || {},
        || {
            format!(
                "ring of {slots} slots, low {low} high {high}, {side:?} close after {close_after}: \
                 {} claims, {} completed, {} in flight, {} published, {:?}",
                shared.claims.load(Ordering::Relaxed),
                shared.completed.load(Ordering::Relaxed),
                stats_handle.in_flight(),
                stats_handle.published(),
                stats_handle.stats(),
            )
        },
    );
    let published = producer_thread
        .join()
        .expect("the producer thread panicked");
    let died = join_all(workers);

    // Every chunk published before the close was delivered exactly once,
    // also to workers that then panicked, and nothing is left in flight.
    for (seq, deliveries) in shared.deliveries.iter().enumerate() {
        let expected = u8::from((seq as u64) < published);
        assert_eq!(
            deliveries.load(Ordering::Relaxed),
            expected,
            "deliveries of chunk {seq} of {published}"
        );
    }
    assert_eq!(shared.completed.load(Ordering::Relaxed), published);
    assert!(shared
        .states
        .iter()
        .all(|state| state.load(Ordering::Relaxed) == FREE));
    assert_eq!(stats_handle.in_flight(), 0, "slots left in flight");
    assert_eq!(stats_handle.published(), 0, "chunks left published");
    let stats = stats_handle.stats();
    assert!(
        stats.gate.peak_in_flight <= high,
        "peak in-flight {} above high {high}",
        stats.gate.peak_in_flight
    );

    summary.published += published;
    summary.died += died;
    summary.timeouts += shared.timeouts.load(Ordering::Relaxed);
    summary.dropped_unpublished += shared.dropped_unpublished.load(Ordering::Relaxed);
    summary.caught_panics += shared.caught_panics.load(Ordering::Relaxed);
    summary.worker_closes += u64::from(side == CloseSide::Worker);
}

#[test]
fn ring_survives_timeouts_closes_and_panics() {
    let mut summary = RingSummary::default();
    let rounds = run_rounds("ring chaos", |seed, stall_limit| {
        ring_round(seed, stall_limit, &mut summary);
    });
    println!(
        "ring chaos: {rounds} rounds ({} closed by a worker), {} chunks, {} timeouts, \
         {} dropped unpublished, {} caught panics, {} threads ended by a panic",
        summary.worker_closes,
        summary.published,
        summary.timeouts,
        summary.dropped_unpublished,
        summary.caught_panics,
        summary.died
    );
    assert!(summary.published > 0);
}
