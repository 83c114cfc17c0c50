#!/usr/bin/env python3
"""Write a small hand-made JSON Lines history full of boundary cases of the
contract (docs/events.md, docs/scorecard.md, docs/indicator-definitions.md and
the decisions of docs/decisions.md), for checking the baselines against ragline:

    edge_cases.py OUT.jsonl

Each child below exercises one rule; the comment says which and what the
contract says should happen. Meant to be replayed by ragline and recomputed by
duckdb_scorecard.py for the months 2017-02, 2017-03, 2017-08, 2018-02 and
2018-03, then compared with compare.py.
"""

import json
import sys

lines = []
n = 0


def ev(type_, child, date, raw=None, **fields):
    """Append one event line; returns its event_id."""
    global n
    n += 1
    obj = {"event_id": fields.pop("event_id", f"x{n:04d}"), "type": type_}
    if child is not None:
        obj["child_id"] = child
    obj["date"] = date
    obj.update(fields)
    lines.append(raw if raw is not None else json.dumps(obj, ensure_ascii=False))
    return obj["event_id"]


U1, U2, U3 = "dartford-cswt", "canterbury-cswt", "maidstone-cswt"

# A: a referral while a case is open elsewhere: SCS03/SCS02 at its own unit,
#    REF-M at the case's unit (decision D11); it does not move the child (decision D9).
ev("referral", "A", "2017-07-03", unit=U1)
ev("referral", "A", "2017-08-10", unit=U2)            # SCS03 num (previous within 12 months), at U2
# B: case_transferred with no case open still moves the child; case_closed with no case open does nothing.
ev("case_transferred", "B", "2017-05-01", unit=U3)
ev("case_closed", "B", "2017-05-02")
ev("cp_plan_started", "B", "2017-05-03")              # counted at U3
# C: order within a day by recorded_at instants (decision D7): +02:00 is earlier than 09:30Z.
ev("case_transferred", "C", "2017-08-01", unit=U2, recorded_at="2017-08-01T09:30:00Z")
ev("referral", "C", "2017-08-01", unit=U1, recorded_at="2017-08-01T10:00:00+02:00")  # 08:00Z: first
ev("cp_plan_started", "C", "2017-08-01")              # counted at end-of-day unit U2
# D: an event without recorded_at comes first within its day.
ev("referral", "D", "2017-08-02", unit=U1, recorded_at="2017-08-02T07:00:00Z")
ev("case_transferred", "D", "2017-08-02", unit=U2)    # no recorded_at: before the referral -> end unit U1
ev("assessment_completed", "D", "2017-08-02", started="2017-07-01", child_seen=True)
# E: event_id by code point within a day (same recorded_at).
ev("referral", "E", "2017-08-03", unit=U1, recorded_at="2017-08-03T09:00:00Z", event_id="E-b")
ev("case_transferred", "E", "2017-08-03", unit=U2, recorded_at="2017-08-03T09:00:00Z", event_id="E-a")
ev("s47_completed", "E", "2017-08-03", started="2017-08-01", child_seen=False)  # transfer first -> U1
# F: referral and close on the same day: open on no as-of date; a second referral later that day opens again.
ev("referral", "F", "2017-08-31", unit=U1, recorded_at="2017-08-31T09:00:00Z")
ev("case_closed", "F", "2017-08-31", recorded_at="2017-08-31T10:00:00Z")
ev("referral", "F", "2017-08-31", unit=U3, recorded_at="2017-08-31T11:00:00Z")  # opens: unit U3, open at D
ev("referral", "F2", "2017-08-31", unit=U1, recorded_at="2017-08-31T09:00:00Z")
ev("case_closed", "F2", "2017-08-31", recorded_at="2017-08-31T10:00:00Z")     # not open at 2017-08-31
# G: revisions: a void at revision 1 then the fact at revision 2 restores it (decision D3); equal
#    revision with other content: first line wins (decision D2); lower revision later is ignored.
ev("referral", "G", "2017-06-01", unit=U1, event_id="G1", revision=0)
ev("referral", "G", "2017-06-01", unit=U1, event_id="G1", revision=1, void=True)
ev("referral", "G", "2017-06-05", unit=U2, event_id="G1", revision=2)
ev("referral", "G", "2017-06-09", unit=U3, event_id="G1", revision=2)     # duplicate: ignored
ev("referral", "G", "2017-01-01", unit=U3, event_id="G1", revision=1)     # lower: ignored
ev("referral", "G", "2017-03-01", unit=U1, event_id="G0", revision=5, void=True)  # only ever voided
# H: a revision moves the event to another child and changes its type.
ev("referral", "H", "2017-04-01", unit=U1, event_id="H1")
ev("referral", "H", "2017-04-02", unit=U1, event_id="H2")
ev("cp_plan_started", "H2", "2017-04-02", event_id="H2", revision=1)    # H2 becomes a plan of child H2
# I: references resolve only to a surviving start of the same child and type (decision D4).
ev("referral", "I", "2016-01-04", unit=U2)
ev("cp_plan_started", "I", "2016-01-05", event_id="I-plan")
ev("cp_plan_ended", "J", "2017-08-05", plan_id="I-plan")                 # other child: never counts
ev("cp_plan_ended", "I", "2017-08-06", plan_id="I-period")               # wrong type: never counts
ev("cic_started", "I", "2016-02-01", event_id="I-period")
ev("cp_plan_ended", "I", "2018-02-28", plan_id="I-plan", event_id="I-end-late")  # the real end
ev("cp_plan_ended", "I", "2018-01-31", plan_id="I-plan", event_id="I-end-first")  # decision D5: first end wins
ev("cic_ended", "I", "2017-12-31", period_id="I-period", reason="adopted")
ev("cic_ended", "I", "2017-12-31", period_id="I-period", reason="sgo",
   recorded_at="2017-12-31T10:00:00Z")                                    # second end of the same day
