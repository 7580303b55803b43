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
    })
}
