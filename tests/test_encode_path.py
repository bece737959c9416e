"""The id path of the default suite: the compiled segmenter hands token ids
straight to the kernels (``encode_many`` -> ``from_ids``), in threads.

Every test compares it with the token-list path it replaces (``cut_many``,
``encode``) or with jieba itself, and the threaded runs with one thread."""
from __future__ import annotations

import gzip
import json
import re

import jieba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import judgekit
from judgekit import api
from judgekit.ngram import _stats as S
from judgekit.text.lang import _HAN, _LATIN_WORD, detect_language, han_and_words
from judgekit.text.segment import get_segmenter
from tests.conftest import require_data
from tests.test_kernels import same_bleu_stats, same_distinct, same_rouge_stats
from tests.test_segment_native import TEXTS

try:
    from judgekit import _ckernels as CK  # type: ignore[attr-defined]
    from judgekit import _cjieba  # type: ignore[attr-defined]  # noqa: F401
except ImportError:  # pragma: no cover - pure-Python install
    CK = None

needs_native = pytest.mark.skipif(CK is None, reason="the compiled extensions are not built")


@pytest.fixture(scope="module")
def seg():
    if CK is None:
        pytest.skip("the compiled extensions are not built")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(S.NO_NATIVE_ENV, raising=False)
        s = get_segmenter()
        if s.backend != "c":
            pytest.skip("the compiled segmenter is not in use")
        yield s


def decode(ids) -> list[list[str]]:
    tok, off, vocab = ids
    t = np.frombuffer(tok, dtype=np.uint32)
    o = np.frombuffer(off, dtype=np.int64)
    return [[vocab[k - 1] for k in t[o[i]:o[i + 1]]] for i in range(len(o) - 1)]


def expected(toks: list[list[str]], drop: bool) -> list[list[str]]:
    return [[t for t in ts if not t.isspace()] for ts in toks] if drop else toks


@pytest.fixture(scope="module")
def smilechat():
    with gzip.open(require_data("smilechat-zh", "pairs.jsonl.gz"), "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r["pred"] for r in rows], [r["ref"] for r in rows]


# ---------------------------------------------------------------------------
# encode_many = cut_many, whatever the threads
# ---------------------------------------------------------------------------
def test_encode_many_equals_cut_many_on_smilechat(seg, smilechat):
    preds, refs = smilechat
    texts = preds + refs
    toks = seg.cut_many(texts)
    first = None
    for drop in (True, False):
        want = expected(toks, drop)
        for threads in (1, 2, 3):
            ids = seg.encode_many(texts, drop_space=drop, threads=threads)
            assert decode(ids) == want
            if drop:
                first = first or ids
                assert ids == first  # ids in order of first occurrence: the same for any number of threads
    assert len(set(first[2])) == len(first[2])  # one id per distinct token


@needs_native
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXTS, max_size=12), dups=st.lists(st.integers(0, 11), max_size=6),
       threads=st.integers(1, 4), drop=st.booleans(), hmm=st.booleans())
def test_encode_many_equals_jieba_hypothesis(seg, texts, dups, threads, drop, hmm):
    texts = texts + [texts[d] for d in dups if d < len(texts)]  # repeated texts are segmented once
    native = seg._native
    ids = native.encode_many(texts, hmm, drop, threads)
    assert decode(ids) == expected([jieba.lcut(t, HMM=hmm) for t in texts], drop)
    assert ids == native.encode_many(texts, hmm, drop, 1)


def test_encode_many_long_texts_many_threads(seg, smilechat):
    # shares of many texts and texts longer than a share
    preds, _ = smilechat
    texts = ["".join(preds[i:i + 50]) for i in range(0, 2000, 50)] + preds[:300]
    want = expected(seg.cut_many(texts), True)
    for threads in (1, 2, 7):
        assert decode(seg.encode_many(texts, threads=threads)) == want


def test_encode_many_progress_and_errors(seg, smilechat):
    preds, _ = smilechat
    seen: list[int] = []
    ids = seg.encode_many(preds, threads=2, progress=seen.append)
    assert seen and seen[-1] == len(preds) and seen == sorted(seen)
    assert ids == seg.encode_many(preds)

    def boom(done):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seg.encode_many(preds * 3, threads=2, progress=boom)
    with pytest.raises(TypeError, match="item 2 is int"):
        seg.encode_many(["好", "的", 3])
    with pytest.raises(TypeError, match="callable"):
        seg.encode_many(["好"], progress=3)
    assert seg.encode_many([]) == (b"", np.zeros(1, dtype=np.int64).tobytes(), [])


_PRIVATE = []


