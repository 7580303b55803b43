//! Loom models of the hand-rolled backpressure design that the gate replaces,
//! which must fail: they show that the models can catch the bugs the gate
//! exists to avoid.
//!
//! The design keeps an atomic in-flight count and a manual-reset event:
//!
//! - producer: if `in_flight >= HIGH`, then `event.wait(); event.reset();`,
//!   then `in_flight += 1`;
//! - consumer: `previous = in_flight.fetch_sub(1)`, then `event.set()` if
//!   `previous == HIGH`, or in the batched variant if `previous == LOW + 1`.
//!
//! The check, the wait and the reset are separate steps. A set that arrives
//! while the producer is not waiting stays set, so a later wait returns at
//! once although the count is still at `HIGH`, and the producer overshoots.
//! Resetting before the wait instead erases a set that arrived between the
//! check and the reset, and the producer sleeps forever.
//!
//! Each test passes only if loom finds the violation; `expect_violation`
//! panics when every execution passes. The tests print the panic message and
//! the events of the failing execution (run with `-- --nocapture`). The same
//! producer and consumer shape passes against the real gate in `loom_gate.rs`
//! (`parked_producer_resumes_at_low_water`, `wake_calls_at_most_one_per_crossing`).
#![cfg(loom)]

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Condvar, Mutex};
use loom_tests::{expect_violation, spawn_named, trace, Handoff, Model, Violation};

/// A manual-reset event: `set` wakes every waiter and the event stays set
/// until `reset`.
struct ResetEvent {
    is_set: Mutex<bool>,
    changed: Condvar,
}

impl ResetEvent {
    fn new() -> Self {
        Self {
            is_set: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn set(&self) {
        *self.is_set.lock().unwrap() = true;
        self.changed.notify_all();
    }

    fn reset(&self) {
        *self.is_set.lock().unwrap() = false;
    }

    /// Blocks until the event is set; returns at once if it is set already.
    fn wait(&self) {
        let mut is_set = self.is_set.lock().unwrap();
        while !*is_set {
            is_set = self.changed.wait(is_set).unwrap();
        }
    }
}

/// Where the producer resets the event relative to its wait.
#[derive(Clone, Copy)]
enum ResetOrder {
    /// `wait(); reset();`, the classic form.
    AfterWait,
    /// `reset(); wait();`, an attempt to drop stale sets.
    BeforeWait,
}

/// The hand-rolled gate: an in-flight count and a reset-event.
struct HandRolledGate {
    in_flight: AtomicUsize,
    event: ResetEvent,
    high: usize,
    /// A release sets the event when it finds the count at this value:
    /// `HIGH`, or `LOW + 1` in the batched variant.
    set_when_previous: usize,
    reset_order: ResetOrder,
}

impl HandRolledGate {
    /// Takes one unit and asserts the bound, which this design does not keep.
    fn acquire(&self) {
        // SeqCst everywhere: the bugs are in the order of the steps, not in
        // memory ordering, so the strongest ordering keeps that visible.
        let seen = self.in_flight.load(Ordering::SeqCst);
        trace::record(format_args!("sees in_flight = {seen}"));
        if seen >= self.high {
            match self.reset_order {
                ResetOrder::AfterWait => {
                    trace::record(format_args!("waits for the event"));
                    self.event.wait();
                    self.event.reset();
                    trace::record(format_args!("event was set; resets it"));
                }
                ResetOrder::BeforeWait => {
                    self.event.reset();
                    trace::record(format_args!("has reset the event; waits for it"));
                    self.event.wait();
                    trace::record(format_args!("event was set"));
                }
            }
        }

        let in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        trace::record(format_args!("acquires, in_flight = {in_flight}"));
        assert!(
            in_flight <= self.high,
            "in-flight bound exceeded: {in_flight} units in flight, high is {}",
            self.high
        );
    }

    fn release(&self) {
        let previous = self.in_flight.fetch_sub(1, Ordering::SeqCst);
        trace::record(format_args!(
            "releases, in_flight {previous} -> {}",
            previous - 1
        ));
        if previous == self.set_when_previous {
            trace::record(format_args!("sets the event"));
            self.event.set();
        }
    }
}

/// Builds a model where one producer acquires `items` units and hands each to
/// one consumer, which releases it.
fn producer_and_consumer(
    high: usize,
    set_when_previous: usize,
    reset_order: ResetOrder,
    items: usize,
) -> impl Fn() {
    move || {
        let gate = Arc::new(HandRolledGate {
            in_flight: AtomicUsize::new(0),
            event: ResetEvent::new(),
            high,
            set_when_previous,
            reset_order,
        });
        let queue = Arc::new(Handoff::<()>::new());

        let consumer = {
            let (gate, queue) = (Arc::clone(&gate), Arc::clone(&queue));
            spawn_named("consumer", move || {
                while queue.recv().is_some() {
                    gate.release();
                }
            })
        };

        for _ in 0..items {
            gate.acquire();
            queue.send(());
        }
        queue.close();
        consumer.join().unwrap();
    }
}

/// Asserts that loom's failure is one of the two this design is known for,
/// and not some unrelated error of the model.
fn assert_bound_or_wakeup_violation(violation: &Violation) {
    assert!(
        violation.message.contains("in-flight bound exceeded")
            || violation.message.contains("deadlock"),
        "loom failed the model for an unexpected reason: {}",
        violation.message
    );
    assert!(
        !violation.events.is_empty(),
        "the failing execution recorded no events"
    );
}

/// A release from `HIGH` sets the event while the producer is not waiting.
/// The stale set lets the producer's next wait return at once at `HIGH`, so
/// it overshoots. `HIGH = 1`, 3 items.
///
/// Unbounded. Measured: violation found after 2,731 executions, 0.2 s.
#[test]
fn stale_set_lets_producer_overshoot() {
    let violation = expect_violation(
        &Model::unbounded("stale_set_lets_producer_overshoot"),
        producer_and_consumer(1, 1, ResetOrder::AfterWait, 3),
    );
    assert_bound_or_wakeup_violation(&violation);
}

/// The batched variant: block at `HIGH = 2`, set the event when a release
/// takes the count to `LOW = 0`. A drain to `LOW` while the producer is not
/// waiting leaves the event set, and the producer overshoots later. 4 items.
///
/// Unbounded. Measured: violation found after 38,989 executions, 3 s.
#[test]
fn batched_stale_set_lets_producer_overshoot() {
    let violation = expect_violation(
        &Model::unbounded("batched_stale_set_lets_producer_overshoot"),
        producer_and_consumer(2, 1, ResetOrder::AfterWait, 4),
    );
    assert_bound_or_wakeup_violation(&violation);
}

/// Resetting before the wait drops stale sets, but also the set of a release
/// that lands between the producer's check and its reset. The producer then
/// sleeps with nothing left to wake it. Loom reports this lost wake-up as a
/// deadlock. `HIGH = 1`, 2 items.
///
/// Unbounded. Measured: violation found after 61 executions, 0.01 s.
#[test]
fn reset_before_wait_loses_wakeup() {
    let violation = expect_violation(
        &Model::unbounded("reset_before_wait_loses_wakeup"),
        producer_and_consumer(1, 1, ResetOrder::BeforeWait, 2),
    );
    assert_bound_or_wakeup_violation(&violation);
    assert!(
        violation.message.contains("deadlock"),
        "expected a lost wake-up, got: {}",
        violation.message
    );
}
