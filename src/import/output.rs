//! Events as JSON objects, and the output file: every line is checked by the
//! event decoder before it is written, into a temporary file renamed into
//! place at the end, so that an import never leaves a half-written file.

use super::error::ImportError;
use super::report::Summary;
use super::versions::{Fact, Versioned};
use crate::calendar::Date;
use crate::config::Config;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// The envelope of a child's event; the caller adds the type's fields.
pub fn child_event(id: String, event_type: &str, la: &str, child: &str, date: Date) -> Fact {
    let mut fact = Fact::new();
    fact.insert("event_id".into(), Value::String(id));
    fact.insert("type".into(), Value::String(event_type.into()));
    fact.insert("la".into(), Value::String(la.into()));
    fact.insert("child_id".into(), Value::String(child.into()));
    fact.insert("date".into(), Value::String(date.to_string()));
    fact
}

/// Adds a field.
pub fn with(mut fact: Fact, key: &str, value: impl Into<Value>) -> Fact {
    fact.insert(key.into(), value.into());
    fact
}

/// Writes the versioned lines to `out` (through a temporary file next to
/// it) and counts them into `summary`.
pub fn write(
    config: &Config,
    versioned: &Versioned,
    out: &Path,
    summary: &mut Summary,
) -> Result<(), ImportError> {
    let mut buffer = Vec::with_capacity(versioned.lines.len() * 160);
    for line in &versioned.lines {
        let start = buffer.len();
        serde_json::to_writer(&mut buffer, line).expect("a JSON object serialises");
        let event_type = line.get("type").and_then(Value::as_str).unwrap_or("");
        if let Err(rejection) = crate::event::decode(config, &buffer[start..]) {
            return Err(ImportError::Internal {
                event_type: event_type.to_string(),
                code: rejection.code.as_str(),
                field: rejection.field.unwrap_or_default(),
            });
        }
        buffer.push(b'\n');
        let name = crate::event::EVENT_TYPES
            .iter()
            .find(|name| **name == event_type)
            .copied()
            .unwrap_or("other");
        *summary.events.entry(name).or_default() += 1;
    }
    summary.lines = versioned.lines.len() as u64;
    summary.repeats = versioned.repeats;
    summary.corrections = versioned.corrections;
    summary.voids = versioned.voids;
    let directory = out.parent().filter(|parent| !parent.as_os_str().is_empty());
    let directory = directory.unwrap_or(Path::new("."));
    let mut temporary = tempfile_in(directory, out)?;
    let result = (|| {
        temporary.1.write_all(&buffer)?;
        temporary.1.sync_all()?;
        std::fs::rename(&temporary.0, out)
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary.0);
        return Err(ImportError::io(out, error));
    }
    Ok(())
}

/// A new file next to `out`, named after it and this process.
fn tempfile_in(
    directory: &Path,
    out: &Path,
) -> Result<(std::path::PathBuf, std::fs::File), ImportError> {
    let name = out
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_else(|| "events".into());
    let path = directory.join(format!(".{name}.{}.partial", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|error| ImportError::io(out, error))?;
    Ok((path, file))
}
