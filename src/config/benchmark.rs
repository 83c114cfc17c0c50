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
    /// `year`: those of the most recent source year not after it
    /// (decision D39); `None` when the indicator has none that early.
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

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[benchmark]
comparators = ["England", "Statistical neighbours"]

[benchmark.values.SCS03]
"2015-16" = { England = 22.3, "Statistical neighbours" = 23.1 }
"2017-18" = { England = 21.9 }

[[authority]]
id = "la"
name = "An Authority"
root = "top"

[[unit]]
id = "top"
name = "Top"
kind = "county"

[[indicator]]
id = "SCS03"

[[indicator]]
id = "SCS01"

[calendar]
bank_holidays = []
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn the_latest_source_year_not_after_the_reports_is_used() {
        let config = parse(CONFIG).unwrap();
        let benchmarks = &config.benchmarks;
        assert_eq!(
            benchmarks.comparators,
            ["England", "Statistical neighbours"]
        );
        let year_of = |year: i32| {
            benchmarks
                .for_year("SCS03", FinancialYear(year))
                .map(|set| (set.year.to_string(), set.values.to_vec()))
        };
        let decimal = |text: &str| Some(Decimal::from_str(text).unwrap());
        assert_eq!(year_of(2014), None);
        let first = Some((
            "2015-16".to_string(),
            vec![decimal("22.3"), decimal("23.1")],
        ));
        assert_eq!(year_of(2015), first);
        assert_eq!(year_of(2016), first, "2016-17 has none: 2015-16's");
        // One year for the whole row: no statistical neighbours in 2017-18.
        let second = Some(("2017-18".to_string(), vec![decimal("21.9"), None]));
        assert_eq!(year_of(2017), second);
        assert_eq!(year_of(2030), second);
        assert!(benchmarks.for_year("SCS01", FinancialYear(2017)).is_none());
        assert!(parse(&CONFIG.replace(
            "[benchmark]\ncomparators = [\"England\", \"Statistical neighbours\"]\n\n[benchmark.values.SCS03]\n\"2015-16\" = { England = 22.3, \"Statistical neighbours\" = 23.1 }\n\"2017-18\" = { England = 21.9 }\n",
            ""
        ))
        .unwrap()
        .benchmarks
        .is_empty());
    }

    #[test]
    fn mistakes_are_named() {
        let error = |from: &str, to: &str| {
            assert!(CONFIG.contains(from), "{from}");
            parse(&CONFIG.replace(from, to)).unwrap_err().to_string()
        };
        assert_eq!(
            error("values.SCS03]", "values.SCS99]"),
            "test.toml: benchmark.values.SCS99: 'SCS99' is not a configured indicator"
        );
        assert_eq!(
            error("\"2017-18\" =", "\"2017-19\" ="),
            "test.toml: benchmark.values.SCS03.\"2017-19\": expected a financial year like 2016-17"
        );
        assert_eq!(
            error("\"2017-18\" =", "\"2017\" ="),
            "test.toml: benchmark.values.SCS03.\"2017\": expected a financial year like 2016-17"
        );
        assert_eq!(
            error("{ England = 21.9 }", "{ Wales = 21.9 }"),
            "test.toml: benchmark.values.SCS03.\"2017-18\".Wales: not a comparator listed in benchmark.comparators"
        );
        assert_eq!(
            error("\"Statistical neighbours\"]", "\"England\"]"),
            "test.toml: benchmark.comparators[1]: \"England\" is listed twice"
        );
        assert!(error("comparators =", "comparator =").contains("unknown field `comparator`"));
    }
}
