//! The JSON Schemas of `schemas/`, embedded in the binary, and a validator
//! built from them (draft-04, formats checked).
//!
//! Decoding does not need them: [`decode`](super::decode) implements the same
//! contract and a test checks that the two agree on a corpus. They back the
//! optional `processing.schema_validation` and describe the contract to
//! producers.

/// Every schema file: name and contents.
pub const SCHEMAS: &[(&str, &str)] = &[
    (
        "adoption_match.schema.json",
        include_str!("../../schemas/adoption_match.schema.json"),
    ),
    (
        "assessment_completed.schema.json",
        include_str!("../../schemas/assessment_completed.schema.json"),
    ),
    (
        "care_leaver_contact.schema.json",
        include_str!("../../schemas/care_leaver_contact.schema.json"),
    ),
    (
        "case_audit_completed.schema.json",
        include_str!("../../schemas/case_audit_completed.schema.json"),
    ),
    (
        "commentary.schema.json",
        include_str!("../../schemas/commentary.schema.json"),
    ),
    (
        "case_closed.schema.json",
        include_str!("../../schemas/case_closed.schema.json"),
    ),
    (
        "case_transferred.schema.json",
        include_str!("../../schemas/case_transferred.schema.json"),
    ),
    (
        "child_details.schema.json",
        include_str!("../../schemas/child_details.schema.json"),
    ),
    (
        "cic_ended.schema.json",
        include_str!("../../schemas/cic_ended.schema.json"),
    ),
    (
        "cic_review_held.schema.json",
        include_str!("../../schemas/cic_review_held.schema.json"),
    ),
    (
        "cic_started.schema.json",
        include_str!("../../schemas/cic_started.schema.json"),
    ),
    (
        "cp_plan_ended.schema.json",
        include_str!("../../schemas/cp_plan_ended.schema.json"),
    ),
    (
        "cp_plan_started.schema.json",
        include_str!("../../schemas/cp_plan_started.schema.json"),
    ),
    (
        "cp_review_held.schema.json",
        include_str!("../../schemas/cp_review_held.schema.json"),
    ),
    (
        "dental_check.schema.json",
        include_str!("../../schemas/dental_check.schema.json"),
    ),
    (
        "envelope.schema.json",
        include_str!("../../schemas/envelope.schema.json"),
    ),
    (
        "event.schema.json",
        include_str!("../../schemas/event.schema.json"),
    ),
    (
        "health_assessment.schema.json",
        include_str!("../../schemas/health_assessment.schema.json"),
    ),
    (
        "icpc_held.schema.json",
        include_str!("../../schemas/icpc_held.schema.json"),
    ),
    (
        "iha_referral.schema.json",
        include_str!("../../schemas/iha_referral.schema.json"),
    ),
    (
        "missing_ended.schema.json",
        include_str!("../../schemas/missing_ended.schema.json"),
    ),
    (
        "missing_started.schema.json",
        include_str!("../../schemas/missing_started.schema.json"),
    ),
    (
        "placement_arrangement_meeting.schema.json",
        include_str!("../../schemas/placement_arrangement_meeting.schema.json"),
    ),
    (
        "placement_order_granted.schema.json",
        include_str!("../../schemas/placement_order_granted.schema.json"),
    ),
    (
        "placement_started.schema.json",
        include_str!("../../schemas/placement_started.schema.json"),
    ),
    (
        "referral.schema.json",
        include_str!("../../schemas/referral.schema.json"),
    ),
    (
        "return_interview_held.schema.json",
        include_str!("../../schemas/return_interview_held.schema.json"),
    ),
    (
        "s47_completed.schema.json",
        include_str!("../../schemas/s47_completed.schema.json"),
    ),
    (
        "staffing_snapshot.schema.json",
        include_str!("../../schemas/staffing_snapshot.schema.json"),
    ),
    (
        "visit.schema.json",
        include_str!("../../schemas/visit.schema.json"),
    ),
    (
        "worker_allocated.schema.json",
        include_str!("../../schemas/worker_allocated.schema.json"),
    ),
    (
        "worker_unallocated.schema.json",
        include_str!("../../schemas/worker_unallocated.schema.json"),
    ),
];

const BASE: &str = "json-schema:///schemas/";

/// Builds a validator for `event.schema.json` (which dispatches on `type`).
pub fn validator() -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::options();
    options.with_draft(jsonschema::Draft::Draft4);
    options.should_validate_formats(true);
    for (name, text) in SCHEMAS {
        let document: serde_json::Value =
            serde_json::from_str(text).map_err(|error| format!("schemas/{name}: {error}"))?;
        let resource = jsonschema::Resource::from_contents(document)
            .map_err(|error| format!("schemas/{name}: {error}"))?;
        options.with_resource(format!("{BASE}{name}"), resource);
    }
    let root = serde_json::json!({"$ref": format!("{BASE}event.schema.json")});
    options
        .build(&root)
        .map_err(|error| format!("schemas: {error}"))
}
