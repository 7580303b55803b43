//! `bp gzip` on generated files: peak resident memory against input size,
//! and throughput and output size against `pigz`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use bp_bench::counts::{GzipComparison, GzipRun, RssRecord};
use bp_bench::input;
use bp_bench::rusage;

/// Compression level of every run.
const LEVEL: u32 = 6;

/// Compression threads of both tools.
const THREADS: usize = 2;

/// Input sizes of the resident memory runs.
const RSS_SIZES: [u64; 3] = [16 << 20, 256 << 20, 1 << 30];

/// Input size of the comparison with pigz.
const COMPARISON_SIZE: u64 = 256 << 20;

/// Runs of each tool in the comparison.
const COMPARISON_RUNS: usize = 5;

/// Seed of the generated input.
const INPUT_SEED: u64 = 0x6219;

/// A directory removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, String> {
        let path = std::env::temp_dir().join(format!("bp-bench-gzip-{}", std::process::id()));
        fs::create_dir_all(&path)
            .map_err(|error| format!("could not create {}: {error}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(error) = fs::remove_dir_all(&self.0) {
            eprintln!("bp-bench: could not remove {}: {error}", self.0.display());
        }
    }
}

/// Measures both figures with the `bp` binary at `bp`.
pub fn measure(
    bp: &Path,
    quick: bool,
) -> (
    Result<Vec<RssRecord>, String>,
    Result<GzipComparison, String>,
) {
    let dir = match TempDir::new() {
        Ok(dir) => dir,
        Err(reason) => return (Err(reason.clone()), Err(reason)),
    };
    let sizes: Vec<u64> = if quick {
        vec![16 << 20, 64 << 20]
    } else {
        RSS_SIZES.to_vec()
    };
    let comparison_size = if quick { 64 << 20 } else { COMPARISON_SIZE };

    let mut rss = Ok(Vec::new());
    let mut comparison = Err(format!(
        "no input of {} MiB was generated",
        comparison_size >> 20
    ));
    for size in sizes {
        let input = dir.0.join(format!("input-{}M", size >> 20));
        eprintln!("bp-bench: generating {} MiB of mixed input", size >> 20);
        if let Err(error) = input::write_mixed_file(&input, size, INPUT_SEED) {
            let reason = format!("could not write {}: {error}", input.display());
            return (Err(reason.clone()), Err(reason));
        }

        if let Ok(records) = &mut rss {
            eprintln!("bp-bench: peak memory of bp gzip on {} MiB", size >> 20);
            match measure_rss(bp, &input, size) {
                Ok(record) => records.push(record),
                Err(reason) => rss = Err(reason),
            }
        }
        if size == comparison_size {
            comparison = compare_with_pigz(bp, &input, size, &dir.0, quick);
        }
        // Free the disk space before the next, larger input.
        let _ = fs::remove_file(&input);
    }
    (rss, comparison)
}

fn bp_command(bp: &Path, input: &Path) -> Command {
    let mut command = Command::new(bp);
    command
        .args([
            "gzip",
            "-l",
            &LEVEL.to_string(),
            "--workers",
            &THREADS.to_string(),
        ])
        .arg(input)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

fn pigz_command(input: &Path) -> Command {
    let mut command = Command::new("pigz");
    command
        .args([
            format!("-{LEVEL}"),
            "-p".to_owned(),
            THREADS.to_string(),
            "-c".to_owned(),
        ])
        .arg(input)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

fn measure_rss(bp: &Path, input: &Path, size: u64) -> Result<RssRecord, String> {
    let start = Instant::now();
    let child = bp_command(bp, input)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|error| format!("could not start {}: {error}", bp.display()))?;
    let (status, usage) = rusage::wait_with_usage(child)
        .map_err(|error| format!("could not wait for bp gzip: {error}"))?;
    if !status.success() {
        return Err(format!("bp gzip failed on {} MiB ({status})", size >> 20));
    }
    Ok(RssRecord {
        input_bytes: size,
        max_rss_kib: usage.max_rss_kib,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Runs `command` with its standard output written to `output`, and
/// returns the time it took and the output size.
fn timed_run(mut command: Command, output: &Path, tool: &str) -> Result<GzipRun, String> {
    let file = File::create(output)
        .map_err(|error| format!("could not create {}: {error}", output.display()))?;
    let start = Instant::now();
    let status = command
        .stdout(file)
        .status()
        .map_err(|error| format!("could not start {tool}: {error}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("{tool} failed ({status})"));
    }
    let output_bytes = fs::metadata(output)
        .map_err(|error| format!("could not read {}: {error}", output.display()))?
        .len();
    Ok(GzipRun {
        seconds,
        output_bytes,
    })
}

fn compare_with_pigz(
    bp: &Path,
    input: &Path,
    size: u64,
    dir: &Path,
    quick: bool,
) -> Result<GzipComparison, String> {
    let pigz_version = Command::new("pigz")
        .arg("--version")
        .output()
        .map_err(|error| format!("pigz is not installed ({error})"))?;
    let pigz_version = String::from_utf8_lossy(&pigz_version.stdout)
        .trim()
        .to_owned()
        + String::from_utf8_lossy(&pigz_version.stderr).trim();

    let output = dir.join("output.gz");
    let runs = if quick { 2 } else { COMPARISON_RUNS };
    let mut comparison = GzipComparison {
        input_bytes: size,
        level: LEVEL,
        threads: THREADS,
        pigz_version,
        bp: Vec::new(),
        pigz: Vec::new(),
    };
    for run in 1..=runs {
        eprintln!("bp-bench: bp gzip and pigz, run {run} of {runs}");
        comparison
            .bp
            .push(timed_run(bp_command(bp, input), &output, "bp gzip")?);
        if run == 1 {
            check_gzip_output(&output)?;
        }
        comparison
            .pigz
            .push(timed_run(pigz_command(input), &output, "pigz")?);
    }
    let _ = fs::remove_file(&output);
    Ok(comparison)
}

/// Checks with `gzip -t` that `bp gzip`'s output is valid, CRC and length
/// included.
fn check_gzip_output(output: &Path) -> Result<(), String> {
    let status = Command::new("gzip")
        .arg("-t")
        .arg(output)
        .stdin(Stdio::null())
        .status()
        .map_err(|error| format!("could not run gzip -t: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("gzip -t rejected the output of bp gzip ({status})"))
    }
}
