//! Bytes to [`Event`]: size cap, UTF-8, JSON, envelope, type-specific fields,
//! configuration checks. The first problem found, in a fixed field order, is
//! the one reported.

use super::{
    excerpt, AuditGrade, Body, CareEndReason, Event, Fixed6, HealthKind, Instant, PlacementType,
    Rejection, RejectionCode, VisitType,
};
use crate::calendar::Date;
use crate::config::{Config, LaIdx, UnitIdx};
use compact_str::CompactString;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::str::FromStr;

/// A field as written in the message: absent, or its raw JSON text (which may be `null`).
#[derive(Default, Clone, Copy)]
struct Field<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(deserializer).map(|raw| Field(Some(raw)))
    }
}

/// Every field name any event type uses; anything else is ignored.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawEvent<'a> {
    #[serde(borrow)]
    event_id: Field<'a>,
    #[serde(borrow)]
    revision: Field<'a>,
    #[serde(borrow, rename = "type")]
    event_type: Field<'a>,
    #[serde(borrow)]
    la: Field<'a>,
    #[serde(borrow)]
    child_id: Field<'a>,
    #[serde(borrow)]
    date: Field<'a>,
    #[serde(borrow)]
    recorded_at: Field<'a>,
    #[serde(borrow)]
    unit: Field<'a>,
    #[serde(borrow)]
    void: Field<'a>,
    #[serde(borrow)]
    date_of_birth: Field<'a>,
    #[serde(borrow)]
    uasc: Field<'a>,
    #[serde(borrow)]
    reason: Field<'a>,
    #[serde(borrow)]
    worker_id: Field<'a>,
    #[serde(borrow)]
    qualified: Field<'a>,
    #[serde(borrow)]
    visit_type: Field<'a>,
    #[serde(borrow)]
    started: Field<'a>,
    #[serde(borrow)]
    child_seen: Field<'a>,
    #[serde(borrow)]
    s47_started: Field<'a>,
    #[serde(borrow)]
    category: Field<'a>,
    #[serde(borrow)]
    plan_id: Field<'a>,
    #[serde(borrow)]
    legal_status: Field<'a>,
    #[serde(borrow)]
    period_id: Field<'a>,
    #[serde(borrow)]
    placement_type: Field<'a>,
    #[serde(borrow)]
    distance_miles: Field<'a>,
    #[serde(borrow)]
    placement_id: Field<'a>,
    #[serde(borrow)]
    participated: Field<'a>,
    #[serde(borrow)]
    kind: Field<'a>,
    #[serde(borrow)]
    episode_id: Field<'a>,
    #[serde(borrow)]
    in_touch: Field<'a>,
    #[serde(borrow)]
    accommodation_suitable: Field<'a>,
    #[serde(borrow)]
    eet: Field<'a>,
    #[serde(borrow)]
    grade: Field<'a>,
    #[serde(borrow)]
    establishment_fte: Field<'a>,
    #[serde(borrow)]
    caseholding_fte: Field<'a>,
    #[serde(borrow)]
    permanent_qsw_fte: Field<'a>,
    #[serde(borrow)]
    agency_fte: Field<'a>,
    #[serde(borrow)]
    indicator: Field<'a>,
    #[serde(borrow)]
    month: Field<'a>,
    #[serde(borrow)]
    text: Field<'a>,
    #[serde(borrow)]
    author: Field<'a>,
}

type Outcome<T> = Result<T, Rejection>;

fn missing(field: &str) -> Rejection {
    Rejection::new(RejectionCode::MissingField, Some(field), "missing")
}

fn wrong_type(field: &str, expected: &str) -> Rejection {
    Rejection::new(
        RejectionCode::WrongType,
        Some(field),
        format!("expected {expected}"),
    )
}

fn invalid(field: &str, detail: impl Into<String>) -> Rejection {
    Rejection::new(RejectionCode::InvalidValue, Some(field), detail)
}

fn out_of_range(field: &str) -> Rejection {
    Rejection::new(
        RejectionCode::OutOfRange,
        Some(field),
        "number out of range",
    )
}

/// The JSON kind of a raw value, from its first byte.
fn first_byte(raw: &RawValue) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b' ')
}

