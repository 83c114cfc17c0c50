//! The mapping file: which unit of the configuration each child of a return
//! belongs to. The returns know no teams; a council lists its children's
//! units (inline or in a CSV file) and names a default unit for the rest.
//!
//! ```toml
//! [[authority]]
//! id = "kent"
//! default_unit = "north-kent-cic"
//! children_file = "kent-children.csv"   # optional, columns child,unit
//! [authority.children]                   # optional
//! "C1001" = "dartford-cswt"
//! ```

use super::error::ImportError;
use crate::config::{Config, LaIdx};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    authority: Vec<AuthorityEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityEntry {
    id: String,
    default_unit: String,
    #[serde(default)]
    children_file: Option<PathBuf>,
    #[serde(default)]
    children: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ChildRow {
    child: String,
    unit: String,
}

/// The units of one authority's children.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The authority.
    pub la: LaIdx,
    /// The authority's id.
    pub la_id: String,
    /// Where children the mapping does not list go.
    pub default_unit: String,
    children: BTreeMap<String, String>,
}

impl Mapping {
    /// Reads the mapping of authority `la` from `path`; every unit must be a
    /// leaf unit of that authority.
    pub fn load(path: &Path, config: &Config, la: LaIdx) -> Result<Mapping, ImportError> {
        let fail = |problem: String| ImportError::Mapping {
            path: path.to_path_buf(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|error| ImportError::io(path, error))?;
        let file: File = toml::from_str(&text).map_err(|error| fail(error.message().into()))?;
        let la_id = config.authorities[la.0 as usize].id.clone();
        let entry = file
            .authority
            .into_iter()
            .find(|entry| entry.id == la_id)
            .ok_or_else(|| fail(format!("no [[authority]] with id = \"{la_id}\"")))?;
        let check = |unit: &str, what: &str| -> Result<(), ImportError> {
            let index = config
                .unit_by_id(unit)
                .ok_or_else(|| fail(format!("{what}: unknown unit '{unit}'")))?;
            let node = config.unit(index);
            if !node.is_leaf() {
                return Err(fail(format!("{what}: '{unit}' is not a leaf unit")));
            }
            if node.la != la {
                return Err(fail(format!(
                    "{what}: '{unit}' is not a unit of authority '{la_id}'"
                )));
            }
            Ok(())
        };
        check(&entry.default_unit, "default_unit")?;
        let mut children = entry.children;
        if let Some(file) = &entry.children_file {
            let file = path.parent().unwrap_or(Path::new(".")).join(file);
            let mut reader =
                csv::Reader::from_path(&file).map_err(|error| fail(csv_problem(&file, &error)))?;
            for row in reader.deserialize::<ChildRow>() {
                let row = row.map_err(|error| fail(csv_problem(&file, &error)))?;
                children.insert(row.child.trim().to_string(), row.unit.trim().to_string());
            }
        }
        for unit in children.values() {
            check(unit, "children")?;
        }
        Ok(Mapping {
            la,
            la_id,
            default_unit: entry.default_unit,
            children,
        })
    }

    /// The unit of `child`, and whether the mapping lists the child.
    pub fn unit_for(&self, child: &str) -> (&str, bool) {
        match self.children.get(child) {
            Some(unit) => (unit, true),
            None => (&self.default_unit, false),
        }
    }
}

/// A CSV error without the row's values.
fn csv_problem(file: &Path, error: &csv::Error) -> String {
    let row = error
        .position()
        .map(|position| format!(" line {}", position.line()))
        .unwrap_or_default();
    let what = match error.kind() {
        csv::ErrorKind::Io(_) => "cannot be read",
        csv::ErrorKind::Deserialize { .. } => "needs the columns child and unit",
        _ => "is not CSV",
    };
    format!("children_file {}{row} {what}", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kent() -> Config {
        Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/kent.toml")).unwrap()
    }

    fn load(text: &str) -> Result<Mapping, String> {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("mapping.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::write(
            directory.path().join("children.csv"),
            "child,unit\nC9,swale-cswt\n",
        )
        .unwrap();
        let config = kent();
        Mapping::load(&path, &config, config.default_la).map_err(|error| error.to_string())
    }

    #[test]
    fn the_example_mapping_loads() {
        let config = kent();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/import-mapping.toml");
        let mapping = Mapping::load(&path, &config, config.default_la).unwrap();
        assert_eq!(mapping.unit_for("anyone"), ("north-kent-cic", false));
    }

    #[test]
    fn children_come_inline_or_from_a_file_and_the_rest_go_to_the_default() {
        let mapping = load(
            "[[authority]]\nid = \"kent\"\ndefault_unit = \"suasc\"\nchildren_file = \"children.csv\"\n[authority.children]\n\"C1\" = \"dartford-cswt\"\n",
        )
        .unwrap();
        assert_eq!(mapping.unit_for("C1"), ("dartford-cswt", true));
        assert_eq!(mapping.unit_for("C9"), ("swale-cswt", true));
        assert_eq!(mapping.unit_for("C2"), ("suasc", false));
    }

    #[test]
    fn units_must_be_leaves_of_the_authority() {
        let error =
            load("[[authority]]\nid = \"kent\"\ndefault_unit = \"north-kent\"\n").unwrap_err();
        assert!(
            error.ends_with("default_unit: 'north-kent' is not a leaf unit"),
            "{error}"
        );
        let error = load("[[authority]]\nid = \"kent\"\ndefault_unit = \"suasc\"\n[authority.children]\n\"C1\" = \"atlantis\"\n").unwrap_err();
        assert!(
            error.ends_with("children: unknown unit 'atlantis'"),
            "{error}"
        );
        let error = load("[[authority]]\nid = \"medway\"\ndefault_unit = \"suasc\"\n").unwrap_err();
        assert!(
            error.ends_with("no [[authority]] with id = \"kent\""),
            "{error}"
        );
    }
}
