//! Fuzz inputs decoded into operation sequences, run against the real
//! primitives and checked against small reference models.
//!
//! Each module exposes one `run(data: &[u8])` that decodes `data` with
//! [`arbitrary`], performs the operations and panics at the first difference
//! between the primitive and its model. The cargo-fuzz targets in `fuzz/`
//! call these functions on nightly, and `tests/fuzz_replay.rs` calls them on
//! every committed corpus and crash input with a plain `cargo test`, so both
//! run exactly the same checks.
//!
//! - [`gate_ops`]: the bp-core gate: configuration, try-acquire, acquire with
//!   a passed deadline, releases in any order, close.
//! - [`ring_ops`]: the bp-core ring: claim, write, publish, drop unpublished,
//!   take, release in any order, close, producer hand-over.
//! - [`pipeline_input`]: the bp-std reader pipeline's CRC-32 and gzip jobs on
//!   arbitrary bytes, chunk sizes, slot counts and read patterns.

pub mod gate_ops;
mod park;
pub mod pipeline_input;
pub mod ring_ops;
