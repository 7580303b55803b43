//! Layout of a 32-bit state word: a count, a number of parked threads and a
//! closed flag.
//!
//! The gate and the ring's published-chunk counter both keep their whole state
//! in one such word, which is also the word their threads park on. Every
//! transition is then one read-modify-write on one location, so all threads
//! agree on the order of transitions, and a parking thread can hand the exact
//! value it decided on to the park contract, which sleeps only while the word
//! still holds that value.
//!
//! ```text
//!  31  30            16 15             0
//! +---+----------------+----------------+
//! | C |    waiters     |     count      |
//! +---+----------------+----------------+
//! ```
//!
//! - `count`: units held (gate) or chunks published and not yet taken (ring).
//! - `waiters`: threads registered as parked, or about to park, on this word.
//!   A thread registers before it sleeps and deregisters itself when it
//!   leaves the wait for any reason, so a timed-out thread leaves nothing behind.
//! - `C`: closed; set once, never cleared.

/// Number of low bits that hold the count.
pub(crate) const COUNT_BITS: u32 = 16;

/// Mask of the count field; also its largest value.
pub(crate) const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;

/// One registered waiter, as an amount to add to or subtract from the word.
pub(crate) const WAITER_ONE: u32 = 1 << COUNT_BITS;

/// Mask of the waiters field.
pub(crate) const WAITERS_MASK: u32 = 0x7fff << COUNT_BITS;

/// Largest number of threads that can be registered as waiting at once.
pub(crate) const MAX_WAITERS: u32 = WAITERS_MASK >> COUNT_BITS;

/// Set once the word's owner is closed.
pub(crate) const CLOSED: u32 = 1 << 31;

static_assertions::const_assert_eq!(COUNT_MASK & WAITERS_MASK, 0);
static_assertions::const_assert_eq!((COUNT_MASK | WAITERS_MASK) & CLOSED, 0);
static_assertions::const_assert_eq!(COUNT_MASK | WAITERS_MASK | CLOSED, u32::MAX);

/// Returns the count field of `word`.
#[inline(always)]
pub(crate) const fn count(word: u32) -> u32 {
    word & COUNT_MASK
}

/// Returns the number of registered waiters in `word`.
#[inline(always)]
pub(crate) const fn waiters(word: u32) -> u32 {
    (word & WAITERS_MASK) >> COUNT_BITS
}

/// Returns whether `word` has the closed flag set.
#[inline(always)]
pub(crate) const fn is_closed(word: u32) -> bool {
    word & CLOSED != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_independently() {
        let word = CLOSED | (3 * WAITER_ONE) | 7;
        assert_eq!(count(word), 7);
        assert_eq!(waiters(word), 3);
        assert!(is_closed(word));
    }

    #[test]
    fn full_fields_do_not_overlap() {
        let word = COUNT_MASK | (MAX_WAITERS * WAITER_ONE);
        assert_eq!(count(word), COUNT_MASK);
        assert_eq!(waiters(word), MAX_WAITERS);
        assert!(!is_closed(word));
    }
}
