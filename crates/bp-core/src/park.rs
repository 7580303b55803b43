//! The park contract: how a thread sleeps on a state word and how it is woken.
//!
//! Primitives in this crate never sleep by themselves. When one must wait, it
//! registers in its state word, then calls [`Park::wait`] with the exact word
//! value it based that decision on. Because `wait` sleeps only while the word
//! still holds that value, atomically with respect to [`Park::wake_one`] and
//! [`Park::wake_all`], a wake that happens between the decision and the sleep is
//! never lost: either the word has changed and `wait` returns at once, or the
//! sleeper is already queued when the wake arrives. This is the contract of
//! Linux `FUTEX_WAIT`/`FUTEX_WAKE`.
//!
//! Implementations:
//! - [`SpinPark`], here: for bare metal with no scheduler. It spins until the
//!   word changes or its optional clock passes the deadline.
//! - `bp_std::FutexPark`: the kernel futex on Linux, a portable fallback elsewhere.
//! - the model park in `loom-tests`: a loom mutex and condition variable that
//!   re-check the word under the lock, as the kernel does.

use core::marker::PhantomData;

use spin::relax::RelaxStrategy;

pub use crate::sync::AtomicU32;
use crate::sync::Ordering;

/// Why [`Park::wait`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Woken, or the word did not hold the expected value, or a spurious return.
    /// The caller must re-read the word and decide again.
    Woken,
    /// The deadline passed before a wake arrived.
    TimedOut,
}

/// How a thread sleeps on a state word and how sleepers are woken.
///
/// # Contract
///
/// - [`wait`](Park::wait) sleeps only if `*word == expected` at the moment the
///   sleep begins, atomically with respect to `wake_one` and `wake_all` on the
///   same word. It may return spuriously; it never sleeps past `deadline` by
///   more than the platform's timer slack.
/// - [`wake_one`](Park::wake_one) wakes at least one thread sleeping on `word`
///   if there is one; [`wake_all`](Park::wake_all) wakes every such thread.
/// - [`spin`](Park::spin), which has a default, returns `false` after a
///   bounded number of rounds.
///
/// An implementation that sleeps without this re-check loses wake-ups, and
/// the primitives of this crate then hang.
pub trait Park {
    /// A point in time after which a wait gives up.
    type Deadline: Copy;

    /// Sleeps while `*word == expected`, until woken or until `deadline`.
    fn wait(
        &self,
        word: &AtomicU32,
        expected: u32,
        deadline: Option<Self::Deadline>,
    ) -> WaitOutcome;

    /// Wakes one thread sleeping on `word`, if any.
    fn wake_one(&self, word: &AtomicU32);

    /// Wakes every thread sleeping on `word`.
    fn wake_all(&self, word: &AtomicU32);

    /// Returns whether `deadline` has passed.
    fn is_past(&self, deadline: Self::Deadline) -> bool;

    /// Waits briefly before a blocked thread registers, and returns whether
    /// the thread should read `word` again instead of registering.
    ///
    /// A waiter calls this with `round` 0, 1, 2, ... each time it reads the
    /// word and finds that it must block. On `true` it reads the word again
    /// and retries. On `false` it registers and calls [`wait`](Park::wait).
    /// An implementation must return `false` after a bounded number of
    /// rounds, and may return early once `word` changes. A short spin is
    /// cheaper than a sleep and a wake call, and no other thread pays for it,
    /// because no thread sends a wake call to one that has not registered.
    ///
    /// The default never spins.
    #[inline]
    fn spin(&self, word: &AtomicU32, round: u32) -> bool {
        let _ = (word, round);
        false
    }
}

impl<P: Park + ?Sized> Park for &P {
    type Deadline = P::Deadline;

    #[inline]
    fn wait(
        &self,
        word: &AtomicU32,
        expected: u32,
        deadline: Option<Self::Deadline>,
    ) -> WaitOutcome {
        (**self).wait(word, expected, deadline)
    }

    #[inline]
    fn wake_one(&self, word: &AtomicU32) {
        (**self).wake_one(word)
    }

    #[inline]
    fn wake_all(&self, word: &AtomicU32) {
        (**self).wake_all(word)
    }

    #[inline]
    fn is_past(&self, deadline: Self::Deadline) -> bool {
        (**self).is_past(deadline)
    }

    #[inline]
    fn spin(&self, word: &AtomicU32, round: u32) -> bool {
        (**self).spin(word, round)
    }
}

/// A monotonic time source for [`SpinPark`] deadlines.
pub trait Clock {
    /// A reading of the clock.
    type Instant: Copy + Ord;

    /// Returns the current reading.
    fn now(&self) -> Self::Instant;
}

/// The clock of a [`SpinPark`] that has none: its deadlines cannot be built, so
/// every wait on it is untimed.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClock;

/// A value that cannot exist: the deadline type of a park without a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Never {}

impl Clock for NoClock {
    type Instant = Never;

    fn now(&self) -> Never {
        // A `Never` cannot be constructed, so no deadline exists to compare
        // against; reaching this would need one.
        unreachable!("NoClock has no readings because no deadline of type Never exists")
    }
}

/// A park for bare metal: busy-waits until the word changes.
///
/// It needs no operating system and no interrupts, and every wake is a no-op,
/// because the sleeper notices the word change by itself. It burns the CPU
/// while it waits, so on a single core it only makes progress when the thread
/// that will change the word is an interrupt handler. `R` says how to pause
/// between reads (see [`spin::relax`]); `C` supplies deadlines.
#[derive(Debug)]
pub struct SpinPark<R = spin::relax::Spin, C = NoClock> {
    clock: C,
    relax: PhantomData<fn() -> R>,
}

impl SpinPark {
    /// Creates a spin park without a clock: waits on it cannot time out.
    pub const fn new() -> Self {
        Self {
            clock: NoClock,
            relax: PhantomData,
        }
    }
}

impl Default for SpinPark {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: RelaxStrategy, C: Clock> SpinPark<R, C> {
    /// Creates a spin park whose deadlines are readings of `clock`.
    pub const fn with_clock(clock: C) -> Self {
        Self {
            clock,
            relax: PhantomData,
        }
    }
}

impl<R: RelaxStrategy, C: Clock> Park for SpinPark<R, C> {
    type Deadline = C::Instant;

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<C::Instant>) -> WaitOutcome {
        // Relaxed: the caller re-reads the word with the ordering it needs after
        // this returns; here we only watch for a change.
        while word.load(Ordering::Relaxed) == expected {
            if let Some(deadline) = deadline {
                if self.clock.now() >= deadline {
                    return WaitOutcome::TimedOut;
                }
            }
            R::relax();
        }
        WaitOutcome::Woken
    }

    fn wake_one(&self, _word: &AtomicU32) {}

    fn wake_all(&self, _word: &AtomicU32) {}

    fn is_past(&self, deadline: C::Instant) -> bool {
        self.clock.now() >= deadline
    }
}
