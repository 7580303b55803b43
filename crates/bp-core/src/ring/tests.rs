use super::*;
use crate::park::SpinPark;

type TestRing<const N: usize> = Ring<u32, [Slot<u32>; N], SpinPark>;

fn ring<const N: usize>(low: u32, high: u32) -> TestRing<N> {
    Ring::new(
        core::array::from_fn(|_| Slot::new(0)),
        GateConfig::new(low, high).unwrap(),
        SpinPark::new(),
    )
    .unwrap()
}

#[test]
fn publish_then_take_in_order() {
    let ring = ring::<3>(0, 3);
    let producer = ring.producer().unwrap();
    for value in 10..13 {
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        claim.publish().unwrap();
    }
    for (seq, value) in (10..13).enumerate() {
        let taken = ring.try_take().unwrap();
        assert_eq!(taken.seq(), seq as u64);
        assert_eq!(*taken, value);
    }
    assert_eq!(ring.try_take().unwrap_err(), TryTakeError::Empty);
}

#[test]
fn capacity_one_works() {
    let ring = ring::<1>(0, 1);
    let producer = ring.producer().unwrap();
    for value in 0..5 {
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        assert_eq!(claim.publish().unwrap(), u64::from(value));
        assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Full);
        let taken = ring.try_take().unwrap();
        assert_eq!(*taken, value);
    }
}

#[test]
fn out_of_order_release_refills_every_free_slot() {
    let ring = ring::<4>(0, 4);
    let producer = ring.producer().unwrap();
    for value in 0..4 {
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        claim.publish().unwrap();
    }
    assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Full);

    let taken: [_; 4] = core::array::from_fn(|_| ring.try_take().unwrap());
    let [first, second, third, fourth] = taken;
    let held_index = first.slot_index();

    // Hold the oldest chunk; release the others newest first.
    drop(fourth);
    drop(second);
    drop(third);

    // Three slots are free again, in scrambled order: each claim succeeds
    // and never lands on the held slot.
    let mut claims = [None, None, None];
    for claim in &mut claims {
        let c = producer.try_claim().unwrap();
        assert_ne!(c.slot_index(), held_index);
        *claim = Some(c);
    }
    assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Full);

    // Full exactly when every slot is occupied: one release makes room.
    drop(first);
    let last = producer.try_claim().unwrap();
    assert_eq!(last.slot_index(), held_index);
    assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Full);
    assert_eq!(ring.in_flight(), 4);
}

#[test]
fn dropped_claim_frees_slot_and_keeps_sequence() {
    let ring = ring::<2>(0, 2);
    let producer = ring.producer().unwrap();
    drop(producer.try_claim().unwrap());
    assert_eq!(ring.in_flight(), 0);
    let claim = producer.try_claim().unwrap();
    assert_eq!(claim.publish().unwrap(), 0);
}

#[test]
fn producer_handle_is_exclusive() {
    let ring = ring::<2>(0, 2);
    let producer = ring.producer().unwrap();
    assert_eq!(ring.producer().unwrap_err(), ProducerBusy);
    let claim = producer.try_claim().unwrap();
    claim.publish().unwrap();
    drop(producer);

    // The next handle continues the sequence.
    let producer = ring.producer().unwrap();
    assert_eq!(producer.try_claim().unwrap().publish().unwrap(), 1);
}

#[test]
fn close_drains_published_chunks_then_ends() {
    let ring = ring::<3>(0, 3);
    let producer = ring.producer().unwrap();
    for value in 0..2 {
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        claim.publish().unwrap();
    }
    let unpublished = producer.try_claim().unwrap();
    assert!(ring.close());
    assert!(!ring.close());

    // Publishing after the close hands the claim back.
    let error = unpublished.publish().unwrap_err();
    drop(error.claim);

    assert_eq!(producer.try_claim().unwrap_err(), TryClaimError::Closed);
    assert_eq!(*ring.take().unwrap(), 0);
    assert_eq!(*ring.take().unwrap(), 1);
    assert!(ring.take().is_none());
    assert_eq!(ring.try_take().unwrap_err(), TryTakeError::Closed);
    assert_eq!(ring.in_flight(), 0);
}

#[test]
fn new_rejects_bad_capacity_and_marks() {
    let empty: [Slot<u32>; 0] = [];
    assert_eq!(
        Ring::new(empty, GateConfig::new(0, 1).unwrap(), SpinPark::new()).unwrap_err(),
        RingError::ZeroCapacity
    );
    let slots: [Slot<u32>; 2] = core::array::from_fn(|_| Slot::new(0));
    assert_eq!(
        Ring::new(slots, GateConfig::new(0, 3).unwrap(), SpinPark::new()).unwrap_err(),
        RingError::HighAboveCapacity {
            high: 3,
            capacity: 2
        }
    );
}

