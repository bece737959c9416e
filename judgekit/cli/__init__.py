"""The ``judgekit`` command line: one sub-command per module, each a thin
layer over the public Python API (``judgekit evaluate`` calls
``judgekit.evaluate`` and so on).

Each module in ``COMMANDS`` defines ``add_parser(subparsers)``, which sets
``func`` on its parser.  Modules import heavy dependencies inside their
``run`` function so that ``judgekit --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from ..errors import JudgekitError

COMMANDS: dict[str, str] = {
    "evaluate": "judgekit.cli.evaluate",
    "agreement": "judgekit.cli.agreement",
    "calibrate": "judgekit.cli.calibrate",
    "study": "judgekit.cli.study",
    "judge": "judgekit.cli.judge",
    "generate": "judgekit.cli.generate",
    "pairwise": "judgekit.cli.pairwise",
    "doctor": "judgekit.cli.doctor",
    "meta-eval": "judgekit.cli.metaeval",
    "rubrics": "judgekit.cli.rubrics",
    "leaderboard": "judgekit.cli.leaderboard",
    "cache": "judgekit.cli.cache",
}


def _version_text() -> str:
    from .. import __version__

    try:
        from ..ngram import backend_description as kernels
        from ..text.segment import backend_description as segmenter
    except ImportError:  # pragma: no cover - partial installs
        return f"judgekit {__version__}"
    return f"judgekit {__version__} ({segmenter()}; {kernels()})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judgekit",
        description="Evaluate empathetic and supportive dialogue systems.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and the active segmenter, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(_version_text())
        return 0
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except JudgekitError as exc:
        print(f"judgekit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"judgekit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
