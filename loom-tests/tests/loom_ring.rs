//! Loom models of the bp-core ring of chunk slots.
//!
//! Each model runs one producer and one or two workers on a
//! `Ring<Chunk, Box<[Slot<Chunk>]>, P>`, where `P` is [`ModelPark`] except in
//! the unwinding model, and checks in every execution that loom explores:
//!
//! - exactly-once delivery: a [`Ledger`] counts the deliveries of every
//!   sequence number. A second delivery fails at once; after the threads
//!   finish, every chunk whose publish returned `Ok` was delivered once and no
//!   other chunk was delivered.
//! - payload integrity: the producer fills each chunk with its sequence number,
//!   bytes derived from it and a checksum of those bytes. The worker checks
//!   all three against the sequence number that `Taken::seq` returns.
//! - the bound: a [`ShadowCount`] of slots that the producer claimed and no
//!   worker has released yet never exceeds `high`, and neither does the gate's
//!   peak.
//! - exclusive slot access: slot values live in loom's `UnsafeCell`, so loom
//!   fails the model if a producer write and a worker access of the same slot
//!   are not ordered by happens-before.
//! - no hang: if every thread sleeps, loom reports a deadlock.
//!
//! Shared state lives in `std::sync::Arc`, not loom's, as in the gate models:
//! its reference counts are not under test. Producer handles and chunks held
//! across a blocking point are wrapped in [`LeakOnUnwind`], so that a
//! deadlock report is printed instead of aborting the process.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release --test
//! loom_ring`; add `-- --nocapture` to see each model's number of executions
//! and run time. The times in the doc comments were measured on a 2-core
//! x86_64 machine shared with other builds (load average 1 to 11), with the
//! models running one at a time (`--test-threads=1`). They vary by up to a
//! factor of two with the load. The whole file took 133 to 234 s that way.
#![cfg(loom)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex as StdMutex, Once};

use bp_core::{
    ClaimError, GateConfig, Park, Ring, Slot, TakeTimeoutError, TryTakeError, WaitOutcome,
};
use loom::sync::{Condvar, Mutex};
use loom_tests::{
    check, spawn_named, trace, LeakOnUnwind, Model, ModelPark, Outcomes, ShadowCount,
};

/// A ring of model chunks that sleeps with park `P`.
type ChunkRing<P> = Ring<Chunk, Box<[Slot<Chunk>]>, P>;
type ChunkTaken<'a, P> = bp_core::Taken<'a, Chunk, Box<[Slot<Chunk>]>, P>;
type ChunkProducer<'a, P> = bp_core::Producer<'a, Chunk, Box<[Slot<Chunk>]>, P>;
type ModelTaken<'a> = ChunkTaken<'a, ModelPark>;

/// Number of payload bytes per chunk.
const CHUNK_BYTES: usize = 4;

/// The value that travels through a slot.
#[derive(Clone, Copy, Debug, Default)]
struct Chunk {
    /// The sequence number the producer expects its publish to return.
    seq: u64,
    bytes: [u8; CHUNK_BYTES],
    /// Fletcher-16 checksum of `bytes`.
    checksum: u16,
}

impl Chunk {
    /// Overwrites every field with the payload of chunk `seq`. The bytes differ
    /// for every `seq` below 256, so a worker that reads a slot's previous
    /// chunk or a half-written one fails the check in `verify`.
    fn fill(&mut self, seq: u64) {
        self.seq = seq;
        for (offset, byte) in self.bytes.iter_mut().enumerate() {
            *byte = (seq as u8)
                .wrapping_mul(31)
                .wrapping_add(offset as u8 * 7 + 1);
        }
        self.checksum = fletcher16(&self.bytes);
    }

    /// Panics unless this is the complete payload of chunk `seq`.
    fn verify(&self, seq: u64) {
        assert_eq!(
            self.seq, seq,
            "slot holds chunk {} but Taken::seq reports {seq}",
            self.seq
        );
        assert_eq!(
            fletcher16(&self.bytes),
            self.checksum,
            "checksum mismatch in chunk {seq}: bytes {:?}",
            self.bytes
        );
        let mut expected = Chunk::default();
        expected.fill(seq);
        assert_eq!(
            self.bytes, expected.bytes,
            "chunk {seq} carries the bytes of another chunk"
        );
    }
}

