//! The error that ends a `bp` command, printed as one line.

use std::{fmt, io, path::Path};

use bp_std::pipeline::{PipelineError, ThreadRole};

/// A failure of the command, with its message and exit status.
#[derive(Debug)]
pub struct CliError {
    /// `None` once the message was printed where the failure happened.
    message: Option<String>,
    /// 2 for invalid settings, as clap uses for invalid arguments; 1 for a
    /// failure while running.
    status: u8,
}

impl CliError {
    /// Creates an error for an invalid option value or combination of values.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            status: 2,
        }
    }

    /// Creates an error for a failure while running: input, output or
    /// processing.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            status: 1,
        }
    }

    /// Creates an error whose lines were already printed.
    pub fn reported() -> Self {
        Self {
            message: None,
            status: 1,
        }
    }

    /// Returns the message still to print, if any.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Returns the process exit status for this error.
    pub fn status(&self) -> u8 {
        self.status
    }

    /// Describes a failed pipeline run over the input `name`.
    pub fn from_pipeline(error: PipelineError<CliError>, name: &str) -> Self {
        match error {
            PipelineError::Read { offset, source } => Self::failed(format!(
                "reading '{name}' failed at byte {offset}: {}",
                io_reason(&source)
            )),
            PipelineError::Worker { error, .. } | PipelineError::Fold { error, .. } => error,
            PipelineError::Panicked { role, seq, message } => {
                let place = match (role, seq) {
                    (ThreadRole::Reader, _) => String::from("while reading"),
                    (_, Some(seq)) => format!("on chunk {seq}"),
                    (_, None) => String::from("while starting"),
                };
                Self::failed(format!("internal error: the {role} thread panicked {place} of '{name}': {message}; please report this bug"))
            }
            PipelineError::Spawn(source) => Self::failed(format!(
                "failed to start a pipeline thread: {}; lower --workers or free system resources",
                io_reason(&source)
            )),
            other => Self::failed(format!("processing '{name}' failed: {other}")),
        }
    }

    /// Describes a failure to open the input `path`.
    pub fn open_input(path: &Path, error: &io::Error) -> Self {
        let name = path.display();
        match error.kind() {
            io::ErrorKind::NotFound => Self::failed(format!(
                "cannot read '{name}': no such file; check the path"
            )),
            io::ErrorKind::PermissionDenied => Self::failed(format!(
                "cannot read '{name}': permission denied; check the file's permissions"
            )),
            _ => Self::failed(format!("cannot read '{name}': {}", io_reason(error))),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            self.message
                .as_deref()
                .unwrap_or("failed; see the messages above"),
        )
    }
}

impl std::error::Error for CliError {}

/// Returns the operating system's description of `error`, without the
/// "(os error N)" suffix that `io::Error`'s `Display` adds.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(end) if text.ends_with(')') => text[..end].to_owned(),
        _ => text,
    }
}
