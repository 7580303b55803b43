//! A fixed-capacity ring of reusable chunk slots between one producer and
//! any number of workers.
//!
//! # Algorithm
//!
//! Three pieces of shared state, each changed only by read-modify-writes or by
//! the one thread that owns it:
//!
//! - the [`Gate`] counts slots in flight (claimed, published or taken). A
//!   claim takes a unit first, so at most `high <= capacity` slots are ever
//!   out of the free set, and the producer blocks with hysteresis at `high`.
//! - each slot's `state` word is `FREE` or `IN_USE`. After taking a gate
//!   unit, the producer scans from where its last claim stopped for a `FREE`
//!   slot. A worker marks its slot `FREE` *before* it releases the gate unit,
//!   so the number of slots out of the free set never exceeds the gate count;
//!   after a successful acquire at most `high - 1` other slots are in use and
//!   the scan always finds a free one, in whatever order earlier slots were
//!   released. A slow worker therefore never stalls the others.
//! - the published queue: entry `i` of the queue lives in slot `i`'s
//!   `queue_entry` word. The producer writes the index of the slot it
//!   publishes at its queue position, then adds one to the `published`
//!   word (laid out like the gate's word: count, waiters, closed). A worker
//!   first takes one unit of `published`, which guarantees that a written
//!   entry is waiting for it. It then reads the entry at the shared `head`
//!   position and advances `head` with a compare-and-swap; only if that
//!   succeeds is the entry it read its own.
//!
//! Workers park on the `published` word exactly as producers park on the
//! gate: register, then sleep on the registered value. A publish wakes one
//! worker only when more workers are registered than chunks are pending, so
//! a worker that was woken but has not yet taken its chunk is not woken again.
//!
//! # Why a worker never reads a reused queue entry
//!
//! The producer reuses the entry of position `i` for position `i + capacity`.
//! While `head` is still `i`, no chunk at positions `i..i + capacity` has
//! been taken, so all of them hold a slot, and with the slot being claimed
//! that would make `capacity + 1`. So if the worker's compare-and-swap finds
//! `head` unchanged, the entry it read just before is the one for `i`.
//! Reading the entry *after* advancing `head` would not be safe: other
//! workers could then take and release later chunks, and the producer could
//! lap the entry while the first worker is preempted.
//!
//! NOTE: the argument assumes `head` does not return to the same value
//! between the read and the compare-and-swap, which takes `usize::MAX`
//! takes during that window: impossible with a 64-bit `usize`, and about
//! four billion takes while one worker is stopped on a 32-bit target.
//!
//! # Memory orderings
//!
//! - Slot data moves producer to worker: the producer's writes, the
//!   `queue_entry` store and the Release `fetch_add` on `published` come
//!   first; the worker's Acquire compare-and-swap on `published` synchronizes
//!   with every earlier publish (all writes to that word are read-modify-
//!   writes, so each publish heads a release sequence the worker reads from).
//!   The `head` compare-and-swap is AcqRel and its load Acquire, so that a
//!   worker that ends up with an entry counted by another worker's
//!   reservation still sees it: the chain of `head` read-modify-writes
//!   carries the happens-before.
//! - Slot data moves worker to producer: the worker's Release store of `FREE`
//!   and its Release gate release come after its last access; the producer's
//!   Acquire gate compare-and-swap and its Acquire load of the slot state
//!   make those accesses happen-before its reuse of the slot.

mod error;
mod producer;
mod slot;
mod taken;

pub use error::{
    ClaimError, ClaimTimeoutError, ProducerBusy, PublishError, RingError, TakeTimeoutError,
    TryClaimError, TryTakeError,
};
pub use producer::{Claim, Producer};
pub use slot::Slot;
pub use taken::Taken;

use core::fmt;
use core::marker::PhantomData;

use crate::gate::{Gate, GateConfig, GateStats};
use crate::padded::Padded;
use crate::park::{Park, WaitOutcome};
use crate::sync::{AtomicBool, AtomicU32, AtomicUsize, Ordering, UnsafeCell};
use crate::word::{count, is_closed, waiters, CLOSED, COUNT_MASK, MAX_WAITERS, WAITER_ONE};

/// Largest number of slots a ring accepts: the largest count the published
/// word can hold.
pub const MAX_CAPACITY: usize = COUNT_MASK as usize;

