//! Cache-line padding for the ring's shared words.

use core::ops::Deref;

/// A value alone on its cache line, so that writes to its neighbours do not
/// take the line away from the threads that use it.
///
/// The producer and the workers write different words of a ring on every
/// chunk: the producer its own state, the workers the queue head, both of
/// them the gate and published counts. Sharing one cache line, each write
/// would evict the line from the other CPUs even where they use other words.
///
/// The alignment is 128 bytes on x86-64 and AArch64, whose CPUs fetch pairs of
/// 64-byte lines, and 64 bytes on other 64-bit targets. 32-bit targets are
/// mostly microcontrollers without a data cache, so there the padding would
/// only cost memory and the value keeps its own alignment.
#[cfg_attr(any(target_arch = "x86_64", target_arch = "aarch64"), repr(align(128)))]
#[cfg_attr(
    all(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        target_pointer_width = "64"
    ),
    repr(align(64))
)]
#[derive(Debug, Default)]
pub(crate) struct Padded<T>(T);

impl<T> Padded<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(value)
    }
}

impl<T> Deref for Padded<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}
