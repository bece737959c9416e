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

__all__ = ["metric_names", "metric_path", "text_pair_features", "compute_ngram"]


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


def compute_ngram(family: str, predictions: Sequence[str], references: Sequence[Any], **options: Any) -> dict:
    """``judgekit.evaluate`` restricted to one metric family, flattened for
    ``evaluate``: the scores, ``n_items`` and the signature string."""
    from . import evaluate

    options.setdefault("metrics", [family])
    result = evaluate(list(predictions), list(references), **options)
    out: dict[str, Any] = {k: float(v) for k, v in result.scores.items()}
    out["n_items"] = len(predictions)
    out["signature"] = str(result.signature)
    return out