fn string_field<'a>(raw: &'a RawValue, name: &str) -> Outcome<Cow<'a, str>> {
    if first_byte(raw) != b'"' {
        return Err(wrong_type(name, "a string"));
    }
    // Fast path: the raw text is already valid JSON, so a string without
    // escapes is exactly the bytes between its quotes.
    let text = raw.get();
    if text.len() >= 2 && text.ends_with('"') && !text.as_bytes().contains(&b'\\') {
        return Ok(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    serde_json::from_str::<Cow<'a, str>>(raw.get()).map_err(|_| wrong_type(name, "a string"))
}

impl<'a> Field<'a> {
    fn required(self, name: &str) -> Outcome<&'a RawValue> {
        self.0.ok_or_else(|| missing(name))
    }

    /// The field's text, borrowed from the line when it has no escapes.
    fn text(self, name: &str, min: usize, max: usize) -> Outcome<Option<Cow<'a, str>>> {
        let Some(raw) = self.0 else { return Ok(None) };
        let text = string_field(raw, name)?;
        let length = text.chars().count();
        if length < min {
            return Err(invalid(name, "empty"));
        }
        if length > max {
            return Err(invalid(name, format!("longer than {max} characters")));
        }
        Ok(Some(text))
    }

    fn string(self, name: &str, min: usize, max: usize) -> Outcome<Option<String>> {
        Ok(self.text(name, min, max)?.map(Cow::into_owned))
    }

    fn required_string(self, name: &str, min: usize, max: usize) -> Outcome<String> {
        self.required(name)?;
        Ok(self.string(name, min, max)?.expect("present"))
    }

    /// An identifier: inline when short (see [`Event::id`]).
    fn identifier(self, name: &str, min: usize, max: usize) -> Outcome<Option<CompactString>> {
        Ok(self.text(name, min, max)?.map(CompactString::from))
    }

    fn required_identifier(self, name: &str, min: usize, max: usize) -> Outcome<CompactString> {
        self.required(name)?;
        Ok(self.identifier(name, min, max)?.expect("present"))
    }

    fn boolean(self, name: &str) -> Outcome<Option<bool>> {
        let Some(raw) = self.0 else { return Ok(None) };
        match raw.get() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(wrong_type(name, "a boolean")),
        }
    }

    fn required_boolean(self, name: &str) -> Outcome<bool> {
        self.required(name)?;
        Ok(self.boolean(name)?.expect("present"))
    }

    fn date(self, name: &str) -> Outcome<Option<Date>> {
        let Some(raw) = self.0 else { return Ok(None) };
        let text =
            string_field(raw, name).map_err(|_| wrong_type(name, "a date string (YYYY-MM-DD)"))?;
        Date::parse(&text).map(Some).ok_or_else(|| {
            invalid(
                name,
                format!("'{}' is not a date (YYYY-MM-DD)", excerpt(&text)),
            )
        })
    }

    fn required_date(self, name: &str) -> Outcome<Date> {
        self.required(name)?;
        Ok(self.date(name)?.expect("present"))
    }

    /// A required date within `earliest..=latest`.
    fn required_date_within(self, name: &str, earliest: Date, latest: Date) -> Outcome<Date> {
        let date = self.required_date(name)?;
        within(name, date, earliest, latest)
    }

    fn enumeration<T: Copy>(self, name: &str, values: &[(&str, T)]) -> Outcome<Option<T>> {
        let Some(raw) = self.0 else { return Ok(None) };
        let text = string_field(raw, name)?;
        values
            .iter()
            .find(|(label, _)| *label == text)
            .map(|(_, value)| Some(*value))
            .ok_or_else(|| {
                let allowed: Vec<&str> = values.iter().map(|(label, _)| *label).collect();
                invalid(
                    name,
                    format!("'{}' is not one of {}", excerpt(&text), allowed.join(", ")),
                )
            })
    }

    fn required_enumeration<T: Copy>(self, name: &str, values: &[(&str, T)]) -> Outcome<T> {
        self.required(name)?;
        Ok(self.enumeration(name, values)?.expect("present"))
    }

    /// A JSON number >= 0, kept exactly to six decimal places (rounded half away from zero).
    fn fixed6(self, name: &str) -> Outcome<Option<Fixed6>> {
        let Some(raw) = self.0 else { return Ok(None) };
        let text = raw.get();
        let byte = first_byte(raw);
        if !(byte == b'-' || byte.is_ascii_digit()) {
            return Err(wrong_type(name, "a number"));
        }
        let parsed = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text)
        } else {
            Decimal::from_str(text)
        }
        .map_err(|_| out_of_range(name))?;
        if parsed.is_sign_negative() && !parsed.is_zero() {
            return Err(invalid(name, "must be >= 0"));
        }
        let micros = parsed
            .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
            .checked_mul(Decimal::from(Fixed6::ONE))
            .and_then(|micros| micros.to_i64())
            .filter(|micros| *micros < i64::MAX / 4)
            .ok_or_else(|| out_of_range(name))?;
        Ok(Some(Fixed6(micros)))
    }

    /// A number >= 0 and at most `max`.
    fn fixed6_at_most(self, name: &str, max: Fixed6) -> Outcome<Option<Fixed6>> {
        match self.fixed6(name)? {
            Some(value) if value > max => Err(Rejection::new(
                RejectionCode::OutOfRange,
                Some(name),
                format!("above the largest accepted value {}", max),
            )),
            value => Ok(value),
        }
    }

    fn required_fixed6_at_most(self, name: &str, max: Fixed6) -> Outcome<Fixed6> {
        self.required(name)?;
        Ok(self.fixed6_at_most(name, max)?.expect("present"))
    }
}

