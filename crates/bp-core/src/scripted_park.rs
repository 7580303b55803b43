//! A park for single-threaded tests of the blocked paths: it checks the
//! waiter's side of the park contract, then changes the word the way another
//! thread's release, publish or close would.

use core::cell::Cell;

use crate::park::{AtomicU32 as Word, Park, WaitOutcome};
use crate::sync::Ordering;
use crate::word::{waiters, CLOSED};

/// The action of a [`ScriptedPark`] in a wait, or in its chosen spin round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnWait {
    /// The deadline passes.
    TimeOut,
    /// Other holders release this many gate units, then the waiter wakes.
    Release(u32),
    /// A chunk whose count was held back is counted as published.
    Publish,
    /// The word is closed.
    Close,
}

/// A park whose `wait` plays one scripted action and counts the calls.
///
/// With [`spinning`](Self::spinning) it also lets the waiter spin for a
/// number of rounds, and can play the action in one of them instead.
#[derive(Debug)]
pub(crate) struct ScriptedPark {
    on_wait: OnWait,
    /// Rounds for which `spin` returns `true`.
    spin_rounds: u32,
    /// The spin round in which the action happens, if any.
    act_in_round: Option<u32>,
    /// Whether every deadline has passed.
    expired: bool,
    pub(crate) waits: Cell<u32>,
    pub(crate) wakes: Cell<u32>,
    pub(crate) spins: Cell<u32>,
}

impl ScriptedPark {
    pub(crate) fn new(on_wait: OnWait) -> Self {
        Self {
            on_wait,
            spin_rounds: 0,
            act_in_round: None,
            expired: false,
            waits: Cell::new(0),
            wakes: Cell::new(0),
            spins: Cell::new(0),
        }
    }

    pub(crate) fn spinning(self, rounds: u32, act_in_round: Option<u32>) -> Self {
        Self {
            spin_rounds: rounds,
            act_in_round,
            ..self
        }
    }

    /// Makes every deadline count as passed.
    pub(crate) fn expired(self) -> Self {
        Self {
            expired: true,
            ..self
        }
    }

    fn act(&self, word: &Word) -> WaitOutcome {
        match self.on_wait {
            OnWait::TimeOut => return WaitOutcome::TimedOut,
            OnWait::Release(units) => word.fetch_sub(units, Ordering::Release),
            OnWait::Publish => word.fetch_add(1, Ordering::Release),
            OnWait::Close => word.fetch_or(CLOSED, Ordering::Relaxed),
        };
        WaitOutcome::Woken
    }
}

impl Park for ScriptedPark {
    type Deadline = ();

    fn wait(&self, word: &Word, expected: u32, _deadline: Option<()>) -> WaitOutcome {
        assert_eq!(
            word.load(Ordering::Relaxed),
            expected,
            "wait with a stale word"
        );
        assert!(waiters(expected) > 0, "wait without a registered waiter");
        self.waits.set(self.waits.get() + 1);
        self.act(word)
    }

    fn wake_one(&self, _word: &Word) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn wake_all(&self, _word: &Word) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn is_past(&self, _deadline: ()) -> bool {
        self.expired
    }

    fn spin(&self, word: &Word, round: u32) -> bool {
        assert_eq!(round, self.spins.get(), "spin rounds out of order");
        assert_eq!(self.waits.get(), 0, "spin after a wait");
        assert_eq!(
            waiters(word.load(Ordering::Relaxed)),
            0,
            "spin while registered"
        );
        self.spins.set(round + 1);
        if self.act_in_round == Some(round) {
            self.act(word);
        }
        round < self.spin_rounds
    }
}
