//! The `ring_ops` target: a ring of 16-byte slots driven through claims,
//! writes, publishes, takes and releases in any order, checked against a
//! model of every slot's state and contents.
//!
//! The model tracks each slot as free, claimed, published or taken, the bytes
//! it contains (a slot is reused in place, so a new claim sees the bytes last
//! written to it), the queue of published chunks with their sequence
//! numbers, and the closed flag. After every operation the ring's counts,
//! flag and counters must equal the model's, and every chunk taken must come
//! from the slot, with the sequence number and the bytes, that the model
//! expects.

use std::collections::VecDeque;

use arbitrary::{Arbitrary, Unstructured};
use bp_core::{
    Claim, ClaimTimeoutError, GateConfig, GateStats, Producer, ProducerBusy, Ring, RingError,
    RingStats, Slot, TakeTimeoutError, Taken, TryClaimError, TryTakeError,
};

use crate::park::{stopped_spin_park, StoppedSpinPark, PASSED};

/// Contents of one slot.
type Bytes = [u8; 16];

/// Number of slots of the inline-array storage.
const ARRAY_SLOTS: usize = 4;

/// Largest capacity of the boxed storage; small, so that inputs fill it.
const MAX_BOXED_SLOTS: u8 = 8;

/// A whole fuzz input: the ring's shape and the operations on it.
#[derive(Arbitrary, Debug)]
pub struct RingInput {
    storage: Storage,
    low: u8,
    high: u8,
    ops: Vec<RingOp>,
}

/// Storage of the slots.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum Storage {
    /// `[Slot<Bytes>; ARRAY_SLOTS]`, built with the `const` constructor where
    /// the marks allow it.
    Array,
    /// A boxed slice of `n % (MAX_BOXED_SLOTS + 1)` slots; 0 must be rejected.
    Boxed(u8),
}

/// One operation. Positions select a held claim or chunk modulo the number
/// held; an operation on an empty set does nothing.
#[derive(Arbitrary, Clone, Copy, Debug)]
enum RingOp {
    TryClaim,
    /// A claim whose deadline has already passed.
    ClaimExpired,
    Write {
        claim: u8,
        bytes: Bytes,
    },
    /// Publishes a claim; if the ring is closed the claim comes back, and
    /// `keep` selects whether to hold it again or drop it.
    Publish {
        claim: u8,
        keep: bool,
    },
    DropClaim(u8),
    TryTake,
    /// A take whose deadline has already passed.
    TakeExpired,
    /// An untimed take, run only where it cannot block.
    Take,
    WriteTaken {
        taken: u8,
        bytes: Bytes,
    },
    Release(u8),
    Close,
    /// Drops the producer handle and takes a new one, if no claim is held.
    NewProducer,
}

type TestRing<S> = Ring<Bytes, S, StoppedSpinPark>;
type TestClaim<'p, 'r, S> = Claim<'p, 'r, Bytes, S, StoppedSpinPark>;
type TestTaken<'r, S> = Taken<'r, Bytes, S, StoppedSpinPark>;

/// State of a slot in its cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Free,
    Claimed,
    Published,
    Taken,
}

/// The reference model of a ring.
#[derive(Debug)]
struct Model {
    high: u32,
    slots: Vec<SlotState>,
    contents: Vec<Bytes>,
    /// Published chunks not yet taken: slot index and sequence number.
    queue: VecDeque<(usize, u64)>,
    next_seq: u64,
    closed: bool,
    peak: u32,
    /// Claims that took the blocking path and timed out.
    producer_parks: usize,
    /// Takes that took the blocking path and timed out.
    worker_parks: usize,
}

/// Initial contents of slot `index`, so that a claim of a never-written slot
/// shows which slot it is.
fn initial_bytes(index: usize) -> Bytes {
    [index as u8; 16]
}

