//! The output of `bp gzip`: standard output, or a file that appears only
//! once it is complete.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, BufWriter, Stdout, Write},
    path::{Path, PathBuf},
    process,
};

use crate::{
    error::{io_reason, CliError},
    input::FileIdentity,
    signal_cleanup::SignalCleanup,
};

/// Buffer between the fold and the output, so small writes (header,
/// trailer, well-compressed chunks) do not each cost a system call.
const BUFFER_SIZE: usize = 256 * 1024;

/// An output being written.
pub enum Output {
    Stdout(BufWriter<Stdout>),
    File {
        writer: BufWriter<File>,
        temp: TempPath,
        target: PathBuf,
    },
}

impl Output {
    /// Opens standard output, or a temporary file next to `path`, which
    /// must not be the file behind `input`.
    ///
    /// A symbolic link as `path` is followed, so the file it points to is
    /// replaced and the link stays.
    ///
    /// # Errors
    ///
    /// `path` is the input or a directory. `path` is a device, FIFO or
    /// socket, which the final rename would replace with a regular file. The
    /// temporary file cannot be created: a missing directory or no permission.
    pub fn create(path: Option<&Path>, input: Option<FileIdentity>) -> Result<Self, CliError> {
        let Some(path) = path else {
            return Ok(Self::Stdout(BufWriter::with_capacity(
                BUFFER_SIZE,
                io::stdout(),
            )));
        };
        let target = resolve_link(path)?;
        let target = target.as_path();

        if target.is_dir() {
            return Err(CliError::failed(format!(
                "cannot write '{}': it is a directory; give a file name to -o",
                path.display()
            )));
        }
        if let Ok(metadata) = fs::metadata(target) {
            if !metadata.is_file() {
                return Err(CliError::usage(format!(
                    "cannot write '{}': it is not a regular file, and -o would replace it; \
                     redirect standard output to it instead",
                    path.display()
                )));
            }
            if input.is_some() && FileIdentity::of(&metadata) == input {
                return Err(CliError::usage(format!(
                    "cannot write '{}': it is the input file; give -o another path",
                    path.display()
                )));
            }
        }
        let (file, temp) = TempPath::create_beside(target)?;
        Ok(Self::File {
            writer: BufWriter::with_capacity(BUFFER_SIZE, file),
            temp,
            target: target.to_owned(),
        })
    }
}

/// Returns `path`, or the file it points to if it is a symbolic link.
///
/// # Errors
///
/// `path` is a link whose target cannot be resolved.
fn resolve_link(path: &Path) -> Result<PathBuf, CliError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(|error| {
                CliError::failed(format!(
                    "cannot write '{}': it is a symbolic link that cannot be followed: {}; \
                     give -o the path of a file",
                    path.display(),
                    io_reason(&error)
                ))
            })
        }
        _ => Ok(path.to_owned()),
    }
}

impl Output {
    /// Writes all of `bytes`.
    ///
    /// # Errors
    ///
    /// The write failed; a closed pipe on standard output is one such case.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        let result = match self {
            Self::Stdout(writer) => writer.write_all(bytes),
            Self::File { writer, .. } => writer.write_all(bytes),
        };
        result.map_err(|error| self.write_error(&error))
    }

    /// Flushes the output and, for a file, moves it to its final name.
    ///
    /// # Errors
    ///
    /// Flushing, syncing or renaming failed; the temporary file is then
    /// removed.
    pub fn finish(mut self) -> Result<(), CliError> {
        let flushed = match &mut self {
            Self::Stdout(writer) => writer.flush(),
            Self::File { writer, .. } => writer.flush().and_then(|()| writer.get_ref().sync_all()),
        };
        flushed.map_err(|error| self.write_error(&error))?;

        if let Self::File {
            writer,
            temp,
            target,
        } = self
        {
            drop(writer);
            temp.persist(&target)?;
        }
        Ok(())
    }

    fn write_error(&self, error: &io::Error) -> CliError {
        match self {
            Self::Stdout(_) if error.kind() == io::ErrorKind::BrokenPipe => CliError::failed(
                "writing standard output failed: the reading end of the pipe was closed; read the whole output or use -o FILE",
            ),
            Self::Stdout(_) => CliError::failed(format!("writing standard output failed: {}", io_reason(error))),
            Self::File { target, .. } => {
                CliError::failed(format!("writing '{}' failed: {}", target.display(), io_reason(error)))
            }
        }
    }
}

/// A temporary file that is removed when dropped, unless persisted.
///
/// On Unix it is also removed when SIGINT, SIGTERM or SIGHUP ends the
/// process, which then dies by that signal (see `signal_cleanup`).
/// NOTE: a signal that arrives between the file's creation and its
/// registration right after, SIGKILL, a crash, or any signal on other
/// targets leaves the hidden `.OUT.bp-*.tmp` file behind. OUT
/// itself is never partial, because it appears only through the final
/// rename.
pub struct TempPath {
    path: Option<PathBuf>,
    /// Dropped after `TempPath::drop` has removed the file, and after
    /// `persist` has renamed it, so the handler covers the file for as long
    /// as it exists under its temporary name.
    _signal_cleanup: SignalCleanup,
}

impl TempPath {
    /// Creates an empty hidden file in the directory of `target`, so that the
    /// final rename stays within one file system and is atomic.
    fn create_beside(target: &Path) -> Result<(File, Self), CliError> {
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let file_name = target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| {
                CliError::failed(format!(
                    "cannot write '{}': the path has no file name; give a file name to -o",
                    target.display()
                ))
            })?;

        for attempt in 0u32.. {
            let path = directory.join(format!(".{file_name}.bp-{}-{attempt}.tmp", process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    let signal_cleanup = SignalCleanup::register(&path);
                    let temp = Self {
                        path: Some(path),
                        _signal_cleanup: signal_cleanup,
                    };
                    return Ok((file, temp));
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    return Err(CliError::failed(format!(
                        "cannot write '{}': directory '{}' does not exist; create it or choose another path",
                        target.display(),
                        directory.display()
                    )));
                }
                Err(error) => {
                    return Err(CliError::failed(format!(
                        "cannot create a file in '{}' for '{}': {}",
                        directory.display(),
                        target.display(),
                        io_reason(&error)
                    )));
                }
            }
        }
        unreachable!("the loop returns within 101 attempts")
    }

    /// Renames the file to `target`.
    fn persist(mut self, target: &Path) -> Result<(), CliError> {
        let path = self
            .path
            .take()
            .expect("a temporary path is persisted once");
        fs::rename(&path, target).map_err(|error| {
            // Best effort: the rename error is the one worth reporting.
            let _ = fs::remove_file(&path);
            CliError::failed(format!(
                "cannot move the output to '{}': {}",
                target.display(),
                io_reason(&error)
            ))
        })
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: the error that led here is the one worth reporting.
            let _ = fs::remove_file(path);
        }
    }
}
