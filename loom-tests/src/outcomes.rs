//! Counts of how executions ended, kept across the executions of one model.

use std::sync::Mutex;

/// Named counters that a model bumps once per execution, to show afterwards
/// that loom explored each interesting order of a race and not only one.
///
/// A model that checks "the producer returns `Closed`" proves little unless
/// some executions closed the gate before the producer parked and others
/// after; [`assert_seen`](Self::assert_seen) turns that into a check.
///
/// The counters sit behind a `std` mutex that is only held inside
/// [`record`](Self::record) and the readers, never across a loom operation,
/// so it neither blocks modeled threads nor adds branches.
#[derive(Debug, Default)]
pub struct Outcomes {
    counts: Mutex<Vec<(&'static str, usize)>>,
}

impl Outcomes {
    /// Creates a tally with every outcome at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one execution that ended in `outcome`.
    pub fn record(&self, outcome: &'static str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match counts.iter_mut().find(|(name, _)| *name == outcome) {
            Some((_, count)) => *count += 1,
            None => counts.push((outcome, 1)),
        }
    }

    /// Returns how many executions ended in `outcome`.
    pub fn count(&self, outcome: &str) -> usize {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts
            .iter()
            .find(|(name, _)| *name == outcome)
            .map_or(0, |&(_, count)| count)
    }

    /// Panics unless every outcome in `expected` ended at least one execution.
    pub fn assert_seen(&self, expected: &[&str]) {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for outcome in expected {
            assert!(
                counts.iter().any(|(name, count)| name == outcome && *count > 0),
                "no execution ended in {outcome:?}, so the model never explored that order; outcomes seen: {counts:?}"
            );
        }
        eprintln!("outcomes: {counts:?}");
    }
}
