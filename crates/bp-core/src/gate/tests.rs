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

// ---------------------------------------------------------------------------
// Mutation-testing block: tests that kill mutants the tests above let
// survive (see TESTING.md). Scripted parks play the other threads' part:
// their `wait` changes the word the way a concurrent release would.
// ---------------------------------------------------------------------------
mod mutation {
    use core::cell::Cell;

    use super::*;
    use crate::park::{AtomicU32 as Word, Clock, SpinPark};
    use crate::scripted_park::{OnWait, ScriptedPark};
    use crate::word::WAITER_ONE;

    #[test]
    fn is_closed_reports_close() {
        let gate = gate(0, 2);
        assert!(!gate.is_closed());
        gate.close();
        assert!(gate.is_closed());
    }

    #[test]
    fn config_returns_both_marks() {
        let gate = gate(2, 5);
        assert_eq!(gate.config().low(), 2);
        assert_eq!(gate.config().high(), 5);
    }

    #[test]
    fn blocked_acquire_takes_unit_and_deregisters() {
        let gate = Gate::new(
            GateConfig::new(1, 3).unwrap(),
            ScriptedPark::new(OnWait::Release(2)),
        );
        let held = gate.try_acquire().unwrap();
        // The scripted park releases these two units while the producer waits.
        core::mem::forget(gate.try_acquire().unwrap());
        core::mem::forget(gate.try_acquire().unwrap());
        // As if the producer that reached high had not recorded it yet, so
        // that the blocked acquire's own record shows.
        gate.peak.store(0, Ordering::Relaxed);

        let permit = gate.acquire_until(()).unwrap();

        let state = gate.state.load(Ordering::Relaxed);
        assert_eq!(count(state), 2, "the held unit and the new one");
        assert_eq!(
            waiters(state),
            0,
            "the producer left its registration behind"
        );
        assert_eq!(gate.stats().peak_in_flight, 2);
        assert_eq!(gate.park().waits.get(), 1);
        assert_eq!(gate.stats().parks, 1);
        drop(permit);
        drop(held);
        assert_eq!(gate.state.load(Ordering::Relaxed), 0);
    }

