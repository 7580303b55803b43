//! Parks for single-threaded runs, where no other thread could ever wake a
//! sleeper, so every wait must end at once by timing out.

use core::cell::Cell;
use core::sync::atomic::Ordering;

use bp_core::park::AtomicU32;
use bp_core::{Clock, Park, SpinPark, WaitOutcome};

/// Lowest bit of the waiters field in the state word of bp-core's gate and
/// ring: the count is in bits 0-15, the waiters in bits 16-30 and the closed
/// flag in bit 31.
const WAITERS_SHIFT: u32 = 16;

/// Mask of the waiters field, as above.
const WAITERS_MASK: u32 = 0x7fff << WAITERS_SHIFT;

/// Returns the number of waiters registered in a gate or ring state word.
fn waiters(word: u32) -> u32 {
    (word & WAITERS_MASK) >> WAITERS_SHIFT
}

/// A deadline that has always passed already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passed;

/// A park whose every wait times out at once, and which checks the park
/// contract from the sleeper's side and counts the calls.
///
/// With a single thread the word never changes concurrently, so each wait
/// must be given the word's current value. That value must also show the
/// caller registered as a waiter, because a release skips the wake call
/// when no waiter is registered.
#[derive(Debug, Default)]
pub struct ExpiredPark {
    waits: Cell<usize>,
    wakes: Cell<usize>,
}

impl ExpiredPark {
    /// Returns the number of `wait` calls so far.
    pub fn waits(&self) -> usize {
        self.waits.get()
    }

    /// Returns the number of `wake_one` and `wake_all` calls so far.
    pub fn wakes(&self) -> usize {
        self.wakes.get()
    }
}

impl Park for ExpiredPark {
    type Deadline = Passed;

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Passed>) -> WaitOutcome {
        assert!(
            deadline.is_some(),
            "untimed wait on one thread: nothing could ever wake it"
        );
        let current = word.load(Ordering::Relaxed);
        assert_eq!(
            current, expected,
            "wait called with a stale word value {expected:#x}, the word is {current:#x}"
        );
        assert!(
            waiters(expected) > 0,
            "wait called without a registered waiter in word {expected:#x}"
        );
        self.waits.set(self.waits.get() + 1);
        WaitOutcome::TimedOut
    }

    fn wake_one(&self, _word: &AtomicU32) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn wake_all(&self, _word: &AtomicU32) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn is_past(&self, _deadline: Passed) -> bool {
        true
    }
}

/// A clock that always reads 1, so the deadline 0 ([`PASSED`]) has passed.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoppedClock;

/// A deadline of [`StoppedClock`] that has passed.
pub const PASSED: u8 = 0;

impl Clock for StoppedClock {
    type Instant = u8;

    fn now(&self) -> u8 {
        PASSED + 1
    }
}

/// bp-core's spin park with a clock whose deadlines have passed.
pub type StoppedSpinPark = SpinPark<spin::relax::Spin, StoppedClock>;

/// Returns a spin park whose timed waits give up at once.
pub fn stopped_spin_park() -> StoppedSpinPark {
    SpinPark::with_clock(StoppedClock)
}