/// A fixed set of reusable slots handed from one producer to many workers,
/// with backpressure from a [`Gate`].
///
/// `S` is the storage: `[Slot<T>; N]` for a `static` ring (see
/// [`Ring::new_array`]) or any `AsRef<[Slot<T>]>`, such as a boxed slice, for a
/// ring sized at run time (see [`Ring::new`]). `P` is the [`Park`] both
/// sides sleep with.
pub struct Ring<T, S, P> {
    slots: S,
    gate: Padded<Gate<P>>,
    /// Published-and-not-taken count, registered workers, closed flag; see `word.rs`.
    published: Padded<AtomicU32>,
    /// Queue position the next worker reads, counting up to `position_wrap`
    /// and then from 0. Entry `position % capacity` belongs to it.
    head: Padded<AtomicUsize>,
    /// Largest multiple of the capacity that fits a `usize`: positions wrap
    /// there so that `position % capacity` stays continuous.
    position_wrap: usize,
    /// Whether a [`Producer`] handle exists.
    producer_held: AtomicBool,
    /// Producer-only state, accessed only through the one [`Producer`] handle.
    producer: Padded<UnsafeCell<ProducerState>>,
    /// Times a worker registered to park.
    worker_parks: AtomicUsize,
    /// Times a publish or a close woke workers.
    worker_wake_calls: AtomicUsize,
    item: PhantomData<fn() -> T>,
}

/// Returns the largest multiple of `capacity` that fits a `usize`.
const fn position_wrap(capacity: usize) -> usize {
    (usize::MAX / capacity) * capacity
}

/// State only the producer handle touches.
#[derive(Debug, Default)]
pub(crate) struct ProducerState {
    /// Sequence number of the next publish.
    next_seq: u64,
    /// Queue position of the next publish, in `0..capacity`.
    tail: u32,
    /// Slot index where the next free-slot scan starts.
    cursor: u32,
}

/// Counters of a ring, read by [`Ring::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingStats {
    /// The gate's counters: producer parks, wake calls, peak slots in flight.
    pub gate: GateStats,
    /// Times a worker registered to sleep in a take. A blocked take that
    /// ended while the park's spin ran is not counted.
    pub worker_parks: usize,
    /// Wake calls issued to parked workers.
    pub worker_wake_calls: usize,
}

// SAFETY: the producer state is touched only by the holder of the one
// `Producer` handle (enforced by `producer_held`), slots are `Sync` for
// `T: Send`, and everything else is atomic.
unsafe impl<T: Send, S: Sync, P: Sync> Sync for Ring<T, S, P> {}

impl<T, const N: usize, P> Ring<T, [Slot<T>; N], P> {
    /// Creates a ring over an inline array of slots; `const`, so the ring
    /// can live in a `static`.
    ///
    /// # Panics
    ///
    /// If `config.high()` exceeds `N`. In a `static` initializer this is a
    /// compile error. `N == 0` and `N > MAX_CAPACITY` are always compile errors.
    ///
    /// ```
    /// use bp_core::{GateConfig, Ring, Slot, SpinPark};
    /// static RING: Ring<[u8; 64], [Slot<[u8; 64]>; 4], SpinPark> = Ring::new_array(
    ///     [const { Slot::new([0; 64]) }; 4],
    ///     GateConfig::new_const::<1, 4>(),
    ///     SpinPark::new(),
    /// );
    ///
    /// let producer = RING.producer().unwrap();
    /// let mut claim = producer.try_claim().unwrap();
    /// claim[0] = 42;
    /// assert_eq!(claim.publish().unwrap(), 0);
    ///
    /// let chunk = RING.try_take().unwrap();
    /// assert_eq!((chunk.seq(), chunk[0]), (0, 42));
    /// ```
    #[cfg(not(loom))]
    pub const fn new_array(slots: [Slot<T>; N], config: GateConfig, park: P) -> Self {
        const {
            assert!(N > 0, "a ring needs at least one slot");
            assert!(N <= MAX_CAPACITY, "ring capacity exceeds MAX_CAPACITY");
        }
        assert!(
            config.high() as usize <= N,
            "the high water mark exceeds the ring capacity"
        );
        Self {
            slots,
            gate: Padded::new(Gate::new(config, park)),
            published: Padded::new(AtomicU32::new(0)),
            head: Padded::new(AtomicUsize::new(0)),
            position_wrap: position_wrap(N),
            producer_held: AtomicBool::new(false),
            producer: Padded::new(UnsafeCell::new(ProducerState {
                next_seq: 0,
                tail: 0,
                cursor: 0,
            })),
            worker_parks: AtomicUsize::new(0),
            worker_wake_calls: AtomicUsize::new(0),
            item: PhantomData,
        }
    }
}

