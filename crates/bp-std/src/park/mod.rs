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

pub use fallback::FallbackPark;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use futex::FutexPark;

/// The park of this target: [`FallbackPark`], because the target has no futex
/// that this crate binds to.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub type FutexPark = FallbackPark;

#[cfg(test)]
mod tests;

/// Rounds of [`spin_before_sleep`] that busy-wait: 1, 2 and 4 pause hints.
const SPIN_ROUNDS: u32 = 3;

/// Rounds of [`spin_before_sleep`] after the busy-wait that yield the CPU.
const YIELD_ROUNDS: u32 = 8;

/// Runs round `round` of the [`Park::spin`](bp_core::Park::spin) policy of
/// both parks, and returns `false` once the thread should sleep instead.
///
/// The first rounds busy-wait with pause hints, twice as many each round, for
/// a wake-up that is already on its way, as when a worker empties the ring
/// just before the producer publishes again. The next rounds yield the CPU,
/// which matters when threads outnumber CPUs: the thread that will change the
/// word may be waiting for this CPU.
#[inline]
pub(crate) fn spin_before_sleep(round: u32) -> bool {
    if round < SPIN_ROUNDS {
        for _ in 0..1u32 << round {
            core::hint::spin_loop();
        }
        true
    } else if round < SPIN_ROUNDS + YIELD_ROUNDS {
        std::thread::yield_now();
        true
    } else {
        false
    }
}
