"""``judgekit calibrate``: map a judge's scores onto the human scale, checked on held-out items."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit a monotone judge->human map (isotonic or ordinal thresholds), k-fold before/after",
        description="Calibrate judge scores (the output of `judgekit judge`, or any CSV/JSONL with an id and a "
                    "score field) against human ratings (a released set or a tidy rating table). Prints agreement "
                    "before and after on held-out items; --save-map writes the map fitted on all items; "
                    "--map with --apply calibrates new judge outputs.",
    )
    p.add_argument("judged", nargs="?", help="judge outputs: .jsonl/.csv/.json with an id and a score field")
    p.add_argument("--id-field", default="id")
    p.add_argument("--score-field", help="score column (default: the --dimension name); use <dim>_expected for "
                                         "logprob-expected scores")
    p.add_argument("--system-field", help="column naming the system of each item: corrected system means")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", help="released human ratings: kumar2025, epitome, mentalalign, welivita2024")
    src.add_argument("--human-table", help="tidy rating table (.csv/.jsonl)")
    p.add_argument("--data-dir")
    p.add_argument("--framework")
    p.add_argument("--dimension")
    p.add_argument("--humans", default="expert", help="raters or kind forming the human reference (default: expert)")
    p.add_argument("--aggregate", default="median", choices=["median", "mean"])
    p.add_argument("--method", default="isotonic", choices=["isotonic", "thresholds"])
    p.add_argument("--k", type=int, default=5, help="folds for the held-out check (default 5)")
    p.add_argument("--n-bootstrap", "--n-boot", dest="n_bootstrap", type=int, default=1000,
                   help="bootstrap resamples of items (default 1000; --n-boot is the old spelling)")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--save-map", metavar="PATH", help="write the map fitted on all items (JSON)")
    p.add_argument("--map", metavar="PATH", help="a saved map to apply (with --apply)")
    p.add_argument("--apply", metavar="PATH", help="judge outputs to calibrate with --map")
    p.add_argument("--out", metavar="PATH", help="where --apply writes (.csv or .jsonl; adds <score>_calibrated)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import InputError
    from ..human import read_scores, read_table
    from ..io import read_frame

    if args.map or args.apply:
        return _apply(args)
    if not args.judged:
        raise InputError("give the judge outputs file (or --map and --apply to calibrate new outputs)")
    if not (args.dataset or args.human_table):
        raise InputError("give the human ratings: --dataset NAME or --human-table PATH")
    if not args.dimension and not args.score_field:
        raise InputError("give --dimension (and --score-field if the column is named differently)")
    from ..human import (calibrate, combine_raters, load_ratings, rater_matrix, rating_scale, resolve_raters,
                         select_ratings, validate_table)

    if args.dataset:
        opts = {"framework": args.framework} if args.dataset == "kumar2025" and args.framework else {}
        table = load_ratings(args.dataset, data_dir=args.data_dir, **opts)
    else:
        table = read_table(args.human_table)
    t = select_ratings(validate_table(table), framework=args.framework, dimension=args.dimension)
    raters = resolve_raters(t, args.humans.split(",") if "," in args.humans else args.humans)
    matrix = rater_matrix(t, raters)
    human = combine_raters(matrix, args.aggregate) if len(raters) > 1 else matrix[raters[0]]
    human.name = args.humans
    field = args.score_field or args.dimension
    judge = read_scores(args.judged, id_field=args.id_field, score_field=field)
    judge.name = Path(args.judged).stem
    unknown = judge.index.difference(human.index)
    if len(unknown) == len(judge):
        raise InputError(f"none of the {len(judge)} judged ids is in the human ratings, e.g. {list(unknown[:5])} "
                         f"(human ids look like {list(human.index[:3])})")
    systems = None
    if args.system_field:
        rec = read_frame(args.judged, id_fields=(args.id_field,))
        if args.system_field not in rec.columns:
            raise InputError(f"{args.judged}: no field {args.system_field!r}")
        systems = rec.set_index(args.id_field)[args.system_field]
    report = calibrate(judge, human, args.method, k=args.k, scale=rating_scale(t), systems=systems,
                       n_bootstrap=args.n_bootstrap, seed=args.seed, confidence=args.confidence)
    print(report.to_json() if args.format == "json" else report)
    if args.json:
        Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
    if args.save_map:
        Path(args.save_map).write_text(report.calibrator.to_json() + "\n", encoding="utf-8")
    return 0


def _apply(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..errors import InputError
    from ..human import Calibrator
    from ..io import read_frame

    if not (args.map and args.apply and args.out):
        raise InputError("--map, --apply and --out go together")
    if not args.score_field and not args.dimension:
        raise InputError("give --score-field (or --dimension) naming the score column to calibrate")
    try:
        cal = Calibrator.from_json(Path(args.map).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the map {args.map!r}: {exc}") from exc
    field = args.score_field or args.dimension
    df = read_frame(args.apply, id_fields=(args.id_field,))
    if field not in df.columns:
        raise InputError(f"{args.apply}: no field {field!r}; fields: {list(df.columns)}")
    import pandas as pd

    vals = pd.to_numeric(df[field], errors="coerce")
    if "status" in df.columns:
        vals = vals.where(df["status"].astype(str) == "scored")
    df[f"{field}_calibrated"] = cal.predict(vals.to_numpy(float))
    out = Path(args.out)
    if out.suffix.lower() == ".csv":
        df.to_csv(out, index=False)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            for rec in json.loads(df.to_json(orient="records", force_ascii=False)):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"calibrated {int(vals.notna().sum())} of {len(df)} rows -> {out}")
    return 0
