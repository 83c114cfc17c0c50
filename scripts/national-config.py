#!/usr/bin/env python3
"""Writes config/national.toml from config/kent.toml: 150 local authorities
(la-001 .. la-150), each with a small unit tree, and Kent's processing, Kafka,
HTTP, indicator and calendar sections unchanged.

Each authority has a root (kind `la`) and six leaves: two children's social work
teams, a children-in-care team, a disability team, an adoption and special
guardianship team and a care leaver service. Populations under 18 are spread
deterministically around England's average (~80,000 children per authority).

    python3 scripts/national-config.py            # writes config/national.toml
    python3 scripts/national-config.py --check    # fails if the file is stale
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
KENT = ROOT / "config" / "kent.toml"
OUT = ROOT / "config" / "national.toml"
AUTHORITIES = 150

LEAVES = [
    ("cswt-north", "CSWT North", "cswt"),
    ("cswt-south", "CSWT South", "cswt"),
    ("cic", "Children in Care", "cic"),
    ("disability", "Disabled Children", "disability"),
    ("adoption", "Adoption & SG", "adoption"),
    ("care-leavers", "Care Leavers (18+)", "care_leavers"),
]


def population(i: int) -> int:
    # 40,000 .. 120,000 in steps of 1,000, a fixed shuffle (mean ~80,000).
    return 40_000 + (i * 37 % 81) * 1_000


def main() -> int:
    kent = KENT.read_text()
    # Kent's file: header and [processing]/[kafka]/[http] up to [[authority]],
    # then authority, units and population, then indicators and the calendar.
    head, rest = kent.split("[[authority]]", 1)
    tail_at = rest.index("# Indicators in report order.")
    tail = rest[tail_at:]
    head_lines = head.splitlines()
    # Replace the first line (Kent's title) and keep the rest of the header.
    assert head_lines[0].startswith("# ragline configuration for Kent")
    out = [
        "# ragline configuration for a national-scale run: 150 local authorities",
        "# (la-001 .. la-150), each with a small unit tree. Written by",
        "# scripts/national-config.py from config/kent.toml (processing, Kafka, HTTP,",
        "# indicators and calendar as there); do not edit by hand.",
    ]
    out += head_lines[1:]
    for i in range(1, AUTHORITIES + 1):
        la = f"la-{i:03d}"
        out += [
            "[[authority]]",
            f'id = "{la}"',
            f'name = "Authority {i:03d}"',
            f'root = "{la}"',
        ]
        if i == 1:
            out.append("default = true")
        out.append("")
    out.append("# Each authority: a root and six leaves (the only units events may name).")
    out.append("")
    for i in range(1, AUTHORITIES + 1):
        la = f"la-{i:03d}"
        out += ["[[unit]]", f'id = "{la}"', f'name = "Authority {i:03d}"', 'kind = "la"', ""]
        for suffix, name, kind in LEAVES:
            out += [
                "[[unit]]",
                f'id = "{la}-{suffix}"',
                f'name = "Authority {i:03d} {name}"',
                f'kind = "{kind}"',
                f'parent = "{la}"',
                "",
            ]
    out.append("# Population under 18 of each authority, for rate indicators (SCS02).")
    out.append("[population]")
    for i in range(1, AUTHORITIES + 1):
        out.append(f"la-{i:03d} = {population(i)}")
    out.append("")
    text = "\n".join(out) + "\n" + tail
    if sys.argv[1:] == ["--check"]:
        if OUT.read_text() != text:
            print(f"{OUT} is stale: run scripts/national-config.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
