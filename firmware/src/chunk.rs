//! The chunk that travels through the ring, its test pattern and its check.

use core::fmt;

use heapless::Vec;

/// Largest payload of a chunk, in bytes.
pub const MAX_PAYLOAD: usize = 64;

/// FNV-1a (32-bit) offset basis and prime, as published by Fowler, Noll and Vo.
const FNV_OFFSET_BASIS: u32 = 0x811C_9DC5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Contents of one ring slot: a payload of 1 to [`MAX_PAYLOAD`] bytes and the
/// checksum the producer computed over it.
pub struct Chunk {
    payload: Vec<u8, MAX_PAYLOAD>,
    checksum: u32,
}

impl Chunk {
    /// A chunk with no payload, the initial value of every slot.
    pub const EMPTY: Self = Self {
        payload: Vec::new(),
        checksum: 0,
    };

    /// Overwrites the chunk with the pattern of sequence number `seq`.
    pub fn fill(&mut self, seq: u64) {
        self.payload.clear();
        self.payload
            .extend((0..payload_len(seq)).map(|index| pattern_byte(seq, index)));
        self.checksum = checksum(seq, &self.payload);
    }

    /// Checks that the chunk contains exactly the pattern of `seq`: its length,
    /// every byte and the checksum.
    pub fn verify(&self, seq: u64) -> Result<(), ContentError> {
        let expected_len = payload_len(seq);
        if self.payload.len() != expected_len {
            return Err(ContentError::Length {
                expected: expected_len,
                actual: self.payload.len(),
            });
        }

        for (index, &actual) in self.payload.iter().enumerate() {
            let expected = pattern_byte(seq, index);
            if actual != expected {
                return Err(ContentError::Byte {
                    index,
                    expected,
                    actual,
                });
            }
        }

        let expected = checksum(seq, &self.payload);
        if self.checksum != expected {
            return Err(ContentError::Checksum {
                expected,
                actual: self.checksum,
            });
        }
        Ok(())
    }
}

/// A difference between a chunk's contents and the pattern of its sequence
/// number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentError {
    /// The payload has the wrong number of bytes.
    Length { expected: usize, actual: usize },
    /// A payload byte differs from the pattern.
    Byte {
        index: usize,
        expected: u8,
        actual: u8,
    },
    /// The stored checksum does not match the payload.
    Checksum { expected: u32, actual: u32 },
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Length { expected, actual } => {
                write!(f, "payload length {actual}, expected {expected}")
            }
            Self::Byte {
                index,
                expected,
                actual,
            } => write!(
                f,
                "payload byte {index} is {actual:#04x}, expected {expected:#04x}"
            ),
            Self::Checksum { expected, actual } => {
                write!(f, "checksum {actual:#010x}, expected {expected:#010x}")
            }
        }
    }
}

/// Returns the payload length for `seq`: 1 to [`MAX_PAYLOAD`] bytes, so
/// consecutive chunks differ in length as well as in contents.
fn payload_len(seq: u64) -> usize {
    1 + (seq % MAX_PAYLOAD as u64) as usize
}

/// Returns byte `index` of the pattern for `seq`. Each byte depends on both
/// values, so a chunk filled for another sequence number, or with its bytes
/// shifted, fails [`Chunk::verify`].
fn pattern_byte(seq: u64, index: usize) -> u8 {
    let folded_seq = (seq as u32) ^ ((seq >> 32) as u32);
    let mixed = folded_seq
        .wrapping_mul(0x9E37_79B9)
        .wrapping_add(index as u32)
        .wrapping_mul(0x85EB_CA6B);
    (mixed >> 24) as u8
}

/// Returns the FNV-1a hash of `seq` (8 bytes, little-endian) followed by
/// `payload`.
fn checksum(seq: u64, payload: &[u8]) -> u32 {
    seq.to_le_bytes()
        .iter()
        .chain(payload)
        .fold(FNV_OFFSET_BASIS, |hash, &byte| {
            (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
        })
}
