//! What a scorecard means (`docs/scorecard.md`): readings over windows, values
//! by kind, RAG by polarity, small denominators, direction of travel, the
//! rolling-3-month column and month-end rows.
//!
//! Numerators and denominators stay integers (FTE in millionths) until a value
//! is formed; the value is an exact ratio of `i128`s, rounded once (half away
//! from zero, decision D23) for RAG and DOT. Floats appear only when a
//! value is rendered.

use crate::calendar::{Date, Month, Window};
use crate::config::{Config, TargetSpec, UnitIdx};
use crate::contrib::Slot;
use crate::indicators::{Catalogue, Indicator, Kind, Polarity, Query, SlotDef};
use crate::series::{SeriesStore, Sums};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Raw numerator and denominator for a unit, date and window, scaled as the
/// indicator declares (for rates the denominator is population / 10,000 in
/// millionths; for counts it is unused).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Reading {
    /// Numerator.
    pub num: i64,
    /// Denominator.
    pub den: i64,
}

/// An exact value `numerator / denominator` (denominator > 0).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ratio {
    /// Numerator.
    pub numerator: i128,
    /// Denominator, positive.
    pub denominator: i128,
}

impl Ratio {
    /// The value rounded to one decimal place, half away from zero (decision D23), in tenths.
    pub fn tenths(self) -> i128 {
        let scaled = self.numerator * 10;
        let quotient = scaled / self.denominator;
        let remainder = scaled % self.denominator;
        if 2 * remainder.abs() >= self.denominator {
            quotient + scaled.signum()
        } else {
            quotient
        }
    }

    /// The unrounded value, for rendering.
    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

/// A RAG rating.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Rag {
    /// Target achieved.
    Green,
    /// Floor achieved, target not.
    Amber,
    /// Floor not achieved.
    Red,
}

impl Rag {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
        }
    }

    /// The metric encoding: 0 green, 1 amber, 2 red.
    pub fn as_number(self) -> i64 {
        match self {
            Rag::Green => 0,
            Rag::Amber => 1,
            Rag::Red => 2,
        }
    }
}

/// Direction of travel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dot {
    /// Better than a month earlier.
    Improved,
    /// Equal at the shown precision.
    Same,
    /// Worse than a month earlier.
    Worsened,
}

impl Dot {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dot::Improved => "improved",
            Dot::Same => "same",
            Dot::Worsened => "worsened",
        }
    }
}

/// Reads indicator values from the series.
pub struct Reader<'a> {
    /// Configuration (units, populations, targets).
    pub config: &'a Config,
    /// Indicator slots.
    pub catalogue: &'a Catalogue,
    /// The series.
    pub series: &'a SeriesStore,
}

/// A reading with its value and rating, as at one date.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Numerator and denominator.
    pub reading: Reading,
    /// The value; `None` is "no data".
    pub value: Option<Ratio>,
    /// The RAG rating, if rated.
    pub rag: Option<Rag>,
}

