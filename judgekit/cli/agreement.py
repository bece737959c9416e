"""``judgekit agreement``: how well do judges agree with humans, beside the human ceiling."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "agreement",
        help="agreement of judges with human ratings, beside the human ceiling (bootstrap CIs)",
        description="Agreement statistics with seeded bootstrap intervals over items. By default, each judge "
                    "against the leave-one-out human ceiling; --a/--b for one pair, --panel for a panel. "
                    "Without --framework/--dimension, a one-line-per-dimension summary of every dimension.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="released set: kumar2025, epitome, mentalalign, welivita2024")
    src.add_argument("--table", help="a tidy rating table (.csv/.jsonl) with columns item, framework, dimension, "
                                     "rater, rater_kind, score, scale_min, scale_max")
    p.add_argument("--data-dir", help="folder of the released data (default: $JUDGEKIT_DATA_DIR)")
    p.add_argument("--framework")
    p.add_argument("--dimension")
    p.add_argument("--judges", default="llm", help="comma-separated raters or a kind (default: llm)")
    p.add_argument("--humans", default="expert", help="comma-separated raters or a kind (default: expert)")
    p.add_argument("--a", help="one side of a pairwise comparison (rater, kind or comma list)")
    p.add_argument("--b", help="the other side (humans); bias is a minus b")
    p.add_argument("--panel", metavar="RATERS", help="panel agreement of these raters (kind or comma list)")
    p.add_argument("--metrics", default="kappa_quadratic,spearman",
                   help="ceiling statistics (default: kappa_quadratic,spearman)")
    p.add_argument("--aggregate", default="median", choices=["median", "mean"], help="how a group is combined per item")
    p.add_argument("--levels", default="auto", choices=["auto", "scale", "observed"],
                   help="kappa categories: declared scale, or observed values weighted by rank (Kumar et al.)")
    p.add_argument("--crowd", default="mean", choices=["mean", "raw", "both"], help="kumar2025: crowd means or per-worker ratings")
    p.add_argument("--n-bootstrap", "--n-boot", dest="n_bootstrap", type=int, default=1000,
                   help="bootstrap resamples of items (default 1000; --n-boot is the old spelling)")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--confidence", "--ci", dest="confidence", type=float, default=0.95,
                   help="confidence level of the intervals (default 0.95; --ci is the old spelling)")
    p.add_argument("--format", default="text", choices=["text", "json"], help="what to print")
    p.add_argument("--json", metavar="PATH", help="also write the full report as JSON")
    p.set_defaults(func=run)


def _spec(v: str):
    parts = [x.strip() for x in v.split(",") if x.strip()]
    return parts[0] if len(parts) == 1 else parts


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..human import agreement, ceiling_summary, human_ceiling, load_ratings, panel_agreement, read_table
    from ._paths import check_out_paths

    check_out_paths(args, "--json")
    if args.dataset:
        opts = {"crowd": args.crowd} if args.dataset == "kumar2025" else {}
        if args.dataset == "kumar2025" and args.framework:
            opts["framework"] = args.framework
        table = load_ratings(args.dataset, data_dir=args.data_dir, **opts)
    else:
        table = read_table(args.table)
    common = dict(n_bootstrap=args.n_bootstrap, seed=args.seed, confidence=args.confidence)
    if (args.a is None) != (args.b is None):
        raise InputError("--a and --b go together")
    if args.a:
        report = agreement(table, a=_spec(args.a), b=_spec(args.b), framework=args.framework, dimension=args.dimension,
                           levels=args.levels, aggregate=args.aggregate, **common)
    elif args.panel:
        report = panel_agreement(table, _spec(args.panel), framework=args.framework, dimension=args.dimension, **common)
    else:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        if args.dimension is None or (args.framework is None and table["framework"].nunique() > 1):
            report = ceiling_summary(table, judges=_spec(args.judges), humans=_spec(args.humans),
                                     framework=args.framework, dimension=args.dimension, metric=metrics[0],
                                     aggregate=args.aggregate, levels=args.levels, **common)
        else:
            report = human_ceiling(table, judges=_spec(args.judges), humans=_spec(args.humans),
                                   framework=args.framework, dimension=args.dimension, metrics=metrics,
                                   aggregate=args.aggregate, levels=args.levels, **common)
    text = report.to_json() if args.format == "json" else str(report)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(report.to_json())
            fh.write("\n")
    return 0
