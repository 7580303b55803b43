//! The model park: [`bp_core::Park`] for loom, with deadlines that a racing
//! thread expires.

use std::sync::atomic::{AtomicUsize as CallCounter, Ordering as CallOrdering};

use bp_core::park::AtomicU32;
use bp_core::{Park, WaitOutcome};
use loom::sync::atomic::Ordering;
use loom::sync::{Condvar, Mutex};

use crate::trace;

/// A [`Park`] made of a loom mutex and condition variable.
///
/// [`wait`](Park::wait) takes the mutex, re-reads the word and sleeps on the
/// condition variable only if the word still holds the expected value. Both
/// wake calls take the same mutex before they notify. A waker that changed the
/// word before it took the mutex is therefore either seen by the re-read, or
/// finds the sleeper already queued on the condition variable. This is the
/// guarantee that Linux `FUTEX_WAIT` gives by reading the word under its hash
/// bucket lock.
///
/// Spinning: by default [`spin`](Park::spin) returns `false` at once,
/// because most models only need the sleep. With
/// [`spinning`](Self::spinning), it returns `true` for a number of rounds,
/// each a loom yield, so that loom also explores a waiter that reads the
/// word again instead of registering.
///
/// Deadlines: loom has no clock, so a [`ModelDeadline`] passes only when some
/// thread calls [`expire`](Self::expire). A model that spawns a thread doing
/// only that makes loom explore the deadline passing at every point of the
/// waiter's path, including before the wait starts and while it sleeps.
///
/// A park may serve several words. [`wake_one`](Park::wake_one) notifies one
/// sleeper only while every sleeper so far waited on the word it wakes.
/// Otherwise it notifies all of them, because the one condition variable
/// cannot pick a sleeper by word. The contract allows the extra wake-ups, and
/// every sleeper re-checks its word anyway.
///
/// The park counts its calls with plain `std` atomics. The code under test
/// never reads these counters, so they stay out of loom's exploration and add
/// no branches. Loom runs every modeled thread on one OS thread, so the counts
/// are exact.
#[derive(Debug)]
pub struct ModelPark {
    /// Deadlines and words. The mutex also serializes the word re-check in
    /// `wait` against the wake calls.
    state: Mutex<ParkState>,
    sleepers: Condvar,
    /// Number of deadlines, fixed at construction.
    deadline_count: usize,
    /// Rounds for which `spin` returns `true`.
    spin_rounds: u32,
    wait_calls: CallCounter,
    spin_calls: CallCounter,
    sleeps: CallCounter,
    wake_one_calls: CallCounter,
    wake_all_calls: CallCounter,
}

#[derive(Debug)]
struct ParkState {
    /// Whether each deadline has passed, indexed by [`ModelDeadline`].
    expired: Vec<bool>,
    /// Addresses of the words that threads have slept on.
    words: Vec<usize>,
}

/// A deadline of a [`ModelPark`]: it passes when
/// [`ModelPark::expire`] is called with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelDeadline(usize);

impl ModelPark {
    /// Creates a park without deadlines: every wait on it is untimed.
    pub fn new() -> Self {
        Self::with_deadlines(0)
    }

    /// Creates a park with `count` deadlines, none of them passed yet.
    pub fn with_deadlines(count: usize) -> Self {
        Self {
            state: Mutex::new(ParkState {
                expired: vec![false; count],
                words: Vec::new(),
            }),
            sleepers: Condvar::new(),
            deadline_count: count,
            spin_rounds: 0,
            wait_calls: CallCounter::new(0),
            spin_calls: CallCounter::new(0),
            sleeps: CallCounter::new(0),
            wake_one_calls: CallCounter::new(0),
            wake_all_calls: CallCounter::new(0),
        }
    }

    /// Lets waiters spin for `rounds` rounds before they register.
    pub fn spinning(self, rounds: u32) -> Self {
        Self {
            spin_rounds: rounds,
            ..self
        }
    }

    /// Returns deadline number `index`.
    ///
    /// # Panics
    ///
    /// If the park was created with `index` deadlines or fewer.
    pub fn deadline(&self, index: usize) -> ModelDeadline {
        let count = self.deadline_count;
        assert!(
            index < count,
            "deadline {index} does not exist: the park has {count}"
        );
        ModelDeadline(index)
    }

