//! The hand-off of results from the workers to the folding thread, and the
//! pipeline's stop state.
//!
//! A worker hands over each result together with its taken slot, and the
//! folding thread drops the slot only after folding the result. A chunk
//! therefore stays in flight, counted by the ring's gate, until its result
//! is folded. So the gate's high water mark bounds chunks being read,
//! processed and waiting for their turn alike. The reader blocks at `high`
//! and resumes at `low`, and an ordered run needs no second bound for its
//! reorder window.
//!
//! Ordered runs keep `slots` result cells. Result `seq` goes into cell
//! `seq % slots`. That cell is free because every chunk from the oldest
//! unfolded one (sequence number `consumed`) up to `seq` is still in flight,
//! and at most `high <= slots` chunks are. Unordered runs use a queue of the
//! same capacity, which fills up for the same reason never.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicBool, Ordering},
        Condvar, Mutex, MutexGuard, PoisonError,
    },
};

use crate::ring::{Taken, Worker};

use super::{Chunk, PipelineError};

/// A result and the slot of its chunk, released once the result is folded.
type Pending<'w, T> = (T, Taken<'w, Chunk>);

/// Results waiting to be folded.
enum Waiting<'w, T> {
    /// One cell per sequence number modulo the capacity.
    Ordered(Vec<Option<Pending<'w, T>>>),
    /// Completion order, with each chunk's sequence number.
    Unordered(VecDeque<(u64, Pending<'w, T>)>),
}

struct State<'w, T, E> {
    waiting: Waiting<'w, T>,
    /// Results handed to the fold function so far.
    consumed: u64,
    /// Number of chunks in the input, once the reader reached its end.
    total: Option<u64>,
    /// First error; later errors are consequences of stopping and dropped.
    error: Option<PipelineError<E>>,
    stopped: bool,
}

/// State shared by the reader, the workers and the folding thread.
pub(super) struct Shared<'w, T, E> {
    state: Mutex<State<'w, T, E>>,
    /// Copy of `State::stopped` that threads check without the lock. Relaxed
    /// is enough: it only lets a thread skip work early, and the folding
    /// thread re-checks the flag under the lock before it waits.
    stopped: AtomicBool,
    /// Signalled when a result arrives, the input ends or the run stops. Only
    /// the folding thread waits on it.
    result_ready: Condvar,
    /// The pool's handle on the ring, to close it on a stop.
    ring: &'w Worker<Chunk>,
    capacity: usize,
}

/// The folding thread's next step.
pub(super) enum Next<'w, T> {
    /// The next result, its chunk's sequence number and its slot.
    Result(u64, Pending<'w, T>),
    /// Every chunk's result was folded.
    Done,
    /// The run stopped on an error.
    Stopped,
}

impl<'w, T, E> Shared<'w, T, E> {
    /// Allocates room for `capacity` results up front.
    pub(super) fn new(ring: &'w Worker<Chunk>, capacity: usize, ordered: bool) -> Self {
        let waiting = if ordered {
            Waiting::Ordered((0..capacity).map(|_| None).collect())
        } else {
            Waiting::Unordered(VecDeque::with_capacity(capacity))
        };
        Self {
            state: Mutex::new(State {
                waiting,
                consumed: 0,
                total: None,
                error: None,
                stopped: false,
            }),
            stopped: AtomicBool::new(false),
            result_ready: Condvar::new(),
            ring,
            capacity,
        }
    }

    /// Locks the state. No code of the caller runs under the lock, so no
    /// panic poisons it, and a poisoned lock would still guard consistent
    /// state.
    fn lock(&self) -> MutexGuard<'_, State<'w, T, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns whether the run stopped on an error.
    #[inline]
    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Records `error` if it is the first one, stops the run, closes the ring
    /// so that the reader's next claim fails, and wakes the folding thread.
    pub(super) fn fail(&self, error: PipelineError<E>) {
        let mut state = self.lock();
        if state.error.is_none() {
            state.error = Some(error);
        }
        state.stopped = true;
        self.stopped.store(true, Ordering::Relaxed);
        drop(state);

        self.ring.close();
        self.result_ready.notify_all();
    }

    /// Hands over the result of chunk `seq` with the chunk's slot.
    pub(super) fn deliver(&self, seq: u64, result: T, slot: Taken<'w, Chunk>) {
        let mut state = self.lock();
        match &mut state.waiting {
            Waiting::Ordered(cells) => {
                let cell = &mut cells[(seq % self.capacity as u64) as usize];
                debug_assert!(
                    cell.is_none(),
                    "result {seq} found its cell taken; more than `slots` chunks in flight"
                );
                *cell = Some((result, slot));
            }
            Waiting::Unordered(queue) => {
                debug_assert!(
                    queue.len() < self.capacity,
                    "more than `slots` chunks in flight"
                );
                queue.push_back((seq, (result, slot)));
            }
        }
        drop(state);
        self.result_ready.notify_one();
    }

    /// Records that the input ended after `total` chunks.
    pub(super) fn finish_input(&self, total: u64) {
        let mut state = self.lock();
        state.total = Some(total);
        drop(state);
        self.result_ready.notify_one();
    }

    /// Waits for the next result to fold.
    pub(super) fn next_result(&self) -> Next<'w, T> {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return Next::Stopped;
            }

            let next_seq = state.consumed;
            let ready = match &mut state.waiting {
                Waiting::Ordered(cells) => cells[(next_seq % self.capacity as u64) as usize]
                    .take()
                    .map(|held| (next_seq, held)),
                Waiting::Unordered(queue) => queue.pop_front(),
            };
            if let Some((seq, held)) = ready {
                state.consumed += 1;
                return Next::Result(seq, held);
            }

            if state.total == Some(state.consumed) {
                return Next::Done;
            }
            state = self
                .result_ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Takes the first recorded error.
    pub(super) fn take_error(&self) -> Option<PipelineError<E>> {
        self.lock().error.take()
    }
}
