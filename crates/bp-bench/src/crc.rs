//! CRC-32 of an in-memory input: the `bp-std` reader pipeline against the
//! same job written with channels.
//!
//! Every version reads the input into [`SLOTS`] reused buffers of
//! [`CHUNK_SIZE`] bytes on a reader thread, computes each chunk's CRC-32 on
//! [`WORKERS`] worker threads, and combines the CRCs in input order on the
//! calling thread. A buffer is reused only after its chunk's CRC has been
//! combined, so memory is bounded the same way in every version.

use std::convert::Infallible;
use std::io::Read;
use std::thread;

use bp_std::pipeline::{Chunk, Pipeline, Report};
use crc32fast::Hasher;

use crate::channels::{Channel, Crossbeam, StdSync};

/// Bytes per chunk: the pipeline's default.
pub const CHUNK_SIZE: usize = 1 << 20;
/// Reused chunk buffers: the pipeline's default of four per worker.
pub const SLOTS: usize = 4 * WORKERS;
/// Worker threads: one per core of the two-core machine the targets are for.
pub const WORKERS: usize = 2;

/// A pipeline implementation under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// `bp_std::pipeline::Pipeline`, ordered, with `high = SLOTS` and
    /// `low = SLOTS / 2`.
    Bp,
    /// Three crossbeam-channel `bounded` channels: free buffers, chunks and
    /// results.
    Crossbeam,
    /// Three std `sync_channel`s; the workers share the chunk receiver
    /// behind a `Mutex`.
    StdSync,
}

impl Version {
    /// Every version, bp first.
    pub const ALL: [Self; 3] = [Self::Bp, Self::Crossbeam, Self::StdSync];

    /// Returns the name used in benchmark ids and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bp => "bp",
            Self::Crossbeam => Crossbeam::NAME,
            Self::StdSync => StdSync::NAME,
        }
    }
}

/// Returns the CRC-32 of `input` computed by `version`, and the pipeline's
/// report for bp.
pub fn run(version: Version, input: &[u8]) -> (u32, Option<Report>) {
    match version {
        Version::Bp => {
            let (crc, report) = run_bp(input);
            (crc, Some(report))
        }
        Version::Crossbeam => (run_channels::<Crossbeam>(input), None),
        Version::StdSync => (run_channels::<StdSync>(input), None),
    }
}

fn run_bp(input: &[u8]) -> (u32, Report) {
    let pipeline = Pipeline::builder()
        .chunk_size(CHUNK_SIZE)
        .slots(SLOTS)
        .high(SLOTS as u32)
        .low(SLOTS as u32 / 2)
        .workers(WORKERS)
        .build()
        .expect("valid pipeline settings");

    let finished = pipeline
        .run(
            input,
            |_worker| {
                |chunk: &mut Chunk| {
                    let mut hasher = Hasher::new();
                    hasher.update(chunk.data());
                    Ok::<_, Infallible>(hasher)
                }
            },
            Hasher::new(),
            |total: &mut Hasher, chunk_crc| {
                total.combine(&chunk_crc);
                Ok(())
            },
        )
        .expect("reading from memory cannot fail");
    (finished.value.finalize(), finished.report)
}

/// A chunk on its way to a worker.
struct Filled {
    seq: usize,
    buffer: Box<[u8]>,
    len: usize,
}

/// A chunk's CRC on its way back, with the buffer to reuse after the CRC is
/// combined.
struct Hashed {
    seq: usize,
    hasher: Hasher,
    buffer: Box<[u8]>,
}

/// Allocates the reused buffers.
fn buffers() -> impl Iterator<Item = Box<[u8]>> {
    (0..SLOTS).map(|_| vec![0; CHUNK_SIZE].into_boxed_slice())
}

/// Reads `source` until `buffer` is full or the input ends; returns the
/// bytes read.
fn read_full(source: &mut impl Read, buffer: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buffer.len() {
        match source
            .read(&mut buffer[filled..])
            .expect("reading from memory cannot fail")
        {
            0 => break,
            read => filled += read,
        }
    }
    filled
}

/// Runs the job with channels of library `C`: free buffers, filled chunks
/// and CRCs each go through a channel of [`SLOTS`] entries.
fn run_channels<C: Channel>(input: &[u8]) -> u32 {
    let (free_tx, free_rx) = C::bounded::<Box<[u8]>>(SLOTS);
    let (filled_tx, filled_rx) = C::bounded::<Filled>(SLOTS);
    let (hashed_tx, hashed_rx) = C::bounded::<Hashed>(SLOTS);
    for buffer in buffers() {
        C::send(&free_tx, buffer).expect("the free list has room for every buffer");
    }
    let filled_rx = C::share(filled_rx);

    thread::scope(|scope| {
        // The reader owns the only chunk sender, so the chunk channel closes
        // when the reader returns at the end of the input.
        scope.spawn(move || {
            let mut input = input;
            for seq in 0.. {
                let mut buffer = C::recv(&free_rx).expect("the free list is open");
                let len = read_full(&mut input, &mut buffer);
                if len == 0 {
                    return;
                }
                let filled = Filled { seq, buffer, len };
                // The values hold whole buffers, too large for a panic message.
                if C::send(&filled_tx, filled).is_err() {
                    panic!("the hashers stopped before the end of the input");
                }
            }
        });
        for _ in 0..WORKERS {
            let (filled_rx, hashed_tx) = (&filled_rx, hashed_tx.clone());
            scope.spawn(move || {
                while let Some(filled) = C::recv_shared(filled_rx) {
                    let mut hasher = Hasher::new();
                    hasher.update(&filled.buffer[..filled.len]);
                    let hashed = Hashed {
                        seq: filled.seq,
                        hasher,
                        buffer: filled.buffer,
                    };
                    if C::send(&hashed_tx, hashed).is_err() {
                        panic!("the caller stopped combining CRCs");
                    }
                }
            });
        }
        // Only the hashers keep CRC senders, so the CRCs end with them.
        drop(hashed_tx);

        // Combine the CRCs in input order; those that arrive early wait in
        // a window of SLOTS entries. A buffer is freed only after its CRC
        // is combined. The free list has room for every buffer; after the
        // reader has returned, a send fails and the buffer is dropped.
        let mut total = Hasher::new();
        let mut window: Vec<Option<Hashed>> = (0..SLOTS).map(|_| None).collect();
        let mut next = 0;
        while let Some(hashed) = C::recv(&hashed_rx) {
            let index = hashed.seq % SLOTS;
            debug_assert!(window[index].is_none(), "more than SLOTS chunks in flight");
            window[index] = Some(hashed);

            while let Some(ready) = window[next % SLOTS].take() {
                total.combine(&ready.hasher);
                let _ = C::send(&free_tx, ready.buffer);
                next += 1;
            }
        }
        total.finalize()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_computes_the_same_crc() {
        // Not a multiple of the chunk size, so the last chunk is short.
        let input: Vec<u8> = (0..3 * CHUNK_SIZE + 12_345)
            .map(|index| (index * 7 + index / 4096) as u8)
            .collect();
        let expected = crc32fast::hash(&input);

        for version in Version::ALL {
            let (crc, report) = run(version, &input);
            assert_eq!(crc, expected, "{}", version.name());
            assert_eq!(report.is_some(), version == Version::Bp);
        }
    }

    #[test]
    fn every_version_handles_empty_input() {
        for version in Version::ALL {
            let (crc, _) = run(version, &[]);
            assert_eq!(crc, crc32fast::hash(&[]), "{}", version.name());
        }
    }
}