def _private_native():
    """A compiled segmenter of its own (its own cache), loaded once."""
    from judgekit.text import _cjieba_load as load

    if not _PRIVATE:
        _PRIVATE.append(load.build_native(_cjieba))
    return _PRIVATE[0]


def test_span_cache_across_calls(seg, smilechat):
    from judgekit.text import _cjieba_load as load
    from judgekit.text.segment import clear_caches

    preds, refs = smilechat
    native = load.build_native(_cjieba)  # a fresh one: no limit set, add_word below
    assert native.cache_info() == (0, 0, 0)
    texts = refs[:500] + ["a" * 300 + "好", "", "  \n"]  # a token over 255 characters is not kept
    want = native.encode_many(texts)
    assert native.cache_info()[0] == 0  # no limit: nothing kept
    native.set_cache_limit(10_000)
    assert native.encode_many(texts) == want
    kept, tokens, limit = native.cache_info()
    assert 0 < kept < len(texts) and tokens <= limit == 10_000  # first come, first kept, until full
    for threads in (1, 2):
        assert native.encode_many(texts, threads=threads) == want  # from the cache where kept
        assert native.encode_many(texts, False, threads=threads) == native.encode_many(texts, False, threads=3)
    assert decode(native.encode_many(texts, True, False)) == [jieba.lcut(t) for t in texts]
    # the HMM flag is part of the key
    odd = ["他来到了网易杭研大厦", "小明硕士毕业于中国科学院计算所"] * 2
    for hmm in (True, False, True):
        assert decode(native.encode_many(odd, hmm)) == [jieba.lcut(t, HMM=hmm) for t in odd]
    # a new word changes the cuts: the cache is dropped
    native.set_cache_limit(1_000_000)
    native.encode_many(["杭研大厦很高"])
    assert native.cache_info()[0] > 0
    native.add_word("杭研大厦很高", 100000)
    assert native.cache_info()[0] == 0
    assert decode(native.encode_many(["杭研大厦很高"])) == [["杭研大厦很高"]]
    native.clear_cache()
    assert native.cache_info() == (0, 0, 1_000_000)
    with pytest.raises(ValueError):
        native.set_cache_limit(-1)
    # the shared segmenter's cache is dropped with the token cache
    seg.encode_many(refs[:50])
    assert seg._native.cache_info()[0] > 0
    clear_caches()
    assert seg._native.cache_info()[0] == 0


@needs_native
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(TEXTS, max_size=8), second=st.lists(TEXTS, max_size=8), hmm=st.booleans())
def test_span_cache_hypothesis(first, second, hmm):
    native = _private_native()
    native.clear_cache()
    native.set_cache_limit(200)
    native.encode_many(first, hmm)
    texts = second + first
    assert decode(native.encode_many(texts, hmm, False)) == [jieba.lcut(t, HMM=hmm) for t in texts]


# ---------------------------------------------------------------------------
# from_ids and item ranges in the kernels
# ---------------------------------------------------------------------------
@needs_native
def test_from_ids_checks_its_input():
    tok = np.array([1, 2, 1], dtype=np.uint32).tobytes()
    off = np.array([0, 2, 3], dtype=np.int64).tobytes()
    CK.from_ids(tok, off, ["a", "b"], 1, np.array([1, 2], dtype=np.int64))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        CK.from_ids(tok, off, ["a"], 1)
    with pytest.raises(ValueError, match="do not cover"):
        CK.from_ids(tok, np.array([0, 2, 2], dtype=np.int64).tobytes(), ["a", "b"], 1)
    with pytest.raises(ValueError, match="decrease"):
        CK.from_ids(tok, np.array([0, 3, 2, 3], dtype=np.int64).tobytes(), ["a", "b"], 1)
    with pytest.raises(ValueError, match="ref_start"):
        CK.from_ids(tok, off, ["a", "b"], 1, np.array([0, 2], dtype=np.int64))
    with pytest.raises(TypeError):
        CK.from_ids(bytearray(tok), off, ["a", "b"], 1)
    with pytest.raises(TypeError, match="str"):
        CK.from_ids(tok, off, ["a", 2], 1)


def encoded_corpus(seg, preds, refs):
    """(Encoded, token lists of the hypotheses, of the references)."""
    n = len(preds)
    flat = [r for rs in refs for r in rs]
    enc = S.encoded(seg.encode_many(preds + flat), n, [len(rs) for rs in refs])
    toks = expected(seg.cut_many(preds + flat), True)
    hyps, k, ref_toks = toks[:n], n, []
    for rs in refs:
        ref_toks.append(toks[k:k + len(rs)])
        k += len(rs)
    return enc, hyps, ref_toks


