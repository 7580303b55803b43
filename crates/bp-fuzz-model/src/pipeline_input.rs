//! The `pipeline_input` target: arbitrary input bytes through the bp-std
//! reader pipeline with an arbitrary chunk size, slot count, water marks,
//! worker count and read pattern, checked against one-pass results.
//!
//! Two jobs run on the pipeline, the two that the `bp` command runs:
//! - CRC-32: each worker hashes its chunk, and the fold combines the chunk
//!   hashes in input order. The result must equal `crc32fast::hash` of the
//!   whole input.
//! - gzip: each worker compresses its chunk as raw deflate, primed with the
//!   chunk's history as the dictionary and ending in a sync flush; the fold
//!   concatenates the chunks into one gzip member, which must decompress to
//!   the input.
//!
//! Every chunk is also checked against the input: its bytes, offset and
//! history. A run may inject one failure, a read error or a worker error,
//! which the pipeline must report as the error of the run.
//!
//! NOTE: the `bp` command's own chunk functions live in the bp-cli binary
//! crate, which has no library target to call, so the two jobs here are
//! written against the same pipeline API rather than shared with it.

use std::fmt;
use std::io::{self, Read};

use arbitrary::{Arbitrary, Unstructured};
use bp_std::pipeline::{Chunk, Pipeline, PipelineError};
use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress};

/// Largest chunk size drawn: small, so that short inputs span many chunks.
const MAX_CHUNK_SIZE: u16 = 512;

/// Largest number of slots drawn.
const MAX_SLOTS: u8 = 8;

/// Largest number of worker threads drawn.
const MAX_WORKERS: u8 = 4;

/// Deflate's window, the longest history a chunk's dictionary can use.
const WINDOW_SIZE: usize = 32 * 1024;

/// A whole fuzz input: the pipeline's settings, the job, the read pattern,
/// an optional failure and the input bytes.
#[derive(Arbitrary, Debug)]
pub struct PipelineInput {
    chunk_size: u16,
    slots: u8,
    high: u8,
    low: u8,
    workers: u8,
    ordered: bool,
    history: History,
    job: Job,
    failure: Failure,
    /// Sizes of successive reads: each read returns at most this many bytes
    /// (at least one), cycling through the list.
    reads: Vec<u8>,
    data: Vec<u8>,
}

/// How much preceding input each chunk carries.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum History {
    None,
    Short(u8),
    Window,
}

#[derive(Arbitrary, Clone, Copy, Debug)]
enum Job {
    Crc32,
    /// gzip at `level % 10`.
    Gzip(u8),
}

/// At most one failure per run, so that the expected error is certain.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Failure {
    None,
    /// The source fails once `at % (input length)` bytes have been read.
    Read {
        at: u16,
    },
    /// The worker fails on chunk `seq % (chunk count)`.
    Worker {
        seq: u16,
    },
}

/// The error of an injected worker failure.
#[derive(Debug)]
struct InjectedError;

impl fmt::Display for InjectedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("injected worker failure")
    }
}

/// A source over `data` that returns short reads of the drawn sizes and
/// fails at `fail_at`, if set.
struct ChoppyReader<'a> {
    data: &'a [u8],
    position: usize,
    reads: &'a [u8],
    next_read: usize,
    fail_at: Option<usize>,
}

impl Read for ChoppyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_at == Some(self.position) {
            return Err(io::Error::other("injected read failure"));
        }
        let limit = match self.reads {
            [] => buf.len(),
            sizes => usize::from(sizes[self.next_read % sizes.len()]).max(1),
        };
        self.next_read += 1;

        // Stop short of the failure point, so that it is hit exactly.
        let end = self.fail_at.unwrap_or(self.data.len()).min(self.data.len());
        let count = limit.min(buf.len()).min(end - self.position);
        buf[..count].copy_from_slice(&self.data[self.position..self.position + count]);
        self.position += count;
        Ok(count)
    }
}

