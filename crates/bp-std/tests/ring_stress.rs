//! One producer and several workers on a small ring, one worker sometimes
//! holding its slot for a long time, with a progress watchdog.
//!
//! `BP_STRESS_CHUNKS` sets the number of chunks per round (default 100000,
//! 300 under Miri); a soak run can raise it freely.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use bp_std::ring::{bounded, RingConfig};

const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const PUBLISHED: u8 = 2;
const HELD: u8 = 3;

const SLOTS: usize = 6;
const WORKERS: usize = 4;
/// A watchdog fails the run when no chunk completes for this long.
const STALL_LIMIT: Duration = Duration::from_secs(30);

fn chunk_count() -> u64 {
    std::env::var("BP_STRESS_CHUNKS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(if cfg!(miri) { 300 } else { 100_000 })
}

/// Payload of chunk `seq`: every word derived from it, so a torn or stale
/// chunk is detected.
fn payload(seq: u64) -> [u64; 8] {
    core::array::from_fn(|word| {
        seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(word as u32 * 8)
    })
}

/// Moves the test's record of slot `index` from `from` to `to`, failing if
/// the ring handed the slot out in a state it could not be in.
fn transition(states: &[AtomicU8], index: usize, from: u8, to: u8) {
    if let Err(actual) =
        states[index].compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
    {
        panic!("slot {index}: expected state {from} before moving to {to}, found {actual}");
    }
}

/// Aborts the process if `progress` stops advancing while `done` is unset.
fn spawn_watchdog<'scope>(
    scope: &'scope thread::Scope<'scope, '_>,
    progress: &'scope AtomicU64,
    done: &'scope AtomicBool,
) {
    scope.spawn(move || {
        let mut last = progress.load(Ordering::Relaxed);
        let mut last_change = Instant::now();
        while !done.load(Ordering::Relaxed) {
            thread::park_timeout(Duration::from_millis(100));
            let now = progress.load(Ordering::Relaxed);
            if now != last {
                last = now;
                last_change = Instant::now();
            } else if last_change.elapsed() > STALL_LIMIT {
                eprintln!("watchdog: no chunk completed for {STALL_LIMIT:?} after {now} chunks");
                std::process::abort();
            }
        }
    });
}

#[test]
fn workers_process_each_chunk_once_under_slow_holder() {
    let chunks = chunk_count();
    for (low, high) in [(0, SLOTS as u32), (2, 5), (4, 5)] {
        run_round(chunks, low, high);
    }
}

fn run_round(chunks: u64, low: u32, high: u32) {
    let (producer, worker) = bounded(
        RingConfig {
            slots: SLOTS,
            low,
            high,
        },
        |_| [0_u64; 8],
    )
    .unwrap();
    let states: Vec<AtomicU8> = (0..SLOTS).map(|_| AtomicU8::new(FREE)).collect();
    let seen: Vec<AtomicBool> = (0..chunks).map(|_| AtomicBool::new(false)).collect();
    let completed = AtomicU64::new(0);
    let producer_done = AtomicBool::new(false);
    let all_done = AtomicBool::new(false);
    let mut full_results = 0_u64;

    thread::scope(|scope| {
        spawn_watchdog(scope, &completed, &all_done);

        let mut handles = Vec::new();
        for id in 0..WORKERS {
            let worker = worker.clone();
            let (states, seen, completed, producer_done) =
                (&states, &seen, &completed, &producer_done);
            handles.push(scope.spawn(move || {
                while let Some(chunk) = worker.take() {
                    let index = chunk.slot_index();
                    transition(states, index, PUBLISHED, HELD);
                    let seq = chunk.seq();
                    assert_eq!(*chunk, payload(seq), "chunk {seq} corrupted");
                    assert!(
                        !seen[seq as usize].swap(true, Ordering::Relaxed),
                        "chunk {seq} delivered twice"
                    );

                    // The slow worker keeps every 97th chunk until the others
                    // have finished 2 * SLOTS more chunks, the input ends, or
                    // its slot is the only one out. The last case matters with
                    // low = 0: the parked producer waits for this very slot.
                    if id == 0 && seq % 97 == 0 {
                        let target = completed.load(Ordering::Relaxed) + 2 * SLOTS as u64;
                        while completed.load(Ordering::Relaxed) < target
                            && !producer_done.load(Ordering::Acquire)
                            && !(worker.in_flight() == 1 && worker.published() == 0)
                        {
                            thread::yield_now();
                        }
                    }

                    transition(states, index, HELD, FREE);
                    drop(chunk);
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        drop(worker);

        for seq in 0..chunks {
            let mut claim = match producer.try_claim() {
                Ok(claim) => claim,
                Err(_) => {
                    full_results += 1;
                    producer.claim().unwrap()
                }
            };
            let in_flight = producer.in_flight();
            assert!(in_flight <= high, "in flight {in_flight} above high {high}");
            transition(&states, claim.slot_index(), FREE, CLAIMED);
            *claim = payload(seq);
            transition(&states, claim.slot_index(), CLAIMED, PUBLISHED);
            assert_eq!(claim.publish().unwrap(), seq);
        }
        producer_done.store(true, Ordering::Release);
        let stats = producer.stats();
        drop(producer);

        for handle in handles {
            handle.join().unwrap();
        }
        all_done.store(true, Ordering::Relaxed);

        assert!(stats.gate.peak_in_flight <= high);
        assert!(
            stats.gate.parks as u64 <= full_results,
            "the producer parked {} times but found the ring full only {full_results} times",
            stats.gate.parks
        );
    });

    assert_eq!(completed.load(Ordering::Relaxed), chunks);
    assert!(
        seen.iter().all(|flag| flag.load(Ordering::Relaxed)),
        "a chunk was lost"
    );
    assert!(states
        .iter()
        .all(|state| state.load(Ordering::Relaxed) == FREE));
}
