"""``judgekit rubrics list | show ID | export ID [PATH] | validate PATH...``."""
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
    exp = sub.add_parser("export", help="write a rubric's YAML, to copy and edit as your own",
                         description="Write the YAML of a built-in rubric (or a rubric file) as it is written, to PATH "
                                     "or standard output: the starting point for a rubric of your own.")
    exp.add_argument("rubric", help="built-in id or .yaml path")
    exp.add_argument("path", nargs="?", help="the file to write (default: standard output); an existing file is kept")
    val = sub.add_parser("validate", help="validate rubric files (exit 2 on the first error)")
    val.add_argument("paths", nargs="+")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..judge import json_schema, list_rubrics, load_rubric, load_rubric_file, rubric_yaml, system_message

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
    if args.rubrics_command == "export":
        return _export(rubric_yaml(args.rubric), args.path, args.rubric)
    for path in args.paths:
        r = load_rubric_file(path)
        print(f"{path}: ok ({r.ref})")
    return 0


def _export(text: str, path: str | None, rubric: str) -> int:
    import sys

    from ..errors import InputError
    from ._paths import check_out_path

    if path is None or path == "-":
        sys.stdout.write(text)
        return 0
    check_out_path(path, "PATH")
    try:
        with open(path, "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise InputError(f"{path} exists; not overwritten (remove it or give another name)") from None
    print(f"wrote {path}: the YAML of {rubric}; edit it, then pass --rubric {path}", file=sys.stderr)
    return 0
