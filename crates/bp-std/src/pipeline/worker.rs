//! A thread of the worker pool.

use std::{
    cell::Cell,
    panic::{self, AssertUnwindSafe},
};

use crate::ring::Worker;

use super::{error::panic_message, results::Shared, Chunk, PipelineError, ThreadRole};

/// Takes chunks and runs the worker function on them until the ring is
/// drained or the run stops. Catches a panic of the factory or the worker
/// function, records it and closes the ring so that the reader stops.
pub(super) fn run_worker<F, W, T, E>(
    index: usize,
    worker: &Worker<Chunk>,
    make_worker: &F,
    shared: &Shared<T, E>,
) where
    F: Fn(usize) -> W,
    W: FnMut(&mut Chunk) -> Result<T, E>,
{
    let current_seq = Cell::new(None);

    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut work = make_worker(index);

        while let Some(mut taken) = worker.take() {
            if shared.is_stopped() {
                return;
            }

            let seq = taken.seq();
            current_seq.set(Some(seq));
            taken.set_seq(seq);
            let result = work(&mut taken);
            // Release the slot before handing the result over, so that the
            // reader can refill it while the fold catches up.
            drop(taken);
            current_seq.set(None);

            match result {
                Ok(value) => {
                    if !shared.deliver(seq, value) {
                        return;
                    }
                }
                Err(error) => {
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
    if shared.is_stopped() {
        // Fail the reader's next claim at once instead of when the last
        // worker thread ends.
        worker.close();
    }
}
