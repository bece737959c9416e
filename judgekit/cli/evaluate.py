"""``judgekit evaluate``: BLEU-1..4 / ROUGE-1/2/L and friends from files."""
from __future__ import annotations

import argparse
import sys
from ._fields import field_help


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
    p.add_argument("--pred-field", help=field_help("pred"))
    p.add_argument("--ref-field", help=field_help("ref"))
    p.add_argument("--preset", help="re-enact a pipeline: chatglm, llamafactory, glm4, sacrebleu, rouge-score, "
                                    "rouge-chinese, pltrdy-rouge")
    p.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                   help="the texts' language (default auto: detected once for the corpus); picks the default "
                        "suite's tokenizer (zh: jieba, en: 13a) and presets sacrebleu's and rouge-score's; "
                        "presets chatglm, llamafactory, glm4 take zh only")
    p.add_argument("--metrics", help="comma-separated families (bleu,rouge,distinct,length) or names (bleu-4,rouge-l; "
                                     "rouge-N for any n and rouge-lsum, with -p/-r, when named)")
    p.add_argument("--tokenizer", "--tokenize", dest="tokenizer",
                   help="default suite: jieba, char, zh, 13a, intl, whitespace; preset sacrebleu: zh, char, 13a, "
                        "intl; preset rouge-score: jieba, default; preset rouge-chinese: jieba (default), "
                        "whitespace; preset pltrdy-rouge: whitespace (default), jieba (--tokenize: its old name)")
    p.add_argument("--whitespace", choices=["drop", "keep"], help="jieba/char: whitespace tokens dropped or kept")
    p.add_argument("--user-dict", action="append", default=[], help="jieba user dictionary (repeatable)")
    p.add_argument("--no-hmm", action="store_true", help="jieba without the HMM for unknown words")
    p.add_argument("--normalize", choices=["none", "nfkc", "lower", "nfkc+lower"],
                   help="default suite: text normalization before tokenizing (default none; lower: sacreBLEU's -lc)")
    p.add_argument("--smoothing", help="default suite BLEU: sacreBLEU's none, exp (default), floor, add-k; nltk's "
                   "method0..method7; a value after a colon: floor:0.5, add-k:2, method1:0.2 (epsilon), "
                   "method4:3 / method7:3 (k), method6:2 (alpha)")
    p.add_argument("--bleu-order", type=int, help="default suite: BLEU-1..N for this N (default 4; sacreBLEU's "
                   "max_ngram_order)")
    p.add_argument("--bleu-weights", action="append", metavar="W1,W2,...",
                   help="nltk smoothings: a weight vector (repeatable: several, as nltk's list of weights), "
                        "scored as bleu-w1, bleu-w2, ...")
    p.add_argument("--auto-reweigh", action="store_true", help="nltk's auto_reweigh")
    p.add_argument("--bleu-stats", metavar="PATH", help="also write BLEU's per-item sufficient statistics (.jsonl: "
                   "id, counts, totals, sys_len, ref_len)")
    p.add_argument("--aggregate", "--aggregation", dest="aggregate", choices=["corpus", "mean"], help="default suite BLEU: corpus (default) or mean")
    p.add_argument("--rouge-counting", choices=["counts", "sets", "lists"],
                   help="default suite ROUGE: counts (default, rouge-score), sets or lists (rouge-chinese, "
                        "exclusive=True / False)")
    p.add_argument("--stemmer", action="store_true",
                   help="preset rouge-score, tokenizer default: Porter-stem words (rouge-score's use_stemmer)")
    p.add_argument("--split-summaries", action="store_true",
                   help="rouge-lsum: sentences by nltk.sent_tokenize instead of newlines (rouge-score's split_summaries)")
    p.add_argument("--no-exclusive", dest="exclusive", action="store_false",
                   help="presets rouge-chinese, pltrdy-rouge: n-grams as a multiset (their exclusive=False)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (-1: one per core); same numbers")
    p.add_argument("--chunk-size", type=int, default=5_000, help="items read and scored at a time (memory stays flat)")
    p.add_argument("--scale", type=int, choices=[1, 100],
                   help="scores on 0-1 or 0-100 (default: the default suite 100, a preset its pipeline's own)")
    p.add_argument("--strict", action="store_true", help="error on empty predictions or references instead of flagging")
    p.add_argument("--format", default="table", choices=["table", "json", "csv"],
                   help="output on stdout: table (default), json (scores, signature, warnings), csv (metric,value)")
    p.add_argument("--per-item", metavar="PATH", help="also write per-item scores (.csv or .jsonl)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import evaluate_file
    from ._paths import check_out_paths

    if not args.pairs and not (args.preds and args.refs):
        from ..errors import InputError

        raise InputError("give a PAIRS file, or both --preds and --refs")
    check_out_paths(args, "--per-item", "--bleu-stats")
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    suite = {}
    for name in ("whitespace", "normalize", "smoothing", "aggregate", "rouge_counting"):
        value = getattr(args, name)
        if value is not None:
            suite[name] = value
    if args.user_dict:
        suite["user_dicts"] = args.user_dict
    if args.no_hmm:
        suite["hmm"] = False
    if args.bleu_order is not None:
        suite["bleu_order"] = args.bleu_order
    if args.bleu_weights:
        suite["bleu_weights"] = [_weights(w) for w in args.bleu_weights]
    if args.auto_reweigh:
        suite["auto_reweigh"] = True
    for name in ("stemmer", "split_summaries"):
        if getattr(args, name):
            suite[name] = True
    if not args.exclusive:
        suite["exclusive"] = False
    result = evaluate_file(
        args.pairs, preds=args.preds, refs=args.refs, pred_field=args.pred_field, ref_field=args.ref_field,
        lang=args.lang, preset=args.preset, metrics=metrics, tokenizer=args.tokenizer, scale=args.scale,
        strict=args.strict, n_jobs=args.jobs, chunk_size=args.chunk_size, progress=sys.stderr.isatty(),
        per_item_path=args.per_item, **suite,
    )
    for w in result.warnings:
        print(f"judgekit evaluate: warning: {w}", file=sys.stderr)
    if args.bleu_stats:
        from ..io import write_jsonl

        st = result.bleu_stats()
        try:
            write_jsonl(args.bleu_stats, ({"id": i, "counts": st["counts"][k].tolist(),
                                           "totals": st["totals"][k].tolist(), "sys_len": int(st["sys_len"][k]),
                                           "ref_len": int(st["ref_len"][k])} for k, i in enumerate(result.ids)))
        except OSError as exc:
            from ..errors import InputError

            raise InputError(f"--bleu-stats {args.bleu_stats}: cannot write the file ({exc})") from None
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


def _weights(text: str) -> tuple[float, ...]:
    """``"0.1,0.3,0.5,0.1"`` -> (0.1, 0.3, 0.5, 0.1)."""
    from ..errors import InputError

    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise InputError(f"--bleu-weights {text!r}: give comma-separated numbers such as 0.1,0.3,0.5,0.1") from None
