//! One producer hands chunks to worker threads through a bound of
//! [`CAPACITY`] chunks: bp's ring against channels with recycled buffers.
//!
//! In every peer the producer is the calling thread. It writes each chunk's
//! 64-byte payload in place into a reused buffer, and blocks while
//! [`CAPACITY`] chunks are in flight. Each worker reads the payload, runs the
//! job's spin and frees the buffer. Each run checks that the workers saw
//! every chunk exactly once by comparing payload checksums.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use bp_std::ring::{self, RingConfig, RingStats};

use crate::channels::{Channel, Crossbeam, Flume, StdSync};
use crate::work::{Payload, Spin};

/// Chunks in flight at most: ring slots and high water mark for bp, buffers
/// and channel capacity for the peers.
pub const CAPACITY: usize = 32;

/// bp's high water mark.
pub const HIGH: u32 = CAPACITY as u32;

/// Low water marks of the sweep: 0, high / 2 and high - 1, with two more
/// points between them for the plot.
pub const LOWS: [u32; 5] = [0, HIGH / 4, HIGH / 2, 3 * HIGH / 4, HIGH - 1];

/// The low water mark of the comparisons that do not sweep it.
pub const DEFAULT_LOW: u32 = HIGH / 2;

/// Worker thread counts: one, and three to oversubscribe two cores.
pub const WORKER_COUNTS: [usize; 2] = [1, 3];

/// Chunks per run of the handoff scenario, which has no work per chunk.
pub const HANDOFF_CHUNKS: u64 = 1_000_000;

/// Per-chunk work of a backpressured scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Target time of one chunk's spin, in microseconds.
    pub micros: u64,
    /// Chunks per run: about 0.2 s of work for one worker.
    pub chunks: u64,
}

impl Load {
    /// Returns the scenario name, such as `backpressured_10us`.
    pub fn group(self) -> String {
        format!("backpressured_{}us", self.micros)
    }
}

/// The backpressured scenarios: about 1 µs and about 10 µs per chunk.
pub const LOADS: [Load; 2] = [
    Load {
        micros: 1,
        chunks: 200_000,
    },
    Load {
        micros: 10,
        chunks: 20_000,
    },
];

/// The producer-to-workers mechanism under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// bp's ring with `high = CAPACITY`.
    Bp {
        /// The low water mark.
        low: u32,
    },
    /// crossbeam-channel `bounded`, buffers recycled through a second channel.
    Crossbeam,
    /// thingbuf's blocking mpsc channel, written and read in place through
    /// `send_ref` and `recv_ref`. It has one receiver, so with several
    /// workers each worker gets its own channel and the capacity is split.
    Thingbuf,
    /// std `sync_channel`, buffers recycled through a second one. Several
    /// workers share the receiver behind a `Mutex`, as std's receiver is
    /// not `Sync`.
    StdSync,
    /// flume `bounded`, buffers recycled through a second channel.
    Flume,
    /// No handoff: each worker thread claims sequence numbers from a shared
    /// counter and writes and processes those chunks itself. This is the
    /// throughput limit that the work allows.
    WorkBound,
}

impl Peer {
    /// The peers of the comparison, bp excluded.
    pub const CHANNELS: [Self; 4] = [Self::Crossbeam, Self::Thingbuf, Self::StdSync, Self::Flume];

    /// Returns the peers of the handoff scenario: bp at [`DEFAULT_LOW`], then
    /// every channel.
    pub fn handoff_set() -> Vec<Self> {
        std::iter::once(Self::Bp { low: DEFAULT_LOW })
            .chain(Self::CHANNELS)
            .collect()
    }

    /// Returns the peers of the backpressured scenarios: bp at every low
    /// water mark of [`LOWS`], every channel, then the work-bound limit.
    pub fn backpressured_set() -> Vec<Self> {
        LOWS.iter()
            .map(|&low| Self::Bp { low })
            .chain(Self::CHANNELS)
            .chain([Self::WorkBound])
            .collect()
    }

    /// Returns the name used in benchmark ids and reports, such as `bp_low16`.
    pub fn name(self) -> String {
        match self {
            Self::Bp { low } => format!("bp_low{low}"),
            Self::Crossbeam => Crossbeam::NAME.to_owned(),
            Self::Thingbuf => "thingbuf".to_owned(),
            Self::StdSync => StdSync::NAME.to_owned(),
            Self::Flume => Flume::NAME.to_owned(),
            Self::WorkBound => "work_bound".to_owned(),
        }
    }
}

/// The work of one run.
#[derive(Clone, Copy, Debug)]
pub struct Job {
    /// Chunks the producer hands over.
    pub chunks: u64,
    /// Worker threads.
    pub workers: usize,
    /// Work each worker does per chunk after reading the payload.
    pub spin: Spin,
}

/// Counters of a finished run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// The ring's counters, for bp only.
    pub ring: Option<RingStats>,
}

