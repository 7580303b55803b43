//! Loom models of `bp-core`, and the helpers they share.
//!
//! Build and run with `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`.
//! Without `--cfg loom` this crate is empty, so `cargo build --workspace` on
//! stable builds it without loom.
//!
//! The helpers, for any model of a primitive that parks on a state word:
//!
//! - `ModelPark`: an implementation of [`bp_core::Park`] built from a loom
//!   mutex and condition variable. It re-checks the word under the mutex
//!   before it sleeps, as the kernel re-checks a futex word under its bucket
//!   lock. Its deadlines pass when a racing thread expires them, because loom
//!   has no clock.
//! - `Handoff`: a blocking queue that carries permits or slots from a
//!   producer thread to consumer threads.
//! - `ShadowCount`: the number of units that threads hold, kept beside the
//!   primitive under test so a model can check a bound at every acquire.
//! - `LeakOnUnwind`: keeps a permit's destructor from running loom
//!   operations while loom unwinds a deadlocked execution.
//! - `Outcomes`: counts of how executions ended, to check that loom
//!   explored every order of a race.
//! - `trace`: a per-execution log of model events, printed when a model fails.
//! - `check` and `expect_violation`: run a model with a preemption bound,
//!   measure it, and print the failing execution's events.

#[cfg(loom)]
mod handoff;
#[cfg(loom)]
mod leak;
#[cfg(loom)]
mod outcomes;
#[cfg(loom)]
mod park;
#[cfg(loom)]
mod run;
#[cfg(loom)]
mod shadow;
#[cfg(loom)]
pub mod trace;

#[cfg(loom)]
pub use handoff::Handoff;
#[cfg(loom)]
pub use leak::LeakOnUnwind;
#[cfg(loom)]
pub use outcomes::Outcomes;
#[cfg(loom)]
pub use park::{ModelDeadline, ModelPark};
#[cfg(loom)]
pub use run::{check, expect_violation, spawn_named, Model, ModelSummary, Violation};
#[cfg(loom)]
pub use shadow::ShadowCount;
