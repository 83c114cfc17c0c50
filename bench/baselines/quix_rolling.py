#!/usr/bin/env python3
"""Quix Streams baseline: rolling-12-month counters of SCS03 (re-referrals) and
SCS13 (repeat child protection plans), consumed live from the case-event topic.

    quix_rolling.py --brokers 127.0.0.1:19192 --topic T --count N --month 2017-08
                    [--config config/kent.toml] [--state-dir DIR] [--out FILE]
                    [--compare RAGLINE_REPORT.json] [--summary TIMINGS.json]

The same shape as ragline (Kafka in, RocksDB state), written the way a Quix
Streams user would:

stage 1, keyed by the message key (the child_id): a stateful step keeps, in
  Quix's RocksDB state of that child, the highest revision held of each of
  the child's event ids (highest revision wins, first arrival among equal
  revisions, voids count for nothing; docs/events.md, decision D2, decision D3) and the
  surviving revisions of the facts the two indicators need (referrals, case transfers and closures for the
  responsible unit of decision D9, plan starts). On every message it re-folds the
  child, derives the child's contributions (indicator, month, unit) -> (num,
  den), diffs them against the contributions it stored last time, stores the
  new ones and emits the differences;
stage 2, group_by unit (a repartition topic): a stateful step per unit adds
  the differences to monthly counters in RocksDB state.

The rolling-12-month value for a month end is the sum of the unit's 12
monthly counters, rolled up the unit tree of the configuration.

  SCS03: den +1 per referral at the referral's own unit (decision D11), dated in the
         window; num +1 if the child has another referral P with
         R - 12 months <= P < R.
  SCS13: den +1 per plan started in the window, at the child's responsible
         unit on S (the root when none); num +1 if the child has another plan
         started on an earlier date.

Malformed messages are skipped with the rules of ragline's decoder (a Python
port of them, for every event type, since a higher revision may change an
event's type). Not handled: a revision that moves an event to another child
(its messages carry another key, so another child's state holds it).

The application stops once it has consumed N messages from the input topic
and has processed every difference it produced, then prints the elapsed time
(with and without the consumer group join), input events/s and the counters
as at the month end for the root unit (and, with --out, every unit, as JSON
{unit: {indicator: {num, den}}} that bench/baselines/compare.py reads).
"""

import argparse
import datetime as dt
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib

from quixstreams import Application

# ---------------------------------------------------------------- validation (ragline's decoder)
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
KNOWN = {
    "event_id", "revision", "type", "la", "child_id", "date", "recorded_at", "unit", "void",
    "date_of_birth", "uasc", "reason", "worker_id", "qualified", "visit_type", "started",
    "child_seen", "s47_started", "category", "plan_id", "legal_status", "period_id",
    "placement_type", "distance_miles", "placement_id", "participated", "kind", "episode_id",
    "in_touch", "accommodation_suitable", "eet", "grade", "establishment_fte",
    "caseholding_fte", "permanent_qsw_fte", "agency_fte",
}
UNIT_TYPES = {"case_audit_completed", "staffing_snapshot"}
ABSENT = object()


class Invalid(Exception):
    pass


class NegativeZero(int):
    """The JSON integer -0 (ragline refuses it as a revision)."""


def _parse_int(text):
    value = int(text)
    return NegativeZero(0) if value == 0 and text.startswith("-") else value


def _no_constant(_name):
    raise Invalid("NaN/Infinity")


def _pairs(pairs):
    seen = set()
    for key, _ in pairs:
        if key in KNOWN:
            if key in seen:
                raise Invalid(f"{key}: given more than once")
            seen.add(key)
    return dict(pairs)


def parse_date(value):
    if not isinstance(value, str) or not DATE_RE.fullmatch(value):
        raise Invalid("date")
    try:
        return dt.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        raise Invalid("date") from None


def parse_instant(value):
    """RFC 3339 to nanoseconds since the epoch (UTC)."""
    m = RFC3339_RE.fullmatch(value) if isinstance(value, str) else None
    if not m:
        raise Invalid("recorded_at")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    try:
        base = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=dt.timezone.utc)
    except ValueError:
        raise Invalid("recorded_at") from None
    offset = 0 if z else (1 if sign == "+" else -1) * (int(oh) * 3600 + int(om) * 60)
    if not z and (int(oh) > 23 or int(om) > 59):
        raise Invalid("recorded_at")
    nanos = int((frac or "0")[:9].ljust(9, "0"))
    return (int(base.timestamp()) - offset) * 1_000_000_000 + nanos


