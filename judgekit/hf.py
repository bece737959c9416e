"""The Hugging Face ``evaluate`` modules: where they are, and what they
share (public: the modules are loaded as standalone scripts and use only
public names).

``metric_path(name)`` gives the folder to pass to ``evaluate.load``: the
copy shipped in the installed package (``judgekit/_hf_metrics/<name>``), or
in a source checkout the repository's ``metrics/<name>``::

    import evaluate, judgekit.hf
    rouge = evaluate.load(judgekit.hf.metric_path("judgekit_chinese_rouge"))

``evaluate.load`` copies each module as a single script, so the modules
stay thin and call these functions of the installed package.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

__all__ = ["metric_names", "metric_path", "text_pair_features", "compute_ngram", "rouge_metric_names"]


def _metric_dirs() -> list[Path]:
    """Where the modules are: the installed package's ``_hf_metrics`` (a
    wheel), then the checkout's ``metrics/`` (an editable install)."""
    here = Path(__file__).resolve().parent
    return [here / "_hf_metrics", here.parent / "metrics"]


def metric_names() -> list[str]:
    """The names of the ``evaluate`` modules judgekit ships."""
    for root in _metric_dirs():
        names = sorted(p.name for p in root.glob("*") if (p / f"{p.name}.py").is_file()) if root.is_dir() else []
        if names:
            return names
    return []


def metric_path(name: str) -> str:
    """The folder of the ``evaluate`` module ``name`` (``judgekit_chinese_bleu``,
    ``judgekit_chinese_rouge``, ``judgekit_empathy_judge``), for
    ``evaluate.load(metric_path(name))``: loads offline, no Hub."""
    from .errors import InputError

    for root in _metric_dirs():
        folder = root / name
        if (folder / f"{name}.py").is_file():
            return str(folder)
    known = metric_names()
    raise InputError(f"no judgekit evaluate module {name!r}; available: {', '.join(known) or 'none found'}")


def text_pair_features() -> list:
    """predictions: strings; references: a string or a list of strings each."""
    import datasets

    return [
        datasets.Features({"predictions": datasets.Value("string"),
                           "references": datasets.Sequence(datasets.Value("string"))}),
        datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
    ]


def rouge_metric_names(rouge_types: Sequence[str]) -> list[str]:
    """rouge-score / ``evaluate`` rouge type names (``rouge1``, ``rougeL``,
    ``rougeLsum``) as judgekit's (``rouge-1``, ``rouge-l``, ``rouge-lsum``);
    judgekit's own names pass through.  Each with its ``-p``/``-r``."""
    import re

    from .errors import InputError

    out: list[str] = []
    for t in rouge_types:
        m = re.fullmatch(r"rouge([0-9]+|L|Lsum)", t)
        name = f"rouge-{m.group(1).lower()}" if m else t
        if not re.fullmatch(r"rouge-([0-9]+|l|lsum)", name):
            raise InputError(f"unknown rouge type {t!r}; use rouge1..rouge9, rougeL, rougeLsum (or rouge-3, rouge-l, "
                             "rouge-lsum)")
        out += [name, f"{name}-p", f"{name}-r"]
    return out


def compute_ngram(family: str, predictions: Sequence[str], references: Sequence[Any], per_item: bool = False,
                  **options: Any) -> dict:
    """``judgekit.evaluate`` restricted to one metric family, flattened for
    ``evaluate``: the scores (``per_item=True``: a list of per-item values
    each, as ``evaluate``'s ``use_aggregator=False``), ``n_items`` and the
    signature string."""
    from . import evaluate

    options.setdefault("metrics", [family])
    result = evaluate(list(predictions), list(references), **options)
    out: dict[str, Any] = {k: float(v) for k, v in result.scores.items()}
    if per_item:
        out = {k: [float(x) for x in result.column(k)] for k in result.scores if k in result.column_names}
    out["n_items"] = len(predictions)
    out["signature"] = str(result.signature)
    return out
