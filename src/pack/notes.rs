//! The data notes of an exception page, in the published wording
//! (`docs/committee-pack.md`, "Data notes"): the target with its RAG bandings
//! in words and numbers, the tolerance, what the period covers with the
//! concrete dates, and the data source. Also the sentence giving how many
//! cases fell outside the standard (decision D31).
//!
//! Every sentence is generated from the configuration (targets, floors and
//! ranges for the financial year, the data source) and the indicator
//! definition (kind, polarity, window); nothing is written per indicator.

use crate::calendar::{Date, Month, Window};
use crate::config::TargetSpec;
use crate::indicators::{Indicator, Kind, Polarity};
use crate::scorecard::{amount_text, Reading};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

const MONTH_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTH_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A month as the published pages name it: `Jun 2017`.
pub fn month_label(month: Month) -> String {
    let (year, number) = month.year_month();
    format!("{} {year}", MONTH_SHORT[(number - 1) as usize])
}

/// A date in words: `30 June 2017`.
pub fn date_label(date: Date) -> String {
    let (year, month, day) = date.ymd();
    format!("{day} {} {year}", MONTH_LONG[(month - 1) as usize])
}

/// A whole number with thousands separators: `2,461`.
pub fn grouped(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A target, floor or range end as the bandings state it: without trailing
/// zeros (`80`, `17.5`), with `%` for percentages.
pub fn bound_text(def: &Indicator, value: Decimal) -> String {
    let text = value.normalize().to_string();
    if def.kind == Kind::Percent {
        format!("{text}%")
    } else {
        text
    }
}

/// The target sentence with the RAG bandings in words and numbers, as the
/// published data notes give it (decision D29):
///
/// - `H`: `Target: 80% (RAG Bandings: Below 70% = Red, 70% to 80% = Amber, 80% and above = Green)`
/// - `L`: `Target: 18 (RAG Bandings: Above 22 = Red, 18 to 22 = Amber, 18 and below = Green)`
/// - `L` count with target 0: `Target: 0 (RAG Bandings: Above 10 = Red, 1 to 10 = Amber, 0 = Green)`
/// - `T`: `Target: 20% (RAG Bandings: Below 12.5% or above 27.5% = Red, 12.5% to 17.5% or 22.5% to 27.5% = Amber, 17.5% to 22.5% = Green)`
///
/// `year` names the financial year when no target is configured for it.
pub fn target_sentence(def: &Indicator, target: Option<&TargetSpec>, year: &str) -> String {
    if def.polarity == Polarity::None {
        return "Target: none (this indicator has no polarity and is not rated)".to_string();
    }
    let Some(target) = target else {
        return format!("Target: none set for {year} (not rated)");
    };
    let text = |value: Decimal| bound_text(def, value);
    match (def.polarity, target) {
        (Polarity::High, TargetSpec::Bound { target, floor }) => {
            let bands = if def.kind == Kind::Count {
                // Whole numbers: green from ceil(target), red below ceil(floor).
                let green = target.ceil();
                let amber_low = floor.ceil();
                let mut bands = vec![format!("Below {} = Red", text(amber_low))];
                if amber_low < green {
                    bands.push(format!(
                        "{} to {} = Amber",
                        text(amber_low),
                        text(green - Decimal::ONE)
                    ));
                }
                bands.push(format!("{} and above = Green", text(green)));
                bands
            } else {
                let mut bands = vec![format!("Below {} = Red", text(*floor))];
                if floor < target {
                    bands.push(format!("{} to {} = Amber", text(*floor), text(*target)));
                }
                bands.push(format!("{} and above = Green", text(*target)));
                bands
            };
            format!(
                "Target: {} (RAG Bandings: {})",
                text(*target),
                bands.join(", ")
            )
        }
        (Polarity::Low, TargetSpec::Bound { target, floor }) => {
            let bands = if def.kind == Kind::Count {
                // Whole numbers: green up to floor(target), red above floor(floor).
                let green = target.floor();
                let amber_high = floor.floor();
                let mut bands = vec![format!("Above {} = Red", text(amber_high))];
                if green < amber_high {
                    bands.push(format!(
                        "{} to {} = Amber",
                        text(green + Decimal::ONE),
                        text(amber_high)
                    ));
                }
                if green.is_zero() {
                    bands.push("0 = Green".to_string());
                } else {
                    bands.push(format!("{} and below = Green", text(green)));
                }
                bands
            } else {
                let mut bands = vec![format!("Above {} = Red", text(*floor))];
                if target < floor {
                    bands.push(format!("{} to {} = Amber", text(*target), text(*floor)));
                }
                bands.push(format!("{} and below = Green", text(*target)));
                bands
            };
            format!(
                "Target: {} (RAG Bandings: {})",
                text(*target),
                bands.join(", ")
            )
        }
        (
            Polarity::Target,
            TargetSpec::Range {
                target,
                target_range,
                floor_range,
            },
        ) => format!(
            "Target: {} (RAG Bandings: Below {} or above {} = Red, {} to {} or {} to {} = Amber, {} to {} = Green)",
            text(*target),
            text(floor_range.0),
            text(floor_range.1),
            text(floor_range.0),
            text(target_range.0),
            text(target_range.1),
            text(floor_range.1),
            text(target_range.0),
            text(target_range.1),
        ),
        _ => format!(
            "Target: the configured target for {year} does not fit polarity {} (not rated)",
            def.polarity.code()
        ),
    }
}

/// The tolerance sentence: which direction is better.
pub fn tolerance_sentence(def: &Indicator) -> String {
    match def.polarity {
        Polarity::High => "Tolerance: Higher values are better".to_string(),
        Polarity::Low => "Tolerance: Lower values are better".to_string(),
        Polarity::Target => {
            "Tolerance: Values closer to the target are better, in either direction".to_string()
        }
        Polarity::None => "Tolerance: None (no direction is better)".to_string(),
    }
}

/// What the value for `month` covers, in the published wording, with the
/// concrete dates of the indicator's window at the end of `month`.
pub fn period_sentence(def: &Indicator, month: Month) -> String {
    let end = month.last_day();
    let start = def.window.start(end);
    let label = month_label(month);
    let span = format!(
        "{} to {} ({} to {})",
        month_label(start.month()),
        label,
        date_label(start),
        date_label(end)
    );
    match def.window {
        Window::R12M => format!(
            "Data: Figures shown are based on a rolling 12 month period. The result for {label} shows performance for {span}."
        ),
        Window::R3M => format!(
            "Data: Figures shown are based on a rolling 3 month period. The result for {label} shows performance for {span}."
        ),
        Window::Ytd => format!(
            "Data: Figures shown are for the financial year to date. The result for {label} shows performance for {span}."
        ),
        Window::M => format!(
            "Data: Figures shown are for the reporting month. The result for {label} shows performance for {} to {}.",
            date_label(start),
            date_label(end)
        ),
        Window::Ss => format!(
            "Data: Figures shown are based on a snapshot as at the end of the reporting month. The result for {label} shows the position on {}.",
            date_label(end)
        ),
    }
}

/// The data-source sentence, when a source is configured.
pub fn source_sentence(source: Option<&str>) -> Option<String> {
    source.map(|source| format!("Data Source: {source}"))
}

/// How many counted cases fell outside the standard (decision D31).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outside {
    /// Cases (or FTE, scaled as stored) outside the standard.
    pub outside: i64,
    /// Cases (or FTE) counted: the denominator.
    pub counted: i64,
    /// The scale of both (1, or millionths for FTE).
    pub scale: i64,
    /// The sentence.
    pub sentence: String,
}

