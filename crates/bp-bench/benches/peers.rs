//! Criterion benchmarks of bp against its peers, every peer on the same
//! work in the same run. `cargo xtask bench` runs them and writes
//! `BENCHMARKS.md` from the medians.
//!
//! Setting `BP_BENCH_QUICK=1` shrinks every run and the measurement times,
//! to check that everything works; its figures are not meant for the report.

use std::hint::black_box;
use std::time::Duration;

use bp_bench::crc::{self, Version};
use bp_bench::handoff::{self, Job, Peer, HANDOFF_CHUNKS, LOADS, WORKER_COUNTS};
use bp_bench::input;
use bp_bench::tokens::{
    BpGate, BpGateTry, CrossbeamTokens, MutexCondvar, TokenPool, TokioSemaphore,
};
use bp_bench::work::Spin;
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};

/// Input size of `pipeline_file`.
const PIPELINE_INPUT_BYTES: usize = 256 << 20;

/// Seed of the generated input, the same in every run.
const INPUT_SEED: u64 = 0x5EED;

/// Returns whether `BP_BENCH_QUICK` is set to a value other than `0`.
fn quick() -> bool {
    std::env::var_os("BP_BENCH_QUICK").is_some_and(|value| value != "0")
}

/// Divides a chunk or byte count in quick mode.
fn scaled(count: u64) -> u64 {
    if quick() {
        (count / 20).max(1)
    } else {
        count
    }
}

/// Short measurements, so that the whole run stays within minutes: ten
/// samples after one second of warm-up, over about two seconds.
fn configured() -> Criterion {
    let (warm_up, measurement) = if quick() {
        (Duration::from_millis(100), Duration::from_millis(300))
    } else {
        (Duration::from_secs(1), Duration::from_secs(2))
    };
    Criterion::default()
        .sample_size(10)
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .without_plots()
}

fn bench_pool<P: TokenPool + Default>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let pool = P::default();
    group.bench_function(P::NAME, |bencher| {
        bencher.iter(|| pool.with_unit(|| black_box(())));
    });
}

fn gate_uncontended(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("gate_uncontended");
    group.throughput(Throughput::Elements(1));
    bench_pool::<BpGate>(&mut group);
    bench_pool::<BpGateTry>(&mut group);
    bench_pool::<TokioSemaphore>(&mut group);
    bench_pool::<MutexCondvar>(&mut group);
    bench_pool::<CrossbeamTokens>(&mut group);
    group.finish();
}

/// Benchmarks `peers` on `job` for every worker count, one chunk count per
/// iteration.
fn bench_peers(group: &mut BenchmarkGroup<'_, WallTime>, peers: &[Peer], chunks: u64, spin: Spin) {
    group.throughput(Throughput::Elements(chunks));
    for workers in WORKER_COUNTS {
        let job = Job {
            chunks,
            workers,
            spin,
        };
        for &peer in peers {
            let id = BenchmarkId::new(peer.name(), workers);
            group.bench_with_input(id, &job, |bencher, job| {
                bencher.iter(|| handoff::run(peer, job));
            });
        }
    }
}

fn handoff(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("handoff");
    group.sampling_mode(SamplingMode::Flat);
    bench_peers(
        &mut group,
        &Peer::handoff_set(),
        scaled(HANDOFF_CHUNKS),
        Spin::NONE,
    );
    group.finish();
}

fn backpressured(criterion: &mut Criterion) {
    let peers = Peer::backpressured_set();
    for load in LOADS {
        let spin = Spin::calibrate(Duration::from_micros(load.micros));
        let mut group = criterion.benchmark_group(load.group());
        group.sampling_mode(SamplingMode::Flat);
        bench_peers(&mut group, &peers, scaled(load.chunks), spin);
        group.finish();
    }
}

fn pipeline_file(criterion: &mut Criterion) {
    let input = input::mixed(scaled(PIPELINE_INPUT_BYTES as u64) as usize, INPUT_SEED);
    let expected = crc32fast::hash(&input);

    let mut group = criterion.benchmark_group("pipeline_file");
    group.sampling_mode(SamplingMode::Flat);
    if !quick() {
        // The versions differ by a few percent, and with ten samples over two
        // seconds bp's ratio to crossbeam moved from 0.94x to 1.06x between
        // runs. Thirty samples over six seconds add about 12 s in all.
        group.sample_size(30);
        group.measurement_time(Duration::from_secs(6));
    }
    group.throughput(Throughput::Bytes(input.len() as u64));
    for version in Version::ALL {
        group.bench_function(version.name(), |bencher| {
            bencher.iter(|| {
                let (crc, _) = crc::run(version, &input);
                assert_eq!(crc, expected, "{} computed a wrong CRC", version.name());
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = configured();
    targets = gate_uncontended, handoff, backpressured, pipeline_file
}
criterion_main!(benches);
