#!/usr/bin/env python3
"""Compare ragline's month-end report with a baseline (DuckDB or Quix).

    compare.py RAGLINE_REPORT.json BASELINE.json

RAGLINE_REPORT.json is `ragline report --all-units --format json` output;
BASELINE.json is `duckdb_scorecard.py --out` or `quix_rolling.py --out`
output. For every unit and every indicator that the baseline computes, num
(and den where the baseline gives one) must be equal. Prints each mismatch
and a summary; exits 1 on any mismatch (or an indicator or unit missing from
ragline's report), 0 otherwise.
"""

import json
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        ragline = json.load(fh)
    with open(argv[2]) as fh:
        baseline = json.load(fh)
    checked, bad = 0, 0
    per_indicator = {}
    for unit, cells in baseline.items():
        for ind, mine in cells.items():
            theirs = ragline.get(unit, {}).get(ind)
            stat = per_indicator.setdefault(ind, [0, 0])
            stat[0] += 1
            checked += 1
            if theirs is None:
                print(f"MISSING  {unit:24} {ind:16} not in the ragline report")
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
                    print(f"MISMATCH {unit:24} {ind:16} {key}: ragline {a} baseline {b}")
                    bad += 1
                    stat[1] += 1
                    break
    inds = ", ".join(f"{i}" + (f" ({s[1]} bad)" if s[1] else "") for i, s in per_indicator.items())
    print(f"compared {checked} unit x indicator cells over {len(per_indicator)} indicators: {inds}")
    print(f"{'OK: all equal' if bad == 0 else f'FAILED: {bad} mismatching cells'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
