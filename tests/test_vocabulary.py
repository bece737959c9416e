"""One vocabulary across namespaces (issue 11): every knob has one name, and
each old name still works, warns a DeprecationWarning naming the new one,
gives the same numbers, and is an error together with the new name.

    concept                          name             old names (deprecated)
    bootstrap resamples              n_bootstrap      n_boot (human), n_samples (significance)
    approximate-randomization trials n_randomization  n_samples (paired_randomization)
    confidence level of an interval  confidence       ci (human)
    language of text                 lang             language (judge)
    several values into one          aggregate        aggregation (evaluate)
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from judgekit.errors import InputError
from judgekit.human import agreement, calibrate, human_ceiling, panel_agreement
from judgekit.human.ceiling import ceiling_summary
from judgekit.judge import Judge, load_rubric, system_message
from judgekit.judge.render import render_messages
from judgekit.report.significance import bootstrap_ci, paired_bootstrap, paired_randomization

IDS = [f"i{k:03d}" for k in range(30)]


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    h = rng.integers(1, 6, len(IDS)).astype(float)
    j = np.clip(h + rng.integers(-1, 2, len(IDS)), 1, 5)
    return pd.Series(j, index=IDS, name="judge"), pd.Series(h, index=IDS, name="human")


def _table(seed=1):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, len(IDS))
    rows = []
    for r, kind in (("e1", "expert"), ("e2", "expert"), ("e3", "expert"), ("j1", "llm")):
        v = np.clip(truth + rng.integers(-1, 2, len(IDS)), 1, 5)
        rows += [{"item": i, "framework": "f", "dimension": "d", "rater": r, "rater_kind": kind, "score": float(x),
                  "scale_min": 1.0, "scale_max": 5.0} for i, x in zip(IDS, v)]
    return pd.DataFrame(rows)


def _old(fn, *args, old: dict, new_names: list[str], **kwargs):
    """Call with the old names: one DeprecationWarning per old name, each naming its new name."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **old, **kwargs)
    dep = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(dep) == len(old), dep
    for o, n in zip(old, new_names):
        assert any(f"{o}=" in m and f"{n}=" in m for m in dep), (o, n, dep)
    return out


def _figures(report):
    return [(f.name, f.estimate, f.ci_low, f.ci_high) for f in report.figures]


# --------------------------------------------------------- significance

@pytest.fixture(scope="module")
def two_systems():
    rng = np.random.default_rng(3)
    x = rng.random(25).tolist()
    return {"m": x}, {"m": [v + 0.05 for v in x]}


@pytest.mark.parametrize("fn, new", [(paired_bootstrap, "n_bootstrap"), (paired_randomization, "n_randomization")])
def test_paired_tests_n_samples(two_systems, fn, new):
    a, b = two_systems
    want = fn(a, b, **{new: 150}, seed=7)
    got = _old(fn, a, b, old={"n_samples": 150}, new_names=[new], seed=7)
    assert got == want and got["m"].n_samples == 150
    with pytest.raises(InputError, match=f"{new}="):
        fn(a, b, n_samples=150, **{new: 150})


def test_bootstrap_ci_n_samples(two_systems):
    a, _ = two_systems
    want = bootstrap_ci(a, n_bootstrap=120, seed=5, confidence=0.9)
    assert _old(bootstrap_ci, a, old={"n_samples": 120}, new_names=["n_bootstrap"], seed=5, confidence=0.9) == want
    with pytest.raises(InputError, match="n_bootstrap="):
        bootstrap_ci(a, n_samples=120, n_bootstrap=120)


# ---------------------------------------------------------------- human

OLD_HUMAN = {"n_boot": 80, "ci": 0.9}
NEW_HUMAN = {"n_bootstrap": 80, "confidence": 0.9}


def test_agreement_old_names():
    j, h = _pair()
    want = agreement(j, h, scale=(1, 5), seed=2, **NEW_HUMAN)
    got = _old(agreement, j, h, old=OLD_HUMAN, new_names=["n_bootstrap", "confidence"], scale=(1, 5), seed=2)
    assert _figures(got) == _figures(want)
    assert got.settings == want.settings and got.settings["n_boot"] == 80 and got.settings["ci"] == 0.9


def test_panel_and_ceiling_old_names():
    t = _table()
    want = panel_agreement(t, "expert", **NEW_HUMAN)
    got = _old(panel_agreement, t, "expert", old=OLD_HUMAN, new_names=["n_bootstrap", "confidence"])
    assert _figures(got) == _figures(want)
    want_c = human_ceiling(t, judges="llm", humans="expert", **NEW_HUMAN)
    got_c = _old(human_ceiling, t, judges="llm", humans="expert", old=OLD_HUMAN, new_names=["n_bootstrap", "confidence"])
    assert got_c.to_json() == want_c.to_json()
    want_s = ceiling_summary(t, **NEW_HUMAN)
    got_s = _old(ceiling_summary, t, old=OLD_HUMAN, new_names=["n_bootstrap", "confidence"])
    assert got_s.to_frame().equals(want_s.to_frame())