/// Returns the Fletcher-16 checksum of `bytes`.
fn fletcher16(bytes: &[u8]) -> u16 {
    let (mut low, mut high) = (0u16, 0u16);
    for &byte in bytes {
        low = (low + u16::from(byte)) % 255;
        high = (high + low) % 255;
    }
    (high << 8) | low
}

/// Which chunks were published and how often each was delivered.
///
/// Plain `std` state, never held across a loom operation: the ring never reads
/// it, so it adds no branches. Loom runs every modeled thread on one OS
/// thread, so the counts are exact.
#[derive(Debug)]
struct Ledger {
    /// Indexed by sequence number.
    entries: StdMutex<Vec<LedgerEntry>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct LedgerEntry {
    published: bool,
    deliveries: u32,
}

impl Ledger {
    fn new(items: usize) -> Self {
        Self {
            entries: StdMutex::new(vec![LedgerEntry::default(); items]),
        }
    }

    /// Records that the publish of chunk `seq` returned `Ok`.
    fn published(&self, seq: u64) {
        self.entries.lock().unwrap()[seq as usize].published = true;
    }

    /// Verifies the payload of a taken chunk and records its delivery.
    ///
    /// # Panics
    ///
    /// If the payload is wrong or the chunk was delivered before.
    fn deliver<P: Park>(&self, taken: &ChunkTaken<'_, P>) {
        let seq = taken.seq();
        taken.verify(seq);
        trace::record(format_args!(
            "takes chunk {seq} from slot {}",
            taken.slot_index()
        ));

        let mut entries = self.entries.lock().unwrap();
        let entry = &mut entries[seq as usize];
        entry.deliveries += 1;
        assert_eq!(entry.deliveries, 1, "chunk {seq} delivered twice");
    }

    /// Returns the number of chunks whose publish returned `Ok`.
    fn published_count(&self) -> usize {
        self.entries
            .lock()
            .unwrap()
            .iter()
            .filter(|entry| entry.published)
            .count()
    }

    /// Panics unless every published chunk was delivered exactly once and no
    /// other chunk was delivered.
    fn assert_exactly_once(&self) {
        for (seq, entry) in self.entries.lock().unwrap().iter().enumerate() {
            let expected = u32::from(entry.published);
            assert_eq!(
                entry.deliveries, expected,
                "chunk {seq} (published: {}) delivered {} times",
                entry.published, entry.deliveries
            );
        }
    }
}

/// The ring under test and the model's records of it, shared by the model's
/// threads.
struct Fixture<P> {
    ring: ChunkRing<P>,
    ledger: Ledger,
    shadow: ShadowCount,
}

impl<P: Park + Send + Sync + 'static> Fixture<P> {
    /// Creates a ring of `capacity` slots with water marks `low` and `high`,
    /// and records for chunks `0..items`.
    fn new(capacity: usize, low: u32, high: u32, items: usize, park: P) -> Arc<Self> {
        let slots: Box<[Slot<Chunk>]> =
            (0..capacity).map(|_| Slot::new(Chunk::default())).collect();
        let config = GateConfig::new(low, high).expect("model water marks are valid");
        Arc::new(Self {
            ring: Ring::new(slots, config, park).expect("model capacity is valid"),
            ledger: Ledger::new(items),
            shadow: ShadowCount::new(high),
        })
    }

    /// Spawns a loom thread named `name` that runs `body` on the fixture.
    fn spawn<T: Send + 'static>(
        self: &Arc<Self>,
        name: &str,
        body: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> loom::thread::JoinHandle<T> {
        let fixture = Arc::clone(self);
        spawn_named(name, move || body(&fixture))
    }