/// Decodes `data` as a [`RingInput`] and runs it; panics at the first
/// difference between the ring and the model.
pub fn run(data: &[u8]) {
    let Ok(input) = RingInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let Ok(config) = GateConfig::new(u32::from(input.low % 10), u32::from(input.high % 10)) else {
        // Invalid marks are the gate target's subject; here they only end
        // the run.
        return;
    };

    match input.storage {
        Storage::Array => {
            let slots: [Slot<Bytes>; ARRAY_SLOTS] =
                core::array::from_fn(|index| Slot::new(initial_bytes(index)));
            if config.high() as usize <= ARRAY_SLOTS {
                let ring = Ring::new_array(slots, config, stopped_spin_park());
                run_ops(&ring, config, &input.ops);
            } else {
                check_rejected(slots, config);
            }
        }
        Storage::Boxed(count) => {
            let capacity = usize::from(count % (MAX_BOXED_SLOTS + 1));
            let slots: Box<[Slot<Bytes>]> = (0..capacity)
                .map(|index| Slot::new(initial_bytes(index)))
                .collect();
            if capacity > 0 && config.high() as usize <= capacity {
                let ring = Ring::new(slots, config, stopped_spin_park())
                    .expect("valid capacity and marks were rejected");
                run_ops(&ring, config, &input.ops);
            } else {
                check_rejected(slots, config);
            }
        }
    }
}

/// Checks that `Ring::new` rejects `slots` with `config` for the right reason.
fn check_rejected<S: AsRef<[Slot<Bytes>]>>(slots: S, config: GateConfig) {
    let capacity = slots.as_ref().len();
    let expected = if capacity == 0 {
        RingError::ZeroCapacity
    } else {
        RingError::HighAboveCapacity {
            high: config.high(),
            capacity,
        }
    };
    match Ring::new(slots, config, stopped_spin_park()) {
        Ok(_) => panic!("accepted {capacity} slots with high {}", config.high()),
        Err(error) => assert_eq!(error, expected),
    }
}

/// Runs `ops` on `ring`, taking a new producer handle at each `NewProducer`
/// that finds no claim held.
fn run_ops<S: AsRef<[Slot<Bytes>]>>(ring: &TestRing<S>, config: GateConfig, ops: &[RingOp]) {
    let capacity = ring.capacity();
    let mut model = Model {
        high: config.high(),
        slots: vec![SlotState::Free; capacity],
        contents: (0..capacity).map(initial_bytes).collect(),
        queue: VecDeque::new(),
        next_seq: 0,
        closed: false,
        peak: 0,
        producer_parks: 0,
        worker_parks: 0,
    };
    let mut taken: Vec<TestTaken<'_, S>> = Vec::new();
    let mut rest = ops;
    model.check(ring);

    loop {
        let producer = ring.producer().expect("no other producer handle exists");
        assert_eq!(ring.producer().unwrap_err(), ProducerBusy);
        let mut claims: Vec<TestClaim<'_, '_, S>> = Vec::new();

        let mut new_producer = false;
        while let Some((&op, tail)) = rest.split_first() {
            rest = tail;
            if matches!(op, RingOp::NewProducer) && claims.is_empty() {
                new_producer = true;
                break;
            }
            apply(op, ring, &producer, &mut claims, &mut taken, &mut model);
            model.check(ring);
        }

        // Claims still held at the end go back unpublished.
        for claim in claims.drain(..) {
            model.free(claim.slot_index(), SlotState::Claimed);
        }
        model.check(ring);
        drop(claims);
        drop(producer);
        if !new_producer {
            break;
        }
    }

    for chunk in taken.drain(..) {
        model.free(chunk.slot_index(), SlotState::Taken);
    }
    model.check(ring);

    // Whatever is still published drains in order, also after a close.
    ring.close();
    model.closed = true;
    while let Some(chunk) = ring.take() {
        model.take(&chunk);
        model.free(chunk.slot_index(), SlotState::Taken);
    }
    assert_eq!(ring.try_take().unwrap_err(), TryTakeError::Closed);
    model.check(ring);
    assert_eq!(ring.in_flight(), 0);
}

