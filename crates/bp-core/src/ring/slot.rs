//! One reusable slot of a ring.

use core::fmt;

use crate::sync::{AtomicU32, UnsafeCell};

/// The slot is in the free set: no producer or worker refers to it.
pub(crate) const FREE: u32 = 0;
/// The slot belongs to a claim, a published chunk or a taken chunk.
pub(crate) const IN_USE: u32 = 1;

/// One slot of a [`Ring`](super::Ring): a value of `T` reused in place for
/// every chunk that passes through it, and the ring's bookkeeping.
///
/// Build the storage with [`Slot::new`], once per slot.
pub struct Slot<T> {
    /// `FREE` or `IN_USE`. Only the producer moves it to `IN_USE`; only the
    /// holder of the slot moves it back to `FREE`.
    pub(crate) state: AtomicU32,
    /// Sequence number of the chunk in this slot. Written by the producer
    /// while it holds the slot unpublished, read by the worker that took it.
    pub(crate) seq: UnsafeCell<u64>,
    /// The chunk. Accessed only by the current holder: the producer between
    /// claim and publish, then the one worker that took it.
    pub(crate) value: UnsafeCell<T>,
    /// Entry `i` of the published queue (not related to this slot's value):
    /// the index of the slot published at queue position `i`. Written by the
    /// producer before it counts the chunk as published.
    pub(crate) queue_entry: AtomicU32,
}

impl<T> Slot<T> {
    /// Creates a free slot holding `value`.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self {
            state: AtomicU32::new(FREE),
            seq: UnsafeCell::new(0),
            value: UnsafeCell::new(value),
            queue_entry: AtomicU32::new(0),
        }
    }

    /// Creates a free slot holding `value` (loom build: not `const`).
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self {
            state: AtomicU32::new(FREE),
            seq: UnsafeCell::new(0),
            value: UnsafeCell::new(value),
            queue_entry: AtomicU32::new(0),
        }
    }
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

// SAFETY: the value and sequence number are accessed by one thread at a time,
// the holder of the slot, and ownership passes between threads through the
// Release/Acquire pairs described in the ring module. `T: Send` because the
// value moves between the producer and a worker thread.
unsafe impl<T: Send> Sync for Slot<T> {}
