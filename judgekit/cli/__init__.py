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


def _subcommand(parser: argparse.ArgumentParser, args: argparse.Namespace | None = None,
                command: str | None = None) -> argparse.ArgumentParser | None:
    """The parser of the (sub-)command ``args`` chose, down to the deepest
    (``data check``); or of ``command``."""
    found = None
    while True:
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None:
            return found
        chosen = command if found is None and command is not None else getattr(args, sub.dest, None)
        nxt = sub.choices.get(chosen) if chosen is not None else None
        if nxt is None:
            return found
        found = parser = nxt


def _options(parser: argparse.ArgumentParser, command: str, args: argparse.Namespace | None = None
             ) -> dict[str, str]:
    """The command's options by destination: {'data_dir': '--data-dir', ...}
    (those of its chosen action too, as ``data check``'s)."""
    cmd = _subcommand(parser, command=command)
    if cmd is None:
        return {}
    found = {a.dest: max(a.option_strings, key=len) for a in cmd._actions if a.option_strings}
    inner = _subcommand(parser, args) if args is not None else None
    if inner is not None and inner is not cmd:
        found.update({a.dest: max(a.option_strings, key=len) for a in inner._actions if a.option_strings})
    return found


def _unrecognized(extra: Sequence[str], cmd: argparse.ArgumentParser | None) -> str:
    """argparse's message for arguments no parser took, with the nearest
    option of the command for each misspelled one (difflib)."""
    import difflib

    message = "unrecognized arguments: " + " ".join(extra)
    if cmd is None:
        return message
    known = [o for a in cmd._actions for o in a.option_strings if o.startswith("--")]
    hints, unknown = [], False
    for token in extra:
        if token.startswith("-") and len(token) > 1:
            close = difflib.get_close_matches(token.partition("=")[0], known, n=1, cutoff=0.6)
            if close:
                hints.append(f"{token.partition('=')[0]}: did you mean {close[0]}?")
            else:
                unknown = True
    if unknown:
        hints.append(f"`{cmd.prog} --help` lists its options")
    return message + (f" ({'; '.join(hints)})" if hints else "")


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
    # parse_known_args: an unknown option is reported by the sub-command's
    # parser (its usage line, the nearest option), not the top-level one
    args, extra = parser.parse_known_args(argv)
    if extra:
        cmd = _subcommand(parser, args)
        (cmd or parser).error(_unrecognized(extra, cmd))
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
            message = in_cli_words(str(exc), _options(parser, args.command, args))
            print(f"judgekit {args.command}: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"judgekit {args.command}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
