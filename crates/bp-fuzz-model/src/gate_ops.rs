//! The `gate_ops` target: rounds of water marks and gate operations, checked
//! against a model that keeps only the count and the closed flag.
//!
//! Each round passes its marks, which are often invalid on purpose, to
//! [`GateConfig::new`] and compares the result with the rule `low < high <=
//! MAX_HIGH`. With valid marks it builds a gate over `ExpiredPark` and runs
//! the round's operations: non-blocking and blocking acquires, acquires whose
//! deadline has passed, releases of any held permit, and closes. After every
//! operation the gate's count, closed flag and counters must equal the
//! model's.

use arbitrary::{Arbitrary, Unstructured};
use bp_core::{
    AcquireError, AcquireTimeoutError, ConfigError, Gate, GateConfig, GateStats, OwnedPermit,
    Permit, TryAcquireError, MAX_HIGH,
};

use crate::park::{ExpiredPark, Passed};

/// A whole fuzz input: independent rounds, each with a fresh gate.
#[derive(Arbitrary, Debug)]
pub struct GateInput {
    rounds: Vec<Round>,
}

/// Water marks and the operations to run on a gate built with them.
#[derive(Arbitrary, Debug)]
struct Round {
    low: Mark,
    high: Mark,
    ops: Vec<GateOp>,
}

/// A water mark, biased toward the values where validation can go wrong.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Mark {
    Small(u8),
    MaxHighMinusOne,
    MaxHigh,
    AboveMaxHigh,
    U32Max,
    Any(u32),
}

impl Mark {
    fn value(self) -> u32 {
        match self {
            // Small marks keep the gate reachable: a run of acquires fills it.
            Self::Small(value) => u32::from(value % 16),
            Self::MaxHighMinusOne => MAX_HIGH - 1,
            Self::MaxHigh => MAX_HIGH,
            Self::AboveMaxHigh => MAX_HIGH + 1,
            Self::U32Max => u32::MAX,
            Self::Any(value) => value,
        }
    }
}

/// One operation on the gate.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum GateOp {
    TryAcquire,
    TryAcquireOwned,
    /// An untimed acquire, run only where it cannot block: on one thread
    /// nothing could release a unit while it sleeps.
    Acquire,
    AcquireOwned,
    /// An acquire whose deadline has already passed.
    AcquireExpired,
    AcquireOwnedExpired,
    /// Drops the held permit at this position, modulo the number held.
    Release(u16),
    Close,
}

type TestGate = Gate<ExpiredPark>;

/// A permit held by the run, in either of its two forms.
enum Held<'g> {
    Borrowed(#[allow(dead_code)] Permit<'g, ExpiredPark>),
    Owned(#[allow(dead_code)] OwnedPermit<&'g TestGate, ExpiredPark>),
}

/// The reference model: what the gate must report after each operation.
#[derive(Debug)]
struct Model {
    low: u32,
    high: u32,
    count: u32,
    closed: bool,
    peak: u32,
    /// Acquires that took the blocking path and timed out.
    parks: usize,
}

/// The result every acquire is reduced to, so that all of them compare
/// against one expected outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Acquired,
    Full,
    TimedOut,
    Closed,
}

/// Decodes `data` as a [`GateInput`] and runs it; panics at the first
/// difference between the gate and the model.
pub fn run(data: &[u8]) {
    let Ok(input) = GateInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    for round in &input.rounds {
        run_round(round);
    }
}

fn run_round(round: &Round) {
    let (low, high) = (round.low.value(), round.high.value());
    let Some(config) = check_config(low, high) else {
        return;
    };

    let gate = Gate::new(config, ExpiredPark::default());
    assert_eq!(gate.config(), config);
    let mut model = Model {
        low,
        high,
        count: 0,
        closed: false,
        peak: 0,
        parks: 0,
    };
    let mut held = Vec::new();
    model.check(&gate);

    for &op in &round.ops {
        apply(op, &gate, &mut model, &mut held);
        model.check(&gate);
    }

    // Conservation: once every permit is back, nothing is in flight.
    model.count -= held.len() as u32;
    drop(held);
    model.check(&gate);
    assert_eq!(gate.in_flight(), 0);
}

/// Passes the marks to `GateConfig::new` and checks its result against the
/// rule `low < high <= MAX_HIGH`. Returns the config if it is valid.
fn check_config(low: u32, high: u32) -> Option<GateConfig> {
    let result = GateConfig::new(low, high);
    let high_too_large = high > MAX_HIGH;
    let low_not_below = low >= high;

    match result {
        Ok(config) => {
            assert!(
                !high_too_large && !low_not_below,
                "accepted invalid marks low = {low}, high = {high}"
            );
            assert_eq!((config.low(), config.high()), (low, high));
            Some(config)
        }
        // When both rules are broken, either error is correct.
        Err(ConfigError::HighTooLarge {
            high: reported,
            max,
        }) => {
            assert!(
                high_too_large,
                "rejected low = {low}, high = {high} as high too large"
            );
            assert_eq!((reported, max), (high, MAX_HIGH));
            None
        }
        Err(ConfigError::LowNotBelowHigh {
            low: reported_low,
            high: reported_high,
        }) => {
            assert!(
                low_not_below,
                "rejected low = {low}, high = {high} as low not below high"
            );
            assert_eq!((reported_low, reported_high), (low, high));
            None
        }
        Err(error) => panic!("unexpected error for low = {low}, high = {high}: {error:?}"),
    }
}

