//! Benchmarks (`[benchmark]`): published comparators of an indicator, such
//! as England's figure or the statistical neighbours' average, per source
//! year, in the indicator's own units. Reports show them beside the value
//! (decision D39).

use super::*;

/// The configured benchmarks: named comparators, and per indicator and
/// source year a value for each (or none).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Benchmarks {
    /// Comparator names in configured order (report columns follow it).
    pub comparators: Vec<String>,
    values: HashMap<String, BTreeMap<FinancialYear, Vec<Option<Decimal>>>>,
}

/// The benchmarks a report shows for one indicator: the source year used
/// and a value per comparator, in [`Benchmarks::comparators`] order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchmarkSet<'a> {
    /// The financial year the figures are for.
    pub year: FinancialYear,
    /// One value per comparator; `None` when the year gives none for it.
    pub values: &'a [Option<Decimal>],
}

impl Benchmarks {
    /// The benchmarks of indicator `id` for a report in financial year
    /// `year`: those of the most recent source year not after it (decision
    /// D39); `None` when the indicator has none that early.
    pub fn for_year(&self, id: &str, year: FinancialYear) -> Option<BenchmarkSet<'_>> {
        let (year, values) = self.values.get(id)?.range(..=year).next_back()?;
        Some(BenchmarkSet {
            year: *year,
            values,
        })
    }

    /// Whether no comparator is configured.
    pub fn is_empty(&self) -> bool {
        self.comparators.is_empty()
    }

    /// Checks the file's section: comparator names non-empty and distinct,
    /// indicators configured, years financial years, every value named by a
    /// declared comparator and finite. Errors are (key, problem).
    pub(super) fn parse(
        file: &super::file::FileBenchmark,
        indicators: &[IndicatorEntry],
    ) -> Result<Benchmarks, (String, String)> {
        let mut comparators: Vec<String> = Vec::with_capacity(file.comparators.len());
        for (position, name) in file.comparators.iter().enumerate() {
            let key = format!("benchmark.comparators[{position}]");
            if name.trim().is_empty() {
                return Err((key, "a comparator needs a name".into()));
            }
            if comparators.contains(name) {
                return Err((key, format!("\"{name}\" is listed twice")));
            }
            comparators.push(name.clone());
        }
        let mut values = HashMap::new();
        for (id, years) in &file.values {
            let key = format!("benchmark.values.{id}");
            if !indicators.iter().any(|entry| &entry.id == id) {
                return Err((key, format!("'{id}' is not a configured indicator")));
            }
            let mut parsed = BTreeMap::new();
            for (year, figures) in years {
                let year_key = format!("{key}.\"{year}\"");
                let parsed_year = FinancialYear::parse(year)
                    .filter(|_| year.len() == 7)
                    .ok_or_else(|| {
                        (
                            year_key.clone(),
                            "expected a financial year like 2016-17".into(),
                        )
                    })?;
                let mut row = vec![None; comparators.len()];
                for (name, value) in figures {
                    let position = comparators
                        .iter()
                        .position(|known| known == name)
                        .ok_or_else(|| {
                            (
                                format!("{year_key}.{name}"),
                                "not a comparator listed in benchmark.comparators".to_string(),
                            )
                        })?;
                    if !value.is_finite() {
                        return Err((format!("{year_key}.{name}"), "not a finite number".into()));
                    }
                    let decimal = Decimal::from_str(&value.to_string()).map_err(|_| {
                        (
                            format!("{year_key}.{name}"),
                            "not a decimal number".to_string(),
                        )
                    })?;
                    row[position] = Some(decimal);
                }
                parsed.insert(parsed_year, row);
            }
            values.insert(id.clone(), parsed);
        }
        Ok(Benchmarks {
            comparators,
            values,
        })
    }
}
