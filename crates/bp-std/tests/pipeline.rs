//! Pipeline runs end to end: results, reports, bounds, and every way a run
//! can fail. Each run goes through `watchdog`, so a hang fails the test
//! instead of blocking the suite.

use std::{
    collections::BTreeSet,
    convert::Infallible,
    io::{self, ErrorKind, Read},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc, Mutex,
    },
    thread,
    time::Duration,
};

use bp_std::pipeline::{Chunk, ConfigError, Pipeline, PipelineError, ThreadRole};

/// How long a run may go without finishing before the test calls it a hang.
/// Every run here takes milliseconds natively; the margin absorbs an
/// oversubscribed machine, and Miri runs far slower.
const HANG_LIMIT: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

/// Chunk size of the test pipelines; small under Miri, which interprets
/// every byte copy.
const CHUNK: usize = if cfg!(miri) { 50 } else { 1000 };
const SLOTS: usize = 4;

/// Runs `f` on its own thread and fails if it does not return within
/// `HANG_LIMIT`.
fn watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let runner = thread::spawn(move || {
        // The receiver may be gone after a hang; nothing to report then.
        let _ = sender.send(f());
    });
    match receiver.recv_timeout(HANG_LIMIT) {
        Ok(value) => {
            runner.join().expect("the runner thread returned a value");
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the pipeline run hung: no result after {HANG_LIMIT:?}")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the runner sends before it returns"),
        },
    }
}

/// Deterministic pseudo-random bytes (xorshift64).
fn input(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ len as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn pipeline(workers: usize) -> Pipeline {
    Pipeline::builder()
        .chunk_size(CHUNK)
        .slots(SLOTS)
        .high(3)
        .low(1)
        .workers(workers)
        .build()
        .expect("valid settings")
}

/// A source that returns at most 7 bytes per call and `Interrupted` before
/// every other call.
struct Trickle {
    data: Vec<u8>,
    position: usize,
    interrupt: bool,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::Error::from(ErrorKind::Interrupted));
        }
        let n = buf.len().min(7).min(self.data.len() - self.position);
        buf[..n].copy_from_slice(&self.data[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// A source of `good` zero bytes, then an error.
struct FailAfter {
    good: usize,
}

impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good);
        buf[..n].fill(0);
        self.good -= n;
        Ok(n)
    }
}

/// An endless source of zero bytes.
struct Endless;

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        buf.fill(0);
        Ok(buf.len())
    }
}

/// Runs an ordered copy of `data` through `pipeline` and returns the
/// reassembled bytes and the report.
fn copy_through(pipeline: Pipeline, data: Vec<u8>) -> (Vec<u8>, bp_std::pipeline::Report) {
    watchdog(move || {
        let finished = pipeline
            .run(
                &data[..],
                |_| |chunk: &mut Chunk| Ok::<_, Infallible>(chunk.data().to_vec()),
                Vec::new(),
                |out: &mut Vec<u8>, bytes: Vec<u8>| {
                    out.extend_from_slice(&bytes);
                    Ok(())
                },
            )
            .expect("copying from memory succeeds");
        (finished.value, finished.report)
    })
}

#[test]
fn ordered_copy_preserves_bytes() {
    let sizes = [
        0,
        1,
        CHUNK,
        CHUNK + 1,
        10 * CHUNK + 17,
        SLOTS * CHUNK * 5 + 3,
    ];
    for size in sizes {
        let data = input(size);
        let (copy, report) = copy_through(pipeline(3), data.clone());
        assert!(
            copy == data,
            "size {size}: reassembled bytes differ from the input"
        );
        assert_eq!(report.bytes, size as u64, "size {size}: report bytes");
        assert_eq!(
            report.chunks,
            size.div_ceil(CHUNK) as u64,
            "size {size}: report chunks"
        );
        assert!(
            report.peak_in_flight <= 3,
            "size {size}: peak in flight {} above high 3",
            report.peak_in_flight
        );
    }
}

