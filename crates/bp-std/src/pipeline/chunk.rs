//! The slot type of the pipeline's ring: one chunk of input and the input
//! that preceded it.

/// One chunk of input, read into a ring slot and handed to a worker.
///
/// The buffers are allocated once when the ring is built and reused for every
/// chunk that passes through the slot.
#[derive(Debug)]
pub struct Chunk {
    /// Input bytes; the first `len` of them are valid.
    buf: Box<[u8]>,
    len: usize,
    /// Copy of the input just before this chunk; the first `history_len`
    /// bytes are valid.
    history: Box<[u8]>,
    history_len: usize,
    seq: u64,
    offset: u64,
}

impl Chunk {
    /// Allocates a slot for chunks of up to `chunk_size` bytes with room for
    /// `history_size` bytes of preceding input.
    pub(super) fn new(chunk_size: usize, history_size: usize) -> Self {
        Self {
            buf: vec![0; chunk_size].into_boxed_slice(),
            len: 0,
            history: vec![0; history_size].into_boxed_slice(),
            history_len: 0,
            seq: 0,
            offset: 0,
        }
    }

    /// Sequence number of the chunk: 0 for the first chunk of the input, then
    /// 1, 2, ... in input order.
    #[inline]
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Byte offset of the chunk's first byte in the input.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The chunk's bytes. Every chunk but the last one of the input
    /// contains exactly the configured chunk size; the last one contains the
    /// rest.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The chunk's bytes, for processing in place.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    /// The input bytes that immediately precede this chunk, up to the
    /// configured history size: empty for the first chunk and shorter than
    /// the history size only near the start of the input.
    ///
    /// A compressor uses it as a preset dictionary, so that chunks compressed
    /// apart still refer back to earlier input.
    #[inline]
    pub fn history(&self) -> &[u8] {
        &self.history[..self.history_len]
    }

    /// Number of bytes in the chunk.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the chunk contains no bytes; never true for a chunk that a
    /// worker receives.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The whole buffer, for the reader to fill.
    pub(super) fn buf_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    pub(super) fn set_len(&mut self, len: usize) {
        debug_assert!(len <= self.buf.len());
        self.len = len;
    }

    pub(super) fn set_position(&mut self, offset: u64) {
        self.offset = offset;
    }

    pub(super) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// Copies the preceding input into the slot's history area.
    pub(super) fn set_history(&mut self, preceding: &[u8]) {
        debug_assert!(preceding.len() <= self.history.len());
        self.history[..preceding.len()].copy_from_slice(preceding);
        self.history_len = preceding.len();
    }
}

/// A sliding window over the last `capacity` bytes of input, kept by the
/// reader because a published chunk belongs to the workers.
#[derive(Debug)]
pub(super) struct History {
    bytes: Vec<u8>,
    capacity: usize,
}

impl History {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            capacity,
        }
    }

    pub(super) fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// Appends `data` and drops the oldest bytes beyond the capacity, without
    /// reallocating.
    pub(super) fn push(&mut self, data: &[u8]) {
        if self.capacity == 0 {
            return;
        }

        if data.len() >= self.capacity {
            self.bytes.clear();
            self.bytes
                .extend_from_slice(&data[data.len() - self.capacity..]);
            return;
        }

        let overflow = (self.bytes.len() + data.len()).saturating_sub(self.capacity);
        self.bytes.drain(..overflow);
        self.bytes.extend_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    #[test]
    fn history_keeps_last_bytes() {
        let mut history = History::new(4);
        history.push(b"ab");
        assert_eq!(history.as_slice(), b"ab");
        history.push(b"cde");
        assert_eq!(history.as_slice(), b"bcde");
        history.push(b"0123456");
        assert_eq!(history.as_slice(), b"3456");
        history.push(b"");
        assert_eq!(history.as_slice(), b"3456");
    }

    #[test]
    fn history_of_zero_capacity_stays_empty() {
        let mut history = History::new(0);
        history.push(b"abc");
        assert!(history.as_slice().is_empty());
    }
}
