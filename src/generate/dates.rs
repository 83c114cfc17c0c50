//! Date helpers of the generator, on the crate's [`Date`].

use crate::calendar::Date;

/// The end of an interval still open when the history ends (later than any
/// date of the history).
pub(super) const OPEN_ENDED: Date = Date::MAX;

/// Saturday or Sunday.
pub(super) fn is_weekend(date: Date) -> bool {
    date.weekday() >= 5
}

/// The day itself if a weekday, else the next Monday.
pub(super) fn this_or_next_weekday(date: Date) -> Date {
    match date.weekday() {
        5 => date.add_days(2),
        6 => date.add_days(1),
        _ => date,
    }
}

/// The day itself if a weekday, else the Friday before (keeps on-time dates on time).
pub(super) fn this_or_previous_weekday(date: Date) -> Date {
    match date.weekday() {
        5 => date.add_days(-1),
        6 => date.add_days(-2),
        _ => date,
    }
}

/// The date a child born on `date_of_birth` turns `age` (29 February clamps to
/// 28 February).
pub(super) fn birthday(date_of_birth: Date, age: i32) -> Date {
    date_of_birth.add_months(12 * age)
}

/// Whole years of age on `date` (0 before the date of birth).
pub(super) fn age_at(date_of_birth: Date, date: Date) -> i32 {
    date.age_years_since(date_of_birth).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn weekdays_birthdays_and_ages() {
        assert!(is_weekend(day("2017-01-01"))); // a Sunday
        assert!(!is_weekend(day("2017-01-02")));
        assert_eq!(this_or_next_weekday(day("2017-01-07")), day("2017-01-09"));
        assert_eq!(this_or_next_weekday(day("2017-01-06")), day("2017-01-06"));
        assert_eq!(
            this_or_previous_weekday(day("2017-01-08")),
            day("2017-01-06")
        );
        assert_eq!(birthday(day("2008-02-29"), 1), day("2009-02-28"));
        assert_eq!(age_at(day("2008-02-29"), day("2009-02-27")), 0);
        assert_eq!(age_at(day("2008-02-29"), day("2009-02-28")), 1);
        assert_eq!(age_at(day("2000-06-15"), day("2018-06-15")), 18);
        assert_eq!(age_at(day("2000-06-15"), day("2018-06-14")), 17);
        assert_eq!(age_at(day("2000-06-15"), day("1999-06-14")), 0);
    }
}
