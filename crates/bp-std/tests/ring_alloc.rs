//! Checks that chunks pass through a ring with no heap allocation once the
//! ring and its threads exist.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;

use bp_std::ring::{bounded, RingConfig};

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; the counter
// has no effect on the memory returned.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const CHUNK_BYTES: usize = 4096;
const WARM_UP_CHUNKS: u64 = 1_000;
const MEASURED_CHUNKS: u64 = 20_000;

#[test]
#[cfg_attr(
    miri,
    ignore = "counts allocations, not undefined behaviour, and takes minutes under Miri"
)]
fn steady_state_makes_no_allocation() {
    let (producer, worker) = bounded(
        RingConfig {
            slots: 8,
            low: 2,
            high: 8,
        },
        |_| Vec::<u8>::with_capacity(CHUNK_BYTES),
    )
    .unwrap();
    let processed = AtomicU64::new(0);
    let checksum_errors = AtomicUsize::new(0);
    let measuring = AtomicBool::new(false);

    let allocations = thread::scope(|scope| {
        for _ in 0..3 {
            let worker = worker.clone();
            let processed = &processed;
            let checksum_errors = &checksum_errors;
            scope.spawn(move || {
                while let Some(chunk) = worker.take() {
                    let expected = (chunk.seq() % 251) as u8;
                    if chunk.len() != CHUNK_BYTES || chunk.iter().any(|&byte| byte != expected) {
                        checksum_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(chunk);
                    processed.fetch_add(1, Ordering::Release);
                }
            });
        }
        drop(worker);

        let mut before = 0;
        for seq in 0..WARM_UP_CHUNKS + MEASURED_CHUNKS {
            if seq == WARM_UP_CHUNKS {
                // Let the warm-up drain so every thread is in its steady loop.
                while processed.load(Ordering::Acquire) < WARM_UP_CHUNKS {
                    thread::yield_now();
                }
                measuring.store(true, Ordering::Relaxed);
                before = ALLOCATIONS.load(Ordering::Relaxed);
            }
            let mut chunk = producer.claim().unwrap();
            chunk.clear();
            chunk.resize(CHUNK_BYTES, (seq % 251) as u8);
            chunk.publish().unwrap();
        }
        while processed.load(Ordering::Acquire) < WARM_UP_CHUNKS + MEASURED_CHUNKS {
            thread::yield_now();
        }
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        drop(producer);
        after - before
    });

    assert!(measuring.load(Ordering::Relaxed));
    assert_eq!(
        checksum_errors.load(Ordering::Relaxed),
        0,
        "a worker saw a corrupted chunk"
    );
    assert_eq!(
        allocations, 0,
        "{allocations} allocations for {MEASURED_CHUNKS} chunks"
    );
}