def is_str(v, lo=0, hi=None):
    return isinstance(v, str) and len(v) >= lo and (hi is None or len(v) <= hi)


def is_bool(v):
    return isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and v >= 0 and v < 2305843009213.693951)


def check(cond, what):
    if not cond:
        raise Invalid(what)


def opt(obj, field, pred):
    v = obj.get(field, ABSENT)
    check(v is ABSENT or pred(v), field)


def req(obj, field, pred):
    v = obj.get(field, ABSENT)
    check(v is not ABSENT and pred(v), field)


ENUMS = {
    "visit_type": {"cin", "cp", "cic", "other"},
    "reason": {"adopted", "sgo", "returned_home", "age_18", "other"},
    "placement_type": {"foster_inhouse", "foster_relative_friend", "foster_agency", "residential",
                       "placed_for_adoption", "placed_with_parents", "independent_living", "other"},
    "kind": {"initial", "review"},
    "grade": {"outstanding", "good", "requires_improvement", "inadequate"},
}


def enum(field):
    return lambda v: isinstance(v, str) and v in ENUMS[field]


def ref(obj, field):
    req(obj, field, lambda v: is_str(v, 1, 128))


def type_rules(obj, type_, date):
    r = type_
    if r == "child_details":
        req(obj, "date_of_birth", lambda v: parse_date(v) is not None)
        opt(obj, "uasc", is_bool)
    elif r in ("referral", "case_transferred"):
        check("unit" in obj, "unit")
    elif r == "case_closed":
        opt(obj, "reason", is_str)
    elif r == "worker_allocated":
        req(obj, "worker_id", lambda v: is_str(v, 1))
        opt(obj, "qualified", is_bool)
    elif r in ("worker_unallocated", "missing_started"):
        pass
    elif r == "visit":
        req(obj, "visit_type", enum("visit_type"))
    elif r in ("assessment_completed", "s47_completed"):
        req(obj, "started", lambda v: parse_date(v) is not None)
        req(obj, "child_seen", is_bool)
        check(parse_date(obj["started"]) <= date, "started: after date")
    elif r == "icpc_held":
        req(obj, "s47_started", lambda v: parse_date(v) is not None)
        check(parse_date(obj["s47_started"]) <= date, "s47_started: after date")
    elif r == "cp_plan_started":
        opt(obj, "category", is_str)
    elif r in ("cp_plan_ended", "cp_review_held"):
        ref(obj, "plan_id")
    elif r == "cic_started":
        opt(obj, "legal_status", is_str)
    elif r == "cic_ended":
        ref(obj, "period_id")
        req(obj, "reason", enum("reason"))
    elif r == "placement_started":
        ref(obj, "period_id")
        req(obj, "placement_type", enum("placement_type"))
        opt(obj, "distance_miles", is_num)
    elif r == "placement_arrangement_meeting":
        ref(obj, "placement_id")
    elif r == "cic_review_held":
        ref(obj, "period_id")
        req(obj, "participated", is_bool)
    elif r == "health_assessment":
        ref(obj, "period_id")
        req(obj, "kind", enum("kind"))
    elif r in ("iha_referral", "dental_check", "placement_order_granted", "adoption_match"):
        ref(obj, "period_id")
    elif r in ("missing_ended", "return_interview_held"):
        ref(obj, "episode_id")
    elif r == "care_leaver_contact":
        req(obj, "in_touch", is_bool)
        if obj["in_touch"]:
            check("accommodation_suitable" in obj and "eet" in obj, "accommodation_suitable/eet")
        opt(obj, "accommodation_suitable", is_bool)
        opt(obj, "eet", is_bool)
    elif r == "case_audit_completed":
        check("unit" in obj, "unit")
        req(obj, "grade", enum("grade"))
    elif r == "staffing_snapshot":
        check("unit" in obj, "unit")
        for f in ("establishment_fte", "caseholding_fte", "permanent_qsw_fte", "agency_fte"):
            req(obj, f, is_num)
    else:
        raise Invalid("type: unknown")


