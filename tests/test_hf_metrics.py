"""The Hugging Face ``evaluate`` modules in ``metrics/``: loaded from their
folders with the network off (HF_HUB_OFFLINE, HF_EVALUATE_OFFLINE,
HF_DATASETS_OFFLINE, and no proxy-reachable host), in a fresh process with
an empty HF cache, and compared with ``judgekit.evaluate`` / the judge."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import judgekit

pytest.importorskip("evaluate", reason="the optional `evaluate` extra is not installed (pip install 'judgekit-empathy[evaluate]')")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "smilechat-100.jsonl"

_RUNNER = r"""
import json, sys, socket
# no network at all: any connection attempt fails loudly
def _refuse(*a, **k):
    raise OSError("network disabled in this test")
socket.create_connection = _refuse
_orig_connect = socket.socket.connect
def _connect(self, addr):
    if isinstance(addr, tuple) and addr[0] not in ("127.0.0.1", "localhost", "::1"):
        raise OSError(f"network disabled in this test: {addr}")
    return _orig_connect(self, addr)
socket.socket.connect = _connect
import evaluate
args = json.loads(sys.stdin.read())
module = evaluate.load(args["path"])
out = module.compute(**args["inputs"], **args.get("options", {}))
print(json.dumps({"out": out, "name": module.name}, ensure_ascii=False))
"""


def _load_and_compute(tmp_path: Path, name: str, inputs: dict, options: dict | None = None,
                      env: dict | None = None, path: str | None = None) -> dict:
    e = dict(os.environ)
    e.update({"HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
              "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT), "NO_PROXY": "*"})
    e.update(env or {})
    payload = json.dumps({"path": path or str(ROOT / "metrics" / name), "inputs": inputs, "options": options or {}},
                         ensure_ascii=False)
    proc = subprocess.run([sys.executable, "-c", _RUNNER], input=payload, capture_output=True, text=True, env=e,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pairs():
    rows = [json.loads(x) for x in EXAMPLE.read_text(encoding="utf-8").splitlines()][:50]
    return rows


def test_chinese_rouge_loads_offline_and_equals_judgekit(pairs, tmp_path):
    preds, refs = [r["pred"] for r in pairs], [r["ref"] for r in pairs]
    res = _load_and_compute(tmp_path, "judgekit_chinese_rouge", {"predictions": preds, "references": refs})
    direct = judgekit.evaluate(preds, refs, metrics=["rouge"])
    out = res["out"]
    for k, v in direct.scores.items():
        assert out[k] == v
    assert out["signature"] == str(direct.signature) and out["n_items"] == 50
    assert out["rouge-l"] > 10  # Chinese is not scored 0 (evaluate's own `rouge` gives 0 here)
    # options pass through: a preset, several references per item
    res = _load_and_compute(tmp_path, "judgekit_chinese_rouge",
                            {"predictions": preds[:5], "references": [[r, r[:10]] for r in refs[:5]]},
                            {"scale": 1, "tokenizer": "char"})
    again = judgekit.evaluate(preds[:5], [[r, r[:10]] for r in refs[:5]], metrics=["rouge"], scale=1,
                              tokenizer="char")
    assert res["out"]["rouge-1"] == again.scores["rouge-1"] and "tok:char" in res["out"]["signature"]


def test_chinese_bleu_loads_offline_and_equals_judgekit(pairs, tmp_path):
    preds, refs = [r["pred"] for r in pairs], [r["ref"] for r in pairs]
    res = _load_and_compute(tmp_path, "judgekit_chinese_bleu", {"predictions": preds, "references": refs},
                            {"preset": "chatglm"})
    direct = judgekit.evaluate(preds, refs, preset="chatglm", metrics=["bleu-4"])
    assert res["out"]["bleu-4"] == direct.scores["bleu-4"]
    assert res["out"]["signature"].startswith("judgekit:") and "preset:chatglm" in res["out"]["signature"]


def test_bad_input_is_an_error_not_a_score(tmp_path):
    e = dict(os.environ, HF_HUB_OFFLINE="1", HF_EVALUATE_OFFLINE="1", HF_DATASETS_OFFLINE="1",
             HF_HOME=str(tmp_path / "hf"), PYTHONPATH=str(ROOT))
    payload = json.dumps({"path": str(ROOT / "metrics" / "judgekit_chinese_bleu"),
                          "inputs": {"predictions": ["你好", "  "], "references": ["你好", "再见"]},
                          "options": {"strict": True}})
    proc = subprocess.run([sys.executable, "-c", _RUNNER], input=payload, capture_output=True, text=True, env=e,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode != 0 and "InputError" in proc.stderr and "strict: 1 item(s)" in proc.stderr


def test_empathy_judge_module_live_then_replay(pairs, tmp_path):
    from tests._openai_server import OpenAIServer

    preds, ctx = [r["pred"] for r in pairs[:8]], [r["context"] for r in pairs[:8]]
    cache = tmp_path / "judge.sqlite"
    with OpenAIServer() as server:
        base_url = server.base_url
        server.add_rule(ctx[2][:10], "text", text="I'm sorry, I can't rate this.")
        live = _load_and_compute(tmp_path, "judgekit_empathy_judge", {"predictions": preds, "contexts": ctx},
                                 {"model": "m", "base_url": server.base_url, "cache": str(cache)},
                                 env={"OPENAI_API_KEY": "sk-hf-module-secret"})["out"]
        assert len(server.log) == 8
    assert live["n_scored"] == 7 and live["n_unscored"] == 1 and live["unscored_ids"] == ["2"]
    scored = [r["empathy"] for r in live["per_item"] if r["status"] == "scored"]
    assert live["empathy"] == pytest.approx(sum(scored) / len(scored))
    assert "sk-hf-module-secret" not in json.dumps(live)
    # the server is gone: replay-only answers from the cache (keyed on the
    # same base URL), no key needed
    replay = _load_and_compute(tmp_path, "judgekit_empathy_judge", {"predictions": preds, "contexts": ctx},
                               {"model": "m", "base_url": base_url, "cache": str(cache),
                                "replay_only": True}, env={"OPENAI_API_KEY": ""})["out"]
    assert replay["empathy"] == live["empathy"] and replay["per_item"] == live["per_item"]


def test_metric_path_in_a_checkout():
    """From a checkout (editable install) the helper points at metrics/."""
    from judgekit.errors import InputError
    from judgekit.hf import metric_names, metric_path

    assert metric_names() == ["judgekit_chinese_bleu", "judgekit_chinese_rouge", "judgekit_empathy_judge"]
    for name in metric_names():
        assert Path(metric_path(name)) == ROOT / "metrics" / name
    with pytest.raises(InputError, match="no judgekit evaluate module 'bleu'; available: judgekit_chinese_bleu"):
        metric_path("bleu")


def test_wheel_ships_the_modules_and_metric_path_finds_them(pairs, tmp_path):
    """setup.py's build_py copies metrics/<name>/<name>.py into the package
    as judgekit/_hf_metrics/<name>/<name>.py; with only the built package on
    the path (no checkout), metric_path points there and evaluate.load works
    offline, with the same numbers."""
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for folder in ("rubrics", "metrics"):
        shutil.copytree(ROOT / folder, src / folder)
    shutil.copytree(ROOT / "judgekit", src / "judgekit", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    build = tmp_path / "build"
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build)], cwd=src,
                          capture_output=True, text=True, env={"JUDGEKIT_PURE_PYTHON": "1", "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        pytest.skip(f"setup.py build_py unavailable here: {proc.stderr[-300:]}")
    shipped = build / "judgekit" / "_hf_metrics"
    names = sorted(p.name for p in shipped.iterdir())
    assert names == ["judgekit_chinese_bleu", "judgekit_chinese_rouge", "judgekit_empathy_judge"]
    for name in names:  # byte for byte the repository's module
        assert (shipped / name / f"{name}.py").read_bytes() == (ROOT / "metrics" / name / f"{name}.py").read_bytes()
    # the built package alone: metric_path answers the shipped folder
    code = ("import judgekit, judgekit.hf as h; print(judgekit.__file__); "
            "print(h.metric_path('judgekit_chinese_rouge'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True,
                         env=dict(os.environ, PYTHONPATH=str(build))).stdout.split()
    assert Path(out[0]).is_relative_to(build) and Path(out[1]) == shipped / "judgekit_chinese_rouge"
    preds, refs = [r["pred"] for r in pairs], [r["ref"] for r in pairs]
    res = _load_and_compute(tmp_path, "judgekit_chinese_rouge", {"predictions": preds, "references": refs},
                            env={"PYTHONPATH": str(build)}, path=out[1])
    direct = judgekit.evaluate(preds, refs, metrics=["rouge"])
    for k, v in direct.scores.items():
        assert res["out"][k] == v
