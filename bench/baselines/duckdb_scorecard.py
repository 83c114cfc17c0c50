#!/usr/bin/env python3
"""DuckDB batch baseline: recompute month-end scorecards' numerators and
denominators from a JSON Lines event file, from scratch, in SQL.

    duckdb_scorecard.py EVENTS.jsonl --config config/kent.toml --month 2017-08 [--out FILE]
    duckdb_scorecard.py EVENTS.jsonl --config config/kent.toml --month 2016-04..2021-03 [--out FILE]

A range of months is computed by the same single script for every month end
of the range at once (a table of month ends joined with the facts), not one
query per month.

This is what a council's performance team could do instead of ragline: load
the whole history into an analytical database once a month and recompute.
Everything after reading the configuration is SQL (one DuckDB connection):

1. read every line as text (read_csv with no delimiter or quoting; lines that
   are not UTF-8 are skipped by the reader, which matches ragline rejecting
   them), keep its position;
2. validate each line as ragline's decoder does (docs/events.md, decision D7,
   decision D8):
   JSON object, no NaN/Infinity/trailing commas, no repeated known key, known
   type, required fields, field types, real dates, RFC 3339 `recorded_at`,
   integer revision >= 0, known authority, known leaf unit of that authority,
   started <= date, ...; rejected lines count for nothing;
3. revisions: per event_id the highest revision wins, first line among equal
   revisions, dropped when that revision is a void;
4. a child's events in the order of docs/events.md (date, recorded_at instant with absent
   first, event_id by code point): case state and responsible unit (decision D9),
   plan/period ends resolved to a surviving start of the same child (decision D4),
   first end wins (decision D5), the latest child_details for UASC (decision D1);
5. per indicator, one row per counted fact (leaf unit or root, uasc flag,
   num, den); flow facts summed per month of their date, then joined with
   the month ends whose window (M or R12M) holds that month; snapshot facts
   (open cases, plans, periods) joined with the month ends they span;
   summed up the unit tree per month end.

Output JSON: {unit_id: {indicator_id: {"num": n, "den": d}}} for one month,
{month: {unit_id: ...}} for a range ("den" omitted for count indicators and
for SCS02, whose den is the configured population).
Timings go to stderr.
"""

import argparse
import datetime as dt
import json
import re
import sys
import time
import tomllib

T0 = time.perf_counter()

import duckdb  # noqa: E402  (import time is part of the whole-script time)

# Every field name any event type uses (ragline decodes these and ignores the rest).
KNOWN = [
    "event_id", "revision", "type", "la", "child_id", "date", "recorded_at", "unit", "void",
    "date_of_birth", "uasc", "reason", "worker_id", "qualified", "visit_type", "started",
    "child_seen", "s47_started", "category", "plan_id", "legal_status", "period_id",
    "placement_type", "distance_miles", "placement_id", "participated", "kind", "episode_id",
    "in_touch", "accommodation_suitable", "eet", "grade", "establishment_fte",
    "caseholding_fte", "permanent_qsw_fte", "agency_fte",
]
IDX = {name: i + 1 for i, name in enumerate(KNOWN)}  # DuckDB lists are 1-based

UNIT_TYPES = ["case_audit_completed", "staffing_snapshot"]
CHILD_TYPES = [
    "child_details", "referral", "case_transferred", "case_closed", "worker_allocated",
    "worker_unallocated", "visit", "assessment_completed", "s47_completed", "icpc_held",
    "cp_plan_started", "cp_plan_ended", "cp_review_held", "cic_started", "cic_ended",
    "placement_started", "placement_arrangement_meeting", "cic_review_held",
    "health_assessment", "iha_referral", "dental_check", "placement_order_granted",
    "adoption_match", "missing_started", "missing_ended", "return_interview_held",
    "care_leaver_contact",
]

# Catalogue bases this baseline computes: kind and default UASC filter.
COUNT = "count"
BASES = {
    "SCS03": ("percent", "all"), "SCS02": ("rate", "all"), "AS01": ("percent", "all"),
    "AS02": ("percent", "all"), "CP05": ("percent", "all"), "CP06": ("percent", "all"),
    "SCS13": ("percent", "all"), "CP04": ("percent", "all"), "CIC04": ("percent", "all"),
    "AD01": ("percent", "exclude"), "AD03": ("percent", "exclude"),
    "CL01": ("percent", "all"), "CL02": ("percent", "all"), "SCS34": ("percent", "all"),
    "SCS37": ("percent", "all"),
    "REF-M": (COUNT, "all"), "CPS-M": (COUNT, "all"), "CPE-M": (COUNT, "all"),
    "CICS-M": (COUNT, "all"), "CICE-M": (COUNT, "all"),
    "SCS01": (COUNT, "all"), "CP-N": (COUNT, "all"), "CIC-N": (COUNT, "all"),
    "UASC-N": (COUNT, "only"),
}