/// Cases outside the standard: for a percentage where higher is better, the
/// denominator less the numerator (those counted that did not meet it); where
/// lower is better, the numerator (those counted against it). None for other
/// kinds, for `T` and unrated indicators, and without data.
pub fn outside_standard(def: &Indicator, reading: Reading, month: Month) -> Option<Outside> {
    if def.kind != Kind::Percent || reading.den <= 0 || def.num_scale != def.den_scale {
        return None;
    }
    let outside = match def.polarity {
        Polarity::High => reading.den - reading.num,
        Polarity::Low => reading.num,
        Polarity::Target | Polarity::None => return None,
    };
    let scale = def.den_scale;
    let amount = |value: i64| {
        if scale == 1 {
            grouped(value)
        } else {
            format!("{} FTE", amount_text(value, scale))
        }
    };
    let what = if scale == 1 { "cases" } else { "FTE" };
    let when = match def.window {
        Window::Ss => format!("On {}", date_label(month.last_day())),
        window => {
            let start = window.start(month.last_day());
            format!(
                "From {} to {}",
                date_label(start),
                date_label(month.last_day())
            )
        }
    };
    let within = reading.den - outside;
    let sentence = if scale == 1 {
        format!(
            "{when}, {} of the {} {what} counted fell outside the standard ({} within it).",
            amount(outside),
            amount(reading.den),
            amount(within)
        )
    } else {
        format!(
            "{when}, {} of the {} counted fell outside the standard ({} within it).",
            amount(outside),
            amount(reading.den),
            amount(within)
        )
    };
    Some(Outside {
        outside,
        counted: reading.den,
        scale,
        sentence,
    })
}

