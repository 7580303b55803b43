//! The gate for OS threads: [`bp_core::Gate`] parked with [`FutexPark`], with
//! `Duration` and `Instant` timeouts and permits that own an `Arc` of the gate.
//!
//! The algorithm, its invariants and its memory orderings are those of
//! [`bp_core::Gate`]; this module only binds them to the OS.

use std::ops::Deref;
use std::time::{Duration, Instant};

use bp_core::{
    AcquireError, AcquireTimeoutError, ConfigError, GateConfig, GateStats, TryAcquireError,
};

use crate::park::FutexPark;
use crate::sync::Arc;

/// The `no_std` gate that [`Gate`] wraps.
type CoreGate = bp_core::Gate<FutexPark>;

/// An in-flight counter with a high and a low water mark, for OS threads.
///
/// Producers take a [`Permit`] per unit of work in flight and hand it to the
/// thread that finishes the work; dropping the permit releases the unit. When
/// `high` units are in flight, [`acquire`](Self::acquire) parks the producer
/// with [`FutexPark`] until the count falls to `low` or below, so one wake-up
/// lets a producer run for `high - low` units. Releases make no system call
/// unless they take the count to `low` while a producer is parked.
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
///
/// use bp_std::Gate;
///
/// let gate = Arc::new(Gate::new(2, 8)?);
/// let worker = {
///     let permit = gate.acquire_owned()?;
///     thread::spawn(move || {
///         // ... process one chunk, then release its unit by dropping the permit.
///         drop(permit);
///     })
/// };
/// worker.join().unwrap();
///
/// assert_eq!(gate.in_flight(), 0);
/// gate.close();
/// assert!(gate.acquire().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[repr(transparent)]
pub struct Gate {
    inner: CoreGate,
}

impl Gate {
    /// Creates an open gate where producers block at `high` units in flight
    /// and resume at `low`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] unless `low < high <= MAX_HIGH`.
    pub const fn new(low: u32, high: u32) -> Result<Self, ConfigError> {
        match GateConfig::new(low, high) {
            Ok(config) => Ok(Self::with_config(config)),
            Err(error) => Err(error),
        }
    }

    /// Creates an open gate from checked water marks; a `const fn`, so the
    /// gate can live in a `static`.
    ///
    /// ```
    /// use bp_std::{Gate, GateConfig};
    ///
    /// static GATE: Gate = Gate::with_config(GateConfig::new_const::<1, 4>());
    /// let permit = GATE.try_acquire()?;
    /// assert_eq!(GATE.in_flight(), 1);
    /// # drop(permit);
    /// # Ok::<(), bp_std::TryAcquireError>(())
    /// ```
    pub const fn with_config(config: GateConfig) -> Self {
        Self {
            inner: CoreGate::new(config, FutexPark::new()),
        }
    }

    /// Converts a reference to the wrapped gate back to this type.
    fn from_core(inner: &CoreGate) -> &Self {
        let pointer: *const CoreGate = inner;
        // SAFETY: `Gate` is `repr(transparent)` over `CoreGate` and adds no
        // invariant of its own, so any `CoreGate` is a valid `Gate`, and the
        // cast reference borrows the same memory for the same lifetime.
        unsafe { &*pointer.cast::<Self>() }
    }

    /// Returns the `no_std` gate inside, for code written against
    /// [`bp_core::Gate`].
    pub fn as_core(&self) -> &bp_core::Gate<FutexPark> {
        &self.inner
    }

    /// Returns the water marks this gate was built with.
    pub fn config(&self) -> GateConfig {
        self.inner.config()
    }

    /// Returns the number of units in flight now; it may be stale by the time
    /// the caller looks at it.
    pub fn in_flight(&self) -> u32 {
        self.inner.in_flight()
    }

    /// Returns whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Returns the gate's counters: producer parks, wake calls (each one
    /// futex system call on Linux) and the peak in-flight count.
    pub fn stats(&self) -> GateStats {
        self.inner.stats()
    }