/// The result of one chunk, passed from its worker to the fold.
struct ChunkResult {
    seq: u64,
    offset: u64,
    len: usize,
    crc: Hasher,
    /// Raw deflate of the chunk, for the gzip job.
    deflate: Vec<u8>,
}

/// Decodes `data` as a [`PipelineInput`] and runs it; panics at the first
/// difference from the one-pass results.
pub fn run(data: &[u8]) {
    let Ok(input) = PipelineInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };

    let chunk_size = usize::from(input.chunk_size % MAX_CHUNK_SIZE) + 1;
    let slots = input.slots % MAX_SLOTS + 1;
    let high = input.high % slots + 1;
    let low = input.low % high;
    let history_size = match input.history {
        History::None => 0,
        History::Short(bytes) => usize::from(bytes),
        History::Window => WINDOW_SIZE,
    };
    let pipeline = Pipeline::builder()
        .chunk_size(chunk_size)
        .slots(usize::from(slots))
        .high(u32::from(high))
        .low(u32::from(low))
        .workers(usize::from(input.workers % MAX_WORKERS) + 1)
        .ordered(input.ordered)
        .history_size(history_size)
        .build()
        .expect("drawn settings are valid");

    let chunk_count = input.data.len().div_ceil(chunk_size);
    let (fail_at, failing_seq) = match input.failure {
        Failure::None => (None, None),
        Failure::Read { at } if !input.data.is_empty() => {
            (Some(usize::from(at) % input.data.len()), None)
        }
        Failure::Worker { seq } if chunk_count > 0 => {
            (None, Some(usize::from(seq) as u64 % chunk_count as u64))
        }
        Failure::Read { .. } | Failure::Worker { .. } => (None, None),
    };
    let reader = ChoppyReader {
        data: &input.data,
        position: 0,
        reads: &input.reads,
        next_read: 0,
        fail_at,
    };
    let level = match input.job {
        Job::Crc32 => None,
        Job::Gzip(level) => Some(u32::from(level % 10)),
    };

    let make_worker = |_index| {
        let mut compress = level.map(|level| Compress::new(Compression::new(level), false));
        let data = &input.data[..];
        move |chunk: &mut Chunk| {
            check_chunk(chunk, data, chunk_size, history_size);
            if Some(chunk.seq()) == failing_seq {
                return Err(InjectedError);
            }
            let mut crc = Hasher::new();
            crc.update(chunk.data());
            let mut deflate = Vec::new();
            if let Some(compress) = &mut compress {
                deflate_chunk(compress, chunk, &mut deflate);
            }
            Ok(ChunkResult {
                seq: chunk.seq(),
                offset: chunk.offset(),
                len: chunk.len(),
                crc,
                deflate,
            })
        }
    };
    let fold = |results: &mut Vec<ChunkResult>, result: ChunkResult| {
        if input.ordered {
            assert_eq!(
                result.seq,
                results.len() as u64,
                "ordered fold out of order"
            );
        }
        results.push(result);
        Ok(())
    };
    let outcome = pipeline.run(reader, make_worker, Vec::new(), fold);

    match (outcome, fail_at, failing_seq) {
        (Ok(finished), None, None) => {
            assert_eq!(finished.report.bytes, input.data.len() as u64, "bytes read");
            assert_eq!(finished.report.chunks, chunk_count as u64, "chunk count");
            assert!(finished.report.peak_in_flight <= u32::from(high));
            check_results(finished.value, &input.data, level);
        }
        (Err(PipelineError::Read { offset, .. }), Some(at), None) => {
            assert_eq!(offset, at as u64, "offset of the read failure");
        }
        (Err(PipelineError::Worker { seq, error }), None, Some(failing)) => {
            assert_eq!(seq, failing, "chunk of the worker failure");
            assert_eq!(error.to_string(), InjectedError.to_string());
        }
        (Ok(_), at, seq) => {
            panic!(
                "the run succeeded despite a read failure at {at:?} or worker failure at {seq:?}"
            )
        }
        (Err(error), at, seq) => {
            panic!("unexpected error {error} (read failure at {at:?}, worker failure at {seq:?})")
        }
    }
}

