//! End-to-end tests of the `bp` binary on generated files.

use std::{
    fs,
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// Pipeline settings that make the small test files span many chunks and
/// fill the ring: 4 KiB chunks, 4 slots, water marks 3 and 1, 3 workers.
const SMALL: [&str; 10] = [
    "--chunk-size",
    "4K",
    "--slots",
    "4",
    "--high",
    "3",
    "--low",
    "1",
    "--workers",
    "3",
];
const CHUNK: usize = 4096;
const SLOTS: usize = 4;

/// Input sizes around the chunk and ring boundaries.
const SIZES: [usize; 6] = [
    0,
    1,
    CHUNK,
    CHUNK + 1,
    10 * CHUNK + 123,
    3 * SLOTS * CHUNK + 7,
];

fn bp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bp"))
}

/// A directory for one test's files, removed when dropped.
struct TestDir(PathBuf);

impl TestDir {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("bp-cli-{}-{test}", std::process::id()));
        // A leftover from an earlier run with the same process id may exist.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create the test directory");
        Self(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .expect("list the test directory")
            .map(|entry| {
                entry
                    .expect("read a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Deterministic test data: runs of pseudo-random bytes (xorshift64)
/// alternating with repeated text, so that compression has both kinds of
/// input to handle.
fn data(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64 ^ len as u64;
    let text = b"the quick brown fox jumps over the lazy dog; ";
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let run = 1 + (state % 3000) as usize;
        if state & 1 == 0 {
            bytes.extend((0..run).map(|i| (state >> (i % 56)) as u8 ^ i as u8));
        } else {
            bytes.extend(text.iter().cycle().take(run));
        }
    }
    bytes.truncate(len);
    bytes
}

/// Generates `chunks` chunks of `CHUNK` bytes. A compressor that keeps
/// state from one chunk to the next compresses each of them differently
/// after its predecessor than after any other chunk.
///
/// Chunk k starts with a byte `first(k)` found nowhere else, then "abc",
/// `first(k - 1)` and a long tail. Later it contains "abc", `first(k)` and
/// the tail, which chunk k + 1 repeats, and it ends in "abc". A deflate
/// compressor that hashes 4 bytes reads one byte past a chunk's dictionary
/// when it inserts the dictionary's last "abc", and a reused compressor
/// finds there the first byte of the chunk it compressed before.
fn boundary_data(chunks: usize) -> Vec<u8> {
    // Bytes 0x80 and up, which no other part of the input uses.
    let first = |index: usize| 0x80 + (index % 0x80) as u8;
    let tail = b"-the-long-tail-that-the-next-chunk-repeats-0123456789";

    let mut bytes = Vec::with_capacity(chunks * CHUNK);
    for index in 0..chunks {
        let end = bytes.len() + CHUNK;
        bytes.push(first(index));
        bytes.extend_from_slice(b"abc");
        bytes.push(first(index.wrapping_sub(1)));
        bytes.extend_from_slice(tail);
        bytes.extend(format!(" chunk {index} ").bytes().cycle().take(1000));
        bytes.extend_from_slice(b"abc");
        bytes.push(first(index));
        bytes.extend_from_slice(tail);
        bytes.resize(end - 3, b'.');
        bytes.extend_from_slice(b"abc");
    }
    bytes
}

fn run(command: &mut Command) -> Output {
    command.output().expect("start bp")
}

fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bp");
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let output = child.wait_with_output().expect("wait for bp");
    writer
        .join()
        .expect("the stdin writer does not panic")
        .expect("write bp's stdin");
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: bp failed with {}: {}",
        output.status,
        stderr(output)
    );
}

/// Checks that bp failed with exit status `status` and one error line that
/// contains every piece of `expected`.
fn assert_one_line_error(output: &Output, status: i32, expected: &[&str]) {
    let text = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(status),
        "exit status; stderr: {text}"
    );
    assert_eq!(
        text.lines().count(),
        1,
        "expected one error line, got: {text}"
    );
    assert!(!text.contains("panicked"), "bp panicked: {text}");
    for piece in expected {
        assert!(
            text.contains(piece),
            "the error line lacks '{piece}': {text}"
        );
    }
}

