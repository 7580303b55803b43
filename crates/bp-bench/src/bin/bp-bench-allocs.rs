//! Counts heap allocations per chunk in steady state, for bp and each peer,
//! and prints them as a JSON array of `AllocRecord`s.
//!
//! Each case runs three times: once to warm up lazily initialized state,
//! then with a short and a long chunk count. The difference between the
//! last two, divided by the difference in chunks, is the allocations per
//! chunk; start-up allocations such as thread spawns cancel out.

use std::time::Duration;

use bp_bench::alloc::Counting;
use bp_bench::counts::AllocRecord;
use bp_bench::crc::{self, Version};
use bp_bench::handoff::{self, Job, Peer, LOADS, WORKER_COUNTS};
use bp_bench::input;
use bp_bench::work::Spin;

#[global_allocator]
static ALLOCATOR: Counting = Counting::new();

/// Chunks of the short and the long handoff run.
const HANDOFF_CHUNKS: (u64, u64) = (20_000, 220_000);

/// Input sizes of the short and the long pipeline run.
const PIPELINE_BYTES: (usize, usize) = (16 << 20, 64 << 20);

/// Allocations made by `run(count)` as counted around the call.
fn allocations_of(run: &impl Fn(u64), count: u64) -> u64 {
    let before = ALLOCATOR.allocations();
    run(count);
    ALLOCATOR.allocations() - before
}

/// Measures one case: `run(count)` processes `count` chunks (or whatever
/// `short` and `long` count) and returns when every thread is joined.
fn measure(
    scenario: &str,
    peer: &str,
    workers: usize,
    (short, long): (u64, u64),
    extra_chunks: u64,
    run: impl Fn(u64),
) -> AllocRecord {
    run(short);
    let short_allocations = allocations_of(&run, short);
    let long_allocations = allocations_of(&run, long);
    AllocRecord {
        scenario: scenario.to_owned(),
        peer: peer.to_owned(),
        workers,
        extra_chunks,
        extra_allocations: long_allocations.saturating_sub(short_allocations),
    }
}

/// Measures every handoff peer with every worker count, with `spin` per
/// chunk and the (short, long) chunk counts `chunks`.
fn measure_handoff(scenario: &str, spin: Spin, chunks: (u64, u64)) -> Vec<AllocRecord> {
    let mut records = Vec::new();
    for workers in WORKER_COUNTS {
        for peer in Peer::handoff_set() {
            let run = |chunks| {
                let job = Job {
                    chunks,
                    workers,
                    spin,
                };
                handoff::run(peer, &job);
            };
            let extra = chunks.1 - chunks.0;
            let record = measure(scenario, &peer.name(), workers, chunks, extra, run);
            records.push(record);
        }
    }
    records
}

fn main() {
    let mut records = measure_handoff("handoff", Spin::NONE, HANDOFF_CHUNKS);

    let load = LOADS[0];
    let spin = Spin::calibrate(Duration::from_micros(load.micros));
    let chunks = (load.chunks / 20, load.chunks / 2);
    records.extend(measure_handoff(&load.group(), spin, chunks));

    let data = input::mixed(PIPELINE_BYTES.1, 1);
    let sizes = (PIPELINE_BYTES.0 as u64, PIPELINE_BYTES.1 as u64);
    let extra_chunks = ((PIPELINE_BYTES.1 - PIPELINE_BYTES.0) / crc::CHUNK_SIZE) as u64;
    for version in Version::ALL {
        let run = |bytes| {
            crc::run(version, &data[..bytes as usize]);
        };
        records.push(measure(
            "pipeline_file",
            version.name(),
            crc::WORKERS,
            sizes,
            extra_chunks,
            run,
        ));
    }

    println!(
        "{}",
        serde_json::to_string(&records).expect("records serialize")
    );
}
