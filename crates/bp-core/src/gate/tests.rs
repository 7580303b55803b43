use super::*;
use crate::park::{AtomicU32 as Word, SpinPark};

/// A park that must never be used: these tests only take non-blocking paths.
#[derive(Debug, Default)]
struct NoPark {
    wakes: core::cell::Cell<u32>,
}

impl Park for NoPark {
    type Deadline = u32;

    fn wait(&self, _word: &Word, _expected: u32, _deadline: Option<u32>) -> WaitOutcome {
        panic!("NoPark::wait called: a test took a blocking path")
    }

    fn wake_one(&self, _word: &Word) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn wake_all(&self, _word: &Word) {
        self.wakes.set(self.wakes.get() + 1);
    }

    fn is_past(&self, _deadline: u32) -> bool {
        true
    }
}

fn gate(low: u32, high: u32) -> Gate<NoPark> {
    Gate::new(GateConfig::new(low, high).unwrap(), NoPark::default())
}

#[test]
fn try_acquire_stops_at_high() {
    let gate = gate(0, 3);
    let permits = [
        gate.try_acquire().unwrap(),
        gate.try_acquire().unwrap(),
        gate.try_acquire().unwrap(),
    ];
    assert_eq!(gate.in_flight(), 3);
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Full);
    drop(permits);
    assert_eq!(gate.in_flight(), 0);
}

#[test]
fn high_one_admits_one() {
    let gate = gate(0, 1);
    let permit = gate.try_acquire().unwrap();
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Full);
    drop(permit);
    assert!(gate.try_acquire().is_ok());
}

#[test]
fn release_without_waiters_makes_no_wake_call() {
    let gate = gate(0, 2);
    for _ in 0..10 {
        let a = gate.try_acquire().unwrap();
        let b = gate.try_acquire().unwrap();
        drop(a);
        drop(b);
    }
    assert_eq!(gate.park().wakes.get(), 0);
    assert_eq!(gate.stats().wake_calls, 0);
    assert_eq!(gate.stats().parks, 0);
    assert_eq!(gate.stats().peak_in_flight, 2);
}

#[test]
fn close_is_idempotent() {
    let gate = gate(1, 2);
    assert!(gate.close());
    assert!(!gate.close());
    assert!(gate.is_closed());
}

#[test]
fn acquire_after_close_fails() {
    let gate = gate(0, 2);
    gate.close();
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_eq!(gate.acquire().unwrap_err(), AcquireError);
    assert_eq!(
        gate.acquire_until(0).unwrap_err(),
        AcquireTimeoutError::Closed
    );
}

#[test]
fn release_after_close_still_counts() {
    let gate = gate(0, 2);
    let a = gate.try_acquire().unwrap();
    let b = gate.try_acquire().unwrap();
    gate.close();
    drop(a);
    assert_eq!(gate.in_flight(), 1);
    drop(b);
    assert_eq!(gate.in_flight(), 0);
    assert!(gate.is_closed());
}

#[test]
fn close_without_waiters_makes_no_wake_call() {
    let gate = gate(0, 2);
    gate.close();
    assert_eq!(gate.park().wakes.get(), 0);
}

/// A park whose every wait times out at once.
#[derive(Debug, Default)]
struct ExpiredPark;

impl Park for ExpiredPark {
    type Deadline = ();

    fn wait(&self, _word: &Word, _expected: u32, deadline: Option<()>) -> WaitOutcome {
        assert!(deadline.is_some(), "untimed wait on ExpiredPark would hang");
        WaitOutcome::TimedOut
    }

    fn wake_one(&self, _word: &Word) {}

    fn wake_all(&self, _word: &Word) {}

    fn is_past(&self, _deadline: ()) -> bool {
        true
    }
}

#[test]
fn timeout_leaves_no_registration() {
    let gate = Gate::new(GateConfig::new(0, 1).unwrap(), ExpiredPark);
    let permit = gate.try_acquire().unwrap();
    assert_eq!(
        gate.acquire_until(()).unwrap_err(),
        AcquireTimeoutError::Timeout
    );
    assert_eq!(waiters(gate.state.load(Ordering::Relaxed)), 0);
    assert_eq!(gate.stats().parks, 1);
    drop(permit);
    assert_eq!(gate.state.load(Ordering::Relaxed), 0);
    assert_eq!(gate.stats().wake_calls, 0);
}

#[test]
fn timeout_acquires_if_drained_meanwhile() {
    let gate = Gate::new(GateConfig::new(0, 1).unwrap(), ExpiredPark);
    // Below low at entry: acquires without parking even with a past deadline.
    let permit = gate.acquire_until(()).unwrap();
    assert_eq!(gate.in_flight(), 1);
    drop(permit);
}

#[test]
fn low_at_high_minus_one_resumes_after_one_release() {
    let gate = gate(2, 3);
    let a = gate.try_acquire().unwrap();
    let _b = gate.try_acquire().unwrap();
    let _c = gate.try_acquire().unwrap();
    assert_eq!(gate.try_acquire().unwrap_err(), TryAcquireError::Full);
    drop(a);
    // At low now: the blocking acquire does not park.
    let _d = gate.acquire().unwrap();
    assert_eq!(gate.in_flight(), 3);
}

#[test]
fn owned_permit_releases_on_drop() {
    static GATE: Gate<SpinPark> = Gate::new(GateConfig::new_const::<0, 2>(), SpinPark::new());
    let permit = OwnedPermit::try_acquire(&GATE).unwrap();
    assert_eq!(GATE.in_flight(), 1);
    drop(permit);
    assert_eq!(GATE.in_flight(), 0);
}

static_assertions::assert_impl_all!(Gate<SpinPark>: Send, Sync);
static_assertions::assert_impl_all!(Permit<'static, SpinPark>: Send, Sync);
static_assertions::assert_not_impl_any!(Permit<'static, SpinPark>: Clone, Copy);
