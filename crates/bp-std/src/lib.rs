//! Backpressure for chunk pipelines on OS threads.
//!
//! - [`Gate`]: an in-flight counter with a high water mark where producers
//!   block and a low water mark where they resume, with timeouts, close and
//!   permits that move between threads.
//! - [`park`]: the [`bp_core::Park`] implementations that blocked threads
//!   sleep with: [`FutexPark`] (the kernel futex on Linux and Android) and the
//!   portable [`FallbackPark`].
//! - [`ring`]: a run-time-sized ring of reusable chunk slots between a
//!   producer thread and worker threads.
//!
//! The state machines live in the `no_std` crate `bp-core`; this crate binds
//! them to the operating system.
#![deny(unsafe_op_in_unsafe_fn)]

mod gate;
pub mod park;
pub mod pipeline;
pub mod ring;
mod sync;

pub use bp_core::{
    AcquireError, AcquireTimeoutError, ConfigError, GateConfig, GateStats, TryAcquireError,
    MAX_HIGH,
};
pub use gate::{Gate, OwnedPermit, Permit};
pub use park::{FallbackPark, FutexPark};