/// Checks a clap usage error: status 2 and a first line that names the
/// option, the value and what is wrong.
fn assert_usage_error(output: &Output, expected: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit status; stderr: {text}");
    let first = text.lines().next().unwrap_or_default();
    for piece in expected {
        assert!(
            first.contains(piece),
            "the error line lacks '{piece}': {text}"
        );
    }
}

/// The system's gzip, which the round-trip tests decompress with.
fn system_gzip() -> Command {
    let found = Command::new("gzip")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        found.is_ok_and(|status| status.success()),
        "the gzip command is missing; install it (apt-get install gzip); `cargo xtask ci` installs it"
    );
    Command::new("gzip")
}

fn gunzip_with_system(path: &Path) -> Vec<u8> {
    let test = system_gzip()
        .arg("-t")
        .arg(path)
        .output()
        .expect("run gzip -t");
    assert!(
        test.status.success(),
        "gzip -t rejects {}: {}",
        path.display(),
        stderr(&test)
    );

    let output = system_gzip()
        .arg("-d")
        .arg("-c")
        .arg(path)
        .output()
        .expect("run gzip -d");
    assert!(
        output.status.success(),
        "gzip -d fails on {}: {}",
        path.display(),
        stderr(&output)
    );
    output.stdout
}

fn gunzip_with_flate2(compressed: &[u8]) -> Vec<u8> {
    let mut decoder = flate2::read::GzDecoder::new(compressed);
    let mut bytes = Vec::new();
    decoder
        .read_to_end(&mut bytes)
        .expect("flate2 decodes bp's output");
    bytes
}

#[test]
fn cksum_matches_crc32fast() {
    let dir = TestDir::new("cksum");
    for size in SIZES {
        let path = dir.path(&format!("input-{size}"));
        let bytes = data(size);
        fs::write(&path, &bytes).expect("write the input");

        let output = run(bp().arg("cksum").args(SMALL).arg(&path));
        assert_success(&output, &format!("cksum of {size} bytes"));
        let expected = format!(
            "{:08x}  {size}  {}\n",
            crc32fast::hash(&bytes),
            path.display()
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            expected,
            "size {size}"
        );
    }
}

