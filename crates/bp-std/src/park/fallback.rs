//! A portable park: a fixed table of mutex and condition variable buckets.
//!
//! A word is hashed by its address to one of [`BUCKET_COUNT`] buckets, which
//! plays the role of the kernel's futex hash bucket:
//!
//! - `wait` locks the bucket, re-checks `*word == expected` under the lock and
//!   only then sleeps on the bucket's condition variable, which releases the
//!   lock atomically with going to sleep.
//! - `wake_one` and `wake_all` lock the same bucket before they notify.
//!
//! A waker changes the word before it calls wake, so if the waker takes the
//! lock first, the unlock and lock order that change before the re-check, and
//! the re-check sees it. If the sleeper takes the lock first, it is already
//! waiting on the condition variable when the waker notifies. Either way no
//! wake-up is lost, which is the park contract.
//!
//! Many words can share a bucket, so a bucket's sleepers may wait on different
//! words. For that reason both wake calls use `notify_all`: a `notify_one`
//! could pick a thread waiting on another word and leave the sleeper of this
//! word asleep, which would lose the wake-up. The threads of other words see
//! a spurious return, which the contract allows, and wait again.

use std::time::Instant;

use bp_core::{Park, WaitOutcome};

use crate::sync::{AtomicU32, Condvar, Mutex, MutexGuard, Ordering, PoisonError};

/// Number of buckets, as a power of two: the table has 2^6 = 64 buckets.
const BUCKET_BITS: u32 = 6;

/// Number of buckets in the table, shared by every word in the process.
const BUCKET_COUNT: usize = 1 << BUCKET_BITS;

/// The 64-bit golden-ratio constant of Fibonacci hashing: multiplying by it
/// spreads nearby addresses over the top bits of the product.
const FIBONACCI_MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// One slot of the table: the lock that orders re-checks against wakes, and
/// the condition variable that the bucket's threads sleep on.
///
/// Aligned to 64 bytes, a common cache line size, so that threads working
/// on different buckets do not contend on one line.
#[derive(Debug)]
#[repr(align(64))]
struct Bucket {
    /// Threads sleeping in this bucket, on any word. A wake skips the notify
    /// when it is zero, because notifying costs a system call on some targets
    /// even with no thread waiting.
    sleepers: Mutex<usize>,
    condvar: Condvar,
}

impl Bucket {
    const fn new() -> Self {
        Self {
            sleepers: Mutex::new(0),
            condvar: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        // A poisoned lock still contains a consistent count: no code panics
        // between an increment and its decrement.
        self.sleepers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until notified, a spurious return or `deadline`, and reports
    /// whether the deadline had passed on return.
    fn sleep<'a>(
        &self,
        mut sleepers: MutexGuard<'a, usize>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, usize>, WaitOutcome) {
        *sleepers += 1;
        let outcome = match deadline {
            None => {
                sleepers = self
                    .condvar
                    .wait(sleepers)
                    .unwrap_or_else(PoisonError::into_inner);
                WaitOutcome::Woken
            }
            Some(deadline) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let (guard, result) = self
                    .condvar
                    .wait_timeout(sleepers, remaining)
                    .unwrap_or_else(PoisonError::into_inner);
                sleepers = guard;
                if result.timed_out() {
                    WaitOutcome::TimedOut
                } else {
                    WaitOutcome::Woken
                }
            }
        };
        *sleepers -= 1;
        (sleepers, outcome)
    }

    fn notify(&self) {
        let sleepers = self.lock();
        if *sleepers != 0 {
            self.condvar.notify_all();
        }
    }
}

/// The buckets that words hash to.
#[derive(Debug)]
struct BucketTable {
    buckets: [Bucket; BUCKET_COUNT],
}

impl BucketTable {
    const fn new() -> Self {
        Self {
            buckets: [const { Bucket::new() }; BUCKET_COUNT],
        }
    }

    /// Returns the bucket that `word` hashes to.
    fn bucket_for(&self, word: &AtomicU32) -> &Bucket {
        let address = word.as_ptr().addr() as u64;
        let index = address.wrapping_mul(FIBONACCI_MULTIPLIER) >> (u64::BITS - BUCKET_BITS);
        // The shift leaves BUCKET_BITS bits, so the index is below BUCKET_COUNT.
        &self.buckets[index as usize]
    }

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitOutcome {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return WaitOutcome::TimedOut;
        }

        let bucket = self.bucket_for(word);
        let sleepers = bucket.lock();

        // Relaxed is enough: a waker changes the word before it locks this
        // bucket, so if it held the lock before us, its unlock and our lock
        // order the change before this load.
        if word.load(Ordering::Relaxed) != expected {
            return WaitOutcome::Woken;
        }

        let (_sleepers, outcome) = bucket.sleep(sleepers, deadline);
        outcome
    }

    fn wake(&self, word: &AtomicU32) {
        self.bucket_for(word).notify();
    }
}

/// The table of every `FallbackPark` in the process.
static TABLE: BucketTable = BucketTable::new();

/// A park for any target with `std`: threads sleep on a condition variable
/// chosen by the address of the word.
///
/// It has no state of its own: every `FallbackPark` shares one table of
/// buckets, so any number of words and parks can use it. Prefer
/// [`FutexPark`](super::FutexPark), which is this type on targets without a
/// futex binding.
#[derive(Clone, Copy, Debug, Default)]
pub struct FallbackPark;