def test_encoded_stats_equal_token_list_stats(seg, smilechat):
    preds, refs = smilechat
    preds, refs = preds[:4000], [[r] for r in refs[:4000]]
    refs[5] = refs[5] + [preds[7], refs[9][0]]  # several references for some items
    refs[11] = refs[11] + [""]
    enc, hyps, ref_toks = encoded_corpus(seg, preds, refs)
    same_bleu_stats(S.bleu_stats(enc), S._bleu_stats_py(hyps, ref_toks, 4))
    same_rouge_stats(S.rouge_stats(enc), S._rouge_stats_py(hyps, ref_toks, (1, 2), True))
    same_distinct(S.distinct_counts(enc, (1, 2, 3, 4)), S._distinct_counts_py(hyps, (1, 2, 3, 4), False))
    same_distinct(S.distinct_counts(enc, (1, 2), with_sets=True), S._distinct_counts_py(hyps, (1, 2), True))
    for threads in (2, 3, 5):
        for corpus, rt in ((enc, None), (hyps, ref_toks)):
            for with_sets in (False, True):
                bs, rs, dc = S.corpus_stats(corpus, rt, with_sets=with_sets, threads=threads)
                same_bleu_stats(bs, S._bleu_stats_py(hyps, ref_toks, 4))
                same_rouge_stats(rs, S._rouge_stats_py(hyps, ref_toks, (1, 2), True))
                same_distinct(dc, S._distinct_counts_py(hyps, (1, 2), with_sets))
    bs, rs, dc = S.corpus_stats(enc, None, bleu=False, distinct=False, threads=2)
    assert bs is None and dc is None
    same_rouge_stats(rs, S._rouge_stats_py(hyps, ref_toks, (1, 2), True))


@needs_native
def test_kernel_item_ranges():
    hyps = [["a", "b", "c"], ["b"], [], ["c", "c", "a", "b"]]
    refs = [[["a", "b"]], [["b"], ["c", "b"]], [["a"]], [["c", "a", "b"]]]
    enc = CK.encode(hyps, refs)
    whole = S._bleu_stats_py(hyps, refs, 4)
    out = S._bleu_out(4, 4)
    for lo, hi in ((0, 1), (1, 3), (3, 4)):
        CK.bleu_stats(enc, 4, out.matches, out.totals, out.hyp_len, out.ref_len, lo, hi)
    same_bleu_stats(out, whole)
    parts = [CK.rouge_stats(enc, (1, 2), True, lo, hi) for lo, hi in ((0, 2), (2, 2), (2, 4))]
    same_rouge_stats(S._rouge_from(parts, (1, 2)), S._rouge_stats_py(hyps, refs, (1, 2), True))
    for bad in ((-1, 2), (3, 2), (0, 5)):
        with pytest.raises(ValueError, match="range"):
            CK.rouge_stats(enc, (1, 2), True, *bad)
        with pytest.raises(ValueError, match="range"):
            CK.bleu_stats(enc, 4, out.matches, out.totals, out.hyp_len, out.ref_len, *bad)


@needs_native
def test_encoded_needs_the_kernels_orders():
    enc = S.encoded((np.array([1], dtype=np.uint32).tobytes(), np.array([0, 1, 1], dtype=np.int64).tobytes(), ["a"]),
                    1, None)
    with pytest.raises(ValueError, match="compiled kernels"):
        S.bleu_stats(enc, max_order=5)
    with pytest.raises(ValueError, match="compiled kernels"):
        S.distinct_counts(enc, (5,))


# ---------------------------------------------------------------------------
# evaluate: the id path equals the token-list path, threads equal one thread
# ---------------------------------------------------------------------------
def _without_ids(monkeypatch):
    from judgekit.text.tokenize import JiebaTokenizer

    monkeypatch.setattr(JiebaTokenizer, "ids_many", lambda self, texts, threads=1: None)


@pytest.mark.parametrize("options", [{}, {"whitespace": "keep"}, {"normalize": "nfkc+lower"}, {"hmm": False},
                                     {"rouge_counting": "sets", "aggregate": "mean"}])
def test_evaluate_id_path_equals_token_path(seg, smilechat, monkeypatch, options):
    preds, refs = smilechat
    preds, refs = preds[:3000] + ["  ", "", "Ｈｅｌｌｏ  World 你好"], refs[:3000] + ["好", " \n", "hello world 你好"]
    fast = judgekit.evaluate(preds, refs, **options)
    threaded = judgekit.evaluate(preds, refs, n_jobs=2, **options)
    with monkeypatch.context() as mp:
        _without_ids(mp)
        slow = judgekit.evaluate(preds, refs, **options)
    for other in (threaded, slow):
        assert other.scores == fast.scores
        assert other.per_item.equals(fast.per_item)
        assert str(other.signature) == str(fast.signature)


