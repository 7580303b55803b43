//! Benchmarks of bp against the channels people use today.
//!
//! Every scenario runs bp and each peer on identical work, so that the
//! criterion benchmarks (`benches/peers.rs`) and the counted figures (the
//! `bp-bench` binary) compare them within one process run:
//!
//! - [`tokens`]: one thread acquiring and releasing one unit of a bound, with
//!   no contention.
//! - [`handoff`]: one producer writes a 64-byte payload in place and hands it
//!   to worker threads through a bound of 32 chunks. Optional spin work per
//!   chunk makes the `backpressured` scenario. The work-bound limit is the
//!   same work on the same threads with no handoff.
//! - [`crc`]: CRC-32 of an in-memory input through the `bp-std` reader
//!   pipeline and through the same job written with channels.
//!
//! [`counts`] takes the figures that are counted rather than timed, and
//! [`report`] writes `BENCHMARKS.md` and the plot from both.

pub mod alloc;
pub mod channels;
pub mod counts;
pub mod crc;
pub mod handoff;
pub mod input;
pub mod latency;
pub mod report;
pub mod rusage;
pub mod tokens;
pub mod work;
