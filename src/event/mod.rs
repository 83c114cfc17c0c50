//! Input events: the typed form of every event type of `docs/events.md`.
//!
//! [`decode`] is the only reader of input JSON. It turns raw bytes into an
//! [`Event`] or a [`Rejection`] naming the field at fault; it never panics.
//! The JSON Schemas in `schemas/` describe the same contract, and a test checks
//! that the two agree on a corpus of valid and invalid messages.

mod decode;
pub mod schema;

pub use decode::{decode, Decoder};

use crate::calendar::Date;
use crate::config::{LaIdx, UnitIdx};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, normalised to UTC (decision D7): seconds and nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Instant {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// An exact non-negative decimal with six decimal places (FTE, miles), in millionths.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Fixed6(pub i64);

impl Fixed6 {
    /// One whole unit in millionths.
    pub const ONE: i64 = 1_000_000;

    /// Builds from whole units.
    pub fn from_units(units: i64) -> Fixed6 {
        Fixed6(units * Fixed6::ONE)
    }
}

impl fmt::Display for Fixed6 {
    /// The decimal form without trailing zeros (`12.5`, `3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let units = magnitude / Fixed6::ONE as u64;
        let fraction = magnitude % Fixed6::ONE as u64;
        if fraction == 0 {
            return write!(f, "{sign}{units}");
        }
        let digits = format!("{fraction:06}");
        write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
    }
}

/// Who a surviving event belongs to: a child (events keyed by child) or a unit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub enum Owner {
    /// A child of an authority.
    Child(LaIdx, String),
    /// A unit (unit-level events: audits, staffing).
    Unit(UnitIdx),
}

/// An [`Owner`] borrowed from an event: looks an owner up in a map keyed by
/// [`Owner`] without allocating (same hash, [`indexmap::Equivalent`]).
/// It orders and encodes as [`Owner`] does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize)]
pub enum OwnerRef<'a> {
    /// A child of an authority.
    Child(LaIdx, &'a str),
    /// A unit.
    Unit(UnitIdx),
}

impl OwnerRef<'_> {
    /// The owned form.
    pub fn to_owner(self) -> Owner {
        match self {
            OwnerRef::Child(la, child) => Owner::Child(la, child.to_string()),
            OwnerRef::Unit(unit) => Owner::Unit(unit),
        }
    }
}

impl std::hash::Hash for Owner {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Owner::Child(la, child) => OwnerRef::Child(*la, child).hash(state),
            Owner::Unit(unit) => OwnerRef::Unit(*unit).hash(state),
        }
    }
}

impl std::hash::Hash for OwnerRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            OwnerRef::Child(la, child) => {
                state.write_u8(0);
                la.hash(state);
                child.hash(state);
            }
            OwnerRef::Unit(unit) => {
                state.write_u8(1);
                unit.hash(state);
            }
        }
    }
}

impl indexmap::Equivalent<Owner> for OwnerRef<'_> {
    fn equivalent(&self, owner: &Owner) -> bool {
        match (self, owner) {
            (OwnerRef::Child(la, child), Owner::Child(held_la, held_child)) => {
                la == held_la && *child == held_child.as_str()
            }
            (OwnerRef::Unit(unit), Owner::Unit(held)) => unit == held,
            _ => false,
        }
    }
}

/// One decoded input event: the envelope and its typed body.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Identity of the recorded fact (held inline when short, as most
    /// ids are: no allocation of its own).
    pub id: CompactString,
    /// Revision; higher replaces lower wholesale.
    pub revision: u64,
    /// The fact was recorded in error and counts for nothing.
    pub void: bool,
    /// The authority.
    pub la: LaIdx,
    /// The child, for child events (and optionally on case audits);
    /// inline when short, as the id.
    pub child_id: Option<CompactString>,
    /// The date the fact happened.
    pub date: Date,
    /// When the source system recorded it.
    pub recorded_at: Option<Instant>,
    /// The unit named on the event, when it has one.
    pub unit: Option<UnitIdx>,
    /// The type-specific fields.
    pub body: Body,
}

