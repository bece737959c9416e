"""``judgekit leaderboard``: several systems on the same items, with
confidence intervals and significance marks against a baseline."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import InputError
from ._fields import field_help


def add_parser(sub) -> None:
    p = sub.add_parser(
        "leaderboard",
        help="rank several systems on the same items, with CIs and significance versus a baseline",
        description="Score several systems' outputs for the same items against the references, with 95% bootstrap "
                    "confidence intervals and paired significance tests (bootstrap and approximate randomization) "
                    "against a baseline, for every n-gram metric and judge dimension. Items are paired by id. "
                    "Prints the Markdown table; --out DIR also writes leaderboard.md/.csv/.html/.tex (booktabs) and the "
                    "plots as PNG (300 dpi) and SVG (PDF on request).",
    )
    src = p.add_argument_group("systems (one of)")
    src.add_argument("--system", action="append", default=[], metavar="NAME=PATH",
                     help="a system's outputs (.jsonl/.csv with id and pred fields, or .txt one per line); repeat")
    src.add_argument("--systems-dir", metavar="DIR", help="every .jsonl/.csv/.txt file in DIR is a system named after the file")
    src.add_argument("--table", metavar="PATH", help="one long .jsonl/.csv table with system, id and pred columns (and ref, "
                     "when --refs is not given)")
    p.add_argument("--refs", help="references: .jsonl/.csv with id and ref fields, or .txt one per line")
    p.add_argument("--judge", action="append", default=[], metavar="NAME=PATH",
                   help="judge results for system NAME (the JSONL of `judgekit judge --output`); repeat")
    p.add_argument("--pairwise", action="append", default=[], metavar="NAME=PATH",
                   help="system NAME judged head to head against the baseline (the JSONL of `judgekit pairwise "
                        "--output`): a pairwise:win_rate column with its CI; repeat")
    p.add_argument("--baseline", help="the system the others are tested against (default: the first)")
    p.add_argument("--id-field", help="id field/column (default: id; a .txt file, or a .jsonl/.csv without an id, "
                   "is keyed by line number from 0)")
    p.add_argument("--pred-field", help=field_help("pred"))
    p.add_argument("--ref-field", help=field_help("ref"))
    p.add_argument("--system-field", default="system", help="--table: the system column (default: system)")
    p.add_argument("--emotion-field", help="field of the references file holding an emotion label: per-emotion table and heatmap")
    p.add_argument("--context-field", help="field of the references file holding the client's turn, shown in the "
                   "examples view")
    p.add_argument("--emotion-metric", help="per-item metric of the per-emotion table (default: first judge dimension, else rouge-l)")
    p.add_argument("--levels", action="append", default=[], metavar="DIM=BAD,OKAY,GOOD",
                   help="the three values of a judge dimension meaning Bad/Okay/Good, for the stacked bars "
                        "(default: from the rubric or the values seen), e.g. empathy=1,2,3; repeat")
    p.add_argument("--out", metavar="DIR", help="write leaderboard.md, .csv, .html, .tex and the plots here")
    p.add_argument("--format", default="md,csv,html,tex,png,svg",
                   help="comma-separated outputs for --out: md, csv, html, tex, png, svg, pdf (default all but pdf; "
                        "the figures and the HTML plots need matplotlib)")
    p.add_argument("--tests", default="bs,ar", help="bs (paired bootstrap), ar (approximate randomization), both (default) or none")
    p.add_argument("--n-bootstrap", "--bootstrap", dest="n_bootstrap", type=int, default=1000,
                   help="bootstrap resamples, for CIs and the paired test (default 1000; --bootstrap is the old spelling)")
    p.add_argument("--n-randomization", "--randomization", dest="n_randomization", type=int, default=10000,
                   help="approximate randomization trials (default 10000; --randomization is the old spelling)")
    p.add_argument("--seed", type=int, default=12345,
                   help="seed of the bootstrap and randomization draws: the same seed, the same intervals and "
                        "p-values (default 12345)")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level: a system is marked * when every test gives p < alpha (default 0.05)")
    p.add_argument("--columns", help="comma-separated metrics to show (default: bleu-1..4, rouge-1/2/l, distinct-1/2, len-ratio, judge dims)")
    p.add_argument("--examples", type=int, default=5,
                   help="the items where the systems differ most (first judge dimension, else ROUGE-L), shown with "
                        "every system's output, per-item scores and judge's words (default 5)")
    p.add_argument("--title", default="judgekit leaderboard", help="title of the HTML page (default: judgekit "
                   "leaderboard)")
    p.add_argument("--preset", help=LazyHelp(lambda: "score with a preset, as `judgekit evaluate --preset`: "
                                                     + ", ".join(_preset_names())))
    p.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                   help="language of the texts: zh (Chinese, segmented) or en; auto (default) decides once, on the "
                        "first system and the references, so that every system shares one signature")
    p.add_argument("--tokenizer", "--tokenize", dest="tokenizer",
                   help="default suite: jieba, char, zh, 13a, intl, whitespace; or a preset's own choice "
                        "(sacrebleu: zh, char, 13a, intl; rouge-score: jieba, default)")
    p.set_defaults(func=run)


class LazyHelp(str):
    """A help text built only when shown (argparse formats every help with
    %), so that building the parser for another command imports nothing."""

    def __new__(cls, build: Any) -> "LazyHelp":
        self = super().__new__(cls, "(built when shown)")
        self._build = build
        return self

    def __mod__(self, params: Any) -> str:
        return self._build() % params


def _preset_names() -> list[str]:
    """The preset table's names (judgekit.ngram.presets.PRESETS), so that a new preset shows here."""
    from ..ngram.presets import PRESETS

    return list(PRESETS)


