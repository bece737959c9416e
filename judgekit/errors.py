"""Exceptions raised by judgekit.

Every error about user input names the item index, file line, row or field
that is at fault, so that nothing is silently dropped or guessed.  Catch
``JudgekitError`` for all of them::

    Exception
    └── JudgekitError                      every error judgekit raises on purpose
        ├── InputError (+ ValueError)      bad input: names the item, line, row or field
        ├── JudgeAbort                     an LLM judge run cannot go on (auth, permission, unknown model)
        ├── ReplayMissError                replay-only judge run: items absent from the cache
        └── MissingPlotExtra (+ ImportError)  plots asked for without matplotlib

The second bases keep ``except ValueError`` / ``except ImportError`` working.
"""
from __future__ import annotations

from typing import Sequence

__all__ = ["JudgekitError", "InputError", "JudgeAbort", "ReplayMissError", "MissingPlotExtra", "show_ids"]


def show_ids(ids: Sequence[object], limit: int = 10) -> str:
    """The first ``limit`` ids of an error message, and how many more."""
    ids = list(ids)
    return listing([repr(i) for i in ids[:limit]], len(ids))


def listing(shown: Sequence[str], count: int) -> str:
    """``shown`` (already formatted) joined by commas, and how many more of
    ``count`` there are: the one way errors name the first few of many."""
    return ", ".join(shown) + (f" and {count - len(shown)} more" if count > len(shown) else "")


class JudgekitError(Exception):
    """Base class of every error judgekit raises on purpose."""


class InputError(JudgekitError, ValueError):
    """Bad input: the message names the item, line, row or field."""


class JudgeAbort(JudgekitError):
    """The run cannot continue (authentication, permission, unknown model)."""


class ReplayMissError(JudgekitError):
    """Replay-only run with items absent from the cache (``missing_ids``)."""

    def __init__(self, missing_ids: Sequence[str], key: str = "") -> None:
        self.missing_ids = list(missing_ids)
        what = (f" A reply is found again only when all of these match the run that filled the cache: {key}."
                if key else "")
        super().__init__(
            f"replay-only: {len(self.missing_ids)} item(s) are not in the cache: "
            f"{show_ids(self.missing_ids, 20)}.{what} Run once without replay-only (or import a batch result) "
            "to fill the cache."
        )


class MissingPlotExtra(JudgekitError, ImportError):
    """matplotlib is not installed (``pip install 'judgekit-empathy[plot]'``)."""
