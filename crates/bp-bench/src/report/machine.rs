//! The machine, toolchain and crate versions that a report records.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Crates whose versions the report lists, as resolved in `Cargo.lock`.
pub const LISTED_CRATES: &[&str] = &[
    "bp-std",
    "crossbeam-channel",
    "thingbuf",
    "flume",
    "tokio",
    "crc32fast",
    "criterion",
];

/// Machine, toolchain and crate versions of a report.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// CPUs available to this process.
    pub cpus: usize,
    /// Total memory, such as `23.4 GiB`.
    pub memory: String,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version` output.
    pub rustc: String,
    /// UTC date and time of the report, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// `/proc/loadavg` (1, 5 and 15 minutes) when the report was written.
    pub load_average: Vec<f64>,
    /// (crate, version) for each of [`LISTED_CRATES`] found in `Cargo.lock`.
    pub versions: Vec<(String, String)>,
}

impl Environment {
    /// Reads the environment of this process; `lock` is the workspace's
    /// `Cargo.lock`. Anything unreadable is recorded as `unknown`.
    pub fn gather(lock: &Path) -> Self {
        let unknown = || "unknown".to_owned();
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let lock_text = fs::read_to_string(lock).unwrap_or_default();

        Self {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(unknown),
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            memory: memory_total(&meminfo).unwrap_or_else(unknown),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|text| text.trim().to_owned())
                .unwrap_or_else(|_| unknown()),
            rustc: Command::new("rustc")
                .arg("--version")
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
                .unwrap_or_else(unknown),
            date: utc_date_time(SystemTime::now()),
            load_average: load_average(),
            versions: LISTED_CRATES
                .iter()
                .filter_map(|name| {
                    lock_version(&lock_text, name).map(|version| (name.to_string(), version))
                })
                .collect(),
        }
    }
}

/// Returns `/proc/loadavg`'s 1, 5 and 15 minute averages, or nothing if it
/// cannot be read.
pub fn load_average() -> Vec<f64> {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|field| field.parse().ok())
        .collect()
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

fn memory_total(meminfo: &str) -> Option<String> {
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
}

/// Returns the version of package `name` in a `Cargo.lock` text; the first
/// one if several versions are locked.
pub fn lock_version(lock: &str, name: &str) -> Option<String> {
    let name_line = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_owned());
        }
    }
    None
}

/// Formats `time` as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_date_time(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let minute_of_day = (seconds % 86_400) / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// Converts days since 1970-01-01 to a Gregorian (year, month, day),
/// walking forward a year and then a month at a time.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let is_leap = |year: i64| (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let mut year = 1970;
    let mut rest = days;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if rest < length {
            break;
        }
        rest -= length;
        year += 1;
    }

    let february = if is_leap(year) { 29 } else { 28 };
    let month_lengths = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 1;
    for length in month_lengths {
        if rest < length {
            break;
        }
        rest -= length;
        month += 1;
    }
    (year, month, rest as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_date_time_formats_known_instants() {
        assert_eq!(utc_date_time(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        // 2000-02-29 12:34 UTC, a leap day.
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_827_640);
        assert_eq!(utc_date_time(leap_day), "2000-02-29 12:34 UTC");
        // 2024-12-31 23:59 UTC.
        let new_year_eve = UNIX_EPOCH + Duration::from_secs(1_735_689_540);
        assert_eq!(utc_date_time(new_year_eve), "2024-12-31 23:59 UTC");
    }

    #[test]
    fn lock_version_reads_package_entry() {
        let lock = "\
[[package]]
name = \"flume\"
version = \"0.12.0\"

[[package]]
name = \"tokio\"
version = \"1.54.1\"
";
        assert_eq!(lock_version(lock, "tokio").as_deref(), Some("1.54.1"));
        assert_eq!(lock_version(lock, "flume").as_deref(), Some("0.12.0"));
        assert_eq!(lock_version(lock, "thingbuf"), None);
    }

    #[test]
    fn cpu_model_and_memory_parse_proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\n";
        let meminfo = "MemTotal:       24576000 kB\nMemFree: 1 kB\n";

        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("Example CPU @ 2.00GHz"));
        assert_eq!(memory_total(meminfo).as_deref(), Some("23.4 GiB"));
    }
}