#[test]
fn cksum_reads_stdin() {
    let bytes = data(5 * CHUNK + 9);
    let expected = format!("{:08x}  {}  -\n", crc32fast::hash(&bytes), bytes.len());

    let output = run_with_stdin(bp().arg("cksum").args(SMALL), &bytes);
    assert_success(&output, "cksum without arguments");
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);

    let output = run_with_stdin(bp().arg("cksum").args(SMALL).arg("-"), &bytes);
    assert_success(&output, "cksum -");
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn cksum_prints_inputs_in_order() {
    let dir = TestDir::new("cksum-order");
    let first = dir.path("first");
    let second = dir.path("second");
    fs::write(&first, data(CHUNK * 3)).expect("write the input");
    fs::write(&second, b"").expect("write the input");

    let output = run(bp().arg("cksum").args(SMALL).arg(&first).arg(&second));
    assert_success(&output, "cksum of two files");
    let expected = format!(
        "{:08x}  {}  {}\n00000000  0  {}\n",
        crc32fast::hash(&data(CHUNK * 3)),
        CHUNK * 3,
        first.display(),
        second.display()
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn cksum_continues_after_bad_input() {
    let dir = TestDir::new("cksum-continue");
    let good = dir.path("good");
    fs::write(&good, b"abc").expect("write the input");
    let missing = dir.path("missing");

    let output = run(bp().arg("cksum").arg(&missing).arg(&good));
    assert_one_line_error(&output, 1, &["missing", "no such file"]);
    let expected = format!("{:08x}  3  {}\n", crc32fast::hash(b"abc"), good.display());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        expected,
        "the good input is still checked"
    );
}

#[test]
fn gzip_round_trips_through_system_gzip() {
    let dir = TestDir::new("gzip");
    for size in SIZES {
        let path = dir.path(&format!("input-{size}"));
        let compressed = dir.path(&format!("input-{size}.gz"));
        let bytes = data(size);
        fs::write(&path, &bytes).expect("write the input");

        let output = run(bp()
            .arg("gzip")
            .args(SMALL)
            .arg(&path)
            .arg("-o")
            .arg(&compressed));
        assert_success(&output, &format!("gzip of {size} bytes"));
        assert!(
            output.stdout.is_empty(),
            "size {size}: -o leaves standard output empty"
        );

        assert!(
            gunzip_with_system(&compressed) == bytes,
            "size {size}: gzip -d output differs from the input"
        );
        let gz = fs::read(&compressed).expect("read the output");
        assert!(
            gunzip_with_flate2(&gz) == bytes,
            "size {size}: flate2 output differs from the input"
        );
    }
}

#[test]
fn gzip_writes_stdout_from_stdin() {
    let dir = TestDir::new("gzip-stdout");
    let bytes = data(7 * CHUNK + 1);

    let output = run_with_stdin(bp().arg("gzip").args(SMALL), &bytes);
    assert_success(&output, "gzip of standard input");
    let compressed = dir.path("stdin.gz");
    fs::write(&compressed, &output.stdout).expect("write the output");
    assert!(
        gunzip_with_system(&compressed) == bytes,
        "gzip -d output differs from the input"
    );
}

#[test]
fn gzip_levels_round_trip() {
    let dir = TestDir::new("gzip-levels");
    let path = dir.path("input");
    let bytes = data(6 * CHUNK + 5);
    fs::write(&path, &bytes).expect("write the input");

    let mut sizes = Vec::new();
    for level in ["0", "1", "6", "9"] {
        let compressed = dir.path(&format!("level-{level}.gz"));
        let output = run(bp()
            .arg("gzip")
            .args(SMALL)
            .args(["-l", level])
            .arg(&path)
            .arg("-o")
            .arg(&compressed));
        assert_success(&output, &format!("gzip -l {level}"));
        assert!(
            gunzip_with_system(&compressed) == bytes,
            "level {level}: gzip -d output differs from the input"
        );
        sizes.push(fs::metadata(&compressed).expect("stat the output").len());
    }
    assert!(sizes[0] > bytes.len() as u64, "level 0 stores: {sizes:?}");
    assert!(sizes[3] < sizes[0] / 2, "level 9 compresses: {sizes:?}");
}

/// The compressed bytes depend only on the input, the level and the chunk
/// size: any number of workers, in any run, produces the same file.
///
/// NOTE: a compressor that keeps state between chunks makes this test fail
/// only if some run gives a chunk to a worker whose previous chunk was not
/// its predecessor, which scheduling makes likely but not certain. The unit
/// test `compressor_output_ignores_previous_chunk` checks that case directly.
#[test]
fn gzip_output_same_for_any_workers() {
    let dir = TestDir::new("gzip-workers");
    let path = dir.path("input");
    let bytes = boundary_data(40);
    fs::write(&path, &bytes).expect("write the input");
    // SMALL without its --workers option.
    let settings = &SMALL[..8];

    for level in ["1", "6"] {
        let compress = |workers: &str, name: &str| {
            let compressed = dir.path(name);
            let output = run(bp()
                .arg("gzip")
                .args(settings)
                .args(["-l", level, "--workers", workers])
                .arg(&path)
                .arg("-o")
                .arg(&compressed));
            assert_success(&output, &format!("gzip -l {level} --workers {workers}"));
            fs::read(&compressed).expect("read the output")
        };

        let expected = compress("1", "serial.gz");
        for (run_index, workers) in ["2", "3", "3", "3", "4"].into_iter().enumerate() {
            let actual = compress(workers, &format!("run-{run_index}.gz"));
            assert!(
                actual == expected,
                "level {level}, --workers {workers} (run {run_index}): the output differs from \
                 --workers 1 ({} against {} bytes)",
                actual.len(),
                expected.len()
            );
        }
    }
}

#[test]
fn gzip_rejects_bad_level() {
    let output = run(bp().args(["gzip", "-l", "10"]));
    assert_usage_error(&output, &["10", "--level"]);
}

#[test]
fn stats_report_goes_to_stderr() {
    let dir = TestDir::new("stats");
    let path = dir.path("input");
    let bytes = data(20 * CHUNK);
    fs::write(&path, &bytes).expect("write the input");

    let output = run(bp().arg("cksum").arg("--stats").args(SMALL).arg(&path));
    assert_success(&output, "cksum --stats");
    let expected = format!(
        "{:08x}  {}  {}\n",
        crc32fast::hash(&bytes),
        bytes.len(),
        path.display()
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        expected,
        "--stats leaves standard output alone"
    );

    let report = stderr(&output);
    for piece in [
        "chunks           20",
        "MiB/s",
        "peak resident",
        "high 3",
        "wake calls",
    ] {
        assert!(
            report.contains(piece),
            "the report lacks '{piece}': {report}"
        );
    }
    let peak: u32 = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("peak in flight"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no peak in-flight count in: {report}"));
    assert!(peak <= 3, "peak in flight {peak} is above --high 3");
}

#[test]
fn help_names_units() {
    let output = run(bp().args(["gzip", "--help"]));
    assert_success(&output, "gzip --help");
    let help = String::from_utf8_lossy(&output.stdout);
    for piece in [
        "--chunk-size",
        "64K",
        "--slots",
        "--high",
        "--low",
        "--workers",
        "--stats",
        "LEVEL",
    ] {
        assert!(help.contains(piece), "the help lacks '{piece}': {help}");
    }
}

#[test]
fn missing_input_is_an_error() {
    let dir = TestDir::new("missing");
    let output = run(bp().arg("cksum").arg(dir.path("nope")));
    assert_one_line_error(&output, 1, &["nope", "no such file", "check the path"]);
}

#[test]
fn directory_input_is_an_error() {
    let dir = TestDir::new("directory");
    for subcommand in ["cksum", "gzip"] {
        let output = run(bp().arg(subcommand).arg(&dir.0));
        assert_one_line_error(&output, 1, &["is a directory", "pass a file"]);
    }
}

#[test]
fn unreadable_input_is_an_error() {
    use std::os::unix::fs::PermissionsExt;

    let dir = TestDir::new("unreadable");
    let path = dir.path("secret");
    fs::write(&path, b"secret").expect("write the input");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000))
        .expect("make the input unreadable");

    let output = run(bp().arg("cksum").arg(&path));
    if fs::File::open(&path).is_ok() {
        // Running as root: permissions do not stop reading, so bp must
        // succeed like any other reader.
        assert_success(&output, "cksum of a mode 000 file as root");
    } else {
        assert_one_line_error(&output, 1, &["secret", "permission denied"]);
    }
}

