//! A progress bar on standard error, shown only when it is a terminal.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::Input;

/// Progress of one input; does nothing when standard error is not a
/// terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts a bar for `input`: a bar with an estimate when its size is
    /// known, a byte counter otherwise.
    pub fn start(input: &Input) -> Self {
        if !io::stderr().is_terminal() {
            return Self { bar: None };
        }

        let bar = match input.size {
            Some(size) => ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                    )
                    .expect("the template is valid")
                    .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{msg} {spinner} {bytes} {binary_bytes_per_sec}")
                    .expect("the template is valid"),
            ),
        };
        bar.set_message(input.name.clone());
        Self { bar: Some(bar) }
    }

    /// Adds `bytes` processed bytes.
    pub fn advance(&self, bytes: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes as u64);
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Clear the bar on failure too, so the error line starts on a clean
        // line.
        self.finish();
    }
}
