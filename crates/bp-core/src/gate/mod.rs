//! The gate: an in-flight counter with a high water mark where producers park
//! and a low water mark where they are woken again.
//!
//! # Algorithm
//!
//! The whole state is one [`AtomicU32`] laid out as described in `word.rs`:
//! the in-flight count, the number of producers registered as parked, and the
//! closed flag. It is also the word producers park on.
//!
//! - `try_acquire` is one compare-and-swap that adds one unit while the count
//!   is below `high` and the gate is open.
//! - A producer that finds the gate full takes the slow path. From then on it
//!   only acquires when the count is at or below `low` (hysteresis), so that one
//!   wake-up lets it run for `high - low` units. It first registers as a waiter
//!   in the word, then parks on the exact value it registered with.
//! - A release is one `fetch_sub`. Its result shows whether this release took
//!   the count from `low + 1` to `low` while waiters were registered; only that
//!   release calls `wake_all`. All other releases make no call.
//! - A waiter deregisters itself in the same compare-and-swap that acquires its
//!   unit, or when it leaves on close or timeout, so no stale registration
//!   outlives it.
//!
//! # Why no wake-up is lost
//!
//! The registration and every change of the count are read-modify-writes of
//! the one word, so they have a single total order. If the crossing release
//! comes after the registration, its `fetch_sub` sees the waiter and calls
//! `wake_all`. The parked producer either was already asleep (and is woken) or
//! had not yet slept, in which case the word no longer equals the value it
//! passes to [`Park::wait`], so the wait returns at once. If the crossing
//! release comes before the registration, the registration's compare-and-swap
//! reads the lowered count and the producer acquires instead of parking.
//!
//! # Memory orderings
//!
//! - A release's `fetch_sub` is `Release` and a successful acquire's
//!   compare-and-swap is `Acquire`: whatever the holder of a unit did before
//!   releasing it happens-before the work of the producer that reuses the unit.
//!   The ring relies on this to hand slots back to the producer.
//! - Registration, deregistration and `close` only need the total order of
//!   the word, which every read-modify-write sees, so they are `Relaxed`; the
//!   park implementation orders the sleep against the wake (the kernel's futex
//!   bucket lock, the model park's mutex).
//! - Counters are statistics and use `Relaxed`.

mod config;
mod error;
mod permit;

pub use config::{ConfigError, GateConfig, MAX_HIGH};
pub use error::{AcquireError, AcquireTimeoutError, TryAcquireError};
pub use permit::{OwnedPermit, Permit};

use crate::park::{Park, WaitOutcome};
use crate::sync::{AtomicU32, AtomicUsize, Ordering};
use crate::word::{count, is_closed, waiters, CLOSED, MAX_WAITERS, WAITER_ONE};

/// An in-flight counter with a high and a low water mark.
///
/// `P` is the [`Park`] implementation that blocked producers sleep with. See the
/// module documentation for the algorithm and its guarantees.
#[derive(Debug)]
pub struct Gate<P> {
    /// Count, waiters and closed flag; see `word.rs`.
    state: AtomicU32,
    low: u32,
    high: u32,
    park: P,
    /// Times a producer registered to park (at most one per blocked acquire).
    parks: AtomicUsize,
    /// Times a release or a close called `wake_all`.
    wake_calls: AtomicUsize,
    /// Largest count a successful acquire has produced.
    peak: AtomicU32,
}

/// Counters of a gate, read by [`Gate::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GateStats {
    /// Times a producer registered to sleep in an acquire. A blocked acquire
    /// that ended while the park's spin ran is not counted.
    pub parks: usize,
    /// Wake calls issued (each is one system call with a futex park).
    pub wake_calls: usize,
    /// Largest in-flight count reached.
    pub peak_in_flight: u32,
}