/// Runs `job` through `peer` and returns its counters.
///
/// # Panics
///
/// If the workers' checksums do not add up to the chunks that were sent, or
/// if a channel closes early, which would make the measurement meaningless.
pub fn run(peer: Peer, job: &Job) -> Outcome {
    assert!(job.workers > 0, "a handoff needs at least one worker");
    let (total, outcome) = match peer {
        Peer::Bp { low } => run_bp(job, low),
        Peer::Crossbeam => (run_channel::<Crossbeam>(job), Outcome::default()),
        Peer::Thingbuf => (run_thingbuf(job), Outcome::default()),
        Peer::StdSync => (run_channel::<StdSync>(job), Outcome::default()),
        Peer::Flume => (run_channel::<Flume>(job), Outcome::default()),
        Peer::WorkBound => (run_work_bound(job), Outcome::default()),
    };
    assert_eq!(
        total,
        Payload::expected_total(job.chunks),
        "{} lost or repeated chunks",
        peer.name()
    );
    outcome
}

/// Reads one chunk's payload and does the job's work on it.
#[inline]
fn process(payload: &Payload, spin: Spin) -> u64 {
    let sum = payload.checksum();
    spin.run();
    sum
}

/// Joins the worker threads and adds up their checksums.
fn join_sum(handles: Vec<thread::ScopedJoinHandle<'_, u64>>) -> u64 {
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a worker thread panicked"))
        .sum()
}

fn run_bp(job: &Job, low: u32) -> (u64, Outcome) {
    let config = RingConfig {
        slots: CAPACITY,
        low,
        high: CAPACITY as u32,
    };
    let (producer, worker) =
        ring::bounded(config, |_| Payload::default()).expect("valid ring configuration");

    let total = thread::scope(|scope| {
        let handles = (0..job.workers)
            .map(|_| {
                let worker = worker.clone();
                scope.spawn(move || {
                    let mut sum = 0;
                    while let Some(chunk) = worker.take() {
                        sum += process(&chunk, job.spin);
                    }
                    sum
                })
            })
            .collect();

        for seq in 0..job.chunks {
            let mut chunk = producer.claim().expect("the workers closed the ring");
            chunk.write(seq);
            chunk
                .publish()
                .map_err(|_| "publish failed")
                .expect("the workers closed the ring");
        }
        // Closing lets the workers drain the ring and stop.
        drop(producer);
        join_sum(handles)
    });

    // The handle kept here outlives the workers, so the counters are final.
    let outcome = Outcome {
        ring: Some(worker.stats()),
    };
    (total, outcome)
}

/// Allocates the recycled buffers of a channel peer.
fn buffers() -> impl Iterator<Item = Box<Payload>> {
    (0..CAPACITY).map(|_| Box::default())
}

/// Runs `job` through channels of library `C`, recycling the buffers
/// through a second channel that starts with all of them. The free list's
/// capacity is the number of buffers, so returning a buffer never blocks.
fn run_channel<C: Channel>(job: &Job) -> u64 {
    let (work_tx, work_rx) = C::bounded::<Box<Payload>>(CAPACITY);
    let (free_tx, free_rx) = C::bounded::<Box<Payload>>(CAPACITY);
    for buffer in buffers() {
        C::send(&free_tx, buffer).expect("the free list has room for every buffer");
    }

    // One worker owns the receiver; several share it.
    let (owned_rx, shared_rx) = if job.workers == 1 {
        (Some(work_rx), None)
    } else {
        (None, Some(C::share(work_rx)))
    };

    thread::scope(|scope| {
        let mut handles = Vec::with_capacity(job.workers);
        if let Some(work_rx) = owned_rx {
            let free_tx = free_tx.clone();
            handles
                .push(scope.spawn(move || consume::<C>(|| C::recv(&work_rx), &free_tx, job.spin)));
        }
        if let Some(work_rx) = &shared_rx {
            for _ in 0..job.workers {
                let free_tx = free_tx.clone();
                handles.push(
                    scope.spawn(move || {
                        consume::<C>(|| C::recv_shared(work_rx), &free_tx, job.spin)
                    }),
                );
            }
        }

        for seq in 0..job.chunks {
            let mut buffer = C::recv(&free_rx).expect("the free list is open");
            buffer.write(seq);
            C::send(&work_tx, buffer).expect("the workers are running");
        }
        // Dropping the only work sender closes the channel, so the workers
        // drain it and stop.
        drop(work_tx);
        join_sum(handles)
    })
}

/// Runs a worker of a channel peer: processes chunks from `recv_work` until
/// it returns `None`, returns each buffer to the free list, and returns the
/// checksum of what it saw.
#[inline]
fn consume<C: Channel>(
    mut recv_work: impl FnMut() -> Option<Box<Payload>>,
    free_tx: &C::Sender<Box<Payload>>,
    spin: Spin,
) -> u64 {
    let mut sum = 0;
    while let Some(buffer) = recv_work() {
        sum += process(&buffer, spin);
        C::send(free_tx, buffer).expect("the free list has room for every buffer");
    }
    sum
}