impl Event {
    /// The owner whose log keeps this event.
    pub fn owner(&self) -> Owner {
        self.owner_ref().to_owner()
    }

    /// The owner whose log keeps this event, borrowed.
    pub fn owner_ref(&self) -> OwnerRef<'_> {
        if self.body.is_unit_level() {
            OwnerRef::Unit(self.unit.expect("unit-level events carry a unit"))
        } else {
            OwnerRef::Child(
                self.la,
                self.child_id
                    .as_deref()
                    .expect("child events carry a child"),
            )
        }
    }

    /// The order of a child's (or unit's) events within a day: date, then
    /// `recorded_at` (absent first), then `event_id` by code point.
    pub fn order_key(&self) -> (Date, Option<Instant>, &str) {
        (self.date, self.recorded_at, self.id.as_str())
    }
}

/// The visit types.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum VisitType {
    /// Child in need visit.
    Cin,
    /// Child protection visit.
    Cp,
    /// Child in care visit.
    Cic,
    /// Any other visit.
    Other,
}

/// Why a period of care ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum CareEndReason {
    /// Adopted.
    Adopted,
    /// Special guardianship order.
    Sgo,
    /// Returned home.
    ReturnedHome,
    /// Turned 18.
    Age18,
    /// Any other reason.
    Other,
}

/// Placement types.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum PlacementType {
    /// In-house foster carers.
    FosterInhouse,
    /// Relative or friend foster carers.
    FosterRelativeFriend,
    /// Agency foster carers.
    FosterAgency,
    /// Residential.
    Residential,
    /// Placed for adoption.
    PlacedForAdoption,
    /// Placed with parents.
    PlacedWithParents,
    /// Independent living.
    IndependentLiving,
    /// Other.
    Other,
}

/// Health assessment kinds.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum HealthKind {
    /// Initial health assessment.
    Initial,
    /// Review health assessment.
    Review,
}

/// Case file audit grades.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum AuditGrade {
    /// Outstanding.
    Outstanding,
    /// Good.
    Good,
    /// Requires improvement.
    RequiresImprovement,
    /// Inadequate.
    Inadequate,
}

/// The type-specific part of an event; one variant per event type.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Body {
    ChildDetails {
        date_of_birth: Date,
        uasc: bool,
    },
    Referral,
    CaseTransferred,
    CaseClosed {
        reason: Option<String>,
    },
    WorkerAllocated {
        worker_id: String,
        qualified: bool,
    },
    WorkerUnallocated,
    Visit {
        visit_type: VisitType,
    },
    AssessmentCompleted {
        started: Date,
        child_seen: bool,
    },
    S47Completed {
        started: Date,
        child_seen: bool,
    },
    IcpcHeld {
        s47_started: Date,
    },
    CpPlanStarted {
        category: Option<String>,
    },
    CpPlanEnded {
        plan_id: String,
    },
    CpReviewHeld {
        plan_id: String,
    },
    CicStarted {
        legal_status: Option<String>,
    },
    CicEnded {
        period_id: String,
        reason: CareEndReason,
    },
    PlacementStarted {
        period_id: String,
        placement_type: PlacementType,
        distance_miles: Option<Fixed6>,
    },
    PlacementArrangementMeeting {
        placement_id: String,
    },
    CicReviewHeld {
        period_id: String,
        participated: bool,
    },
    HealthAssessment {
        period_id: String,
        kind: HealthKind,
    },
    IhaReferral {
        period_id: String,
    },
    DentalCheck {
        period_id: String,
    },
    PlacementOrderGranted {
        period_id: String,
    },
    AdoptionMatch {
        period_id: String,
    },
    MissingStarted,
    MissingEnded {
        episode_id: String,
    },
    ReturnInterviewHeld {
        episode_id: String,
    },
    CareLeaverContact {
        in_touch: bool,
        accommodation_suitable: Option<bool>,
        eet: Option<bool>,
    },
    CaseAuditCompleted {
        grade: AuditGrade,
    },
    StaffingSnapshot {
        establishment_fte: Fixed6,
        caseholding_fte: Fixed6,
        permanent_qsw_fte: Fixed6,
        agency_fte: Fixed6,
    },
    /// Commentary written by the service on one indicator, unit and month,
    /// for the committee pack's exception page (a unit-level event owned by
    /// the unit it is about; the latest surviving one wins). Boxed: it is
    /// the largest body and a rare one, and every event is as large as its
    /// largest body (encoded as the fields themselves, as before).
    Commentary(Box<CommentaryBody>),
}

