//! RAII units of a gate.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use super::{AcquireError, AcquireTimeoutError, Gate, TryAcquireError};
use crate::park::Park;

/// One unit of a gate, borrowed from it; dropping it releases the unit.
///
/// The release also runs during unwinding, so a panicking holder gives its
/// unit back. Forgetting a permit (`core::mem::forget`) keeps its unit in
/// flight for good, as with any leaked guard.
#[must_use = "dropping a permit releases its unit at once"]
pub struct Permit<'a, P: Park> {
    gate: &'a Gate<P>,
}

impl<'a, P: Park> Permit<'a, P> {
    pub(super) fn new(gate: &'a Gate<P>) -> Self {
        Self { gate }
    }

    /// The gate this permit belongs to.
    pub fn gate(&self) -> &'a Gate<P> {
        self.gate
    }
}

impl<P: Park> Drop for Permit<'_, P> {
    #[inline]
    fn drop(&mut self) {
        self.gate.release_unit();
    }
}

impl<P: Park> fmt::Debug for Permit<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// One unit of a gate that owns a handle to it (an `Arc<Gate>` or a
/// `&'static Gate`), so it can move to another thread; dropping it releases
/// the unit.
#[must_use = "dropping a permit releases its unit at once"]
pub struct OwnedPermit<G, P>
where
    G: Deref<Target = Gate<P>>,
    P: Park,
{
    gate: G,
    park: PhantomData<fn() -> P>,
}

impl<G, P> OwnedPermit<G, P>
where
    G: Deref<Target = Gate<P>>,
    P: Park,
{
    /// Takes a unit like [`Gate::try_acquire`], keeping `gate` in the permit.
    ///
    /// # Errors
    ///
    /// As [`Gate::try_acquire`]; the handle is dropped.
    pub fn try_acquire(gate: G) -> Result<Self, TryAcquireError> {
        gate.try_acquire_unit()?;
        Ok(Self {
            gate,
            park: PhantomData,
        })
    }

    /// Takes a unit like [`Gate::acquire`], keeping `gate` in the permit.
    ///
    /// # Errors
    ///
    /// As [`Gate::acquire`]; the handle is dropped.
    pub fn acquire(gate: G) -> Result<Self, AcquireError> {
        match gate.acquire_unit(None) {
            Ok(()) => Ok(Self {
                gate,
                park: PhantomData,
            }),
            Err(_) => Err(AcquireError),
        }
    }

    /// Takes a unit like [`Gate::acquire_until`], keeping `gate` in the permit.
    ///
    /// # Errors
    ///
    /// As [`Gate::acquire_until`]; the handle is dropped.
    pub fn acquire_until(gate: G, deadline: P::Deadline) -> Result<Self, AcquireTimeoutError> {
        gate.acquire_unit(Some(deadline))?;
        Ok(Self {
            gate,
            park: PhantomData,
        })
    }

    /// The gate this permit belongs to.
    pub fn gate(&self) -> &Gate<P> {
        &self.gate
    }
}

impl<G, P> Drop for OwnedPermit<G, P>
where
    G: Deref<Target = Gate<P>>,
    P: Park,
{
    #[inline]
    fn drop(&mut self) {
        self.gate.release_unit();
    }
}

impl<G, P> fmt::Debug for OwnedPermit<G, P>
where
    G: Deref<Target = Gate<P>>,
    P: Park,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