    /// Takes the ring's producer handle. It is leaked instead of dropped if a
    /// deadlock report unwinds the model.
    fn producer(&self) -> LeakOnUnwind<ChunkProducer<'_, P>> {
        LeakOnUnwind::new(
            self.ring
                .producer()
                .expect("the model has one producer handle"),
        )
    }

    /// Claims, fills and publishes chunks `0..items` with the blocking claim,
    /// then closes the ring.
    fn produce(&self, items: usize) {
        let producer = self.producer();
        for seq in 0..items as u64 {
            let mut claim = producer
                .claim()
                .expect("the ring is open until the producer closes it");
            let held = self.shadow.acquired();
            trace::record(format_args!(
                "claims slot {} for chunk {seq}, {held} held",
                claim.slot_index()
            ));

            claim.fill(seq);
            let published = claim
                .publish()
                .unwrap_or_else(|_| panic!("publish of chunk {seq} failed on an open ring"));
            assert_eq!(published, seq, "publish returned the wrong sequence number");
            self.ledger.published(seq);
        }
        trace::record(format_args!("closes the ring"));
        self.ring.close();
    }

    /// Takes chunks until the ring is closed and drained, verifying each.
    fn work(&self) {
        while let Some(taken) = self.ring.take() {
            self.ledger.deliver(&taken);
            self.shadow.released();
            drop(taken);
        }
        trace::record(format_args!("take returned None"));
    }

    /// Checks the state of the ring once every model thread has finished.
    /// `park_wake_calls` is the number of wake calls that its park received.
    fn check_drained(&self, park_wake_calls: usize) {
        let ring = &self.ring;
        let stats = ring.stats();
        let high = ring.gate().config().high();

        self.ledger.assert_exactly_once();
        assert_eq!(
            ring.in_flight(),
            0,
            "slots left in flight after every chunk was released"
        );
        assert_eq!(
            ring.published(),
            0,
            "chunks left published after the workers drained the ring"
        );
        assert!(
            stats.gate.peak_in_flight <= high,
            "peak in flight {} exceeds high {high}",
            stats.gate.peak_in_flight
        );
        assert_eq!(
            stats.gate.wake_calls + stats.worker_wake_calls,
            park_wake_calls,
            "the ring's wake-call counters disagree with the calls the park received"
        );
    }
}

impl Fixture<ModelPark> {
    /// Checks the drained ring against the wake calls that its [`ModelPark`] counted.
    fn check_drained_model_park(&self) {
        self.check_drained(self.ring.gate().park().wake_calls());
    }
}

/// Explores a model in which one producer publishes `items` chunks into a
/// ring of `capacity` slots and closes it, while two workers take chunks
/// concurrently until the ring is drained.
fn check_one_producer_two_workers(
    model: &Model,
    capacity: usize,
    low: u32,
    high: u32,
    items: usize,
    park: fn() -> ModelPark,
) {
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(model, move || {
        let fixture = Fixture::new(capacity, low, high, items, park());
        let workers = ["worker 0", "worker 1"].map(|name| fixture.spawn(name, Fixture::work));
        fixture.produce(items);
        for worker in workers {
            worker.join().unwrap();
        }

        fixture.check_drained_model_park();
        assert_eq!(fixture.ledger.published_count(), items);
        let stats = fixture.ring.stats();
        tally.record(match (stats.gate.parks > 0, stats.worker_parks > 0) {
            (true, _) => "producer parked",
            (false, true) => "only workers parked",
            (false, false) => "nobody parked",
        });
    });
    outcomes.assert_seen(&["producer parked", "only workers parked"]);
}

/// Takes race publishes with two slots: every chunk is delivered exactly once
/// with its own payload, and a slot is reused only after its worker released
/// it. The third chunk reuses a slot and overwrites the first queue entry
/// while a worker may still be about to read that entry. With low = high - 1,
/// either worker's release wakes a parked producer.
///
/// Preemption bound 2; capacity 2, high 2, low 1, 3 chunks. Measured:
/// 2,251,204 executions, 109 to 211 s depending on the load.
#[test]
fn takes_race_publishes_capacity_two() {
    let model = Model::bounded("takes_race_publishes_capacity_two", 2);
    check_one_producer_two_workers(&model, 2, 1, 2, 3, ModelPark::new);
}

/// As [`takes_race_publishes_capacity_two`] with three slots and four chunks:
/// the free-slot scan wraps past slots that workers still hold, and the
/// fourth chunk laps the queue.
///
/// Preemption bound 1; capacity 3, high 3, low 1, 4 chunks. Measured: 70,371
/// executions, 5.4 s. Bound 2 also passes: 7,454,052 executions, 574 s.
#[test]
fn takes_race_publishes_capacity_three() {
    let model = Model::bounded("takes_race_publishes_capacity_three", 1);
    check_one_producer_two_workers(&model, 3, 1, 3, 4, ModelPark::new);
}

