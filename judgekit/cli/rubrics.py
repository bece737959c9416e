"""``judgekit rubrics list | show ID | validate PATH...``."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("rubrics", help="list, show and validate judge rubrics",
                              description="Built-in rubrics ship with judgekit; your own are YAML files passed by path.")
    sub = p.add_subparsers(dest="rubrics_command", metavar="ACTION")
    sub.required = True
    ls = sub.add_parser("list", help="list the built-in rubrics")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="show a rubric's inputs, dimensions and scales")
    show.add_argument("rubric", help="built-in id or .yaml path")
    show.add_argument("--lang", "--language", dest="lang", choices=("en", "zh"),
                      help="which language to show (default: the rubric's first; --language is the old spelling)")
    show.add_argument("--prompt", action="store_true", help="print the system prompt the judge receives")
    show.add_argument("--json", action="store_true", help="print the JSON schema of the judge's answer")
    val = sub.add_parser("validate", help="validate rubric files (exit 2 on the first error)")
    val.add_argument("paths", nargs="+")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..judge import json_schema, list_rubrics, load_rubric, load_rubric_file, system_message

    if args.rubrics_command == "list":
        rubrics = list_rubrics()
        if args.json:
            print(json.dumps([{"id": r.id, "version": r.version, "ref": r.ref, "languages": list(r.languages),
                               "inputs": [i.name for i in r.inputs], "required": list(r.required_inputs),
                               "dimensions": {d.name: list(d.values) for d in r.dimensions}} for r in rubrics],
                             ensure_ascii=False, indent=2))
            return 0
        for r in rubrics:
            dims = ", ".join(f"{d.name} {d.minimum}-{d.maximum}" for d in r.dimensions)
            inputs = ", ".join(i.name if i.required else f"[{i.name}]" for i in r.inputs)
            print(f"{r.id:<26} v{r.version:<3} {'/'.join(r.languages):<6} inputs: {inputs}; dimensions: {dims}")
        return 0
    if args.rubrics_command == "show":
        r = load_rubric(args.rubric)
        if args.json:
            print(json.dumps(json_schema(r), ensure_ascii=False, indent=2))
        elif args.prompt:
            print(system_message(r, args.lang or r.languages[0]))
        else:
            print(r.describe(args.lang))
        return 0
    for path in args.paths:
        r = load_rubric_file(path)
        print(f"{path}: ok ({r.ref})")
    return 0
