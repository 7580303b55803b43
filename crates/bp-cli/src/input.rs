//! Opening the inputs named on the command line.

use std::{
    fs::File,
    io::{self, Read},
    path::Path,
};

use crate::error::CliError;

/// An opened input.
pub struct Input {
    /// The name as given, or `-` for standard input.
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    /// Size in bytes, when the input is a regular file.
    pub size: Option<u64>,
    /// The file behind the input, when the platform can tell, so that an
    /// output path can be checked against it.
    pub identity: Option<FileIdentity>,
}

/// The device and inode of a file: equal for every path and link to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    /// Returns the identity of the file that `metadata` describes.
    #[cfg(unix)]
    pub fn of(metadata: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        Some(Self {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    /// NOTE: outside Unix no identity is read, so `-o` naming the input is
    /// not detected there.
    #[cfg(not(unix))]
    pub fn of(_metadata: &std::fs::Metadata) -> Option<Self> {
        None
    }

    /// Returns the identity of the file or pipe on standard input.
    #[cfg(unix)]
    fn of_stdin() -> Option<Self> {
        use std::os::fd::AsFd;
        let duplicate = io::stdin().as_fd().try_clone_to_owned().ok()?;
        Self::of(&File::from(duplicate).metadata().ok()?)
    }

    #[cfg(not(unix))]
    fn of_stdin() -> Option<Self> {
        None
    }
}

/// Opens `path`, or standard input for `-`.
///
/// # Errors
///
/// A missing or unreadable path, or a directory.
pub fn open(path: &Path) -> Result<Input, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Input {
            name: String::from("-"),
            reader: Box::new(io::stdin()),
            size: None,
            identity: FileIdentity::of_stdin(),
        });
    }

    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| CliError::open_input(path, &error))?;
    let metadata = file
        .metadata()
        .map_err(|error| CliError::open_input(path, &error))?;
    if metadata.is_dir() {
        return Err(CliError::failed(format!(
            "cannot read '{name}': it is a directory; pass a file, or - for standard input"
        )));
    }
    let size = metadata.is_file().then_some(metadata.len());
    Ok(Input {
        name,
        reader: Box::new(file),
        size,
        identity: FileIdentity::of(&metadata),
    })
}
