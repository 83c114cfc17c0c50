//! File sink for replay: dead letters to a JSON Lines file, other outputs to
//! one JSON Lines file per topic in an outputs directory (when asked for).

use crate::outbox::OutputTopic;
use crate::pipeline::{Engine, EngineError};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A failure writing output files.
#[derive(Debug, thiserror::Error)]
pub enum FileSinkError {
    /// Could not write a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Drains the outbox to files.
pub struct FileSink {
    dead_letters: (PathBuf, BufWriter<File>),
    outputs: Option<PathBuf>,
    writers: HashMap<OutputTopic, (PathBuf, BufWriter<File>)>,
    written: HashMap<OutputTopic, u64>,
    /// Files are appended to (a resumed replay), not truncated.
    append: bool,
    /// The outbox sequence after the last record written: the next drain
    /// reads from here, not past every acknowledged record again.
    cursor: u64,
}

/// Most outbox records read per step of a drain.
const DRAIN_CHUNK: usize = 100_000;

fn create(path: &Path, append: bool) -> Result<BufWriter<File>, FileSinkError> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| FileSinkError::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
    }
    File::options()
        .write(true)
        .create(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map(|file| BufWriter::with_capacity(1 << 16, file))
        .map_err(|source| FileSinkError::Io {
            path: path.display().to_string(),
            source,
        })
}

impl FileSink {
    /// Creates (truncating, or appending to when `append`) the dead-letter
    /// file; outputs go to `<outputs>/<topic>.jsonl` when a directory is given.
    pub fn new(
        dead_letters: &Path,
        outputs: Option<&Path>,
        append: bool,
    ) -> Result<FileSink, FileSinkError> {
        Ok(FileSink {
            dead_letters: (dead_letters.to_path_buf(), create(dead_letters, append)?),
            append,
            outputs: outputs.map(Path::to_path_buf),
            writers: HashMap::new(),
            written: HashMap::new(),
            cursor: 0,
        })
    }

    /// Writes every pending outbox record and removes it from the outbox.
    pub fn drain(&mut self, engine: &Engine) -> Result<u64, FileSinkError> {
        let mut total = 0;
        loop {
            let pending = engine.pending_outputs_from(self.cursor, DRAIN_CHUNK)?;
            if pending.is_empty() {
                break;
            }
            let full = pending.len() == DRAIN_CHUNK;
            let mut delivered = Vec::with_capacity(pending.len());
            for (sequence, record) in pending {
                let target = if record.topic == OutputTopic::DeadLetters {
                    Some(&mut self.dead_letters)
                } else if let Some(directory) = &self.outputs {
                    match self.writers.entry(record.topic) {
                        std::collections::hash_map::Entry::Occupied(entry) => {
                            Some(entry.into_mut())
                        }
                        std::collections::hash_map::Entry::Vacant(entry) => {
                            let path = directory.join(format!("{}.jsonl", record.topic.as_str()));
                            let writer = create(&path, self.append)?;
                            Some(entry.insert((path, writer)))
                        }
                    }
                } else {
                    None
                };
                if let Some((path, writer)) = target {
                    writer
                        .write_all(record.payload.as_bytes())
                        .and_then(|()| writer.write_all(b"\n"))
                        .map_err(|source| FileSinkError::Io {
                            path: path.display().to_string(),
                            source,
                        })?;
                    *self.written.entry(record.topic).or_default() += 1;
                }
                delivered.push(sequence);
                self.cursor = sequence + 1;
            }
            self.flush()?;
            engine.acknowledge_outputs(&delivered)?;
            total += delivered.len() as u64;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    fn flush(&mut self) -> Result<(), FileSinkError> {
        let (path, writer) = &mut self.dead_letters;
        writer.flush().map_err(|source| FileSinkError::Io {
            path: path.display().to_string(),
            source,
        })?;
        for (path, writer) in self.writers.values_mut() {
            writer.flush().map_err(|source| FileSinkError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Records written per topic.
    pub fn written(&self) -> &HashMap<OutputTopic, u64> {
        &self.written
    }
}
