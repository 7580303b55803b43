//! The one place that names the synchronization primitives of this crate.
//!
//! Other modules import atomics, locks and shared pointers from here, so that
//! a model-checking build can swap them in this file alone.

pub(crate) use core::sync::atomic::Ordering;
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

pub(crate) use bp_core::park::AtomicU32;