    /// Lets `deadline` pass and wakes every sleeper so that the ones waiting
    /// on it return [`WaitOutcome::TimedOut`].
    pub fn expire(&self, deadline: ModelDeadline) {
        let mut state = self.state.lock().unwrap();
        state.expired[deadline.0] = true;
        trace::record(format_args!("deadline {} passes", deadline.0));
        self.sleepers.notify_all();
    }

    /// Returns the number of [`Park::wait`] calls so far.
    pub fn wait_calls(&self) -> usize {
        self.wait_calls.load(CallOrdering::Relaxed)
    }

    /// Returns the number of [`Park::spin`] calls so far, including those that returned `false`.
    pub fn spin_calls(&self) -> usize {
        self.spin_calls.load(CallOrdering::Relaxed)
    }

    /// Returns the number of [`Park::wait`] calls that slept on the condition
    /// variable, because the word still held the expected value.
    pub fn sleeps(&self) -> usize {
        self.sleeps.load(CallOrdering::Relaxed)
    }

    /// Returns the number of [`Park::wake_one`] plus [`Park::wake_all`] calls so far.
    pub fn wake_calls(&self) -> usize {
        self.wake_one_calls.load(CallOrdering::Relaxed)
            + self.wake_all_calls.load(CallOrdering::Relaxed)
    }
}

impl Default for ModelPark {
    fn default() -> Self {
        Self::new()
    }
}

impl Park for ModelPark {
    type Deadline = ModelDeadline;

    fn wait(
        &self,
        word: &AtomicU32,
        expected: u32,
        deadline: Option<ModelDeadline>,
    ) -> WaitOutcome {
        self.wait_calls.fetch_add(1, CallOrdering::Relaxed);
        let mut state = self.state.lock().unwrap();

        // Relaxed: a waker changes the word before it takes the mutex, and our
        // lock acquire synchronizes with its unlock, so this load reads the
        // changed value whenever the waker has already notified.
        let current = word.load(Ordering::Relaxed);
        if current != expected {
            trace::record(format_args!(
                "park: word {current:#x} != expected {expected:#x}, no sleep"
            ));
            return WaitOutcome::Woken;
        }
        if let Some(deadline) = deadline {
            if state.expired[deadline.0] {
                trace::record(format_args!("park: deadline {} already passed", deadline.0));
                return WaitOutcome::TimedOut;
            }
        }

        let address = word_address(word);
        if !state.words.contains(&address) {
            state.words.push(address);
        }

        self.sleeps.fetch_add(1, CallOrdering::Relaxed);
        trace::record(format_args!("park: sleep on word {expected:#x}"));
        let state = self.sleepers.wait(state).unwrap();
        match deadline {
            Some(deadline) if state.expired[deadline.0] => {
                trace::record(format_args!("park: timed out, deadline {}", deadline.0));
                WaitOutcome::TimedOut
            }
            _ => {
                trace::record(format_args!("park: woken"));
                WaitOutcome::Woken
            }
        }
    }

    fn wake_one(&self, word: &AtomicU32) {
        self.wake_one_calls.fetch_add(1, CallOrdering::Relaxed);
        let state = self.state.lock().unwrap();
        trace::record(format_args!("park: wake_one"));

        // Waking one sleeper of another word would lose this word's wake-up.
        if state
            .words
            .iter()
            .all(|&address| address == word_address(word))
        {
            self.sleepers.notify_one();
        } else {
            self.sleepers.notify_all();
        }
    }

    fn wake_all(&self, _word: &AtomicU32) {
        self.wake_all_calls.fetch_add(1, CallOrdering::Relaxed);
        let _serialize_with_waiters = self.state.lock().unwrap();
        trace::record(format_args!("park: wake_all"));
        self.sleepers.notify_all();
    }

    fn is_past(&self, deadline: ModelDeadline) -> bool {
        self.state.lock().unwrap().expired[deadline.0]
    }

    fn spin(&self, _word: &AtomicU32, round: u32) -> bool {
        self.spin_calls.fetch_add(1, CallOrdering::Relaxed);
        if round < self.spin_rounds {
            trace::record(format_args!("park: spin round {round}"));
            loom::thread::yield_now();
            true
        } else {
            false
        }
    }
}

fn word_address(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}