def q(text):
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def sql_list(items):
    return "[" + ", ".join(q(i) for i in items) + "]"


def sql_in(items):
    return "(" + ", ".join(q(i) for i in items) + ")"


# ---------------------------------------------------------------- validation SQL
def T(f):
    return f"t[{IDX[f]}]"


def V(f):
    return f"v[{IDX[f]}]"


def s_str(f, lo=0, hi=None):
    cond = f"{T(f)} = 'VARCHAR' AND length({V(f)}) >= {lo}"
    if hi is not None:
        cond += f" AND length({V(f)}) <= {hi}"
    return f"({cond})"


def s_bool(f):
    return f"({T(f)} = 'BOOLEAN')"


def s_date(f):
    return (f"({T(f)} = 'VARCHAR' AND regexp_full_match({V(f)}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            f" AND try_cast({V(f)} AS DATE) IS NOT NULL)")


def s_enum(f, values):
    return f"({T(f)} = 'VARCHAR' AND {V(f)} IN {sql_in(values)})"


def s_num(f):
    # a JSON number >= 0 that fits ragline's exact millionths (i64::MAX / 4 micros)
    return (f"({T(f)} IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND {V(f)}::DOUBLE >= 0"
            f" AND {V(f)}::DOUBLE < 2305843009213.693951)")


def req(f, cond):
    return f"({T(f)} IS NOT NULL AND {cond})"


def opt(f, cond):
    return f"({T(f)} IS NULL OR {cond})"


def ref(f):
    return req(f, s_str(f, 1, 128))


RFC3339 = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"


def type_rules():
    """Per event type, the condition its own fields must meet (ragline's decode_fields)."""
    started = (f"try_cast({V('started')} AS DATE) <= try_cast({V('date')} AS DATE)")
    return {
        "child_details": f"{req('date_of_birth', s_date('date_of_birth'))} AND {opt('uasc', s_bool('uasc'))}",
        "referral": f"{T('unit')} IS NOT NULL",
        "case_transferred": f"{T('unit')} IS NOT NULL",
        "case_closed": opt("reason", s_str("reason")),
        "worker_allocated": f"{req('worker_id', s_str('worker_id', 1))} AND {opt('qualified', s_bool('qualified'))}",
        "worker_unallocated": "TRUE",
        "visit": req("visit_type", s_enum("visit_type", ["cin", "cp", "cic", "other"])),
        "assessment_completed": f"{req('started', s_date('started'))} AND {req('child_seen', s_bool('child_seen'))} AND {started}",
        "s47_completed": f"{req('started', s_date('started'))} AND {req('child_seen', s_bool('child_seen'))} AND {started}",
        "icpc_held": (f"{req('s47_started', s_date('s47_started'))} AND "
                      f"try_cast({V('s47_started')} AS DATE) <= try_cast({V('date')} AS DATE)"),
        "cp_plan_started": opt("category", s_str("category")),
        "cp_plan_ended": ref("plan_id"),
        "cp_review_held": ref("plan_id"),
        "cic_started": opt("legal_status", s_str("legal_status")),
        "cic_ended": (f"{ref('period_id')} AND "
                      + req("reason", s_enum("reason", ["adopted", "sgo", "returned_home", "age_18", "other"]))),
        "placement_started": (f"{ref('period_id')} AND "
                              + req("placement_type", s_enum("placement_type", [
                                  "foster_inhouse", "foster_relative_friend", "foster_agency", "residential",
                                  "placed_for_adoption", "placed_with_parents", "independent_living", "other"]))
                              + f" AND {opt('distance_miles', s_num('distance_miles'))}"),
        "placement_arrangement_meeting": ref("placement_id"),
        "cic_review_held": f"{ref('period_id')} AND {req('participated', s_bool('participated'))}",
        "health_assessment": f"{ref('period_id')} AND {req('kind', s_enum('kind', ['initial', 'review']))}",
        "iha_referral": ref("period_id"),
        "dental_check": ref("period_id"),
        "placement_order_granted": ref("period_id"),
        "adoption_match": ref("period_id"),
        "missing_started": "TRUE",
        "missing_ended": ref("episode_id"),
        "return_interview_held": ref("episode_id"),
        "care_leaver_contact": (
            f"{req('in_touch', s_bool('in_touch'))} AND "
            f"({V('in_touch')} <> 'true' OR ({T('accommodation_suitable')} IS NOT NULL AND {T('eet')} IS NOT NULL)) AND "
            f"{opt('accommodation_suitable', s_bool('accommodation_suitable'))} AND {opt('eet', s_bool('eet'))}"),
        "case_audit_completed": (f"{T('unit')} IS NOT NULL AND "
                                 + req("grade", s_enum("grade", ["outstanding", "good", "requires_improvement", "inadequate"]))),
        "staffing_snapshot": (f"{T('unit')} IS NOT NULL AND "
                              + " AND ".join(req(f, s_num(f)) for f in [
                                  "establishment_fte", "caseholding_fte", "permanent_qsw_fte", "agency_fte"])),
    }


