//! Byte sizes with binary unit suffixes, as given on the command line.

/// Largest accepted size: 1 GiB per chunk is far beyond any useful setting
/// and keeps `slots * chunk_size` well inside the address space.
pub const MAX_SIZE: u64 = 1 << 30;

/// Parses a byte count such as `65536`, `64K`, `64KiB`, `1M` or `1G`.
///
/// Suffixes are powers of 1024 and case-insensitive: `K`, `KB` and `KiB`
/// all mean 1024 bytes, and likewise for `M` and `G`. A bare number or a `B`
/// suffix counts bytes. The result is at least 1 and at most [`MAX_SIZE`].
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!("'{text}' does not start with a number; use a byte count with an optional K, M or G suffix, such as 64K or 1MiB"));
    }

    let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!("unknown unit '{}' in '{text}'; use K, M or G (powers of 1024), such as 64K or 1MiB", unit.trim_start()));
        }
    };

    let too_large = || format!("'{text}' is too large; use at most 1G");
    let count: u64 = digits.parse().map_err(|_| too_large())?;
    let bytes = count.checked_mul(multiplier).ok_or_else(too_large)?;
    if bytes == 0 {
        return Err(format!("'{text}' is 0 bytes; use at least 1 byte"));
    }
    if bytes > MAX_SIZE {
        return Err(too_large());
    }
    usize::try_from(bytes).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn parse_size_accepts_units() {
        let cases = [
            ("1", 1),
            ("4096", 4096),
            ("512B", 512),
            ("64K", 64 << 10),
            ("64k", 64 << 10),
            ("64KB", 64 << 10),
            ("64KiB", 64 << 10),
            ("1M", 1 << 20),
            ("1MiB", 1 << 20),
            ("2 mib", 2 << 20),
            ("1G", 1 << 30),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn parse_size_rejects_bad_values() {
        for text in [
            "",
            "K",
            "-1",
            "1.5M",
            "12Q",
            "1T",
            "0",
            "0K",
            "2G",
            "99999999999999999999999",
        ] {
            assert!(parse_size(text).is_err(), "'{text}' was accepted");
        }
    }
}
