//! Parallel gzip: one gzip member whose deflate stream is built from chunks
//! compressed independently.
//!
//! Each chunk is compressed as raw deflate with a fresh compressor primed
//! with the preceding 32 KiB of input as its dictionary, so matches can
//! still reach back across the chunk boundary as in a serial stream. Each
//! chunk ends with a sync flush: the blocks end on a byte boundary and none
//! is marked final, so the chunks concatenate into one valid deflate stream.
//! After the last chunk comes an empty final block, then the gzip trailer
//! with the CRC-32 and size of the whole input (CRC-32s of the chunks are
//! combined in order).

use std::{path::Path, sync::Mutex};

use bp_std::pipeline::{Chunk, Pipeline};
use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress};

use crate::{
    args::GzipArgs, error::CliError, input, output::Output, progress::Progress, settings, stats,
};

/// Deflate's window: the farthest back a match can refer, so the most
/// preceding input a chunk's dictionary can use.
pub const WINDOW_SIZE: usize = 32 * 1024;

/// Gzip member header (RFC 1952): magic, deflate, no flags, no modification
/// time, then the extra flags and operating system bytes.
fn header(level: u32) -> [u8; 10] {
    // XFL: 2 marks maximum compression, 4 the fastest algorithm.
    let extra_flags = match level {
        9 => 2,
        1 => 4,
        _ => 0,
    };
    // OS 3: Unix, as gzip and pigz write on Unix-like systems.
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 3]
}

/// An empty final block with fixed Huffman codes (BFINAL = 1, BTYPE = 01,
/// end-of-block code 0000000), padded to a byte boundary.
const FINAL_EMPTY_BLOCK: [u8; 2] = [0x03, 0x00];

/// Returns the zlib-rs level that matches zlib's `level`.
///
/// NOTE: zlib-rs (like zlib-ng) compresses level 1 with a quick strategy that
/// emits only fixed Huffman codes. Measured with zlib-rs 0.6 on a 150 MB mix
/// of text and binaries, its output was 23% larger than pigz -1 (zlib's
/// level 1). zlib-rs level 2 was 4% smaller than pigz -1 and took about 1.5
/// times as long as zlib-rs level 1. Level 1 therefore uses level 2, so that
/// `-l 1` output stays comparable in size to gzip's and pigz's.
fn backend_level(level: u32) -> u32 {
    if level == 1 {
        2
    } else {
        level
    }
}

/// Deflate compression of one chunk at a time, with a new compressor for
/// every chunk so that the output depends only on the chunk, its history
/// and the level, never on which chunk a worker compressed before.
///
/// NOTE: reusing one `Compress` through `reset` and `set_dictionary` is not
/// enough. zlib-rs 0.6.9 hashes 4 bytes per position at levels 1 to 8, and
/// `set_dictionary` inserts the last dictionary position with a hash that
/// includes the window byte just past the dictionary. `reset` does not clear
/// the window, so that byte is left over from the previous stream. A new
/// compressor starts with a zeroed window, and creating one costs far less
/// than compressing a chunk of the default size.
struct ChunkCompressor {
    level: Compression,
}

impl ChunkCompressor {
    fn new(level: u32) -> Self {
        Self {
            level: Compression::new(backend_level(level)),
        }
    }

    /// Compresses `data` into `out` (cleared first) as raw deflate ending in
    /// a sync flush, with `history` as the preset dictionary.
    fn compress(
        &self,
        history: &[u8],
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), flate2::CompressError> {
        let mut compress = Compress::new(self.level, false);
        if !history.is_empty() {
            compress.set_dictionary(history)?;
        }

        out.clear();
        // Incompressible input grows by a few bytes per stored block, so this
        // is enough in one pass for most chunks; the loop grows it otherwise.
        out.reserve(data.len() + data.len() / 64 + 64);
        loop {
            let consumed = compress.total_in() as usize;
            compress.compress_vec(&data[consumed..], out, FlushCompress::Sync)?;

            // The flush is complete once all input is consumed and the
            // compressor stopped with output space left over.
            let all_consumed = compress.total_in() as usize == data.len();
            if all_consumed && out.len() < out.capacity() {
                return Ok(());
            }
            out.reserve(out.capacity() / 2 + 64);
        }
    }
}

/// One compressed chunk on its way to the output.
struct Compressed {
    bytes: Vec<u8>,
    crc: Hasher,
    /// Uncompressed length.
    len: usize,
}