def decode(raw, cfg):
    """Bytes to a validated event dict (with 'date' a date, 'rec' nanoseconds or None),
    or raise Invalid."""
    if raw is None or len(raw) > cfg["max_bytes"]:
        raise Invalid("size")
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text, parse_int=_parse_int, parse_constant=_no_constant, object_pairs_hook=_pairs)
    except (UnicodeDecodeError, ValueError) as error:
        raise Invalid(f"not JSON: {error}") from None
    check(isinstance(obj, dict), "not an object")
    req(obj, "event_id", lambda v: is_str(v, 1, 128))
    rev = obj.get("revision", 0)
    check(isinstance(rev, int) and not isinstance(rev, (bool, NegativeZero)) and 0 <= rev < 1 << 64, "revision")
    req(obj, "type", is_str)
    type_ = obj["type"]
    la = obj.get("la", ABSENT)
    if la is ABSENT:
        la = cfg["default_la"]
    else:
        check(is_str(la, 1) and la in cfg["authorities"], "la")
    if type_ in cfg["child_types"]:
        check("child_id" in obj, "child_id")
    opt(obj, "child_id", lambda v: is_str(v, 1, 64))
    date = parse_date(obj.get("date"))
    rec = obj.get("recorded_at", ABSENT)
    rec = None if rec is ABSENT else parse_instant(rec)
    unit = obj.get("unit", ABSENT)
    if unit is not ABSENT:
        check(is_str(unit, 1) and cfg["leaf_la"].get(unit) == la, "unit")
    opt(obj, "void", is_bool)
    type_rules(obj, type_, date)
    return {"id": obj["event_id"], "rev": rev, "void": obj.get("void", False), "type": type_,
            "date": date, "rec": rec, "unit": None if unit is ABSENT else unit}


# ---------------------------------------------------------------- the child fold
RELEVANT = {"referral", "case_transferred", "case_closed", "cp_plan_started"}


def minus_months(date, months):
    idx = date.year * 12 + date.month - 1 - months
    y, m = divmod(idx, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(date.day, last))


def child_contributions(events, root):
    """events: event_id -> [rev, void, type, date_iso, rec, unit] (surviving revisions).
    Returns {"IND|YYYY-MM|unit": [num, den]}."""
    facts = []
    for eid, (rev, void, type_, date, rec, unit) in events.items():
        if not void and type_ in RELEVANT:
            facts.append((date, rec is not None, rec or 0, eid, type_, unit))
    facts.sort()  # date, recorded_at (absent first), event_id by code point
    out = {}

    def add(ind, date, unit, num):
        key = f"{ind}|{date[:7]}|{unit}"
        cell = out.setdefault(key, [0, 0])
        cell[0] += num
        cell[1] += 1

    # responsible unit at the end of each day (decision D9)
    unit_after, open_case, current = {}, False, None
    for date, _, _, _, type_, unit in facts:
        if type_ == "referral" and not open_case:
            open_case, current = True, unit
        elif type_ == "referral":
            pass
        elif type_ == "case_transferred":
            current = unit
        elif type_ == "case_closed":
            open_case = False
        if current is not None:
            unit_after[date] = current
    days = sorted(unit_after)

    def unit_on(date):
        best = None
        for d in days:  # children have few such days
            if d <= date:
                best = unit_after[d]
            else:
                break
        return best or root

    referrals = [f for f in facts if f[4] == "referral"]
    plans = [f for f in facts if f[4] == "cp_plan_started"]
    for r in referrals:
        lo = minus_months(dt.date.fromisoformat(r[0]), 12).isoformat()
        repeat = any(lo <= p[0] < r[0] for p in referrals)
        add("SCS03", r[0], r[5], int(repeat))
    for s in plans:
        repeat = any(o[0] < s[0] for o in plans)
        add("SCS13", s[0], unit_on(s[0]), int(repeat))
    return out