# K: an end dated before its start (anomaly): what counts?
ev("referral", "K", "2017-05-01", unit=U3)
ev("cp_plan_started", "K", "2017-08-20", event_id="K-plan")
ev("cp_plan_ended", "K", "2017-08-10", plan_id="K-plan")
ev("cic_started", "K", "2017-07-20", event_id="K-period")
ev("cic_ended", "K", "2017-07-10", period_id="K-period", reason="returned_home")
# L: SCS13: plans started on the same date are not "before" each other; an earlier plan long
#    before the window counts; a voided earlier plan does not.
ev("referral", "L", "2014-01-06", unit=U1)
ev("cp_plan_started", "L", "2014-01-06", event_id="L-old")
ev("cp_plan_ended", "L", "2014-06-06", plan_id="L-old")
ev("cp_plan_started", "L", "2017-07-07")
ev("cp_plan_started", "L2", "2017-07-07")
ev("cp_plan_started", "L2", "2017-07-07", recorded_at="2017-07-07T12:00:00Z")
ev("cp_plan_started", "L3", "2017-01-02", event_id="L3-void")
ev("cp_plan_started", "L3", "2017-01-02", event_id="L3-void", revision=1, void=True)
ev("cp_plan_started", "L3", "2017-07-08")
# M: CP04 month clamping: S = 2016-02-29, E = 2018-02-28 = S + 24 months (num);
#    S = 2016-03-01 ends 2018-02-28 (not num); SCS03 window clamping.
ev("cp_plan_started", "M", "2016-02-29", event_id="M-plan1")
ev("cp_plan_ended", "M", "2018-02-28", plan_id="M-plan1")
ev("cp_plan_started", "M2", "2016-03-01", event_id="M-plan2")
ev("cp_plan_ended", "M2", "2018-02-28", plan_id="M-plan2")
ev("referral", "M3", "2016-02-29", unit=U1)
ev("referral", "M3", "2017-02-28", unit=U1)            # R - 12 months = 2016-02-28 <= 2016-02-29: num
ev("referral", "M4", "2016-03-31", unit=U1)
ev("referral", "M4", "2017-03-31", unit=U1)            # exactly 12 months: num
ev("referral", "M5", "2016-03-30", unit=U1)
ev("referral", "M5", "2017-03-31", unit=U1)            # 12 months and a day: not num
ev("referral", "M6", "2017-03-31", unit=U1)
ev("referral", "M6", "2017-03-31", unit=U2, recorded_at="2017-03-31T23:00:00Z")  # same date: not "before"
# N: working days (Monday-Friday minus bank holidays; Easter 2017 is 14 and 17 April,
#    1 May is a bank holiday). The 45th working day after Fri 2017-03-03 is Wed 2017-05-10;
#    the 15th after Mon 2017-04-03 is Wed 2017-04-26; the 15th after Fri 2017-06-02 is
#    Fri 2017-06-23, so Saturday 2017-06-24 is late.
ev("referral", "N", "2017-03-01", unit=U2)
ev("assessment_completed", "N", "2017-05-10", started="2017-03-03", child_seen=True, event_id="N-as-in")
ev("assessment_completed", "N", "2017-05-11", started="2017-03-03", child_seen=True, event_id="N-as-out")
ev("icpc_held", "N", "2017-04-26", s47_started="2017-04-03", event_id="N-icpc-in")
ev("icpc_held", "N", "2017-04-27", s47_started="2017-04-03", event_id="N-icpc-out")
ev("icpc_held", "N", "2017-06-23", s47_started="2017-06-02", event_id="N-icpc-fri")
ev("icpc_held", "N", "2017-06-24", s47_started="2017-06-02", event_id="N-icpc-sat")
ev("icpc_held", "N", "2017-06-02", s47_started="2017-06-02", event_id="N-icpc-same-day")
ev("s47_completed", "N", "2017-04-30", started="2017-04-03", child_seen=True)
# O: a child with no responsible unit counts at the root only.
ev("cic_started", "O", "2017-02-01", event_id="O-period")
ev("child_details", "O", "2017-02-01", date_of_birth="2001-05-05", uasc=True)
ev("child_details", "O", "2016-02-01", date_of_birth="2001-05-05", uasc=False)  # older record: decision D1 latest wins
ev("cic_review_held", "O", "2017-05-01", period_id="O-period", participated=True)
ev("cic_review_held", "O", "2017-05-02", period_id="nope", participated=False)  # never resolves
ev("care_leaver_contact", "O", "2017-05-05", in_touch=True, accommodation_suitable=False, eet=True)
ev("care_leaver_contact", "O", "2017-06-05", in_touch=False)
# P: overlapping periods and plans count the child once (CP-N, CIC-N).
ev("referral", "P", "2017-01-09", unit=U3)
ev("cic_started", "P", "2017-01-10", event_id="P-per1")
ev("cic_started", "P", "2017-02-10", event_id="P-per2")
ev("cp_plan_started", "P", "2017-01-10")
ev("cp_plan_started", "P", "2017-02-10")
ev("cic_ended", "P", "2017-03-31", period_id="P-per1", reason="other")
ev("child_details", "P", "2017-01-01", date_of_birth="2005-01-01", uasc=True)
ev("child_details", "P", "2017-01-01", date_of_birth="2005-01-01", uasc=False,
   recorded_at="2017-01-01T08:00:00Z")                                    # later in the day: not UASC
