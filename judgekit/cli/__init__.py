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
import os
import re
import sys
import warnings
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
    "data": "judgekit.cli.data",
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


def _options(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """The command's options by destination: {'data_dir': '--data-dir', ...}."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    cmd = sub.choices.get(command) if sub is not None else None
    if cmd is None:
        return {}
    return {a.dest: max(a.option_strings, key=len) for a in cmd._actions if a.option_strings}


def in_cli_words(message: str, options: dict[str, str]) -> str:
    """An error of the Python API in the command's words: ``data_dir=...``
    (or ``framework=`` at the end of a phrase) becomes ``--data-dir`` where
    the command has that option."""
    def swap(m: re.Match) -> str:
        return options.get(m.group(1), m.group(0))

    message = re.sub(r"(?<![\w-])([a-z_]+)=\.\.\.", swap, message)
    return re.sub(r"(?<![\w-])([a-z_]+)=(?=[\s,;:)]|$)", swap, message)


def _one_line_warning(command: str):
    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001 - the warnings API
        out = file if file is not None else sys.stderr
        text = " ".join(str(message).split("\n"))
        try:
            out.write(f"judgekit {command}: warning: {text}\n")
        except OSError:  # stderr closed: nothing to tell
            pass
    return show


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``judgekit ... | head``): stop
    without a traceback, as ``cat`` does, and keep Python's exit-time flush
    of stdout from failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file descriptor (tests)
        pass
    return 141   # 128 + SIGPIPE, what a shell reports for a tool cut off by head


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(_version_text())
        return 0
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning(args.command)   # one clean line, no source line
        try:
            code = int(args.func(args) or 0)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            return _quiet_broken_pipe()
        except JudgekitError as exc:
            message = in_cli_words(str(exc), _options(parser, args.command))
            print(f"judgekit {args.command}: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"judgekit {args.command}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
