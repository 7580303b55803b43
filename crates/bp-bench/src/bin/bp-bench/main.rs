//! `bp-bench counts` measures the figures that are counted rather than
//! timed; `bp-bench report` writes `BENCHMARKS.md` and its plot from those
//! figures and criterion's results. `cargo xtask bench` runs both after the
//! criterion benchmarks.

mod counts;
mod gzip;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bp_bench::counts::Counts;
use bp_bench::report::criterion::Results;
use bp_bench::report::machine::Environment;
use bp_bench::report::{self, plot, Inputs};

const USAGE: &str = "\
Usage:
  bp-bench counts --out FILE [--bp PATH] [--quick]
      Measure CPU time, futex calls, allocations, and bp gzip against pigz;
      write the figures to FILE as JSON. Without --bp, or if PATH is not a
      file, the bp gzip figures are recorded as pending. --quick shrinks every
      run, to check that everything works.
  bp-bench report --criterion DIR --counts FILE --lock FILE --markdown FILE
                  --plot FILE [--notes FILE] [--command TEXT]
      Write the Markdown report and the SVG plot from criterion's output
      directory DIR and the counts FILE. The plot is linked from the report by
      its path relative to the report's directory; --notes appends a Markdown
      file as the notes on missed targets.
";

/// Exit code for an invalid command line.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("counts") => parse_options(&args[1..]).and_then(|options| run_counts(&options)),
        Some("report") => parse_options(&args[1..]).and_then(|options| run_report(&options)),
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(Failure::Usage(
            "expected a command: counts or report".to_owned(),
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Run(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Run(String),
}

/// `--name value` pairs and `--flag`s of one command.
#[derive(Debug, Default)]
struct Options {
    values: Vec<(String, String)>,
    quick: bool,
}

impl Options {
    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn path(&self, name: &str) -> Result<PathBuf, Failure> {
        self.get(name)
            .map(PathBuf::from)
            .ok_or_else(|| Failure::Usage(format!("missing --{name}")))
    }
}

fn parse_options(args: &[String]) -> Result<Options, Failure> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(name) = arg.strip_prefix("--") else {
            return Err(Failure::Usage(format!("unexpected argument `{arg}`")));
        };
        if name == "quick" {
            options.quick = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| Failure::Usage(format!("--{name} needs a value")))?;
        options.values.push((name.to_owned(), value.clone()));
    }
    Ok(options)
}

/// Creates the directory that `path` is in, if it has one.
fn create_parent(path: &Path) -> Result<(), Failure> {
    match path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        Some(parent) => fs::create_dir_all(parent).map_err(|error| {
            Failure::Run(format!("could not create {}: {error}", parent.display()))
        }),
        None => Ok(()),
    }
}

fn write_file(path: &Path, contents: &str) -> Result<(), Failure> {
    create_parent(path)?;
    fs::write(path, contents)
        .map_err(|error| Failure::Run(format!("could not write {}: {error}", path.display())))
}

fn run_counts(options: &Options) -> Result<(), Failure> {
    let out = options.path("out")?;
    let bp = options.get("bp").map(PathBuf::from);
    let quick =
        options.quick || std::env::var_os("BP_BENCH_QUICK").is_some_and(|value| value != "0");
    let counts = counts::measure(bp.as_deref(), quick);
    let json = serde_json::to_string_pretty(&counts).expect("counts serialize");
    write_file(&out, &json)?;
    eprintln!("bp-bench: wrote {}", out.display());
    Ok(())
}

fn run_report(options: &Options) -> Result<(), Failure> {
    let criterion_dir = options.path("criterion")?;
    let counts_path = options.path("counts")?;
    let lock = options.path("lock")?;
    let markdown = options.path("markdown")?;
    let plot_path = options.path("plot")?;
    let command = options.get("command").unwrap_or("cargo xtask bench");

    let results = Results::read(&criterion_dir).map_err(|error| {
        Failure::Run(format!(
            "could not read criterion results in {}: {error}",
            criterion_dir.display()
        ))
    })?;
    let counts: Result<Counts, String> = fs::read_to_string(&counts_path)
        .map_err(|error| error.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()))
        .map_err(|error| format!("no counted figures ({}: {error})", counts_path.display()));
    let notes =
        match options.get("notes") {
            Some(path) => Some(fs::read_to_string(path).map_err(|error| {
                Failure::Run(format!("could not read the notes {path}: {error}"))
            })?),
            None => None,
        };
    let environment = Environment::gather(&lock);

    let markdown_dir = markdown.parent().unwrap_or(Path::new(""));
    let plot_link = relative_link(markdown_dir, &plot_path);
    let inputs = Inputs {
        results: &results,
        counts: counts.as_ref().map_err(String::as_str),
        environment: &environment,
        command,
        plot_link: &plot_link,
        notes: notes.as_deref(),
    };

    let (throughput, futex) = plot::series(&inputs);
    create_parent(&plot_path)?;
    plot::draw(&plot_path, &throughput, &futex).map_err(|error| {
        Failure::Run(format!("could not draw {}: {error}", plot_path.display()))
    })?;
    write_file(&markdown, &report::render(&inputs))?;
    eprintln!(
        "bp-bench: wrote {} and {}",
        markdown.display(),
        plot_path.display()
    );
    Ok(())
}

/// Returns the link from a file in `from_dir` to `target`: the path of
/// `target` without the `from_dir` prefix when it has one, else as given.
fn relative_link(from_dir: &Path, target: &Path) -> String {
    target
        .strip_prefix(from_dir)
        .unwrap_or(target)
        .to_string_lossy()
        .into_owned()
}
