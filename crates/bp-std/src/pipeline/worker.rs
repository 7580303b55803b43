//! A thread of the worker pool.

use std::{
    cell::Cell,
    panic::{self, AssertUnwindSafe},
};

use crate::ring::Worker;

use super::{error::panic_message, results::Shared, Chunk, PipelineError, ThreadRole};

/// Takes chunks and runs the worker function on them until the ring is
/// drained or the run stops. Catches a panic of the factory or the worker
/// function and records it, which stops the run.
pub(super) fn run_worker<'w, F, W, T, E>(
    index: usize,
    ring: &'w Worker<Chunk>,
    make_worker: &F,
    shared: &Shared<'w, T, E>,
) where
    F: Fn(usize) -> W,
    W: FnMut(&mut Chunk) -> Result<T, E>,
{
    let current_seq = Cell::new(None);

    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut work = make_worker(index);

        while let Some(mut taken) = ring.take() {
            if shared.is_stopped() {
                return;
            }

            let seq = taken.seq();
            current_seq.set(Some(seq));
            taken.set_seq(seq);
            let result = work(&mut taken);
            current_seq.set(None);

            match result {
                // The slot stays in flight until the result is folded.
                Ok(value) => shared.deliver(seq, value, taken),
                Err(error) => {
                    drop(taken);
                    shared.fail(PipelineError::Worker { seq, error });
                    return;
                }
            }
        }
    }));

    if let Err(payload) = outcome {
        shared.fail(PipelineError::Panicked {
            role: ThreadRole::Worker,
            seq: current_seq.get(),
            message: panic_message(&*payload),
        });
    }
}
