//! A global allocator that counts heap allocations, for the binaries that
//! report allocations per chunk.
//!
//! ```
//! #[global_allocator]
//! static ALLOCATOR: bp_bench::alloc::Counting = bp_bench::alloc::Counting::new();
//!
//! fn main() {
//!     let before = ALLOCATOR.allocations();
//!     let boxed = std::hint::black_box(Box::new(7));
//!     assert!(ALLOCATOR.allocations() > before);
//!     drop(boxed);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting calls that obtain memory: `alloc`,
/// `alloc_zeroed` and `realloc`. Frees are not counted.
#[derive(Debug)]
pub struct Counting {
    allocations: AtomicU64,
}

impl Counting {
    /// Creates an allocator with a count of zero.
    pub const fn new() -> Self {
        Self {
            allocations: AtomicU64::new(0),
        }
    }

    /// Returns the allocations counted so far, on every thread.
    pub fn allocations(&self) -> u64 {
        // Relaxed: a counter; the caller reads it after joining the threads
        // it measures, which orders their increments before this load.
        self.allocations.load(Ordering::Relaxed)
    }

    #[inline]
    fn count(&self) {
        // Relaxed: only the total matters.
        self.allocations.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for Counting {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; counting touches only an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}
