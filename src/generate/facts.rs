//! The facts of the history, compactly, and the names and codes they are
//! written with (`docs/events.md`).

use crate::calendar::Date;

/// Seconds in a day.
pub(super) const DAY_SECONDS: i64 = 86_400;

/// The type of an event, in the order of [`EVENT_TYPE_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub(super) enum EventType {
    ChildDetails,
    Referral,
    CaseTransferred,
    CaseClosed,
    WorkerAllocated,
    WorkerUnallocated,
    Visit,
    AssessmentCompleted,
    S47Completed,
    IcpcHeld,
    CpPlanStarted,
    CpPlanEnded,
    CpReviewHeld,
    CicStarted,
    CicEnded,
    PlacementStarted,
    PlacementArrangementMeeting,
    CicReviewHeld,
    HealthAssessment,
    IhaReferral,
    DentalCheck,
    PlacementOrderGranted,
    AdoptionMatch,
    MissingStarted,
    MissingEnded,
    ReturnInterviewHeld,
    CareLeaverContact,
    CaseAuditCompleted,
    StaffingSnapshot,
}

/// The name of each [`EventType`]: the event types of `docs/events.md`
/// up to `staffing_snapshot`, which is where [`EventType`] ends (the
/// generator writes no commentary).
pub(super) const EVENT_TYPE_NAMES: &[&str] = crate::event::EVENT_TYPES
    .as_slice()
    .split_at(EventType::StaffingSnapshot as usize + 1)
    .0;

pub(super) const VISIT_TYPES: [&str; 4] = ["cin", "cp", "cic", "other"];
pub(super) const VISIT_CIN: u8 = 0;
pub(super) const VISIT_CP: u8 = 1;
pub(super) const VISIT_CIC: u8 = 2;
pub(super) const VISIT_OTHER: u8 = 3;

pub(super) const PLACEMENT_TYPES: [&str; 8] = [
    "foster_inhouse",
    "foster_relative_friend",
    "foster_agency",
    "residential",
    "placed_for_adoption",
    "placed_with_parents",
    "independent_living",
    "other",
];
pub(super) const PLACEMENT_INHOUSE: u8 = 0;
pub(super) const PLACEMENT_RELATIVE: u8 = 1;
pub(super) const PLACEMENT_AGENCY: u8 = 2;
pub(super) const PLACEMENT_RESIDENTIAL: u8 = 3;
pub(super) const PLACEMENT_ADOPTION: u8 = 4;
pub(super) const PLACEMENT_PARENTS: u8 = 5;
pub(super) const PLACEMENT_INDEPENDENT: u8 = 6;
pub(super) const PLACEMENT_OTHER: u8 = 7;

pub(super) const CIC_END_REASONS: [&str; 5] =
    ["adopted", "sgo", "returned_home", "age_18", "other"];
pub(super) const ENDED_ADOPTED: u8 = 0;
pub(super) const ENDED_SGO: u8 = 1;
pub(super) const ENDED_RETURNED_HOME: u8 = 2;
pub(super) const ENDED_AGE_18: u8 = 3;
pub(super) const ENDED_OTHER: u8 = 4;

/// Index 0 means "field absent".
pub(super) const CLOSE_REASONS: [&str; 8] = [
    "",
    "no_further_action",
    "cin_closed",
    "stepped_down",
    "moved_out_of_area",
    "reached_18",
    "adopted_or_sgo",
    "other",
];
pub(super) const CATEGORIES: [&str; 6] = [
    "",
    "neglect",
    "emotional_abuse",
    "physical_abuse",
    "sexual_abuse",
    "multiple",
];
pub(super) const LEGAL_STATUSES: [&str; 7] = ["", "C1", "C2", "V2", "E1", "L1", "J2"];
/// The index of the legal status of a placement order (E1).
pub(super) const LEGAL_STATUS_PLACEMENT_ORDER: u8 = 4;
pub(super) const GRADES: [&str; 4] = ["outstanding", "good", "requires_improvement", "inadequate"];

pub(super) const NO_CHILD: u32 = u32::MAX;
pub(super) const NO_UNIT: u16 = u16::MAX;
pub(super) const NO_DISTANCE: u32 = u32::MAX;

/// One fact, compactly. Payload by type:
/// - child_details: primary = date of birth, code bit0 uasc, bit1 write `uasc`
/// - referral, case_transferred, audits, staffing: `unit`
/// - case_closed: code = CLOSE_REASONS index
/// - worker_allocated: primary = worker index, code bit0 qualified
/// - visit: code = visit type
/// - assessment_completed, s47_completed: primary = started, code bit0 child_seen
/// - icpc_held: primary = s47_started
/// - cp_plan_started: code = category; cic_started: code = legal status
/// - references (plan, period, placement, episode): primary = uid of the starting fact
/// - cic_ended: code = reason; placement_started: code = type, secondary = distance in tenths
/// - cic_review_held: code bit0 participated; health_assessment: code 0 initial, 1 review
/// - care_leaver_contact: code bit0 in_touch, bit1 accommodation_suitable, bit2 eet
/// - case_audit_completed: code = grade, `child` optional
/// - staffing_snapshot: primary = establishment << 16 | caseholding, secondary =
///   permanent << 16 | agency (tenths)
///
/// Dates in `primary` are [`encode_date`]d.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fact {
    /// Number of the fact in order of generation.
    pub(super) uid: u32,
    /// The event's date.
    pub(super) date: Date,
    /// recorded_at, seconds since 1970-01-01T00:00:00Z.
    pub(super) recorded_at: i64,
    /// Index of the child, or [`NO_CHILD`].
    pub(super) child: u32,
    /// Index of the unit named by the event, or [`NO_UNIT`].
    pub(super) unit: u16,
    /// The event's type.
    pub(super) event_type: EventType,
    /// A small code or flags (see above).
    pub(super) code: u8,
    /// A date, reference, worker or packed figures (see above).
    pub(super) primary: u32,
    /// A distance or packed figures (see above).
    pub(super) secondary: u32,
}

/// A date as a fact's payload.
pub(super) fn encode_date(date: Date) -> u32 {
    date.days() as u32
}

/// The date of a fact's payload.
pub(super) fn decode_date(payload: u32) -> Date {
    Date::from_days(payload as i32)
}
