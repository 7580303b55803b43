//! Backpressure for chunk pipelines, without an allocator and without locks on
//! the fast path.
//!
//! - [`Gate`]: an in-flight counter with a high water mark where producers park
//!   and a low water mark where they are woken again, in one atomic word.
//! - [`Park`]: the contract by which a thread sleeps on a state word and is
//!   woken, with [`SpinPark`] for bare metal.
//! - [`Ring`]: a fixed set of reusable chunk slots handed from one producer to
//!   many workers, bounded by a gate, in static or run-time storage.
//!
//! The crate is `#![no_std]` and never allocates. On targets without
//! compare-and-swap (`thumbv6m-none-eabi`, `riscv32imc-unknown-none-elf`),
//! enable the `critical-section` feature and provide a critical-section
//! implementation.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod gate;
mod padded;
pub mod park;
pub mod ring;
#[cfg(test)]
mod scripted_park;
mod sync;
mod word;

pub use gate::{
    AcquireError, AcquireTimeoutError, ConfigError, Gate, GateConfig, GateStats, OwnedPermit,
    Permit, TryAcquireError, MAX_HIGH,
};
pub use park::{Clock, NoClock, Park, SpinPark, WaitOutcome};
pub use ring::{
    Claim, ClaimError, ClaimTimeoutError, Producer, ProducerBusy, PublishError, Ring, RingError,
    RingStats, Slot, TakeTimeoutError, Taken, TryClaimError, TryTakeError, MAX_CAPACITY,
};