# ---------------------------------------------------------------- the application
def load_config(path):
    with open(path, "rb") as fh:
        cfg = tomllib.load(fh)
    units = cfg["unit"]
    parent = {u["id"]: u.get("parent") for u in units}
    has_child = {u["parent"] for u in units if u.get("parent")}
    authorities = {a["id"]: a["root"] for a in cfg["authority"]}
    root_la = {root: la for la, root in authorities.items()}

    def top(uid):
        while parent[uid]:
            uid = parent[uid]
        return uid

    default_la = next((a["id"] for a in cfg["authority"] if a.get("default")), cfg["authority"][0]["id"])
    child_types = {
        "child_details", "referral", "case_transferred", "case_closed", "worker_allocated",
        "worker_unallocated", "visit", "assessment_completed", "s47_completed", "icpc_held",
        "cp_plan_started", "cp_plan_ended", "cp_review_held", "cic_started", "cic_ended",
        "placement_started", "placement_arrangement_meeting", "cic_review_held",
        "health_assessment", "iha_referral", "dental_check", "placement_order_granted",
        "adoption_match", "missing_started", "missing_ended", "return_interview_held",
        "care_leaver_contact"}
    return {
        "parent": parent, "order": [u["id"] for u in units],
        "leaf_la": {u["id"]: root_la.get(top(u["id"])) for u in units if u["id"] not in has_child},
        "authorities": authorities, "default_la": default_la,
        "root": authorities[default_la], "child_types": child_types,
        "max_bytes": cfg.get("processing", {}).get("max_message_bytes", 1 << 20),
    }


