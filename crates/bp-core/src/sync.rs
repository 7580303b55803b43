//! The one place that chooses between real atomics and loom's model of them.
//!
//! Everything else in the crate imports atomics and cells from here, so a
//! `--cfg loom` build swaps every shared-memory access for loom's checked one.

#[cfg(not(loom))]
pub use portable_atomic::AtomicU32;
#[cfg(not(loom))]
pub(crate) use portable_atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(loom)]
pub use loom::sync::atomic::AtomicU32;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// A cell with loom's closure-based access API, so that ring code reads the same
/// under both configurations.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
