//! The worker: the main loop takes chunks, checks them and keeps each one for
//! a few ticks, so that it is slower than the producer.

use bp_core::TryTakeError;
use cortex_m_semihosting::hprintln;

use crate::producer;
use crate::{RING, WORK_TICKS};

/// Errors printed in full; later ones are only counted.
const MAX_REPORTED_ERRORS: u32 = 5;

/// The worker's counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerTally {
    /// Chunks taken and checked.
    pub consumed: u32,
    /// Chunks whose sequence number was not the previous one plus one.
    pub out_of_order: u32,
    /// Chunks whose contents did not match the pattern of their sequence number.
    pub bad_contents: u32,
    /// `try_take` errors other than `Empty` and `Closed`.
    pub take_errors: u32,
}

impl WorkerTally {
    /// Returns the total number of errors of every kind.
    pub fn errors(&self) -> u32 {
        self.out_of_order + self.bad_contents + self.take_errors
    }
}

/// Takes and checks chunks until the ring is closed and drained.
pub fn run() -> WorkerTally {
    let mut tally = WorkerTally::default();
    let mut expected_seq = 0;
    loop {
        let chunk = match RING.try_take() {
            Ok(chunk) => chunk,
            // Sleep until the next interrupt: SysTick keeps firing, so at worst
            // a chunk published just before the sleep waits one tick.
            Err(TryTakeError::Empty) => {
                cortex_m::asm::wfi();
                continue;
            }
            Err(TryTakeError::Closed) => return tally,
            Err(_) => {
                tally.take_errors += 1;
                report(&tally, format_args!("try_take failed unexpectedly"));
                return tally;
            }
        };

        let seq = chunk.seq();
        if seq != expected_seq {
            tally.out_of_order += 1;
            report(
                &tally,
                format_args!("chunk {seq} arrived, expected chunk {expected_seq}"),
            );
        }
        expected_seq = seq + 1;

        if let Err(error) = chunk.verify(seq) {
            tally.bad_contents += 1;
            report(&tally, format_args!("chunk {seq}: {error}"));
        }
        tally.consumed += 1;

        // The slow part of the work: keep the slot while the producer ticks on.
        hold_for_ticks(WORK_TICKS);
        drop(chunk);
    }
}

/// Waits until `count` more SysTick interrupts have been taken.
fn hold_for_ticks(count: u32) {
    let start = producer::ticks();
    while producer::ticks().wrapping_sub(start) < count {
        cortex_m::asm::wfi();
    }
}

/// Prints a worker error, unless enough have been printed already.
#[cold]
fn report(tally: &WorkerTally, message: core::fmt::Arguments<'_>) {
    if tally.errors() <= MAX_REPORTED_ERRORS {
        hprintln!("worker error: {}", message);
    }
}