_SYSTEM_SUFFIXES = tuple(f".{k}{gz}" for k in ("jsonl", "csv", "tsv", "txt") for gz in ("", ".gz"))


def _named(values: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise InputError(f"{what} {v!r}: expected NAME=PATH")
        out.append((name, path))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{what}: name(s) given twice: {', '.join(dup)}")
    return out


def _read_keyed(path: str, field: str | None, id_field: str | None, allow_list: bool, extra: str | None = None
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(id -> value of ``field``, id -> value of ``extra``), ids as strings;
    a repeated id is an error naming both places.  ``field`` None: found by
    name; ``id_field`` None: ``id`` if the first record has one, else the
    record number from 0 (as a .txt file's line number)."""
    from ..io import find_field, plain_text, read_records, read_texts, record_id, text_field

    values: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    if plain_text(path):
        if extra:
            raise InputError(f"{path}: a .txt file has no fields; give .jsonl or .csv for --emotion-field")
        for no, text in enumerate(read_texts(path)):
            values[str(no)] = text
        return values, extras
    where_of: dict[str, str] = {}
    keyed = None
    for n, (where, rec) in enumerate(read_records(path, id_fields=(id_field or "id",))):
        if keyed is None:
            if id_field and id_field not in rec:
                raise InputError(f"{where}: no id field {id_field!r} (fields: {', '.join(map(str, rec))}); "
                                 "set --id-field, or leave it out to key the records by line number from 0")
            keyed = (id_field or "id") in rec
            field = field or find_field(rec, "ref" if allow_list else "pred", where)
        key = str(record_id(rec, id_field or "id", keyed, n, where))
        if key in where_of:
            raise InputError(f"{where}: id {key!r} repeats {where_of[key]}")
        where_of[key] = where
        values[key] = text_field(rec, field, where, allow_list=allow_list)
        if extra:
            if extra not in rec:
                raise InputError(f"{where}: no field {extra!r}")
            extras[key] = rec[extra]
    return values, extras


def _read_table(path: str, system_field: str, id_field: str, pred_field: str, ref_field: str, want_refs: bool
                ) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    from ..io import read_records, text_field

    systems: dict[str, dict[str, str]] = {}
    refs: dict[str, Any] = {}
    seen: dict[tuple[str, str], str] = {}
    for where, rec in read_records(path, id_fields=(id_field,)):
        for f in (system_field, id_field):
            if f not in rec:
                raise InputError(f"{where}: no field {f!r} (fields: {', '.join(map(str, rec))})")
        s, key = str(rec[system_field]), rec[id_field]
        if (s, key) in seen:
            raise InputError(f"{where}: system {s!r} item {key!r} repeats {seen[(s, key)]}")
        seen[(s, key)] = where
        systems.setdefault(s, {})[key] = text_field(rec, pred_field, where)
        if want_refs:
            r = text_field(rec, ref_field, where, allow_list=True)
            if key in refs and refs[key] != r:
                raise InputError(f"{where}: item {key!r} has a different reference than on an earlier row")
            refs[key] = r
    return systems, refs


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..report import leaderboard
    from ._paths import check_out_dir

    check_out_dir(args.out, "--out")
    for option, value, least in (("--n-bootstrap", args.n_bootstrap, 1), ("--n-randomization", args.n_randomization, 1),
                                 ("--examples", args.examples, 0)):
        if value < least:
            raise InputError(f"{option} must be {'at least 1' if least else '0 or more'}, got {value}")
    if not 0 < args.alpha < 1:
        raise InputError(f"--alpha must be between 0 and 1, got {args.alpha}")
    sources = sum(bool(x) for x in (args.system, args.systems_dir, args.table))
    if sources != 1:
        raise InputError("give the systems one way: --system NAME=PATH (repeated), --systems-dir DIR or --table PATH")
    if not args.refs and not args.table:
        raise InputError("--refs is required (or a --table with a reference column)")
    emotions = None
    refs: dict[str, Any] = {}
    if args.refs:
        refs, emotions = _read_keyed(args.refs, args.ref_field, args.id_field, True, args.emotion_field)
        if not args.emotion_field:
            emotions = None
    elif args.emotion_field:
        raise InputError("--emotion-field reads the --refs file; give --refs")
    contexts = None
    if args.context_field:
        if not args.refs:
            raise InputError("--context-field reads the --refs file; give --refs")
        contexts = _read_keyed(args.refs, args.ref_field, args.id_field, True, args.context_field)[1]

    systems: dict[str, dict[str, str]] = {}
    if args.system:
        for name, path in _named(args.system, "--system"):
            systems[name] = _read_keyed(path, args.pred_field, args.id_field, False)[0]
    elif args.systems_dir:
        d = Path(args.systems_dir)
        if not d.is_dir():
            raise InputError(f"{d}: no such directory")
        files = sorted(f for f in d.iterdir() if f.is_file() and any(
            f.name.lower().endswith(s) for s in _SYSTEM_SUFFIXES))
        if refs and args.refs and Path(args.refs).resolve().parent == d.resolve():
            files = [f for f in files if f.resolve() != Path(args.refs).resolve()]
        if not files:
            raise InputError(f"{d}: no .jsonl, .csv, .tsv or .txt files")
        for f in files:
            name = f.name.split(".")[0]
            if name in systems:
                raise InputError(f"{d}: two files give system {name!r}")
            systems[name] = _read_keyed(str(f), args.pred_field, args.id_field, False)[0]
    else:
        systems, table_refs = _read_table(args.table, args.system_field, args.id_field or "id",
                                          args.pred_field or "pred", args.ref_field or "ref", not args.refs)
        if not args.refs:
            refs = table_refs
    judges = {name: path for name, path in _named(args.judge, "--judge")}
    pairwise = {name: path for name, path in _named(args.pairwise, "--pairwise")}
    levels = {}
    for dim, values in _named(args.levels, "--levels"):
        try:
            levels[dim] = tuple(float(v) for v in values.split(","))
        except ValueError:
            raise InputError(f"--levels {dim}={values}: expected three numbers, e.g. {dim}=1,2,3") from None
    tests = () if args.tests.strip() == "none" else tuple(t.strip() for t in args.tests.split(",") if t.strip())
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    opts: dict[str, Any] = {"lang": args.lang}
    for k in ("preset", "tokenizer"):
        if getattr(args, k):
            opts[k] = getattr(args, k)
    lb = leaderboard(systems, refs, baseline=args.baseline, judges=judges or None, emotions=emotions,
                     emotion_metric=args.emotion_metric, levels=levels, tests=tests, n_bootstrap=args.n_bootstrap,
                     n_randomization=args.n_randomization, seed=args.seed, alpha=args.alpha, columns=columns,
                     n_examples=args.examples, progress=sys.stderr.isatty(), pairwise=pairwise or None, contexts=contexts,
                     **opts)
    sys.stdout.write(lb.to_markdown())
    if args.out:
        written = lb.write(args.out, formats=formats, title=args.title)
        for w in written:
            print(f"wrote {w}", file=sys.stderr)
    return 0