fn apply<'p, 'r, S: AsRef<[Slot<Bytes>]>>(
    op: RingOp,
    ring: &'r TestRing<S>,
    producer: &'p Producer<'r, Bytes, S, StoppedSpinPark>,
    claims: &mut Vec<TestClaim<'p, 'r, S>>,
    taken: &mut Vec<TestTaken<'r, S>>,
    model: &mut Model,
) {
    match op {
        RingOp::TryClaim => match producer.try_claim() {
            Ok(claim) => {
                assert!(model.can_claim(), "claimed at {model:?}");
                model.claim(&claim);
                claims.push(claim);
            }
            Err(TryClaimError::Full) => assert!(model.is_full(), "full at {model:?}"),
            Err(TryClaimError::Closed) => assert!(model.closed, "closed at {model:?}"),
            Err(error) => panic!("unexpected try_claim error {error:?}"),
        },
        RingOp::ClaimExpired => match producer.claim_until(PASSED) {
            Ok(claim) => {
                assert!(model.can_claim(), "claimed at {model:?}");
                model.claim(&claim);
                claims.push(claim);
            }
            Err(ClaimTimeoutError::Timeout) => {
                assert!(model.is_full(), "claim timed out at {model:?}");
                model.producer_parks += 1;
            }
            Err(ClaimTimeoutError::Closed) => assert!(model.closed, "closed at {model:?}"),
            Err(error) => panic!("unexpected claim_until error {error:?}"),
        },
        RingOp::Write { claim, bytes } => {
            if let Some(claim) = select(claims, claim) {
                **claim = bytes;
                model.contents[claim.slot_index()] = bytes;
            }
        }
        RingOp::Publish { claim, keep } => {
            if claims.is_empty() {
                return;
            }
            let claim = claims.remove(usize::from(claim) % claims.len());
            let index = claim.slot_index();
            match claim.publish() {
                Ok(seq) => {
                    assert!(!model.closed, "published into a closed ring");
                    assert_eq!(seq, model.next_seq, "sequence number");
                    model.next_seq += 1;
                    model.slots[index] = SlotState::Published;
                    model.queue.push_back((index, seq));
                }
                Err(error) => {
                    assert!(model.closed, "publish failed on an open ring");
                    assert_eq!(error.claim.slot_index(), index);
                    if keep {
                        claims.push(error.claim);
                    } else {
                        drop(error.claim);
                        model.free(index, SlotState::Claimed);
                    }
                }
            }
        }
        RingOp::DropClaim(claim) => {
            if !claims.is_empty() {
                let claim = claims.remove(usize::from(claim) % claims.len());
                let index = claim.slot_index();
                drop(claim);
                model.free(index, SlotState::Claimed);
            }
        }
        RingOp::TryTake => match ring.try_take() {
            Ok(chunk) => {
                model.take(&chunk);
                taken.push(chunk);
            }
            Err(TryTakeError::Empty) => {
                assert!(
                    model.queue.is_empty() && !model.closed,
                    "empty at {model:?}"
                );
            }
            Err(TryTakeError::Closed) => {
                assert!(
                    model.queue.is_empty() && model.closed,
                    "drained at {model:?}"
                );
            }
            Err(error) => panic!("unexpected try_take error {error:?}"),
        },
        RingOp::TakeExpired => match ring.take_until(PASSED) {
            Ok(chunk) => {
                model.take(&chunk);
                taken.push(chunk);
            }
            Err(TakeTimeoutError::Timeout) => {
                assert!(
                    model.queue.is_empty() && !model.closed,
                    "timed out at {model:?}"
                );
                model.worker_parks += 1;
            }
            Err(TakeTimeoutError::Closed) => {
                assert!(
                    model.queue.is_empty() && model.closed,
                    "drained at {model:?}"
                );
            }
            Err(error) => panic!("unexpected take_until error {error:?}"),
        },
        RingOp::Take => {
            if model.queue.is_empty() && !model.closed {
                return;
            }
            match ring.take() {
                Some(chunk) => {
                    model.take(&chunk);
                    taken.push(chunk);
                }
                None => assert!(model.queue.is_empty(), "take ended at {model:?}"),
            }
        }
        RingOp::WriteTaken {
            taken: position,
            bytes,
        } => {
            if let Some(chunk) = select(taken, position) {
                **chunk = bytes;
                model.contents[chunk.slot_index()] = bytes;
            }
        }
        RingOp::Release(position) => {
            if !taken.is_empty() {
                let chunk = taken.remove(usize::from(position) % taken.len());
                let index = chunk.slot_index();
                drop(chunk);
                model.free(index, SlotState::Taken);
            }
        }
        RingOp::Close => {
            assert_eq!(
                ring.close(),
                !model.closed,
                "close must report whether this call closed the ring"
            );
            model.closed = true;
        }
        RingOp::NewProducer => {}
    }
}

