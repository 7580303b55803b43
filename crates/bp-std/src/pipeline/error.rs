//! Errors of building and running a pipeline.

use std::{error::Error, fmt, io};

/// Why [`PipelineBuilder::build`](super::PipelineBuilder::build) rejected a
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The ring needs at least one slot.
    ZeroSlots,
    /// A chunk must hold at least one byte.
    ZeroChunkSize,
    /// The pool needs at least one worker thread.
    ZeroWorkers,
    /// The high water mark is 0, so no chunk could ever be in flight.
    ZeroHigh,
    /// The low water mark must be below the high water mark.
    LowNotBelowHigh {
        /// The rejected low water mark.
        low: u32,
        /// The high water mark it was compared with.
        high: u32,
    },
    /// More chunks may be in flight than there are slots to hold them.
    HighAboveSlots {
        /// The rejected high water mark.
        high: u32,
        /// The number of slots.
        slots: usize,
    },
    /// The ring cannot hold that many slots.
    TooManySlots {
        /// The rejected number of slots.
        slots: usize,
        /// The largest number of slots the ring supports.
        max: usize,
    },
    /// `slots * (chunk_size + history_size)` bytes do not fit in memory.
    TooLarge {
        /// The number of slots.
        slots: usize,
        /// The chunk size in bytes plus the history size in bytes.
        slot_bytes: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ZeroSlots => f.write_str("the number of slots is 0; use at least 1"),
            Self::ZeroChunkSize => f.write_str("the chunk size is 0; use at least 1 byte"),
            Self::ZeroWorkers => f.write_str("the number of workers is 0; use at least 1"),
            Self::ZeroHigh => f.write_str("the high water mark is 0; use at least 1"),
            Self::LowNotBelowHigh { low, high } => write!(
                f,
                "the low water mark {low} is not below the high water mark {high}; lower the low water mark or raise the high one"
            ),
            Self::HighAboveSlots { high, slots } => write!(
                f,
                "the high water mark {high} is above the number of slots {slots}; lower the high water mark or add slots"
            ),
            Self::TooManySlots { slots, max } => {
                write!(f, "{slots} slots are more than the ring supports; use at most {max}")
            }
            Self::TooLarge { slots, slot_bytes } => write!(
                f,
                "{slots} slots of {slot_bytes} bytes do not fit in memory; use fewer slots or smaller chunks"
            ),
        }
    }
}

impl Error for ConfigError {}

/// The thread in which a panic happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThreadRole {
    /// The thread that reads the source into slots.
    Reader,
    /// A thread of the worker pool.
    Worker,
    /// The calling thread, while it ran the fold function.
    Fold,
}

impl fmt::Display for ThreadRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reader => "reader",
            Self::Worker => "worker",
            Self::Fold => "fold",
        })
    }
}

/// Why [`Pipeline::run`](super::Pipeline::run) stopped before the end of its
/// input. `E` is the error type of the worker and fold functions.
#[derive(Debug)]
#[non_exhaustive]
pub enum PipelineError<E> {
    /// Reading the source failed.
    Read {
        /// Offset in the input of the first byte that could not be read.
        offset: u64,
        /// The error that the source returned.
        source: io::Error,
    },
    /// The worker function returned an error.
    Worker {
        /// Sequence number of the chunk being processed.
        seq: u64,
        /// The error that the worker function returned.
        error: E,
    },
    /// The fold function returned an error.
    Fold {
        /// Sequence number of the chunk whose result was being folded.
        seq: u64,
        /// The error that the fold function returned.
        error: E,
    },
    /// A thread panicked: in the source's `read`, in the worker factory or
    /// worker function, or in the fold function.
    Panicked {
        /// The thread that panicked.
        role: ThreadRole,
        /// Sequence number of the chunk being processed, if any.
        seq: Option<u64>,
        /// The panic message, if the payload was a string.
        message: String,
    },
    /// The ring closed while input remained, without an error recorded
    /// first; the pipeline's own threads never cause this.
    Closed,
    /// The operating system could not start a thread.
    Spawn(io::Error),
    /// The ring could not be built; the builder's checks make this
    /// unexpected.
    Ring(crate::ring::RingError),
}

impl<E: fmt::Display> fmt::Display for PipelineError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { offset, source } => write!(f, "read failed at byte {offset}: {source}"),
            Self::Worker { seq, error } => write!(f, "processing chunk {seq} failed: {error}"),
            Self::Fold { seq, error } => {
                write!(f, "collecting the result of chunk {seq} failed: {error}")
            }
            Self::Panicked {
                role,
                seq: Some(seq),
                message,
            } => {
                write!(f, "{role} thread panicked on chunk {seq}: {message}")
            }
            Self::Panicked {
                role,
                seq: None,
                message,
            } => write!(f, "{role} thread panicked: {message}"),
            Self::Closed => f.write_str("the ring closed before the end of the input"),
            Self::Spawn(error) => write!(f, "failed to start a pipeline thread: {error}"),
            Self::Ring(error) => write!(f, "failed to build the ring: {error}"),
        }
    }
}

impl<E: Error + 'static> Error for PipelineError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Worker { error, .. } | Self::Fold { error, .. } => Some(error),
            Self::Spawn(error) => Some(error),
            Self::Ring(error) => Some(error),
            Self::Panicked { .. } | Self::Closed => None,
        }
    }
}

/// Extracts the message of a panic payload.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        String::from("(panic payload is not a string)")
    }
}