#[test]
fn queue_positions_wrap_many_times() {
    let ring = ring::<3>(1, 2);
    let producer = ring.producer().unwrap();
    for value in 0..1000_u32 {
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        assert_eq!(claim.publish().unwrap(), u64::from(value));
        if value % 2 == 1 {
            let older = ring.try_take().unwrap();
            let newer = ring.try_take().unwrap();
            assert_eq!((*older, *newer), (value - 1, value));
            assert_eq!(
                (older.seq(), newer.seq()),
                (u64::from(value) - 1, u64::from(value))
            );
            drop(newer);
            drop(older);
        }
    }
}

#[test]
fn stats_count_no_wakes_without_waiters() {
    let ring = ring::<2>(0, 2);
    let producer = ring.producer().unwrap();
    for _ in 0..10 {
        producer.try_claim().unwrap().publish().unwrap();
        drop(ring.try_take().unwrap());
    }
    let stats = ring.stats();
    assert_eq!(stats.worker_wake_calls, 0);
    assert_eq!(stats.gate.wake_calls, 0);
    assert_eq!(stats.gate.peak_in_flight, 1);
}

static_assertions::assert_impl_all!(TestRing<2>: Send, Sync);
static_assertions::assert_impl_all!(Producer<'static, u32, [Slot<u32>; 2], SpinPark>: Send);
static_assertions::assert_not_impl_any!(Producer<'static, u32, [Slot<u32>; 2], SpinPark>: Sync);
static_assertions::assert_not_impl_any!(Ring<*const u8, [Slot<*const u8>; 2], SpinPark>: Sync);

// ---------------------------------------------------------------------------
// Mutation-testing block: tests that kill mutants the tests above let
// survive (see TESTING.md). A scripted park plays the producer while a
// worker waits: its `wait` changes the published word the way a concurrent
// publish or close would.
// ---------------------------------------------------------------------------
mod mutation {
    extern crate std;

    use std::format;
    use std::string::ToString;

    use super::*;
    use crate::scripted_park::{OnWait, ScriptedPark};

    type ScriptedRing<const N: usize> = Ring<u32, [Slot<u32>; N], ScriptedPark>;

    fn scripted_ring<const N: usize>(on_wait: OnWait) -> ScriptedRing<N> {
        ring_with_park(ScriptedPark::new(on_wait))
    }

    fn ring_with_park<const N: usize>(park: ScriptedPark) -> ScriptedRing<N> {
        Ring::new(
            core::array::from_fn(|_| Slot::new(0)),
            GateConfig::new(0, N as u32).unwrap(),
            park,
        )
        .unwrap()
    }

    /// Publishes one chunk holding `value` and hides its count, so that the
    /// scripted park can count it as published while a worker waits.
    fn publish_hidden<const N: usize>(ring: &ScriptedRing<N>, value: u32) {
        let producer = ring.producer().unwrap();
        let mut claim = producer.try_claim().unwrap();
        *claim = value;
        claim.publish().unwrap();
        ring.published.fetch_sub(1, Ordering::Relaxed);
    }

    #[test]
    fn spin_sees_publish_without_parking() {
        let ring = ring_with_park::<2>(ScriptedPark::new(OnWait::Publish).spinning(5, Some(2)));
        publish_hidden(&ring, 7);

        let taken = ring.take_until(()).unwrap();

        assert_eq!(*taken, 7);
        assert_eq!(park(&ring).spins.get(), 3, "rounds 0 to 2, then taken");
        assert_eq!(park(&ring).waits.get(), 0);
        assert_eq!(ring.stats().worker_parks, 0);
        assert_eq!(ring.published.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn passed_deadline_ends_take_spin() {
        let scripted = ScriptedPark::new(OnWait::Publish)
            .spinning(5, None)
            .expired();
        let ring = ring_with_park::<2>(scripted);

        assert_eq!(ring.take_until(()).unwrap_err(), TakeTimeoutError::Timeout);
        assert_eq!(park(&ring).spins.get(), 1, "round 0 only");
        assert_eq!(park(&ring).waits.get(), 0);
        assert_eq!(ring.published.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn take_parks_after_spin_rounds() {
        let ring = ring_with_park::<2>(ScriptedPark::new(OnWait::Publish).spinning(2, None));
        publish_hidden(&ring, 7);

        let taken = ring.take_until(()).unwrap();

        assert_eq!(*taken, 7);
        assert_eq!(park(&ring).spins.get(), 3, "two rounds, then the refusal");
        assert_eq!(park(&ring).waits.get(), 1);
        assert_eq!(ring.stats().worker_parks, 1);
        assert_eq!(ring.published.load(Ordering::Relaxed), 0);
    }

    fn park<const N: usize>(ring: &ScriptedRing<N>) -> &ScriptedPark {
        ring.gate().park()
    }

    #[test]
    fn blocked_take_gets_chunk_published_meanwhile() {
        let ring = scripted_ring::<2>(OnWait::Publish);
        // The scripted park restores the hidden count while the worker
        // waits, as a publish from another thread would.
        publish_hidden(&ring, 7);

        let taken = ring.take_until(()).unwrap();

        assert_eq!(*taken, 7);
        assert_eq!(
            ring.published.load(Ordering::Relaxed),
            0,
            "count and waiters"
        );
        assert_eq!(park(&ring).waits.get(), 1);
        assert_eq!(ring.stats().worker_parks, 1);
    }

    #[test]
    fn take_timeout_leaves_no_registration() {
        let ring = scripted_ring::<2>(OnWait::TimeOut);

        assert_eq!(ring.take_until(()).unwrap_err(), TakeTimeoutError::Timeout);
        assert_eq!(ring.published.load(Ordering::Relaxed), 0);
        assert_eq!(park(&ring).waits.get(), 1);
    }

    #[test]
    fn close_while_taking_ends_take() {
        let ring = scripted_ring::<2>(OnWait::Close);

        assert_eq!(ring.take_until(()).unwrap_err(), TakeTimeoutError::Closed);
        assert_eq!(ring.published.load(Ordering::Relaxed), CLOSED);
    }

    #[test]
    fn publish_wakes_registered_worker_only() {
        let ring = scripted_ring::<3>(OnWait::TimeOut);
        let producer = ring.producer().unwrap();

        producer.try_claim().unwrap().publish().unwrap();
        assert_eq!(park(&ring).wakes.get(), 0, "no worker was registered");
        drop(ring.try_take().unwrap());

        // A worker registered as parked on the empty ring, as the slow path
        // leaves it: the next publish wakes it.
        ring.published.fetch_add(WAITER_ONE, Ordering::Relaxed);
        producer.try_claim().unwrap().publish().unwrap();
        assert_eq!(park(&ring).wakes.get(), 1);
        assert_eq!(ring.stats().worker_wake_calls, 1);

        // The woken worker stays registered until it takes its chunk; a
        // second publish must not wake it again.
        producer.try_claim().unwrap().publish().unwrap();
        assert_eq!(
            park(&ring).wakes.get(),
            1,
            "an already woken worker was woken again"
        );
        ring.published.fetch_sub(WAITER_ONE, Ordering::Relaxed);
    }

    #[test]
    fn close_wakes_registered_workers_once() {
        let ring = scripted_ring::<2>(OnWait::TimeOut);
        ring.published.fetch_add(WAITER_ONE, Ordering::Relaxed);

        assert!(ring.close());
        assert_eq!(park(&ring).wakes.get(), 1);
        assert!(!ring.close());
        assert_eq!(park(&ring).wakes.get(), 1, "a second close woke again");
        assert_eq!(ring.stats().worker_wake_calls, 1);
    }

    #[test]
    fn close_without_waiters_makes_no_wake_call() {
        let ring = scripted_ring::<2>(OnWait::TimeOut);

        assert!(ring.close());
        assert_eq!(park(&ring).wakes.get(), 0);
    }

    #[test]
    fn close_after_gate_close_reports_ring_closed() {
        let ring = scripted_ring::<2>(OnWait::TimeOut);
        ring.gate().close();

        assert!(!ring.is_closed());
        assert!(ring.close(), "this call closed the published side");
        assert!(ring.is_closed());
    }

    #[test]
    fn accessors_report_ring_state() {
        let ring = ring::<3>(0, 3);
        let producer = ring.producer().unwrap();
        assert_eq!(ring.capacity(), 3);
        assert_eq!(ring.published(), 0);

        producer.try_claim().unwrap().publish().unwrap();
        producer.try_claim().unwrap().publish().unwrap();
        assert_eq!(ring.published(), 2);
        assert!(format!("{ring:?}").contains("published: 2"));
        assert!(!ring.is_closed());
        ring.close();
        assert!(ring.is_closed());
    }

    #[test]
    fn head_wraps_at_multiple_of_capacity() {
        let ring = ring::<3>(0, 3);
        let producer = ring.producer().unwrap();
        // Start the workers' position just below the wrap point, which is
        // the largest multiple of the capacity that fits a usize.
        let wrap = usize::MAX / 3 * 3;
        ring.head.store(wrap - 3, Ordering::Relaxed);

        for value in 0..7 {
            let mut claim = producer.try_claim().unwrap();
            *claim = value;
            claim.publish().unwrap();
            let taken = ring.try_take().unwrap();
            assert_eq!(*taken, value, "chunk taken after position {}", wrap - 3);
        }
        assert_eq!(
            ring.head.load(Ordering::Relaxed),
            4,
            "head wrapped to 0 once"
        );
    }

    #[test]
    fn claims_rotate_through_slots() {
        let ring = ring::<3>(0, 3);
        let producer = ring.producer().unwrap();

        let mut indices = [0; 4];
        for index in &mut indices {
            let claim = producer.try_claim().unwrap();
            *index = claim.slot_index();
            claim.publish().unwrap();
            let taken = ring.try_take().unwrap();
            assert_eq!(taken.slot_index(), *index);
        }
        assert_eq!(
            indices,
            [0, 1, 2, 0],
            "each claim starts after the last one"
        );
    }

    #[test]
    fn claim_skips_held_slot_at_cursor() {
        let ring = ring::<2>(0, 2);
        let producer = ring.producer().unwrap();
        producer.try_claim().unwrap().publish().unwrap();
        let held = ring.try_take().unwrap();
        producer.try_claim().unwrap().publish().unwrap();
        drop(ring.try_take().unwrap());

        // The cursor is back at slot 0, which is still held.
        let claim = producer.try_claim().unwrap();
        assert_eq!(held.slot_index(), 0);
        assert_eq!(claim.slot_index(), 1);
    }

    #[test]
    fn claim_scan_wraps_past_last_slot() {
        let ring = ring::<3>(0, 3);
        let producer = ring.producer().unwrap();
        for _ in 0..3 {
            producer.try_claim().unwrap().publish().unwrap();
        }
        let [first, second, last] = core::array::from_fn(|_| ring.try_take().unwrap());
        assert_eq!(last.slot_index(), 2);
        drop(first);
        drop(second);

        // Refill slots 0 and 1, which leaves the cursor at the held slot 2.
        let refilled = [producer.try_claim().unwrap(), producer.try_claim().unwrap()];
        let [zero, one] = refilled;
        assert_eq!((zero.slot_index(), one.slot_index()), (0, 1));
        drop(zero);

        // The scan starts at slot 2, which is held, and wraps to slot 0.
        let claim = producer.try_claim().unwrap();
        assert_eq!(claim.slot_index(), 0);
        drop(last);
    }

    #[test]
    fn errors_display_their_cause() {
        use core::error::Error;

        let config = RingError::from(GateConfig::new(2, 1).unwrap_err());
        assert!(config.to_string().contains("low (2)"), "{config}");
        assert!(config.source().is_some(), "the config error is the source");
        assert!(RingError::ZeroCapacity.source().is_none());
        assert!(RingError::ZeroCapacity.to_string().contains("capacity 0"));
        assert!(ProducerBusy.to_string().contains("in use"));
        assert!(TryClaimError::Full.to_string().contains("full"));
        assert!(TryClaimError::Closed.to_string().contains("closed"));
        assert!(ClaimError.to_string().contains("closed"));
        assert!(ClaimTimeoutError::Timeout.to_string().contains("timed out"));
        assert!(ClaimTimeoutError::Closed.to_string().contains("closed"));
        assert!(TryTakeError::Empty.to_string().contains("no chunk"));
        assert!(TryTakeError::Closed.to_string().contains("closed"));
        assert!(TakeTimeoutError::Timeout.to_string().contains("timed out"));
        assert!(TakeTimeoutError::Closed.to_string().contains("closed"));
    }

    #[test]
    fn handles_debug_by_type_name() {
        let ring = ring::<2>(0, 2);
        let producer = ring.producer().unwrap();
        assert!(format!("{producer:?}").starts_with("Producer"));
        assert!(format!("{:?}", ring.slots()[0]).starts_with("Slot"));

        let claim = producer.try_claim().unwrap();
        assert!(format!("{claim:?}").starts_with("Claim"));
        claim.publish().unwrap();
        let taken = ring.try_take().unwrap();
        assert!(format!("{taken:?}").starts_with("Taken"));
    }

    #[test]
    fn publish_error_hands_back_claim() {
        let ring = ring::<2>(0, 2);
        let producer = ring.producer().unwrap();
        let claim = producer.try_claim().unwrap();
        ring.close();

        let error = claim.publish().unwrap_err();
        assert!(format!("{error:?}").starts_with("PublishError"));
        assert!(error.to_string().contains("not published"));
        assert_eq!(error.claim.slot_index(), 0);
    }
}
