//! A count of held units kept beside the primitive under test.

use std::sync::atomic::{AtomicU32, Ordering};

/// The number of units that model threads hold, with a bound checked at
/// every acquire.
///
/// A thread calls [`acquired`](Self::acquired) right after the primitive
/// grants it a unit and [`released`](Self::released) right before it gives
/// the unit back. The shadow count is then never above the primitive's real
/// count. In the executions where no thread is between its `released` and
/// its real release, the two are equal. Loom explores those executions, so an
/// overshoot of the real count shows up here.
///
/// The count is a plain `std` atomic: the code under test never reads it, so
/// it stays out of loom's exploration and adds no branches. Loom runs every
/// modeled thread on one OS thread, so the count is exact.
#[derive(Debug)]
pub struct ShadowCount {
    held: AtomicU32,
    bound: u32,
}

impl ShadowCount {
    /// Creates a count of zero that must never exceed `bound`.
    pub fn new(bound: u32) -> Self {
        Self {
            held: AtomicU32::new(0),
            bound,
        }
    }

    /// Counts one more held unit and returns the new count.
    ///
    /// # Panics
    ///
    /// If the new count exceeds the bound.
    pub fn acquired(&self) -> u32 {
        let held = self.held.fetch_add(1, Ordering::Relaxed) + 1;
        assert!(
            held <= self.bound,
            "bound exceeded: {held} units held, the bound is {}",
            self.bound
        );
        held
    }

    /// Counts one fewer held unit.
    ///
    /// # Panics
    ///
    /// If no unit is held, because the model then has a bug.
    pub fn released(&self) {
        let previous = self.held.fetch_sub(1, Ordering::Relaxed);
        assert!(
            previous > 0,
            "ShadowCount::released called with no unit held"
        );
    }

    /// Returns the number of units held now.
    pub fn held(&self) -> u32 {
        self.held.load(Ordering::Relaxed)
    }
}
