//! A blocking queue between model threads.

use std::collections::VecDeque;

use loom::sync::{Condvar, Mutex};

use crate::LeakOnUnwind;

/// A blocking multi-producer, multi-consumer queue made of a loom mutex and
/// condition variable.
///
/// Models use it to carry permits from a producer to consumer threads, which
/// then release them concurrently. A consumer blocked here is visible to
/// loom's deadlock detection like any other sleeper. Queued items are leaked
/// instead of dropped if a deadlock report unwinds the model (see
/// [`LeakOnUnwind`]).
#[derive(Debug)]
pub struct Handoff<T> {
    state: Mutex<HandoffState<T>>,
    ready: Condvar,
}

#[derive(Debug)]
struct HandoffState<T> {
    items: VecDeque<LeakOnUnwind<T>>,
    closed: bool,
}

impl<T> Handoff<T> {
    /// Creates an open, empty queue.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(HandoffState {
                items: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// Appends `item` and wakes one receiver.
    ///
    /// # Panics
    ///
    /// If the queue is closed, because the model then has a bug.
    pub fn send(&self, item: T) {
        let item = LeakOnUnwind::new(item);
        let mut state = self.state.lock().unwrap();
        assert!(!state.closed, "Handoff::send called after close");
        state.items.push_back(item);
        self.ready.notify_one();
    }

    /// Marks the end of the items; receivers return `None` once the queue is empty.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap();
        state.closed = true;
        self.ready.notify_all();
    }

    /// Removes the oldest item, blocking while the queue is empty and open.
    ///
    /// Returns `None` once the queue is closed and empty.
    pub fn recv(&self) -> Option<T> {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Some(item.into_inner());
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap();
        }
    }
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Self::new()
    }
}
