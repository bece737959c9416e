"""``judgekit judge INPUT.jsonl --rubric ID --model M --output OUT.jsonl``."""
from __future__ import annotations

import argparse
import json
import math
import warnings
import sys
from typing import Any

from ..errors import InputError
from ..io import write_jsonl
from ._engine import add_engine_arguments, engine_settings, import_batch_command, plain, report_export


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "judge",
        help="score dialogue replies with an LLM judge on any OpenAI-compatible server",
        description=(
            "Judge each JSON row of INPUT with a rubric. Rows hold the rubric's input fields "
            "(see `judgekit rubrics show ID`) and an optional id. One output row per input row: "
            "id, status (scored/unscored), one field per dimension, reason, and the judge's signature (model, "
            "rubric, ...: `judgekit leaderboard --judge` names the judge from it). The API key is read "
            "from $OPENAI_API_KEY (or --api-key-env); it is never written anywhere."
        ),
    )
    p.add_argument("input", nargs="?", help="items: .jsonl (one per line; '-' for stdin), .csv, .tsv or .json")
    p.add_argument("--rubric", default="empathy-3pt", help="built-in rubric id or a .yaml path (default: empathy-3pt)")
    add_engine_arguments(p, max_tokens=256, timeout=60.0, what="judge reply")
    p.add_argument("--output", "-o", help="output JSONL path ('-' for stdout)")
    p.add_argument("--samples", type=int, default=1, help="judgments per item (use with --temperature > 0)")
    p.add_argument("--aggregate", choices=("mean", "median", "majority"), default="mean")
    p.add_argument("--lang", "--language", dest="lang", choices=("en", "zh"),
                   help="prompt language (default: the items' language where the rubric has it, else the rubric's first; --language is the old spelling)")
    p.add_argument("--no-structured", action="store_true", help="do not send a JSON-schema response_format (servers without it)")
    p.add_argument("--logprobs", action="store_true", help="ask for logprobs and report an expected score per dimension")
    p.add_argument("--raw", action="store_true", help="include the judge's raw reply in every output row")
    p.add_argument("--summary", help="also write the summary and signature as JSON here")
    p.add_argument("--fail-on-unscored", action="store_true", help="exit 1 when any row is unscored")
    p.add_argument("--format", dest="response_format", choices=("json_schema", "json_object+schema", "json_object",
                                                                "text"),
                   help="force the structured-output form instead of learning it from the server's refusals")
    p.add_argument("--export-batch", metavar="REQUESTS.jsonl", help="write an OpenAI Batch API request file for the uncached items and exit")
    p.add_argument("--import-batch", metavar="RESULTS.jsonl", help="import a Batch API results file into the cache and exit")
    p.set_defaults(func=run)


def _read_items(path: str, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """The items of INPUT (any format judgekit.io reads; '-' is JSONL on stdin), ids as strings."""
    from ..io import read_records

    items: list[dict[str, Any]] = []
    for where, obj in read_records(path, id_fields=("id",), format="jsonl" if path == "-" else None):
        for name in required:
            if obj.get(name) is None:
                raise InputError(f"{where}: missing required field {name!r} (the rubric needs {', '.join(required)})")
        obj.setdefault("id", str(len(items)))
        items.append(obj)
    return items


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    from ..judge import Judge, export_batch, load_rubric
    from ._paths import check_out_paths

    check_out_paths(args, "--output", "--summary", "--export-batch")
    cache = None if args.no_cache else args.cache
    if args.import_batch:
        return import_batch_command(args)
    if not args.input:
        raise InputError("INPUT is required (a JSONL file of items)")
    if not args.model:
        raise InputError("--model is required")
    rubric = load_rubric(args.rubric)
    items = _read_items(args.input, rubric.required_inputs)
    settings: dict[str, Any] = dict(engine_settings(args), rubric=rubric, samples=args.samples,
                                    aggregate=args.aggregate, lang=args.lang, structured=not args.no_structured,
                                    logprobs=args.logprobs)
    cache = settings.pop("cache")
    replay_only = settings.pop("replay_only")
    if args.export_batch:
        report = export_batch(items, args.export_batch, cache=cache, replay_only=replay_only, **settings)
        return report_export(report, args.export_batch)
    if not args.output:
        raise InputError("--output is required")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="judge: ", category=UserWarning)  # printed below as notes
        result = Judge(cache=cache, replay_only=replay_only, **settings).run(items)
    df = result.per_item
    # the rubric's dimensions, each with its spread over samples and expected score when asked for
    dims = [c for d in result.dimensions for c in (d, f"{d}_sd", f"{d}_expected") if c in df.columns]
    dims += [c for c in ("samples_scored",) if c in df.columns]
    lines = []
    for rec in df.to_dict(orient="records"):
        row: dict[str, Any] = {"id": rec["id"], "status": rec["status"]}
        for d in dims:
            row[d] = plain(rec[d])
        reason, raw = plain(rec["reason"]), plain(rec["raw"])  # NaN is no JSON: None
        if rec["status"] != "scored" or reason:
            row["reason"] = reason
        if args.raw or rec["status"] != "scored":
            row["raw"] = raw
        row["signature"] = str(result.signature)  # model, rubric, ...: read back by judgekit.judge.load_results
        lines.append(row)
    write_jsonl(args.output, lines)
    s = result.summary
    means = ", ".join(f"{k}={v:.3f}" for k, v in s["means"].items() if v == v)
    print(f"judged {s['n_items']} item(s): {s['n_scored']} scored, {s['n_unscored']} unscored; "
          f"{s['requests_cached']} from cache, {s['requests_sent']} sent, {s['requests_failed']} failed; "
          f"tokens {s['tokens']['prompt_this_run']}+{s['tokens']['completion_this_run']} this run"
          + (f"; cost {s['cost_this_run']:.4f}" if s['cost_this_run'] else "") + (f"; means {means}" if means else ""),
          file=sys.stderr)
    print(f"signature: {result.signature}", file=sys.stderr)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as fh:
            json.dump(_finite({"signature": result.signature, "summary": s}), fh, ensure_ascii=False, indent=2,
                      default=plain, allow_nan=False)
    for note in s.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    if s["stopped"]:
        print(f"stopped: {s['stopped']}", file=sys.stderr)
        return 3
    if s["n_items"] and not s["n_scored"]:
        reasons = [r for r in result.per_item["reason"].dropna().unique()[:3]]
        print(f"judgekit judge: error: no item was scored (model {args.model!r}); first reasons: "
              + " | ".join(str(r)[:200] for r in reasons), file=sys.stderr)
        return 1
    if args.fail_on_unscored and s["n_unscored"]:
        return 1
    return 0
