//! Stable event ids: derived from what identifies the recorded fact (the
//! collection, the child, what kind of fact and its start date), never from
//! the file or the row, so that the same fact read from two returns gets
//! the same id and the event contract's revisions settle which one holds.

use crate::calendar::Date;

/// Which collection a fact comes from: a prefix that keeps the ids of the
/// two collections apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Collection {
    /// The SSDA903 children looked after return.
    Ssda903,
    /// The Children in Need census.
    Cin,
}

impl Collection {
    fn prefix(self) -> &'static str {
        match self {
            Collection::Ssda903 => "903",
            Collection::Cin => "cin",
        }
    }
}

/// The id of a fact of which a child has one (`unit`, `details`).
pub fn child_fact(collection: Collection, child: &str, kind: &str) -> String {
    format!("{}:{child}:{kind}", collection.prefix())
}

/// The id of a fact identified by the child, its kind and a date (the start
/// of the period, placement, episode or plan; the date of a review).
pub fn dated_fact(collection: Collection, child: &str, kind: &str, date: Date) -> String {
    format!("{}:{child}:{kind}:{date}", collection.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_collection_child_kind_and_date() {
        let date = Date::from_ymd(2019, 6, 3).unwrap();
        assert_eq!(
            dated_fact(Collection::Ssda903, "C1", "cic", date),
            "903:C1:cic:2019-06-03"
        );
        assert_eq!(
            child_fact(Collection::Cin, "C1", "details"),
            "cin:C1:details"
        );
    }
}