impl<'a> Reader<'a> {
    /// The slot's definition.
    pub fn def(&self, slot: Slot) -> &'static Indicator {
        self.catalogue.slots[slot as usize].def
    }

    /// Numerator and denominator of `slot` at `unit` as at `date` over `window`.
    pub fn reading(&self, slot: Slot, unit: UnitIdx, date: Date, window: Window) -> Reading {
        let def = self.def(slot);
        let sums = |unit: UnitIdx| -> Sums {
            if def.is_flow() {
                self.series.between((slot, unit), window.start(date), date)
            } else {
                self.series.through((slot, unit), date)
            }
        };
        match def.query {
            Query::Plain => {
                let sums = sums(unit);
                Reading {
                    num: sums.num,
                    den: sums.den,
                }
            }
            Query::Population => {
                let population = self
                    .config
                    .populations
                    .get(&unit)
                    .and_then(|population| population.for_year(date.financial_year()))
                    .unwrap_or(0);
                Reading {
                    num: sums(unit).num,
                    // population / 10,000 in millionths.
                    den: (population as i64).saturating_mul(100),
                }
            }
            Query::Caseload { leaf_kind } => {
                let gate = self
                    .catalogue
                    .gate
                    .expect("caseload slots come with a gate");
                let mut total = Sums::default();
                for leaf in self.config.leaves_of_kind_under(unit, leaf_kind) {
                    if self.series.through((gate, leaf), date).num > 0 {
                        total = total + self.series.through((slot, leaf), date);
                    }
                }
                Reading {
                    num: total.num,
                    den: total.den,
                }
            }
        }
    }

    /// Reading, value and RAG of `slot` at `unit` as at `date` over `window`.
    pub fn evaluate(&self, slot: Slot, unit: UnitIdx, date: Date, window: Window) -> Evaluation {
        let def = self.def(slot);
        let reading = self.reading(slot, unit, date, window);
        let value = value_of(def, reading);
        let rag = rag(def, self.target(slot, date), reading, value);
        Evaluation {
            reading,
            value,
            rag,
        }
    }

    /// The target in force for the financial year of `date`.
    pub fn target(&self, slot: Slot, date: Date) -> Option<&'a TargetSpec> {
        let entry = self.catalogue.slots[slot as usize].entry?;
        self.config.indicators[entry].target_for(date.financial_year())
    }

    /// The month-end row of `slot` at `unit` for `month`.
    pub fn month_row(&self, slot: Slot, unit: UnitIdx, month: Month) -> Row {
        self.row_at(slot, unit, month.last_day(), month)
    }

    /// A row as at `date`, comparing with the ends of the months before
    /// `month` (the month holding `date`, or the month itself at a month end).
    pub fn row_at(&self, slot: Slot, unit: UnitIdx, date: Date, month: Month) -> Row {
        let slot_def: &SlotDef = &self.catalogue.slots[slot as usize];
        let def = slot_def.def;
        let window = def.window;
        let now = self.evaluate(slot, unit, date, window);
        let month_ago = self.evaluate(slot, unit, month.plus(-1).last_day(), window);
        let year_ago = self.evaluate(slot, unit, month.plus(-12).last_day(), window);
        let target = self.target(slot, date);
        let dot = dot(def.polarity, target, now.value, month_ago.value);
        let r3m = (window == Window::R12M).then(|| self.evaluate(slot, unit, date, Window::R3M));
        Row {
            slot,
            unit,
            date,
            now,
            month_ago: month_ago.value,
            year_ago: year_ago.value,
            dot,
            r3m,
        }
    }
}

/// One scorecard row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The slot.
    pub slot: Slot,
    /// The unit.
    pub unit: UnitIdx,
    /// The as-of date.
    pub date: Date,
    /// The value as at the date.
    pub now: Evaluation,
    /// The value at the end of the previous month.
    pub month_ago: Option<Ratio>,
    /// The value at the end of the same month a year earlier.
    pub year_ago: Option<Ratio>,
    /// Direction of travel against a month ago.
    pub dot: Option<Dot>,
    /// The rolling-3-month reading for R12M indicators.
    pub r3m: Option<Evaluation>,
}

/// The value of a reading; `None` when the denominator is 0 (no data).
pub fn value_of(def: &Indicator, reading: Reading) -> Option<Ratio> {
    let num = i128::from(reading.num);
    let den = i128::from(reading.den);
    let (num_scale, den_scale) = (i128::from(def.num_scale), i128::from(def.den_scale));
    let (numerator, denominator) = match def.kind {
        Kind::Count => (num, num_scale),
        Kind::Percent => (num * den_scale * 100, den * num_scale),
        Kind::Average | Kind::Rate | Kind::Ratio => (num * den_scale, den * num_scale),
    };
    if denominator == 0 {
        return None;
    }
    let sign = denominator.signum();
    Some(Ratio {
        numerator: numerator * sign,
        denominator: denominator * sign,
    })
}