fn apply<'g>(op: GateOp, gate: &'g TestGate, model: &mut Model, held: &mut Vec<Held<'g>>) {
    match op {
        GateOp::TryAcquire => {
            let result = gate.try_acquire().map(Held::Borrowed);
            let outcome = try_outcome(&result);
            model.acquire(outcome, false, held, result);
        }
        GateOp::TryAcquireOwned => {
            let result = OwnedPermit::try_acquire(gate).map(Held::Owned);
            let outcome = try_outcome(&result);
            model.acquire(outcome, false, held, result);
        }
        GateOp::Acquire | GateOp::AcquireOwned => {
            if model.would_block() {
                return;
            }
            let result = if matches!(op, GateOp::Acquire) {
                gate.acquire().map(Held::Borrowed)
            } else {
                OwnedPermit::acquire(gate).map(Held::Owned)
            };
            let outcome = match &result {
                Ok(_) => Outcome::Acquired,
                Err(AcquireError) => Outcome::Closed,
            };
            model.acquire(outcome, false, held, result);
        }
        GateOp::AcquireExpired => {
            let result = gate.acquire_until(Passed).map(Held::Borrowed);
            let outcome = timeout_outcome(&result);
            model.acquire(outcome, true, held, result);
        }
        GateOp::AcquireOwnedExpired => {
            let result = OwnedPermit::acquire_until(gate, Passed).map(Held::Owned);
            let outcome = timeout_outcome(&result);
            model.acquire(outcome, true, held, result);
        }
        GateOp::Release(position) => {
            if held.is_empty() {
                return;
            }
            let permit = held.remove(usize::from(position) % held.len());
            drop(permit);
            model.count -= 1;
        }
        GateOp::Close => {
            assert_eq!(
                gate.close(),
                !model.closed,
                "close must report whether this call closed the gate"
            );
            model.closed = true;
        }
    }
}

fn try_outcome<T>(result: &Result<T, TryAcquireError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Acquired,
        Err(TryAcquireError::Full) => Outcome::Full,
        Err(TryAcquireError::Closed) => Outcome::Closed,
        Err(error) => panic!("unexpected try_acquire error {error:?}"),
    }
}

fn timeout_outcome<T>(result: &Result<T, AcquireTimeoutError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Acquired,
        Err(AcquireTimeoutError::Timeout) => Outcome::TimedOut,
        Err(AcquireTimeoutError::Closed) => Outcome::Closed,
        Err(error) => panic!("unexpected acquire_until error {error:?}"),
    }
}

impl Model {
    /// Returns whether an untimed acquire would block now.
    fn would_block(&self) -> bool {
        !self.closed && self.count >= self.high
    }

    /// Returns what an acquire must answer now; `expired` for one whose
    /// deadline has passed, as opposed to a non-blocking try.
    fn expected(&self, expired: bool) -> Outcome {
        if self.closed {
            Outcome::Closed
        } else if self.count < self.high {
            Outcome::Acquired
        } else if expired {
            // Full means above low, so a blocked producer may not take a
            // unit, and its deadline has passed.
            Outcome::TimedOut
        } else {
            Outcome::Full
        }
    }

    /// Checks an acquire's `outcome` against the model and records its effect.
    fn acquire<'g, E>(
        &mut self,
        outcome: Outcome,
        expired: bool,
        held: &mut Vec<Held<'g>>,
        result: Result<Held<'g>, E>,
    ) {
        let expected = self.expected(expired);
        assert_eq!(
            outcome, expected,
            "acquire answered {outcome:?} at count {} of high {} (closed: {})",
            self.count, self.high, self.closed
        );
        match outcome {
            Outcome::Acquired => {
                self.count += 1;
                self.peak = self.peak.max(self.count);
                if let Ok(permit) = result {
                    held.push(permit);
                }
            }
            Outcome::TimedOut => self.parks += 1,
            Outcome::Full | Outcome::Closed => {}
        }
    }

    /// Compares everything the gate reports with the model.
    fn check(&self, gate: &TestGate) {
        assert!(self.count <= self.high, "model above high");
        assert!(self.low < self.high);
        assert_eq!(gate.in_flight(), self.count, "in-flight count");
        assert_eq!(gate.is_closed(), self.closed, "closed flag");

        // With one thread, every waiter has deregistered before the next
        // release, so no release or close may pay for a wake call.
        let expected = GateStats {
            parks: self.parks,
            wake_calls: 0,
            peak_in_flight: self.peak,
        };
        assert_eq!(gate.stats(), expected, "gate counters");
        assert_eq!(gate.park().waits(), self.parks, "waits on the park");
        assert_eq!(gate.park().wakes(), 0, "wake calls on the park");
    }
}
