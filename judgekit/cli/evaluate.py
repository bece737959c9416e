"""``judgekit evaluate``: BLEU-1..4 / ROUGE-1/2/L and friends from files."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score predictions against references (BLEU, ROUGE, Distinct)",
        description="Score predictions against references. Either one PAIRS file (.jsonl/.csv with a prediction "
                    "and a reference field) or --preds and --refs (.txt one segment per line, .jsonl, .csv).",
    )
    p.add_argument("pairs", nargs="?", help="a .jsonl or .csv file holding both fields")
    p.add_argument("--preds", help="predictions file (.txt/.jsonl/.csv)")
    p.add_argument("--refs", help="references file (.txt/.jsonl/.csv)")
    p.add_argument("--pred-field", default="pred", help="field/column of the prediction (default: pred)")
    p.add_argument("--ref-field", default="ref", help="field/column of the reference, a string or list of strings (default: ref)")
    p.add_argument("--preset", help="re-enact a pipeline: chatglm, llamafactory, glm4, sacrebleu, rouge-score")
    p.add_argument("--lang", default="auto", choices=["auto", "zh", "en"])
    p.add_argument("--metrics", help="comma-separated families (bleu,rouge,distinct,length) or names (bleu-4,rouge-l)")
    p.add_argument("--tokenizer", "--tokenize", dest="tokenizer",
                   help="default suite: jieba, char, zh, 13a, intl, whitespace; preset sacrebleu: zh, char, 13a, "
                        "intl; preset rouge-score: jieba, default (--tokenize: its old name)")
    p.add_argument("--whitespace", choices=["drop", "keep"], help="jieba/char: whitespace tokens dropped or kept")
    p.add_argument("--user-dict", action="append", default=[], help="jieba user dictionary (repeatable)")
    p.add_argument("--no-hmm", action="store_true", help="jieba without the HMM for unknown words")
    p.add_argument("--smoothing", help="default suite: none, method1, method3, exp, floor, add-k (default: exp)")
    p.add_argument("--aggregate", "--aggregation", dest="aggregate", choices=["corpus", "mean"], help="default suite BLEU: corpus (default) or mean")
    p.add_argument("--rouge-counting", choices=["counts", "sets"], help="default suite ROUGE: counts (default) or sets")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (-1: one per core); same numbers")
    p.add_argument("--chunk-size", type=int, default=5_000, help="items read and scored at a time (memory stays flat)")
    p.add_argument("--scale", type=int, choices=[1, 100])
    p.add_argument("--strict", action="store_true", help="error on empty predictions or references instead of flagging")
    p.add_argument("--format", default="table", choices=["table", "json", "csv"])
    p.add_argument("--per-item", metavar="PATH", help="also write per-item scores (.csv or .jsonl)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import evaluate_file
    from ._paths import check_out_paths

    if not args.pairs and not (args.preds and args.refs):
        from ..errors import InputError

        raise InputError("give a PAIRS file, or both --preds and --refs")
    check_out_paths(args, "--per-item")
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    suite = {}
    for name in ("whitespace", "smoothing", "aggregate", "rouge_counting"):
        value = getattr(args, name)
        if value is not None:
            suite[name] = value
    if args.user_dict:
        suite["user_dicts"] = args.user_dict
    if args.no_hmm:
        suite["hmm"] = False
    result = evaluate_file(
        args.pairs, preds=args.preds, refs=args.refs, pred_field=args.pred_field, ref_field=args.ref_field,
        lang=args.lang, preset=args.preset, metrics=metrics, tokenizer=args.tokenizer, scale=args.scale,
        strict=args.strict, n_jobs=args.jobs, chunk_size=args.chunk_size, progress=sys.stderr.isatty(),
        per_item_path=args.per_item, **suite,
    )
    for w in result.warnings:
        print(f"judgekit evaluate: warning: {w}", file=sys.stderr)
    if args.format == "json":
        print(result.to_json(indent=2))
    elif args.format == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["metric", "value"])
        for k, v in result.scores.items():
            w.writerow([k, repr(v)])
        w.writerow(["signature", str(result.signature)])
    else:
        width = max(len(k) for k in result.scores) if result.scores else 8
        print(f"{result.n_items} items")
        for k, v in result.scores.items():
            print(f"{k:<{width}}  {v:10.4f}")
        print(f"signature: {result.signature}")
    return 0