/// Whether the denominator is small (1 to 9 in reported units): dashboards warn.
pub fn small_denominator(def: &Indicator, reading: Reading) -> bool {
    def.kind != Kind::Count && reading.den >= def.den_scale && reading.den < 10 * def.den_scale
}

/// The RAG rating (`docs/scorecard.md`): none without polarity, value, target,
/// or with a denominator below 5 (decision D24); on the value rounded to one decimal.
pub fn rag(
    def: &Indicator,
    target: Option<&TargetSpec>,
    reading: Reading,
    value: Option<Ratio>,
) -> Option<Rag> {
    let value = value?;
    let target = target?;
    if def.kind != Kind::Count && reading.den < 5 * def.den_scale {
        return None;
    }
    let shown = Decimal::from_i128_with_scale(value.tenths(), 1);
    match (def.polarity, target) {
        (Polarity::High, TargetSpec::Bound { target, floor }) => Some(if shown >= *target {
            Rag::Green
        } else if shown >= *floor {
            Rag::Amber
        } else {
            Rag::Red
        }),
        (Polarity::Low, TargetSpec::Bound { target, floor }) => Some(if shown <= *target {
            Rag::Green
        } else if shown <= *floor {
            Rag::Amber
        } else {
            Rag::Red
        }),
        (
            Polarity::Target,
            TargetSpec::Range {
                target_range,
                floor_range,
                ..
            },
        ) => Some(if target_range.0 <= shown && shown <= target_range.1 {
            Rag::Green
        } else if floor_range.0 <= shown && shown <= floor_range.1 {
            Rag::Amber
        } else {
            Rag::Red
        }),
        _ => None,
    }
}

/// Direction of travel from `before` to `now`, judged by polarity on values
/// rounded to one decimal; for T, closer to the middle of the target range is
/// better.
pub fn dot(
    polarity: Polarity,
    target: Option<&TargetSpec>,
    now: Option<Ratio>,
    before: Option<Ratio>,
) -> Option<Dot> {
    let (now, before) = (now?.tenths(), before?.tenths());
    if now == before {
        return Some(Dot::Same);
    }
    let better = match polarity {
        Polarity::High => now > before,
        Polarity::Low => now < before,
        Polarity::Target => {
            let middle = match target? {
                TargetSpec::Range { target_range, .. } => {
                    (target_range.0 + target_range.1) / Decimal::from(2)
                }
                TargetSpec::Bound { target, .. } => *target,
            };
            let distance = |tenths: i128| (Decimal::from_i128_with_scale(tenths, 1) - middle).abs();
            let (now_distance, before_distance) = (distance(now), distance(before));
            if now_distance == before_distance {
                return Some(Dot::Same);
            }
            now_distance < before_distance
        }
        Polarity::None => return None,
    };
    Some(if better { Dot::Improved } else { Dot::Worsened })
}

/// Renders a scaled amount as a JSON number: an integer when the scale is 1,
/// otherwise the exact decimal.
pub fn amount_json(amount: i64, scale: i64) -> serde_json::Value {
    if scale == 1 {
        serde_json::Value::from(amount)
    } else {
        let decimal =
            Decimal::from_i128_with_scale(i128::from(amount), scale_digits(scale)).normalize();
        serde_json::Value::Number(
            serde_json::Number::from_f64(decimal.to_string().parse::<f64>().unwrap_or(0.0))
                .unwrap_or_else(|| serde_json::Number::from(0)),
        )
    }
}

/// Renders a scaled amount as text with its exact decimals.
pub fn amount_text(amount: i64, scale: i64) -> String {
    if scale == 1 {
        amount.to_string()
    } else {
        Decimal::from_i128_with_scale(i128::from(amount), scale_digits(scale))
            .normalize()
            .to_string()
    }
}