impl<P> Gate<P> {
    /// Creates an open gate with nothing in flight.
    ///
    /// This is a `const fn`, so a gate can live in a `static`:
    ///
    /// ```
    /// use bp_core::{Gate, GateConfig, SpinPark};
    /// static GATE: Gate<SpinPark> = Gate::new(GateConfig::new_const::<2, 8>(), SpinPark::new());
    /// let permit = GATE.try_acquire().unwrap();
    /// assert_eq!(GATE.in_flight(), 1);
    /// drop(permit);
    /// assert_eq!(GATE.in_flight(), 0);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(config: GateConfig, park: P) -> Self {
        Self {
            state: AtomicU32::new(0),
            low: config.low(),
            high: config.high(),
            park,
            parks: AtomicUsize::new(0),
            wake_calls: AtomicUsize::new(0),
            peak: AtomicU32::new(0),
        }
    }

    /// Creates an open gate with nothing in flight (loom build: not `const`).
    #[cfg(loom)]
    pub fn new(config: GateConfig, park: P) -> Self {
        Self {
            state: AtomicU32::new(0),
            low: config.low(),
            high: config.high(),
            park,
            parks: AtomicUsize::new(0),
            wake_calls: AtomicUsize::new(0),
            peak: AtomicU32::new(0),
        }
    }

    /// Returns the water marks this gate was built with.
    pub fn config(&self) -> GateConfig {
        // The fields were copied from a validated config, so this cannot fail.
        match GateConfig::new(self.low, self.high) {
            Ok(config) => config,
            Err(_) => unreachable!("gate marks were validated at construction"),
        }
    }

    /// The park implementation blocked producers use.
    pub fn park(&self) -> &P {
        &self.park
    }

    /// Returns the number of units in flight now.
    ///
    /// The value may be stale by the time the caller looks at it.
    pub fn in_flight(&self) -> u32 {
        count(self.state.load(Ordering::Relaxed))
    }

    /// Returns whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        is_closed(self.state.load(Ordering::Relaxed))
    }

    /// Returns the gate's counters.
    pub fn stats(&self) -> GateStats {
        GateStats {
            parks: self.parks.load(Ordering::Relaxed),
            wake_calls: self.wake_calls.load(Ordering::Relaxed),
            peak_in_flight: self.peak.load(Ordering::Relaxed),
        }
    }

    /// Takes one unit if fewer than `high` are in flight and the gate is open.
    ///
    /// Never blocks and never calls the park, so it is safe in an interrupt
    /// handler.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Full`] at the high water mark,
    /// [`TryAcquireError::Closed`] after [`close`](Self::close).
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_, P>, TryAcquireError>
    where
        P: Park,
    {
        self.try_acquire_unit()?;
        Ok(Permit::new(self))
    }

    /// Takes one unit, blocking while the gate is full.
    ///
    /// Once it has blocked, it resumes only when the count has fallen to the
    /// low water mark or below, or on close.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the gate is or becomes closed.
    #[inline]
    pub fn acquire(&self) -> Result<Permit<'_, P>, AcquireError>
    where
        P: Park,
    {
        match self.acquire_unit(None) {
            Ok(()) => Ok(Permit::new(self)),
            Err(AcquireTimeoutError::Closed) => Err(AcquireError),
            Err(AcquireTimeoutError::Timeout) => {
                unreachable!("an acquire without a deadline cannot time out")
            }
        }
    }

    /// Takes one unit like [`acquire`](Self::acquire), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`AcquireTimeoutError::Timeout`] if the deadline passes first,
    /// [`AcquireTimeoutError::Closed`] if the gate is or becomes closed.
    #[inline]
    pub fn acquire_until(&self, deadline: P::Deadline) -> Result<Permit<'_, P>, AcquireTimeoutError>
    where
        P: Park,
    {
        self.acquire_unit(Some(deadline))?;
        Ok(Permit::new(self))
    }

    /// Closes the gate: every parked producer wakes and every later acquire
    /// fails with `Closed`. Units still in flight release normally.
    ///
    /// Returns `true` if this call closed the gate, `false` if it was closed
    /// already. Safe in an interrupt handler only with a park whose wake calls
    /// are (such as [`SpinPark`](crate::SpinPark)).
    pub fn close(&self) -> bool
    where
        P: Park,
    {
        // Relaxed: closing publishes no data; it only needs its place in the
        // word's total order, which any read-modify-write has.
        let previous = self.state.fetch_or(CLOSED, Ordering::Relaxed);
        if is_closed(previous) {
            return false;
        }

        // A producer that registers after this sees the flag and does not
        // sleep; one registered before it may be asleep and needs the wake.
        if waiters(previous) != 0 {
            self.wake_calls.fetch_add(1, Ordering::Relaxed);
            self.park.wake_all(&self.state);
        }
        true
    }

    /// Adds one unit if the gate is open and below `high`.
    #[inline]
    pub(crate) fn try_acquire_unit(&self) -> Result<(), TryAcquireError> {
        // Relaxed: only a guess for the compare-and-swap, which re-reads.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if is_closed(state) {
                return Err(TryAcquireError::Closed);
            }
            if count(state) >= self.high {
                return Err(TryAcquireError::Full);
            }

            // Acquire on success: pairs with the Release of the release that
            // freed this unit. Relaxed on failure: we only retry.
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.record_peak(count(state) + 1);
                    return Ok(());
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Adds one unit, blocking with the park while the gate is full.
    #[inline]
    pub(crate) fn acquire_unit(
        &self,
        deadline: Option<P::Deadline>,
    ) -> Result<(), AcquireTimeoutError>
    where
        P: Park,
    {
        match self.try_acquire_unit() {
            Ok(()) => Ok(()),
            Err(TryAcquireError::Closed) => Err(AcquireTimeoutError::Closed),
            Err(TryAcquireError::Full) => self.acquire_slow(deadline),
        }
    }

    /// Registers, parks and acquires only at or below `low`: the blocked path.
    #[cold]
    fn acquire_slow(&self, deadline: Option<P::Deadline>) -> Result<(), AcquireTimeoutError>
    where
        P: Park,
    {
        let mut registered = false;
        let mut timed_out = false;
        // Spin rounds asked of the park so far, or `None` once it declined,
        // so that a registration that then loses a race does not ask again.
        let mut spin_round = Some(0);
        // Relaxed: every decision below is confirmed by a read-modify-write.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let deregister = if registered { WAITER_ONE } else { 0 };

            // Closed: leave, taking our registration with us.
            if is_closed(state) {
                if registered {
                    // Relaxed: deregistration only needs the word's total order.
                    self.state.fetch_sub(WAITER_ONE, Ordering::Relaxed);
                }
                return Err(AcquireTimeoutError::Closed);
            }

            // Drained to the low water mark: acquire and deregister in one step.
            if count(state) <= self.low {
                // Acquire on success: pairs with the Release of the releases
                // that drained the gate.
                match self.state.compare_exchange_weak(
                    state,
                    state + 1 - deregister,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        self.record_peak(count(state) + 1);
                        return Ok(());
                    }
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            // Deadline passed and the gate is still above low: give up.
            if timed_out {
                // Relaxed: deregistration publishes nothing.
                match self.state.compare_exchange_weak(
                    state,
                    state - deregister,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Err(AcquireTimeoutError::Timeout),
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            if !registered {
                // Unregistered, a producer costs the releasing threads
                // nothing: let the park spin a little before paying for a
                // sleep and a wake.
                if let Some(round) = spin_round {
                    // A yield can give the CPU away for a whole time slice, so
                    // a timed wait stops spinning once its deadline passes.
                    // Round 0 skips the clock read, so a wait that ends there pays none.
                    let expired =
                        round > 0 && deadline.is_some_and(|deadline| self.park.is_past(deadline));
                    if expired {
                        timed_out = true;
                        continue;
                    }
                    if self.park.spin(&self.state, round) {
                        spin_round = Some(round + 1);
                        state = self.state.load(Ordering::Relaxed);
                        continue;
                    }
                    spin_round = None;
                }

                if waiters(state) == MAX_WAITERS {
                    // NOTE: more than MAX_WAITERS producers blocked at once on
                    // one gate. Sleeping unregistered could miss the wake, so
                    // this producer polls instead; it stays correct but burns CPU.
                    core::hint::spin_loop();
                    if let Some(deadline) = deadline {
                        timed_out = self.park.is_past(deadline);
                    }
                    state = self.state.load(Ordering::Relaxed);
                    continue;
                }

                // Relaxed: registration only needs the word's total order,
                // which decides whether the crossing release sees us.
                match self.state.compare_exchange_weak(
                    state,
                    state + WAITER_ONE,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        registered = true;
                        state += WAITER_ONE;
                        self.parks.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            // Sleep only while the word still holds the value we registered in.
            if self.park.wait(&self.state, state, deadline) == WaitOutcome::TimedOut {
                timed_out = true;
            }
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// Gives back one unit; wakes parked producers if this release crosses `low`.
    #[inline]
    pub(crate) fn release_unit(&self)
    where
        P: Park,
    {
        // Release: everything the holder did happens-before the reuse of the
        // unit by the producer whose Acquire compare-and-swap reads this.
        let previous = self.state.fetch_sub(1, Ordering::Release);
        debug_assert!(
            count(previous) > 0,
            "gate released more units than acquired"
        );

        if waiters(previous) != 0 && count(previous) == self.low + 1 {
            self.wake_parked();
        }
    }

    #[cold]
    fn wake_parked(&self)
    where
        P: Park,
    {
        self.wake_calls.fetch_add(1, Ordering::Relaxed);
        self.park.wake_all(&self.state);
    }

    #[inline]
    fn record_peak(&self, in_flight: u32) {
        // Relaxed: a statistic. The load keeps the common case free of writes.
        if in_flight > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(in_flight, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests;
