//! The Linux futex park.
//!
//! `FUTEX_WAIT` compares the word with the expected value and queues the
//! thread under the kernel's futex bucket lock, and `FUTEX_WAKE` takes the same
//! lock. A waker that changes the word and then calls `FUTEX_WAKE` therefore
//! either finds the sleeper queued or makes its compare fail, which is exactly
//! the re-check the park contract asks for. Both calls use the private variants,
//! because the word never lives in memory shared with another process.
//!
//! # Timeouts
//!
//! A deadline becomes a relative timeout, recomputed from the `Instant` at each
//! call. The kernel measures a relative `FUTEX_WAIT` timeout on
//! `CLOCK_MONOTONIC`, the clock behind `Instant` on Linux. The alternative,
//! `FUTEX_WAIT_BITSET` with an absolute `CLOCK_MONOTONIC` time, would need the
//! raw clock reading inside the `Instant`, which std does not expose, so it
//! would cost a second clock read and gain nothing. Because every call starts
//! from the same deadline, retries after a signal or a spurious return never
//! extend it.

use std::io;
use std::time::{Duration, Instant};

use bp_core::{Park, WaitOutcome};

use crate::sync::AtomicU32;

/// `FUTEX_WAIT` for a word private to this process.
const FUTEX_WAIT_PRIVATE: libc::c_int = libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG;

/// `FUTEX_WAKE` for a word private to this process.
const FUTEX_WAKE_PRIVATE: libc::c_int = libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG;

/// A park that sleeps in the kernel with the futex system call.
///
/// It has no state: the kernel keys its wait queues by the address of the
/// word, so one `FutexPark` serves any number of words.
#[derive(Clone, Copy, Debug, Default)]
pub struct FutexPark;

impl FutexPark {
    /// Creates a futex park.
    pub const fn new() -> Self {
        Self
    }
}

impl Park for FutexPark {
    type Deadline = Instant;

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitOutcome {
        let timeout = match deadline {
            None => None,
            Some(deadline) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return WaitOutcome::TimedOut;
                }
                Some(relative_timespec(remaining))
            }
        };
        let timeout_ptr = timeout.as_ref().map_or(core::ptr::null(), |timeout| {
            timeout as *const libc::timespec
        });

        // SAFETY: `word.as_ptr()` points to a live, 4-byte aligned u32 for the
        // whole call because `word` borrows it, and the kernel only reads it
        // atomically, as the futex ABI requires. `timeout_ptr` is null or
        // points to `timeout`, which outlives the call. The remaining
        // arguments (uaddr2, val3) are ignored by FUTEX_WAIT.
        let result = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                FUTEX_WAIT_PRIVATE,
                expected,
                timeout_ptr,
                core::ptr::null::<u32>(),
                0u32,
            )
        };
        if result == 0 {
            // Woken by FUTEX_WAKE, or a spurious return: the caller re-reads.
            return WaitOutcome::Woken;
        }

        match io::Error::last_os_error().raw_os_error() {
            Some(libc::ETIMEDOUT) => WaitOutcome::TimedOut,
            // EAGAIN: the word no longer held `expected`. EINTR: a signal
            // handler ran. Either way the caller re-reads the word and calls
            // again with the same deadline if it still needs to wait.
            Some(libc::EAGAIN | libc::EINTR) => WaitOutcome::Woken,
            errno => {
                // EFAULT and EINVAL need other arguments than the ones built
                // above. NOTE: ENOSYS, from a sandbox that filters futex, also
                // lands here. Reporting a spurious return keeps the contract,
                // because the caller re-checks the word, but it then busy-waits.
                debug_assert!(
                    false,
                    "FUTEX_WAIT failed with an unexpected errno {errno:?}"
                );
                WaitOutcome::Woken
            }
        }
    }

    fn wake_one(&self, word: &AtomicU32) {
        futex_wake(word, 1);
    }

    fn wake_all(&self, word: &AtomicU32) {
        futex_wake(word, i32::MAX);
    }

    fn is_past(&self, deadline: Instant) -> bool {
        Instant::now() >= deadline
    }

    #[inline]
    fn spin(&self, _word: &AtomicU32, round: u32) -> bool {
        super::spin_before_sleep(round)
    }
}

/// Wakes up to `count` threads sleeping on `word`.
fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: FUTEX_WAKE uses the address of `word` only as the key of a wait
    // queue and never writes through it. The address is valid and aligned
    // because `word` borrows the u32. The remaining arguments (timeout,
    // uaddr2, val3) are ignored by FUTEX_WAKE.
    let result = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            FUTEX_WAKE_PRIVATE,
            count,
            core::ptr::null::<libc::timespec>(),
            core::ptr::null::<u32>(),
            0u32,
        )
    };

    // The result is the number of threads woken, which nothing here needs.
    debug_assert!(
        result >= 0,
        "FUTEX_WAKE failed: {}",
        io::Error::last_os_error()
    );
}

/// Converts a remaining duration to a `timespec`, saturating at the largest
/// `time_t`.
fn relative_timespec(remaining: Duration) -> libc::timespec {
    // SAFETY: `timespec` is a C struct of integers (and, on some targets,
    // integer padding fields), for which all zero bits is a valid value.
    let mut timespec: libc::timespec = unsafe { core::mem::zeroed() };
    timespec.tv_sec = libc::time_t::try_from(remaining.as_secs()).unwrap_or(libc::time_t::MAX);
    // Below 10^9, so the value fits every target's `tv_nsec` type.
    timespec.tv_nsec = remaining.subsec_nanos() as _;
    timespec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_splits_seconds_and_nanoseconds() {
        let timespec = relative_timespec(Duration::new(3, 250_000_000));
        assert_eq!(timespec.tv_sec, 3);
        assert_eq!(timespec.tv_nsec, 250_000_000);
    }

    #[test]
    fn timespec_saturates_huge_durations() {
        let timespec = relative_timespec(Duration::MAX);
        assert_eq!(timespec.tv_sec, libc::time_t::MAX);
        assert_eq!(timespec.tv_nsec, 999_999_999);
    }
}