def window_months(month):
    y, m = (int(x) for x in month.split("-"))
    idx = y * 12 + m - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(idx - 11, idx + 1)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", default="127.0.0.1:19192")
    ap.add_argument("--topic", default="ragline.case-events")
    ap.add_argument("--count", type=int, required=True, help="stop after consuming N input messages")
    ap.add_argument("--month", required=True, help="report the counters as at the end of YYYY-MM")
    ap.add_argument("--config", default="config/kent.toml")
    ap.add_argument("--group", help="consumer group (default: a fresh one per run)")
    ap.add_argument("--state-dir", help="Quix state directory (default: a fresh temporary one)")
    ap.add_argument("--no-changelog", action="store_true", help="do not back the state with changelog topics")
    ap.add_argument("--out", help="write every unit's counters as JSON (compare.py format)")
    ap.add_argument("--compare", help="ragline report JSON: check SCS03/SCS13 at the root unit")
    ap.add_argument("--summary", help="write the timings as JSON (for ragline-bench)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    root = cfg["root"]

    run_id = f"{int(time.time())}-{os.getpid()}"
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="quix-rolling-")
    app = Application(
        broker_address=args.brokers,
        consumer_group=args.group or f"quix-rolling-{run_id}",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        use_changelog_topics=not args.no_changelog,
        loglevel="WARNING",
        commit_interval=5.0,
    )
    topic = app.topic(args.topic, key_deserializer="bytes", value_deserializer="bytes")
    # tansu reports only the configs a topic was created with; Quix derives its changelog
    # and repartition topics from retention.ms, so supply Kafka's default when it is missing
    topic.broker_config.extra_config.setdefault("retention.ms", "604800000")
    progress = {"consumed": 0, "rejected": 0, "emitted": 0, "applied": 0, "first": None, "done": None}
    unit_counters = {}  # a mirror of stage 2's state, for the final print

    def maybe_stop():
        if progress["consumed"] >= args.count and progress["applied"] >= progress["emitted"]:
            if progress["done"] is None:
                progress["done"] = time.perf_counter()
            app.stop()

    def stage1(raw, state):
        """Per child: keep surviving revisions, re-fold, emit the contribution differences."""
        diffs = []
        try:
            e = decode(raw, cfg)
        except Invalid:
            progress["rejected"] += 1
            e = None
        if e is not None and e["type"] not in UNIT_TYPES:
            # per event id: [highest revision held, whether it is a relevant type]
            held = state.get("e/" + e["id"])
            if held is None or e["rev"] > held[0]:
                relevant = e["type"] in RELEVANT
                state.set("e/" + e["id"], [e["rev"], relevant])
                if relevant or (held is not None and held[1]):
                    # the child's surviving relevant facts, re-folded from scratch
                    facts = state.get("facts", {})
                    if relevant:
                        facts[e["id"]] = [e["rev"], e["void"], e["type"], e["date"].isoformat(), e["rec"], e["unit"]]
                    else:
                        facts.pop(e["id"], None)
                    state.set("facts", facts)
                    old = state.get("contrib", {})
                    new = child_contributions(facts, root)
                    for key in old.keys() | new.keys():
                        a, b = old.get(key, [0, 0]), new.get(key, [0, 0])
                        if a != b:
                            ind, month, unit = key.split("|", 2)
                            diffs.append({"ind": ind, "month": month, "unit": unit,
                                          "num": b[0] - a[0], "den": b[1] - a[1]})
                    state.set("contrib", new)
        progress["emitted"] += len(diffs)
        if not diffs:
            maybe_stop()
        return diffs

    def stage2(diff, state):
        """Per unit: monthly counters."""
        key = f"{diff['ind']}|{diff['month']}"
        cell = state.get(key, [0, 0])
        cell = [cell[0] + diff["num"], cell[1] + diff["den"]]
        state.set(key, cell)
        unit_counters.setdefault(diff["unit"], {})[key] = cell
        progress["applied"] += 1
        maybe_stop()
        return diff

    sdf = app.dataframe(topic)
    def consumed(_value, key, _ts, _headers):
        """Counts every input message; those without a key cannot be child events."""
        if progress["first"] is None:
            progress["first"] = time.perf_counter()
        progress["consumed"] += 1
        if key is None:
            progress["rejected"] += 1
            maybe_stop()
        return key is not None

    sdf = sdf.filter(consumed, metadata=True)
    sdf = sdf.apply(stage1, stateful=True, expand=True)
    sdf = sdf.group_by(lambda d: d["unit"], name="scs-units")
    sdf = sdf.apply(stage2, stateful=True)

    started = time.perf_counter()
    logging.getLogger("quixstreams").setLevel(logging.WARNING)
    app.run()
    finished = progress["done"] or time.perf_counter()
    if not args.state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)

    # Roll the unit counters up the tree, over the 12 months ending with --month.
    months = set(window_months(args.month))
    totals = {u: {"SCS03": [0, 0], "SCS13": [0, 0]} for u in cfg["order"]}
    for unit, cells in unit_counters.items():
        for key, (num, den) in cells.items():
            ind, month = key.split("|")
            if month not in months:
                continue
            u = unit
            while u:
                totals[u][ind][0] += num
                totals[u][ind][1] += den
                u = cfg["parent"].get(u)
    wall = finished - started
    busy = finished - (progress["first"] or started)
    n = progress["consumed"]
    print(f"quix_rolling: {n} messages consumed ({progress['rejected']} rejected), "
          f"{progress['emitted']} counter updates through the repartition topic; "
          f"elapsed {wall:.2f} s from start ({busy:.2f} s from the first message, "
          f"{wall - busy:.2f} s joining the group); {n / busy:,.0f} events/s "
          f"({n / wall:,.0f} events/s including the join)")
    for ind in ("SCS03", "SCS13"):
        num, den = totals[root][ind]
        value = f"{100 * num / den:.1f}%" if den else "no data"
        print(f"  {root} {ind} as at the end of {args.month}: num {num} den {den} ({value})")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({u: {i: {"num": c[0], "den": c[1]} for i, c in cells.items()}
                       for u, cells in totals.items()}, fh, indent=1)
    if args.summary:
        with open(args.summary, "w") as fh:
            json.dump({"consumed": n, "rejected": progress["rejected"], "wall_seconds": wall,
                       "busy_seconds": busy, "join_seconds": wall - busy,
                       "events_per_second": n / busy, "events_per_second_with_join": n / wall}, fh)
    status = 0
    if args.compare:
        with open(args.compare) as fh:
            report = json.load(fh)
        for ind in ("SCS03", "SCS13"):
            theirs = report[root][ind]
            mine = totals[root][ind]
            same = theirs["num"] == mine[0] and theirs["den"] == mine[1]
            print(f"  ragline {root} {ind}: num {theirs['num']} den {theirs['den']} -> "
                  f"{'equal' if same else 'DIFFERENT'}")
            status |= 0 if same else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
