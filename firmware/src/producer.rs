//! The producer: the SysTick handler claims, fills and publishes one chunk
//! per tick, with non-blocking calls only.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use bp_core::{ProducerBusy, TryClaimError};
use cortex_m_rt::exception;

use crate::{CHUNKS, RING};

/// SysTick interrupts taken so far. The worker reads it to pace itself.
static TICKS: AtomicU32 = AtomicU32::new(0);
/// Chunks published so far; the next chunk's sequence number.
static PRODUCED: AtomicU32 = AtomicU32::new(0);
/// Ticks whose claim the ring rejected as `Full`.
static REJECTED_FULL: AtomicU32 = AtomicU32::new(0);
/// Failed producer calls other than `Full`, each a bug in the ring or here.
static ERRORS: AtomicU32 = AtomicU32::new(0);
/// Set once the producer has closed the ring and stopped for good.
static DONE: AtomicBool = AtomicBool::new(false);

/// The producer's counters, read after it has stopped.
#[derive(Clone, Copy, Debug)]
pub struct ProducerTally {
    pub produced: u32,
    pub rejected_full: u32,
    pub errors: u32,
}

/// Returns the number of SysTick interrupts taken so far.
pub fn ticks() -> u32 {
    // Relaxed: a pacing hint; no data is read because of it.
    TICKS.load(Ordering::Relaxed)
}

/// Returns the producer's counters once it has stopped, or `None` while it
/// still runs.
pub fn tally_when_done() -> Option<ProducerTally> {
    // Acquire: pairs with the Release store in `stop`, so the counter writes
    // made before it are visible below.
    if !DONE.load(Ordering::Acquire) {
        return None;
    }
    Some(ProducerTally {
        produced: PRODUCED.load(Ordering::Relaxed),
        rejected_full: REJECTED_FULL.load(Ordering::Relaxed),
        errors: ERRORS.load(Ordering::Relaxed),
    })
}

#[exception]
fn SysTick() {
    // Relaxed throughout this handler: the counters are written only here,
    // and `tally_when_done` orders the final values through `DONE`.
    TICKS.fetch_add(1, Ordering::Relaxed);
    if DONE.load(Ordering::Relaxed) {
        return;
    }
    produce_one();
}

/// Tries to publish the next chunk. A full ring costs one rejected claim and
/// nothing else; the next tick tries again.
fn produce_one() {
    // The handle is taken on every entry and dropped on return. The main loop
    // never takes it, so `ProducerBusy` here would be a bug.
    let producer = match RING.producer() {
        Ok(producer) => producer,
        Err(ProducerBusy) => return fail("the producer handle is busy"),
    };

    let mut claim = match producer.try_claim() {
        Ok(claim) => claim,
        Err(TryClaimError::Full) => {
            REJECTED_FULL.fetch_add(1, Ordering::Relaxed);
            return;
        }
        Err(_) => return fail("try_claim failed with the ring still open"),
    };

    let seq = u64::from(PRODUCED.load(Ordering::Relaxed));
    claim.fill(seq);
    match claim.publish() {
        Ok(published) if published == seq => {}
        Ok(_) => return fail("publish returned an unexpected sequence number"),
        Err(_) => return fail("publish failed with the ring still open"),
    }

    let produced = PRODUCED.fetch_add(1, Ordering::Relaxed) + 1;
    if produced == CHUNKS {
        stop();
    }
}

/// Counts a producer error and stops, so the worker drains the ring and the
/// summary reports the failure instead of the run hanging.
#[cold]
fn fail(message: &str) {
    ERRORS.fetch_add(1, Ordering::Relaxed);
    // NOTE: semihosting output from an interrupt handler stalls the CPU for
    // the host round trip; acceptable here because the run is already failing.
    cortex_m_semihosting::hprintln!("producer error: {}", message);
    stop();
}

/// Closes the ring, so the worker gets `Closed` once it has taken every
/// published chunk, and stops producing.
fn stop() {
    RING.close();
    // Release: publishes the final counter values to `tally_when_done`.
    DONE.store(true, Ordering::Release);
}
