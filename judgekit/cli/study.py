"""``judgekit study``: compare systems' rating distributions (Welivita & Pu's design)."""
from __future__ import annotations

import argparse

from ..errors import InputError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "study",
        help="chi-square group comparison of systems rated Bad/Okay/Good (Welivita-format file)",
        description="Distribution per system, chi-square of independence over all systems and against a "
                    "baseline (p-values, Cramer's V), the change in the top level's share in percentage points "
                    "and relative, per sentiment and per emotion. Any number of response_<s>/rating_<s> pairs.",
    )
    p.add_argument("file", help="Welivita-format CSV (dialog_id, emotion, sentiment, response_<s>, rating_<s>, ...)")
    p.add_argument("--baseline", help="system to compare against (default: human if present, else the first)")
    p.add_argument("--systems", help="comma-separated subset of systems (default: all)")
    p.add_argument("--by", default="sentiment,emotion", help="grouping columns (default: sentiment,emotion; '' for none)")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    j = p.add_argument_group("on judge ratings (Welivita & Pu's framework for a new model)",
                             "judge every system's responses with empathy-3pt, calibrate the judge on the released "
                             "human ratings (ordinal thresholds, k-fold), run the study on the calibrated ratings "
                             "with CIs, and check it against the human-rated figures (validity table)")
    j.add_argument("--judge-model", help="the judge model; without it the study runs on the file's human ratings")
    j.add_argument("--judge-base-url", action="append", help="the judge's OpenAI-compatible base URL (repeat for replicas)")
    j.add_argument("--new", action="append", default=[], metavar="NAME=RESPONSES.jsonl",
                   help="a new system's responses, by dialog_id (the output of `judgekit generate`); repeat")
    j.add_argument("--generate", action="append", default=[], metavar="NAME=MODEL",
                   help="generate a new system's responses to the file's prompts first (judgekit generate: the "
                        "speaker's utterance as the user turn); repeat")
    j.add_argument("--generate-base-url", action="append", help="the new model's OpenAI-compatible base URL")
    j.add_argument("--system-file", help="a system prompt for the new model (e.g. the study's empathy instruction)")
    j.add_argument("--save-responses", metavar="DIR", help="write each generated system's responses here as JSONL")
    j.add_argument("--cache", default="judgekit-judge.sqlite", help="the SQLite cache of the judge (and generation)")
    j.add_argument("--k", type=int, default=5, help="folds for the calibration (default 5)")
    j.add_argument("--n-bootstrap", type=int, default=1000)
    j.add_argument("--concurrency", type=int, default=16)
    j.add_argument("--simulated", action="store_true", help="label the output as from a simulated judge")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..human import study
    from ._paths import check_out_dir, check_out_paths

    check_out_paths(args, "--json")
    check_out_dir(getattr(args, "save_responses", None), "--save-responses")
    systems = [s.strip() for s in args.systems.split(",")] if args.systems else None
    by = [b.strip() for b in args.by.split(",") if b.strip()]
    if args.judge_model:
        return _judged(args, by)
    if args.new:
        raise InputError("--new needs --judge-model: new systems are rated by the judge")
    report = study(args.file, systems, args.baseline, by=by)
    print(report.to_json() if args.format == "json" else report)
    if args.json:
        Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
    return 0


def _judged(args: argparse.Namespace, by: list) -> int:
    import sys
    import warnings
    from pathlib import Path

    from .. import judged_study
    from ..judge import Judge

    new = {}
    for spec in args.new:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--new {spec!r}: expected NAME=RESPONSES.jsonl")
        new[name] = path
    if args.generate:
        from ..judge import Generator
        from ..judged_study import welivita_prompts

        prompts = welivita_prompts(args.file)
        system = Path(args.system_file).read_text(encoding="utf-8") if args.system_file else None
        gurls = args.generate_base_url
        for spec in args.generate:
            name, sep, model = spec.partition("=")
            if not sep or not name or not model:
                raise InputError(f"--generate {spec!r}: expected NAME=MODEL")
            if name in new:
                raise InputError(f"system {name!r} is given twice")
            gen = Generator(model=model, base_url=gurls[0] if gurls and len(gurls) == 1 else gurls, system=system,
                            cache=args.cache, concurrency=args.concurrency, progress=sys.stderr.isatty())
            res = gen.run(prompts)
            if args.save_responses:
                Path(args.save_responses).mkdir(parents=True, exist_ok=True)
                res.to_jsonl(Path(args.save_responses) / f"{name}.jsonl")
            failed = [r["id"] for r in res.records() if r.get("status") != "ok"]
            if failed:
                raise InputError(f"--generate {name}: {len(failed)} prompt(s) got no response "
                                 f"({', '.join(map(repr, failed[:5]))}); rerun (the cache keeps the others) or "
                                 "drop them from the file")
            print(f"generated {len(res.preds)} responses for {name} ({res.signature})", file=sys.stderr)
            new[name] = res.preds
    urls = args.judge_base_url
    judge = Judge(model=args.judge_model, base_url=urls[0] if urls and len(urls) == 1 else urls, cache=args.cache,
                  concurrency=args.concurrency, progress=sys.stderr.isatty())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="judge: ", category=UserWarning)  # in the report's notes
        report = judged_study(args.file, judge, new=new, baseline=args.baseline or "human", k=args.k,
                              n_bootstrap=args.n_bootstrap, by=by, simulated=args.simulated)
    print(report.to_json() if args.format == "json" else report)
    if args.json:
        Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
    return 0
