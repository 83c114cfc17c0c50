//! JSON Lines file source: one message per line, positions are line numbers.

use crate::event::{Position, RawMessage};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Reads a JSON Lines file in batches.
pub struct FileSource {
    reader: BufReader<File>,
    path: std::sync::Arc<str>,
    line: u64,
    done: bool,
    /// The line being read (reused: each message gets an exact-size copy).
    scratch: Vec<u8>,
    /// Bytes read so far.
    bytes_read: u64,
    /// The file's size when opened.
    size: u64,
}

impl FileSource {
    /// Opens a file.
    pub fn open(path: &Path) -> std::io::Result<FileSource> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        Ok(FileSource {
            reader: BufReader::with_capacity(1 << 20, file),
            bytes_read: 0,
            size,
            path: path.display().to_string().into(),
            line: 0,
            done: false,
            scratch: Vec::with_capacity(4096),
        })
    }

    /// The next batch of at most `max` lines; empty at the end of the file.
    /// A final newline does not make an extra (blank) message; blank lines
    /// elsewhere are messages (and are rejected as "not JSON").
    pub fn next_batch(&mut self, max: usize) -> std::io::Result<Vec<RawMessage>> {
        let mut batch = Vec::with_capacity(max.min(1 << 16));
        while !self.done && batch.len() < max {
            if !self.read_line()? {
                break;
            }
            let mut line: &[u8] = &self.scratch;
            if let Some(rest) = line.strip_suffix(b"\n") {
                line = rest.strip_suffix(b"\r").unwrap_or(rest);
            }
            batch.push(RawMessage {
                bytes: line.to_vec(),
                position: Position::File {
                    path: std::sync::Arc::clone(&self.path),
                    line: self.line,
                },
            });
        }
        Ok(batch)
    }

    /// Skips the next `lines` lines (resuming a replay).
    pub fn skip_lines(&mut self, lines: u64) -> std::io::Result<()> {
        for _ in 0..lines {
            if !self.read_line()? {
                break;
            }
        }
        Ok(())
    }

    /// Reads the next line into the scratch buffer; false at the end.
    fn read_line(&mut self) -> std::io::Result<bool> {
        self.scratch.clear();
        let read = self.reader.read_until(b'\n', &mut self.scratch)?;
        if read == 0 {
            self.done = true;
            return Ok(false);
        }
        self.bytes_read += read as u64;
        self.line += 1;
        Ok(true)
    }

    /// Bytes read so far, and the file's size when it was opened.
    pub fn progress(&self) -> (u64, u64) {
        (self.bytes_read, self.size)
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lines_become_numbered_messages() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"{\"a\":1}\r\n\n{\"b\":2}\n").unwrap();
        let mut source = FileSource::open(file.path()).unwrap();
        let first = source.next_batch(2).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].bytes, b"{\"a\":1}");
        assert!(first[1].bytes.is_empty());
        let second = source.next_batch(2).unwrap();
        assert_eq!(second.len(), 1);
        assert!(matches!(second[0].position, Position::File { line: 3, .. }));
        assert!(source.next_batch(2).unwrap().is_empty());
    }
}
