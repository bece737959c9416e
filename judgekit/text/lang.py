"""Language detection per corpus: Chinese or not.

Decided once per corpus, not per item, so that every item of a corpus is
tokenized the same way.
"""
from __future__ import annotations

import re
from typing import Iterable

# CJK Unified Ideographs, Extension A, Compatibility Ideographs, Extensions B-F.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


SAMPLE_CHARS = 200_000


def detect_language(texts: Iterable[str], sample_chars: int = SAMPLE_CHARS) -> str:
    """'zh' when Han characters are at least as many as Latin words, else 'en'.

    A Chinese reply with a few English words stays 'zh'; an English corpus
    quoting a Chinese name stays 'en'.  An empty corpus or one with neither
    (digits, punctuation, emoji only) is 'zh', whose word segmentation also
    handles such text sensibly.  Decided on the texts up to the first
    ``sample_chars`` characters (in order), so that it costs nothing next
    to scoring a large corpus.
    """
    han = 0
    words = 0
    seen = 0
    for t in texts:
        han += len(_HAN.findall(t))
        words += len(_LATIN_WORD.findall(t))
        seen += len(t)
        if seen >= sample_chars:
            break
    return "zh" if han >= words else "en"
