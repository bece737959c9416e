"""The options every command that talks to a model server shares
(``judge``, ``generate``, ``pairwise``): the server, the cache, the
request settings, limits and budget, and the dialect flags.  One place, so
the commands spell them alike and pass them alike."""
from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ..errors import InputError


def temperature(text: str) -> float:
    """An argparse type: a finite number >= 0 (nan, inf and negatives refused)."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def add_engine_arguments(p: argparse.ArgumentParser, *, max_tokens: int, timeout: float,
                         what: str = "reply") -> None:
    p.add_argument("--model", help="model name as the server knows it")
    p.add_argument("--base-url", action="append",
                   help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL or "
                        "OpenAI); repeat for replicas of one server: requests spread over them, a dead one is "
                        "taken out")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    p.add_argument("--cache", default="judgekit-judge.sqlite",
                   help="SQLite cache file, shared by judge, generate and pairwise (each with its own keys) "
                        "(default: ./judgekit-judge.sqlite)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write a cache")
    p.add_argument("--replay-only", action="store_true", help="answer from the cache only; fail listing missing items")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--temperature", type=temperature, default=0.0, help="sampling temperature, a finite number >= 0 "
                   "(default 0)")
    p.add_argument("--max-tokens", type=int, default=max_tokens, help=f"maximum tokens per {what} (default {max_tokens})")
    p.add_argument("--seed", type=int, help="the model's sampling seed")
    p.add_argument("--timeout", type=float, default=timeout, help=f"seconds per request (default {timeout:g})")
    p.add_argument("--max-retries", type=int, default=6)
    p.add_argument("--max-reply-bytes", type=int, default=8 * 1024 * 1024,
                   help="largest reply body read, in bytes (default 8 MiB); a longer reply is cut off and its "
                        "item left without a result")
    p.add_argument("--rpm", type=float, help="requests per minute limit")
    p.add_argument("--tpm", type=float, help="tokens per minute limit")
    p.add_argument("--max-total-tokens", type=int, help="stop starting requests after this many tokens")
    p.add_argument("--max-cost", type=float, help="stop starting requests after this cost (needs --price-in/--price-out)")
    p.add_argument("--price-in", type=float, default=0.0, help="price per million prompt tokens")
    p.add_argument("--price-out", type=float, default=0.0, help="price per million completion tokens")
    p.add_argument("--extra-body", metavar="JSON",
                   help="extra fields for every request body, for what a server needs beyond the OpenAI API "
                        "(e.g. '{\"chat_template_kwargs\": {\"enable_thinking\": false}}' for Qwen3 on vLLM)")
    p.add_argument("--server-id", metavar="NAME",
                   help="the server's identity in cache keys (default: its base URL); the same NAME replays the "
                        "cache whichever way the URL is given")
    p.add_argument("--reasoning-model", action="store_true",
                   help="send max_completion_tokens and no temperature from the start (OpenAI o-series, GPT-5); "
                        "otherwise learned from the first refusal")
    p.add_argument("--no-progress", action="store_true")


def base_url(args: argparse.Namespace) -> Any:
    """One URL, or the replicas' list."""
    urls = args.base_url
    return urls[0] if urls and len(urls) == 1 else urls


def extra_body(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"--extra-body: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InputError("--extra-body: expected a JSON object of body fields")
    return value


def dialect(args: argparse.Namespace) -> dict[str, Any] | None:
    d: dict[str, Any] = {}
    if getattr(args, "response_format", None):
        d["format"] = args.response_format
    if args.reasoning_model:
        d.update(token_param="max_completion_tokens", temperature=False)
    return d or None


def engine_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``Judge`` / ``Generator`` these options give."""
    return dict(
        model=args.model, base_url=base_url(args), api_key_env=args.api_key_env,
        cache=None if args.no_cache else args.cache, replay_only=args.replay_only, concurrency=args.concurrency,
        temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed, timeout=args.timeout,
        max_retries=args.max_retries, max_reply_bytes=args.max_reply_bytes, rpm=args.rpm, tpm=args.tpm, max_total_tokens=args.max_total_tokens,
        max_cost=args.max_cost, price_per_million_input=args.price_in, price_per_million_output=args.price_out,
        progress=not args.no_progress, extra_params=extra_body(args.extra_body), server=args.server_id,
        dialect=dialect(args),
    )


def import_batch_command(args: argparse.Namespace, *, rubric: str = "") -> int:
    """``--import-batch RESULTS.jsonl``: fill the cache, report failed lines."""
    import sys

    from ..judge import import_batch

    if args.no_cache:
        raise InputError("--import-batch needs a cache (drop --no-cache)")
    report = import_batch(args.import_batch, args.cache, rubric=rubric)
    print(f"imported {report['imported']} result(s) into {args.cache}; {report['failed']} failed line(s)",
          file=sys.stderr)
    for f in report["failures"][:10]:
        print(f"  line {f['line']}: {f['error']}", file=sys.stderr)
    return 0 if not report["failed"] else 1


def plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python ones, NaN as None,
    integral floats as ints."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return int(value)
    return value


def report_export(report: dict[str, Any], path: str) -> int:
    """The line ``--export-batch`` prints."""
    import sys

    print(f"wrote {report['requests_written']} request(s) for {report['items']} item(s) to {path} "
          f"({report['already_cached']} already cached)", file=sys.stderr)
    return 0