# Q: validation: valid oddities and rejections.
ev("referral", "Q", "2017-08-04", unit=U1, la="kent", extra={"nested": [1, None]})
ev("referral", "Qé", "2017-08-04", unit=U1, revision=18446744073709551615)
ev("referral", "Q" * 64, "2017-08-04", unit=U1)
ev("referral", "é" * 64, "2017-08-04", unit=U1)                           # 64 characters, 128 bytes: valid
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qdupx","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt","x":1,"x":2}')
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qdup","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt","unit":"swale-cswt"}')
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qneg0","revision":-0,"type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt"}')
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qtrail","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt",}')
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qnan","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt","x":NaN}')
ev("referral", "Q", "2017-08-05", raw=' {"event_id":"Qspace","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt"} ')
ev("referral", "Q", "2017-08-05", raw='{"event_id":"Qnan-in-string","type":"referral","child_id":"Q","date":"2017-08-05","unit":"dartford-cswt","note":"NaN, ]"}')
ev("referral", "Q", "2017-08-05", unit=U1, recorded_at="2017-08-05 10:00:00Z")    # not RFC 3339 'T'
ev("referral", "Q", "2017-08-05", unit=U1, recorded_at="2017-08-05T10:00:00")     # no offset
ev("referral", "Q", "2017-08-05", unit=U1, recorded_at="2017-08-05t10:00:00.123456789z")  # valid
ev("referral", "Q", "2017-08-05", unit=U1, date_of_birth=None)                     # unknown to referral: ignored
ev("cp_plan_started", "Q", "2017-08-05", category=None)                             # null optional: rejected
ev("referral", "Q", "2017-08-05", unit=U1, event_id="y" * 129)                     # too long
ev("referral", "", "2017-08-05", unit=U1)                                           # empty child_id
ev("referral", "Q", "2017-8-05", unit=U1)
ev("referral", "Q", "2017-08-05", unit=U1, void=0)
ev("referral", "Q", "2017-08-05", unit="north-kent")
ev("case_audit_completed", None, "2017-08-05", unit=U1, grade="good", child_id="Q")
ev("case_audit_completed", None, "2017-08-06", unit=U2, grade="inadequate")
ev("case_audit_completed", None, "2017-08-07", unit="kent", grade="good")          # not a leaf
ev("case_audit_completed", None, "2017-08-07", grade="good")                       # unit missing
ev("assessment_completed", "Q", "2017-08-05", started="2017-08-06", child_seen=True)  # started after date
ev("care_leaver_contact", "Q", "2017-08-05", in_touch=True, eet=True)              # missing accommodation
ev("care_leaver_contact", "Q", "2017-08-05", in_touch=False, eet=None)             # null: wrong type
# R: flows dated after the month end or before the window do not count; a case transferred
#    later the same day moves the day's flows.
ev("referral", "R", "2017-09-01", unit=U1)
ev("referral", "R", "2016-08-31", unit=U1)
ev("referral", "R2", "2017-08-15", unit=U1, recorded_at="2017-08-15T09:00:00Z")
ev("case_transferred", "R2", "2017-08-15", unit=U3, recorded_at="2017-08-15T17:00:00Z")
ev("case_transferred", "R2", "2017-08-31", unit=U2)
ev("case_closed", "R2", "2017-09-01")