def validation_sql(cfg):
    default_la = cfg["default_la"]
    rules = type_rules()
    type_case = "CASE " + " ".join(
        f"WHEN {V('type')} = {q(name)} THEN ({cond})" for name, cond in rules.items()) + " ELSE FALSE END"
    la_expr = f"COALESCE({V('la')}, {q(default_la)})"
    envelope = " AND ".join([
        req("event_id", s_str("event_id", 1, 128)),
        # a JSON integer >= 0 (1.0, "1", true, -1 and even -0 are rejected)
        opt("revision", f"({T('revision')} IN ('UBIGINT', 'BIGINT') AND {V('revision')}::HUGEINT >= 0"
                        f")"),
        req("type", s_str("type")),
        opt("la", f"{s_str('la', 1)} AND {V('la')} IN {sql_in(a for a, _ in cfg['authorities'])}"),
        f"({V('type')} NOT IN {sql_in(CHILD_TYPES)} OR {T('child_id')} IS NOT NULL)",
        opt("child_id", s_str("child_id", 1, 64)),
        req("date", s_date("date")),
        opt("recorded_at", f"({T('recorded_at')} = 'VARCHAR' AND regexp_full_match({V('recorded_at')}, '{RFC3339}')"
                           f" AND try_cast(upper({V('recorded_at')}) AS TIMESTAMPTZ) IS NOT NULL)"),
        # a known leaf unit of the event's authority
        opt("unit", f"{s_str('unit', 1)} AND {V('unit')} || chr(31) || {la_expr} IN "
                    + sql_in(f"{u}\x1f{la}" for u, la, leaf, _ in cfg["units"] if leaf)),
        opt("void", s_bool("void")),
        type_case,
    ])
    return envelope


# ---------------------------------------------------------------- configuration
def load_config(path):
    with open(path, "rb") as fh:
        cfg = tomllib.load(fh)
    units = cfg["unit"]
    parent = {u["id"]: u.get("parent") for u in units}
    children = {u["id"]: 0 for u in units}
    for u in units:
        if u.get("parent"):
            children[u["parent"]] += 1
    authorities = cfg["authority"]
    root_la = {a["root"]: a["id"] for a in authorities}
    default_la = next((a["id"] for a in authorities if a.get("default")), authorities[0]["id"])

    def top(uid):
        while parent[uid]:
            uid = parent[uid]
        return uid

    unit_rows, closure = [], []
    for u in units:
        uid = u["id"]
        unit_rows.append((uid, root_la.get(top(uid)), children[uid] == 0, u.get("kind", "")))
        anc = uid
        while anc:
            closure.append((uid, anc))
            anc = parent[anc]
    entries = []
    for ind in cfg.get("indicator", []):
        base = ind.get("base", ind["id"])
        if base in BASES:
            kind, default_filter = BASES[base]
            entries.append((ind["id"], base, ind.get("uasc", default_filter), kind))
    holidays = [dt.date.fromisoformat(d) for d in cfg.get("calendar", {}).get("bank_holidays", [])]
    max_bytes = cfg.get("processing", {}).get("max_message_bytes", 1 << 20)
    return {
        "units": unit_rows, "closure": closure, "unit_order": [u["id"] for u in units],
        "authorities": [(a["id"], a["root"]) for a in authorities], "default_la": default_la,
        "entries": entries, "holidays": holidays, "max_bytes": max_bytes,
    }


