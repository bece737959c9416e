"""Defects a new-user walkthrough of the evaluate options found (each test
failed before its fix): smoothing values the peers crash on, the NaN-mean
message, split_summaries without nltk's data, the Chinese traps of
``evaluate_file`` and the whitespace presets, presets that ignored
conflicting options, ``compute_metrics`` checked only after an epoch,
``bleu_stats`` of a preset, the ``bleu-5`` hint, the CLI's help and
``--normalize``, and the per-item files' ids and extensions.  Real text:
examples/smilechat-100.jsonl (SmileChat pairs, in the repository)."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

import judgekit
from judgekit.cli import main
from judgekit.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
F = ROOT / "examples" / "smilechat-100.jsonl"
ROWS = [json.loads(line) for line in F.read_text(encoding="utf-8").splitlines()]
PREDS = [r["pred"] for r in ROWS]
REFS = [r["ref"] for r in ROWS]


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["evaluate", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _refused(capsys, *argv) -> str:
    """The CLI refuses: exit 2, one line on stderr, no traceback."""
    code, _out, err = _cli(capsys, *argv)
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# -- 1, 2: smoothing values ---------------------------------------------------
BAD_VALUES = ["method4:0", "method7:0", "method6:0", "method1:0", "floor:0", "add-k:0",
              "floor:-1", "add-k:-1", "method4:-2", "method6:-0.5", "method1:-0.1"]


@pytest.mark.parametrize("spec", BAD_VALUES)
def test_a_smoothing_value_of_0_or_less_is_refused_naming_it(spec, capsys):
    with pytest.raises(InputError, match=rf"smoothing '{spec}'.*greater than 0"):
        judgekit.evaluate(PREDS[:5], REFS[:5], smoothing=spec)
    err = _refused(capsys, F, "--smoothing", spec)
    assert spec in err and "greater than 0" in err


@pytest.mark.parametrize("spec", ["floor:-1", "add-k:-1", "method4:0"])
def test_with_aggregate_mean_the_value_is_refused_not_called_method6(spec, capsys):
    err = _refused(capsys, F, "--smoothing", spec, "--aggregate", "mean")
    assert spec in err and "method6" not in err


def test_the_bleu_class_refuses_the_value_too():
    from judgekit.ngram.bleu import BLEU

    with pytest.raises(InputError, match="floor"):
        BLEU(smoothing="floor", smooth_value=-1)
    with pytest.raises(InputError, match="k must be greater than 0"):
        BLEU(smoothing="method4", smooth_value=0)


def test_the_peers_crash_or_give_nan_on_these_values():
    """Why they are refused: the peers themselves fail on them."""
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    sacrebleu = pytest.importorskip("sacrebleu")
    hyp, ref = "the cat sat on a mat".split(), "the cat is on the mat".split()
    with pytest.raises(ZeroDivisionError):
        nltk_bleu.sentence_bleu([ref], hyp, smoothing_function=nltk_bleu.SmoothingFunction(k=0).method4)
    with pytest.raises(ValueError, match="math domain"):
        sacrebleu.BLEU.compute_bleu([3, 1, 0, 0], [6, 5, 4, 3], 6, 6, smooth_method="floor", smooth_value=-1)


@pytest.mark.parametrize("spec", ["floor:0.5", "add-k:2", "method1:0.2", "method4:3", "method6:2", "method7:0.5"])
def test_positive_values_still_score(spec):
    r = judgekit.evaluate(PREDS[:20], REFS[:20], smoothing=spec)
    assert all(math.isfinite(v) for v in r.scores.values())


def test_the_undefined_mean_names_the_smoothing_used():
    from judgekit.ngram.bleu import check_defined

    with pytest.raises(InputError) as exc:
        check_defined({"bleu-4": np.array([0.5, math.nan])}, "floor")
    assert "smoothing floor" in str(exc.value) and "method6" not in str(exc.value)
    with pytest.raises(InputError, match="smoothing method6 .*trigram"):
        check_defined({"bleu-4": np.array([math.nan])}, "method6")


# -- 3: split_summaries without nltk's punkt data -----------------------------
def _punkt_missing() -> bool:
    import nltk

    try:
        nltk.sent_tokenize("One. Two.")
    except LookupError:
        return True
    return False


@pytest.mark.parametrize("preset", [None, "rouge-score"])
def test_split_summaries_without_punkt_names_the_download(preset, capsys, monkeypatch):
    pytest.importorskip("nltk")
    if not _punkt_missing():
        pytest.skip("nltk's punkt data is installed here")
    from judgekit.ngram import engine

    ran = []
    monkeypatch.setattr(engine, "run_partials", lambda *a, **k: ran.append(1))
    with pytest.raises(InputError, match=r"python -m nltk.downloader punkt"):
        judgekit.evaluate(PREDS[:3], REFS[:3], preset=preset, metrics=["rouge-lsum"], split_summaries=True)
    assert not ran  # refused before any scoring
    argv = [F, "--metrics", "rouge-lsum", "--split-summaries"] + (["--preset", preset] if preset else [])
    assert "nltk.downloader punkt" in _refused(capsys, *argv)


# -- 4: the Chinese traps for files ---------------------------------------------
def test_evaluate_file_warns_as_evaluate_does():
    direct = judgekit.evaluate(PREDS, REFS, lang="en")
    assert direct.warnings and "lang='en'" in direct.warnings[0]
    assert judgekit.evaluate_file(str(F), lang="en").warnings == direct.warnings
    # in chunks: found on the first chunk (its counts are that chunk's)
    streamed = judgekit.evaluate_file(str(F), lang="en", chunk_size=30)
    assert len(streamed.warnings) == 1 and "lang='en' does not segment Chinese" in streamed.warnings[0]
    with pytest.raises(InputError, match="strict: .*lang='en'"):
        judgekit.evaluate_file(str(F), lang="en", strict=True)


def test_the_cli_json_carries_the_warning(capsys):
    code, out, err = _cli(capsys, F, "--lang", "en", "--format", "json")
    assert code == 0
    assert any("does not segment Chinese" in w for w in json.loads(out)["warnings"])
    assert "warning" in err


# -- 6: whitespace presets on unsegmented Chinese --------------------------------
@pytest.mark.parametrize("preset, tokenizer", [("pltrdy-rouge", None), ("rouge-chinese", "whitespace"),
                                               ("pltrdy-rouge", "whitespace")])
def test_whitespace_presets_warn_on_unsegmented_chinese(preset, tokenizer):
    r = judgekit.evaluate(PREDS, REFS, preset=preset, tokenizer=tokenizer)
    assert any("tokenizer='jieba'" in w and preset in w for w in r.warnings), r.warnings
    assert r.scores["rouge-1"] < 0.05  # the trap it warns of
    with pytest.raises(InputError, match="strict: .*not split into words"):
        judgekit.evaluate(PREDS, REFS, preset=preset, tokenizer=tokenizer, strict=True)
    f = judgekit.evaluate_file(str(F), preset=preset, tokenizer=tokenizer)
    assert f.warnings == r.warnings


@pytest.mark.parametrize("preset", ["pltrdy-rouge", "rouge-chinese"])
def test_segmented_chinese_or_jieba_is_not_warned_about(preset):
    import jieba

    seg_p = [" ".join(jieba.cut(t)) for t in PREDS]
    seg_r = [" ".join(jieba.cut(t)) for t in REFS]
    r = judgekit.evaluate(seg_p, seg_r, preset=preset, tokenizer="whitespace")
    assert r.warnings == [] and r.scores["rouge-1"] > 0.1
    assert judgekit.evaluate(PREDS, REFS, preset=preset, tokenizer="jieba").warnings == []


# -- 5: presets refuse what they have no choice for -------------------------------
@pytest.mark.parametrize("argv, named", [
    (["--preset", "llamafactory", "--tokenizer", "char"], "tokenizer"),
    (["--preset", "llamafactory", "--tokenizer", "13a"], "tokenizer"),
    (["--preset", "chatglm", "--aggregate", "corpus"], "aggregate"),
    (["--preset", "glm4", "--aggregate", "corpus"], "aggregate"),
    (["--preset", "chatglm", "--rouge-counting", "counts"], "rouge_counting"),
    (["--preset", "rouge-chinese", "--rouge-counting", "counts"], "rouge_counting"),
    (["--preset", "chatglm", "--lang", "en"], "lang='en'"),
    (["--preset", "glm4", "--lang", "en"], "lang='en'"),
    (["--preset", "sacrebleu", "--normalize", "none"], "normalize"),
])
def test_presets_refuse_conflicting_options(argv, named, capsys):
    err = _refused(capsys, F, *argv)
    assert named in err and argv[1] in err


def test_presets_refuse_them_in_python_too():
    with pytest.raises(InputError, match="aggregate"):
        judgekit.evaluate_file(str(F), preset="chatglm", aggregate="corpus")
    with pytest.raises(InputError, match="no tokenizer choice"):
        judgekit.evaluate(PREDS[:3], REFS[:3], preset="chatglm", tokenizer="char")
    with pytest.raises(InputError, match="lang='en'"):
        judgekit.evaluate(PREDS[:3], REFS[:3], preset="llamafactory", lang="en")
    # what a preset does take still runs, with the same numbers
    a = judgekit.evaluate(PREDS, REFS, preset="chatglm", lang="zh")
    b = judgekit.evaluate(PREDS, REFS, preset="chatglm")
    assert a.scores == b.scores


# -- 7: compute_metrics checks its options at construction -------------------------
class _Tok:
    def batch_decode(self, rows, skip_special_tokens=True):
        return ["" for _ in rows]


@pytest.mark.parametrize("options, match", [
    ({"preset": "nosuch"}, "unknown preset 'nosuch'"),
    ({"smoothing": "floor:abc"}, "floor:abc"),
    ({"smoothing": "method4:0"}, "method4:0"),
    ({"bogus": 1}, "unknown option.*bogus"),
    ({"preset": "chatglm", "aggregate": "mean"}, "aggregate"),
])
def test_compute_metrics_refuses_bad_options_when_built(options, match):
    from judgekit.integrations.transformers import compute_metrics

    with pytest.raises(InputError, match=match):
        compute_metrics(_Tok(), **options)


def test_compute_metrics_good_options_build():
    from judgekit.integrations.transformers import compute_metrics

    for options in ({}, {"preset": "chatglm"}, {"smoothing": "method6", "aggregate": "mean"},
                    {"metrics": ["bleu-4", "rouge-l"], "lang": "zh"}):
        assert compute_metrics(_Tok(), **options) is not None


# -- 8: bleu_stats of a preset ----------------------------------------------------
@pytest.mark.parametrize("preset", ["chatglm", "llamafactory", "glm4"])
def test_bleu_stats_of_a_sentence_bleu_preset_says_why(preset):
    r = judgekit.evaluate(PREDS[:10], REFS[:10], preset=preset)
    assert "bleu-4" in r.scores
    with pytest.raises(InputError, match=r"sentence_bleu.*default suite and preset sacrebleu"):
        r.bleu_stats()
    assert judgekit.evaluate(PREDS[:10], REFS[:10], preset="sacrebleu").bleu_stats(corpus=True)["counts"]


# -- 9: the bleu-5 hint ------------------------------------------------------------
def test_bleu_5_without_the_order_hints_at_it(capsys):
    with pytest.raises(InputError, match=r"bleu-5 needs bleu_order=5, CLI --bleu-order 5"):
        judgekit.evaluate(PREDS[:3], REFS[:3], metrics=["bleu-5"])
    assert "--bleu-order 5" in _refused(capsys, F, "--metrics", "bleu-5-ind")
    assert "bleu-5" in judgekit.evaluate(PREDS[:3], REFS[:3], metrics=["bleu-5"], bleu_order=5).scores


# -- 10: help and --normalize ------------------------------------------------------
def _help(capsys) -> str:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_lists_every_tokenizer_and_explains_each_option(capsys):
    import re

    text = _help(capsys)
    start = text.index("--tokenize TOKENIZER")
    tok = text[start:text.index("--whitespace {drop,keep} jieba", start)]
    assert "rouge-chinese" in tok and "pltrdy-rouge" in tok and "whitespace" in tok
    for opt in ("--lang", "--scale", "--format", "--normalize"):
        # the option's line carries words after its choices (a help text)
        assert re.search(re.escape(opt) + r" \{[^}]*\}\s+\w+", text), opt


def test_normalize_on_the_cli_is_evaluates(capsys, tmp_path):
    from judgekit.text.tokenize import NORMALIZATIONS

    preds, refs = ["The Cat SAT on the mat"] * 3, ["the cat sat on the mat"] * 3
    pairs = tmp_path / "p.jsonl"
    pairs.write_text("".join(json.dumps({"pred": a, "ref": b}) + "\n" for a, b in zip(preds, refs)), encoding="utf-8")
    for norm in NORMALIZATIONS:
        code, out, err = _cli(capsys, pairs, "--lang", "en", "--normalize", norm, "--format", "json")
        assert code == 0, err
        assert json.loads(out)["scores"] == judgekit.evaluate(preds, refs, lang="en", normalize=norm).scores
    assert json.loads(out)["scores"]["bleu-4"] == pytest.approx(100.0)  # nfkc+lower: identical texts


# -- 11: per-item files ------------------------------------------------------------
def test_per_item_rows_carry_the_id(capsys, tmp_path):
    jl, cs = tmp_path / "s.jsonl", tmp_path / "s.csv"
    assert _cli(capsys, F, "--per-item", jl)[0] == 0
    assert _cli(capsys, F, "--per-item", cs)[0] == 0
    rows = [json.loads(line) for line in jl.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in ROWS]
    with open(cs, encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0][0] == "id" and [t[0] for t in table[1:]] == [r["id"] for r in ROWS]
    assert table[0][1:] == list(rows[0])[1:]  # the same columns in both


@pytest.mark.parametrize("name", ["x.parquet", "x.json", "x"])
def test_an_unknown_per_item_extension_is_refused_before_scoring(name, capsys, tmp_path):
    target = tmp_path / name
    err = _refused(capsys, F, "--per-item", target)
    assert ".csv or .jsonl" in err and name in err
    assert not target.exists()
    # before reading anything: even a missing input gets this error first
    with pytest.raises(InputError, match=r"\.csv or \.jsonl"):
        judgekit.evaluate_file(str(tmp_path / "missing.jsonl"), per_item_path=str(target))
