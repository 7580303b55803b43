//! The reader thread: fills claimed slots from the source and publishes them.

use std::{
    io::{self, ErrorKind, Read},
    time::{Duration, Instant},
};

use crate::ring::{Producer, TryClaimError};

use super::{
    chunk::{Chunk, History},
    results::Shared,
    PipelineError,
};

/// Counters and times of the reader, for the report.
pub(super) struct ReaderTally {
    pub(super) bytes: u64,
    pub(super) chunks: u64,
    pub(super) producer_blocked: Duration,
}

impl ReaderTally {
    pub(super) fn new() -> Self {
        Self {
            bytes: 0,
            chunks: 0,
            producer_blocked: Duration::ZERO,
        }
    }
}

/// Reads `source` into slots until its end, the first error or a stop, and
/// publishes each filled slot. Records an error in `shared` or reports the
/// number of chunks with [`Shared::finish_input`], so the folding thread
/// always learns how the input ended.
pub(super) fn read_chunks<R: Read, T, E>(
    mut source: R,
    producer: &Producer<Chunk>,
    shared: &Shared<'_, T, E>,
    history_size: usize,
    tally: &mut ReaderTally,
) {
    let mut history = History::new(history_size);

    loop {
        if shared.is_stopped() {
            return;
        }
        let Some(mut claim) = claim(producer, tally) else {
            // Only a stop closes the ring while the reader owns the producer.
            if !shared.is_stopped() {
                shared.fail(PipelineError::Closed);
            }
            return;
        };
        if shared.is_stopped() {
            return;
        }

        let offset = tally.bytes;
        let buf = claim.buf_mut();
        let capacity = buf.len();
        let filled = match fill(&mut source, buf) {
            Ok(filled) => filled,
            Err((filled, error)) => {
                shared.fail(PipelineError::Read {
                    offset: offset + filled as u64,
                    source: error,
                });
                return;
            }
        };
        if filled == 0 {
            // End of input: the claim returns to the free set unpublished.
            break;
        }

        claim.set_len(filled);
        claim.set_position(offset);
        claim.set_seq(tally.chunks);
        claim.set_history(history.as_slice());
        history.push(claim.data());

        let Ok(seq) = claim.publish() else {
            // Workers closed the ring after the claim; the returned claim
            // frees the slot when dropped.
            if !shared.is_stopped() {
                shared.fail(PipelineError::Closed);
            }
            return;
        };
        debug_assert_eq!(seq, tally.chunks, "the reader is the only publisher");
        tally.chunks += 1;
        tally.bytes += filled as u64;

        if filled < capacity {
            // A short fill means the source returned end of input.
            break;
        }
    }

    shared.finish_input(tally.chunks);
}

/// Claims a free slot, timing the wait when the ring is full. Returns `None`
/// once the ring is closed.
fn claim<'p>(
    producer: &'p Producer<Chunk>,
    tally: &mut ReaderTally,
) -> Option<crate::ring::Claim<'p, Chunk>> {
    match producer.try_claim() {
        Ok(claim) => return Some(claim),
        Err(TryClaimError::Full) => {}
        Err(_) => return None,
    }

    let start = Instant::now();
    let claim = producer.claim().ok();
    tally.producer_blocked += start.elapsed();
    claim
}

/// Reads until `buf` is full or the source ends, retrying interrupted reads.
/// Returns the number of bytes read, or the bytes read before the error and
/// the error.
fn fill(source: &mut impl Read, buf: &mut [u8]) -> Result<usize, (usize, io::Error)> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err((filled, error)),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use std::io::{self, ErrorKind, Read};

    use super::fill;

    /// Returns at most 3 bytes per call and an interruption before each read.
    struct Trickle<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(ErrorKind::Interrupted));
            }
            let n = buf.len().min(3).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn fill_continues_after_short_reads() {
        let mut source = Trickle {
            data: b"0123456789",
            interrupt: false,
        };
        let mut buf = [0; 8];
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 8);
        assert_eq!(&buf, b"01234567");
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(fill(&mut source, &mut buf).unwrap(), 0);
    }
}