/// Refuses a date outside `earliest..=latest` (`[validation]`).
fn within(name: &str, date: Date, earliest: Date, latest: Date) -> Outcome<Date> {
    if date < earliest {
        return Err(Rejection::new(
            RejectionCode::OutOfRange,
            Some(name),
            format!("{date} is before the earliest accepted date {earliest}"),
        ));
    }
    if date > latest {
        return Err(Rejection::new(
            RejectionCode::OutOfRange,
            Some(name),
            format!("{date} is after the latest accepted date {latest}"),
        ));
    }
    Ok(date)
}

/// Decodes messages against one configuration.
pub struct Decoder<'c> {
    config: &'c Config,
    schema: Option<&'c jsonschema::Validator>,
    latest: Date,
}

impl<'c> Decoder<'c> {
    /// A decoder for the configured units and authorities. With
    /// `processing.schema_validation`, `schemas` must hold the JSON Schemas
    /// and every message is also checked against them.
    pub fn new(config: &'c Config, schema: Option<&'c jsonschema::Validator>) -> Decoder<'c> {
        Decoder {
            config,
            schema,
            latest: config.validation.latest_date,
        }
    }

    /// Refuses event dates after `today` plus `validation.future_days`
    /// (today is the wall clock's date).
    pub fn with_today(mut self, today: Option<Date>) -> Decoder<'c> {
        self.latest = self.config.validation.horizon(today);
        self
    }

    /// Decodes one message.
    pub fn decode(&self, bytes: &[u8]) -> Result<Event, Rejection> {
        let event = decode_within(self.config, bytes, self.latest)?;
        if let Some(schema) = self.schema {
            let value: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|_| Rejection::new(RejectionCode::NotJson, None, "not JSON"))?;
            let first = schema.iter_errors(&value).next().map(|error| {
                let path = error.instance_path.to_string();
                let field = path
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                (field, error.to_string())
            });
            if let Some((field, detail)) = first {
                return Err(Rejection::new(
                    RejectionCode::SchemaViolation,
                    (!field.is_empty()).then_some(field.as_str()),
                    detail,
                ));
            }
        }
        Ok(event)
    }
}

/// Decodes one message against the configuration: an [`Event`] or the first
/// problem found.
pub fn decode(config: &Config, bytes: &[u8]) -> Result<Event, Rejection> {
    decode_within(config, bytes, config.validation.latest_date)
}

