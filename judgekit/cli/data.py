"""``judgekit data list | check [DIR]``: the released datasets and a check of a data folder."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InputError


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "data", help="the released datasets: source, licence, layout; check a data folder",
        description="judgekit downloads nothing: released data lives in a folder you point $JUDGEKIT_DATA_DIR "
                    "(or --data-dir) at, one sub-folder per dataset copied from the upstream repository at the "
                    "pinned commit. 'list' says where each comes from, its licence and the layout judgekit "
                    "expects; 'check' loads each one from a folder and says found, missing or malformed.")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True
    ls = sub.add_parser("list", help="each released dataset: folder, source, licence, files")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ck = sub.add_parser("check", help="which datasets a data folder holds (exit 1 if one is malformed)")
    ck.add_argument("folder", nargs="?", metavar="DIR", help="the data folder (default: $JUDGEKIT_DATA_DIR)")
    ck.add_argument("--data-dir", metavar="DIR", help="the data folder, as the other commands take it (the same as DIR)")
    ck.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..human.catalog import RELEASED, check_data

    if args.data_command == "list":
        if args.json:
            print(json.dumps([{"dataset": d.name or None, "folder": d.folder, "title": d.title, "source": d.source,
                               "licence": d.licence, "files": list(d.files), "used_for": d.used_for}
                              for d in RELEASED], ensure_ascii=False, indent=2))
            return 0
        print("Released data: $JUDGEKIT_DATA_DIR/<folder>/..., copied from the source at the pinned commit")
        for d in RELEASED:
            print(f"\n{d.folder}/" + (f"  (load_ratings('{d.name}'))" if d.name else ""))
            print(f"  {d.title}")
            print(f"  source:  {d.source}")
            print(f"  licence: {d.licence}")
            print(f"  used by: {d.used_for}")
            for f in d.files:
                print(f"  - {f}")
        return 0
    if args.folder and args.data_dir and args.folder != args.data_dir:
        raise InputError(f"two data folders given: {args.folder} and --data-dir {args.data_dir}; give one")
    checks = check_data(args.folder or args.data_dir)
    if args.json:
        print(json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2))
    else:
        for c in checks:
            print(f"{c.status:<10} {c.dataset.folder:<40} {c.detail}")
    return 1 if any(c.status == "malformed" for c in checks) else 0