/// The fields of a commentary event.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct CommentaryBody {
    /// The configured indicator id.
    pub indicator: String,
    /// The month the commentary is about.
    pub month: crate::calendar::Month,
    /// The text.
    pub text: String,
    /// Who wrote it (a name or role, never a child).
    pub author: String,
}

impl Body {
    /// Unit-level events have no child; they belong to their unit.
    pub fn is_unit_level(&self) -> bool {
        matches!(
            self,
            Body::CaseAuditCompleted { .. } | Body::StaffingSnapshot { .. } | Body::Commentary(..)
        )
    }

    /// The event type name as it appears in `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::ChildDetails { .. } => "child_details",
            Body::Referral => "referral",
            Body::CaseTransferred => "case_transferred",
            Body::CaseClosed { .. } => "case_closed",
            Body::WorkerAllocated { .. } => "worker_allocated",
            Body::WorkerUnallocated => "worker_unallocated",
            Body::Visit { .. } => "visit",
            Body::AssessmentCompleted { .. } => "assessment_completed",
            Body::S47Completed { .. } => "s47_completed",
            Body::IcpcHeld { .. } => "icpc_held",
            Body::CpPlanStarted { .. } => "cp_plan_started",
            Body::CpPlanEnded { .. } => "cp_plan_ended",
            Body::CpReviewHeld { .. } => "cp_review_held",
            Body::CicStarted { .. } => "cic_started",
            Body::CicEnded { .. } => "cic_ended",
            Body::PlacementStarted { .. } => "placement_started",
            Body::PlacementArrangementMeeting { .. } => "placement_arrangement_meeting",
            Body::CicReviewHeld { .. } => "cic_review_held",
            Body::HealthAssessment { .. } => "health_assessment",
            Body::IhaReferral { .. } => "iha_referral",
            Body::DentalCheck { .. } => "dental_check",
            Body::PlacementOrderGranted { .. } => "placement_order_granted",
            Body::AdoptionMatch { .. } => "adoption_match",
            Body::MissingStarted => "missing_started",
            Body::MissingEnded { .. } => "missing_ended",
            Body::ReturnInterviewHeld { .. } => "return_interview_held",
            Body::CareLeaverContact { .. } => "care_leaver_contact",
            Body::CaseAuditCompleted { .. } => "case_audit_completed",
            Body::StaffingSnapshot { .. } => "staffing_snapshot",
            Body::Commentary(..) => "commentary",
        }
    }
}

/// Every event type name, in the order of `docs/events.md`.
pub const EVENT_TYPES: [&str; 30] = [
    "child_details",
    "referral",
    "case_transferred",
    "case_closed",
    "worker_allocated",
    "worker_unallocated",
    "visit",
    "assessment_completed",
    "s47_completed",
    "icpc_held",
    "cp_plan_started",
    "cp_plan_ended",
    "cp_review_held",
    "cic_started",
    "cic_ended",
    "placement_started",
    "placement_arrangement_meeting",
    "cic_review_held",
    "health_assessment",
    "iha_referral",
    "dental_check",
    "placement_order_granted",
    "adoption_match",
    "missing_started",
    "missing_ended",
    "return_interview_held",
    "care_leaver_contact",
    "case_audit_completed",
    "staffing_snapshot",
    "commentary",
];