/// Returns the held item at `position` modulo the number held.
fn select<T>(held: &mut [T], position: u8) -> Option<&mut T> {
    if held.is_empty() {
        None
    } else {
        let len = held.len();
        held.get_mut(usize::from(position) % len)
    }
}

impl Model {
    fn in_flight(&self) -> u32 {
        self.slots
            .iter()
            .filter(|&&state| state != SlotState::Free)
            .count() as u32
    }

    fn is_full(&self) -> bool {
        !self.closed && self.in_flight() >= self.high
    }

    fn can_claim(&self) -> bool {
        !self.closed && self.in_flight() < self.high
    }

    /// Records a successful claim, which must land on a free slot and show
    /// the bytes last written to it.
    fn claim<S: AsRef<[Slot<Bytes>]>>(&mut self, claim: &TestClaim<'_, '_, S>) {
        let index = claim.slot_index();
        assert_eq!(self.slots[index], SlotState::Free, "claimed slot {index}");
        assert_eq!(
            **claim, self.contents[index],
            "contents of claimed slot {index}"
        );
        self.slots[index] = SlotState::Claimed;
        self.peak = self.peak.max(self.in_flight());
    }

    /// Records a take, which must deliver the oldest published chunk.
    fn take<S: AsRef<[Slot<Bytes>]>>(&mut self, chunk: &TestTaken<'_, S>) {
        let Some((index, seq)) = self.queue.pop_front() else {
            panic!("took a chunk although none was published");
        };
        assert_eq!(chunk.slot_index(), index, "slot of chunk {seq}");
        assert_eq!(chunk.seq(), seq, "sequence number of the oldest chunk");
        assert_eq!(**chunk, self.contents[index], "payload of chunk {seq}");
        self.slots[index] = SlotState::Taken;
    }

    /// Records that slot `index`, in state `from`, went back to the free set.
    fn free(&mut self, index: usize, from: SlotState) {
        assert_eq!(self.slots[index], from, "state of freed slot {index}");
        self.slots[index] = SlotState::Free;
    }

    /// Compares everything the ring reports with the model.
    fn check<S: AsRef<[Slot<Bytes>]>>(&self, ring: &TestRing<S>) {
        let in_flight = self.in_flight();
        assert!(in_flight <= self.high, "model above high");
        assert_eq!(ring.in_flight(), in_flight, "slots in flight");
        assert_eq!(
            ring.published() as usize,
            self.queue.len(),
            "published chunks"
        );
        assert_eq!(ring.is_closed(), self.closed, "closed flag");
        assert_eq!(ring.gate().is_closed(), self.closed, "gate closed flag");

        // With one thread, every waiter has deregistered before the next
        // publish or release, so nothing may pay for a wake call.
        let expected = RingStats {
            gate: GateStats {
                parks: self.producer_parks,
                wake_calls: 0,
                peak_in_flight: self.peak,
            },
            worker_parks: self.worker_parks,
            worker_wake_calls: 0,
        };
        assert_eq!(ring.stats(), expected, "ring counters");
    }
}
