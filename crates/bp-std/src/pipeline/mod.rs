//! The thread-proxy reader: one thread reads a source into ring slots, a pool
//! of worker threads processes the chunks, and the calling thread folds the
//! results.
//!
//! ```
//! use bp_std::pipeline::{Chunk, Pipeline};
//!
//! let input = vec![7u8; 100_000];
//! let pipeline = Pipeline::builder().chunk_size(4096).slots(4).workers(2).build().unwrap();
//!
//! // Each worker counts the sevens in its chunk; the fold adds the counts up
//! // in input order.
//! let finished = pipeline
//!     .run(
//!         &input[..],
//!         |_worker| |chunk: &mut Chunk| Ok::<_, std::convert::Infallible>(chunk.data().iter().filter(|&&b| b == 7).count()),
//!         0,
//!         |total: &mut usize, sevens| {
//!             *total += sevens;
//!             Ok(())
//!         },
//!     )
//!     .unwrap();
//! assert_eq!(finished.value, 100_000);
//! assert_eq!(finished.report.chunks, 25);
//! ```
//!
//! # Memory bound
//!
//! The ring contains `slots` chunk buffers of `chunk_size` bytes (plus
//! `history_size` bytes each), allocated once. A chunk stays in flight until
//! its result is folded, and at most `high` chunks are in flight: the reader
//! blocks there and resumes at `low`. So at most `high` results exist at
//! once, including those that wait for an earlier chunk in an ordered run.
//! Memory therefore depends on the settings, never on the input size.
//!
//! # Errors and panics
//!
//! The first read error, worker error, fold error or panic (in the source,
//! the worker factory, a worker function or the fold) stops the run: every
//! waiting thread is woken, the ring is closed, slots are released (during
//! unwinding too), every thread is joined and [`Pipeline::run`] returns that
//! error. A `read` call already in progress is not interrupted; the reader
//! stops when it returns.

mod chunk;
mod config;
mod error;
mod reader;
mod report;
mod results;
mod worker;

use std::{
    io::Read,
    panic::{self, AssertUnwindSafe},
    thread,
    time::Instant,
};

pub use chunk::Chunk;
pub use config::{default_workers, PipelineBuilder, PipelineConfig, DEFAULT_CHUNK_SIZE};
pub use error::{ConfigError, PipelineError, ThreadRole};
pub use report::Report;

use crate::ring::{self, RingConfig};
use error::panic_message;
use reader::{read_chunks, ReaderTally};
use results::{Next, Shared};

/// Largest number of slots a pipeline accepts.
pub const MAX_SLOTS: usize = bp_core::MAX_CAPACITY;

/// A checked pipeline configuration; [`run`](Self::run) it on any number of
/// sources, one after the other.
#[derive(Clone, Debug)]
pub struct Pipeline {
    config: PipelineConfig,
}

/// The folded value and the report of a run that reached the end of its
/// input.
#[derive(Debug)]
#[non_exhaustive]
pub struct Finished<A> {
    /// The accumulator after folding every chunk's result.
    pub value: A,
    /// Counters and times of the run.
    pub report: Report,
}