/// The financial year of a month end, as configured years are named (`2017-18`).
pub fn year_name(month: Month) -> String {
    month.last_day().financial_year().to_string()
}

/// A decimal as a float, for JSON.
pub fn decimal_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::by_id;
    use std::str::FromStr;

    fn number(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn bound(target: &str, floor: &str) -> TargetSpec {
        TargetSpec::Bound {
            target: number(target),
            floor: number(floor),
        }
    }

    #[test]
    fn bandings_in_words_as_published() {
        // H percent: the adoption page of the published pack.
        let as01 = by_id("AS01").unwrap();
        assert_eq!(
            target_sentence(as01, Some(&bound("80.0", "70.0")), "2017-18"),
            "Target: 80% (RAG Bandings: Below 70% = Red, 70% to 80% = Amber, 80% and above = Green)"
        );
        // L ratio: the caseload page.
        let scs43 = by_id("SCS43").unwrap();
        assert_eq!(
            target_sentence(scs43, Some(&bound("18.0", "22.0")), "2017-18"),
            "Target: 18 (RAG Bandings: Above 22 = Red, 18 to 22 = Amber, 18 and below = Green)"
        );
        // L count with target 0: the unallocated cases page.
        let cin02 = by_id("CIN02").unwrap();
        assert_eq!(
            target_sentence(cin02, Some(&bound("0.0", "10.0")), "2017-18"),
            "Target: 0 (RAG Bandings: Above 10 = Red, 1 to 10 = Amber, 0 = Green)"
        );
        // T: the repeat child protection plans target range.
        let scs13 = by_id("SCS13").unwrap();
        let range = TargetSpec::Range {
            target: number("20"),
            target_range: (number("17.5"), number("22.5")),
            floor_range: (number("12.5"), number("27.5")),
        };
        assert_eq!(
            target_sentence(scs13, Some(&range), "2017-18"),
            "Target: 20% (RAG Bandings: Below 12.5% or above 27.5% = Red, 12.5% to 17.5% or 22.5% to 27.5% = Amber, 17.5% to 22.5% = Green)"
        );
        // No target for the year; a target that does not fit the polarity.
        assert_eq!(
            target_sentence(as01, None, "2018-19"),
            "Target: none set for 2018-19 (not rated)"
        );
        assert!(target_sentence(scs13, Some(&bound("20", "25")), "2017-18")
            .contains("does not fit polarity T"));
        // No amber band when target and floor coincide.
        assert_eq!(
            target_sentence(as01, Some(&bound("80", "80")), "2017-18"),
            "Target: 80% (RAG Bandings: Below 80% = Red, 80% and above = Green)"
        );
    }

    #[test]
    fn count_bandings_are_whole_numbers() {
        // An L count with a target above 0: green is the target and below.
        let cin02 = by_id("CIN02").unwrap();
        assert_eq!(
            target_sentence(cin02, Some(&bound("5", "12")), "2017-18"),
            "Target: 5 (RAG Bandings: Above 12 = Red, 6 to 12 = Amber, 5 and below = Green)"
        );
        // A fractional target on a count: 5.5 lets 5 be green, 12.5 lets 12 be amber.
        assert_eq!(
            target_sentence(cin02, Some(&bound("5.5", "12.5")), "2017-18"),
            "Target: 5.5 (RAG Bandings: Above 12 = Red, 6 to 12 = Amber, 5 and below = Green)"
        );
    }

    #[test]
    fn high_count_bandings_are_whole_numbers() {
        // No catalogue count has H polarity today; a made-up one checks the
        // rule: green from the target, red below the floor, whole numbers.
        static COUNT_H: Indicator = Indicator {
            id: "TEST-H",
            name: "A count where more is better",
            section: "TEST",
            kind: Kind::Count,
            window: Window::M,
            polarity: Polarity::High,
            default_uasc: crate::config::UascFilter::All,
            num_scale: 1,
            den_scale: 1,
            numerator: "-",
            denominator: "-",
            default_target: "15 / 10",
            child: None,
            unit: None,
            query: crate::indicators::Query::Plain,
        };
        assert_eq!(
            target_sentence(&COUNT_H, Some(&bound("15", "10")), "2017-18"),
            "Target: 15 (RAG Bandings: Below 10 = Red, 10 to 14 = Amber, 15 and above = Green)"
        );
        // 14.5 makes 15 the first green whole number; 9.5 makes 10 amber.
        assert_eq!(
            target_sentence(&COUNT_H, Some(&bound("14.5", "9.5")), "2017-18"),
            "Target: 14.5 (RAG Bandings: Below 10 = Red, 10 to 14 = Amber, 15 and above = Green)"
        );
        assert_eq!(
            period_sentence(&COUNT_H, Month::parse("2017-06").unwrap()),
            "Data: Figures shown are for the reporting month. The result for Jun 2017 shows performance for 1 June 2017 to 30 June 2017."
        );
    }

    #[test]
    fn tolerance_and_period_sentences() {
        let as01 = by_id("AS01").unwrap(); // R12M, H
        let june = Month::parse("2017-06").unwrap();
        assert_eq!(
            tolerance_sentence(as01),
            "Tolerance: Higher values are better"
        );
        assert_eq!(
            period_sentence(as01, Month::parse("2017-04").unwrap()),
            "Data: Figures shown are based on a rolling 12 month period. The result for Apr 2017 shows performance for May 2016 to Apr 2017 (1 May 2016 to 30 April 2017)."
        );
        let scs43 = by_id("SCS43").unwrap(); // SS, L
        assert_eq!(
            tolerance_sentence(scs43),
            "Tolerance: Lower values are better"
        );
        assert_eq!(
            period_sentence(scs43, june),
            "Data: Figures shown are based on a snapshot as at the end of the reporting month. The result for Jun 2017 shows the position on 30 June 2017."
        );
        // February in a leap year, and a window across the financial year.
        assert_eq!(
            period_sentence(as01, Month::parse("2016-02").unwrap()),
            "Data: Figures shown are based on a rolling 12 month period. The result for Feb 2016 shows performance for Mar 2015 to Feb 2016 (1 March 2015 to 29 February 2016)."
        );
        assert_eq!(
            source_sentence(Some("Liberi")).unwrap(),
            "Data Source: Liberi"
        );
        assert_eq!(source_sentence(None), None);
    }

    #[test]
    fn cases_outside_the_standard() {
        let as01 = by_id("AS01").unwrap(); // H percent, R12M
        let june = Month::parse("2017-06").unwrap();
        let outside = outside_standard(as01, Reading { num: 70, den: 112 }, june).unwrap();
        assert_eq!(outside.outside, 42);
        assert_eq!(
            outside.sentence,
            "From 1 July 2016 to 30 June 2017, 42 of the 112 cases counted fell outside the standard (70 within it)."
        );
        // L percent: the numerator is what counts against the standard.
        let cp01 = by_id("CP01").unwrap(); // L percent, SS
        let outside = outside_standard(
            cp01,
            Reading {
                num: 1927,
                den: 2461,
            },
            june,
        )
        .unwrap();
        assert_eq!(outside.outside, 1927);
        assert_eq!(
            outside.sentence,
            "On 30 June 2017, 1,927 of the 2,461 cases counted fell outside the standard (534 within it)."
        );
        // No sentence for T, for counts, for ratios and without data.
        assert_eq!(
            outside_standard(by_id("SCS13").unwrap(), Reading { num: 5, den: 20 }, june),
            None
        );
        assert_eq!(
            outside_standard(by_id("CIN02").unwrap(), Reading { num: 5, den: 0 }, june),
            None
        );
        assert_eq!(
            outside_standard(by_id("SCS43").unwrap(), Reading { num: 5, den: 20 }, june),
            None
        );
        assert_eq!(
            outside_standard(as01, Reading { num: 0, den: 0 }, june),
            None
        );
    }

    #[test]
    fn labels() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(10692), "10,692");
        assert_eq!(grouped(-1234567), "-1,234,567");
        assert_eq!(month_label(Month::parse("2017-09").unwrap()), "Sep 2017");
        assert_eq!(
            date_label(Date::from_ymd(2017, 9, 1).unwrap()),
            "1 September 2017"
        );
    }
}