/// As [`takes_race_publishes_capacity_two`] with a park that lets both the
/// producer and the workers spin one round (a loom yield) before they
/// register: a chunk published or a slot released while a thread spins is
/// picked up without a sleep, and no wake-up is lost when the spin ends just
/// as the other side acts.
///
/// Preemption bound 1; capacity 2, high 2, low 1, 3 chunks, one spin round.
/// Measured: 247,404 executions, 12 s.
#[test]
fn spinning_takes_race_publishes() {
    let model = Model::bounded("spinning_takes_race_publishes", 1);
    check_one_producer_two_workers(&model, 2, 1, 2, 3, || ModelPark::new().spinning(1));
}

/// Releases that workers report to the producer, ordered by a loom mutex so
/// that a count the producer reads happens-after the releases it counts.
#[derive(Debug)]
struct ReleaseLog {
    released: Mutex<ReleaseCounts>,
    changed: Condvar,
}

#[derive(Clone, Copy, Debug, Default)]
struct ReleaseCounts {
    /// Slots released by any worker.
    total: u32,
    /// Slots released by the worker that does not hold a chunk back.
    by_releaser: u32,
}

impl ReleaseLog {
    fn new() -> Self {
        Self {
            released: Mutex::new(ReleaseCounts::default()),
            changed: Condvar::new(),
        }
    }

    /// Drops `taken`, releasing its slot, and then counts the release.
    fn release(&self, taken: ModelTaken<'_>, shadow: &ShadowCount, by_releaser: bool) {
        shadow.released();
        drop(taken);

        let mut counts = self.released.lock().unwrap();
        counts.total += 1;
        if by_releaser {
            counts.by_releaser += 1;
        }
        self.changed.notify_all();
    }

    /// Blocks until `ready` holds for the counts, and returns them. Every
    /// release counted happened-before this call returns.
    fn wait_until(&self, ready: impl Fn(&ReleaseCounts) -> bool) -> ReleaseCounts {
        let mut counts = self.released.lock().unwrap();
        while !ready(&counts) {
            counts = self.changed.wait(counts).unwrap();
        }
        *counts
    }
}