#[test]
fn read_error_is_an_error() {
    // Reading this process's memory file at offset 0 fails with an I/O error
    // because address 0 is never mapped.
    let output = run(bp().args(["cksum", "/proc/self/mem"]));
    assert_one_line_error(&output, 1, &["reading '/proc/self/mem' failed at byte 0"]);
}

#[test]
fn failed_gzip_leaves_no_output() {
    let dir = TestDir::new("no-partial");
    let out = dir.path("out.gz");
    let output = run(bp().args(["gzip", "/proc/self/mem", "-o"]).arg(&out));
    assert_one_line_error(&output, 1, &["reading '/proc/self/mem' failed"]);
    assert_eq!(
        dir.entries(),
        Vec::<String>::new(),
        "neither the output nor its temporary file remains"
    );
}

#[test]
fn gzip_replaces_output_only_when_complete() {
    let dir = TestDir::new("replace");
    let out = dir.path("out.gz");
    fs::write(&out, b"previous").expect("write the old output");

    let output = run(bp().args(["gzip", "/proc/self/mem", "-o"]).arg(&out));
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    assert_eq!(
        fs::read(&out).expect("read the old output"),
        b"previous",
        "a failed run keeps the old file"
    );

    let input = dir.path("input");
    fs::write(&input, data(3 * CHUNK)).expect("write the input");
    let output = run(bp().arg("gzip").args(SMALL).arg(&input).arg("-o").arg(&out));
    assert_success(&output, "gzip over an existing file");
    assert!(
        gunzip_with_system(&out) == data(3 * CHUNK),
        "the new output replaced the old one"
    );
    assert_eq!(
        dir.entries(),
        vec!["input", "out.gz"],
        "no temporary file remains"
    );
}

