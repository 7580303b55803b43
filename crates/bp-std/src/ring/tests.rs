use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use super::*;

fn config(slots: usize, low: u32, high: u32) -> RingConfig {
    RingConfig { slots, low, high }
}

#[test]
fn bounded_rejects_invalid_config() {
    assert_eq!(
        bounded(config(0, 0, 1), |_| 0_u8).unwrap_err(),
        RingError::ZeroCapacity
    );
    assert_eq!(
        bounded(config(2, 0, 3), |_| 0_u8).unwrap_err(),
        RingError::HighAboveCapacity {
            high: 3,
            capacity: 2
        }
    );
    assert!(matches!(
        bounded(config(4, 2, 2), |_| 0_u8).unwrap_err(),
        RingError::Config(_)
    ));
    assert!(matches!(
        bounded(config(bp_core::MAX_CAPACITY + 1, 0, 1), |_| 0_u8).unwrap_err(),
        RingError::CapacityTooLarge { .. }
    ));
}

#[test]
fn dropping_producer_lets_workers_drain() {
    let (producer, worker) = bounded(config(4, 0, 4), |_| 0_u32).unwrap();
    for value in 0..3 {
        let mut claim = producer.claim().unwrap();
        *claim = value;
        claim.publish().unwrap();
    }
    drop(producer);
    let values: Vec<u32> = std::iter::from_fn(|| worker.take().map(|chunk| *chunk)).collect();
    assert_eq!(values, [0, 1, 2]);
    assert_eq!(worker.try_take().unwrap_err(), TryTakeError::Closed);
}

#[test]
fn dropping_last_worker_fails_claims() {
    let (producer, worker) = bounded(config(2, 0, 2), |_| 0_u32).unwrap();
    let second = worker.clone();
    drop(worker);
    assert!(producer.try_claim().is_ok());
    drop(second);
    assert_eq!(producer.claim().unwrap_err(), ClaimError);
    assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Closed);
}

#[test]
fn claim_timeout_times_out_when_full() {
    let (producer, _worker) = bounded(config(1, 0, 1), |_| 0_u32).unwrap();
    let held = producer.claim().unwrap();
    assert_eq!(
        producer
            .claim_timeout(Duration::from_millis(1))
            .unwrap_err(),
        ClaimTimeoutError::Timeout
    );
    drop(held);
    assert!(producer.claim_timeout(Duration::from_millis(1)).is_ok());
}

#[test]
fn take_timeout_times_out_when_empty() {
    let (_producer, worker) = bounded(config(1, 0, 1), |_| 0_u32).unwrap();
    assert_eq!(
        worker.take_timeout(Duration::from_millis(1)).unwrap_err(),
        TakeTimeoutError::Timeout
    );
    assert_eq!(worker.try_take().unwrap_err(), TryTakeError::Empty);
}

#[test]
fn blocked_take_wakes_on_publish() {
    let (producer, worker) = bounded(config(2, 0, 2), |_| 0_u32).unwrap();
    thread::scope(|scope| {
        let taker = scope.spawn(|| worker.take().map(|chunk| *chunk));
        let mut claim = producer.claim().unwrap();
        *claim = 7;
        claim.publish().unwrap();
        assert_eq!(taker.join().unwrap(), Some(7));
    });
}

#[test]
fn blocked_take_wakes_on_close() {
    let (producer, worker) = bounded(config(2, 0, 2), |_| 0_u32).unwrap();
    thread::scope(|scope| {
        let taker = scope.spawn(|| worker.take().is_none());
        producer.close();
        assert!(taker.join().unwrap());
    });
}

#[test]
fn blocked_claim_wakes_when_worker_side_closes() {
    let (producer, worker) = bounded(config(1, 0, 1), |_| 0_u32).unwrap();
    let held = producer.claim().unwrap();
    thread::scope(|scope| {
        scope.spawn(move || worker.close());
        assert_eq!(producer.claim().unwrap_err(), ClaimError);
    });
    drop(held);
}

#[test]
fn panicking_worker_releases_its_slot() {
    let (producer, worker) = bounded(config(1, 0, 1), |_| 0_u32).unwrap();
    producer.claim().unwrap().publish().unwrap();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _chunk = worker.take().unwrap();
        panic!("worker failed while holding a slot");
    }));
    assert!(outcome.is_err());
    assert_eq!(producer.in_flight(), 0);
    assert!(producer.try_claim().is_ok());
}

// The pipeline hands a taken chunk from a worker thread to the folding thread.
static_assertions::assert_impl_all!(Taken<'static, Vec<u8>>: Send, Sync);
static_assertions::assert_impl_all!(Producer<Vec<u8>>: Send);
static_assertions::assert_not_impl_any!(Producer<Vec<u8>>: Sync, Clone);
static_assertions::assert_impl_all!(Worker<Vec<u8>>: Send, Sync, Clone);
static_assertions::assert_not_impl_any!(Claim<'static, Vec<u8>>: Send);
