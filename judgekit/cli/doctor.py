"""``judgekit doctor``: what a judge server supports, in a few requests."""
from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="probe an OpenAI-compatible server: structured output, logprobs, token and temperature parameters",
        description="Send a few small requests to the server and print what it supports (each structured-output "
                    "form, logprobs and their shape, max_tokens or max_completion_tokens, temperature, seed, "
                    "reasoning text) and the settings `judgekit judge` will use with it.",
    )
    p.add_argument("--base-url", help="OpenAI-compatible base URL (default: $OPENAI_BASE_URL or OpenAI)")
    p.add_argument("--model", required=True, help="model name as the server knows it")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..judge import probe

    report = probe(args.base_url, args.model, api_key_env=args.api_key_env, timeout=args.timeout)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report)
    return 0 if report.status("chat") == "yes" else 1
