//! Tests of the park contract, run against every park of this crate.

use std::sync::atomic::AtomicUsize;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bp_core::{Park, WaitOutcome};

use super::{FallbackPark, FutexPark};
use crate::sync::{AtomicU32, Ordering};

/// Rounds of the wake tests: each round races the wake against the sleepers
/// going to sleep once more.
const WAKE_ROUNDS: usize = if cfg!(miri) { 2 } else { 50 };

/// Far enough away that reaching it means a wake-up was lost.
const LOST_WAKE_DEADLINE: Duration = Duration::from_secs(60);

/// Sleeps on `word` until it is no longer 0, and fails if a wake-up is lost.
fn sleep_until_set<P: Park<Deadline = Instant>>(
    park: &P,
    word: &AtomicU32,
    about_to_wait: &AtomicUsize,
) {
    let deadline = Instant::now() + LOST_WAKE_DEADLINE;
    about_to_wait.fetch_add(1, Ordering::Relaxed);
    // Acquire: pairs with the Release store of the waker, as a gate's
    // acquire pairs with its release.
    while word.load(Ordering::Acquire) == 0 {
        let outcome = park.wait(word, 0, Some(deadline));
        assert_eq!(
            outcome,
            WaitOutcome::Woken,
            "no wake-up within {LOST_WAKE_DEADLINE:?}: it was lost"
        );
    }
}

/// Spins until `count` threads have announced that they are about to wait.
fn wait_for_sleepers(about_to_wait: &AtomicUsize, count: usize) {
    while about_to_wait.load(Ordering::Relaxed) < count {
        thread::yield_now();
    }
}

pub(super) fn changed_word_returns_at_once<P: Park<Deadline = Instant>>(park: &P) {
    let word = AtomicU32::new(1);
    assert_eq!(park.wait(&word, 0, None), WaitOutcome::Woken);
}

pub(super) fn past_deadline_times_out<P: Park<Deadline = Instant>>(park: &P) {
    let word = AtomicU32::new(0);
    let deadline = Instant::now();
    assert!(park.is_past(deadline));
    assert_eq!(park.wait(&word, 0, Some(deadline)), WaitOutcome::TimedOut);
}

pub(super) fn wait_times_out_at_deadline<P: Park<Deadline = Instant>>(park: &P) {
    let word = AtomicU32::new(0);
    let deadline = Instant::now() + Duration::from_millis(2);
    // Spurious returns are allowed, so wait until the park reports the timeout.
    while park.wait(&word, 0, Some(deadline)) == WaitOutcome::Woken {}
    assert!(
        Instant::now() >= deadline,
        "the park reported a timeout before the deadline"
    );
    assert!(park.is_past(deadline));
}

pub(super) fn wake_without_sleepers_returns<P: Park<Deadline = Instant>>(park: &P) {
    let word = AtomicU32::new(0);
    park.wake_one(&word);
    park.wake_all(&word);
    assert_eq!(word.load(Ordering::Relaxed), 0);
}

pub(super) fn wake_all_wakes_every_sleeper<P: Park<Deadline = Instant> + Sync>(park: &P) {
    const SLEEPERS: usize = 3;
    for _ in 0..WAKE_ROUNDS {
        let word = AtomicU32::new(0);
        let about_to_wait = AtomicUsize::new(0);
        thread::scope(|scope| {
            for _ in 0..SLEEPERS {
                scope.spawn(|| sleep_until_set(park, &word, &about_to_wait));
            }
            wait_for_sleepers(&about_to_wait, SLEEPERS);

            // Release: pairs with the sleepers' Acquire load.
            word.store(1, Ordering::Release);
            park.wake_all(&word);
        });
    }
}

pub(super) fn wake_one_wakes_a_sleeper<P: Park<Deadline = Instant> + Sync>(park: &P) {
    const SLEEPERS: usize = 2;
    for _ in 0..WAKE_ROUNDS {
        let word = AtomicU32::new(0);
        let about_to_wait = AtomicUsize::new(0);
        let (finished_sender, finished) = mpsc::channel();
        thread::scope(|scope| {
            for _ in 0..SLEEPERS {
                let finished_sender = finished_sender.clone();
                let (word, about_to_wait) = (&word, &about_to_wait);
                scope.spawn(move || {
                    sleep_until_set(park, word, about_to_wait);
                    finished_sender.send(()).unwrap();
                });
            }
            wait_for_sleepers(&about_to_wait, SLEEPERS);

            word.store(1, Ordering::Release);
            park.wake_one(&word);
            // At least one sleeper must finish from this wake alone. The
            // others may still sleep on the changed word until the wake_all.
            let first = finished.recv_timeout(LOST_WAKE_DEADLINE);
            assert!(
                first.is_ok(),
                "wake_one woke no sleeper within {LOST_WAKE_DEADLINE:?}"
            );
            park.wake_all(&word);
        });
    }
}

/// Instantiates the contract tests for one park.
macro_rules! park_contract_tests {
    ($module:ident, $park:expr) => {
        mod $module {
            #[test]
            fn changed_word_returns_at_once() {
                super::changed_word_returns_at_once(&$park);
            }

            #[test]
            fn past_deadline_times_out() {
                super::past_deadline_times_out(&$park);
            }

            #[test]
            fn wait_times_out_at_deadline() {
                super::wait_times_out_at_deadline(&$park);
            }

            #[test]
            fn wake_without_sleepers_returns() {
                super::wake_without_sleepers_returns(&$park);
            }

            #[test]
            fn wake_all_wakes_every_sleeper() {
                super::wake_all_wakes_every_sleeper(&$park);
            }

            #[test]
            fn wake_one_wakes_a_sleeper() {
                super::wake_one_wakes_a_sleeper(&$park);
            }
        }
    };
}

park_contract_tests!(futex, crate::park::FutexPark::new());
park_contract_tests!(fallback, crate::park::FallbackPark::new());

static_assertions::assert_impl_all!(crate::park::FutexPark: Send, Sync, Copy);
static_assertions::assert_impl_all!(crate::park::FallbackPark: Send, Sync, Copy);

#[test]
fn parks_share_spin_policy() {
    let word = AtomicU32::new(0);
    let spins = |park: &dyn Fn(u32) -> bool| (0..10_000).take_while(|&round| park(round)).count();

    // Each count is a whole wait that slept, so the second starts with the
    // budget the first one halved.
    let futex = spins(&|round| FutexPark::new().spin(&word, round));
    let fallback = spins(&|round| FallbackPark::new().spin(&word, round));
    assert!(futex > 0, "the futex park never spins");
    assert!(fallback > 0, "the fallback park never spins");
    assert!(
        fallback < futex,
        "the parks do not share the thread's budget"
    );
}