/// [`decode`] with the latest accepted event date.
fn decode_within(config: &Config, bytes: &[u8], latest: Date) -> Result<Event, Rejection> {
    let limit = config.processing.max_message_bytes;
    if bytes.len() > limit {
        return Err(Rejection::new(
            RejectionCode::TooLarge,
            None,
            format!("{} bytes, over the {limit}-byte limit", bytes.len()),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|error| {
        Rejection::new(RejectionCode::NotUtf8, None, format!("not UTF-8 ({error})"))
    })?;
    if !text.trim_start().starts_with('{') {
        // serde would read a JSON array as a struct's fields in order.
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Rejection::new(RejectionCode::NotObject, None, "not a JSON object"),
            Err(error) => not_json(text, &error),
        });
    }
    let raw: RawEvent =
        serde_json::from_str(text).map_err(|error| classify_json_error(text, error))?;
    decode_fields(config, &raw, latest)
}

fn not_json(text: &str, error: &serde_json::Error) -> Rejection {
    let detail = if text.trim().is_empty() {
        "not JSON (blank)".to_string()
    } else {
        format!("not JSON ({error})")
    };
    Rejection::new(RejectionCode::NotJson, None, detail)
}

fn classify_json_error(text: &str, error: serde_json::Error) -> Rejection {
    if let Err(syntax) = serde_json::from_str::<IgnoredAny>(text) {
        return not_json(text, &syntax);
    }
    // Valid JSON object that serde refused: a duplicated key.
    let message = error.to_string();
    let field = message
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_else(|| "message".to_string());
    Rejection {
        code: RejectionCode::InvalidValue,
        field: Some(field),
        detail: "given more than once".into(),
    }
}

const VISIT_TYPES: [(&str, VisitType); 4] = [
    ("cin", VisitType::Cin),
    ("cp", VisitType::Cp),
    ("cic", VisitType::Cic),
    ("other", VisitType::Other),
];
const END_REASONS: [(&str, CareEndReason); 5] = [
    ("adopted", CareEndReason::Adopted),
    ("sgo", CareEndReason::Sgo),
    ("returned_home", CareEndReason::ReturnedHome),
    ("age_18", CareEndReason::Age18),
    ("other", CareEndReason::Other),
];
const PLACEMENT_TYPES: [(&str, PlacementType); 8] = [
    ("foster_inhouse", PlacementType::FosterInhouse),
    (
        "foster_relative_friend",
        PlacementType::FosterRelativeFriend,
    ),
    ("foster_agency", PlacementType::FosterAgency),
    ("residential", PlacementType::Residential),
    ("placed_for_adoption", PlacementType::PlacedForAdoption),
    ("placed_with_parents", PlacementType::PlacedWithParents),
    ("independent_living", PlacementType::IndependentLiving),
    ("other", PlacementType::Other),
];
const HEALTH_KINDS: [(&str, HealthKind); 2] = [
    ("initial", HealthKind::Initial),
    ("review", HealthKind::Review),
];
const GRADES: [(&str, AuditGrade); 4] = [
    ("outstanding", AuditGrade::Outstanding),
    ("good", AuditGrade::Good),
    ("requires_improvement", AuditGrade::RequiresImprovement),
    ("inadequate", AuditGrade::Inadequate),
];

fn reference(field: Field, name: &str) -> Outcome<String> {
    field.required_string(name, 1, 128)
}

