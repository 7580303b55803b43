//! Implementations of the [`bp_core::Park`] contract for OS threads.
//!
//! - [`FutexPark`]: the park to use. On Linux and Android it sleeps in the
//!   kernel with `FUTEX_WAIT` and wakes with `FUTEX_WAKE`; on every other
//!   target it is [`FallbackPark`].
//! - [`FallbackPark`]: a portable park built on `std::sync::Mutex` and
//!   `Condvar`. It is compiled on every target, so tests on Linux exercise it too.
//!
//! Both take `std::time::Instant` deadlines, so code written against
//! `FutexPark` works unchanged on every target.

mod fallback;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod futex;
mod spin;

pub use fallback::FallbackPark;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use futex::FutexPark;

/// The park of this target: [`FallbackPark`], because the target has no futex
/// that this crate binds to.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub type FutexPark = FallbackPark;

use spin::spin_before_sleep;

#[cfg(test)]
mod tests;
