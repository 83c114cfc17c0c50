//! The generated history written as the statutory returns a council sends
//! the Department for Education (`ragline generate --returns-dir`): for each
//! authority and each collection year (April to March) the history covers,
//! the SSDA903 tables the importer reads and a Children in Need census, with
//! a mapping file placing each child in the unit responsible for it at the
//! end of the history (docs/import.md, "The round trip").
//!
//! The returns are read back from the surviving facts, so they describe
//! exactly the history the events do, as far as the returns can carry it.
//! Layout under the directory: `mapping.toml`, and for each authority
//! `<la>/children.csv`, `<la>/903/<year>/*.csv`, `<la>/cin/census-<year>.xml`.

mod cin;
mod history;
mod ssda903;

use super::generator::Generator;
use crate::calendar::Date;
use std::io;
use std::path::Path;

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct ReturnsStats {
    /// Collection years written (per authority).
    pub years: Vec<i32>,
    /// Episode rows of the SSDA903 returns, every year.
    pub episodes: u64,
    /// Episodes of need (`CINdetails`) of the censuses, every year.
    pub cin_episodes: u64,
    /// Children with a record in a return.
    pub children: u64,
}

/// A collection year: `year` ends on 31 March of that year.
#[derive(Clone, Copy, Debug)]
pub(super) struct CollectionYear {
    /// The year in which it ends.
    pub year: i32,
    /// 1 April of the year before.
    pub first: Date,
    /// 31 March.
    pub last: Date,
}

impl CollectionYear {
    fn of(date: Date) -> CollectionYear {
        let (year, month, _) = date.ymd();
        let year = if month >= 4 { year + 1 } else { year };
        CollectionYear {
            year,
            first: Date::from_ymd(year - 1, 4, 1).expect("a date"),
            last: Date::from_ymd(year, 3, 31).expect("a date"),
        }
    }
}

/// A child's id in the events and the returns.
pub(super) fn child_id(child: u32) -> String {
    format!("c{:06}", u64::from(child) + 1)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl Generator {
    /// Writes the returns of the history into `dir` (see the module's text).
    pub(super) fn write_returns(&self, dir: &Path) -> io::Result<ReturnsStats> {
        let histories = history::histories(&self.facts);
        let years: Vec<CollectionYear> = {
            let mut years = Vec::new();
            let mut year = CollectionYear::of(self.start);
            while year.first <= self.end {
                years.push(year);
                year = CollectionYear::of(year.last.add_days(1));
            }
            years
        };
        let mut stats = ReturnsStats {
            years: years.iter().map(|year| year.year).collect(),
            ..ReturnsStats::default()
        };
        std::fs::create_dir_all(dir)?;
        let mut mapping = String::from(
            "# Places the children of the generated returns in the unit responsible\n\
             # for each at the end of the history (ragline generate --returns-dir).\n",
        );
        for (authority, units) in self.units_of_authority.iter().enumerate() {
            let la: String = serde_json::from_str(&self.authorities[authority].json)
                .map_err(|error| invalid(error.to_string()))?;
            if la.is_empty() || la.contains(['/', '\\']) || la.starts_with('.') {
                return Err(invalid(format!(
                    "--returns-dir: authority id '{la}' cannot name a directory"
                )));
            }
            let Some(default_unit) = units.first() else {
                continue;
            };
            let children: Vec<&history::ChildHistory> = histories
                .iter()
                .filter(|child| {
                    self.children
                        .get(child.child as usize)
                        .is_some_and(|record| usize::from(record.authority) == authority)
                })
                .collect();
            let root = dir.join(&la);
            std::fs::create_dir_all(&root)?;
            let mut listed = csv::Writer::from_path(root.join("children.csv"))?;
            listed.write_record(["child", "unit"])?;
            for child in &children {
                if let Some(unit) = child.unit {
                    listed.write_record([
                        child_id(child.child),
                        self.units[unit as usize].id.clone(),
                    ])?;
                }
            }
            listed.flush()?;
            stats.children += children
                .iter()
                .filter(|child| !child.periods.is_empty() || !child.cases.is_empty())
                .count() as u64;
            for year in &years {
                let directory = root.join("903").join(year.year.to_string());
                stats.episodes += ssda903::write_year(&children, *year, &directory)?;
                std::fs::create_dir_all(root.join("cin"))?;
                let census = root.join("cin").join(format!("census-{}.xml", year.year));
                stats.cin_episodes += cin::write_year(&children, *year, &census)?;
            }
            mapping.push_str(&format!(
                "\n[[authority]]\nid = {}\ndefault_unit = {}\nchildren_file = {}\n",
                toml_string(&la),
                toml_string(&self.units[*default_unit as usize].id),
                toml_string(&format!("{la}/children.csv")),
            ));
        }
        std::fs::write(dir.join("mapping.toml"), mapping)?;
        Ok(stats)
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    // JSON string escapes are valid TOML basic string escapes.
    serde_json::to_string(text).expect("a string serialises")
}