fn decode_fields(config: &Config, raw: &RawEvent, latest: Date) -> Outcome<Event> {
    let validation = &config.validation;
    let earliest = validation.earliest_event_date;
    // Envelope, in a fixed order.
    let id = raw.event_id.required_identifier("event_id", 1, 128)?;
    let revision = match raw.revision.0 {
        None => 0,
        Some(value) => {
            let text = value.get();
            let digits = text.strip_prefix('-').unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(wrong_type("revision", "an integer >= 0"));
            }
            if text.starts_with('-') {
                return Err(invalid("revision", "must be >= 0"));
            }
            text.parse::<u64>()
                .map_err(|_| invalid("revision", "too large"))?
        }
    };
    let type_name = raw.event_type.required_string("type", 0, usize::MAX)?;
    let la = match raw.la.string("la", 1, usize::MAX)? {
        None => config.default_la,
        Some(name) => config.la_by_id(&name).ok_or_else(|| {
            Rejection::new(
                RejectionCode::UnknownLa,
                Some("la"),
                format!("unknown authority '{name}'"),
            )
        })?,
    };
    let unit_level = matches!(
        type_name.as_str(),
        "case_audit_completed" | "staffing_snapshot" | "commentary"
    );
    if !unit_level && super::EVENT_TYPES.contains(&type_name.as_str()) {
        raw.child_id.required("child_id")?;
    }
    let child_id = raw.child_id.identifier("child_id", 1, 64)?;
    let date = raw.date.required_date_within("date", earliest, latest)?;
    let recorded_at = match raw.recorded_at.0 {
        None => None,
        Some(value) => {
            let text = string_field(value, "recorded_at")?;
            Some(parse_instant(&text).ok_or_else(|| {
                invalid(
                    "recorded_at",
                    format!("'{}' is not an RFC 3339 timestamp", excerpt(&text)),
                )
            })?)
        }
    };
    let unit = match raw.unit.string("unit", 1, usize::MAX)? {
        None => None,
        // Commentary is about any unit of the authority (the county's
        // exception pages included); every other event names a leaf.
        Some(name) => Some(configured_unit(
            config,
            la,
            &name,
            type_name.as_str() != "commentary",
        )?),
    };
    let void = raw.void.boolean("void")?.unwrap_or(false);

    let needs_unit = || unit.ok_or_else(|| missing("unit"));
    let body = match type_name.as_str() {
        "child_details" => Body::ChildDetails {
            date_of_birth: raw.date_of_birth.required_date_within(
                "date_of_birth",
                validation.earliest_birth_date,
                latest,
            )?,
            uasc: raw.uasc.boolean("uasc")?.unwrap_or(false),
        },
        "referral" => {
            needs_unit()?;
            Body::Referral
        }
        "case_transferred" => {
            needs_unit()?;
            Body::CaseTransferred
        }
        "case_closed" => Body::CaseClosed {
            reason: raw.reason.string("reason", 0, usize::MAX)?,
        },
        "worker_allocated" => Body::WorkerAllocated {
            worker_id: raw.worker_id.required_string("worker_id", 1, usize::MAX)?,
            qualified: raw.qualified.boolean("qualified")?.unwrap_or(true),
        },
        "worker_unallocated" => Body::WorkerUnallocated,
        "visit" => Body::Visit {
            visit_type: raw
                .visit_type
                .required_enumeration("visit_type", &VISIT_TYPES)?,
        },
        "assessment_completed" | "s47_completed" => {
            let started = raw
                .started
                .required_date_within("started", earliest, latest)?;
            let child_seen = raw.child_seen.required_boolean("child_seen")?;
            if started > date {
                return Err(Rejection::new(
                    RejectionCode::StartedAfterDate,
                    Some("started"),
                    "after date",
                ));
            }
            if type_name == "assessment_completed" {
                Body::AssessmentCompleted {
                    started,
                    child_seen,
                }
            } else {
                Body::S47Completed {
                    started,
                    child_seen,
                }
            }
        }
        "icpc_held" => {
            let s47_started =
                raw.s47_started
                    .required_date_within("s47_started", earliest, latest)?;
            if s47_started > date {
                return Err(Rejection::new(
                    RejectionCode::StartedAfterDate,
                    Some("s47_started"),
                    "after date",
                ));
            }
            Body::IcpcHeld { s47_started }
        }
        "cp_plan_started" => Body::CpPlanStarted {
            category: raw.category.string("category", 0, usize::MAX)?,
        },
        "cp_plan_ended" => Body::CpPlanEnded {
            plan_id: reference(raw.plan_id, "plan_id")?,
        },
        "cp_review_held" => Body::CpReviewHeld {
            plan_id: reference(raw.plan_id, "plan_id")?,
        },
        "cic_started" => Body::CicStarted {
            legal_status: raw.legal_status.string("legal_status", 0, usize::MAX)?,
        },
        "cic_ended" => Body::CicEnded {
            period_id: reference(raw.period_id, "period_id")?,
            reason: raw.reason.required_enumeration("reason", &END_REASONS)?,
        },
        "placement_started" => Body::PlacementStarted {
            period_id: reference(raw.period_id, "period_id")?,
            placement_type: raw
                .placement_type
                .required_enumeration("placement_type", &PLACEMENT_TYPES)?,
            distance_miles: raw
                .distance_miles
                .fixed6_at_most("distance_miles", validation.max_distance_miles)?,
        },
        "placement_arrangement_meeting" => Body::PlacementArrangementMeeting {
            placement_id: reference(raw.placement_id, "placement_id")?,
        },
        "cic_review_held" => Body::CicReviewHeld {
            period_id: reference(raw.period_id, "period_id")?,
            participated: raw.participated.required_boolean("participated")?,
        },
        "health_assessment" => Body::HealthAssessment {
            period_id: reference(raw.period_id, "period_id")?,
            kind: raw.kind.required_enumeration("kind", &HEALTH_KINDS)?,
        },
        "iha_referral" => Body::IhaReferral {
            period_id: reference(raw.period_id, "period_id")?,
        },
        "dental_check" => Body::DentalCheck {
            period_id: reference(raw.period_id, "period_id")?,
        },
        "placement_order_granted" => Body::PlacementOrderGranted {
            period_id: reference(raw.period_id, "period_id")?,
        },
        "adoption_match" => Body::AdoptionMatch {
            period_id: reference(raw.period_id, "period_id")?,
        },
        "missing_started" => Body::MissingStarted,
        "missing_ended" => Body::MissingEnded {
            episode_id: reference(raw.episode_id, "episode_id")?,
        },
        "return_interview_held" => Body::ReturnInterviewHeld {
            episode_id: reference(raw.episode_id, "episode_id")?,
        },
        "care_leaver_contact" => {
            let in_touch = raw.in_touch.required_boolean("in_touch")?;
            if in_touch {
                raw.accommodation_suitable
                    .required("accommodation_suitable")?;
                raw.eet.required("eet")?;
            }
            Body::CareLeaverContact {
                in_touch,
                accommodation_suitable: raw
                    .accommodation_suitable
                    .boolean("accommodation_suitable")?,
                eet: raw.eet.boolean("eet")?,
            }
        }
        "case_audit_completed" => {
            needs_unit()?;
            Body::CaseAuditCompleted {
                grade: raw.grade.required_enumeration("grade", &GRADES)?,
            }
        }
        "staffing_snapshot" => {
            needs_unit()?;
            Body::StaffingSnapshot {
                establishment_fte: raw
                    .establishment_fte
                    .required_fixed6_at_most("establishment_fte", validation.max_fte)?,
                caseholding_fte: raw
                    .caseholding_fte
                    .required_fixed6_at_most("caseholding_fte", validation.max_fte)?,
                permanent_qsw_fte: raw
                    .permanent_qsw_fte
                    .required_fixed6_at_most("permanent_qsw_fte", validation.max_fte)?,
                agency_fte: raw
                    .agency_fte
                    .required_fixed6_at_most("agency_fte", validation.max_fte)?,
            }
        }
        "commentary" => {
            needs_unit()?;
            let indicator = raw.indicator.required_string("indicator", 1, 64)?;
            if !config.indicators.iter().any(|entry| entry.id == indicator) {
                return Err(invalid(
                    "indicator",
                    format!("'{}' is not a configured indicator", excerpt(&indicator)),
                ));
            }
            let month_text = raw.month.required_string("month", 1, 7)?;
            let month = crate::calendar::Month::parse(&month_text).ok_or_else(|| {
                invalid(
                    "month",
                    format!("'{}' is not a month (YYYY-MM)", excerpt(&month_text)),
                )
            })?;
            let text = raw.text.required_string("text", 1, COMMENTARY_MAX_CHARS)?;
            if names_a_child(&text) {
                return Err(invalid(
                    "text",
                    "looks like it names a child (a child id); commentary is about figures, not children",
                ));
            }
            Body::Commentary(Box::new(crate::event::CommentaryBody {
                indicator,
                month,
                text,
                author: raw.author.required_string("author", 1, 128)?,
            }))
        }
        other => {
            return Err(Rejection::new(
                RejectionCode::UnknownType,
                Some("type"),
                format!("unknown type '{}'", truncate(other, 64)),
            ))
        }
    };
    Ok(Event {
        id,
        revision,
        void,
        la,
        child_id,
        date,
        recorded_at,
        unit,
        body,
    })
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max_chars).collect();
        format!("{cut}...")
    }
}

