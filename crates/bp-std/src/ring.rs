//! A ring of reusable chunk slots shared by a producer thread and worker
//! threads, sized at run time.
//!
//! [`bounded`] allocates every slot once; after that, chunks pass through the
//! ring with no allocation. The producer blocks through the ring's gate at the
//! high water mark and resumes at the low one; workers block while nothing is
//! published. Dropping the [`Producer`] closes the ring so that workers drain
//! what was published and then see the end; dropping the last [`Worker`]
//! closes it so that the producer's claims fail.
//!
//! ```
//! use bp_std::ring::{bounded, RingConfig};
//!
//! let config = RingConfig { slots: 8, low: 2, high: 8 };
//! let (producer, worker) = bounded(config, |_| Vec::<u8>::with_capacity(4096)).unwrap();
//!
//! std::thread::scope(|scope| {
//!     let workers: Vec<_> = (0..3)
//!         .map(|_| {
//!             let worker = worker.clone();
//!             scope.spawn(move || {
//!                 let mut bytes = 0;
//!                 while let Some(chunk) = worker.take() {
//!                     bytes += chunk.len();
//!                 }
//!                 bytes
//!             })
//!         })
//!         .collect();
//!     drop(worker);
//!
//!     for n in 0..100 {
//!         let mut chunk = producer.claim().unwrap();
//!         chunk.clear();
//!         chunk.extend_from_slice(&[n; 100]);
//!         chunk.publish().unwrap();
//!     }
//!     drop(producer);
//!
//!     let total: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
//!     assert_eq!(total, 100 * 100);
//! });
//! ```

use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bp_core::{GateConfig, Slot};

pub use bp_core::{
    ClaimError, ClaimTimeoutError, PublishError, RingError, RingStats, TakeTimeoutError,
    TryClaimError, TryTakeError,
};

use crate::park::FutexPark;

type Storage<T> = Box<[Slot<T>]>;
type CoreRing<T> = bp_core::Ring<T, Storage<T>, FutexPark>;

/// A claimed slot: write the chunk in place, then [`publish`](bp_core::Claim::publish) it.
pub type Claim<'a, T> = bp_core::Claim<'a, 'static, T, Storage<T>, FutexPark>;

/// A taken chunk: read or write it in place; dropping it frees the slot.
pub type Taken<'a, T> = bp_core::Taken<'a, T, Storage<T>, FutexPark>;

/// Size and water marks of a ring built by [`bounded`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingConfig {
    /// Number of slots, allocated once; at most [`bp_core::MAX_CAPACITY`].
    pub slots: usize,
    /// Slots in flight at or below which a blocked producer resumes.
    pub low: u32,
    /// Slots in flight at which the producer blocks; at most `slots`.
    pub high: u32,
}

struct Shared<T> {
    ring: CoreRing<T>,
    /// Live [`Worker`] handles; the last one to drop closes the ring.
    workers: AtomicUsize,
}

/// Builds a ring of `config.slots` slots, each holding `init(index)`, and
/// returns its producer and its first worker handle.
///
/// # Errors
///
/// [`RingError`] if the slot count is 0 or above the maximum, if
/// `low >= high`, or if `high > slots`.
pub fn bounded<T: Send + 'static>(
    config: RingConfig,
    init: impl FnMut(usize) -> T,
) -> Result<(Producer<T>, Worker<T>), RingError> {
    let marks = GateConfig::new(config.low, config.high)?;
    if config.slots == 0 {
        return Err(RingError::ZeroCapacity);
    }
    if config.slots > bp_core::MAX_CAPACITY {
        return Err(RingError::CapacityTooLarge {
            capacity: config.slots,
            max: bp_core::MAX_CAPACITY,
        });
    }

    let mut init = init;
    let slots: Storage<T> = (0..config.slots)
        .map(|index| Slot::new(init(index)))
        .collect();
    let ring = CoreRing::new(slots, marks, FutexPark::new())?;
    let shared = Arc::new(Shared {
        ring,
        workers: AtomicUsize::new(1),
    });

    let handle = shared
        .ring
        .producer()
        .expect("a new ring has no producer handle yet");
    // SAFETY: the handle borrows the ring inside the `Arc` allocation, whose
    // address never changes. `Producer` keeps a clone of the `Arc` in a field
    // declared after `handle`, so the ring outlives the handle, and the
    // `'static` lifetime never escapes: every claim borrows the `Producer`.
    let handle = unsafe {
        std::mem::transmute::<bp_core::Producer<'_, T, Storage<T>, FutexPark>, StaticHandle<T>>(
            handle,
        )
    };
    let producer = Producer {
        handle: ManuallyDrop::new(handle),
        shared: Arc::clone(&shared),
    };
    Ok((producer, Worker { shared }))
}

type StaticHandle<T> = bp_core::Producer<'static, T, Storage<T>, FutexPark>;