#[test]
fn missing_output_directory_is_an_error() {
    let dir = TestDir::new("no-dir");
    let input = dir.path("input");
    fs::write(&input, b"abc").expect("write the input");
    let out = dir.path("absent/out.gz");

    let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(&out));
    assert_one_line_error(&output, 1, &["absent", "does not exist", "create it"]);
    assert_eq!(dir.entries(), vec!["input"]);
}

#[test]
fn output_directory_is_an_error() {
    let dir = TestDir::new("out-dir");
    let input = dir.path("input");
    fs::write(&input, b"abc").expect("write the input");

    let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(&dir.0));
    assert_one_line_error(&output, 1, &["is a directory", "-o"]);
}

#[test]
fn too_high_high_names_high() {
    let output = run_with_stdin(bp().args(["cksum", "--high", "100000"]), b"");
    assert_usage_error(&output, &["--high 100000", "at most 65535"]);
}

#[test]
fn output_equal_to_input_is_rejected() {
    let dir = TestDir::new("out-is-in");
    let input = dir.path("input");
    fs::write(&input, b"keep me").expect("write the input");

    let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(&input));
    assert_one_line_error(&output, 2, &["is the input file", "-o"]);
    let same_file = fs::File::open(&input).expect("open the input");
    let output = run(bp().arg("gzip").arg("-o").arg(&input).stdin(same_file));
    assert_one_line_error(&output, 2, &["is the input file", "-o"]);
    assert_eq!(fs::read(&input).expect("read the input"), b"keep me");
}

#[cfg(unix)]
#[test]
fn output_linked_to_input_is_rejected() {
    let dir = TestDir::new("out-linked");
    let input = dir.path("input");
    fs::write(&input, b"keep me").expect("write the input");
    let hard = dir.path("hard");
    fs::hard_link(&input, &hard).expect("create a hard link");
    let soft = dir.path("soft");
    std::os::unix::fs::symlink(&input, &soft).expect("create a symbolic link");

    for link in [&hard, &soft] {
        let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(link));
        assert_one_line_error(&output, 2, &["is the input file", "-o"]);
    }
    assert_eq!(fs::read(&input).expect("read the input"), b"keep me");
}

#[cfg(unix)]
#[test]
fn output_through_symlink_keeps_link() {
    let dir = TestDir::new("out-symlink");
    let input = dir.path("input");
    fs::write(&input, b"abc").expect("write the input");
    let target = dir.path("target.gz");
    fs::write(&target, b"old").expect("write the old output");
    let link = dir.path("link.gz");
    std::os::unix::fs::symlink(&target, &link).expect("create a symbolic link");

    let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(&link));

    assert_success(&output, "bp gzip -o LINK");
    assert!(fs::symlink_metadata(&link)
        .expect("stat the link")
        .file_type()
        .is_symlink());
    assert_eq!(
        gunzip_with_flate2(&fs::read(&target).expect("read the target")),
        b"abc"
    );
}

#[cfg(unix)]
#[test]
fn output_fifo_is_rejected() {
    let dir = TestDir::new("out-fifo");
    let input = dir.path("input");
    fs::write(&input, b"abc").expect("write the input");
    let fifo = dir.path("fifo");
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");

    let output = run(bp().arg("gzip").arg(&input).arg("-o").arg(&fifo));

    assert_one_line_error(&output, 2, &["not a regular file", "standard output"]);
    let file_type = fs::symlink_metadata(&fifo)
        .expect("stat the fifo")
        .file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&file_type),
        "the FIFO was replaced"
    );
}

