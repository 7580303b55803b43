//! Errors of the ring, one type per operation.

use core::fmt;

use crate::gate::ConfigError;

/// Why [`Ring::new`](super::Ring::new) rejected its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RingError {
    /// The storage has no slots.
    ZeroCapacity,
    /// The storage has more slots than the published-chunk counter can count.
    CapacityTooLarge {
        /// The rejected number of slots.
        capacity: usize,
        /// The largest accepted number of slots.
        max: usize,
    },
    /// The high water mark exceeds the number of slots, so a claim could find
    /// no free slot.
    HighAboveCapacity {
        /// The rejected high water mark.
        high: u32,
        /// The number of slots.
        capacity: usize,
    },
    /// The water marks themselves are invalid.
    Config(ConfigError),
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ZeroCapacity => f.write_str("invalid ring capacity 0: a ring needs at least one slot"),
            Self::CapacityTooLarge { capacity, max } => {
                write!(f, "invalid ring capacity {capacity}: the maximum is {max} slots")
            }
            Self::HighAboveCapacity { high, capacity } => write!(
                f,
                "invalid high water mark {high}: it must not exceed the ring capacity ({capacity} slots)"
            ),
            Self::Config(error) => error.fmt(f),
        }
    }
}

impl core::error::Error for RingError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ConfigError> for RingError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

/// [`Ring::producer`](super::Ring::producer) found the producer handle in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerBusy;

impl fmt::Display for ProducerBusy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the ring's producer handle is already in use; drop it before taking it again")
    }
}

impl core::error::Error for ProducerBusy {}

/// Why [`Producer::try_claim`](super::Producer::try_claim) returned no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryClaimError {
    /// `high` slots are in flight.
    Full,
    /// The ring is closed.
    Closed,
}

/// [`Producer::claim`](super::Producer::claim) returned because the ring is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimError;

/// Why [`Producer::claim_until`](super::Producer::claim_until) returned no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimTimeoutError {
    /// The deadline passed while the ring was still above its low water mark.
    Timeout,
    /// The ring is closed.
    Closed,
}

/// Why [`Ring::try_take`](super::Ring::try_take) returned no chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TryTakeError {
    /// No chunk is published right now.
    Empty,
    /// The ring is closed and every published chunk has been taken.
    Closed,
}

/// Why [`Ring::take_until`](super::Ring::take_until) returned no chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakeTimeoutError {
    /// The deadline passed with nothing published.
    Timeout,
    /// The ring is closed and every published chunk has been taken.
    Closed,
}

impl fmt::Display for TryClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("ring is full: the high water mark is reached"),
            Self::Closed => f.write_str("ring is closed"),
        }
    }
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring is closed")
    }
}

impl fmt::Display for ClaimTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting for a free slot"),
            Self::Closed => f.write_str("ring is closed"),
        }
    }
}

impl fmt::Display for TryTakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no chunk is published"),
            Self::Closed => f.write_str("ring is closed and drained"),
        }
    }
}

impl fmt::Display for TakeTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting for a published chunk"),
            Self::Closed => f.write_str("ring is closed and drained"),
        }
    }
}

impl core::error::Error for TryClaimError {}
impl core::error::Error for ClaimError {}
impl core::error::Error for ClaimTimeoutError {}
impl core::error::Error for TryTakeError {}
impl core::error::Error for TakeTimeoutError {}

/// [`Claim::publish`](super::Claim::publish) found the ring closed; the claim
/// comes back unpublished.
pub struct PublishError<C> {
    /// The claim that was not published. Dropping it frees its slot.
    pub claim: C,
}

impl<C> fmt::Debug for PublishError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishError").finish_non_exhaustive()
    }
}

impl<C> fmt::Display for PublishError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ring is closed; the chunk was not published")
    }
}

impl<C> core::error::Error for PublishError<C> {}