#[test]
fn short_and_interrupted_reads_fill_chunks() {
    let data = input(7 * CHUNK + 5);
    let expected = data.clone();
    let finished = watchdog(move || {
        pipeline(2)
            .run(
                Trickle {
                    data,
                    position: 0,
                    interrupt: false,
                },
                |_| {
                    |chunk: &mut Chunk| Ok::<_, Infallible>((chunk.offset(), chunk.data().to_vec()))
                },
                Vec::new(),
                |chunks: &mut Vec<(u64, Vec<u8>)>, chunk| {
                    chunks.push(chunk);
                    Ok(())
                },
            )
            .expect("a trickling source is not an error")
    });

    let chunks = finished.value;
    assert_eq!(chunks.len(), 8);
    for (index, (offset, bytes)) in chunks.iter().enumerate() {
        let start = index * CHUNK;
        assert_eq!(*offset, start as u64, "chunk {index} offset");
        let end = (start + CHUNK).min(expected.len());
        assert!(
            bytes[..] == expected[start..end],
            "chunk {index} bytes differ"
        );
    }
}

#[test]
fn history_holds_preceding_input() {
    let history = CHUNK * 5 / 2;
    let data = input(9 * CHUNK + 300);
    let expected = data.clone();
    let pipeline = Pipeline::builder()
        .chunk_size(CHUNK)
        .history_size(history)
        .slots(SLOTS)
        .workers(2)
        .build()
        .expect("valid settings");

    let mismatches = watchdog(move || {
        pipeline
            .run(
                &data[..],
                |_| {
                    |chunk: &mut Chunk| {
                        let offset = chunk.offset() as usize;
                        let start = offset.saturating_sub(history);
                        Ok::<_, Infallible>(chunk.history() != &expected[start..offset])
                    }
                },
                0,
                |mismatches: &mut usize, mismatch| {
                    *mismatches += usize::from(mismatch);
                    Ok(())
                },
            )
            .expect("copying from memory succeeds")
            .value
    });
    assert_eq!(
        mismatches, 0,
        "chunks whose history is not the preceding input"
    );
}

#[test]
fn unordered_run_folds_every_chunk() {
    let data = input(50 * CHUNK);
    let pipeline = Pipeline::builder()
        .chunk_size(CHUNK)
        .slots(SLOTS)
        .workers(3)
        .ordered(false)
        .build()
        .expect("valid settings");

    let (seqs, sum) = watchdog(move || {
        pipeline
            .run(
                &data[..],
                |_| {
                    |chunk: &mut Chunk| {
                        Ok::<_, Infallible>((
                            chunk.seq(),
                            chunk.data().iter().map(|&b| u64::from(b)).sum::<u64>(),
                        ))
                    }
                },
                (BTreeSet::new(), 0u64),
                |(seqs, sum): &mut (BTreeSet<u64>, u64), (seq, chunk_sum)| {
                    assert!(seqs.insert(seq), "chunk {seq} folded twice");
                    *sum += chunk_sum;
                    Ok(())
                },
            )
            .expect("summing from memory succeeds")
            .value
    });

    let expected_sum: u64 = input(50 * CHUNK).iter().map(|&b| u64::from(b)).sum();
    assert_eq!(seqs, (0..50).collect::<BTreeSet<u64>>());
    assert_eq!(sum, expected_sum);
}

#[test]
fn reorder_window_stays_within_high() {
    // Chunk 0 is held back until chunks 1..HIGH were processed. The ring
    // then holds HIGH chunks in flight, so the reader must wait for chunk
    // 0's result to be folded before it publishes chunk HIGH.
    const HIGH: u32 = 3;
    let chunks = 40;
    let data = input(chunks * CHUNK);
    let processed_after_first = AtomicUsize::new(0);
    let folded = AtomicU64::new(0);
    let violations = Mutex::new(Vec::new());

    let pipeline = Pipeline::builder()
        .chunk_size(CHUNK)
        .slots(SLOTS)
        .high(HIGH)
        .low(1)
        .workers(3)
        .build()
        .expect("valid settings");
    thread::scope(|scope| {
        let run = scope.spawn(|| {
            pipeline.run(
                &data[..],
                |_| {
                    |chunk: &mut Chunk| {
                        let seq = chunk.seq();
                        if seq == 0 {
                            while processed_after_first.load(Ordering::Acquire) < HIGH as usize - 1
                            {
                                thread::yield_now();
                            }
                        } else {
                            processed_after_first.fetch_add(1, Ordering::AcqRel);
                        }
                        let folded_now = folded.load(Ordering::Acquire);
                        if seq >= folded_now + u64::from(HIGH) {
                            violations.lock().unwrap().push((seq, folded_now));
                        }
                        Ok::<_, Infallible>(())
                    }
                },
                (),
                |(), ()| {
                    folded.fetch_add(1, Ordering::AcqRel);
                    Ok(())
                },
            )
        });
        let report = watchdog_join(run).expect("the run succeeds").report;
        assert!(
            report.peak_in_flight <= HIGH,
            "peak in flight {} above high {HIGH}",
            report.peak_in_flight
        );
    });

    assert_eq!(folded.load(Ordering::Acquire), chunks as u64);
    assert_eq!(
        *violations.lock().unwrap(),
        Vec::new(),
        "(seq, folded) pairs: chunks processed more than {HIGH} ahead of the fold"
    );
}

