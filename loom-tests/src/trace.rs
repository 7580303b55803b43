//! A log of the events of the current loom execution.
//!
//! Models and the model park call [`record`] at the steps worth seeing. The
//! runner clears the log at the start of every execution, so when a model
//! fails, the log holds the events of the failing execution in the order in
//! which loom ran them. [`check`](crate::check) and
//! [`expect_violation`](crate::expect_violation) print it.
//!
//! The log lives in a `std` thread-local of the OS thread that runs the model.
//! Loom runs every modeled thread on that one OS thread, switching only at
//! loom operations, so the log needs no lock and adds no branches to the
//! exploration.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write as _};

/// Events kept per execution; later ones are counted but dropped, so that a
/// model that spins cannot exhaust memory.
const MAX_EVENTS: usize = 10_000;

#[derive(Default)]
struct Log {
    events: Vec<String>,
    dropped: usize,
}

thread_local! {
    static LOG: RefCell<Log> = RefCell::new(Log::default());
    /// The loom thread that runs the model body; its events are labeled "main".
    static MAIN: Cell<Option<loom::thread::ThreadId>> = const { Cell::new(None) };
}

/// Appends `event` to the log, prefixed with the name of the current loom thread.
///
/// Must be called from inside a loom model.
pub fn record(event: fmt::Arguments<'_>) {
    let thread = loom::thread::current();
    let mut line = String::new();
    match thread.name() {
        Some(name) => line.push_str(name),
        None if MAIN.get() == Some(thread.id()) => line.push_str("main"),
        None => {
            let _ = write!(line, "{:?}", thread.id());
        }
    }
    let _ = write!(line, ": {event}");

    LOG.with(|log| {
        let mut log = log.borrow_mut();
        if log.events.len() < MAX_EVENTS {
            log.events.push(line);
        } else {
            log.dropped += 1;
        }
    });
}

/// Empties the log; the runner calls this on the main loom thread at the
/// start of every execution.
pub fn clear() {
    LOG.with(|log| *log.borrow_mut() = Log::default());
    MAIN.set(Some(loom::thread::current().id()));
}

/// Removes and returns the events recorded since the last [`clear`], with a
/// final line that counts dropped events if there were any.
pub fn take() -> Vec<String> {
    LOG.with(|log| {
        let log = std::mem::take(&mut *log.borrow_mut());
        let mut events = log.events;
        if log.dropped > 0 {
            events.push(format!("... {} later events dropped", log.dropped));
        }
        events
    })
}