def month_bounds(month):
    year, mon = (int(x) for x in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    end = nxt - dt.timedelta(days=1)
    idx = year * 12 + mon - 1 - 11
    r12_start = dt.date(idx // 12, idx % 12 + 1, 1)
    return first, end, r12_start


def parse_months(text):
    """`YYYY-MM` or an inclusive range `YYYY-MM..YYYY-MM`: the list of months."""
    first, _, last = text.partition("..")
    last = last or first
    for month in (first, last):
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
            raise SystemExit(f"--month {text}: expected YYYY-MM or YYYY-MM..YYYY-MM")
    a = int(first[:4]) * 12 + int(first[5:]) - 1
    b = int(last[:4]) * 12 + int(last[5:]) - 1
    if b < a:
        raise SystemExit(f"--month {text}: the range ends before it starts")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(a, b + 1)]


# Count indicators over the month (window M); every other flow indicator is over
# the 12 whole calendar months to the month end (R12M).
MONTH_WINDOW = ["REF-M", "CPS-M", "CPE-M", "CICS-M", "CICE-M"]


# ---------------------------------------------------------------- the SQL
class Timed:
    """A connection wrapper that records how long each statement took."""

    def __init__(self, con):
        self.con, self.steps = con, []

    def execute(self, sql, *args):
        t = time.perf_counter()
        result = self.con.execute(sql, *args)
        m = re.search(r"CREATE TABLE (\w+)", sql)
        self.steps.append((m.group(1) if m else "final aggregation", time.perf_counter() - t))
        return result

    def executemany(self, sql, rows):
        return self.con.executemany(sql, rows)


def run(con, events, cfg, months):
    """Every month end of `months` in one set-based script: the facts are computed
    once, then joined with a table of month ends (its windows) and summed."""
    bounds = [month_bounds(month) for month in months]
    con.execute("CREATE TABLE months(m_start DATE, d_end DATE, r12_start DATE)")
    con.executemany("INSERT INTO months VALUES (?, ?, ?)", bounds)
    # the span of every window: facts outside it count for no month end
    LO, HI = f"DATE '{min(b[2] for b in bounds)}'", f"DATE '{max(b[1] for b in bounds)}'"
    con.execute("CREATE TABLE units(id VARCHAR, la VARCHAR, leaf BOOLEAN, kind VARCHAR)")
    con.executemany("INSERT INTO units VALUES (?, ?, ?, ?)", cfg["units"])
    con.execute("CREATE TABLE closure(unit VARCHAR, anc VARCHAR)")
    con.executemany("INSERT INTO closure VALUES (?, ?)", cfg["closure"])
    con.execute("CREATE TABLE authorities(id VARCHAR, root VARCHAR)")
    con.executemany("INSERT INTO authorities VALUES (?, ?)", cfg["authorities"])
    con.execute("CREATE TABLE holidays(d DATE)")
    con.executemany("INSERT INTO holidays VALUES (?)", [(h,) for h in cfg["holidays"]])
    con.execute("CREATE TABLE entries(id VARCHAR, base VARCHAR, filt VARCHAR, kind VARCHAR)")
    con.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", cfg["entries"])

    stats = {}
    t_sql = time.perf_counter()
    path = events.replace("'", "''")
    # 1. Raw lines, in file order (insertion order is preserved, so rowid is the line order).
    con.execute(f"""
        CREATE TABLE raw AS
        SELECT line FROM read_csv('{path}', columns = {{'line': 'VARCHAR'}}, header = false,
            delim = '\x01', quote = '', escape = '', auto_detect = false, ignore_errors = true,
            strict_mode = false, max_line_size = 4194304)""")
    # 2. Parse and validate.
    paths = sql_list("$." + f for f in KNOWN)
    known = sql_list(KNOWN)
    # (materialised first: DuckDB would otherwise evaluate the JSON lists more than once)
    con.execute(f"""
        CREATE TABLE parsed AS
        SELECT rowid AS rn, line, json_keys(line) AS keys,
               json_type(line, {paths}) AS t, json_extract_string(line, {paths}) AS v
        FROM raw
        WHERE line IS NOT NULL AND strlen(line) <= {cfg['max_bytes']}
          AND json_valid(line) AND json_type(line) = 'OBJECT'
    """)
    strict_json = f"""
        -- DuckDB's reader is lenient: refuse what strict JSON (serde) refuses (NaN, Infinity,
        -- trailing commas), looking outside string literals only where a cheap test hits
        -- (CASE, not AND: DuckDB evaluates both sides of an AND inside NOT for every row)
        NOT CASE WHEN regexp_matches(line, '(?i)nan|inf|,\\s*[\\]}}]')
                 THEN regexp_matches(regexp_replace(line, '"(?:[^"\\\\]|\\\\.)*"', '""', 'g'),
                                     '(?i)\\b(nan|inf|infinity)\\b|,\\s*[\\]}}]')
                 ELSE FALSE END
        -- a known field given twice is refused (the full test only where the object has
        -- more keys than distinct known fields: a repeated or an unknown key)
        AND CASE WHEN len(keys) = list_aggregate(t, 'count') THEN TRUE
                 ELSE len(list_filter(keys, lambda k: list_contains({known}, k)))
                      = list_aggregate(t, 'count') END
        -- "revision": -0 parses as the integer 0 but is refused ("must be >= 0")
        AND NOT CASE WHEN {T('revision')} IS NOT NULL AND {V('revision')} = '0'
                     THEN regexp_matches(line, '"revision"\\s*:\\s*-') ELSE FALSE END"""
    la = f"COALESCE({V('la')}, {q(cfg['default_la'])})"
    con.execute(f"""
        CREATE TABLE valid AS
        SELECT rn,  -- (try_cast: the filter below has already validated these)
            {V('event_id')} AS event_id,
            COALESCE(try_cast({V('revision')} AS HUGEINT), 0) AS revision,
            COALESCE({V('void')} = 'true', FALSE) AS void,
            {V('type')} AS type,
            {la} AS la,
            {V('child_id')} AS child_id,
            CASE WHEN {V('type')} IN {sql_in(CHILD_TYPES)} THEN {la} || chr(31) || {V('child_id')} END AS ck,
            try_cast({V('date')} AS DATE) AS date,
            -- the instant in nanoseconds (DuckDB timestamps keep microseconds; add the rest)
            epoch_us(try_cast(upper({V('recorded_at')}) AS TIMESTAMPTZ))::HUGEINT * 1000
              + COALESCE(try_cast(rpad(substr(regexp_extract({V('recorded_at')}, '\\.([0-9]+)', 1), 7, 3), 3, '0') AS INT), 0)
              AS rec,
            {V('unit')} AS unit,
            try_cast({V('started')} AS DATE) AS started,
            try_cast({V('s47_started')} AS DATE) AS s47_started,
            {V('child_seen')} = 'true' AS child_seen,
            {V('uasc')} = 'true' AS uasc,
            COALESCE({V('plan_id')}, {V('period_id')}, {V('placement_id')}, {V('episode_id')}) AS ref_id,
            {V('reason')} AS reason,
            {V('participated')} = 'true' AS participated,
            {V('in_touch')} = 'true' AS in_touch,
            {V('accommodation_suitable')} = 'true' AS accommodation_suitable,
            {V('eet')} = 'true' AS eet,
            {V('grade')} AS grade
        FROM parsed
        WHERE {strict_json} AND {validation_sql(cfg)}
    """)
    # 3. Revisions: highest revision per event_id, first line among equals; voids count for nothing.
    con.execute("""
        CREATE TABLE ev AS
        SELECT * EXCLUDE (k) FROM (
            SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY revision DESC, rn) AS k
            FROM valid)
        WHERE k = 1 AND NOT void
    """)
    # Child order: date, recorded_at (absent first), event_id by code point.
    order = "date, rec NULLS FIRST, event_id"
    # 4a. UASC: the child's single latest child_details (decision D1).
    con.execute(f"""
        CREATE TABLE child_uasc AS
        SELECT ck, uasc FROM ev WHERE type = 'child_details'
        QUALIFY row_number() OVER (PARTITION BY ck ORDER BY date DESC, rec DESC NULLS LAST, event_id DESC) = 1
    """)
    # 4b. Case state and responsible unit (decision D9). A referral opens a case iff the previous
    # referral/case_closed of the child (in order) is not a referral; a case is open after a
    # day iff that day's last referral/case_closed is a referral.
    con.execute(f"""
        CREATE TABLE casev AS
        SELECT ck, date, rec, event_id, type, unit,
               lag(type) OVER (PARTITION BY ck ORDER BY {order}) AS prev
        FROM ev WHERE type IN ('referral', 'case_closed')
    """)
    con.execute(f"""
        CREATE TABLE unit_day AS
        SELECT ck, date, unit FROM (
            SELECT ck, date, rec, event_id, unit FROM casev
            WHERE type = 'referral' AND (prev IS NULL OR prev = 'case_closed')
            UNION ALL
            SELECT ck, date, rec, event_id, unit FROM ev WHERE type = 'case_transferred')
        QUALIFY row_number() OVER (PARTITION BY ck, date ORDER BY rec DESC NULLS LAST, event_id DESC) = 1
    """)
    # 4c. Plans and periods with their first resolving end (decision D4, decision D5).
    for start, end, name in [("cp_plan_started", "cp_plan_ended", "plans"),
                             ("cic_started", "cic_ended", "periods")]:
        con.execute(f"""
            CREATE TABLE {name} AS
            SELECT s.ck, s.la, s.event_id AS id, s.date AS s_date, e.date AS e_date, e.reason AS e_reason
            FROM ev s
            LEFT JOIN (
                SELECT e.ck, e.ref_id, e.date, e.reason FROM ev e
                JOIN ev s2 ON s2.event_id = e.ref_id AND s2.ck = e.ck AND s2.type = '{start}'
                WHERE e.type = '{end}'
                QUALIFY row_number() OVER (PARTITION BY e.ref_id ORDER BY e.{order.replace(', ', ', e.')}) = 1
            ) e ON e.ref_id = s.event_id
            WHERE s.type = '{start}'
        """)
    # Working days: ordinal of each working day; nth working day after X = the working day
    # whose ordinal is cum(X) + n, where cum(X) counts working days <= X.
    con.execute(f"""
        CREATE TABLE cal AS
        WITH bounds AS (
            SELECT least(min(date), min(started), min(s47_started)) - INTERVAL 10 DAY AS lo,
                   greatest(max(date), {HI}) + INTERVAL 400 DAY AS hi
            FROM ev),
        days AS (
            SELECT d::DATE AS d,
                   isodow(d) <= 5 AND d::DATE NOT IN (SELECT d FROM holidays) AS wd
            FROM bounds, range(bounds.lo, bounds.hi, INTERVAL 1 DAY) r(d))
        SELECT d, wd, sum(wd::INT) OVER (ORDER BY d) AS cum FROM days
    """)
    con.execute("CREATE TABLE wdays AS SELECT cum AS ord, d FROM cal WHERE wd")

    def within_wd(x, n, fact_date):
        """fact_date <= the n-th working day after x."""
        return (f"({fact_date} <= (SELECT w.d FROM cal c JOIN wdays w ON w.ord = c.cum + {n}"
                f" WHERE c.d = {x}))")

    # 5. One row per counted fact: base, child (NULL for unit-level), counted date,
    # own unit (attribution by the fact's own unit) or NULL (unit responsible on the date).
    in_r12 = in_m = f"BETWEEN {LO} AND {HI}"
    flows = f"""
        -- SCS03 / SCS02: at the referral's own unit (decision D11)
        SELECT 'SCS03' AS base, r.ck, r.date, r.unit AS own_unit,
               (EXISTS (SELECT 1 FROM ev p WHERE p.type = 'referral' AND p.ck = r.ck
                        AND p.date >= r.date - INTERVAL 12 MONTH AND p.date < r.date))::INT AS num, 1 AS den
        FROM ev r WHERE r.type = 'referral' AND r.date {in_r12}
        UNION ALL SELECT 'SCS02', ck, date, unit, 1, 0 FROM ev WHERE type = 'referral' AND date {in_r12}
        UNION ALL SELECT 'REF-M', ck, date, NULL, 1, 0 FROM ev WHERE type = 'referral' AND date {in_m}
        UNION ALL SELECT 'AS02', ck, date, NULL, child_seen::INT, 1
            FROM ev WHERE type = 'assessment_completed' AND date {in_r12}
        UNION ALL SELECT 'AS01', ck, date, NULL, {within_wd('started', 45, 'date')}::INT, 1
            FROM ev WHERE type = 'assessment_completed' AND date {in_r12}
        UNION ALL SELECT 'CP05', ck, date, NULL, child_seen::INT, 1
            FROM ev WHERE type = 's47_completed' AND date {in_r12}
        UNION ALL SELECT 'CP06', ck, date, NULL, {within_wd('s47_started', 15, 'date')}::INT, 1
            FROM ev WHERE type = 'icpc_held' AND date {in_r12}
        -- SCS13: another plan of the child with an earlier start date
        UNION ALL SELECT 'SCS13', p.ck, p.s_date, NULL,
               (EXISTS (SELECT 1 FROM plans o WHERE o.ck = p.ck AND o.s_date < p.s_date))::INT, 1
            FROM plans p WHERE p.s_date {in_r12}
        UNION ALL SELECT 'CPS-M', ck, s_date, NULL, 1, 0 FROM plans WHERE s_date {in_m}
        -- CP04: counted at the (first) end E; E >= S + 2 years, month arithmetic clamped
        UNION ALL SELECT 'CP04', ck, e_date, NULL, (e_date >= s_date + INTERVAL 24 MONTH)::INT, 1
            FROM plans WHERE e_date {in_r12}
        UNION ALL SELECT 'CPE-M', ck, e_date, NULL, 1, 0 FROM plans WHERE e_date {in_m}
        UNION ALL SELECT 'CICS-M', ck, s_date, NULL, 1, 0 FROM periods WHERE s_date {in_m}
        UNION ALL SELECT 'CICE-M', ck, e_date, NULL, 1, 0 FROM periods WHERE e_date {in_m}
        UNION ALL SELECT 'AD01', ck, e_date, NULL, (e_reason = 'adopted')::INT, 1 FROM periods WHERE e_date {in_r12}
        UNION ALL SELECT 'AD03', ck, e_date, NULL, (e_reason = 'sgo')::INT, 1 FROM periods WHERE e_date {in_r12}
        -- CIC04: reviews of a surviving period of the same child (decision D4)
        UNION ALL SELECT 'CIC04', r.ck, r.date, NULL, r.participated::INT, 1
            FROM ev r JOIN periods p ON p.id = r.ref_id AND p.ck = r.ck
            WHERE r.type = 'cic_review_held' AND r.date {in_r12}
        UNION ALL SELECT 'CL01', ck, date, NULL, in_touch::INT, 1
            FROM ev WHERE type = 'care_leaver_contact' AND date {in_r12}
        UNION ALL SELECT 'CL02', ck, date, NULL, accommodation_suitable::INT, 1
            FROM ev WHERE type = 'care_leaver_contact' AND in_touch AND date {in_r12}
        UNION ALL SELECT 'SCS34', ck, date, NULL, eet::INT, 1
            FROM ev WHERE type = 'care_leaver_contact' AND in_touch AND date {in_r12}
        -- SCS37: unit-level, at the audit's unit
        UNION ALL SELECT 'SCS37', NULL, date, unit, (grade IN ('good', 'outstanding'))::INT, 1
            FROM ev WHERE type = 'case_audit_completed' AND date {in_r12}
    """
    # Snapshot facts as at each month end D: one row per child and D, counted at the unit
    # responsible on D. SCS01: the child's last referral/case_closed dated <= D is a referral
    # (the last of each day, held until the child's next such day).
    snaps = """
        SELECT 'SCS01' AS base, c.ck, m.d_end AS date, NULL::VARCHAR AS own_unit, 1 AS num, 0 AS den
        FROM (SELECT ck, date, type, lead(date) OVER (PARTITION BY ck ORDER BY date) AS next FROM (
                SELECT ck, date, type FROM casev
                QUALIFY row_number() OVER (PARTITION BY ck, date
                                           ORDER BY rec DESC NULLS LAST, event_id DESC) = 1)) c
        JOIN months m ON m.d_end >= c.date AND (c.next IS NULL OR m.d_end < c.next)
        WHERE c.type = 'referral'
        UNION ALL SELECT DISTINCT 'CP-N', p.ck, m.d_end, NULL, 1, 0 FROM plans p
            JOIN months m ON p.s_date <= m.d_end AND (p.e_date IS NULL OR p.e_date > m.d_end)
        UNION ALL SELECT DISTINCT 'CIC-N', p.ck, m.d_end, NULL, 1, 0 FROM periods p
            JOIN months m ON p.s_date <= m.d_end AND (p.e_date IS NULL OR p.e_date > m.d_end)
        UNION ALL SELECT DISTINCT 'UASC-N', p.ck, m.d_end, NULL, 1, 0 FROM periods p
            JOIN months m ON p.s_date <= m.d_end AND (p.e_date IS NULL OR p.e_date > m.d_end)
    """
    attribution = """
        SELECT f.*, COALESCE(u.uasc, FALSE) AS uasc, COALESCE(f.own_unit, ud.unit, a.root) AS unit
        FROM f
        ASOF LEFT JOIN unit_day ud ON ud.ck = f.ck AND ud.date <= f.date
        LEFT JOIN child_uasc u ON u.ck = f.ck
        LEFT JOIN authorities a ON a.id = split_part(f.ck, chr(31), 1)
    """
    # Flow facts: summed per month of their date, then each month end takes the months of
    # its window (its own month for M, the 12 months to it for R12M).
    con.execute(f"""
        CREATE TABLE flow_facts AS
        WITH f AS ({flows}), attributed AS ({attribution})
        SELECT base, unit, uasc, date_trunc('month', date)::DATE AS fm,
               base IN {sql_in(MONTH_WINDOW)} AS month_window, sum(num) AS num, sum(den) AS den
        FROM attributed GROUP BY ALL
    """)
    con.execute(f"""
        CREATE TABLE facts AS
        SELECT m.d_end, f.base, f.unit, f.uasc, sum(f.num) AS num, sum(f.den) AS den
        FROM flow_facts f
        JOIN months m ON f.fm <= m.m_start
                     AND f.fm >= CASE WHEN f.month_window THEN m.m_start ELSE m.r12_start END
        GROUP BY ALL
        UNION ALL
        SELECT date AS d_end, base, unit, uasc, sum(num), sum(den)
        FROM (WITH f AS ({snaps}) {attribution})
        GROUP BY ALL
    """)
    # Sum up the tree, for every configured entry (variants filter UASC children).
    rows = con.execute("""
        WITH agg AS (
            SELECT f.d_end, e.id, c.anc AS unit, sum(f.num) AS num, sum(f.den) AS den
            FROM facts f
            JOIN entries e ON e.base = f.base AND (e.filt = 'all' OR (e.filt = 'exclude' AND NOT f.uasc)
                                                  OR (e.filt = 'only' AND f.uasc))
            JOIN closure c ON c.unit = f.unit
            GROUP BY ALL)
        SELECT strftime(m.d_end, '%Y-%m') AS month, u.id AS unit, e.id, e.kind,
               COALESCE(agg.num, 0), COALESCE(agg.den, 0)
        FROM months m CROSS JOIN units u CROSS JOIN entries e
        LEFT JOIN agg ON agg.d_end = m.d_end AND agg.unit = u.id AND agg.id = e.id
    """).fetchall()
    stats["lines"] = con.execute("SELECT count(*) FROM raw").fetchone()[0]
    stats["valid"] = con.execute("SELECT count(*) FROM valid").fetchone()[0]
    stats["surviving"] = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    stats["sql_seconds"] = time.perf_counter() - t_sql
    stats["steps"] = [s for s in con.steps if s[0] not in ("units", "closure", "authorities", "holidays", "entries")]
    return rows, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("events")
    ap.add_argument("--config", default="config/kent.toml")
    ap.add_argument("--month", required=True,
                    help="YYYY-MM, or YYYY-MM..YYYY-MM for every month end of the range in one script")
    ap.add_argument("--out", help="output JSON file (default: stdout)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--profile", action="store_true", help="print the time of each SQL step")
    args = ap.parse_args(argv)
    months = parse_months(args.month)
    cfg = load_config(args.config)
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    rows, stats = run(Timed(con), args.events, cfg, months)
    order = [e[0] for e in cfg["entries"]]
    by_month = {m: {u: {} for u in cfg["unit_order"]} for m in months}
    for month, unit, ind, kind, num, den in rows:
        cell = {"num": int(num)}
        if kind not in (COUNT, "rate"):
            cell["den"] = int(den)
        by_month[month][unit][ind] = cell
    by_month = {m: {u: {i: cells[i] for i in order if i in cells} for u, cells in units.items()}
                for m, units in by_month.items()}
    # one month: {unit: ...}; a range: {month: {unit: ...}}
    out = by_month[months[0]] if ".." not in args.month else by_month
    text = json.dumps(out, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    total = time.perf_counter() - T0
    # lines the reader skipped (not UTF-8): the file's line count minus the rows read
    with open(args.events, "rb") as fh:
        data = fh.read()
    file_lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    del data
    skipped = file_lines - stats["lines"]
    print(f"duckdb_scorecard: month {args.month}: {file_lines} lines, {stats['valid']} valid, "
          f"{file_lines - stats['valid']} rejected ({skipped} not UTF-8), {stats['surviving']} surviving events; "
          f"{len(order)} indicators x {len(cfg['unit_order'])} units x {len(months)} month ends; "
          f"sql {stats['sql_seconds']:.3f} s, whole script {total:.3f} s", file=sys.stderr)
    if args.profile:
        for name, seconds in stats["steps"]:
            print(f"  {name:20} {seconds:8.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