    /// Takes one unit if fewer than `high` are in flight and the gate is open.
    /// Never blocks and makes no system call.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Full`] at the high water mark,
    /// [`TryAcquireError::Closed`] after [`close`](Self::close).
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.inner.try_acquire().map(Permit::new)
    }

    /// Takes one unit, blocking while the gate is full. Once blocked, it
    /// resumes only when the count has fallen to `low` or the gate closes.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the gate is or becomes closed.
    #[inline]
    pub fn acquire(&self) -> Result<Permit<'_>, AcquireError> {
        self.inner.acquire().map(Permit::new)
    }

    /// Takes one unit like [`acquire`](Self::acquire), giving up after
    /// `timeout`. A timeout too large for an `Instant` waits without a limit.
    ///
    /// # Errors
    ///
    /// [`AcquireTimeoutError::Timeout`] if the gate is still above `low` when
    /// the timeout passes, [`AcquireTimeoutError::Closed`] if it is or
    /// becomes closed.
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<Permit<'_>, AcquireTimeoutError> {
        self.acquire_with(Instant::now().checked_add(timeout))
    }

    /// Takes one unit like [`acquire`](Self::acquire), giving up at
    /// `deadline`. A gate below `high` grants the unit even if the deadline
    /// has passed.
    ///
    /// # Errors
    ///
    /// As [`acquire_timeout`](Self::acquire_timeout).
    #[inline]
    pub fn acquire_deadline(&self, deadline: Instant) -> Result<Permit<'_>, AcquireTimeoutError> {
        self.acquire_with(Some(deadline))
    }

    /// Takes one unit like [`try_acquire`](Self::try_acquire), in a permit
    /// that keeps the gate alive and can move to another thread.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    #[inline]
    pub fn try_acquire_owned(self: &Arc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        bp_core::OwnedPermit::try_acquire(SharedGate(Arc::clone(self))).map(OwnedPermit::new)
    }

    /// Takes one unit like [`acquire`](Self::acquire), in a permit that keeps
    /// the gate alive and can move to another thread.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Self::acquire).
    #[inline]
    pub fn acquire_owned(self: &Arc<Self>) -> Result<OwnedPermit, AcquireError> {
        bp_core::OwnedPermit::acquire(SharedGate(Arc::clone(self))).map(OwnedPermit::new)
    }

    /// Takes one unit like [`acquire_timeout`](Self::acquire_timeout), in a
    /// permit that keeps the gate alive and can move to another thread.
    ///
    /// # Errors
    ///
    /// As [`acquire_timeout`](Self::acquire_timeout).
    #[inline]
    pub fn acquire_owned_timeout(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> Result<OwnedPermit, AcquireTimeoutError> {
        self.acquire_owned_with(Instant::now().checked_add(timeout))
    }

    /// Takes one unit like [`acquire_deadline`](Self::acquire_deadline), in a
    /// permit that keeps the gate alive and can move to another thread.
    ///
    /// # Errors
    ///
    /// As [`acquire_deadline`](Self::acquire_deadline).
    #[inline]
    pub fn acquire_owned_deadline(
        self: &Arc<Self>,
        deadline: Instant,
    ) -> Result<OwnedPermit, AcquireTimeoutError> {
        self.acquire_owned_with(Some(deadline))
    }

    /// Closes the gate: every parked producer wakes and every later acquire
    /// fails with `Closed`. Units still in flight release normally.
    ///
    /// Returns `true` if this call closed the gate, `false` if it was closed
    /// already.
    pub fn close(&self) -> bool {
        self.inner.close()
    }

    /// Acquires with an optional deadline: the one blocking path behind the
    /// timed and untimed borrowed acquires.
    #[inline]
    fn acquire_with(&self, deadline: Option<Instant>) -> Result<Permit<'_>, AcquireTimeoutError> {
        let permit = match deadline {
            Some(deadline) => self.inner.acquire_until(deadline)?,
            None => self.inner.acquire()?,
        };
        Ok(Permit::new(permit))
    }

    /// Acquires with an optional deadline: the one blocking path behind the
    /// timed and untimed owned acquires.
    #[inline]
    fn acquire_owned_with(
        self: &Arc<Self>,
        deadline: Option<Instant>,
    ) -> Result<OwnedPermit, AcquireTimeoutError> {
        let gate = SharedGate(Arc::clone(self));
        let permit = match deadline {
            Some(deadline) => bp_core::OwnedPermit::acquire_until(gate, deadline)?,
            None => bp_core::OwnedPermit::acquire(gate)?,
        };
        Ok(OwnedPermit::new(permit))
    }
}

/// One unit of a [`Gate`], borrowed from it; dropping it releases the unit.
///
/// The release also runs during unwinding, so a panicking holder gives its
/// unit back. Forgetting a permit keeps its unit in flight for good.
#[derive(Debug)]
#[must_use = "dropping a permit releases its unit at once"]
pub struct Permit<'a> {
    inner: bp_core::Permit<'a, FutexPark>,
}

impl<'a> Permit<'a> {
    fn new(inner: bp_core::Permit<'a, FutexPark>) -> Self {
        Self { inner }
    }

    /// Returns the gate this permit belongs to.
    pub fn gate(&self) -> &'a Gate {
        Gate::from_core(self.inner.gate())
    }
}

/// One unit of a [`Gate`] that holds an `Arc` of the gate, so it can move to
/// another thread; dropping it releases the unit.
///
/// The release also runs during unwinding. Forgetting a permit keeps its unit
/// in flight and the gate allocated for good.
#[derive(Debug)]
#[must_use = "dropping a permit releases its unit at once"]
pub struct OwnedPermit {
    inner: bp_core::OwnedPermit<SharedGate, FutexPark>,
}

impl OwnedPermit {
    fn new(inner: bp_core::OwnedPermit<SharedGate, FutexPark>) -> Self {
        Self { inner }
    }

    /// Returns the gate this permit belongs to.
    pub fn gate(&self) -> &Gate {
        Gate::from_core(self.inner.gate())
    }
}

/// The handle an [`OwnedPermit`] keeps: an `Arc` of the gate that derefs to
/// the core gate, as [`bp_core::OwnedPermit`] requires.
#[derive(Debug)]
struct SharedGate(Arc<Gate>);

impl Deref for SharedGate {
    type Target = CoreGate;

    fn deref(&self) -> &CoreGate {
        &self.0.inner
    }
}

#[cfg(test)]
mod tests;
