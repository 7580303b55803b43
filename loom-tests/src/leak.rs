//! A wrapper that skips its value's destructor while the thread unwinds.

use std::ops::{Deref, DerefMut};

/// A value that is dropped normally, except while the thread is unwinding
/// from a panic, when it is leaked instead.
///
/// When loom reports a deadlock, it unwinds the stacks of all modeled threads
/// after the execution has stopped. A destructor that performs a loom
/// operation then, such as a permit's release of its unit, panics again and
/// aborts the test process, so the report and the event log are lost. Wrap
/// any value whose destructor touches loom objects and that a model holds
/// across a point where it may block.
#[derive(Debug)]
pub struct LeakOnUnwind<T>(Option<T>);

impl<T> LeakOnUnwind<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self(Some(value))
    }

    /// Unwraps the value; dropping it is then up to the caller.
    pub fn into_inner(mut self) -> T {
        self.0
            .take()
            .expect("the value is present until into_inner or drop")
    }
}

impl<T> Deref for LeakOnUnwind<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
            .as_ref()
            .expect("the value is present until into_inner or drop")
    }
}

impl<T> DerefMut for LeakOnUnwind<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0
            .as_mut()
            .expect("the value is present until into_inner or drop")
    }
}

impl<T> Drop for LeakOnUnwind<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(value) = self.0.take() {
                std::mem::forget(value);
            }
        }
    }
}
