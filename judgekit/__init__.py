"""judgekit: evaluation for empathetic and supportive dialogue systems.

Public API (everything else is private):

- ``evaluate(preds, refs, ...)``: BLEU-1..4, ROUGE-1/2/L, Distinct, lengths,
  Chinese-correct, with a reproducible signature (``Result``).
- ``evaluate_file(path, ...)``: the same, streamed from files.
- ``judge(items, rubric=..., model=..., base_url=...)`` / ``Judge``: rubric-driven
  LLM judges on any OpenAI-compatible server, cached and resumable.
- ``load_ratings(name)`` / ``agreement(...)``: released human ratings and
  agreement statistics with bootstrap confidence intervals
  (more in ``judgekit.human``).
- ``meta_eval(dataset, judge)``: how far your judge can be trusted, against
  the released human ratings, beside the human ceiling and released judges.
- ``judged_study(path, judge, new={...})``: Welivita & Pu's framework for a
  new model, on judge ratings calibrated on the released human ratings.
- ``Scores`` / ``Signature``: the one value that crosses between packages
  (a ``Result`` is one; ``JudgeResult.to_scores()``,
  ``judgekit.human.rating_scores``) and how its numbers were made.
- Errors: ``JudgekitError`` and its subclasses (``judgekit.errors``).
"""
from __future__ import annotations

from typing import Any

from ._version import __version__
from .errors import InputError, JudgeAbort, JudgekitError, MissingPlotExtra, ReplayMissError

__all__ = ["__version__", "evaluate", "evaluate_file", "judge", "Judge", "load_ratings", "agreement", "Result",
           "Scores", "Signature", "meta_eval", "judged_study", "JudgekitError", "InputError", "JudgeAbort", "ReplayMissError", "MissingPlotExtra"]

# Heavy modules (pandas, jieba, openai) load on first use, so that
# ``import judgekit`` stays fast.
_LAZY = {
    "evaluate": ("judgekit.api", "evaluate"),
    "evaluate_file": ("judgekit.api", "evaluate_file"),
    "Result": ("judgekit.api", "Result"),
    "Scores": ("judgekit.scores", "Scores"),
    "meta_eval": ("judgekit.metaeval", "meta_eval"),
    "judged_study": ("judgekit.judged_study", "judged_study"),
    "Signature": ("judgekit.signature", "Signature"),
    "Judge": ("judgekit.judge", "Judge"),
    "load_ratings": ("judgekit.human", "load_ratings"),
    "agreement": ("judgekit.human", "agreement"),
}


def __getattr__(name: str) -> Any:
    if name == "judge":
        # the subpackage is itself callable: judgekit.judge(items, rubric=..., model=...)
        import importlib

        return importlib.import_module("judgekit.judge")
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'judgekit' has no attribute {name!r}")
