//! `bp cksum`: CRC-32 of each input, chunk by chunk in the worker pool.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use bp_std::pipeline::{Chunk, Pipeline, Report};
use crc32fast::Hasher;

use crate::{
    args::CksumArgs,
    error::{io_reason, CliError},
    input,
    progress::Progress,
    settings, stats,
};

/// Runs `bp cksum`. Every input is attempted: an input that fails gets its
/// error line in place of its output line, and the command fails after the
/// last input.
pub fn run(args: &CksumArgs) -> Result<(), CliError> {
    let pipeline = settings::build_pipeline(&args.pipeline, 0)?;
    let stdin = [PathBuf::from("-")];
    let files = if args.files.is_empty() {
        &stdin[..]
    } else {
        &args.files[..]
    };

    let mut failed = false;
    for path in files {
        let outcome = checksum(&pipeline, path).and_then(|checked| {
            print_line(&checked.line)?;
            if args.pipeline.stats {
                stats::print(&checked.name, &checked.report);
            }
            Ok(())
        });
        if let Err(error) = outcome {
            crate::print_error(&error);
            failed = true;
        }
    }

    if failed {
        Err(CliError::reported())
    } else {
        Ok(())
    }
}

/// The outcome for one input.
struct Checked {
    /// The output line, without its newline.
    line: String,
    name: String,
    report: Report,
}

/// Computes the CRC-32 of one input.
fn checksum(pipeline: &Pipeline, path: &Path) -> Result<Checked, CliError> {
    let input = input::open(path)?;
    let progress = Progress::start(&input);

    let make_worker = |_index| {
        |chunk: &mut Chunk| {
            let mut crc = Hasher::new();
            crc.update(chunk.data());
            Ok((crc, chunk.len()))
        }
    };
    let fold = |crc: &mut Hasher, (chunk_crc, len): (Hasher, usize)| {
        // CRC-32 combination depends on order; the pipeline is ordered.
        crc.combine(&chunk_crc);
        progress.advance(len);
        Ok(())
    };
    let finished = pipeline
        .run(input.reader, make_worker, Hasher::new(), fold)
        .map_err(|error| CliError::from_pipeline(error, &input.name))?;

    progress.finish();
    let crc = finished.value.finalize();
    let line = format!("{crc:08x}  {}  {}", finished.report.bytes, input.name);
    Ok(Checked {
        line,
        name: input.name,
        report: finished.report,
    })
}

fn print_line(line: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(|error| {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CliError::failed("writing standard output failed: the reading end of the pipe was closed; read the whole output")
        } else {
            CliError::failed(format!("writing standard output failed: {}", io_reason(&error)))
        }
    })
}
