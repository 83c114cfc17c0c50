//! The Children in Need census of one collection year, from the children's
//! histories, in the elements the importer reads
//! (`crate::import::cin::element`): every case open during the year, with
//! its assessments, enquiries and plans open during the year and the plan
//! reviews held in it.

use super::super::facts::{CATEGORIES, CLOSE_REASONS};
use super::history::ChildHistory;
use super::{child_id, CollectionYear};
use crate::calendar::Date;
use crate::import::cin::{element, CATEGORY_CODE, CLOSURE_CODE, CLOSURE_CODE_OTHERWISE};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::io::{self, Write};
use std::path::Path;

type Xml = Writer<io::BufWriter<std::fs::File>>;

fn open(xml: &mut Xml, name: &str) -> io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new(name)))
}

fn close(xml: &mut Xml, name: &str) -> io::Result<()> {
    xml.write_event(Event::End(BytesEnd::new(name)))
}

fn leaf(xml: &mut Xml, name: &str, text: &str) -> io::Result<()> {
    open(xml, name)?;
    xml.write_event(Event::Text(BytesText::new(text)))?;
    close(xml, name)
}

fn date_leaf(xml: &mut Xml, name: &str, date: Date) -> io::Result<()> {
    leaf(xml, name, &date.to_string())
}

/// Writes the census of `year` to `path`; returns the episodes written. A
/// year without a case open in it has no census (the importer refuses one
/// without children): nothing is written.
pub(in crate::generate) fn write_year(
    children: &[&ChildHistory],
    year: CollectionYear,
    path: &Path,
) -> io::Result<u64> {
    let (first, last) = (year.first, year.last);
    let during =
        |start: Date, end: Option<Date>| start <= last && end.is_none_or(|end| end >= first);
    let any = children.iter().any(|child| {
        child
            .cases
            .iter()
            .any(|case| during(case.referral, case.last_activity()))
    });
    if !any {
        return Ok(0);
    }
    let file = std::fs::File::create(path)?;
    let mut xml = Writer::new_with_indent(io::BufWriter::new(file), b' ', 1);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    open(&mut xml, "Message")?;
    open(&mut xml, "Header")?;
    open(&mut xml, "CollectionDetails")?;
    leaf(&mut xml, "Collection", "CIN")?;
    leaf(&mut xml, element::YEAR, &year.year.to_string())?;
    date_leaf(&mut xml, element::REFERENCE_DATE, last)?;
    close(&mut xml, "CollectionDetails")?;
    close(&mut xml, "Header")?;
    open(&mut xml, "Children")?;
    let mut written = 0;
    for child in children {
        let cases: Vec<_> = child
            .cases
            .iter()
            .filter(|case| during(case.referral, case.last_activity()))
            .collect();
        if cases.is_empty() {
            continue;
        }
        open(&mut xml, element::CHILD)?;
        open(&mut xml, element::CHILD_IDENTIFIERS)?;
        leaf(&mut xml, element::CHILD_ID, &child_id(child.child))?;
        if let Some(birth) = child.birth {
            date_leaf(&mut xml, "PersonBirthDate", birth)?;
        }
        close(&mut xml, element::CHILD_IDENTIFIERS)?;
        for case in cases {
            written += 1;
            open(&mut xml, element::DETAILS)?;
            date_leaf(&mut xml, element::REFERRAL, case.referral)?;
            if let Some((closed, reason)) = case.closure.filter(|(closed, _)| *closed <= last) {
                date_leaf(&mut xml, element::CLOSURE, closed)?;
                let reason = CLOSE_REASONS[reason as usize];
                let code = CLOSURE_CODE
                    .iter()
                    .find(|(held, _)| *held == reason)
                    .map_or(CLOSURE_CODE_OTHERWISE, |(_, code)| code);
                leaf(&mut xml, element::CLOSURE_REASON, code)?;
            }
            for (started, completed) in &case.assessments {
                if !during(*started, Some(*completed)) {
                    continue;
                }
                open(&mut xml, element::ASSESSMENT)?;
                date_leaf(&mut xml, element::ASSESSMENT_START, *started)?;
                if *completed <= last {
                    date_leaf(&mut xml, element::ASSESSMENT_DONE, *completed)?;
                }
                close(&mut xml, element::ASSESSMENT)?;
            }
            for (started, enquiry) in &case.enquiries {
                let end = [enquiry.completed, enquiry.conference]
                    .into_iter()
                    .flatten()
                    .max();
                if !during(*started, end) {
                    continue;
                }
                open(&mut xml, element::ENQUIRY)?;
                date_leaf(&mut xml, element::ENQUIRY_START, *started)?;
                if let Some(conference) = enquiry.conference.filter(|day| *day <= last) {
                    date_leaf(&mut xml, element::CONFERENCE, conference)?;
                }
                close(&mut xml, element::ENQUIRY)?;
            }
            for (started, plan) in &case.plans {
                if !during(*started, plan.end) {
                    continue;
                }
                open(&mut xml, element::PLAN)?;
                date_leaf(&mut xml, element::PLAN_START, *started)?;
                if let Some(end) = plan.end.filter(|end| *end <= last) {
                    date_leaf(&mut xml, element::PLAN_END, end)?;
                }
                let category = CATEGORIES[plan.category as usize];
                if let Some((_, code)) = CATEGORY_CODE.iter().find(|(held, _)| *held == category) {
                    leaf(&mut xml, element::CATEGORY, code)?;
                }
                let reviews: Vec<&Date> = plan
                    .reviews
                    .iter()
                    .filter(|review| **review >= first && **review <= last)
                    .collect();
                if !reviews.is_empty() {
                    open(&mut xml, element::REVIEWS)?;
                    for review in reviews {
                        date_leaf(&mut xml, element::REVIEW, *review)?;
                    }
                    close(&mut xml, element::REVIEWS)?;
                }
                close(&mut xml, element::PLAN)?;
            }
            close(&mut xml, element::DETAILS)?;
        }
        close(&mut xml, element::CHILD)?;
    }
    close(&mut xml, "Children")?;
    close(&mut xml, "Message")?;
    let mut inner = xml.into_inner();
    inner.write_all(b"\n")?;
    inner.flush()?;
    Ok(written)
}
