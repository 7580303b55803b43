//! The pipeline builder and its checks.

use std::{num::NonZeroUsize, thread};

use super::{ConfigError, Pipeline};

/// Default chunk size: 1 MiB, large enough that per-chunk costs (a claim, a
/// wake-up, a compressor reset) vanish next to the work on the bytes.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// Default number of slots per worker thread.
const DEFAULT_SLOTS_PER_WORKER: usize = 4;

/// Checked settings of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Number of ring slots, each holding one chunk.
    pub slots: usize,
    /// Capacity of a slot in bytes.
    pub chunk_size: usize,
    /// Bytes of preceding input copied into each slot (see
    /// [`Chunk::history`](super::Chunk::history)).
    pub history_size: usize,
    /// Chunks in flight at which the reader blocks.
    pub high: u32,
    /// Chunks in flight at or below which a blocked reader resumes.
    pub low: u32,
    /// Number of worker threads.
    pub workers: usize,
    /// Whether results are folded in input order.
    pub ordered: bool,
}

impl PipelineConfig {
    /// Returns the bytes of the ring's chunk buffers: `slots` slots of
    /// `chunk_size + history_size` bytes. Results of the worker function
    /// come on top, at most `high` of them at once.
    pub fn ring_bytes(&self) -> usize {
        self.slots * (self.chunk_size + self.history_size)
    }
}

/// Builder of a [`Pipeline`]; every setting has a default.
#[derive(Clone, Debug)]
pub struct PipelineBuilder {
    slots: Option<usize>,
    chunk_size: usize,
    history_size: usize,
    high: Option<u32>,
    low: Option<u32>,
    workers: Option<usize>,
    ordered: bool,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PipelineBuilder {
    /// Starts from the defaults: one worker per available CPU, 4 slots per
    /// worker, chunks of [`DEFAULT_CHUNK_SIZE`], no history, `high` equal to
    /// the number of slots, `low` half of `high`, and ordered results.
    pub fn new() -> Self {
        Self {
            slots: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            history_size: 0,
            high: None,
            low: None,
            workers: None,
            ordered: true,
        }
    }

    /// Sets the number of ring slots. Memory is fixed by slots times chunk
    /// size.
    pub fn slots(mut self, slots: usize) -> Self {
        self.slots = Some(slots);
        self
    }

    /// Sets the capacity of a slot in bytes.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// Sets how many bytes of preceding input each chunk carries in
    /// [`Chunk::history`](super::Chunk::history), e.g. 32 KiB for a deflate
    /// dictionary.
    pub fn history_size(mut self, bytes: usize) -> Self {
        self.history_size = bytes;
        self
    }

    /// Sets the number of chunks in flight at which the reader blocks.
    pub fn high(mut self, high: u32) -> Self {
        self.high = Some(high);
        self
    }

    /// Sets the number of chunks in flight at or below which a blocked
    /// reader resumes.
    pub fn low(mut self, low: u32) -> Self {
        self.low = Some(low);
        self
    }

    /// Sets the number of worker threads.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Sets whether the fold function receives results in input order
    /// (`true`, the default) or in the order the workers finish them.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Fills in the defaults and checks the settings.
    ///
    /// # Errors
    ///
    /// Returns a [`ConfigError`] for zero slots, workers, chunk size or high
    /// water mark, for `low >= high`, for `high > slots`, for more slots than
    /// the ring supports, and for a ring too large for the address space.
    pub fn build(self) -> Result<Pipeline, ConfigError> {
        let workers = self.workers.unwrap_or_else(default_workers);
        let slots = self.slots.unwrap_or_else(|| {
            let from_high = self.high.map_or(0, |high| high as usize);
            (workers.saturating_mul(DEFAULT_SLOTS_PER_WORKER))
                .max(from_high)
                .max(1)
        });
        let high = match self.high {
            Some(high) => high,
            None => u32::try_from(slots).unwrap_or(u32::MAX),
        };
        let low = self.low.unwrap_or(high / 2);

        if slots == 0 {
            return Err(ConfigError::ZeroSlots);
        }
        if self.chunk_size == 0 {
            return Err(ConfigError::ZeroChunkSize);
        }
        if workers == 0 {
            return Err(ConfigError::ZeroWorkers);
        }
        if high == 0 {
            return Err(ConfigError::ZeroHigh);
        }
        if low >= high {
            return Err(ConfigError::LowNotBelowHigh { low, high });
        }
        if high as usize > slots {
            return Err(ConfigError::HighAboveSlots { high, slots });
        }
        if slots > super::MAX_SLOTS {
            return Err(ConfigError::TooManySlots {
                slots,
                max: super::MAX_SLOTS,
            });
        }

        let slot_bytes = self.chunk_size.saturating_add(self.history_size);
        let fits = slots
            .checked_mul(slot_bytes)
            .is_some_and(|total| isize::try_from(total).is_ok());
        if !fits {
            return Err(ConfigError::TooLarge { slots, slot_bytes });
        }

        Ok(Pipeline {
            config: PipelineConfig {
                slots,
                chunk_size: self.chunk_size,
                history_size: self.history_size,
                high,
                low,
                workers,
                ordered: self.ordered,
            },
        })
    }
}

/// Returns one worker per CPU that this process may use, or 1 if that is
/// unknown.
pub fn default_workers() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}