impl<T, S: AsRef<[Slot<T>]>, P: Park> Ring<T, S, P> {
    /// Creates a ring over `slots`, whose length is the capacity.
    ///
    /// # Errors
    ///
    /// [`RingError::ZeroCapacity`], [`RingError::CapacityTooLarge`] (above
    /// [`MAX_CAPACITY`]), or [`RingError::HighAboveCapacity`].
    pub fn new(slots: S, config: GateConfig, park: P) -> Result<Self, RingError> {
        let capacity = slots.as_ref().len();
        if capacity == 0 {
            return Err(RingError::ZeroCapacity);
        }
        if capacity > MAX_CAPACITY {
            return Err(RingError::CapacityTooLarge {
                capacity,
                max: MAX_CAPACITY,
            });
        }
        if config.high() as usize > capacity {
            return Err(RingError::HighAboveCapacity {
                high: config.high(),
                capacity,
            });
        }
        Ok(Self {
            slots,
            gate: Padded::new(Gate::new(config, park)),
            published: Padded::new(AtomicU32::new(0)),
            head: Padded::new(AtomicUsize::new(0)),
            position_wrap: position_wrap(capacity),
            producer_held: AtomicBool::new(false),
            producer: Padded::new(UnsafeCell::new(ProducerState::default())),
            worker_parks: AtomicUsize::new(0),
            worker_wake_calls: AtomicUsize::new(0),
            item: PhantomData,
        })
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// Returns the gate that bounds the slots in flight.
    pub fn gate(&self) -> &Gate<P> {
        &self.gate
    }

    /// Returns the number of slots out of the free set now (claimed,
    /// published or taken). The value may be stale when the caller reads it.
    pub fn in_flight(&self) -> u32 {
        self.gate.in_flight()
    }

    /// Returns the number of chunks published and not yet taken now.
    pub fn published(&self) -> u32 {
        count(self.published.load(Ordering::Relaxed))
    }

    /// Returns whether the ring is closed.
    pub fn is_closed(&self) -> bool {
        is_closed(self.published.load(Ordering::Relaxed))
    }

    /// Returns the ring's counters.
    pub fn stats(&self) -> RingStats {
        RingStats {
            gate: self.gate.stats(),
            worker_parks: self.worker_parks.load(Ordering::Relaxed),
            worker_wake_calls: self.worker_wake_calls.load(Ordering::Relaxed),
        }
    }

    /// Takes the producer handle, the only way to claim and publish slots.
    ///
    /// At most one handle exists at a time; dropping it lets the next call
    /// succeed, so an interrupt handler may take it on every entry.
    ///
    /// # Errors
    ///
    /// [`ProducerBusy`] while another handle exists.
    pub fn producer(&self) -> Result<Producer<'_, T, S, P>, ProducerBusy> {
        // Acquire: pairs with the Release in the previous handle's drop, so
        // its writes to the producer state happen-before ours.
        if self.producer_held.swap(true, Ordering::Acquire) {
            return Err(ProducerBusy);
        }
        Ok(Producer::new(self))
    }

    /// Closes the ring from either side.
    ///
    /// Claims fail with `Closed` from now on. Workers still receive every
    /// chunk published before the close, then `take` returns `None`. Every
    /// parked producer and worker wakes. Slots held now release normally.
    /// Returns `true` if this call closed the ring.
    pub fn close(&self) -> bool {
        let closed_gate = self.gate.close();

        // Relaxed: the flag publishes no data; parked workers need only the
        // word's total order, and the wake below.
        let previous = self.published.fetch_or(CLOSED, Ordering::Relaxed);
        if !is_closed(previous) && waiters(previous) != 0 {
            self.worker_wake_calls.fetch_add(1, Ordering::Relaxed);
            self.gate.park().wake_all(&self.published);
        }
        closed_gate || !is_closed(previous)
    }

