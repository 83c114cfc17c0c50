//! Dates, months, financial years, working days and reporting windows.
//!
//! Every piece of indicator arithmetic in ragline is on calendar dates (event
//! time). This module is pure: it knows nothing of events, units or storage.
//! Month arithmetic clamps to the end of the target month
//! (2016-08-31 + 6 months = 2017-02-28) as `docs/scorecard.md` requires.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar date, stored as days since 1970-01-01 (proleptic Gregorian).
///
/// Four bytes, `Copy`, totally ordered: the one date type of the engine.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(i32);

const EPOCH_DAYS_FROM_CE: i32 = 719_163; // NaiveDate(1970-01-01).num_days_from_ce()

/// The years a [`Date`] can hold: chrono's `NaiveDate` range, so that
/// [`Date::to_naive`] never fails for a date built here.
const YEARS: std::ops::RangeInclusive<i32> = -262_143..=262_142;

/// Whether `year` is a leap year (proleptic Gregorian).
fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1-12) of `year`.
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (H. Hinnant's
/// `days_from_civil`: years are counted from March so the leap day is last).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era - 719_468) as i32
}

/// Year, month and day of a count of days since 1970-01-01 (the inverse of
/// [`days_from_civil`]).
fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let days = i64::from(days) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

impl Date {
    /// 0001-01-01, used as "no lower bound" (no event can be dated earlier).
    pub const MIN: Date = Date(-719_162);
    /// 9999-12-31, used as "open-ended" (no event can be dated later).
    pub const MAX: Date = Date(2_932_896);

