//! A thread of the worker pool.

use std::panic::{self, AssertUnwindSafe};

use crate::ring::Worker;

use super::{error::panic_message, results::Shared, Chunk, PipelineError, ThreadRole};

/// Takes chunks and runs the worker function on them until the ring is
/// drained or the run stops. Catches a panic of the factory or the worker
/// function and records it, which stops the run.
///
/// On an error or a panic the run is stopped *before* the failed chunk's slot
/// goes back to the ring. Otherwise the reader could refill that slot, and the
/// chunk `slots` positions later could take the failed chunk's result cell.
pub(super) fn run_worker<'w, F, W, T, E>(
    index: usize,
    ring: &'w Worker<Chunk>,
    make_worker: &F,
    shared: &Shared<'w, T, E>,
) where
    F: Fn(usize) -> W,
    W: FnMut(&mut Chunk) -> Result<T, E>,
{
    let mut work = match panic::catch_unwind(AssertUnwindSafe(|| make_worker(index))) {
        Ok(work) => work,
        Err(payload) => {
            shared.fail(PipelineError::Panicked {
                role: ThreadRole::Worker,
                seq: None,
                message: panic_message(&*payload),
            });
            return;
        }
    };

    while let Some(mut taken) = ring.take() {
        if shared.is_stopped() {
            return;
        }

        let seq = taken.seq();
        taken.set_seq(seq);

        // The slot is released after the match in every arm but the first,
        // so a failure is recorded while the slot is still in flight.
        match panic::catch_unwind(AssertUnwindSafe(|| work(&mut taken))) {
            // The slot stays in flight until the result is folded.
            Ok(Ok(value)) => shared.deliver(seq, value, taken),
            Ok(Err(error)) => {
                shared.fail(PipelineError::Worker { seq, error });
                drop(taken);
                return;
            }
            Err(payload) => {
                shared.fail(PipelineError::Panicked {
                    role: ThreadRole::Worker,
                    seq: Some(seq),
                    message: panic_message(&*payload),
                });
                drop(taken);
                return;
            }
        }
    }
}