#[test]
fn closed_pipe_is_an_error() {
    let dir = TestDir::new("pipe");
    let input = dir.path("input");
    // Level 0 output is larger than the input, and 1 MiB is far more than a
    // pipe buffers, so bp is still writing when the pipe closes.
    fs::write(&input, data(1 << 20)).expect("write the input");

    let mut child = bp()
        .arg("gzip")
        .args(SMALL)
        .args(["-l", "0"])
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bp");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait for bp");

    assert_one_line_error(&output, 1, &["standard output", "pipe was closed"]);
}

#[test]
fn invalid_sizes_are_usage_errors() {
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--chunk-size", "0"],
            &["'0'", "--chunk-size", "at least 1 byte"],
        ),
        (
            &["--chunk-size", "12Q"],
            &["'12Q'", "--chunk-size", "unknown unit"],
        ),
        (
            &["--chunk-size", "lots"],
            &["'lots'", "--chunk-size", "such as 64K"],
        ),
        (
            &["--chunk-size", "2G"],
            &["'2G'", "--chunk-size", "at most 1G"],
        ),
    ];
    for (args, expected) in cases {
        let output = run(bp().arg("cksum").args(args));
        assert_usage_error(&output, expected);
    }
}

#[test]
fn invalid_water_marks_are_usage_errors() {
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--slots", "4", "--high", "3", "--low", "3"],
            &["invalid --low 3", "below --high 3", "lower --low"],
        ),
        (
            &["--slots", "4", "--high", "2", "--low", "5"],
            &["invalid --low 5", "below --high 2"],
        ),
        (
            &["--slots", "2", "--high", "3"],
            &["invalid --high 3", "--slots 2", "raise --slots"],
        ),
        (&["--slots", "0"], &["invalid --slots 0", "at least 1"]),
        (
            &["--slots", "4", "--high", "0"],
            &["invalid --high 0", "at least 1"],
        ),
        (
            &["--slots", "100000"],
            &["invalid --slots 100000", "at most"],
        ),
    ];
    let dir = TestDir::new("marks");
    let input = dir.path("input");
    fs::write(&input, b"abc").expect("write the input");

    for (args, expected) in cases {
        for subcommand in ["cksum", "gzip"] {
            let output = run(bp().arg(subcommand).args(args).arg(&input));
            assert_one_line_error(&output, 2, expected);
        }
    }
    assert_eq!(dir.entries(), vec!["input"], "no output was created");
}

#[test]
fn zero_workers_is_a_usage_error() {
    let output = run(bp().args(["cksum", "--workers", "0"]));
    assert_usage_error(&output, &["'0'", "--workers"]);
}

/// `bp gzip -o` killed by a signal while it reads a standard input that
/// stays open, so its temporary file exists when the signal arrives.
#[cfg(unix)]
mod signals {
    use std::{
        io,
        os::unix::process::{CommandExt, ExitStatusExt},
        process::{Child, ExitStatus},
        thread,
        time::{Duration, Instant},
    };

    use libc::c_int;

    use super::*;

    /// How long bp may take to create its temporary file, or to exit after
    /// a signal, before the test fails. Either normally takes milliseconds.
    const WATCHDOG: Duration = Duration::from_secs(30);

    /// Interval between two looks at the directory or at the child.
    const POLL_INTERVAL: Duration = Duration::from_millis(5);