/// No head-of-line blocking: one worker holds the first chunk it takes until
/// the other worker has taken and released a later one, so slots come back
/// out of order, while the producer claims with `try_claim`. Before each
/// claim the producer waits until the workers have reported enough releases
/// that fewer than `high` slots can be in flight. Those releases
/// happened-before the claim, so `try_claim` must succeed, whichever slot is
/// still held.
///
/// Preemption bound 1; capacity 2, high 2, 3 chunks. Measured: 139,927
/// executions, 9.4 s. Bound 2 also passes: 5,861,617 executions, 544 s.
#[test]
fn out_of_order_release_races_try_claim() {
    let (capacity, low, high, items) = (2, 0, 2, 3);
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(
        &Model::bounded("out_of_order_release_races_try_claim", 1),
        move || {
            let fixture = Fixture::new(capacity, low, high, items, ModelPark::new());
            let log = Arc::new(ReleaseLog::new());

            let holder = {
                let log = Arc::clone(&log);
                fixture.spawn("holder", move |fixture| {
                    // The releaser may take every chunk before this worker's first take.
                    let held = fixture.ring.take()?;
                    fixture.ledger.deliver(&held);
                    let held_seq = held.seq();
                    let held = LeakOnUnwind::new(held);
                    log.wait_until(|counts| counts.by_releaser > 0);
                    trace::record(format_args!(
                        "releases chunk {held_seq} after a later chunk"
                    ));
                    log.release(held.into_inner(), &fixture.shadow, false);

                    while let Some(taken) = fixture.ring.take() {
                        fixture.ledger.deliver(&taken);
                        log.release(taken, &fixture.shadow, false);
                    }
                    Some(held_seq)
                })
            };
            let releaser = {
                let log = Arc::clone(&log);
                fixture.spawn("releaser", move |fixture| {
                    while let Some(taken) = fixture.ring.take() {
                        fixture.ledger.deliver(&taken);
                        log.release(taken, &fixture.shadow, true);
                    }
                })
            };

            let Fixture {
                ring,
                ledger,
                shadow,
            } = &*fixture;
            let producer = fixture.producer();
            let mut skipped_held_slot = false;
            let mut next_free_guess = 0;
            for seq in 0..items as u64 {
                let needed = (seq as u32 + 1).saturating_sub(high);
                let released = log.wait_until(|counts| counts.total >= needed).total;
                let known_in_flight = seq as u32 - released;
                let mut claim = producer.try_claim().unwrap_or_else(|error| {
                panic!(
                    "try_claim failed ({error}) although at most {known_in_flight} of {high} slots can be in flight: head-of-line blocking"
                )
            });
                shadow.acquired();
                trace::record(format_args!(
                    "claims slot {} for chunk {seq}",
                    claim.slot_index()
                ));

                // The scan starts after the previous claim's slot; taking a later
                // one means it skipped a slot that a worker still held.
                skipped_held_slot |= claim.slot_index() != next_free_guess;
                next_free_guess = (claim.slot_index() + 1) % capacity;

                claim.fill(seq);
                assert_eq!(claim.publish().expect("the ring is open"), seq);
                ledger.published(seq);
            }
            ring.close();

            let held_seq = holder.join().unwrap();
            releaser.join().unwrap();
            fixture.check_drained_model_park();
            tally.record(match (held_seq, skipped_held_slot) {
                (Some(0), true) => "oldest chunk held, claim skipped its slot",
                (Some(0), false) => "oldest chunk held, no claim met it",
                (Some(_), _) => "a later chunk held",
                (None, _) => "releaser took every chunk",
            });
        },
    );
    outcomes.assert_seen(&[
        "oldest chunk held, claim skipped its slot",
        "a later chunk held",
    ]);
}

/// Close from the producer side racing workers that park on an empty ring.
/// The one published chunk is delivered exactly once, and every worker's take
/// returns `None` once the ring is closed and drained. The close may come
/// before a worker registers, between its registration and its sleep, or
/// while it sleeps.
///
/// Preemption bound 3; capacity 1, high 1, 1 chunk, two workers. Measured:
/// 244,591 executions, 14 s.
#[test]
fn producer_close_races_parked_take() {
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(
        &Model::bounded("producer_close_races_parked_take", 3),
        move || {
            let fixture = Fixture::new(1, 0, 1, 1, ModelPark::new());
            let workers = ["worker 0", "worker 1"].map(|name| fixture.spawn(name, Fixture::work));
            fixture.produce(1);
            for worker in workers {
                worker.join().unwrap();
            }

            fixture.check_drained_model_park();
            let ring = &fixture.ring;
            assert_eq!(
                ring.try_take().map(drop),
                Err(TryTakeError::Closed),
                "a drained, closed ring must report Closed"
            );
            let stats = ring.stats();
            assert!(
                stats.worker_wake_calls <= 2,
                "{} wake calls for one publish and one close",
                stats.worker_wake_calls
            );
            tally.record(match (stats.worker_parks, ring.gate().park().sleeps()) {
                (0, _) => "no worker registered",
                (_, 0) => "a worker registered, nobody slept",
                _ => "a worker slept",
            });
        },
    );
    outcomes.assert_seen(&[
        "no worker registered",
        "a worker registered, nobody slept",
        "a worker slept",
    ]);
}

