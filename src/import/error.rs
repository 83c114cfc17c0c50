//! What stops an import: files that cannot be read, a bad mapping, a bad
//! row under `--strict`, or an event the decoder refuses (a defect).

use super::report::Problem;
use std::path::PathBuf;

/// Why an import stopped without writing its output.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file or directory could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error (shown in the message, not chained again).
        error: std::io::Error,
    },
    /// The mapping file is unreadable or names units the configuration
    /// does not have.
    #[error("mapping {path}: {problem}")]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The returns to import cannot be found.
    #[error("{0}")]
    Input(String),
    /// `--strict`: the first bad row stops the import.
    #[error("stopped (--strict) at {0}")]
    Strict(Problem),
    /// An event built by the importer was refused by the decoder: a defect
    /// of the importer, never of the returns.
    #[error("internal error: a {event_type} event built from the returns was refused ({code}, field {field})")]
    Internal {
        /// The event type.
        event_type: String,
        /// The decoder's reason code.
        code: &'static str,
        /// The field it named.
        field: String,
    },
}

impl ImportError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> ImportError {
        ImportError::Io {
            path: path.into(),
            error,
        }
    }
}
