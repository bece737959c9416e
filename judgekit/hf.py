"""What the Hugging Face ``evaluate`` modules in ``metrics/`` share
(public: the modules live outside the package and use only public names).

``evaluate.load`` copies each module as a single script, so the modules
stay thin and call these functions of the installed package.
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["text_pair_features", "compute_ngram"]


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