/// Close from the worker side racing a producer parked in `claim` on a full
/// ring: the worker takes the first chunk, releases it and closes the ring,
/// then drains it. The producer's claim either gets the released slot or
/// returns `Closed`. A publish after the close is rejected, and its claim
/// frees the slot. Every chunk whose publish returned `Ok` is delivered
/// exactly once, and no thread hangs.
///
/// Unbounded; capacity 1, high 1, low 0, up to 2 chunks. Measured: 40,089
/// executions, 1.8 s.
#[test]
fn worker_close_races_parked_claim() {
    let items = 2;
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(
        &Model::unbounded("worker_close_races_parked_claim"),
        move || {
            let fixture = Fixture::new(1, 0, 1, items, ModelPark::new());
            let worker = fixture.spawn("worker", |fixture| {
                let taken = fixture
                    .ring
                    .take()
                    .expect("only this worker closes the ring");
                fixture.ledger.deliver(&taken);
                fixture.shadow.released();
                drop(taken);
                trace::record(format_args!("closes the ring"));
                assert!(fixture.ring.close(), "the worker's close is the first");
                fixture.work();
            });

            let Fixture { ledger, shadow, .. } = &*fixture;
            let producer = fixture.producer();
            let mut outcome = "every chunk published";
            for seq in 0..items as u64 {
                let mut claim = match producer.claim() {
                    Ok(claim) => claim,
                    Err(ClaimError) => {
                        trace::record(format_args!("claim for chunk {seq}: Closed"));
                        outcome = "claim returned Closed";
                        break;
                    }
                };
                shadow.acquired();
                claim.fill(seq);
                match claim.publish() {
                    Ok(published) => {
                        assert_eq!(published, seq);
                        ledger.published(seq);
                    }
                    Err(rejected) => {
                        trace::record(format_args!("publish of chunk {seq}: Closed"));
                        shadow.released();
                        drop(rejected.claim);
                        outcome = "publish returned Closed";
                        break;
                    }
                }
            }
            drop(producer);
            worker.join().unwrap();

            fixture.check_drained_model_park();
            assert!(
                ledger.published_count() >= 1,
                "the first chunk is published before any close"
            );
            tally.record(outcome);
        },
    );
    outcomes.assert_seen(&[
        "every chunk published",
        "claim returned Closed",
        "publish returned Closed",
    ]);
}

/// Payload of the panic that the model worker raises on purpose.
struct PlannedPanic;

/// Keeps the default panic hook from printing [`PlannedPanic`]s, which loom
/// would otherwise report once per execution. Other panics print as usual.
fn silence_planned_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<PlannedPanic>() {
                default_hook(info);
            }
        }));
    });
}

/// A park whose sleepers yield to the other loom threads until their word
/// changes, for models in which a thread wakes others while it unwinds.
///
/// [`ModelPark`] cannot serve such a wake: loom's `Mutex` wraps a `std`
/// mutex, the unwinding thread's guard poisons it when dropped, and every
/// later lock of the loom mutex then panics inside loom. This park takes no
/// lock. Its wake calls are no-ops, because a sleeper returns by itself once
/// the word changes. A model using it therefore checks the release during
/// unwinding, not wake-ups. Its waits are untimed.
#[derive(Debug, Default)]
struct YieldPark {
    wake_calls: std::sync::atomic::AtomicUsize,
}

impl Park for YieldPark {
    type Deadline = std::convert::Infallible;

    fn wait(
        &self,
        word: &bp_core::park::AtomicU32,
        expected: u32,
        _deadline: Option<Self::Deadline>,
    ) -> WaitOutcome {
        // Relaxed: the ring re-reads the word with the ordering it needs.
        while word.load(loom::sync::atomic::Ordering::Relaxed) == expected {
            loom::thread::yield_now();
        }
        WaitOutcome::Woken
    }

