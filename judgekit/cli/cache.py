"""``judgekit cache``: look after a judge cache file (``recover``: copy the
readable replies of a damaged one into a new file)."""
from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("cache", help="judge cache files: recover the readable replies of a damaged one",
                              description="Look after a judge cache file (SQLite).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = actions.add_parser(
        "recover", help="copy every readable reply of a damaged cache into a new cache file",
        description="Copy every reply still readable in a damaged judge cache (a corrupted page) into a new cache "
                    "file; key ranges on unreadable pages are skipped, and their items are asked again when the "
                    "new file is used as the cache. The damaged file is only read. Exit 0 when recovered, 2 on "
                    "bad input (DAMAGED missing or not a judge cache, NEW existing).")
    r.add_argument("damaged", metavar="DAMAGED", help="the damaged cache file")
    r.add_argument("new", metavar="NEW", help="the new cache file to write (must not exist)")
    r.set_defaults(func=run_recover)


def run_recover(args: argparse.Namespace) -> int:
    from ..judge import recover_cache

    report = recover_cache(args.damaged, args.new)
    lost = report["lost_key_ranges"]
    print(f"copied {report['copied']} replies into {args.new}"
          + (f"; {lost} key range(s) on damaged pages could not be read (their items are asked again)" if lost
             else "; nothing lost"))
    return 0
