"""Text: jieba-exact segmentation (compiled core or jieba itself),
characters, sacreBLEU's tokenizers, language detection.

Public: ``get_segmenter`` and ``backend_description`` (``text.segment``),
``make_tokenizer`` (``text.tokenize``), ``detect_language``
(``text.lang``).  Modules load on first use.
"""
from __future__ import annotations

from typing import Any

__all__ = ["get_segmenter", "backend_description", "make_tokenizer", "detect_language"]

_LAZY = {
    "get_segmenter": "judgekit.text.segment",
    "backend_description": "judgekit.text.segment",
    "make_tokenizer": "judgekit.text.tokenize",
    "detect_language": "judgekit.text.lang",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'judgekit.text' has no attribute {name!r}")