    /// Builds a date from year, month (1-12) and day; `None` if it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = YEARS.contains(&year)
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day);
        valid.then(|| Date(days_from_civil(year, month, day)))
    }

    /// Converts from chrono's date type.
    pub fn from_naive(date: NaiveDate) -> Date {
        Date(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
    }

    /// Converts to chrono's date type. Panics only for the sentinel values.
    pub fn to_naive(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0 + EPOCH_DAYS_FROM_CE)
            .expect("date within chrono's range")
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date `days` days since 1970-01-01.
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Parses strict `YYYY-MM-DD` (four-digit year, two-digit month and day).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let mut value = 0u32;
            for &byte in &bytes[range] {
                if !byte.is_ascii_digit() {
                    return None;
                }
                value = value * 10 + u32::from(byte - b'0');
            }
            Some(value)
        };
        let year = digits(0..4)?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        Date::from_ymd(year as i32, month, day)
    }

    /// The date `days` days later (earlier when negative).
    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Days from `earlier` to `self` (negative when `self` is earlier).
    pub fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// The date `months` calendar months later (earlier when negative), clamped
    /// to the last day of the target month.
    pub fn add_months(self, months: i32) -> Date {
        if self >= Date::MAX || self <= Date::MIN {
            return self;
        }
        let (year, month, day) = self.ymd();
        let target = i64::from(year) * 12 + i64::from(month) - 1 + i64::from(months);
        let target_year = target.div_euclid(12);
        let target_month = target.rem_euclid(12) as u32 + 1;
        match i32::try_from(target_year) {
            Ok(target_year) if YEARS.contains(&target_year) => Date(days_from_civil(
                target_year,
                target_month,
                day.min(days_in_month(target_year, target_month)),
            )),
            _ if months >= 0 => Date::MAX,
            _ => Date::MIN,
        }
    }

    /// The calendar month holding this date.
    pub fn month(self) -> Month {
        let (year, month, _) = self.ymd();
        Month(year * 12 + month as i32 - 1)
    }

    /// Year, month (1-12) and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Whether this is the last day of its month.
    pub fn is_month_end(self) -> bool {
        self.month().last_day() == self
    }

    /// Day of the week, 0 = Monday ... 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    /// The financial year (starting 1 April) that contains this date.
    pub fn financial_year(self) -> FinancialYear {
        let (year, month, _) = self.ymd();
        FinancialYear(if month >= 4 { year } else { year - 1 })
    }

    /// Whole years of age at `self` for someone born on `birth`
    /// (decision D14: the largest n with birth + 12n months <= self,
    /// clamped; negative before the birth date).
    pub fn age_years_since(self, birth: Date) -> i32 {
        // The birthday in `self`'s year is within it; if it is still to come,
        // one year less. No loop, so no date (not even a sentinel) can hang it.
        let years = self.ymd().0 - birth.ymd().0;
        if birth.add_months(12 * years) > self {
            years - 1
        } else {
            years
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Date::MIN {
            return f.write_str("-inf");
        }
        if *self == Date::MAX {
            return f.write_str("+inf");
        }
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A calendar month, stored as `year * 12 + (month - 1)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month(i32);

impl Month {
    /// Builds a month from year and month number (1-12).
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12)
            .contains(&month)
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        Month::new(year.parse().ok()?, month.parse().ok()?)
    }

    /// The month's ordinal (`year * 12 + month - 1`).
    pub fn index(self) -> i32 {
        self.0
    }

    /// The month with the given ordinal.
    pub fn from_index(index: i32) -> Month {
        Month(index)
    }

    /// Year and month number (1-12).
    pub fn year_month(self) -> (i32, u32) {
        (self.0.div_euclid(12), self.0.rem_euclid(12) as u32 + 1)
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        let (year, month) = self.year_month();
        Date::from_ymd(year, month, 1).expect("first day exists")
    }

    /// The last day of the month.
    pub fn last_day(self) -> Date {
        self.plus(1).first_day().add_days(-1)
    }

    /// The month `months` later (earlier when negative).
    pub fn plus(self, months: i32) -> Month {
        Month(self.0 + months)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month) = self.year_month();
        write!(f, "{year:04}-{month:02}")
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A financial year, named by the calendar year in which it starts (1 April).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct FinancialYear(pub i32);

impl FinancialYear {
    /// 1 April of the year.
    pub fn first_day(self) -> Date {
        Date::from_ymd(self.0, 4, 1).expect("1 April exists")
    }

    /// Parses `2017-18` or `2017`.
    pub fn parse(text: &str) -> Option<FinancialYear> {
        let (start, end) = match text.split_once('-') {
            Some((start, end)) => (start, Some(end)),
            None => (text, None),
        };
        if start.len() != 4 {
            return None;
        }
        let year: i32 = start.parse().ok()?;
        if let Some(end) = end {
            let expected = format!("{:02}", (year + 1).rem_euclid(100));
            if end != expected {
                return None;
            }
        }
        Some(FinancialYear(year))
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.0, (self.0 + 1).rem_euclid(100))
    }
}

/// A reporting window (`docs/scorecard.md`, "Windows (period codes)").
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Window {
    /// Rolling 12 months.
    R12M,
    /// Rolling 3 months.
    R3M,
    /// Financial year to date.
    Ytd,
    /// The calendar month to date.
    M,
    /// Snapshot: the state on the date itself.
    Ss,
}

impl Window {
    /// The code shown in scorecards.
    pub fn code(self) -> &'static str {
        match self {
            Window::R12M => "R12M",
            Window::R3M => "R3M",
            Window::Ytd => "YTD",
            Window::M => "M",
            Window::Ss => "SS",
        }
    }

    /// Parses a period code.
    pub fn parse(code: &str) -> Option<Window> {
        Some(match code {
            "R12M" => Window::R12M,
            "R3M" => Window::R3M,
            "YTD" => Window::Ytd,
            "M" => Window::M,
            "SS" | "MS" => Window::Ss,
            _ => return None,
        })
    }

    /// The first date (inclusive) of the facts this window covers as at `date`;
    /// the window always ends on `date` inclusive. For `Ss` this is `date`.
    pub fn start(self, date: Date) -> Date {
        match self {
            Window::R12M => rolling_start(date, 12),
            Window::R3M => rolling_start(date, 3),
            Window::Ytd => date.financial_year().first_day(),
            Window::M => date.month().first_day(),
            Window::Ss => date,
        }
    }
}

/// Start of a rolling window of `months` months ending on `date`: whole
/// calendar months at a month end, otherwise the day after the same date
/// `months` months earlier (clamped).
pub fn rolling_start(date: Date, months: i32) -> Date {
    if date.is_month_end() {
        date.month().plus(1 - months).first_day()
    } else {
        date.add_months(-months).add_days(1)
    }
}

/// Working days: Monday to Friday minus configured bank holidays.
///
/// Answers "the N-th working day after X" with a binary search over a
/// precomputed table of working days covering `TABLE_FIRST..TABLE_END`; dates
/// outside the table fall back to stepping day by day.
#[derive(Clone, Debug)]
pub struct WorkingCalendar {
    holidays: Vec<Date>,
    working: Vec<Date>,
}

const TABLE_FIRST_YEAR: i32 = 1990;
const TABLE_END_YEAR: i32 = 2061;

impl WorkingCalendar {
    /// Builds the calendar from a list of bank holidays.
    pub fn new(mut holidays: Vec<Date>) -> WorkingCalendar {
        holidays.sort_unstable();
        holidays.dedup();
        let first = Date::from_ymd(TABLE_FIRST_YEAR, 1, 1).expect("valid");
        let end = Date::from_ymd(TABLE_END_YEAR, 1, 1).expect("valid");
        let mut working = Vec::with_capacity((end.days_since(first) as usize) * 5 / 7 + 8);
        let mut day = first;
        while day < end {
            if day.weekday() < 5 && holidays.binary_search(&day).is_err() {
                working.push(day);
            }
            day = day.add_days(1);
        }
        WorkingCalendar { holidays, working }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        date.weekday() < 5 && self.holidays.binary_search(&date).is_err()
    }

    /// The `n`-th working day after `date` (`date` itself never counts);
    /// `n = 0` gives `date`.
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        if n == 0 {
            return date;
        }
        if let (Some(first), Some(last)) = (self.working.first(), self.working.last()) {
            if date >= *first && date < *last {
                let index = self.working.partition_point(|day| *day <= date) + n as usize - 1;
                if let Some(day) = self.working.get(index) {
                    return *day;
                }
            }
        }
        let mut day = date;
        let mut remaining = n;
        while remaining > 0 {
            day = day.add_days(1);
            if self.is_working_day(day) {
                remaining -= 1;
            }
        }
        day
    }

    /// The configured bank holidays, sorted.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    /// The civil arithmetic against chrono (an independent implementation)
    /// on every day of years 0-10000 and a spread of month shifts.
    #[test]
    fn civil_arithmetic_agrees_with_chrono() {
        use chrono::Months;
        let first = Date::MIN.add_days(-400);
        let last = Date::MAX.add_days(400);
        let mut day = first;
        while day <= last {
            let naive = day.to_naive();
            assert_eq!(day.ymd(), (naive.year(), naive.month(), naive.day()));
            assert_eq!(
                Date::from_ymd(naive.year(), naive.month(), naive.day()),
                Some(day)
            );
            assert_eq!(day.month().year_month(), (naive.year(), naive.month()));
            if day.days() % 13 == 0 && day > Date::MIN && day < Date::MAX {
                for months in [-1201i32, -25, -12, -1, 1, 6, 11, 12, 13, 48, 1200] {
                    let expected = if months >= 0 {
                        naive.checked_add_months(Months::new(months as u32))
                    } else {
                        naive.checked_sub_months(Months::new(months.unsigned_abs()))
                    };
                    assert_eq!(
                        day.add_months(months),
                        Date::from_naive(expected.unwrap()),
                        "{day} + {months} months"
                    );
                }
            }
            day = day.add_days(1);
        }
        for (year, month, day) in [(2023, 2, 29), (2024, 2, 30), (2024, 13, 1), (2024, 4, 31)] {
            assert_eq!(Date::from_ymd(year, month, day), None);
        }
        assert_eq!(Date::from_ymd(2024, 2, 29), Some(d("2024-02-29")));
    }

    #[test]
    fn sentinels_are_the_extreme_four_digit_years() {
        assert_eq!(Date::MIN, d("0001-01-01"));
        assert_eq!(Date::MAX, d("9999-12-31"));
        assert_eq!(
            Date::MAX.add_days(-1).add_months(12),
            Date::from_ymd(10000, 12, 30).unwrap()
        );
        assert_eq!(Date::MAX.add_months(1), Date::MAX);
    }

    #[test]
    fn parse_is_strict() {
        assert_eq!(d("2017-08-31").ymd(), (2017, 8, 31));
        for bad in [
            "2017-02-29",
            "2017-13-01",
            "2017-04-31",
            "2017-1-05",
            "17-01-05",
            "2017/01/05",
            "",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
        assert!(Date::parse("2016-02-29").is_some());
    }

    #[test]
    fn month_arithmetic_clamps() {
        assert_eq!(d("2016-08-31").add_months(6), d("2017-02-28"));
        assert_eq!(d("2016-02-29").add_months(12), d("2017-02-28"));
        assert_eq!(d("2017-08-14").add_months(-12), d("2016-08-14"));
        assert_eq!(d("2017-05-30").add_months(-3), d("2017-02-28"));
    }

    #[test]
    fn windows_match_the_spec_examples() {
        let end = d("2017-08-31");
        assert_eq!(Window::R12M.start(end), d("2016-09-01"));
        assert_eq!(Window::R3M.start(end), d("2017-06-01"));
        assert_eq!(Window::Ytd.start(end), d("2017-04-01"));
        assert_eq!(Window::M.start(end), d("2017-08-01"));
        // Any other day: the day after the same date one year earlier.
        assert_eq!(Window::R12M.start(d("2017-08-14")), d("2016-08-15"));
        // A February month end after a leap year: whole months.
        assert_eq!(Window::R12M.start(d("2017-02-28")), d("2016-03-01"));
        assert_eq!(Window::Ytd.start(d("2018-03-31")), d("2017-04-01"));
    }

    #[test]
    fn working_days_skip_weekends_and_bank_holidays() {
        // 2017-08-28 is the Summer bank holiday (a Monday).
        let calendar = WorkingCalendar::new(vec![d("2017-08-28")]);
        // Friday 25 August + 1 working day = Tuesday 29 August.
        assert_eq!(
            calendar.add_working_days(d("2017-08-25"), 1),
            d("2017-08-29")
        );
        // Saturday + 1 = Tuesday as well.
        assert_eq!(
            calendar.add_working_days(d("2017-08-26"), 1),
            d("2017-08-29")
        );
        // Thursday 24 August + 5 = Friday 1 September.
        assert_eq!(
            calendar.add_working_days(d("2017-08-24"), 5),
            d("2017-09-01")
        );
        assert_eq!(
            calendar.add_working_days(d("2017-08-24"), 0),
            d("2017-08-24")
        );
        // Outside the table the slow path gives the same answer shape.
        assert_eq!(
            calendar.add_working_days(d("1980-01-04"), 1),
            d("1980-01-07")
        );
    }

    #[test]
    fn ages_use_clamped_birthdays() {
        let birth = d("2004-02-29");
        // 2020 is a leap year: the 16th birthday is 29 February itself.
        assert_eq!(d("2020-02-28").age_years_since(birth), 15);
        assert_eq!(d("2020-02-29").age_years_since(birth), 16);
        assert_eq!(d("2021-02-28").age_years_since(birth), 17);
        assert_eq!(d("2021-02-27").age_years_since(birth), 16);
        assert_eq!(d("2004-02-28").age_years_since(birth), -1);
        assert_eq!(d("2017-06-01").age_years_since(d("2001-06-01")), 16);
        assert_eq!(d("2017-05-31").age_years_since(d("2001-06-01")), 15);
    }

    #[test]
    fn financial_years_and_weekdays() {
        assert_eq!(d("2017-03-31").financial_year(), FinancialYear(2016));
        assert_eq!(d("2017-04-01").financial_year(), FinancialYear(2017));
        assert_eq!(FinancialYear::parse("2017-18"), Some(FinancialYear(2017)));
        assert_eq!(FinancialYear::parse("2017-19"), None);
        assert_eq!(FinancialYear(2017).to_string(), "2017-18");
        assert_eq!(d("2017-08-28").weekday(), 0);
        assert_eq!(d("2017-08-27").weekday(), 6);
    }
}