def test_evaluate_multi_reference_id_path(seg, smilechat, monkeypatch):
    preds, refs = smilechat
    multi = [[refs[i], preds[i + 1]] if i % 3 == 0 else [refs[i]] for i in range(2000)]
    fast = judgekit.evaluate(preds[:2000], multi, n_jobs=2)
    with monkeypatch.context() as mp:
        _without_ids(mp)
        slow = judgekit.evaluate(preds[:2000], multi)
    assert fast.scores == slow.scores and fast.per_item.equals(slow.per_item)


def test_evaluate_file_threads_equal_one_thread(seg, tmp_path, smilechat):
    preds, refs = smilechat
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"pred": p, "ref": r}, ensure_ascii=False) + "\n"
                            for p, r in zip(preds[:3000], refs[:3000])), encoding="utf-8")
    one = judgekit.evaluate_file(str(path), chunk_size=700)
    two = judgekit.evaluate_file(str(path), chunk_size=700, n_jobs=2)
    whole = judgekit.evaluate(preds[:3000], refs[:3000])
    assert one.scores == two.scores == whole.scores
    assert (one.per_item.values == two.per_item.values).all()


# ---------------------------------------------------------------------------
# the Python-side fast paths
# ---------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from("abcXYZ éÜ×÷中文字\u3400\U00020001\n ")), max_size=80))
def test_han_and_words_equal_the_regexes(text):
    assert han_and_words(text) == (len(_HAN.findall(text)), len(_LATIN_WORD.findall(text)))


def test_detect_language_on_text_boundaries():
    # words do not run across texts
    assert detect_language(["中文", "ab", "cd", "ef"]) == "en"
    assert detect_language(["中文字", "ab", "cd"]) == "zh"
    assert detect_language([]) == "zh"


_WS = st.sampled_from(["", " ", "\t", "\u3000", "\x85", "\xa0", "a", "中", " x ", "\u200b"])


@settings(max_examples=300, deadline=None)
@given(p=st.lists(st.lists(_WS, max_size=3).map("".join), min_size=1, max_size=8),
       r=st.lists(st.lists(st.lists(_WS, max_size=3).map("".join), min_size=1, max_size=3), min_size=1, max_size=8))
def test_empty_flags_equal_strip(p, r):
    r = (r * len(p))[:len(p)]
    ep, er = api._empties(p, r)
    assert ep == [not x.strip() for x in p]
    assert er == [any(not y.strip() for y in rs) for rs in r]
    single = [rs[:1] for rs in r]
    assert api._empties(p, single)[1] == [not rs[0].strip() for rs in single]


def test_validate_fast_path_keeps_errors_naming_items():
    class S2(str):
        pass

    p, r, _ = api.validate(["a", S2("b")], ("x", "y"))
    assert p == ["a", "b"] and r == [["x"], ["y"]]
    with pytest.raises(api.InputError, match=re.escape("preds[1] is None")):
        api.validate(["a", None], ["x", "y"])
    with pytest.raises(api.InputError, match=re.escape("refs[0] is int")):
        api.validate(["a", "b"], [3, "y"])


@pytest.mark.parametrize("tokenizer", ["char", "zh"])
def test_other_tokenizers_use_worker_processes(smilechat, tokenizer):
    from judgekit.ngram._parallel import in_call_threads
    from judgekit.ngram.suite import Suite

    preds, refs = smilechat
    suite = Suite(lang="zh", tokenizer=tokenizer, tokenizer_options={})
    assert not suite.id_path and not in_call_threads(suite)
    one = judgekit.evaluate(preds[:1500], refs[:1500], tokenizer=tokenizer)
    two = judgekit.evaluate(preds[:1500], refs[:1500], tokenizer=tokenizer, n_jobs=2)
    assert one.scores == two.scores and one.per_item.equals(two.per_item)


@needs_native
def test_distinct_hash_parts_add_up():
    hyps = [["a", "b", "a", "b", "c"], ["b", "c"], [], ["c", "a", "b", "d", "a"]]
    enc = CK.encode(hyps, None)
    for order in (1, 2, 3, 4):
        whole = S._distinct_counts_py(hyps, (order,), True)[order]
        for nparts in (1, 2, 3, 7):
            parts = [CK.distinct_counts(enc, (order,), True, k, nparts)[0] for k in range(nparts)]
            sets = [p[0] for p in parts]
            assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])  # disjoint
            got = S._distinct_parts([(set(p[0]),) + tuple(p[1:]) for p in parts])
            assert got[0] == whole[0] and got[1] == whole[1]
            assert np.array_equal(got[2], whole[2]) and np.array_equal(got[3], whole[3])
    for bad in ((2, 2), (-1, 2), (0, 0)):
        with pytest.raises(ValueError, match="part"):
            CK.distinct_counts(enc, (2,), False, *bad)