/// Runs `bp gzip`.
pub fn run(args: &GzipArgs) -> Result<(), CliError> {
    let pipeline = settings::build_pipeline(&args.pipeline, WINDOW_SIZE)?;
    let input = input::open(args.file.as_deref().unwrap_or(Path::new("-")))?;
    let mut output = Output::create(args.output.as_deref(), input.identity)?;
    output.write_all(&header(args.level))?;

    let progress = Progress::start(&input);
    let (crc, report) =
        compress_stream(&pipeline, input.reader, args.level, &mut output, &progress)
            .map_err(|error| CliError::from_pipeline(error, &input.name))?;

    output.write_all(&FINAL_EMPTY_BLOCK)?;
    let mut trailer = [0; 8];
    trailer[..4].copy_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE: the input size modulo 2^32, as RFC 1952 defines it.
    trailer[4..].copy_from_slice(&(report.bytes as u32).to_le_bytes());
    output.write_all(&trailer)?;
    output.finish()?;

    progress.finish();
    if args.pipeline.stats {
        stats::print(&input.name, &report);
    }
    Ok(())
}

/// Compresses `source` chunk by chunk and writes the deflate blocks to
/// `output` in order. Returns the CRC-32 of the input and the report.
fn compress_stream(
    pipeline: &Pipeline,
    source: impl std::io::Read + Send,
    level: u32,
    output: &mut Output,
    progress: &Progress,
) -> Result<(Hasher, bp_std::pipeline::Report), bp_std::pipeline::PipelineError<CliError>> {
    // Output buffers go back to this pool after they are written, so the
    // number of buffers is bounded by the chunks in flight plus the results
    // waiting, and steady state allocates nothing.
    let buffers = Mutex::new(Vec::<Vec<u8>>::new());

    let make_worker = |_index| {
        let compressor = ChunkCompressor::new(level);
        let buffers = &buffers;
        move |chunk: &mut Chunk| {
            let mut bytes = buffers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pop()
                .unwrap_or_default();
            compressor
                .compress(chunk.history(), chunk.data(), &mut bytes)
                .map_err(|error| {
                    CliError::failed(format!("compressing chunk {} failed: {error}", chunk.seq()))
                })?;
            let mut crc = Hasher::new();
            crc.update(chunk.data());
            Ok(Compressed {
                bytes,
                crc,
                len: chunk.len(),
            })
        }
    };

    let fold = |crc: &mut Hasher, compressed: Compressed| {
        output.write_all(&compressed.bytes)?;
        crc.combine(&compressed.crc);
        progress.advance(compressed.len);
        buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(compressed.bytes);
        Ok(())
    };

    let finished = pipeline.run(source, make_worker, Hasher::new(), fold)?;
    Ok((finished.value, finished.report))
}

#[cfg(test)]
mod tests {
    use super::{ChunkCompressor, WINDOW_SIZE};

    /// Bytes that follow "abc" in the dictionary and in the chunk.
    const TAIL: &[u8] = b"Xthe-long-unique-tail-0123456789";

    /// Returns a full-window dictionary that contains "abc" + `TAIL` once and
    /// ends in "abc", and a chunk that starts with another byte than `TAIL`'s
    /// first and then repeats "abc" + `TAIL`.
    ///
    /// zlib-rs 0.6.9 hashes 4 bytes per position at levels 1 to 8, so
    /// inserting the last dictionary position "abc?" reads the window byte
    /// just past the dictionary, which the chunk overwrites only later. If the previous stream left `TAIL`'s
    /// first byte there, the chain of "abcX" is cut off and the chunk's match
    /// into the dictionary is lost.
    fn dictionary_and_chunk() -> (Vec<u8>, Vec<u8>) {
        let mut dictionary = vec![b'.'; 1000];
        dictionary.extend_from_slice(b"abc");
        dictionary.extend_from_slice(TAIL);
        dictionary.resize(WINDOW_SIZE - 3, b'.');
        dictionary.extend_from_slice(b"abc");

        let mut chunk = b"Yabc".to_vec();
        chunk.extend_from_slice(TAIL);
        (dictionary, chunk)
    }

    fn compress(compressor: &ChunkCompressor, history: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        compressor
            .compress(history, data, &mut out)
            .expect("compress the chunk");
        out
    }

    #[test]
    fn compressor_output_ignores_previous_chunk() {
        let (dictionary, chunk) = dictionary_and_chunk();
        // Fills the whole window with TAIL's first byte.
        let previous = vec![TAIL[0]; 2 * WINDOW_SIZE];

        for level in 0..=9 {
            let expected = compress(&ChunkCompressor::new(level), &dictionary, &chunk);

            let reused = ChunkCompressor::new(level);
            compress(&reused, &previous, &previous);
            let actual = compress(&reused, &dictionary, &chunk);

            assert_eq!(
                actual, expected,
                "level {level}: the output depends on the chunk compressed before"
            );
        }
    }
}
