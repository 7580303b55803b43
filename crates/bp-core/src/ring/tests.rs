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
