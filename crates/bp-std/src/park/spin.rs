//! How long a blocked thread spins before it sleeps: the
//! [`Park::spin`](bp_core::Park::spin) policy of both parks.
//!
//! Sleeping is expensive on both sides. The sleeper pays a system call and a
//! context switch, the waker a system call, and the sleeper runs again only
//! after a wake-up latency. On the two-CPU VM that the benchmarks ran on, a
//! futex wait with its wake cost tens of microseconds of CPU time, and the
//! median wake-up took 18 µs after a short sleep and 33 µs after a long one.
//! So a producer that waits for 16 chunks of 1 µs each does better to spin
//! through those 16 µs, while one that waits for 16 chunks of 10 µs each
//! only wastes CPU if it spins.
//!
//! Each thread keeps a budget that follows what spinning achieved:
//!
//! - a wait that ended while spinning (the word changed in time) sets the
//!   budget to the longest spin, [`MAX_YIELDS`] yields;
//! - a wait that used up its budget and slept halves the budget, down to
//!   [`MIN_YIELDS`], so a thread whose waits are long soon stops spinning;
//! - every [`PROBE_EVERY`]th wait spins the longest once more, so a thread
//!   notices when its waits have become short again.
//!
//! Within a wait, the first [`PAUSE_ROUNDS`] rounds busy-wait with pause
//! hints, twice as many each round, for a change that is already on its
//! way. The later rounds yield the CPU, which matters when threads outnumber
//! CPUs: the thread that will change the word may be waiting for this CPU.

use std::cell::Cell;

/// Rounds that busy-wait: 1, 2 and 4 pause hints.
const PAUSE_ROUNDS: u32 = 3;

/// Minimum yields of a wait before it sleeps.
const MIN_YIELDS: u32 = 2;

/// Maximum yields of a wait before it sleeps. On the benchmark VM, 100
/// yields took about 20 µs when no other thread wanted the CPU.
const MAX_YIELDS: u32 = 128;

/// Interval, in waits, between two waits that spin the maximum whatever the
/// budget.
const PROBE_EVERY: u32 = 16;

/// The action of a waiter in one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Busy-wait for this many pause hints.
    Pause(u32),
    /// Yield the CPU once.
    Yield,
    /// Stop spinning: register and sleep.
    Sleep,
}

/// One thread's spin budget, carried from one wait to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Yields allowed in waits that do not probe.
    yields: u32,
    /// Yields allowed in the current wait.
    current: u32,
    /// Waits started so far, modulo [`PROBE_EVERY`].
    waits: u32,
    /// Whether the current wait used up its budget.
    exhausted: bool,
    /// Whether a wait has started, so that round 0 can judge the last one.
    started: bool,
}

impl Budget {
    /// Returns the budget of a thread that has not waited yet: the longest.
    pub(crate) const fn new() -> Self {
        Self {
            yields: MAX_YIELDS,
            current: MAX_YIELDS,
            waits: 0,
            exhausted: false,
            started: false,
        }
    }

    /// Returns what to do in round `round` of a wait. Round 0 starts a new
    /// wait and adjusts the budget by how the previous one ended.
    pub(crate) fn step(&mut self, round: u32) -> Step {
        if round == 0 {
            self.start_wait();
        }
        if round < PAUSE_ROUNDS {
            return Step::Pause(1 << round);
        }
        if round - PAUSE_ROUNDS < self.current {
            return Step::Yield;
        }
        self.exhausted = true;
        Step::Sleep
    }

    fn start_wait(&mut self) {
        if self.started {
            self.yields = if self.exhausted {
                (self.yields / 2).max(MIN_YIELDS)
            } else {
                MAX_YIELDS
            };
        }
        self.started = true;
        self.exhausted = false;
        self.waits = (self.waits + 1) % PROBE_EVERY;
        self.current = if self.waits == 0 {
            MAX_YIELDS
        } else {
            self.yields
        };
    }
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget::new()) };
}

/// Runs round `round` of the calling thread's spin, and returns `false` once
/// the thread should sleep instead.
#[inline]
pub(crate) fn spin_before_sleep(round: u32) -> bool {
    // A wait inside a thread-local destructor may run after the budget is
    // gone. It then sleeps at once rather than panic.
    let step = BUDGET
        .try_with(|cell| {
            let mut budget = cell.get();
            let step = budget.step(round);
            cell.set(budget);
            step
        })
        .unwrap_or(Step::Sleep);
    match step {
        Step::Pause(hints) => {
            for _ in 0..hints {
                core::hint::spin_loop();
            }
            true
        }
        Step::Yield => {
            std::thread::yield_now();
            true
        }
        Step::Sleep => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one wait that the word ends after `rounds` rounds, or that
    /// sleeps if the budget runs out first. Returns the rounds that spun.
    fn wait(budget: &mut Budget, rounds: Option<u32>) -> u32 {
        for round in 0.. {
            if Some(round) == rounds {
                return round;
            }
            if budget.step(round) == Step::Sleep {
                return round;
            }
        }
        unreachable!("a wait ends")
    }

    #[test]
    fn first_wait_spins_longest() {
        let mut budget = Budget::new();

        assert_eq!(budget.step(0), Step::Pause(1));
        assert_eq!(budget.step(1), Step::Pause(2));
        assert_eq!(budget.step(2), Step::Pause(4));
        assert_eq!(budget.step(3), Step::Yield);
        assert_eq!(wait(&mut Budget::new(), None), PAUSE_ROUNDS + MAX_YIELDS);
    }

    #[test]
    fn long_waits_halve_budget_to_minimum() {
        let mut budget = Budget::new();
        let mut spun = Vec::new();
        for _ in 0..10 {
            spun.push(wait(&mut budget, None) - PAUSE_ROUNDS);
        }

        assert_eq!(spun[..8], [128, 64, 32, 16, 8, 4, 2, 2]);
        assert!(spun.iter().all(|&yields| yields >= MIN_YIELDS));
    }

    #[test]
    fn short_wait_restores_longest_spin() {
        let mut budget = Budget::new();
        for _ in 0..8 {
            wait(&mut budget, None);
        }
        wait(&mut budget, Some(PAUSE_ROUNDS + 1));

        assert_eq!(wait(&mut budget, None), PAUSE_ROUNDS + MAX_YIELDS);
    }

    #[test]
    fn every_sixteenth_wait_probes() {
        let mut budget = Budget::new();
        let spun: Vec<u32> = (0..2 * PROBE_EVERY)
            .map(|_| wait(&mut budget, None) - PAUSE_ROUNDS)
            .collect();
        let probes: Vec<usize> = spun
            .iter()
            .enumerate()
            .skip(1)
            .filter(|&(_, &yields)| yields == MAX_YIELDS)
            .map(|(index, _)| index)
            .collect();

        assert_eq!(
            probes,
            [PROBE_EVERY as usize - 1, 2 * PROBE_EVERY as usize - 1]
        );
    }

    #[test]
    fn spin_before_sleep_is_bounded() {
        let rounds = (0..10_000)
            .take_while(|&round| spin_before_sleep(round))
            .count();

        assert!(
            rounds <= (PAUSE_ROUNDS + MAX_YIELDS) as usize,
            "{rounds} rounds"
        );
        assert!(
            rounds >= (PAUSE_ROUNDS + MIN_YIELDS) as usize,
            "{rounds} rounds"
        );
    }
}