    fn wake_one(&self, _word: &bp_core::park::AtomicU32) {
        self.wake_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn wake_all(&self, _word: &bp_core::park::AtomicU32) {
        self.wake_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn is_past(&self, deadline: Self::Deadline) -> bool {
        match deadline {}
    }
}

/// A worker panics while it holds a chunk, and the unwinding drop of its
/// `Taken` releases the slot. With one slot, the producer's next claim parks
/// until that release and then refills the same slot: loom checks that the
/// panicking worker's reads happen-before the producer's writes. The worker
/// catches the panic and takes the second chunk from the reused slot.
///
/// Uses [`YieldPark`], because the release during unwinding wakes the parked
/// producer. Preemption bound 3; capacity 1, high 1, 2 chunks, one worker. Measured:
/// 6,395 executions, 0.3 s.
#[test]
fn panic_release_races_slot_reuse() {
    silence_planned_panics();
    let items = 2;
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(
        &Model::bounded("panic_release_races_slot_reuse", 3),
        move || {
            let fixture = Fixture::new(1, 0, 1, items, YieldPark::default());
            let worker = fixture.spawn("worker", |fixture| {
                let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
                    let taken = fixture
                        .ring
                        .take()
                        .expect("the ring is open until both chunks are published");
                    fixture.ledger.deliver(&taken);
                    fixture.shadow.released();
                    trace::record(format_args!("panics holding slot {}", taken.slot_index()));
                    panic::panic_any(PlannedPanic);
                }));
                // Any other panic, such as loom's report of a data race, is a
                // failure of the model and continues unwinding.
                match unwound {
                    Err(payload) if payload.is::<PlannedPanic>() => {}
                    Err(payload) => panic::resume_unwind(payload),
                    Ok(()) => unreachable!("the worker's closure always panics"),
                }
                trace::record(format_args!("caught the planned panic"));
                fixture.work();
            });
            fixture.produce(items);
            worker.join().unwrap();

            let ring = &fixture.ring;
            let park_wake_calls = ring
                .gate()
                .park()
                .wake_calls
                .load(std::sync::atomic::Ordering::Relaxed);
            fixture.check_drained(park_wake_calls);
            tally.record(if ring.stats().gate.parks > 0 {
                "producer parked"
            } else {
                "producer never parked"
            });
        },
    );
    outcomes.assert_seen(&["producer parked", "producer never parked"]);
}

/// A timed take racing a publish and its own deadline. The worker either
/// takes the chunk before the deadline, or times out and then takes it with
/// an untimed take, so the chunk is never left behind. Afterwards no worker
/// registration remains, so the next publish makes no wake call.
///
/// Unbounded; capacity 1, high 1, 1 chunk plus one published after the
/// threads finish. Measured: 12,101 executions, 0.7 s.
#[test]
fn timed_take_races_publish() {
    let items = 2;
    let outcomes = Arc::new(Outcomes::new());
    let tally = Arc::clone(&outcomes);
    check(&Model::unbounded("timed_take_races_publish"), move || {
        let fixture = Fixture::new(1, 0, 1, items, ModelPark::with_deadlines(1));
        let deadline = fixture.ring.gate().park().deadline(0);

        let worker = fixture.spawn("worker", move |fixture| {
            let ring = &fixture.ring;
            let (taken, outcome) = match ring.take_until(deadline) {
                Ok(taken) => (taken, "taken before the deadline"),
                Err(TakeTimeoutError::Timeout) => {
                    trace::record(format_args!("timed take: Timeout"));
                    let taken = ring.take().expect("the ring is never closed in this model");
                    (taken, "timed out, then taken")
                }
                Err(error) => panic!("timed take on an open ring failed: {error}"),
            };
            fixture.ledger.deliver(&taken);
            fixture.shadow.released();
            drop(taken);
            outcome
        });
        let timer = fixture.spawn("timer", move |fixture| {
            fixture.ring.gate().park().expire(deadline)
        });

        let Fixture {
            ring,
            ledger,
            shadow,
        } = &*fixture;

        let producer = fixture.producer();
        let mut claim = producer.claim().expect("the ring is open");
        shadow.acquired();
        claim.fill(0);
        assert_eq!(claim.publish().expect("the ring is open"), 0);
        ledger.published(0);

        let outcome = worker.join().unwrap();
        timer.join().unwrap();

        // With the worker gone, a publish must find no registered worker. A
        // registration left behind would make it issue a wake call that wakes
        // no thread.
        let wake_calls = ring.stats().worker_wake_calls;
        let mut claim = producer
            .try_claim()
            .expect("the worker released the only slot");
        claim.fill(1);
        assert_eq!(claim.publish().expect("the ring is open"), 1);
        ledger.published(1);
        assert_eq!(
            ring.stats().worker_wake_calls,
            wake_calls,
            "a publish after the worker left made a wake call: a stale registration"
        );
        let taken = ring.try_take().expect("the chunk just published");
        ledger.deliver(&taken);
        drop(taken);
        drop(producer);

        fixture.check_drained_model_park();
        tally.record(outcome);
    });
    outcomes.assert_seen(&["taken before the deadline", "timed out, then taken"]);
}
