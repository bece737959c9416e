"""``judgekit meta-eval``: rate a judge model against released human ratings."""
from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "meta-eval",
        help="how far can your judge be trusted? rate it against released human ratings, beside the human ceiling",
        description="Judge the released items of a rating set with the matching built-in rubric on your model, "
                    "join the scores with the human ratings by item id, and print for every dimension the "
                    "agreement with the humans (with CIs), the human-ceiling verdict, calibrated agreement, the "
                    "share unscored, the score distribution, length bias, tokens, cost and time; the released LLM "
                    "raters are computed by the same code (the evaluator leaderboard).",
    )
    p.add_argument("--dataset", required=True, choices=("kumar2025", "epitome", "welivita2024"))
    p.add_argument("--framework", help="one framework of the dataset (default: every one with released text)")
    p.add_argument("--path", help="your copy of the Welivita & Pu CSV (--dataset welivita2024)")
    p.add_argument("--data-dir", help="released data folder (default: $JUDGEKIT_DATA_DIR)")
    p.add_argument("--model", required=True, action="append",
                   help="the judge model, as the server knows it; repeat for several judges side by side (on the "
                        "same server)")
    p.add_argument("--base-url", action="append", help="OpenAI-compatible base URL (repeat for replicas)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY")
    p.add_argument("--cache", default="judgekit-judge.sqlite", help="SQLite cache (resumable; default ./judgekit-judge.sqlite)")
    p.add_argument("--samples", type=int, default=1, help="judgments per item")
    p.add_argument("--aggregate", choices=("mean", "median", "majority"), default="mean")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-cost", type=float)
    p.add_argument("--price-in", type=float, default=0.0)
    p.add_argument("--price-out", type=float, default=0.0)
    p.add_argument("--replay-only", action="store_true", help="answer from the cache only")
    p.add_argument("--humans", help="the human group: a rater kind or comma-separated raters (default: the experts, else the crowd)")
    p.add_argument("--references", default="llm",
                   help="released raters computed beside yours (a kind or comma-separated raters; 'none')")
    p.add_argument("--n-bootstrap", type=int, default=1000)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--out", metavar="DIR", help="also write meta-eval.txt/.json/.md/.html here")
    p.add_argument("--simulated", action="store_true", help="label every output as from a simulated judge")
    p.set_defaults(func=run)


def _spec(text: str) -> Any:
    return text if "," not in text else [t.strip() for t in text.split(",") if t.strip()]


def run(args: argparse.Namespace) -> int:
    from .. import meta_eval
    from ..judge import Judge
    from ._paths import check_out_dir

    check_out_dir(args.out, "--out")
    base_url = args.base_url[0] if args.base_url and len(args.base_url) == 1 else args.base_url
    judges = [Judge(model=m, base_url=base_url, api_key_env=args.api_key_env, cache=args.cache,
                  samples=args.samples, aggregate=args.aggregate, temperature=args.temperature,
                  concurrency=args.concurrency, max_cost=args.max_cost, price_per_million_input=args.price_in,
                  price_per_million_output=args.price_out, replay_only=args.replay_only, progress=sys.stderr.isatty())
              for m in args.model]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="judge: ", category=UserWarning)  # in the report's notes
        report = meta_eval(args.dataset, judges, framework=args.framework, data_dir=args.data_dir, path=args.path,
                           humans=_spec(args.humans) if args.humans else None, references=None if args.references == "none"
                           else _spec(args.references), n_bootstrap=args.n_bootstrap, seed=args.seed,
                           simulated=args.simulated)
    print(report)
    if args.out:
        for f in report.write(args.out):
            print(f"wrote {f}", file=sys.stderr)
    return 0 if all(u["n_items"] > u["n_unscored"] for u in report.usages.values()) else 1
