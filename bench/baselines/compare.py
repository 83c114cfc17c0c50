#!/usr/bin/env python3
"""Compare ragline's month-end reports with a baseline (DuckDB or Quix).

    compare.py RAGLINE_REPORT.json BASELINE.json
    compare.py RAGLINE_DIR BASELINE_MONTHS.json

RAGLINE_REPORT.json is `ragline report --all-units --format json` output;
BASELINE.json is `duckdb_scorecard.py --out` or `quix_rolling.py --out`
output. With a directory, RAGLINE_DIR holds `ragline report --month A..B
--all-units --format json --out-dir` output (one YYYY-MM.json per month end)
and BASELINE_MONTHS.json is `duckdb_scorecard.py --month A..B --out` output
({month: {unit: ...}}): every month end of the baseline is compared with
that month's file. For every month, unit and indicator that the baseline
computes, num (and den where the baseline gives one) must be equal. Prints
each mismatch and a summary; exits 1 on any mismatch (or a month, indicator
or unit missing from ragline's reports), 0 otherwise.
"""

import json
import os
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2]) as fh:
        baseline = json.load(fh)
    if os.path.isdir(argv[1]):
        pairs = []
        for month, units in baseline.items():
            path = os.path.join(argv[1], f"{month}.json")
            if not os.path.exists(path):
                print(f"MISSING  {month}: no {path}")
                print(f"FAILED: no ragline report for month {month}")
                return 1
            with open(path) as fh:
                pairs.append((month, json.load(fh), units))
    else:
        with open(argv[1]) as fh:
            pairs = [("", json.load(fh), baseline)]
    checked, bad = 0, 0
    per_indicator = {}
    for month, ragline, units in pairs:
        c, b = compare_month(month, ragline, units, per_indicator)
        checked += c
        bad += b
    inds = ", ".join(f"{i}" + (f" ({s[1]} bad)" if s[1] else "") for i, s in per_indicator.items())
    months = f" x {len(pairs)} month ends ({pairs[0][0]}..{pairs[-1][0]})" if pairs[0][0] else ""
    print(f"compared {checked} unit x indicator cells{months} over {len(per_indicator)} indicators: {inds}")
    print(f"{'OK: all equal' if bad == 0 else f'FAILED: {bad} mismatching cells'}")
    return 1 if bad else 0


def compare_month(month, ragline, baseline, per_indicator):
    """(cells checked, cells bad) of one month end; prints each mismatch."""
    checked, bad = 0, 0
    where = f"{month} " if month else ""
    for unit, cells in baseline.items():
        for ind, mine in cells.items():
            theirs = ragline.get(unit, {}).get(ind)
            stat = per_indicator.setdefault(ind, [0, 0])
            stat[0] += 1
            checked += 1
            if theirs is None:
                print(f"MISSING  {where}{unit:24} {ind:16} not in the ragline report")
                bad += 1
                stat[1] += 1
                continue
            for key in ("num", "den"):
                if key not in mine:
                    continue
                a, b = theirs.get(key), mine[key]
                # ragline writes den 0 for empty percent indicators; treat absent as 0
                a = 0 if a is None else a
                if a != b:
                    print(f"MISMATCH {where}{unit:24} {ind:16} {key}: ragline {a} baseline {b}")
                    bad += 1
                    stat[1] += 1
                    break
    return checked, bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
