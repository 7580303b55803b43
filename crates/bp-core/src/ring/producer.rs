//! The producer side: claim a free slot, fill it in place, publish it.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use super::error::{ClaimError, ClaimTimeoutError, PublishError, TryClaimError};
use super::slot::{FREE, IN_USE};
use super::Ring;
use crate::gate::{AcquireTimeoutError, TryAcquireError};
use crate::park::Park;
use crate::sync::Ordering;

/// The one handle that claims and publishes slots of a [`Ring`].
///
/// Obtained from [`Ring::producer`]; it is `Send` but not `Sync`, and its
/// claims stay on the thread that made them.
pub struct Producer<'a, T, S: AsRef<[super::Slot<T>]>, P: Park> {
    ring: &'a Ring<T, S, P>,
    /// Makes the handle `!Sync`: the producer state it guards is not atomic.
    not_sync: PhantomData<Cell<()>>,
}

impl<'a, T, S: AsRef<[super::Slot<T>]>, P: Park> Producer<'a, T, S, P> {
    pub(super) fn new(ring: &'a Ring<T, S, P>) -> Self {
        Self {
            ring,
            not_sync: PhantomData,
        }
    }

    /// The ring this handle produces into.
    pub fn ring(&self) -> &'a Ring<T, S, P> {
        self.ring
    }

    /// Claims a free slot without blocking.
    ///
    /// Never calls the park, so it is safe in an interrupt handler.
    ///
    /// # Errors
    ///
    /// [`TryClaimError::Full`] at the high water mark,
    /// [`TryClaimError::Closed`] once the ring is closed.
    #[inline]
    pub fn try_claim(&self) -> Result<Claim<'_, 'a, T, S, P>, TryClaimError> {
        match self.ring.gate().try_acquire_unit() {
            Ok(()) => Ok(self.claim_free_slot()),
            Err(TryAcquireError::Full) => Err(TryClaimError::Full),
            Err(TryAcquireError::Closed) => Err(TryClaimError::Closed),
        }
    }

    /// Claims a free slot, blocking through the gate while `high` slots are in
    /// flight; once blocked, it resumes only at the low water mark.
    ///
    /// # Errors
    ///
    /// [`ClaimError`] once the ring is closed.
    #[inline]
    pub fn claim(&self) -> Result<Claim<'_, 'a, T, S, P>, ClaimError> {
        match self.ring.gate().acquire_unit(None) {
            Ok(()) => Ok(self.claim_free_slot()),
            Err(_) => Err(ClaimError),
        }
    }

    /// Claims a free slot like [`claim`](Self::claim), giving up at `deadline`.
    ///
    /// # Errors
    ///
    /// [`ClaimTimeoutError::Timeout`] if the deadline passes first,
    /// [`ClaimTimeoutError::Closed`] once the ring is closed.
    #[inline]
    pub fn claim_until(
        &self,
        deadline: P::Deadline,
    ) -> Result<Claim<'_, 'a, T, S, P>, ClaimTimeoutError> {
        match self.ring.gate().acquire_unit(Some(deadline)) {
            Ok(()) => Ok(self.claim_free_slot()),
            Err(AcquireTimeoutError::Timeout) => Err(ClaimTimeoutError::Timeout),
            Err(AcquireTimeoutError::Closed) => Err(ClaimTimeoutError::Closed),
        }
    }

    /// Finds a free slot after a gate unit was taken, and marks it in use.
    fn claim_free_slot(&self) -> Claim<'_, 'a, T, S, P> {
        let slots = self.ring.slots();
        let capacity = slots.len() as u32;

        // SAFETY: only the one producer handle touches the producer state,
        // and `Producer` is `!Sync`, so no other reference to it is live.
        let start = self
            .ring
            .producer_state()
            .with(|state| unsafe { (*state).cursor });

        // The gate unit we hold guarantees a free slot: workers mark a slot
        // FREE before they release its unit, so at most `high - 1 < capacity`
        // other slots are in use. The scan wraps at most once.
        let mut index = start;
        loop {
            let slot = &slots[index as usize];

            // Acquire: pairs with the worker's Release store of FREE, so its
            // last accesses happen-before our reuse of the slot.
            if slot.state.load(Ordering::Acquire) == FREE {
                // Relaxed: only this handle moves a slot out of FREE.
                slot.state.store(IN_USE, Ordering::Relaxed);
                let next = if index + 1 == capacity { 0 } else { index + 1 };
                // SAFETY: as above, this handle owns the producer state.
                self.ring
                    .producer_state()
                    .with_mut(|state| unsafe { (*state).cursor = next });
                return Claim {
                    producer: self,
                    index,
                    published: false,
                };
            }

            index = if index + 1 == capacity { 0 } else { index + 1 };
            assert!(
                index != start,
                "no free slot although a gate unit was taken"
            );
        }
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> Drop for Producer<'_, T, S, P> {
    fn drop(&mut self) {
        self.ring.producer_dropped();
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> fmt::Debug for Producer<'_, T, S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

/// A claimed slot, written in place through `Deref`/`DerefMut`, then
/// [`publish`](Claim::publish)ed. Dropping it unpublished returns the slot to
/// the free set.
#[must_use = "dropping a claim returns its slot unpublished"]
pub struct Claim<'p, 'a, T, S: AsRef<[super::Slot<T>]>, P: Park> {
    producer: &'p Producer<'a, T, S, P>,
    index: u32,
    published: bool,
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> Claim<'_, '_, T, S, P> {
    /// Index of the claimed slot, in `0..capacity`.
    pub fn slot_index(&self) -> usize {
        self.index as usize
    }

    /// Publishes the chunk and returns its sequence number: 0 for the first
    /// chunk published into the ring, then one more for each.
    ///
    /// # Errors
    ///
    /// If the ring is closed, the chunk is not published and the claim comes
    /// back in the error; dropping it frees the slot.
    pub fn publish(mut self) -> Result<u64, PublishError<Self>> {
        let ring = self.producer.ring;
        let slots = ring.slots();
        let capacity = slots.len() as u32;

        // SAFETY: this handle owns the producer state (see `claim_free_slot`).
        let (seq, position) = ring
            .producer_state()
            .with(|state| unsafe { ((*state).next_seq, (*state).tail) });

        // SAFETY: we hold the slot: it is IN_USE through our claim and no
        // worker can reach it before it is counted as published.
        slots[self.index as usize]
            .seq
            .with_mut(|slot_seq| unsafe { *slot_seq = seq });

        // Relaxed: ordered before the Release in `count_published`. The entry
        // at `position` is ours to write; see "Why a queue entry is never
        // overwritten" in the ring module.
        slots[position as usize]
            .queue_entry
            .store(self.index, Ordering::Relaxed);

        if !ring.count_published() {
            return Err(PublishError { claim: self });
        }

        let next_position = if position + 1 == capacity {
            0
        } else {
            position + 1
        };
        // SAFETY: this handle owns the producer state.
        ring.producer_state().with_mut(|state| unsafe {
            (*state).next_seq = seq + 1;
            (*state).tail = next_position;
        });
        self.published = true;
        Ok(seq)
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> Deref for Claim<'_, '_, T, S, P> {
    type Target = T;

    fn deref(&self) -> &T {
        let slot = &self.producer.ring.slots()[self.index as usize];
        // SAFETY: the claim holds the slot exclusively until it is published
        // or dropped, and the returned reference borrows the claim.
        slot.value.with(|value| unsafe { &*value })
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> DerefMut for Claim<'_, '_, T, S, P> {
    fn deref_mut(&mut self) -> &mut T {
        let slot = &self.producer.ring.slots()[self.index as usize];
        // SAFETY: as in `deref`, and the reference borrows the claim mutably.
        slot.value.with_mut(|value| unsafe { &mut *value })
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> Drop for Claim<'_, '_, T, S, P> {
    fn drop(&mut self) {
        if !self.published {
            self.producer.ring.release_slot(self.index);
        }
    }
}

impl<T, S: AsRef<[super::Slot<T>]>, P: Park> fmt::Debug for Claim<'_, '_, T, S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("slot_index", &self.index)
            .finish_non_exhaustive()
    }
}
