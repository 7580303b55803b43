//! Reads the medians that criterion saved under its output directory.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde_json::Value;

/// One benchmark's result from criterion's latest run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// Median time of one iteration in nanoseconds.
    pub median_ns: f64,
    /// Median absolute deviation of the iteration times in nanoseconds.
    pub mad_ns: f64,
    /// Elements or bytes processed by one iteration, if the benchmark set a
    /// throughput.
    pub per_iteration: Option<u64>,
}

impl Measured {
    /// Returns elements (or bytes) per second, if a throughput was set.
    pub fn per_second(&self) -> Option<f64> {
        self.per_iteration
            .map(|count| count as f64 / (self.median_ns * 1e-9))
    }

    /// Returns the median time per element (or byte) in nanoseconds, or per
    /// iteration if no throughput was set.
    pub fn ns_per_element(&self) -> f64 {
        self.median_ns / self.per_iteration.unwrap_or(1) as f64
    }
}

/// Criterion results keyed by full id, such as `handoff/bp_low16/1`.
#[derive(Clone, Debug, Default)]
pub struct Results(BTreeMap<String, Measured>);

impl Results {
    /// Reads every benchmark under `dir` (criterion's output directory,
    /// `target/criterion` by default). A missing directory gives no results.
    ///
    /// # Errors
    ///
    /// An error reading the directory tree, or a result file that is not
    /// the JSON criterion writes.
    pub fn read(dir: &Path) -> io::Result<Self> {
        let mut results = Self::default();
        if dir.is_dir() {
            results.read_tree(dir)?;
        }
        Ok(results)
    }

    /// Builds results from (full id, result) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Measured)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// Returns the result of `group/function/value`, or of `group/function`
    /// for an empty `value`.
    pub fn get(&self, group: &str, function: &str, value: &str) -> Option<Measured> {
        let id = if value.is_empty() {
            format!("{group}/{function}")
        } else {
            format!("{group}/{function}/{value}")
        };
        self.0.get(&id).copied()
    }

    /// Returns whether any result belongs to `group`.
    pub fn has_group(&self, group: &str) -> bool {
        let prefix = format!("{group}/");
        self.0.keys().any(|id| id.starts_with(&prefix))
    }

    fn read_tree(&mut self, dir: &Path) -> io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            // Criterion keeps the latest run in `new` and older ones in `base`.
            if path.file_name().is_some_and(|name| name == "new") {
                if let Some((id, measured)) = read_benchmark(&path)? {
                    self.0.insert(id, measured);
                }
            } else {
                self.read_tree(&path)?;
            }
        }
        Ok(())
    }
}

fn invalid(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

fn read_json(path: &Path) -> io::Result<Value> {
    let text = fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|error| invalid(path, &error.to_string()))
}

/// Reads `benchmark.json` and `estimates.json` from a `new` directory.
fn read_benchmark(dir: &Path) -> io::Result<Option<(String, Measured)>> {
    let benchmark_path = dir.join("benchmark.json");
    let estimates_path = dir.join("estimates.json");
    if !benchmark_path.is_file() || !estimates_path.is_file() {
        return Ok(None);
    }
    let benchmark = read_json(&benchmark_path)?;
    let estimates = read_json(&estimates_path)?;

    let id = benchmark["full_id"]
        .as_str()
        .ok_or_else(|| invalid(&benchmark_path, "no full_id"))?
        .to_owned();
    let point = |statistic: &str| {
        estimates[statistic]["point_estimate"]
            .as_f64()
            .ok_or_else(|| invalid(&estimates_path, &format!("no {statistic} estimate")))
    };
    // Throughput is stored as an object with one key, such as {"Elements": 32}.
    let per_iteration = benchmark["throughput"]
        .as_object()
        .and_then(|throughput| throughput.values().next())
        .and_then(Value::as_u64);

    let measured = Measured {
        median_ns: point("median")?,
        mad_ns: point("median_abs_dev")?,
        per_iteration,
    };
    Ok(Some((id, measured)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_finds_nested_new_results() {
        let root = std::env::temp_dir().join(format!("bp-bench-criterion-{}", std::process::id()));
        let new = root.join("handoff/bp_low16/1/new");
        fs::create_dir_all(&new).unwrap();
        fs::create_dir_all(root.join("handoff/bp_low16/1/base")).unwrap();
        fs::write(
            new.join("benchmark.json"),
            r#"{"group_id":"handoff","function_id":"bp_low16","value_str":"1",
               "throughput":{"Elements":1000},"full_id":"handoff/bp_low16/1",
               "directory_name":"handoff/bp_low16/1","title":"handoff/bp_low16/1"}"#,
        )
        .unwrap();
        fs::write(
            new.join("estimates.json"),
            r#"{"median":{"point_estimate":2000000.0},
               "median_abs_dev":{"point_estimate":1000.0}}"#,
        )
        .unwrap();

        let results = Results::read(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();

        let measured = results.get("handoff", "bp_low16", "1").unwrap();
        assert_eq!(measured.median_ns, 2_000_000.0);
        assert_eq!(measured.per_iteration, Some(1000));
        assert_eq!(measured.ns_per_element(), 2000.0);
        assert!(results.has_group("handoff"));
        assert!(!results.has_group("hand"));
    }

    #[test]
    fn read_of_missing_directory_is_empty() {
        let results = Results::read(Path::new("/nonexistent/bp-bench")).unwrap();

        assert!(!results.has_group("handoff"));
    }
}