/// Why a message was rejected: a closed set, usable as a metric label.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum RejectionCode {
    /// Over the size limit.
    TooLarge,
    /// Not UTF-8.
    NotUtf8,
    /// Not JSON (blank, NaN, truncated, ...).
    NotJson,
    /// JSON but not an object.
    NotObject,
    /// `type` names no known event type.
    UnknownType,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong JSON type (including `null`).
    WrongType,
    /// A field has the right type but an impossible value.
    InvalidValue,
    /// A unit configuration does not know.
    UnknownUnit,
    /// A known unit that is not a leaf.
    NotLeafUnit,
    /// An authority configuration does not know.
    UnknownLa,
    /// `started` (or `s47_started`) after `date`.
    StartedAfterDate,
    /// The JSON Schema refused it (only with `processing.schema_validation`).
    SchemaViolation,
    /// A date or number outside its plausible range (`[validation]`).
    OutOfRange,
    /// Handling the message failed inside ragline (a defect, not the
    /// message's fault); the message is kept in the dead letters so that
    /// nothing is lost, and the processor goes on without it.
    InternalError,
}

impl RejectionCode {
    /// Every code, for metrics initialisation and documentation.
    pub const ALL: [RejectionCode; 15] = [
        RejectionCode::TooLarge,
        RejectionCode::NotUtf8,
        RejectionCode::NotJson,
        RejectionCode::NotObject,
        RejectionCode::UnknownType,
        RejectionCode::MissingField,
        RejectionCode::WrongType,
        RejectionCode::InvalidValue,
        RejectionCode::UnknownUnit,
        RejectionCode::NotLeafUnit,
        RejectionCode::UnknownLa,
        RejectionCode::StartedAfterDate,
        RejectionCode::SchemaViolation,
        RejectionCode::OutOfRange,
        RejectionCode::InternalError,
    ];

    /// The snake_case label.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::TooLarge => "too_large",
            RejectionCode::NotUtf8 => "not_utf8",
            RejectionCode::NotJson => "not_json",
            RejectionCode::NotObject => "not_object",
            RejectionCode::UnknownType => "unknown_type",
            RejectionCode::MissingField => "missing_field",
            RejectionCode::WrongType => "wrong_type",
            RejectionCode::InvalidValue => "invalid_value",
            RejectionCode::UnknownUnit => "unknown_unit",
            RejectionCode::NotLeafUnit => "not_leaf_unit",
            RejectionCode::UnknownLa => "unknown_la",
            RejectionCode::StartedAfterDate => "started_after_date",
            RejectionCode::SchemaViolation => "schema_violation",
            RejectionCode::OutOfRange => "out_of_range",
            RejectionCode::InternalError => "internal_error",
        }
    }
}

/// A rejected message: the reason code, the field at fault and a sentence.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Rejection {
    /// The closed-set reason.
    pub code: RejectionCode,
    /// The field at fault, if the problem is in one field.
    pub field: Option<String>,
    /// What is wrong.
    pub detail: String,
}

/// Most characters of an input value a rejection reason quotes.
pub const EXCERPT_MAX_CHARS: usize = 24;

/// Most characters of a rejection's detail.
pub const DETAIL_MAX_CHARS: usize = 240;

/// At most `max` characters of `text`, control and other unprintable
/// characters shown as `?`, and `…` after them when `text` was longer if
/// `mark_cut`.
fn printable(text: &str, max: usize, mark_cut: bool) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if mark_cut && text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// A short, printable excerpt of an input value for a rejection reason:
/// at most [`EXCERPT_MAX_CHARS`] characters, control and other unprintable
/// characters shown as `?`, `…` when cut. Reasons go to dead letters and
/// logs; a whole field value (a name, a free-text note) never does.
pub fn excerpt(text: &str) -> String {
    printable(text, EXCERPT_MAX_CHARS, true)
}