/// The producer side of a ring; one per ring. Dropping it closes the ring:
/// workers drain the published chunks and then see the end.
pub struct Producer<T: 'static> {
    /// Dropped by hand in `Drop`, before `shared`.
    handle: ManuallyDrop<StaticHandle<T>>,
    shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Producer<T> {
    /// Claims a free slot, blocking while `high` slots are in flight; once
    /// blocked, it resumes when the count falls to `low`.
    ///
    /// # Errors
    ///
    /// [`ClaimError`] once the ring is closed (for example, every worker is gone).
    pub fn claim(&self) -> Result<Claim<'_, T>, ClaimError> {
        self.handle.claim()
    }

    /// Claims a free slot like [`claim`](Self::claim), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`ClaimTimeoutError::Timeout`] or [`ClaimTimeoutError::Closed`].
    pub fn claim_timeout(&self, timeout: Duration) -> Result<Claim<'_, T>, ClaimTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.handle.claim_until(deadline),
            None => self.handle.claim().map_err(|_| ClaimTimeoutError::Closed),
        }
    }

    /// Claims a free slot like [`claim`](Self::claim), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`ClaimTimeoutError::Timeout`] or [`ClaimTimeoutError::Closed`].
    pub fn claim_deadline(&self, deadline: Instant) -> Result<Claim<'_, T>, ClaimTimeoutError> {
        self.handle.claim_until(deadline)
    }

    /// Claims a free slot without blocking.
    ///
    /// # Errors
    ///
    /// [`TryClaimError::Full`] or [`TryClaimError::Closed`].
    pub fn try_claim(&self) -> Result<Claim<'_, T>, TryClaimError> {
        self.handle.try_claim()
    }
}

impl<T: 'static> Producer<T> {
    /// Closes the ring; see [`bp_core::Ring::close`].
    pub fn close(&self) -> bool {
        self.shared.ring.close()
    }

    /// Returns the ring's counters.
    pub fn stats(&self) -> RingStats {
        self.shared.ring.stats()
    }

    /// Returns the number of slots in flight now.
    pub fn in_flight(&self) -> u32 {
        self.shared.ring.in_flight()
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.shared.ring.capacity()
    }
}

impl<T: 'static> Drop for Producer<T> {
    fn drop(&mut self) {
        self.shared.ring.close();
        // SAFETY: dropped exactly once, here, while `shared` still keeps the
        // ring alive.
        unsafe { ManuallyDrop::drop(&mut self.handle) };
    }
}

impl<T: 'static> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("ring", &self.shared.ring)
            .finish()
    }
}

/// A worker handle of a ring. Clone it for each worker thread; dropping the
/// last one closes the ring, so the producer's claims fail.
pub struct Worker<T> {
    shared: Arc<Shared<T>>,
}

impl<T: Send> Worker<T> {
    /// Takes the oldest published chunk, blocking while none is published.
    /// Returns `None` once the ring is closed and drained.
    pub fn take(&self) -> Option<Taken<'_, T>> {
        self.shared.ring.take()
    }

    /// Takes a chunk like [`take`](Self::take), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TakeTimeoutError::Timeout`] or [`TakeTimeoutError::Closed`] (closed
    /// and drained).
    pub fn take_timeout(&self, timeout: Duration) -> Result<Taken<'_, T>, TakeTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.shared.ring.take_until(deadline),
            None => self.take().ok_or(TakeTimeoutError::Closed),
        }
    }

    /// Takes a chunk like [`take`](Self::take), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`TakeTimeoutError::Timeout`] or [`TakeTimeoutError::Closed`].
    pub fn take_deadline(&self, deadline: Instant) -> Result<Taken<'_, T>, TakeTimeoutError> {
        self.shared.ring.take_until(deadline)
    }

    /// Takes a chunk without blocking.
    ///
    /// # Errors
    ///
    /// [`TryTakeError::Empty`] or [`TryTakeError::Closed`] (closed and drained).
    pub fn try_take(&self) -> Result<Taken<'_, T>, TryTakeError> {
        self.shared.ring.try_take()
    }
}

impl<T> Worker<T> {
    /// Closes the ring from the worker side: the producer's claims fail with
    /// `Closed`; chunks already published can still be taken.
    pub fn close(&self) -> bool {
        self.shared.ring.close()
    }

    /// Returns the ring's counters.
    pub fn stats(&self) -> RingStats {
        self.shared.ring.stats()
    }

    /// Returns the number of slots in flight now (claimed, published or taken).
    pub fn in_flight(&self) -> u32 {
        self.shared.ring.in_flight()
    }

    /// Returns the number of chunks published and not yet taken now.
    pub fn published(&self) -> u32 {
        self.shared.ring.published()
    }
}

impl<T> Clone for Worker<T> {
    fn clone(&self) -> Self {
        // Relaxed: a reference count; the Arc clone carries the ring itself.
        self.shared.workers.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        // Relaxed: only the total order of the count matters to find the last
        // handle; close itself synchronizes through the ring's words.
        if self.shared.workers.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.shared.ring.close();
        }
    }
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("ring", &self.shared.ring)
            .finish()
    }
}

#[cfg(test)]
#[path = "ring/tests.rs"]
mod tests;