impl Pipeline {
    /// Starts a builder with the default settings.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::new()
    }

    /// Returns the checked settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Reads `source` to its end through the ring and returns the folded
    /// results.
    ///
    /// `make_worker(index)` runs once in each worker thread and returns that
    /// thread's worker function, so each worker can own reusable state such
    /// as a compressor. The worker function processes one chunk and returns
    /// its result. `fold(&mut acc, result)` runs on the calling thread, in
    /// input order if the pipeline is ordered, starting from `init`.
    ///
    /// # Errors
    ///
    /// The first [`PipelineError`]: a read error, an error of the worker or
    /// fold function, a panic in any of them, or a failure to start a thread.
    pub fn run<R, F, W, T, E, A, G>(
        &self,
        source: R,
        make_worker: F,
        init: A,
        fold: G,
    ) -> Result<Finished<A>, PipelineError<E>>
    where
        R: Read + Send,
        F: Fn(usize) -> W + Sync,
        W: FnMut(&mut Chunk) -> Result<T, E>,
        T: Send,
        E: Send,
        G: FnMut(&mut A, T) -> Result<(), E>,
    {
        let start = Instant::now();
        let config = self.config;
        let ring_config = RingConfig {
            slots: config.slots,
            low: config.low,
            high: config.high,
        };
        let (producer, worker) = ring::bounded(ring_config, |_| {
            Chunk::new(config.chunk_size, config.history_size)
        })
        .map_err(PipelineError::Ring)?;
        let shared = Shared::<T, E>::new(&worker, config.slots, config.ordered);
        let mut tally = ReaderTally::new();

        let value = thread::scope(|scope| {
            let reader = thread::Builder::new()
                .name("bp-reader".into())
                .spawn_scoped(scope, {
                    let shared = &shared;
                    let tally = &mut tally;
                    move || {
                        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                            read_chunks(source, &producer, shared, config.history_size, tally);
                        }));
                        if let Err(payload) = outcome {
                            shared.fail(PipelineError::Panicked {
                                role: ThreadRole::Reader,
                                seq: None,
                                message: panic_message(&*payload),
                            });
                        }
                        // Dropping the producer here closes the ring, so idle
                        // workers see the end.
                        drop(producer);
                    }
                });
            if let Err(error) = reader {
                shared.fail(PipelineError::Spawn(error));
            }

            for index in 0..config.workers {
                let spawned = thread::Builder::new()
                    .name(format!("bp-worker-{index}"))
                    .spawn_scoped(scope, {
                        let (shared, worker, make_worker) = (&shared, &worker, &make_worker);
                        move || worker::run_worker(index, worker, make_worker, shared)
                    });
                if let Err(error) = spawned {
                    shared.fail(PipelineError::Spawn(error));
                    break;
                }
            }

            fold_results(&shared, init, fold)
            // The scope joins every thread here. Each thread catches the
            // panics of the caller's code, so the scope re-raises none.
        });

        if let Some(error) = shared.take_error() {
            return Err(error);
        }
        let value = value.expect("a run without an error folds every result");
        let ring_stats = worker.stats();
        let report = Report {
            config,
            bytes: tally.bytes,
            chunks: tally.chunks,
            elapsed: start.elapsed(),
            producer_parks: ring_stats.gate.parks as u64,
            wake_calls: ring_stats.gate.wake_calls as u64,
            peak_in_flight: ring_stats.gate.peak_in_flight,
            worker_parks: ring_stats.worker_parks as u64,
            worker_wakes: ring_stats.worker_wake_calls as u64,
            producer_blocked: tally.producer_blocked,
        };
        Ok(Finished { value, report })
    }
}

/// Folds results on the calling thread until every chunk's result is folded
/// or the run stops, releasing each chunk's slot after its result is folded.
/// Returns `None` on a stop.
fn fold_results<T, E, A, G>(shared: &Shared<'_, T, E>, init: A, mut fold: G) -> Option<A>
where
    G: FnMut(&mut A, T) -> Result<(), E>,
{
    let mut acc = init;
    loop {
        let (seq, (result, slot)) = match shared.next_result() {
            Next::Result(seq, held) => (seq, held),
            Next::Done => return Some(acc),
            Next::Stopped => return None,
        };

        let outcome = panic::catch_unwind(AssertUnwindSafe(|| fold(&mut acc, result)));
        drop(slot);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                shared.fail(PipelineError::Fold { seq, error });
                return None;
            }
            Err(payload) => {
                shared.fail(PipelineError::Panicked {
                    role: ThreadRole::Fold,
                    seq: Some(seq),
                    message: panic_message(&*payload),
                });
                return None;
            }
        }
    }
}