    /// Takes the oldest published chunk without blocking.
    ///
    /// Never calls the park, so it is safe in an interrupt handler.
    ///
    /// # Errors
    ///
    /// [`TryTakeError::Empty`] when nothing is published,
    /// [`TryTakeError::Closed`] when the ring is closed and drained.
    #[inline]
    pub fn try_take(&self) -> Result<Taken<'_, T, S, P>, TryTakeError> {
        // Relaxed: only a guess for the compare-and-swap.
        let mut state = self.published.load(Ordering::Relaxed);
        loop {
            if count(state) == 0 {
                return Err(if is_closed(state) {
                    TryTakeError::Closed
                } else {
                    TryTakeError::Empty
                });
            }

            // Acquire: synchronizes with the Release of every publish so far.
            match self.published.compare_exchange_weak(
                state,
                state - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(self.take_reserved()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Takes the oldest published chunk, blocking while none is published.
    ///
    /// Returns `None` once the ring is closed and every chunk published before
    /// the close has been taken.
    #[inline]
    pub fn take(&self) -> Option<Taken<'_, T, S, P>> {
        match self.take_inner(None) {
            Ok(taken) => Some(taken),
            Err(TakeTimeoutError::Closed) => None,
            Err(TakeTimeoutError::Timeout) => {
                unreachable!("a take without a deadline cannot time out")
            }
        }
    }

    /// Takes the oldest published chunk like [`take`](Self::take), giving up at
    /// `deadline`.
    ///
    /// # Errors
    ///
    /// [`TakeTimeoutError::Timeout`] if the deadline passes with nothing
    /// published, [`TakeTimeoutError::Closed`] once closed and drained.
    #[inline]
    pub fn take_until(
        &self,
        deadline: P::Deadline,
    ) -> Result<Taken<'_, T, S, P>, TakeTimeoutError> {
        self.take_inner(Some(deadline))
    }

    #[inline]
    fn take_inner(
        &self,
        deadline: Option<P::Deadline>,
    ) -> Result<Taken<'_, T, S, P>, TakeTimeoutError> {
        match self.try_take() {
            Ok(taken) => Ok(taken),
            Err(TryTakeError::Closed) => Err(TakeTimeoutError::Closed),
            Err(TryTakeError::Empty) => self.take_slow(deadline),
        }
    }

    /// Registers, parks and takes once a chunk is published: the blocked path of a take.
    #[cold]
    fn take_slow(
        &self,
        deadline: Option<P::Deadline>,
    ) -> Result<Taken<'_, T, S, P>, TakeTimeoutError> {
        let park = self.gate.park();
        let mut registered = false;
        let mut timed_out = false;
        // Spin rounds asked of the park so far, or `None` once it declined,
        // so that a registration that then loses a race does not ask again.
        let mut spin_round = Some(0);
        // Relaxed: every decision below is confirmed by a read-modify-write.
        let mut state = self.published.load(Ordering::Relaxed);
        loop {
            let deregister = if registered { WAITER_ONE } else { 0 };

            // A chunk is there: take its unit and deregister in one step. This
            // comes before the closed and timeout checks, so a chunk published
            // before a close is still delivered, and a worker whose wait timed
            // out as a publish woke it does not leave the chunk behind.
            if count(state) > 0 {
                // Acquire: synchronizes with the Release of every publish so far.
                match self.published.compare_exchange_weak(
                    state,
                    state - 1 - deregister,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(self.take_reserved()),
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            // Closed and drained, or out of time: leave, deregistering.
            if is_closed(state) || timed_out {
                // Relaxed: deregistration publishes nothing.
                match self.published.compare_exchange_weak(
                    state,
                    state - deregister,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) if is_closed(state) => return Err(TakeTimeoutError::Closed),
                    Ok(_) => return Err(TakeTimeoutError::Timeout),
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            if !registered {
                // Unregistered, a worker costs the producer nothing: let the
                // park spin a little before paying for a sleep and a wake.
                if let Some(round) = spin_round {
                    // A yield can give the CPU away for a whole time slice, so
                    // a timed wait stops spinning once its deadline passes.
                    // Round 0 skips the clock read, so a wait that ends there pays none.
                    let expired =
                        round > 0 && deadline.is_some_and(|deadline| park.is_past(deadline));
                    if expired {
                        timed_out = true;
                        continue;
                    }
                    if park.spin(&self.published, round) {
                        spin_round = Some(round + 1);
                        state = self.published.load(Ordering::Relaxed);
                        continue;
                    }
                    spin_round = None;
                }

                if waiters(state) == MAX_WAITERS {
                    // NOTE: more than MAX_WAITERS workers blocked at once. Sleeping
                    // unregistered could miss the wake, so this worker polls instead.
                    core::hint::spin_loop();
                    if let Some(deadline) = deadline {
                        timed_out = park.is_past(deadline);
                    }
                    state = self.published.load(Ordering::Relaxed);
                    continue;
                }

                // Relaxed: registration only needs the word's total order,
                // which decides whether the next publish sees us.
                match self.published.compare_exchange_weak(
                    state,
                    state + WAITER_ONE,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        registered = true;
                        state += WAITER_ONE;
                        self.worker_parks.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(actual) => {
                        state = actual;
                        continue;
                    }
                }
            }

            // Sleep only while the word still holds the value we registered in.
            if park.wait(&self.published, state, deadline) == WaitOutcome::TimedOut {
                timed_out = true;
            }
            state = self.published.load(Ordering::Relaxed);
        }
    }

    /// Finds the chunk that a successful `published` decrement reserved.
    #[inline]
    fn take_reserved(&self) -> Taken<'_, T, S, P> {
        let slots = self.slots.as_ref();
        let capacity = slots.len();

        // Acquire: the `head` value we read was written by a chain of
        // read-modify-writes; one of the workers in that chain reserved a
        // unit counted after the publish of this position, so the entry is
        // visible to us.
        let mut position = self.head.load(Ordering::Acquire);
        loop {
            // Relaxed: ordered after the Acquire above and before the AcqRel
            // below, which together decide whether the value read is ours.
            let index = slots[position % capacity]
                .queue_entry
                .load(Ordering::Relaxed);
            let next = if position + 1 == self.position_wrap {
                0
            } else {
                position + 1
            };

            // AcqRel: Acquire as for the load above; Release so that the next
            // worker to advance `head` inherits our view of the queue. If
            // `head` is still `position`, the producer cannot have reused the
            // entry: that would need `capacity + 1` slots in use.
            match self.head.compare_exchange_weak(
                position,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    debug_assert!((index as usize) < capacity);
                    return Taken::new(self, index);
                }
                Err(actual) => position = actual,
            }
        }
    }