fn scale_digits(scale: i64) -> u32 {
    let mut digits = 0;
    let mut rest = scale;
    while rest > 1 {
        rest /= 10;
        digits += 1;
    }
    digits
}

/// Renders a value as a JSON number: an integer for counts, else unrounded.
pub fn value_json(def: &Indicator, value: Option<Ratio>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(ratio) if def.kind == Kind::Count && ratio.denominator == 1 => {
            serde_json::Value::from(ratio.numerator as i64)
        }
        Some(ratio) => serde_json::Number::from_f64(ratio.to_f64())
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
    }
}

/// Renders a value rounded to its shown precision ("22.0%", "339.6", "3").
pub fn value_text(def: &Indicator, value: Option<Ratio>) -> String {
    let Some(ratio) = value else {
        return "-".into();
    };
    if def.kind == Kind::Count && ratio.denominator == 1 {
        return ratio.numerator.to_string();
    }
    let shown = Decimal::from_i128_with_scale(ratio.tenths(), 1);
    if def.kind == Kind::Percent {
        format!("{shown}%")
    } else {
        shown.to_string()
    }
}

/// A decimal as a JSON number.
pub fn decimal_json(value: Decimal) -> serde_json::Value {
    serde_json::Number::from_f64(value.to_string().parse::<f64>().unwrap_or(0.0))
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::by_id;
    use std::str::FromStr;

    fn ratio(numerator: i128, denominator: i128) -> Ratio {
        Ratio {
            numerator,
            denominator,
        }
    }

    fn bound(target: &str, floor: &str) -> TargetSpec {
        TargetSpec::Bound {
            target: Decimal::from_str(target).unwrap(),
            floor: Decimal::from_str(floor).unwrap(),
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_the_exact_value() {
        assert_eq!(ratio(2245, 100).tenths(), 225); // 22.45 -> 22.5
        assert_eq!(ratio(2244, 100).tenths(), 224);
        assert_eq!(ratio(-2245, 100).tenths(), -225);
        assert_eq!(ratio(1, 3).tenths(), 3);
        assert_eq!(ratio(2, 3).tenths(), 7);
    }

    #[test]
    fn percent_values_and_rag_bands() {
        let scs03 = by_id("SCS03").unwrap(); // L, 25 / 30
        let target = bound("25.0", "30.0");
        let reading = Reading {
            num: 3930,
            den: 17847,
        };
        let value = value_of(scs03, reading).unwrap();
        assert_eq!(value.tenths(), 220); // 22.0%, as the August 2017 scorecard
        assert_eq!(
            rag(scs03, Some(&target), reading, Some(value)),
            Some(Rag::Green)
        );
        let amber = Reading {
            num: 2501,
            den: 10000,
        }; // 25.01 rounds to 25.0: still green
        assert_eq!(
            rag(scs03, Some(&target), amber, value_of(scs03, amber)),
            Some(Rag::Green)
        );
        let amber = Reading {
            num: 2506,
            den: 10000,
        }; // 25.06 -> 25.1: amber
        assert_eq!(
            rag(scs03, Some(&target), amber, value_of(scs03, amber)),
            Some(Rag::Amber)
        );
        let red = Reading {
            num: 3006,
            den: 10000,
        }; // 30.06 -> 30.1: red
        assert_eq!(
            rag(scs03, Some(&target), red, value_of(scs03, red)),
            Some(Rag::Red)
        );
        let at_floor = Reading {
            num: 3004,
            den: 10000,
        }; // 30.04 -> 30.0: amber
        assert_eq!(
            rag(scs03, Some(&target), at_floor, value_of(scs03, at_floor)),
            Some(Rag::Amber)
        );
        // High polarity: "Below 70% = Red, 70% to 80% = Amber, 80% and above = Green".
        let as01 = by_id("AS01").unwrap();
        let bands = bound("80.0", "70.0");
        for (num, expected) in [
            (80, Rag::Green),
            (79, Rag::Amber),
            (70, Rag::Amber),
            (69, Rag::Red),
        ] {
            let reading = Reading { num, den: 100 };
            assert_eq!(
                rag(as01, Some(&bands), reading, value_of(as01, reading)),
                Some(expected)
            );
        }
    }

    #[test]
    fn no_rag_below_a_denominator_of_five_or_without_target() {
        let as01 = by_id("AS01").unwrap();
        let target = bound("90.0", "80.0");
        let small = Reading { num: 1, den: 4 };
        assert_eq!(rag(as01, Some(&target), small, value_of(as01, small)), None);
        assert!(small_denominator(as01, small));
        let five = Reading { num: 5, den: 5 };
        assert_eq!(
            rag(as01, Some(&target), five, value_of(as01, five)),
            Some(Rag::Green)
        );
        assert!(!small_denominator(as01, Reading { num: 5, den: 10 }));
        assert_eq!(rag(as01, None, five, value_of(as01, five)), None);
        assert_eq!(value_of(as01, Reading { num: 0, den: 0 }), None);
    }

    #[test]
    fn fte_denominators_rate_from_five() {
        let scs41 = by_id("SCS41").unwrap(); // L 15 / 20, FTE in millionths
        let target = bound("15.0", "20.0");
        let rated = Reading {
            num: 1_000_000,
            den: 11_900_000,
        }; // 1 / 11.9 FTE = 8.4%
        assert_eq!(
            rag(scs41, Some(&target), rated, value_of(scs41, rated)),
            Some(Rag::Green)
        );
        let unrated = Reading {
            num: 1_000_000,
            den: 4_500_000,
        };
        assert_eq!(
            rag(scs41, Some(&target), unrated, value_of(scs41, unrated)),
            None
        );
        assert!(small_denominator(scs41, unrated));
    }

    #[test]
    fn target_range_and_direction_of_travel() {
        let scs13 = by_id("SCS13").unwrap();
        let range = TargetSpec::Range {
            target: Decimal::from(20),
            target_range: (
                Decimal::from_str("17.5").unwrap(),
                Decimal::from_str("22.5").unwrap(),
            ),
            floor_range: (
                Decimal::from_str("12.5").unwrap(),
                Decimal::from_str("27.5").unwrap(),
            ),
        };
        for (num, expected) in [
            (175, Rag::Green),
            (225, Rag::Green),
            (174, Rag::Amber),
            (276, Rag::Red),
            (124, Rag::Red),
        ] {
            let reading = Reading { num, den: 1000 };
            assert_eq!(
                rag(scs13, Some(&range), reading, value_of(scs13, reading)),
                Some(expected),
                "{num}"
            );
        }
        let percent = |num| value_of(scs13, Reading { num, den: 1000 });
        assert_eq!(
            dot(Polarity::Target, Some(&range), percent(210), percent(230)),
            Some(Dot::Improved)
        );
        assert_eq!(
            dot(Polarity::Target, Some(&range), percent(190), percent(210)),
            Some(Dot::Same)
        );
        assert_eq!(
            dot(Polarity::High, None, percent(210), percent(230)),
            Some(Dot::Worsened)
        );
        assert_eq!(
            dot(Polarity::Low, None, percent(210), percent(230)),
            Some(Dot::Improved)
        );
        assert_eq!(dot(Polarity::Low, None, None, percent(230)), None);
        // Equal at one decimal place is "same".
        let fine = |num| value_of(scs13, Reading { num, den: 100_000 });
        assert_eq!(
            dot(Polarity::High, None, fine(22_041), fine(22_049)),
            Some(Dot::Same)
        );
    }

    #[test]
    fn amounts_render_exactly() {
        assert_eq!(amount_text(398_600_000, 1_000_000), "398.6");
        assert_eq!(amount_json(398_600_000, 1_000_000).to_string(), "398.6");
        assert_eq!(amount_json(42, 1).to_string(), "42");
        assert_eq!(amount_text(34_000_000, 1_000_000), "34");
    }
}