/// Most characters of a field name a rejection keeps: field names come
/// from the message too (an unknown field), bounded like any excerpt but
/// longer, since they are names, not values.
const FIELD_MAX_CHARS: usize = 64;

impl Rejection {
    /// A rejection with its code, the field at fault and what is wrong (the
    /// detail cut to [`DETAIL_MAX_CHARS`], control characters shown as `?`).
    pub fn new(code: RejectionCode, field: Option<&str>, detail: impl Into<String>) -> Rejection {
        Rejection {
            code,
            field: field.map(|field| printable(field, FIELD_MAX_CHARS, false)),
            detail: printable(&detail.into(), DETAIL_MAX_CHARS, true),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.detail),
            None => write!(f, "message: {}", self.detail),
        }
    }
}

impl std::error::Error for Rejection {}

/// Where a raw message came from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Position {
    /// A line of a JSON Lines file (1-based).
    File {
        /// The file path (shared by every line of the file).
        path: std::sync::Arc<str>,
        /// The line number, from 1.
        line: u64,
    },
    /// A Kafka message.
    Kafka {
        /// Topic.
        topic: String,
        /// Partition.
        partition: i32,
        /// Offset.
        offset: i64,
        /// The message key, if any (lossy UTF-8).
        key: Option<String>,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::File { path, line } => write!(f, "{path}:{line}"),
            Position::Kafka {
                topic,
                partition,
                offset,
                ..
            } => write!(f, "{topic}[{partition}]@{offset}"),
        }
    }
}

/// A raw input message with its position.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// The bytes as received.
    pub bytes: Vec<u8>,
    /// Where they came from.
    pub position: Position,
}

impl RawMessage {
    /// In-memory lines as messages of a file named `path`, numbered from 1.
    pub fn file_lines<B: Into<Vec<u8>>>(
        path: &str,
        lines: impl IntoIterator<Item = B>,
    ) -> Vec<RawMessage> {
        RawMessage::file_lines_from(path, 1, lines)
    }

    /// In-memory lines as messages of a file named `path`, numbered from
    /// `first_line` (a later part of the same file).
    pub fn file_lines_from<B: Into<Vec<u8>>>(
        path: &str,
        first_line: u64,
        lines: impl IntoIterator<Item = B>,
    ) -> Vec<RawMessage> {
        let path: std::sync::Arc<str> = path.into();
        lines
            .into_iter()
            .enumerate()
            .map(|(index, bytes)| RawMessage {
                bytes: bytes.into(),
                position: Position::File {
                    path: std::sync::Arc::clone(&path),
                    line: first_line + index as u64,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored owner records hold events encoded with postcard: a boxed
    /// commentary body encodes as the fields of the struct variant it
    /// replaced (its variant index, then indicator, month, text, author),
    /// so states written before read the same.
    #[test]
    fn a_commentary_body_encodes_as_its_fields_after_its_variant_index() {
        let month = crate::calendar::Month::new(2020, 3).unwrap();
        let body = Body::Commentary(Box::new(CommentaryBody {
            indicator: "SCS03".into(),
            month,
            text: "Referrals rose after the school term began.".into(),
            author: "Head of service".into(),
        }));
        let encoded = postcard::to_allocvec(&body).unwrap();
        // The last of Body's 30 variants.
        let variant_index: u32 = 29;
        let fields = postcard::to_allocvec(&(
            variant_index,
            "SCS03",
            month,
            "Referrals rose after the school term began.",
            "Head of service",
        ))
        .unwrap();
        assert_eq!(encoded, fields);
        assert_eq!(postcard::from_bytes::<Body>(&fields).unwrap(), body);
        // Every event is as large as its largest body: no more than a
        // string and a little beside it (48 bytes; 80 with the commentary
        // inline).
        assert!(
            std::mem::size_of::<Body>() <= 48,
            "{}",
            std::mem::size_of::<Body>()
        );
    }
}
