//! Example firmware: bp-core's ring between a timer interrupt and the main
//! loop, on a Cortex-M3 (QEMU's `lm3s6965evb` board).
//!
//! The SysTick handler is the producer. On every tick it takes the ring's
//! producer handle, makes one non-blocking claim, fills the slot with a
//! pattern derived from the chunk's sequence number and publishes it. A claim
//! rejected as `Full` is counted, and the handler returns. The main loop is
//! the worker: it takes each chunk, checks its sequence number and contents,
//! and keeps it for [`WORK_TICKS`] ticks before releasing it. The producer
//! therefore outruns the worker and the gate's high water mark rejects claims.
//!
//! After [`CHUNKS`] chunks the producer closes the ring. The worker drains it,
//! prints a summary through semihosting and exits QEMU with status 0 only if
//! every chunk arrived in order and intact, claims were rejected, and the
//! peak in-flight count stayed at or below `HIGH`.
#![no_std]
#![no_main]

mod chunk;
mod producer;
mod worker;

use core::mem::size_of;

use bp_core::{GateConfig, Ring, Slot, SpinPark};
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

use chunk::Chunk;
use producer::ProducerTally;
use worker::WorkerTally;

/// Chunks the producer publishes before it closes the ring.
const CHUNKS: u32 = 2000;
/// Slots in the ring.
const CAPACITY: usize = 8;
/// Low water mark. Only a producer blocked in `claim` waits for it, and this
/// firmware claims with `try_claim` only, so here it has no effect.
const LOW: u32 = 2;
/// High water mark: the most slots in flight at once. It is below
/// `CAPACITY`, so the bound checked at the end is the gate's, not the
/// number of slots.
const HIGH: u32 = 6;
/// Core clock cycles between two SysTick interrupts (the reload value plus
/// one). QEMU's lm3s6965evb clocks the core at about 12 MHz (measured here:
/// 6,000 ticks of 12,000 cycles took 6.3 s), so this is a tick about every
/// 400 microseconds.
const TICK_CYCLES: u32 = 4_800;
/// Ticks the worker keeps each chunk. Each chunk it consumes gives the
/// producer at least `WORK_TICKS - 1` full tick periods to claim, so the ring
/// fills up and claims are rejected.
const WORK_TICKS: u32 = 3;

type ChunkRing = Ring<Chunk, [Slot<Chunk>; CAPACITY], SpinPark>;

/// The ring, in `.data` like any initialized static: no allocator is involved.
static RING: ChunkRing = Ring::new_array(
    [const { Slot::new(Chunk::EMPTY) }; CAPACITY],
    GateConfig::new_const::<LOW, HIGH>(),
    SpinPark::new(),
);

#[entry]
fn main() -> ! {
    let mut peripherals = cortex_m::Peripherals::take().expect("peripherals are taken only here");
    let systick = &mut peripherals.SYST;
    systick.set_clock_source(SystClkSource::Core);
    systick.set_reload(TICK_CYCLES - 1);
    systick.clear_current();
    systick.enable_interrupt();
    systick.enable_counter();

    let worker = worker::run();

    systick.disable_interrupt();
    systick.disable_counter();
    let passed = summarize(&worker);

    debug::exit(if passed {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Reached only without a semihosting host, which cannot report a result.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Prints the summary and each failed check, and returns whether the run
/// passed.
fn summarize(worker: &WorkerTally) -> bool {
    let Some(producer) = producer::tally_when_done() else {
        hprintln!("FAIL: the ring was closed but the producer had not stopped");
        hprintln!("firmware: FAIL");
        return false;
    };
    let peak_in_flight = RING.stats().gate.peak_in_flight;

    hprintln!(
        "ring: {} slots of {} bytes, low {}, high {}, {} bytes in all",
        CAPACITY,
        size_of::<Slot<Chunk>>(),
        LOW,
        HIGH,
        size_of::<ChunkRing>()
    );
    hprintln!("produced: {}", producer.produced);
    hprintln!("rejected as full: {}", producer.rejected_full);
    hprintln!("consumed: {}", worker.consumed);
    hprintln!("peak in-flight: {}", peak_in_flight);
    hprintln!(
        "errors: {} (producer {}, out of order {}, bad contents {}, take {})",
        producer.errors + worker.errors(),
        producer.errors,
        worker.out_of_order,
        worker.bad_contents,
        worker.take_errors
    );

    let passed = check(&producer, worker, peak_in_flight);
    hprintln!("firmware: {}", if passed { "PASS" } else { "FAIL" });
    passed
}

/// Prints every failed pass condition and returns whether all of them hold.
fn check(producer: &ProducerTally, worker: &WorkerTally, peak_in_flight: u32) -> bool {
    let mut passed = true;
    let mut require = |condition: bool, failure: core::fmt::Arguments<'_>| {
        if !condition {
            hprintln!("FAIL: {}", failure);
            passed = false;
        }
    };

    require(
        producer.produced == CHUNKS,
        format_args!("produced {} chunks, expected {CHUNKS}", producer.produced),
    );
    require(
        worker.consumed == producer.produced,
        format_args!(
            "consumed {} chunks of {} produced",
            worker.consumed, producer.produced
        ),
    );
    require(
        producer.errors + worker.errors() == 0,
        format_args!("errors were counted"),
    );
    require(
        producer.rejected_full > 0,
        format_args!("no claim was rejected as full, so backpressure never engaged"),
    );
    require(
        peak_in_flight <= HIGH,
        format_args!("peak in-flight {peak_in_flight} exceeds the high water mark {HIGH}"),
    );
    passed
}
