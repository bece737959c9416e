"""``judgekit study``: compare systems' rating distributions (Welivita & Pu's design)."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "study",
        help="chi-square group comparison of systems rated Bad/Okay/Good (Welivita-format file)",
        description="Distribution per system, chi-square of independence over all systems and against a "
                    "baseline (p-values, Cramer's V), the change in the top level's share in percentage points "
                    "and relative, per sentiment and per emotion. Any number of response_<s>/rating_<s> pairs.",
    )
    p.add_argument("file", help="Welivita-format CSV (dialog_id, emotion, sentiment, response_<s>, rating_<s>, ...)")
    p.add_argument("--baseline", help="system to compare against (default: human if present, else the first)")
    p.add_argument("--systems", help="comma-separated subset of systems (default: all)")
    p.add_argument("--by", default="sentiment,emotion", help="grouping columns (default: sentiment,emotion; '' for none)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..human import study

    systems = [s.strip() for s in args.systems.split(",")] if args.systems else None
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    report = study(args.file, systems, args.baseline, by=by)
    print(report.to_json() if args.format == "json" else report)
    if args.json:
        Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
    return 0
