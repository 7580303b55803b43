//! The worker side: a taken chunk, released when dropped.

use core::fmt;
use core::ops::{Deref, DerefMut};

use super::{Ring, Slot};
use crate::park::Park;

/// A chunk taken by a worker, read and written in place through
/// `Deref`/`DerefMut`. Dropping it, in any order and also during unwinding,
/// returns the slot to the free set and may unblock the producer.
#[must_use = "dropping a taken chunk releases its slot at once"]
pub struct Taken<'a, T, S: AsRef<[Slot<T>]>, P: Park> {
    ring: &'a Ring<T, S, P>,
    index: u32,
}

impl<'a, T, S: AsRef<[Slot<T>]>, P: Park> Taken<'a, T, S, P> {
    pub(super) fn new(ring: &'a Ring<T, S, P>, index: u32) -> Self {
        Self { ring, index }
    }

    /// The chunk's sequence number, as returned by its publish.
    pub fn seq(&self) -> u64 {
        let slot = &self.ring.slots()[self.index as usize];
        // SAFETY: the producer wrote the sequence number before publishing,
        // and nobody writes it again until this chunk is released.
        slot.seq.with(|seq| unsafe { *seq })
    }

    /// Index of the slot holding this chunk, in `0..capacity`.
    pub fn slot_index(&self) -> usize {
        self.index as usize
    }
}

impl<T, S: AsRef<[Slot<T>]>, P: Park> Deref for Taken<'_, T, S, P> {
    type Target = T;

    fn deref(&self) -> &T {
        let slot = &self.ring.slots()[self.index as usize];
        // SAFETY: this worker holds the slot exclusively until the drop, and
        // the returned reference borrows `self`.
        slot.value.with(|value| unsafe { &*value })
    }
}

impl<T, S: AsRef<[Slot<T>]>, P: Park> DerefMut for Taken<'_, T, S, P> {
    fn deref_mut(&mut self) -> &mut T {
        let slot = &self.ring.slots()[self.index as usize];
        // SAFETY: as in `deref`, and the reference borrows `self` mutably.
        slot.value.with_mut(|value| unsafe { &mut *value })
    }
}

impl<T, S: AsRef<[Slot<T>]>, P: Park> Drop for Taken<'_, T, S, P> {
    fn drop(&mut self) {
        self.ring.release_slot(self.index);
    }
}

impl<T, S: AsRef<[Slot<T>]>, P: Park> fmt::Debug for Taken<'_, T, S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Taken")
            .field("slot_index", &self.index)
            .finish_non_exhaustive()
    }
}
