//! Command-line syntax of `bp`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::size::parse_size;

/// Checksum and compress files through a bounded, backpressured pipeline:
/// one thread reads fixed-size chunks into a ring of reusable slots, a pool
/// of worker threads processes them, and results are combined in input
/// order. Memory stays at about slots times chunk size, whatever the input
/// size.
#[derive(Debug, Parser)]
#[command(name = "bp", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CRC-32 (the IEEE polynomial of zlib and gzip) and the size of
    /// each input: 8 hex digits, the size in bytes and the name, separated by
    /// two spaces.
    Cksum(CksumArgs),
    /// Compress one input to gzip format, chunks in parallel, in the manner of
    /// pigz. The output decompresses with `gzip -d`.
    Gzip(GzipArgs),
}

#[derive(Debug, Args)]
pub struct CksumArgs {
    /// Files to read; `-` or no file reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct GzipArgs {
    /// File to compress; `-` or no file reads standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Write the compressed output to OUT instead of standard output. OUT
    /// appears only once it is complete: bp writes a temporary file in the
    /// same directory and renames it at the end. On Unix, SIGINT, SIGTERM and
    /// SIGHUP remove that file before bp dies by the signal.
    #[arg(short, long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Compression level, from 0 (store only, fastest) to 9 (smallest
    /// output, slowest).
    #[arg(short, long, value_name = "LEVEL", default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    pub level: u32,

    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// Settings of the reader pipeline, shared by every subcommand.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// Number of worker threads that process chunks [default: the number of
    /// CPUs available]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub workers: Option<u64>,

    /// Bytes read into each chunk; accepts K, M and G suffixes (powers of
    /// 1024), such as 64K or 1MiB
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size)]
    pub chunk_size: usize,

    /// Number of chunk buffers, allocated once; memory is about SLOTS times
    /// the chunk size [default: 4 per worker, and at least HIGH]
    #[arg(long, value_name = "N")]
    pub slots: Option<usize>,

    /// Chunks in flight at which the reader blocks; at most SLOTS [default:
    /// SLOTS]
    #[arg(long, value_name = "N")]
    pub high: Option<u32>,

    /// Chunks in flight at or below which a blocked reader resumes; below
    /// HIGH [default: HIGH / 2]
    #[arg(long, value_name = "N")]
    pub low: Option<u32>,

    /// Print the pipeline report to standard error: bytes, chunks,
    /// throughput, reader parks and wake calls, peak chunks in flight, time
    /// blocked and peak resident memory
    #[arg(long)]
    pub stats: bool,
}
