//! The bounded hand-off of results from the workers to the folding thread,
//! and the pipeline's stop state.
//!
//! Ordered runs keep a window of `capacity` result cells. Result `seq` goes
//! into cell `seq % capacity`. The reader publishes chunk `seq` only once
//! `seq < consumed + capacity`, where `consumed` counts the results already
//! folded. So that cell is always free when the result arrives, a worker never
//! waits, and at most `capacity` results wait for their turn however long a
//! slow chunk delays the window. Unordered runs use a queue of the same
//! capacity, and a worker waits while it is full.
//!
//! Every wait here is on the one mutex's condition variables and re-checks
//! the `stopped` flag, so the first error wakes every waiter.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, Ordering},
        Condvar, Mutex, MutexGuard, PoisonError,
    },
};

use super::PipelineError;

/// Results waiting to be folded.
enum Waiting<T> {
    /// One cell per sequence number modulo the capacity.
    Ordered(Vec<Option<T>>),
    /// Completion order, with each chunk's sequence number.
    Unordered(VecDeque<(u64, T)>),
}

struct State<T, E> {
    waiting: Waiting<T>,
    capacity: usize,
    /// Results handed to the fold function so far.
    consumed: u64,
    /// Number of chunks in the input, once the reader reached its end.
    total: Option<u64>,
    /// First error; later errors are consequences of stopping and dropped.
    error: Option<PipelineError<E>>,
    stopped: bool,
}

/// State shared by the reader, the workers and the folding thread.
pub(super) struct Shared<T, E> {
    state: Mutex<State<T, E>>,
    /// Copy of `State::stopped` that workers check without the lock. Relaxed
    /// is enough: it only lets a worker skip work early, and every wait
    /// re-checks the flag under the lock.
    stopped: AtomicBool,
    /// Signalled when a result arrives, the input ends or the run stops; the
    /// folding thread waits on it.
    result_ready: Condvar,
    /// Signalled when a result is folded or the run stops; the reader
    /// (ordered) and workers (unordered) wait on it.
    space_freed: Condvar,
}

/// The folding thread's next step.
pub(super) enum Next<T> {
    /// The next result and its chunk's sequence number.
    Result(u64, T),
    /// Every chunk's result was folded.
    Done,
    /// The run stopped on an error.
    Stopped,
}

impl<T, E> Shared<T, E> {
    /// Allocates the window of `capacity` results up front.
    pub(super) fn new(capacity: usize, ordered: bool) -> Self {
        let waiting = if ordered {
            Waiting::Ordered((0..capacity).map(|_| None).collect())
        } else {
            Waiting::Unordered(VecDeque::with_capacity(capacity))
        };
        Self {
            state: Mutex::new(State {
                waiting,
                capacity,
                consumed: 0,
                total: None,
                error: None,
                stopped: false,
            }),
            stopped: AtomicBool::new(false),
            result_ready: Condvar::new(),
            space_freed: Condvar::new(),
        }
    }

    /// Locks the state. A panic never happens while the lock is held (no user
    /// code runs under it), so a poisoned lock still guards consistent state.
    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(
        &self,
        condvar: &Condvar,
        guard: MutexGuard<'a, State<T, E>>,
    ) -> MutexGuard<'a, State<T, E>> {
        condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns whether the run stopped on an error.
    #[inline]
    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Records `error` if it is the first one, stops the run and wakes every
    /// waiter.
    pub(super) fn fail(&self, error: PipelineError<E>) {
        let mut state = self.lock();
        if state.error.is_none() {
            state.error = Some(error);
        }
        state.stopped = true;
        self.stopped.store(true, Ordering::Relaxed);
        drop(state);

        self.result_ready.notify_all();
        self.space_freed.notify_all();
    }

    /// Blocks the reader until the result of chunk `seq` has a free cell.
    /// Returns `false` if the run stopped.
    pub(super) fn admit(&self, seq: u64) -> bool {
        let mut state = self.lock();
        if let Waiting::Ordered(_) = state.waiting {
            while !state.stopped && seq >= state.consumed + state.capacity as u64 {
                state = self.wait(&self.space_freed, state);
            }
        }
        !state.stopped
    }

    /// Hands over the result of chunk `seq`, waiting for space in an
    /// unordered run. Returns `false` if the run stopped.
    pub(super) fn deliver(&self, seq: u64, result: T) -> bool {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return false;
            }
            let capacity = state.capacity;
            match &mut state.waiting {
                Waiting::Ordered(cells) => {
                    let cell = &mut cells[(seq % capacity as u64) as usize];
                    debug_assert!(
                        cell.is_none(),
                        "the reader admitted chunk {seq} into a full cell"
                    );
                    *cell = Some(result);
                    break;
                }
                Waiting::Unordered(queue) if queue.len() < capacity => {
                    queue.push_back((seq, result));
                    break;
                }
                Waiting::Unordered(_) => state = self.wait(&self.space_freed, state),
            }
        }
        drop(state);

        // Only the folding thread waits for results.
        self.result_ready.notify_one();
        true
    }

    /// Records that the input ended after `total` chunks.
    pub(super) fn finish_input(&self, total: u64) {
        let mut state = self.lock();
        state.total = Some(total);
        drop(state);
        self.result_ready.notify_one();
    }

    /// Waits for the next result to fold.
    pub(super) fn next_result(&self) -> Next<T> {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return Next::Stopped;
            }

            let next_seq = state.consumed;
            let capacity = state.capacity as u64;
            let ready = match &mut state.waiting {
                Waiting::Ordered(cells) => cells[(next_seq % capacity) as usize]
                    .take()
                    .map(|result| (next_seq, result)),
                Waiting::Unordered(queue) => queue.pop_front(),
            };
            if let Some((seq, result)) = ready {
                state.consumed += 1;
                drop(state);
                self.space_freed.notify_all();
                return Next::Result(seq, result);
            }

            if state.total == Some(state.consumed) {
                return Next::Done;
            }
            state = self.wait(&self.result_ready, state);
        }
    }

    /// Takes the first recorded error.
    pub(super) fn take_error(&self) -> Option<PipelineError<E>> {
        self.lock().error.take()
    }
}