/// Longest commentary text, in characters.
pub const COMMENTARY_MAX_CHARS: usize = 4000;

/// Whether `text` holds a word shaped like a child id: `c` followed by six
/// digits (the generator's ids, `c000123`), or `c-` followed by digits (the
/// examples of the contract, `c-1001`), in either case. Commentary goes to
/// committee members and must not identify a child (`docs/events.md`).
pub fn names_a_child(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .any(|word| {
            let Some(rest) = word.strip_prefix(['c', 'C']) else {
                return false;
            };
            let (digits, dashed) = match rest.strip_prefix('-') {
                Some(digits) => (digits, true),
                None => (rest, false),
            };
            !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
                && (dashed || digits.len() == 6)
        })
}

fn configured_unit(config: &Config, la: LaIdx, name: &str, leaf_only: bool) -> Outcome<UnitIdx> {
    let unit = config.unit_by_id(name).ok_or_else(|| {
        Rejection::new(
            RejectionCode::UnknownUnit,
            Some("unit"),
            format!("unknown unit '{}'", truncate(name, 64)),
        )
    })?;
    let node = config.unit(unit);
    if leaf_only && !node.is_leaf() {
        return Err(Rejection::new(
            RejectionCode::NotLeafUnit,
            Some("unit"),
            "not a leaf unit",
        ));
    }
    if node.la != la {
        return Err(Rejection::new(
            RejectionCode::UnknownUnit,
            Some("unit"),
            format!(
                "'{name}' is not a unit of authority '{}'",
                config.authorities[la.0 as usize].id
            ),
        ));
    }
    Ok(unit)
}