impl FallbackPark {
    /// Creates a fallback park.
    pub const fn new() -> Self {
        Self
    }
}

impl Park for FallbackPark {
    type Deadline = Instant;

    fn wait(&self, word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitOutcome {
        TABLE.wait(word, expected, deadline)
    }

    /// Wakes every thread of the word's bucket, which includes every thread
    /// sleeping on `word`: see the module documentation for why it cannot
    /// wake only one.
    fn wake_one(&self, word: &AtomicU32) {
        TABLE.wake(word);
    }

    fn wake_all(&self, word: &AtomicU32) {
        TABLE.wake(word);
    }

    fn is_past(&self, deadline: Instant) -> bool {
        Instant::now() >= deadline
    }

    #[inline]
    fn spin(&self, _word: &AtomicU32, round: u32) -> bool {
        super::spin_before_sleep(round)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::thread;
    use std::time::Duration;

    use super::*;

    // Each test uses its own table, so that the sleeper counts it reads are
    // not disturbed by tests running in parallel on the shared one.

    /// Returns the number of threads sleeping in the bucket of `word`.
    fn sleepers_of(table: &BucketTable, word: &AtomicU32) -> usize {
        *table.bucket_for(word).lock()
    }

    /// Returns the index of `bucket` in `table`.
    fn index_of(table: &BucketTable, bucket: &Bucket) -> usize {
        let index = table
            .buckets
            .iter()
            .position(|candidate| core::ptr::eq(candidate, bucket));
        index.expect("bucket_for returned a bucket outside the table")
    }

    /// Returns the indices of two distinct words of `words` that share a bucket.
    fn words_sharing_a_bucket(table: &BucketTable, words: &[AtomicU32]) -> (usize, usize) {
        for first in 0..words.len() {
            for second in first + 1..words.len() {
                if core::ptr::eq(
                    table.bucket_for(&words[first]),
                    table.bucket_for(&words[second]),
                ) {
                    return (first, second);
                }
            }
        }
        panic!(
            "no two of {} words share one of {BUCKET_COUNT} buckets",
            words.len()
        );
    }

    #[test]
    fn adjacent_words_spread_over_buckets() {
        let table = BucketTable::new();
        let words: Vec<AtomicU32> = (0..BUCKET_COUNT).map(|_| AtomicU32::new(0)).collect();
        let mut used = [false; BUCKET_COUNT];
        for word in &words {
            used[index_of(&table, table.bucket_for(word))] = true;
        }
        let used_count = used.iter().filter(|&&used| used).count();
        assert!(
            used_count >= BUCKET_COUNT / 2,
            "{BUCKET_COUNT} adjacent words used only {used_count} buckets"
        );
    }

    #[test]
    fn wait_on_changed_word_returns_at_once() {
        let table = BucketTable::new();
        let word = AtomicU32::new(1);
        assert_eq!(table.wait(&word, 0, None), WaitOutcome::Woken);
        assert_eq!(sleepers_of(&table, &word), 0);
    }

    #[test]
    fn timed_out_wait_leaves_no_sleeper() {
        let table = BucketTable::new();
        let word = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_millis(1);
        while table.wait(&word, 0, Some(deadline)) == WaitOutcome::Woken {}
        assert!(Instant::now() >= deadline);
        assert_eq!(sleepers_of(&table, &word), 0);
    }

    /// A wake of one word in a bucket shared with a sleeper of another word
    /// must still wake the sleeper of its own word.
    #[test]
    fn wake_reaches_its_word_in_a_shared_bucket() {
        let table = BucketTable::new();
        let words: Vec<AtomicU32> = (0..4 * BUCKET_COUNT).map(|_| AtomicU32::new(0)).collect();
        let (target, other) = words_sharing_a_bucket(&table, &words);
        let other_done = AtomicBool::new(false);

        thread::scope(|scope| {
            scope.spawn(|| {
                // The deadline only ends this thread if the test fails first.
                let deadline = Instant::now() + Duration::from_secs(60);
                while !other_done.load(Ordering::Acquire) {
                    if table.wait(&words[other], 0, Some(deadline)) == WaitOutcome::TimedOut {
                        break;
                    }
                }
            });
            // The other word's thread sleeps first, so that a notify_one
            // that wakes the oldest sleeper picks it.
            while sleepers_of(&table, &words[other]) < 1 {
                thread::yield_now();
            }
            let target_sleeper = scope.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(60);
                while words[target].load(Ordering::Acquire) == 0 {
                    let outcome = table.wait(&words[target], 0, Some(deadline));
                    assert_eq!(
                        outcome,
                        WaitOutcome::Woken,
                        "the wake of the shared bucket was lost"
                    );
                }
            });

            while sleepers_of(&table, &words[target]) < 2 {
                thread::yield_now();
            }
            words[target].store(1, Ordering::Release);
            table.wake(&words[target]);
            target_sleeper.join().unwrap();

            other_done.store(true, Ordering::Release);
            words[other].store(1, Ordering::Release);
            table.wake(&words[other]);
        });
        assert_eq!(sleepers_of(&table, &words[target]), 0);
    }
}
