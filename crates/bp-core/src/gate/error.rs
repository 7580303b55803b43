//! Errors of the gate's acquire operations, one type per operation.

use core::fmt;

/// Why [`Gate::try_acquire`](super::Gate::try_acquire) returned no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryAcquireError {
    /// `high` units are in flight.
    Full,
    /// The gate is closed.
    Closed,
}

/// [`Gate::acquire`](super::Gate::acquire) returned because the gate is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError;

/// Why [`Gate::acquire_until`](super::Gate::acquire_until) returned no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcquireTimeoutError {
    /// The deadline passed while the gate was still above its low water mark.
    Timeout,
    /// The gate is closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("gate is full: the high water mark is reached"),
            Self::Closed => f.write_str("gate is closed"),
        }
    }
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("gate is closed")
    }
}

impl fmt::Display for AcquireTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => {
                f.write_str("timed out waiting for the gate to drain to its low water mark")
            }
            Self::Closed => f.write_str("gate is closed"),
        }
    }
}

impl core::error::Error for TryAcquireError {}
impl core::error::Error for AcquireError {}
impl core::error::Error for AcquireTimeoutError {}

impl From<AcquireError> for AcquireTimeoutError {
    fn from(_: AcquireError) -> Self {
        Self::Closed
    }
}