    /// Starts `bp gzip -o out.gz` in `dir` with standard input piped. SIGINT,
    /// SIGTERM and SIGHUP start with their default action, except `ignored`,
    /// which starts ignored (as `nohup` leaves SIGHUP), whatever this test
    /// process inherited.
    fn start_gzip(dir: &TestDir, ignored: Option<c_int>) -> Child {
        let mut command = bp();
        command
            .arg("gzip")
            .arg("-o")
            .arg(dir.path("out.gz"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: the closure runs in the forked child before exec and calls
        // only signal(), which is async-signal-safe, and last_os_error(),
        // which reads errno and does not allocate.
        unsafe {
            command.pre_exec(move || {
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    let action = if ignored == Some(signal) {
                        libc::SIG_IGN
                    } else {
                        libc::SIG_DFL
                    };
                    if libc::signal(signal, action) == libc::SIG_ERR {
                        return Err(io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        command.spawn().expect("start bp")
    }

    fn child_stderr(child: &mut Child) -> String {
        let mut text = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }

    /// Polls `dir` until bp's hidden temporary file for out.gz appears, and
    /// returns its name.
    fn wait_for_temp_file(dir: &TestDir, child: &mut Child) -> String {
        let deadline = Instant::now() + WATCHDOG;
        loop {
            let entries = dir.entries();
            if let Some(name) = entries
                .iter()
                .find(|name| name.starts_with(".out.gz.bp-") && name.ends_with(".tmp"))
            {
                return name.clone();
            }
            if let Some(status) = child.try_wait().expect("poll bp") {
                panic!(
                    "bp exited with {status} before creating its temporary file; stderr: {}",
                    child_stderr(child)
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("bp created no temporary file within {WATCHDOG:?}; directory: {entries:?}");
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits for bp to exit, and kills it and fails if it is still running
    /// after `WATCHDOG`.
    fn wait_for_exit(child: &mut Child) -> ExitStatus {
        let deadline = Instant::now() + WATCHDOG;
        loop {
            if let Some(status) = child.try_wait().expect("poll bp") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("bp was still running {WATCHDOG:?} after the signal");
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    fn send_signal(child: &Child, signal: c_int) {
        let pid = libc::pid_t::try_from(child.id()).expect("a process id fits in pid_t");
        // SAFETY: kill() takes only integers. The child has not been waited
        // for, so `pid` still names it and not a reused process id.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            result,
            0,
            "kill({pid}, {signal}) failed: {}",
            io::Error::last_os_error()
        );
    }

    /// Kills bp with `signal` while it writes out.gz, then checks that it
    /// died by that signal and left no file behind.
    fn check_signal_removes_temp_file(test: &str, signal: c_int) {
        let dir = TestDir::new(test);
        let mut child = start_gzip(&dir, None);
        // Held open until bp exits, so that bp is blocked reading, not done.
        let stdin = child.stdin.take().expect("piped stdin");
        wait_for_temp_file(&dir, &mut child);

        send_signal(&child, signal);
        let status = wait_for_exit(&mut child);
        drop(stdin);

        assert_eq!(
            status.signal(),
            Some(signal),
            "bp dies by the signal it received, not with an exit status; got {status}, stderr: {}",
            child_stderr(&mut child)
        );
        assert_eq!(
            dir.entries(),
            Vec::<String>::new(),
            "neither out.gz nor the temporary file remains"
        );
    }

    #[test]
    fn sigterm_removes_temp_file() {
        check_signal_removes_temp_file("sigterm", libc::SIGTERM);
    }

    #[test]
    fn sigint_removes_temp_file() {
        check_signal_removes_temp_file("sigint", libc::SIGINT);
    }

    #[test]
    fn sighup_removes_temp_file() {
        check_signal_removes_temp_file("sighup", libc::SIGHUP);
    }

    #[test]
    fn ignored_sighup_stays_ignored() {
        let dir = TestDir::new("sighup-ignored");
        let mut child = start_gzip(&dir, Some(libc::SIGHUP));
        let mut stdin = child.stdin.take().expect("piped stdin");
        wait_for_temp_file(&dir, &mut child);

        send_signal(&child, libc::SIGHUP);
        stdin.write_all(b"abc").expect("write bp's stdin");
        drop(stdin);
        let status = wait_for_exit(&mut child);

        assert!(
            status.success(),
            "bp ignores SIGHUP when it started ignored; got {status}, stderr: {}",
            child_stderr(&mut child)
        );
        assert_eq!(dir.entries(), vec!["out.gz"], "only the output remains");
        let compressed = fs::read(dir.path("out.gz")).expect("read out.gz");
        assert_eq!(gunzip_with_flate2(&compressed), b"abc");
    }
}
