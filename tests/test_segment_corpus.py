"""Token-for-token equality of the compiled segmenter with ``jieba.cut`` on
the released SmileChat data: all 40,000 texts of the pairs (pred and ref) and
every turn of the 2,000 dialogues, in both HMM modes.  A 1-in-20 sample runs
in the default suite; the whole corpus is marked slow (jieba itself needs
about 15 s per pass)."""
from __future__ import annotations

import gzip
import json
import logging
from functools import lru_cache

import pytest

import jieba
import jieba.finalseg

from tests.conftest import require_data

jieba.setLogLevel(logging.WARNING)

try:
    from judgekit import _cjieba as CJIEBA  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - pure-Python install
    CJIEBA = None

pytestmark = pytest.mark.skipif(CJIEBA is None, reason="compiled extension judgekit._cjieba is not built")


@lru_cache(maxsize=None)
def _texts(name: str) -> tuple[str, ...]:
    path = require_data("smilechat-zh", name)
    out: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if name == "pairs.jsonl.gz":
                out += [row["pred"], row["ref"]]
            else:
                out += [t["content"] for t in row["turns"]]
    return tuple(out)


@lru_cache(maxsize=None)
def _native():
    from judgekit.text._cjieba_load import build_native

    return build_native(CJIEBA)


def _assert_equal(texts, hmm, tok=None, native=None):
    native = native or _native()
    tok = tok or jieba.dt
    got = native.cut_many(list(texts), hmm)
    bad = [i for i, t in enumerate(texts) if got[i] != list(tok.cut(t, HMM=hmm))]
    assert not bad, f"{len(bad)} of {len(texts)} texts differ, first at index {bad[0]}: {texts[bad[0]][:80]!r}"


def test_corpus_sizes():
    assert len(_texts("pairs.jsonl.gz")) == 40_000
    assert len(_texts("dialogues.jsonl.gz")) > 2_000


@pytest.mark.parametrize("name", ["pairs.jsonl.gz", "dialogues.jsonl.gz"])
@pytest.mark.parametrize("hmm", [True, False])
def test_sample_equals_jieba(name, hmm):
    _assert_equal(_texts(name)[::20], hmm)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["pairs.jsonl.gz", "dialogues.jsonl.gz"])
@pytest.mark.parametrize("hmm", [True, False])
def test_whole_corpus_equals_jieba(name, hmm):
    _assert_equal(_texts(name), hmm)


# our own words, chosen to overlap what counsellors write
USER_WORDS = """情绪价值 20
原生家庭 30 n
内耗
躺平 0
共情能力
心理咨询师 5
自我关怀
不开心
"""


def test_sample_with_user_dictionary_equals_jieba(tmp_path):
    from judgekit.text._cjieba_load import build_native

    saved = set(jieba.finalseg.Force_Split_Words)
    try:
        path = tmp_path / "user.dict"
        path.write_text(USER_WORDS, encoding="utf-8")
        tok = jieba.Tokenizer()
        tok.tmp_dir = str(tmp_path)
        tok.load_userdict(str(path))
        native = build_native(CJIEBA, (str(path),))
        texts = _texts("pairs.jsonl.gz")[1::40] + _texts("dialogues.jsonl.gz")[::60]
        for hmm in (True, False):
            _assert_equal(texts, hmm, tok=tok, native=native)
    finally:
        jieba.finalseg.Force_Split_Words.clear()
        jieba.finalseg.Force_Split_Words.update(saved)