    /// Fills a gate with high = 3 and returns the permit held to the end, as
    /// `blocked_acquire_takes_unit_and_deregisters` does.
    fn fill(gate: &Gate<ScriptedPark>) -> Permit<'_, ScriptedPark> {
        let held = gate.try_acquire().unwrap();
        core::mem::forget(gate.try_acquire().unwrap());
        core::mem::forget(gate.try_acquire().unwrap());
        held
    }

    #[test]
    fn spin_sees_release_without_parking() {
        let park = ScriptedPark::new(OnWait::Release(2)).spinning(5, Some(1));
        let gate = Gate::new(GateConfig::new(1, 3).unwrap(), park);
        let held = fill(&gate);

        let permit = gate.acquire_until(()).unwrap();

        assert_eq!(gate.park().spins.get(), 2, "rounds 0 and 1, then acquired");
        assert_eq!(gate.park().waits.get(), 0);
        assert_eq!(gate.stats().parks, 0);
        assert_eq!(gate.state.load(Ordering::Relaxed), 2);
        drop(permit);
        drop(held);
    }

    #[test]
    fn acquire_parks_after_spin_rounds() {
        let park = ScriptedPark::new(OnWait::Release(2)).spinning(3, None);
        let gate = Gate::new(GateConfig::new(1, 3).unwrap(), park);
        let held = fill(&gate);

        let permit = gate.acquire_until(()).unwrap();

        assert_eq!(gate.park().spins.get(), 4, "three rounds, then the refusal");
        assert_eq!(gate.park().waits.get(), 1);
        assert_eq!(gate.stats().parks, 1);
        assert_eq!(gate.state.load(Ordering::Relaxed), 2);
        drop(permit);
        drop(held);
    }

    #[test]
    fn passed_deadline_ends_spin() {
        let park = ScriptedPark::new(OnWait::Release(2))
            .spinning(5, None)
            .expired();
        let gate = Gate::new(GateConfig::new(1, 3).unwrap(), park);
        let held = fill(&gate);

        assert_eq!(
            gate.acquire_until(()).unwrap_err(),
            AcquireTimeoutError::Timeout
        );
        assert_eq!(gate.park().spins.get(), 1, "round 0 only");
        assert_eq!(gate.park().waits.get(), 0);
        assert_eq!(
            gate.state.load(Ordering::Relaxed),
            3,
            "no registration left"
        );
        drop(held);
    }

    #[test]
    fn lost_registration_race_spins_no_more() {
        // The release in the declining round changes the word, so the
        // registration that follows fails once and must not ask again.
        let park = ScriptedPark::new(OnWait::Release(1)).spinning(2, Some(2));
        let gate = Gate::new(GateConfig::new(1, 3).unwrap(), park);
        let held = fill(&gate);

        let permit = gate.acquire_until(()).unwrap();

        assert_eq!(gate.park().spins.get(), 3, "rounds 0 to 2, once each");
        assert_eq!(gate.park().waits.get(), 1);
        assert_eq!(gate.stats().parks, 1);
        assert_eq!(gate.state.load(Ordering::Relaxed), 2);
        drop(permit);
        drop(held);
    }

    #[test]
    fn timeout_restores_word_exactly() {
        let gate = Gate::new(
            GateConfig::new(1, 3).unwrap(),
            ScriptedPark::new(OnWait::TimeOut),
        );
        let permits = [
            gate.try_acquire().unwrap(),
            gate.try_acquire().unwrap(),
            gate.try_acquire().unwrap(),
        ];

        assert_eq!(
            gate.acquire_until(()).unwrap_err(),
            AcquireTimeoutError::Timeout
        );
        assert_eq!(gate.state.load(Ordering::Relaxed), 3);
        drop(permits);
    }

    #[test]
    fn release_wakes_only_when_crossing_low() {
        let gate = gate(1, 4);
        let mut permits = [
            Some(gate.try_acquire().unwrap()),
            Some(gate.try_acquire().unwrap()),
            Some(gate.try_acquire().unwrap()),
            Some(gate.try_acquire().unwrap()),
        ];
        // A producer registered as parked, as the slow path leaves it.
        gate.state.fetch_add(WAITER_ONE, Ordering::Relaxed);

        // Counts 4 -> 3 -> 2 -> 1 -> 0: only 2 -> 1 reaches low.
        let mut wakes_after_each = [0; 4];
        for (permit, wakes) in permits.iter_mut().zip(&mut wakes_after_each) {
            drop(permit.take());
            *wakes = gate.park().wakes.get();
        }
        assert_eq!(wakes_after_each, [0, 0, 1, 1]);
        assert_eq!(gate.stats().wake_calls, 1);
        gate.state.fetch_sub(WAITER_ONE, Ordering::Relaxed);
    }

    /// A park whose wake calls are counted and whose deadlines are booleans:
    /// `true` has passed.
    #[derive(Debug, Default)]
    struct CountingPark {
        wakes: Cell<u32>,
    }

    impl Park for CountingPark {
        type Deadline = bool;

        fn wait(&self, _word: &Word, _expected: u32, _deadline: Option<bool>) -> WaitOutcome {
            WaitOutcome::Woken
        }

        fn wake_one(&self, _word: &Word) {
            self.wakes.set(self.wakes.get() + 1);
        }

        fn wake_all(&self, _word: &Word) {
            self.wakes.set(self.wakes.get() + 10);
        }

        fn is_past(&self, deadline: bool) -> bool {
            deadline
        }

        fn spin(&self, _word: &Word, round: u32) -> bool {
            round < 2
        }
    }

    #[test]
    fn park_reference_forwards_every_call() {
        let park = CountingPark::default();
        let word = Word::new(0);

        // Call the implementation for `&P` itself; method syntax would
        // dereference to the one for `P`.
        <&CountingPark as Park>::wake_one(&&park, &word);
        assert_eq!(park.wakes.get(), 1);
        <&CountingPark as Park>::wake_all(&&park, &word);
        assert_eq!(park.wakes.get(), 11);
        assert!(<&CountingPark as Park>::is_past(&&park, true));
        assert!(!<&CountingPark as Park>::is_past(&&park, false));
        assert!(<&CountingPark as Park>::spin(&&park, &word, 1));
        assert!(!<&CountingPark as Park>::spin(&&park, &word, 2));
    }

    /// A clock that advances by one on every reading.
    #[derive(Debug, Default)]
    struct TickingClock {
        readings: Cell<u32>,
    }

    impl Clock for &TickingClock {
        type Instant = u32;

        fn now(&self) -> u32 {
            let now = self.readings.get();
            self.readings.set(now + 1);
            now
        }
    }

    type TickingSpinPark<'c> = SpinPark<spin::relax::Spin, &'c TickingClock>;

    #[test]
    fn spin_park_returns_when_word_differs() {
        let clock = TickingClock::default();
        let park: TickingSpinPark<'_> = SpinPark::with_clock(&clock);
        let word = Word::new(1);

        assert_eq!(park.wait(&word, 0, Some(100)), WaitOutcome::Woken);
    }

    #[test]
    fn spin_park_times_out_at_deadline() {
        let clock = TickingClock::default();
        let park: TickingSpinPark<'_> = SpinPark::with_clock(&clock);
        let word = Word::new(7);

        assert_eq!(park.wait(&word, 7, Some(3)), WaitOutcome::TimedOut);
        // Readings 0, 1 and 2 are before the deadline; 3 reaches it.
        assert_eq!(clock.readings.get(), 4, "gave up before the deadline");
    }

    #[test]
    fn spin_park_is_past_compares_with_clock() {
        let clock = TickingClock::default();
        let park: TickingSpinPark<'_> = SpinPark::with_clock(&clock);

        assert!(!park.is_past(5), "reading 0 is before 5");
        assert!(park.is_past(1), "reading 1 reaches 1");
        assert!(park.is_past(0), "reading 2 is after 0");
    }

    #[test]
    fn errors_display_their_cause() {
        extern crate std;
        use std::string::ToString;

        let config = GateConfig::new(4, 4).unwrap_err();
        assert!(config.to_string().contains("low (4)"), "{config}");
        assert!(TryAcquireError::Full.to_string().contains("full"));
        assert!(TryAcquireError::Closed.to_string().contains("closed"));
        assert!(AcquireError.to_string().contains("closed"));
        assert!(AcquireTimeoutError::Timeout
            .to_string()
            .contains("timed out"));
        assert!(AcquireTimeoutError::Closed.to_string().contains("closed"));
    }

    #[test]
    fn permits_debug_by_type_name() {
        extern crate std;
        use std::format;

        let gate = gate(0, 2);
        let permit = gate.try_acquire().unwrap();
        let owned = OwnedPermit::try_acquire(&gate).unwrap();
        assert!(format!("{permit:?}").starts_with("Permit"));
        assert!(format!("{owned:?}").starts_with("OwnedPermit"));
    }
}