def test_calibrate_old_names():
    j, h = _pair(4)
    want = calibrate(j, h, "isotonic", k=3, scale=(1, 5), systems=pd.Series(["s"] * len(IDS), index=IDS), **NEW_HUMAN)
    got = _old(calibrate, j, h, "isotonic", k=3, scale=(1, 5), systems=pd.Series(["s"] * len(IDS), index=IDS),
               old=OLD_HUMAN, new_names=["n_bootstrap", "confidence"])
    assert got.to_json() == want.to_json()


@pytest.mark.parametrize("fn, args", [
    (agreement, lambda: _pair()), (panel_agreement, lambda: (_table(), "expert")),
    (human_ceiling, lambda: (_table(),)), (ceiling_summary, lambda: (_table(),)),
    (calibrate, lambda: _pair()),
])
@pytest.mark.parametrize("old, new", [("n_boot", "n_bootstrap"), ("ci", "confidence")])
def test_human_old_and_new_together_is_an_error(fn, args, old, new):
    value = 10 if new == "n_bootstrap" else 0.9
    with pytest.raises(InputError, match=f"give {new}= only"):
        fn(*args(), **{old: value, new: value})


# ---------------------------------------------------------------- judge

def test_judge_language_field():
    with pytest.warns(DeprecationWarning, match="lang="):
        j = Judge(model="m", language="zh")
    assert j.lang == "zh" and j.language is None
    assert j == Judge(model="m", lang="zh")
    assert str(j.signature()) == str(Judge(model="m", lang="zh").signature())
    with pytest.raises(InputError, match="give lang= only"):
        Judge(model="m", lang="zh", language="zh")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert Judge(model="m", lang="en").lang == "en"


def test_judge_function_language():
    from judgekit.judge import judge

    with pytest.warns(DeprecationWarning, match="lang="), pytest.raises(InputError, match="model is required"):
        judge([{"context": "c", "response": "r"}], language="en")
    with pytest.raises(InputError, match="give lang= only"):
        judge([{"context": "c", "response": "r"}], language="en", lang="en")


def test_render_and_rubric_language():
    soul = load_rubric("soulchat-cehs")
    item = {"dialogue": ["我很难过。"], "response": "听起来很辛苦。"}
    want = render_messages(soul, item, lang="zh")
    assert _old(render_messages, soul, item, old={"language": "zh"}, new_names=["lang"]) == want
    assert _old(system_message, soul, old={"language": "zh"}, new_names=["lang"]) == system_message(soul, lang="zh")
    assert _old(soul.describe, old={"language": "zh"}, new_names=["lang"]) == soul.describe(lang="zh")
    sig = Judge(model="m", rubric=soul).signature
    assert str(_old(sig, old={"language": "zh"}, new_names=["lang"])) == str(sig(lang="zh"))
    with pytest.raises(InputError, match="give lang= only"):
        render_messages(soul, item, language="zh", lang="zh")


# ------------------------------------------------------------------ CLI

@pytest.mark.parametrize("argv, dest, value", [
    (["agreement", "--table", "t.csv", "--n-boot", "7"], "n_bootstrap", 7),
    (["agreement", "--table", "t.csv", "--n-bootstrap", "7"], "n_bootstrap", 7),
    (["agreement", "--table", "t.csv", "--ci", "0.9"], "confidence", 0.9),
    (["agreement", "--table", "t.csv", "--confidence", "0.9"], "confidence", 0.9),
    (["calibrate", "--n-boot", "7"], "n_bootstrap", 7),
    (["calibrate", "--n-bootstrap", "7"], "n_bootstrap", 7),
    (["calibrate", "--confidence", "0.9"], "confidence", 0.9),
    (["leaderboard", "--bootstrap", "7"], "n_bootstrap", 7),
    (["leaderboard", "--n-bootstrap", "7"], "n_bootstrap", 7),
    (["leaderboard", "--randomization", "7"], "n_randomization", 7),
    (["leaderboard", "--n-randomization", "7"], "n_randomization", 7),
    (["judge", "--language", "zh"], "lang", "zh"),
    (["judge", "--lang", "zh"], "lang", "zh"),
    (["rubrics", "show", "empathy-3pt", "--language", "zh"], "lang", "zh"),
    (["rubrics", "show", "empathy-3pt", "--lang", "zh"], "lang", "zh"),
    (["evaluate", "--aggregation", "mean"], "aggregate", "mean"),
])
def test_cli_flags_and_their_old_spellings(argv, dest, value):
    from judgekit.cli import build_parser

    assert getattr(build_parser().parse_args(argv), dest) == value