# S: sub-microsecond recorded_at order; offsets normalised (decision D7).
ev("referral", "S", "2017-08-07", unit=U1, recorded_at="2017-08-07T10:00:00.000000002Z")
ev("case_transferred", "S", "2017-08-07", unit=U2, recorded_at="2017-08-07T10:00:00.000000001Z")  # first
ev("cp_plan_started", "S", "2017-08-07")                                  # referral last -> U1 (it opened the case after the transfer)
ev("case_transferred", "S2", "2017-08-07", unit=U2, recorded_at="2017-08-07T11:00:00+01:00")   # 10:00Z
ev("case_transferred", "S2", "2017-08-07", unit=U3, recorded_at="2017-08-07T10:30:00Z")        # later
ev("cp_plan_started", "S2", "2017-08-07")                                 # at U3
# T: event_id by code point (bytes of UTF-8), no recorded_at: "z1" < "é1" < "\U0001F600".
ev("case_transferred", "T", "2017-08-08", unit=U2, event_id="é1")
ev("case_transferred", "T", "2017-08-08", unit=U3, event_id="z1")
ev("cp_plan_started", "T", "2017-08-08")                                  # end of day U2
ev("case_transferred", "T2", "2017-08-08", unit=U1, event_id="\U0001F600")
ev("case_transferred", "T2", "2017-08-08", unit=U3, event_id="\uFFFD")
ev("cp_plan_started", "T2", "2017-08-08")                                 # end of day U1
# V: facts before the child's first unit count at the root; the unit is taken per date.
ev("cp_plan_started", "V", "2017-01-05", event_id="V-plan")
ev("referral", "V", "2017-02-01", unit=U2)
ev("cp_plan_ended", "V", "2017-08-09", plan_id="V-plan")
ev("assessment_completed", "V", "2017-01-31", started="2017-01-31", child_seen=False)   # same day: within
ev("assessment_completed", "V", "2017-08-01", started="1999-01-01", child_seen=True)    # decades late
# W: an end of a voided start never counts; a voided end gives way to the next end.
ev("cp_plan_started", "W", "2017-03-01", event_id="W-plan")
ev("cp_plan_started", "W", "2017-03-01", event_id="W-plan", revision=3, void=True)
ev("cp_plan_ended", "W", "2017-08-11", plan_id="W-plan")
ev("cic_started", "W", "2017-03-01", event_id="W-period")
ev("cic_ended", "W", "2017-04-01", period_id="W-period", reason="adopted", event_id="W-end1")
ev("cic_ended", "W", "2017-04-01", period_id="W-period", reason="adopted", event_id="W-end1", revision=1, void=True)
ev("cic_ended", "W", "2017-08-12", period_id="W-period", reason="sgo")
# X: a void must pass validation (decision D3): this one names an unknown unit, so revision 0 stands.
ev("referral", "X", "2017-08-13", unit=U1, event_id="X1")
ev("referral", "X", "2017-08-13", unit="atlantis", event_id="X1", revision=1, void=True)
ev("referral", "X", "2017-08-14", unit=U2, event_id="X1", revision=1, recorded_at="2017-08-14T25:00:00Z")

if __name__ == "__main__":
    with open(sys.argv[1], "w") as fh:
        for line in lines:
            fh.write(line + "\n")
    print(f"wrote {len(lines)} lines to {sys.argv[1]}", file=sys.stderr)