/// RFC 3339 with a `T` separator (as JSON Schema's `date-time`), normalised to UTC.
fn parse_instant(text: &str) -> Option<Instant> {
    let separator = text.as_bytes().get(10)?;
    if !matches!(separator, b'T' | b't') {
        return None;
    }
    let parsed = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(Instant {
        seconds: parsed.timestamp(),
        nanos: parsed.timestamp_subsec_nanos(),
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn commentary_text_naming_a_child_is_spotted() {
        for text in [
            "c000123 was seen late",
            "late for C123456.",
            "see c-1001",
            "(C-7)",
        ] {
            assert!(super::names_a_child(text), "{text}");
        }
        for text in [
            "Section 17 cases: 12 of 40",
            "c12345 has five digits",
            "c1234567 has seven",
            "cic-1 and cp-2 are not child ids",
            "abc000123 is part of a word",
            "c-",
        ] {
            assert!(!super::names_a_child(text), "{text}");
        }
    }
    use super::*;
    use std::path::Path;

    fn config() -> Config {
        Config::parse(
            r#"
[[authority]]
id = "kent"
name = "Kent"
root = "kent"
[[unit]]
id = "kent"
name = "Kent"
kind = "county"
[[unit]]
id = "north-kent"
name = "North Kent"
kind = "area"
parent = "kent"
[[unit]]
id = "dartford-cswt"
name = "Dartford CSWT"
kind = "cswt"
parent = "north-kent"
[calendar]
bank_holidays = []
"#,
            Path::new("test.toml"),
        )
        .unwrap()
    }

    fn check(message: &str) -> Result<Event, String> {
        decode(&config(), message.as_bytes())
            .map_err(|rejection| format!("{} | {}", rejection.code.as_str(), rejection))
    }

    #[test]
    fn decodes_a_referral() {
        let event = check(
            r#"{"event_id":"e1","type":"referral","child_id":"c1","date":"2017-08-01","unit":"dartford-cswt","recorded_at":"2017-08-01T10:00:00+01:00","extra":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(event.body, Body::Referral);
        assert_eq!(event.revision, 0);
        assert_eq!(event.recorded_at.unwrap().seconds, 1_501_578_000);
    }

    #[test]
    fn rejections_name_the_field() {
        let cases = [
            ("", "not_json | message: not JSON (blank)"),
            ("NaN", "not_json"),
            ("[1]", "not_object | message: not a JSON object"),
            (
                r#"{"event_id":"e","type":"x","date":"2017-01-01"}"#,
                "unknown_type | type: unknown type 'x'",
            ),
            (
                r#"{"event_id":"e","type":"referral","child_id":"c","date":"2017-02-29","unit":"dartford-cswt"}"#,
                "invalid_value | date: '2017-02-29' is not a date (YYYY-MM-DD)",
            ),
            (
                r#"{"event_id":"e","revision":1.0,"type":"referral","child_id":"c","date":"2017-02-01","unit":"dartford-cswt"}"#,
                "wrong_type | revision: expected an integer >= 0",
            ),
            (
                r#"{"event_id":"e","revision":-1,"type":"referral","child_id":"c","date":"2017-02-01","unit":"dartford-cswt"}"#,
                "invalid_value | revision: must be >= 0",
            ),
            (
                r#"{"event_id":"e","revision":"1","type":"referral","child_id":"c","date":"2017-02-01","unit":"dartford-cswt"}"#,
                "wrong_type | revision",
            ),
            (
                r#"{"event_id":"e","revision":true,"type":"referral","child_id":"c","date":"2017-02-01","unit":"dartford-cswt"}"#,
                "wrong_type | revision",
            ),
            (
                r#"{"event_id":"e","type":"referral","child_id":"c","date":"2017-02-01","unit":"north-kent"}"#,
                "not_leaf_unit | unit: not a leaf unit",
            ),
            (
                r#"{"event_id":"e","type":"referral","child_id":"c","date":"2017-02-01","unit":"atlantis"}"#,
                "unknown_unit | unit: unknown unit 'atlantis'",
            ),
            (
                r#"{"event_id":"e","type":"referral","child_id":"c","date":"2017-02-01"}"#,
                "missing_field | unit: missing",
            ),
            (
                r#"{"event_id":"e","type":"referral","child_id":"c","date":"2017-02-01","unit":"dartford-cswt","la":"narnia"}"#,
                "unknown_la | la: unknown authority 'narnia'",
            ),
            (
                r#"{"event_id":"e","type":"visit","child_id":"c","date":"2017-02-01","recorded_at":null,"visit_type":"cp"}"#,
                "wrong_type | recorded_at",
            ),
            (
                r#"{"event_id":"e","type":"assessment_completed","child_id":"c","date":"2017-02-01","started":"2017-02-02","child_seen":true}"#,
                "started_after_date | started: after date",
            ),
            (
                r#"{"event_id":"e","type":"care_leaver_contact","child_id":"c","date":"2017-02-01","in_touch":true,"accommodation_suitable":true}"#,
                "missing_field | eet: missing",
            ),
            (
                r#"{"event_id":"e","type":"placement_started","child_id":"c","date":"2017-02-01","period_id":"p","placement_type":"residential","distance_miles":-1}"#,
                "invalid_value | distance_miles: must be >= 0",
            ),
            (
                r#"{"event_id":"e","event_id":"f","type":"missing_started","child_id":"c","date":"2017-02-01"}"#,
                "invalid_value | event_id: given more than once",
            ),
        ];
        for (message, expected) in cases {
            let outcome = check(message).unwrap_err();
            assert!(
                outcome.starts_with(expected),
                "{message}\n  got {outcome}\n  want {expected}"
            );
        }
    }

    #[test]
    fn fte_values_are_exact() {
        let event = check(
            r#"{"event_id":"s","type":"staffing_snapshot","unit":"dartford-cswt","date":"2017-08-01","establishment_fte":20.5,"caseholding_fte":18,"permanent_qsw_fte":0.1,"agency_fte":1e1}"#,
        )
        .unwrap();
        assert_eq!(
            event.body,
            Body::StaffingSnapshot {
                establishment_fte: Fixed6(20_500_000),
                caseholding_fte: Fixed6(18_000_000),
                permanent_qsw_fte: Fixed6(100_000),
                agency_fte: Fixed6(10_000_000),
            }
        );
    }

    #[test]
    fn oversized_and_non_utf8_messages_are_rejected() {
        let config = config();
        let huge = vec![b' '; (1 << 20) + 1];
        assert_eq!(
            decode(&config, &huge).unwrap_err().code,
            RejectionCode::TooLarge
        );
        assert_eq!(
            decode(&config, &[0xff, 0xfe]).unwrap_err().code,
            RejectionCode::NotUtf8
        );
    }
}
