"""``judgekit generate PROMPTS.jsonl --model M [--system-file S.txt] --output OUT.jsonl``."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

from ..errors import InputError
from ._engine import add_engine_arguments, engine_settings, import_batch_command, report_export


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        help="responses from any OpenAI-compatible chat model for a prompt file (predictions to evaluate or judge)",
        description=(
            "Ask a chat model for one response per row of PROMPTS, on the judge's engine (cache, resume, "
            "concurrency, rate limits, retries, budget, replicas, batch files). Rows hold an id and one of: "
            "prompt (a user turn), messages (a list of {role, content}, sent as given) or dialogue (user/"
            "assistant turns ending with the user's). Output: one JSON row per input row, in input order: "
            "id, pred (the response, reasoning such as <think>...</think> taken off), status (ok/failed/not_run), "
            "reason (failed rows: never an empty pred), finish_reason, prompt_tokens, completion_tokens; "
            "it feeds `judgekit evaluate --pred-field pred` and `judgekit leaderboard --system NAME=OUT`. "
            "Exit codes: 0 every item ok, 1 some failed (the file is written), 2 bad input or a run "
            "stopped by the server, 3 stopped by the budget."
        ),
    )
    p.add_argument("input", nargs="?", help="prompts: .jsonl (one per line; '-' for stdin), .csv, .tsv or .json")
    add_engine_arguments(p, max_tokens=512, timeout=120.0, what="response")
    sysg = p.add_mutually_exclusive_group()
    sysg.add_argument("--system", metavar="TEXT", help="a system prompt, sent first")
    sysg.add_argument("--system-file", metavar="PATH", help="a UTF-8 file holding the system prompt")
    p.add_argument("--prompt-field", default="prompt", help="field of a single user turn (default: prompt)")
    p.add_argument("--messages-field", default="messages", help="field of chat messages (default: messages)")
    p.add_argument("--dialogue-field", default="dialogue", help="field of user/assistant turns (default: dialogue)")
    p.add_argument("--output", "-o", help="output JSONL path ('-' for stdout)")
    p.add_argument("--raw", action="store_true", help="also write the reply as sent (reasoning included) as raw")
    p.add_argument("--summary", help="also write the summary and signature as JSON here")
    p.add_argument("--export-batch", metavar="REQUESTS.jsonl",
                   help="write an OpenAI Batch API / vLLM run_batch request file for the uncached items and exit")
    p.add_argument("--import-batch", metavar="RESULTS.jsonl", help="import a Batch API results file into the cache and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..judge import Generator
    from ._paths import check_out_paths

    check_out_paths(args, "--output", "--summary", "--export-batch")
    if args.import_batch:
        return import_batch_command(args, rubric="generate")
    if not args.input:
        raise InputError("INPUT is required (a JSONL or CSV file of prompts)")
    if not args.model:
        raise InputError("--model is required")
    system = args.system
    if args.system_file:
        try:
            with open(args.system_file, encoding="utf-8") as fh:
                system = fh.read().strip()
        except OSError as exc:
            raise InputError(f"--system-file: {exc}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"--system-file {args.system_file}: not UTF-8 ({exc})") from None
    gen = Generator(**engine_settings(args), system=system, prompt_field=args.prompt_field,
                    messages_field=args.messages_field, dialogue_field=args.dialogue_field)
    if args.export_batch:
        report = gen.export_batch(args.input, args.export_batch)
        return report_export(report, args.export_batch)
    if not args.output:
        raise InputError("--output is required")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="generate: ", category=UserWarning)  # printed below as notes
        result = gen.run(args.input)
    result.to_jsonl(args.output, raw=args.raw)
    s = result.summary
    print(f"generated {s['n_items']} item(s): {s['n_ok']} ok, {s['n_failed']} failed"
          + (f", {s['n_not_run']} not run" if s["n_not_run"] else "") + "; "
          f"{s['requests_cached']} from cache, {s['requests_sent']} sent, {s['requests_failed']} failed requests; "
          f"tokens {s['tokens']['prompt_this_run']}+{s['tokens']['completion_this_run']} this run "
          f"({s['tokens']['prompt']}+{s['tokens']['completion']} in all)"
          + (f"; cost {s['cost_this_run']:.4f}" if s["cost_this_run"] else ""), file=sys.stderr)
    print(f"signature: {result.signature}", file=sys.stderr)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as fh:
            json.dump({"signature": result.signature, "summary": s}, fh, ensure_ascii=False, indent=2)
    for note in s.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    failed = result.failed
    if failed:
        shown = "; ".join(f"{r['id']}: {str(r['reason'])[:160]}" for r in failed[:3])
        print(f"judgekit generate: {len(failed)} item(s) failed (status failed in {args.output}): {shown}"
              + (" ..." if len(failed) > 3 else ""), file=sys.stderr)
    if s["stopped"]:
        print(f"stopped: {s['stopped']}", file=sys.stderr)
        return 3
    return 1 if failed else 0
