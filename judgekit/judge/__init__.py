"""Rubric-driven LLM judges on any OpenAI-compatible server.

Public API::

    from judgekit.judge import judge, Judge, load_rubric, list_rubrics
    result = judge(items, rubric="empathy-3pt", model="gpt-4o-mini", cache="judge.sqlite")
    result.per_item   # DataFrame: id, status, one column per dimension, reason, raw, ...
    result.summary    # means over scored items, counts, tokens, cost
    result.signature  # model|host|rubric id@version+hash|parser|sampling
    pairwise(items, model="gpt-4o-mini")  # two systems head to head, both orders (rubric empathy-pairwise)

The module itself is callable, so ``judgekit.judge(items, ...)`` works too.
"""
from __future__ import annotations

import sys
import types
from typing import Any

from .parse import PARSER_VERSION
from ..errors import JudgeAbort, ReplayMissError
from .render import json_schema, system_message
from .rubric import Rubric, list_rubrics, load_rubric, load_rubric_file, rubric_yaml
from .run import Judge, JudgeResult, judge, load_results
from .batch import export_batch, import_batch
from .dialect import Dialect
from .doctor import ProbeReport, probe
from ._pairwise import PairwiseResult, load_pairwise, pairwise
from .generation import GenerateResult, Generator, generate
from .cache import recover as recover_cache

__all__ = [
    "judge", "Judge", "JudgeResult", "load_results", "ReplayMissError", "JudgeAbort", "Rubric", "load_rubric", "load_rubric_file",
    "list_rubrics", "rubric_yaml", "json_schema", "system_message", "export_batch", "import_batch", "PARSER_VERSION",
    "Dialect", "probe", "ProbeReport", "generate", "Generator", "GenerateResult", "pairwise", "PairwiseResult",
    "load_pairwise", "recover_cache",
]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> JudgeResult:
        return judge(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