fn run_thingbuf(job: &Job) -> u64 {
    // Split the capacity over one channel per worker: 32 over 3 is 11, 11, 10.
    let channels: Vec<_> = (0..job.workers)
        .map(|index| {
            let share = CAPACITY / job.workers + usize::from(index < CAPACITY % job.workers);
            thingbuf::mpsc::blocking::channel::<Payload>(share.max(1))
        })
        .collect();
    let (senders, receivers): (Vec<_>, Vec<_>) = channels.into_iter().unzip();

    thread::scope(|scope| {
        let handles = receivers
            .into_iter()
            .map(|receiver| {
                scope.spawn(move || {
                    let mut sum = 0;
                    while let Some(payload) = receiver.recv_ref() {
                        sum += process(&payload, job.spin);
                    }
                    sum
                })
            })
            .collect();

        let mut next = 0;
        for seq in 0..job.chunks {
            let mut slot = send_ref_round_robin(&senders, &mut next);
            slot.write(seq);
            // Dropping the reference sends the chunk.
        }
        drop(senders);
        join_sum(handles)
    })
}

/// Returns a slot of the first channel, starting at `next`, that has room
/// without blocking; if none has, blocks on channel `next`. Advances `next`
/// past the channel used, so chunks go round-robin while there is room.
fn send_ref_round_robin<'a>(
    senders: &'a [thingbuf::mpsc::blocking::Sender<Payload>],
    next: &mut usize,
) -> thingbuf::mpsc::blocking::SendRef<'a, Payload> {
    let count = senders.len();
    for offset in 0..count {
        let index = (*next + offset) % count;
        if let Ok(slot) = senders[index].try_send_ref() {
            *next = (index + 1) % count;
            return slot;
        }
    }

    let index = *next;
    *next = (index + 1) % count;
    senders[index].send_ref().expect("the worker is running")
}

fn run_work_bound(job: &Job) -> u64 {
    // Each worker claims the next sequence number from a shared counter, so
    // the work is balanced as in a handoff: a worker that the scheduler
    // preempts does not leave a fixed share behind.
    let next_seq = AtomicU64::new(0);
    thread::scope(|scope| {
        let handles = (0..job.workers)
            .map(|_| {
                let next_seq = &next_seq;
                scope.spawn(move || {
                    let mut payload = Payload::default();
                    let mut sum = 0;
                    loop {
                        // Relaxed: the counter hands out distinct numbers
                        // and publishes no data.
                        let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                        if seq >= job.chunks {
                            return sum;
                        }
                        payload.write(seq);
                        sum += process(&payload, job.spin);
                    }
                })
            })
            .collect();
        join_sum(handles)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_delivers_every_chunk_once() {
        // More chunks than the capacity, so every producer blocks and every
        // buffer is reused; `run` panics on a wrong checksum.
        for workers in [1, 2, 3] {
            let job = Job {
                chunks: 20 * CAPACITY as u64 + 7,
                workers,
                spin: Spin { iterations: 50 },
            };
            for peer in Peer::backpressured_set() {
                let outcome = run(peer, &job);
                assert_eq!(
                    outcome.ring.is_some(),
                    matches!(peer, Peer::Bp { .. }),
                    "{} with {workers} worker(s)",
                    peer.name()
                );
            }
        }
    }

    #[test]
    fn bp_keeps_in_flight_within_high() {
        let job = Job {
            chunks: 10_000,
            workers: 3,
            spin: Spin::NONE,
        };
        let stats = run(Peer::Bp { low: DEFAULT_LOW }, &job).ring.unwrap();

        assert!(stats.gate.peak_in_flight <= HIGH, "{stats:?}");
    }

    #[test]
    fn thingbuf_round_robin_skips_full_channels() {
        let (full, _full_rx) = thingbuf::mpsc::blocking::channel::<Payload>(1);
        let (open, open_rx) = thingbuf::mpsc::blocking::channel::<Payload>(1);
        drop(full.send_ref().unwrap());
        let senders = [full, open];

        let mut next = 0;
        let mut slot = send_ref_round_robin(&senders, &mut next);
        slot.write(9);
        drop(slot);

        assert_eq!(next, 0, "the cursor moves past the channel used");
        assert_eq!(open_rx.try_recv_ref().unwrap().0[0], 9);
    }

    #[test]
    fn names_are_distinct() {
        let names: Vec<String> = Peer::backpressured_set()
            .iter()
            .map(|peer| peer.name())
            .collect();
        for (index, name) in names.iter().enumerate() {
            assert!(!names[index + 1..].contains(name), "{name} twice");
        }
    }
}
