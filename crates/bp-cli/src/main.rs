//! `bp`: checksum and compress files through a bounded, backpressured reader
//! pipeline.

mod args;
mod cksum;
mod error;
mod gzip;
mod input;
mod output;
mod progress;
mod settings;
mod signal_cleanup;
mod size;
mod stats;

use std::{io::Write, process::ExitCode};

use clap::Parser;

use crate::{
    args::{Cli, Command},
    error::CliError,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Cksum(args) => cksum::run(args),
        Command::Gzip(args) => gzip::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error);
            ExitCode::from(error.status())
        }
    }
}

/// Prints `error` as one line on standard error, unless it was printed
/// already.
fn print_error(error: &CliError) {
    if let Some(message) = error.message() {
        // Nothing is left to report to if standard error itself fails.
        let _ = writeln!(std::io::stderr().lock(), "bp: error: {message}");
    }
}