/// Checks a chunk's bytes, offset and history against the input.
fn check_chunk(chunk: &Chunk, data: &[u8], chunk_size: usize, history_size: usize) {
    let offset = usize::try_from(chunk.offset()).expect("offset fits usize");
    assert_eq!(
        offset as u64,
        chunk.seq() * chunk_size as u64,
        "offset of chunk {}",
        chunk.seq()
    );
    assert!(!chunk.is_empty(), "empty chunk {}", chunk.seq());
    assert!(chunk.len() <= chunk_size);
    assert_eq!(
        chunk.data(),
        &data[offset..offset + chunk.len()],
        "bytes of chunk {}",
        chunk.seq()
    );

    let history_start = offset.saturating_sub(history_size);
    assert_eq!(
        chunk.history(),
        &data[history_start..offset],
        "history of chunk {}",
        chunk.seq()
    );
}

/// Compresses `chunk` into `out` as raw deflate primed with its history and
/// ending in a sync flush, so that chunks concatenate into one stream.
fn deflate_chunk(compress: &mut Compress, chunk: &Chunk, out: &mut Vec<u8>) {
    compress.reset();
    if !chunk.history().is_empty() {
        compress
            .set_dictionary(chunk.history())
            .expect("setting a deflate dictionary failed");
    }

    let input = chunk.data();
    let start = compress.total_in();
    out.reserve(input.len() + 64);
    loop {
        let consumed = (compress.total_in() - start) as usize;
        compress
            .compress_vec(&input[consumed..], out, FlushCompress::Sync)
            .expect("deflate failed");
        let done = (compress.total_in() - start) as usize == input.len();
        // The flush is complete once the compressor stops with space left.
        if done && out.len() < out.capacity() {
            return;
        }
        out.reserve(out.capacity() + 64);
    }
}

/// Checks the combined CRC-32 and, for the gzip job, the round trip.
fn check_results(mut results: Vec<ChunkResult>, data: &[u8], level: Option<u32>) {
    // An unordered run folds in completion order; restore input order.
    results.sort_by_key(|result| result.seq);

    let mut crc = Hasher::new();
    let mut offset = 0;
    for (index, result) in results.iter().enumerate() {
        assert_eq!(
            result.seq, index as u64,
            "sequence numbers must be 0, 1, 2, ..."
        );
        assert_eq!(result.offset, offset, "offset of chunk {index}");
        offset += result.len as u64;
        crc.combine(&result.crc);
    }
    assert_eq!(offset, data.len() as u64, "chunks cover the input");
    let crc = crc.finalize();
    assert_eq!(crc, crc32fast::hash(data), "combined CRC-32");

    if level.is_some() {
        let member = gzip_member(&results, crc, data.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&member[..])
            .read_to_end(&mut decoded)
            .expect("the gzip member does not decode");
        assert!(decoded == data, "the gzip round trip changed the input");
    }
}

/// Builds one gzip member (RFC 1952) from the chunks' deflate blocks.
fn gzip_member(results: &[ChunkResult], crc: u32, len: usize) -> Vec<u8> {
    // Magic, deflate, no flags, no time, no extra flags, OS unknown.
    let mut member = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    for result in results {
        member.extend_from_slice(&result.deflate);
    }
    // An empty final block with fixed Huffman codes, then the trailer:
    // CRC-32 and length modulo 2^32, little-endian.
    member.extend_from_slice(&[0x03, 0x00]);
    member.extend_from_slice(&crc.to_le_bytes());
    member.extend_from_slice(&(len as u32).to_le_bytes());
    member
}