    /// Returns slot `index` to the free set and gives back its gate unit.
    #[inline]
    pub(crate) fn release_slot(&self, index: u32) {
        let slot = &self.slots.as_ref()[index as usize];

        // Release: the holder's accesses to the slot happen-before the
        // producer's Acquire load that sees FREE. The gate release follows,
        // so the gate count never undercounts slots out of the free set.
        slot.state.store(slot::FREE, Ordering::Release);
        self.gate.release_unit();
    }

    pub(crate) fn slots(&self) -> &[Slot<T>] {
        self.slots.as_ref()
    }

    pub(crate) fn producer_state(&self) -> &UnsafeCell<ProducerState> {
        &self.producer
    }

    pub(crate) fn producer_dropped(&self) {
        // Release: our writes to the producer state happen-before the next
        // handle's Acquire swap.
        self.producer_held.store(false, Ordering::Release);
    }

    /// Counts one more published chunk and wakes a worker if one is parked.
    /// Returns `false`, counting nothing, if the ring is closed.
    #[inline]
    pub(crate) fn count_published(&self) -> bool {
        // Relaxed: only a guess for the compare-and-swap.
        let mut state = self.published.load(Ordering::Relaxed);
        loop {
            if is_closed(state) {
                return false;
            }
            debug_assert!(count(state) < COUNT_MASK, "published count overflow");

            // Release: the slot's contents, sequence number and queue entry
            // happen-before the Acquire of the worker that takes this unit.
            match self.published.compare_exchange_weak(
                state,
                state + 1,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }

        // Wake only a worker that no pending chunk accounts for. A woken
        // worker stays registered until its take deregisters it, and each
        // pending chunk (including those published before this one) already
        // woke one registered worker or was published while all of them were
        // awake. So with `waiters <= count` every registered worker is awake
        // or about to find the word changed, and a wake call would be wasted.
        if waiters(state) > count(state) {
            self.wake_worker();
        }
        true
    }

    #[cold]
    fn wake_worker(&self) {
        self.worker_wake_calls.fetch_add(1, Ordering::Relaxed);
        self.gate.park().wake_one(&self.published);
    }
}

impl<T, S, P> fmt::Debug for Ring<T, S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("published", &count(self.published.load(Ordering::Relaxed)))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
