//! Uncontended acquire and release of one unit of a bound of [`HIGH`]: bp's
//! gate against the usual ways to count units in flight.

use std::sync::{Condvar, Mutex};

use bp_std::Gate;
use tokio::sync::Semaphore;

/// Units that may be in flight; bp's gate resumes blocked producers at half.
pub const HIGH: u32 = 32;

/// A bound on units in flight, acquired and released by one thread.
pub trait TokenPool {
    /// Name used in benchmark ids and reports.
    const NAME: &'static str;

    /// Acquires one unit, runs `body` while holding it, then releases it.
    fn with_unit(&self, body: impl FnOnce());
}

/// bp's gate through its blocking `acquire`, whose permit releases on drop.
pub struct BpGate(Gate);

impl Default for BpGate {
    fn default() -> Self {
        Self(Gate::new(HIGH / 2, HIGH).expect("valid water marks"))
    }
}

impl TokenPool for BpGate {
    const NAME: &'static str = "bp_acquire";

    #[inline]
    fn with_unit(&self, body: impl FnOnce()) {
        let permit = self.0.acquire().expect("the gate is open");
        body();
        drop(permit);
    }
}

/// bp's gate through its non-blocking `try_acquire`.
pub struct BpGateTry(Gate);

impl Default for BpGateTry {
    fn default() -> Self {
        Self(Gate::new(HIGH / 2, HIGH).expect("valid water marks"))
    }
}

impl TokenPool for BpGateTry {
    const NAME: &'static str = "bp_try_acquire";

    #[inline]
    fn with_unit(&self, body: impl FnOnce()) {
        let permit = self.0.try_acquire().expect("the gate has room");
        body();
        drop(permit);
    }
}

/// tokio's `Semaphore::try_acquire`, whose permit releases on drop.
pub struct TokioSemaphore(Semaphore);

impl Default for TokioSemaphore {
    fn default() -> Self {
        Self(Semaphore::new(HIGH as usize))
    }
}

impl TokenPool for TokioSemaphore {
    const NAME: &'static str = "tokio_semaphore";

    #[inline]
    fn with_unit(&self, body: impl FnOnce()) {
        let permit = self.0.try_acquire().expect("the semaphore has permits");
        body();
        drop(permit);
    }
}

/// A count in a std `Mutex` with a `Condvar` that a producer waits on while
/// the count is at [`HIGH`]; a release notifies only when it leaves `HIGH`,
/// the only case in which anyone can be waiting.
#[derive(Default)]
pub struct MutexCondvar {
    in_flight: Mutex<usize>,
    room: Condvar,
}

impl TokenPool for MutexCondvar {
    const NAME: &'static str = "mutex_condvar";

    #[inline]
    fn with_unit(&self, body: impl FnOnce()) {
        let high = HIGH as usize;
        {
            let mut in_flight = self.in_flight.lock().expect("no holder panicked");
            while *in_flight >= high {
                in_flight = self.room.wait(in_flight).expect("no holder panicked");
            }
            *in_flight += 1;
        }

        body();

        let previous = {
            let mut in_flight = self.in_flight.lock().expect("no holder panicked");
            *in_flight -= 1;
            *in_flight + 1
        };
        if previous == high {
            self.room.notify_one();
        }
    }
}

/// A crossbeam-channel `bounded(HIGH)` filled with [`HIGH`] tokens: acquiring
/// receives a token and releasing sends it back.
pub struct CrossbeamTokens {
    sender: crossbeam_channel::Sender<()>,
    receiver: crossbeam_channel::Receiver<()>,
}

impl Default for CrossbeamTokens {
    fn default() -> Self {
        let (sender, receiver) = crossbeam_channel::bounded(HIGH as usize);
        for _ in 0..HIGH {
            sender.send(()).expect("the pool has room");
        }
        Self { sender, receiver }
    }
}

impl TokenPool for CrossbeamTokens {
    const NAME: &'static str = "crossbeam_tokens";

    #[inline]
    fn with_unit(&self, body: impl FnOnce()) {
        self.receiver.recv().expect("the pool is open");
        body();
        self.sender.send(()).expect("the pool has room");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acquire_all_then_release<P: TokenPool>(pool: &P) {
        let mut ran = 0;
        for _ in 0..3 * HIGH {
            pool.with_unit(|| ran += 1);
        }
        assert_eq!(ran, 3 * HIGH, "{}", P::NAME);
    }

    #[test]
    fn every_pool_releases_its_unit() {
        // Three times the bound would block or fail if a unit leaked.
        acquire_all_then_release(&BpGate::default());
        acquire_all_then_release(&BpGateTry::default());
        acquire_all_then_release(&TokioSemaphore::default());
        acquire_all_then_release(&MutexCondvar::default());
        acquire_all_then_release(&CrossbeamTokens::default());
    }
}
