"""``judgekit pairwise --baseline A.jsonl --system B.jsonl --contexts items.jsonl --model M --output out.jsonl``."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from ..errors import InputError, show_ids
from ..io import write_jsonl
from ._engine import add_engine_arguments, engine_settings, plain


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "pairwise",
        help="judge a system against a baseline head to head, each pair in both orders",
        description=(
            "Judge every item twice with a pairwise rubric (default empathy-pairwise): the baseline's reply "
            "shown first, then the system's. Items pair the files by id; an id missing from any file is an "
            "error naming it. Prints win / tie / loss shares with 95% bootstrap CIs, the inconsistent share "
            "(the two orders disagree on the winner), the position bias and the length-controlled win rate. "
            "Ties follow FastChat (one tie + one win is a tie); inconsistent pairs count half in the win rate."
        ),
    )
    p.add_argument("--baseline", required=True, metavar="PATH", help="the baseline's outputs (.jsonl/.csv with id and pred)")
    p.add_argument("--system", required=True, metavar="PATH", help="the system's outputs (.jsonl/.csv with id and pred)")
    p.add_argument("--contexts", required=True, metavar="PATH",
                   help="the items: .jsonl/.csv with id and the rubric's other inputs (context, optional emotion)")
    p.add_argument("--names", metavar="BASE,SYSTEM", help="names of the two systems (default: the file names)")
    p.add_argument("--id-field", default="id", help="id field of every file (default: id)")
    p.add_argument("--pred-field", default="pred", help="the reply's field in --baseline and --system (default: pred)")
    p.add_argument("--rubric", default="empathy-pairwise", help="a pairwise rubric id or .yaml path (default: empathy-pairwise)")
    add_engine_arguments(p, max_tokens=256, timeout=60.0, what="judge reply")
    p.add_argument("--output", "-o", required=True, help="per-item JSONL ('-' for stdout; the figures then go to stderr)")
    p.add_argument("--summary", help="also write the figures and the signature as JSON here")
    p.add_argument("--lang", choices=("en", "zh"), help="prompt language (default: the items' language where the rubric has it, else the rubric's first)")
    p.add_argument("--no-structured", action="store_true", help="do not send a JSON-schema response_format")
    p.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    p.add_argument("--bootstrap-seed", type=int, default=12345, help="seed of the bootstrap (default 12345)")
    p.set_defaults(func=run)


def _read(path: str, id_field: str, field: str | None) -> dict[str, Any]:
    """id -> the ``field`` text (or, without ``field``, the whole record)."""
    from ..io import read_records, text_field

    out: dict[str, Any] = {}
    where_of: dict[str, str] = {}
    for where, rec in read_records(path, id_fields=(id_field,)):
        if id_field not in rec:
            raise InputError(f"{where}: no id field {id_field!r} (fields: {', '.join(map(str, rec))}); set --id-field")
        key = str(rec[id_field])
        if key in where_of:
            raise InputError(f"{where}: id {key!r} repeats {where_of[key]}")
        where_of[key] = where
        out[key] = text_field(rec, field, where) if field else {k: v for k, v in rec.items() if k != id_field}
    if not out:
        raise InputError(f"{path}: no records")
    return out


def run(args: argparse.Namespace) -> int:
    from ..judge import load_rubric, pairwise
    from ._paths import check_out_paths

    check_out_paths(args, "--output", "--summary")
    rubric = load_rubric(args.rubric)
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
        if len(names) != 2 or not all(names):
            raise InputError(f"--names {args.names!r}: expected BASE,SYSTEM")
    else:
        names = [Path(args.baseline).name.split(".")[0], Path(args.system).name.split(".")[0]]
        if names[0] == names[1]:
            names = ["baseline", "system"]
    base = _read(args.baseline, args.id_field, args.pred_field)
    system = _read(args.system, args.id_field, args.pred_field)
    wanted = {i.name for i in rubric.inputs} - {"response_a", "response_b"}
    contexts = {k: {f: v for f, v in rec.items() if f in wanted}
                for k, rec in _read(args.contexts, args.id_field, None).items()}
    for what, got in (("--baseline", base), ("--system", system)):
        missing = [i for i in contexts if i not in got]
        extra = [i for i in got if i not in contexts]
        if missing:
            raise InputError(f"{what} {args.baseline if what == '--baseline' else args.system} lacks "
                             f"{len(missing)} of the {len(contexts)} item(s) of --contexts: {show_ids(missing)}")
        if extra:
            raise InputError(f"{what} {args.baseline if what == '--baseline' else args.system} has {len(extra)} "
                             f"item(s) that --contexts does not: {show_ids(extra)}")
    order = list(contexts)
    if not args.model:
        raise InputError("--model is required")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="judge: ", category=UserWarning)  # printed below as notes
        result = pairwise(
            {names[0]: {i: base[i] for i in order}, names[1]: {i: system[i] for i in order}}, rubric=rubric,
            contexts=contexts, **engine_settings(args), lang=args.lang, structured=not args.no_structured,
            n_bootstrap=args.n_bootstrap, bootstrap_seed=args.bootstrap_seed)
    lines = []
    for rec in result.per_item.to_dict(orient="records"):
        row = {k: plain(rec[k]) for k in ("id", "outcome", "verdict_ab", "verdict_ba", "len_a", "len_b")}
        if rec["outcome"] == "unscored":
            row.update(reason=rec["reason"], raw_ab=rec["raw_ab"], raw_ba=rec["raw_ba"])
        lines.append(row)
    write_jsonl(args.output, lines)
    s = result.summary
    out = sys.stderr if args.output == "-" else sys.stdout
    print(result.report(), file=out)
    j = s["judge"]
    print(f"requests: {j['requests_cached']} from cache, {j['requests_sent']} sent, {j['requests_failed']} failed",
          file=sys.stderr)
    print(f"signature: {result.signature}", file=sys.stderr)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as fh:
            json.dump({"signature": str(result.signature), "names": list(result.names), "summary": s}, fh,
                      ensure_ascii=False, indent=2, default=plain)
    for note in j.get("notes") or []:
        print(f"note: {note}", file=sys.stderr)
    if j.get("stopped"):
        print(f"stopped: {j['stopped']}", file=sys.stderr)
        return 3
    if s["n_items"] and not s["n_scored"]:
        print(f"judgekit pairwise: error: no item was scored in both orders (model {args.model!r}); first reasons: "
              + " | ".join(str(r)[:200] for r in result.per_item["reason"].dropna().unique()[:3]), file=sys.stderr)
        return 1
    return 0