/// Joins a scoped run, failing if it makes no progress within `HANG_LIMIT`.
fn watchdog_join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    let start = std::time::Instant::now();
    while !handle.is_finished() {
        assert!(
            start.elapsed() < HANG_LIMIT,
            "the pipeline run hung: no result after {HANG_LIMIT:?}"
        );
        thread::park_timeout(Duration::from_millis(10));
    }
    handle.join().expect("the run does not panic")
}

#[test]
fn read_error_stops_run() {
    let error = watchdog(|| {
        pipeline(2)
            .run(
                FailAfter {
                    good: 3 * CHUNK + 10,
                },
                |_| |chunk: &mut Chunk| Ok::<_, Infallible>(chunk.len()),
                0,
                |total: &mut usize, len| {
                    *total += len;
                    Ok(())
                },
            )
            .expect_err("a failing source fails the run")
    });

    match error {
        PipelineError::Read { offset, source } => {
            assert_eq!(offset, 3 * CHUNK as u64 + 10);
            assert_eq!(source.to_string(), "disk on fire");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn worker_error_stops_endless_input() {
    let error = watchdog(|| {
        pipeline(3)
            .run(
                Endless,
                |_| {
                    |chunk: &mut Chunk| {
                        if chunk.seq() == 5 {
                            Err("bad chunk")
                        } else {
                            Ok(())
                        }
                    }
                },
                (),
                |(), ()| Ok(()),
            )
            .expect_err("a failing worker fails the run")
    });

    match error {
        PipelineError::Worker { seq, error } => {
            assert_eq!(seq, 5);
            assert_eq!(error, "bad chunk");
        }
        other => panic!("expected a worker error, got {other:?}"),
    }
}

#[test]
fn worker_panic_stops_endless_input() {
    let error = watchdog(|| {
        pipeline(3)
            .run(
                Endless,
                |_| {
                    |chunk: &mut Chunk| {
                        assert!(chunk.seq() != 7, "worker gave up on chunk 7");
                        Ok::<_, Infallible>(())
                    }
                },
                (),
                |(), ()| Ok(()),
            )
            .expect_err("a panicking worker fails the run")
    });

    match error {
        PipelineError::Panicked { role, seq, message } => {
            assert_eq!(role, ThreadRole::Worker);
            assert_eq!(seq, Some(7));
            assert!(
                message.contains("worker gave up on chunk 7"),
                "panic message: {message}"
            );
        }
        other => panic!("expected a worker panic, got {other:?}"),
    }
}

#[test]
fn worker_factory_panic_stops_run() {
    let error = watchdog(|| {
        pipeline(2)
            .run(
                Endless,
                |index| -> fn(&mut Chunk) -> Result<(), Infallible> { panic!("no worker {index}") },
                (),
                |(), ()| Ok(()),
            )
            .expect_err("a panicking factory fails the run")
    });
    assert!(
        matches!(
            error,
            PipelineError::Panicked {
                role: ThreadRole::Worker,
                seq: None,
                ..
            }
        ),
        "expected a worker panic outside any chunk, got {error:?}"
    );
}

#[test]
fn fold_error_stops_endless_input() {
    let error = watchdog(|| {
        pipeline(2)
            .run(
                Endless,
                |_| |chunk: &mut Chunk| Ok(chunk.seq()),
                (),
                |(), seq| if seq == 3 { Err(seq) } else { Ok(()) },
            )
            .expect_err("a failing fold fails the run")
    });
    assert!(
        matches!(error, PipelineError::Fold { seq: 3, error: 3 }),
        "expected a fold error, got {error:?}"
    );
}

#[test]
fn fold_panic_stops_endless_input() {
    let error = watchdog(|| {
        pipeline(2)
            .run(
                Endless,
                |_| |chunk: &mut Chunk| Ok::<_, Infallible>(chunk.seq()),
                (),
                |(), seq| {
                    assert!(seq != 2, "fold gave up on chunk 2");
                    Ok(())
                },
            )
            .expect_err("a panicking fold fails the run")
    });
    assert!(
        matches!(
            error,
            PipelineError::Panicked {
                role: ThreadRole::Fold,
                seq: Some(2),
                ..
            }
        ),
        "expected a fold panic, got {error:?}"
    );
}

#[test]
fn source_panic_stops_run() {
    struct Explodes;
    impl Read for Explodes {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("source exploded")
        }
    }

    let error = watchdog(|| {
        pipeline(2)
            .run(
                Explodes,
                |_| |_: &mut Chunk| Ok::<_, Infallible>(()),
                (),
                |(), ()| Ok(()),
            )
            .expect_err("a panicking source fails the run")
    });
    match error {
        PipelineError::Panicked { role, message, .. } => {
            assert_eq!(role, ThreadRole::Reader);
            assert_eq!(message, "source exploded");
        }
        other => panic!("expected a reader panic, got {other:?}"),
    }
}

#[test]
fn pipeline_runs_again_after_failure() {
    let pipeline = pipeline(2);
    let failed = watchdog({
        let pipeline = pipeline.clone();
        move || {
            pipeline
                .run(
                    FailAfter { good: 10 },
                    |_| |_: &mut Chunk| Ok::<_, Infallible>(()),
                    (),
                    |(), ()| Ok(()),
                )
                .is_err()
        }
    });
    assert!(failed, "the first run fails");

    let (copy, _) = copy_through(pipeline, input(5 * CHUNK));
    assert!(copy == input(5 * CHUNK), "the second run copies the input");
}

#[test]
fn builder_rejects_invalid_settings() {
    let cases = [
        (Pipeline::builder().slots(0).high(1), ConfigError::ZeroSlots),
        (
            Pipeline::builder().chunk_size(0),
            ConfigError::ZeroChunkSize,
        ),
        (Pipeline::builder().workers(0), ConfigError::ZeroWorkers),
        (Pipeline::builder().slots(4).high(0), ConfigError::ZeroHigh),
        (
            Pipeline::builder().slots(4).high(3).low(3),
            ConfigError::LowNotBelowHigh { low: 3, high: 3 },
        ),
        (
            Pipeline::builder().slots(4).high(5).low(1),
            ConfigError::HighAboveSlots { high: 5, slots: 4 },
        ),
        (
            Pipeline::builder()
                .slots(bp_std::pipeline::MAX_SLOTS + 1)
                .high(2)
                .low(1),
            ConfigError::TooManySlots {
                slots: bp_std::pipeline::MAX_SLOTS + 1,
                max: bp_std::pipeline::MAX_SLOTS,
            },
        ),
        (
            Pipeline::builder().slots(4).chunk_size(usize::MAX / 2),
            ConfigError::TooLarge {
                slots: 4,
                slot_bytes: usize::MAX / 2,
            },
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(
            builder.clone().build().map(|_| ()),
            Err(expected),
            "{builder:?}"
        );
    }
}

#[test]
fn builder_defaults_follow_slots() {
    let pipeline = Pipeline::builder()
        .slots(6)
        .workers(2)
        .build()
        .expect("valid settings");
    let config = pipeline.config();
    assert_eq!(config.high, 6);
    assert_eq!(config.low, 3);

    let pipeline = Pipeline::builder()
        .high(10)
        .workers(1)
        .build()
        .expect("valid settings");
    assert_eq!(
        pipeline.config().slots,
        10,
        "slots grow to hold the high water mark"
    );
}
