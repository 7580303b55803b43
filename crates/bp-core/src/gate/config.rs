//! Validated water marks of a gate.

use core::fmt;

use crate::word::COUNT_MASK;

/// Largest `high` water mark a gate accepts: the largest value of the count field
/// of its state word.
pub const MAX_HIGH: u32 = COUNT_MASK;

/// Water marks of a [`Gate`](super::Gate), checked so that `low < high <= MAX_HIGH`.
///
/// A producer blocks when `high` units are in flight and, once blocked, resumes
/// only when the count has fallen to `low` or below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GateConfig {
    low: u32,
    high: u32,
}

impl GateConfig {
    /// Checks the marks: `low < high <= MAX_HIGH`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::LowNotBelowHigh`] when `low >= high` (this includes
    /// `high == 0`), [`ConfigError::HighTooLarge`] when `high > MAX_HIGH`.
    pub const fn new(low: u32, high: u32) -> Result<Self, ConfigError> {
        if high > MAX_HIGH {
            return Err(ConfigError::HighTooLarge {
                high,
                max: MAX_HIGH,
            });
        }
        if low >= high {
            return Err(ConfigError::LowNotBelowHigh { low, high });
        }
        Ok(Self { low, high })
    }

    /// Builds the marks at compile time; invalid marks fail the build.
    ///
    /// ```
    /// use bp_core::GateConfig;
    /// const MARKS: GateConfig = GateConfig::new_const::<2, 8>();
    /// assert_eq!((MARKS.low(), MARKS.high()), (2, 8));
    /// ```
    ///
    /// ```compile_fail
    /// use bp_core::GateConfig;
    /// const MARKS: GateConfig = GateConfig::new_const::<8, 8>();
    /// ```
    pub const fn new_const<const LOW: u32, const HIGH: u32>() -> Self {
        const {
            assert!(LOW < HIGH, "the low water mark must be below the high one");
            assert!(HIGH <= MAX_HIGH, "the high water mark exceeds MAX_HIGH");
        }
        Self {
            low: LOW,
            high: HIGH,
        }
    }

    /// The count at or below which a blocked producer resumes.
    pub const fn low(&self) -> u32 {
        self.low
    }

    /// The count at which producers block.
    pub const fn high(&self) -> u32 {
        self.high
    }
}

/// Water marks rejected by [`GateConfig::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `low >= high`, so a blocked producer could never be woken by hysteresis.
    LowNotBelowHigh {
        /// The rejected low water mark.
        low: u32,
        /// The rejected high water mark.
        high: u32,
    },
    /// `high` does not fit the count field of the state word.
    HighTooLarge {
        /// The rejected high water mark.
        high: u32,
        /// The largest accepted high water mark.
        max: u32,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::LowNotBelowHigh { low, high } => write!(
                f,
                "invalid water marks: low ({low}) must be below high ({high}); lower low or raise high"
            ),
            Self::HighTooLarge { high, max } => {
                write!(f, "invalid high water mark {high}: the maximum is {max}")
            }
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_edges() {
        assert!(GateConfig::new(0, 1).is_ok());
        assert!(GateConfig::new(3, 4).is_ok());
        assert!(GateConfig::new(0, MAX_HIGH).is_ok());
        assert!(GateConfig::new(MAX_HIGH - 1, MAX_HIGH).is_ok());
    }

    #[test]
    fn rejects_low_at_or_above_high() {
        assert_eq!(
            GateConfig::new(4, 4),
            Err(ConfigError::LowNotBelowHigh { low: 4, high: 4 })
        );
        assert_eq!(
            GateConfig::new(5, 4),
            Err(ConfigError::LowNotBelowHigh { low: 5, high: 4 })
        );
        assert_eq!(
            GateConfig::new(0, 0),
            Err(ConfigError::LowNotBelowHigh { low: 0, high: 0 })
        );
    }

    #[test]
    fn rejects_high_above_max() {
        assert_eq!(
            GateConfig::new(0, MAX_HIGH + 1),
            Err(ConfigError::HighTooLarge {
                high: MAX_HIGH + 1,
                max: MAX_HIGH
            })
        );
    }
}
