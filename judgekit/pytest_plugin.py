"""judgekit's pytest plugin (registered as the ``pytest11`` entry point):
quality gates for a model repository's tests.

    def test_reply_quality(judgekit_gate):
        gate = judgekit_gate("my-model", preds, refs)
        gate.check(min={"bleu-4": 5.0}, ci_lower={"rouge-l": 20.0}, max_drop={"rouge-l": 1.0})

- ``min``: the score must be at least the threshold;
- ``ci_lower``: the lower bound of its 95% bootstrap interval over items
  (seeded) must be at least the threshold, i.e. the score is above it with
  confidence, not by luck of the sample;
- ``max_drop``: compared with the stored baseline (``judgekit-baseline.json``
  at the rootdir, ini option ``judgekit_baseline``), the score may fall by at
  most this much; ``pytest --judgekit-update-baseline`` writes the current
  scores instead.  A baseline made with another signature is refused.

Judges (``judge={"rubric": ..., "model": ..., "cache": ...}``) run in
replay-only mode when ``$CI`` is set (no network, no API key: answers come
from the committed cache) unless ``--judgekit-live``; ``--judgekit-replay-only``
forces it anywhere.  A failing gate prints which metric moved and by how
much; the end of the run lists every gate's scores.

pytest imports this module in every session once judgekit is installed, so
it imports nothing heavy at module level and does nothing unless a test
uses ``judgekit_gate``.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest

DEFAULT_BASELINE = "judgekit-baseline.json"
_gates_key = pytest.StashKey[list]()  # (nodeid, Gate) of every gate made in the session


def pytest_addoption(parser) -> None:
    group = parser.getgroup("judgekit", "judgekit quality gates")
    group.addoption("--judgekit-update-baseline", action="store_true", default=False,
                    help="write the current judgekit scores to the baseline file instead of comparing with it")
    group.addoption("--judgekit-replay-only", action="store_true", default=False,
                    help="judges answer from their cache only (the default when $CI is set)")
    group.addoption("--judgekit-live", action="store_true", default=False,
                    help="judges may call the model even when $CI is set")
    parser.addini("judgekit_baseline", f"judgekit baseline file, relative to the rootdir (default {DEFAULT_BASELINE})",
                  default=DEFAULT_BASELINE)
    parser.addini("judgekit_bootstrap", "bootstrap resamples for ci_lower checks (default 1000)", default="1000")


def _on_ci() -> bool:
    value = os.environ.get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def replay_only_default(config: Any) -> bool:
    """Replay-only judges: forced by --judgekit-replay-only, off with
    --judgekit-live, else on exactly when running under CI."""
    if config.getoption("--judgekit-replay-only"):
        return True
    if config.getoption("--judgekit-live"):
        return False
    return _on_ci()


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "nan"
    return f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"


@dataclass
class _Line:
    metric: str
    value: float
    check: str
    ok: bool
    detail: str


@dataclass
class Gate:
    """Scores of one model output set, and the checks run on them."""

    name: str
    scores: dict[str, float]
    signature: Any  # judgekit.Signature
    n_items: int
    result: Any = None  # judgekit Result (n-gram metrics)
    judge_result: Any = None
    baseline_path: Path | None = None
    update_baseline: bool = False
    n_bootstrap: int = 1000
    seed: int = 12345
    problems: list[str] = field(default_factory=list)  # e.g. unscored judge items
    lines: list[_Line] = field(default_factory=list)
    status: str = "not checked"
    _judge_values: dict[str, Any] = field(default_factory=dict, repr=False)
    _ci_cache: dict[tuple[str, float], tuple[float, float]] = field(default_factory=dict, repr=False)

    def ci(self, metric: str, confidence: float = 0.95) -> tuple[float, float]:
        """The percentile bootstrap interval of ``metric`` (seeded)."""
        key = (metric, confidence)
        if key not in self._ci_cache:
            from judgekit.report.significance import bootstrap_ci

            self._need(metric)
            if metric in self._judge_values:
                src: Any = {metric: self._judge_values[metric]}
            else:
                src = self.result
            self._ci_cache[key] = bootstrap_ci(src, metrics=[metric], n_bootstrap=self.n_bootstrap, seed=self.seed,
                                               confidence=confidence)[metric]
        return self._ci_cache[key]

    def _need(self, metric: str) -> None:
        if metric not in self.scores:
            from judgekit.errors import InputError

            raise InputError(f"judgekit gate {self.name!r}: no metric {metric!r}; available: {', '.join(self.scores)}")

    def check(self, *, min: Mapping[str, float] | None = None, ci_lower: Mapping[str, float] | None = None,
              max_drop: Mapping[str, float] | float | None = None, confidence: float = 0.95) -> None:
        """Run every check, then fail once listing each metric that did not
        pass, its value, the threshold or baseline, and the difference."""
        lines: list[_Line] = []
        for metric, threshold in (min or {}).items():
            self._need(metric)
            v = self.scores[metric]
            ok = v >= threshold
            lines.append(_Line(metric, v, f">= {_fmt(threshold)}", ok,
                               "ok" if ok else f"below the threshold by {_fmt(threshold - v)}"))
        for metric, threshold in (ci_lower or {}).items():
            lo, hi = self.ci(metric, confidence)
            v = self.scores[metric]
            ok = lo >= threshold
            lines.append(_Line(metric, v, f"{confidence:.0%} CI lower >= {_fmt(threshold)}", ok,
                               f"CI {_fmt(lo)}..{_fmt(hi)}" + ("" if ok else f"; lower bound short by "
                                                                          f"{_fmt(threshold - lo)}")))
        notes: list[str] = []
        if max_drop is not None:
            if self.update_baseline:
                notes.append(f"baseline updated in {self.baseline_path}; not compared")
            else:
                lines += self._baseline_lines(max_drop)
        self.lines = lines
        failed = [ln for ln in lines if not ln.ok]
        problems = list(self.problems)
        self.status = "failed" if failed or problems else "passed"
        if failed or problems:
            pytest.fail(self._message(failed, problems, notes), pytrace=False)

    def _baseline_lines(self, max_drop: Mapping[str, float] | float) -> list[_Line]:
        entry = _read_baseline(self.baseline_path).get(self.name)
        if entry is None:
            pytest.fail(f"judgekit gate {self.name!r}: no baseline in {self.baseline_path}; create it with "
                        "`pytest --judgekit-update-baseline` and commit the file", pytrace=False)
        from judgekit.signature import Signature

        try:
            text = str(entry.get("signature", ""))
            if " || " in text:  # written by judgekit <= 0.1.0: "<ngram> || judge:<model>|..."
                head, _, judge_part = text.partition(" || ")
                text = f"{head}|judge:[model:{judge_part[len('judge:'):]}]"
            stored_sig = Signature.parse(text)
        except ValueError as exc:
            pytest.fail(f"judgekit gate {self.name!r}: the baseline's signature does not parse ({exc})", pytrace=False)
        if not stored_sig.same_numbers(self.signature):  # provenance (seg.c / seg.py) does not count
            diff = "\n".join(f"    {d}" for d in stored_sig.differences(self.signature))
            pytest.fail(f"judgekit gate {self.name!r}: the baseline in {self.baseline_path} was scored differently, "
                        "so the numbers are not comparable:\n"
                        f"  baseline: {entry.get('signature')}\n  now:      {self.signature}\n"
                        f"  what differs (baseline != now):\n{diff}\n"
                        "If the change is intended, run `pytest --judgekit-update-baseline`.", pytrace=False)
        stored = entry.get("scores", {})
        drops = dict(max_drop) if isinstance(max_drop, Mapping) else {m: float(max_drop) for m in stored
                                                                         if m in self.scores}
        lines = []
        for metric, allowed in drops.items():
            self._need(metric)
            if metric not in stored:
                pytest.fail(f"judgekit gate {self.name!r}: the baseline has no {metric!r}; run "
                            "`pytest --judgekit-update-baseline`", pytrace=False)
            base, v = float(stored[metric]), self.scores[metric]
            delta = v - base
            ok = delta >= -allowed
            rel = f" ({delta / base:+.1%})" if base else ""
            lines.append(_Line(metric, v, f"baseline {_fmt(base)}, max drop {_fmt(allowed)}", ok,
                               f"moved {delta:+.4g}{rel}"))
        return lines

    def _message(self, failed: list[_Line], problems: list[str], notes: list[str]) -> str:
        out = [f"judgekit gate {self.name!r} failed ({self.n_items} items):"]
        if failed:
            w1 = max(len("metric"), *(len(ln.metric) for ln in failed))
            w2 = max(len("check"), *(len(ln.check) for ln in failed))
            out.append(f"  {'metric':<{w1}}  {'value':>10}  {'check':<{w2}}  result")
            for ln in failed:
                out.append(f"  {ln.metric:<{w1}}  {_fmt(ln.value):>10}  {ln.check:<{w2}}  {ln.detail}")
        out += [f"  {p}" for p in problems]
        out += [f"  note: {n}" for n in notes]
        out.append(f"  signature: {self.signature}")
        return "\n".join(out)


def _read_baseline(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        pytest.fail(f"judgekit baseline {path} is not valid JSON: {exc}", pytrace=False)
    if not isinstance(data, dict) or not isinstance(data.get("gates", {}), dict):
        pytest.fail(f"judgekit baseline {path}: expected an object with a 'gates' mapping", pytrace=False)
    return data.get("gates", {})


def _write_baseline(path: Path, gate: Gate) -> None:
    from judgekit import __version__

    gates = _read_baseline(path)
    gates[gate.name] = {"signature": str(gate.signature), "n_items": gate.n_items,
                        "scores": {k: v for k, v in gate.scores.items() if math.isfinite(v)}}
    data = {"judgekit": __version__, "gates": dict(sorted(gates.items()))}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _judge_scores(gate_name: str, jr: Any) -> tuple[Any, list[str]]:
    """The judge's Scores, and a problem when items went unscored."""
    scores = jr.to_scores()
    status = scores.column("judge:status")
    unscored = [i for i, st in zip(scores.ids, status) if st != "scored"]
    problems = []
    if unscored:
        ids = ", ".join(repr(i) for i in unscored[:10])
        problems.append(f"judge left {len(unscored)} of {len(status)} item(s) unscored ({ids}); a gate does not "
                        "score missing judgments (pass allow_unscored=True to gate on the scored ones)")
    return scores, problems


@pytest.fixture
def judgekit_gate(request):
    """``judgekit_gate(name, preds, refs, *, judge=None, contexts=None,
    allow_unscored=False, baseline=None, **evaluate_options)`` -> ``Gate``.

    Scores ``preds`` against ``refs`` with ``judgekit.evaluate`` (options
    as there) and, with ``judge=`` (keyword arguments of
    ``judgekit.judge.Judge``: rubric, model, base_url, cache, ...), judges
    them too (``contexts`` fill the rubric's context/dialogue input); judge
    dimensions appear as ``judge:<dim>``.  Call ``.check(...)`` on the result.
    """
    config = request.config

    def make(name: str, preds: Sequence[str], refs: Any, *, judge: Mapping[str, Any] | None = None,
             contexts: Sequence[Any] | None = None, ids: Sequence[Any] | None = None, allow_unscored: bool = False,
             baseline: str | os.PathLike[str] | None = None, seed: int = 12345, **evaluate_options: Any) -> Gate:
        import numpy as np

        import judgekit

        for nodeid, other in config.stash.get(_gates_key, []):
            if other.name == name:
                pytest.fail(f"judgekit gate name {name!r} is already used by {nodeid}; the name keys the baseline "
                            "file, so give each gate its own", pytrace=False)
        result = judgekit.evaluate(preds, refs, **evaluate_options)
        scores = {k: float(v) for k, v in result.scores.items()}
        signature = result.signature
        judge_result, values, problems = None, {}, []
        if judge is not None:
            from judgekit.judge import Judge

            settings = dict(judge)
            settings.setdefault("replay_only", replay_only_default(config))
            ref_list = [r if isinstance(r, str) else list(r)[0] for r in refs]  # a "reference" input, if any
            from judgekit.errors import JudgeAbort, ReplayMissError

            try:
                judge_result = Judge(**settings).score_pairs(list(preds), ref_list, contexts,
                                                             ids=[str(i) for i in ids] if ids is not None else None)
            except (ReplayMissError, JudgeAbort) as exc:
                where = " (replay-only: $CI is set; --judgekit-live lets the judge call the model)" \
                    if settings.get("replay_only") else ""
                pytest.fail(f"judgekit gate {name!r}: the judge could not score{where}: {exc}", pytrace=False)
            j_scores, problems = _judge_scores(name, judge_result)
            scores.update(j_scores.scores)
            signature = signature.with_part("judge", j_scores.signature)
            for k in j_scores.resampled:  # a judge metric's CI: over the items it scored
                v = j_scores.column(k)
                values[k] = v[~np.isnan(v)]
            if allow_unscored:
                problems = []
        path = Path(baseline) if baseline is not None else Path(config.rootpath) / config.getini("judgekit_baseline")
        if baseline is not None and not path.is_absolute():
            path = Path(config.rootpath) / path
        gate = Gate(name=name, scores=scores, signature=signature, n_items=len(result.per_item), result=result,
                    judge_result=judge_result, baseline_path=path,
                    update_baseline=bool(config.getoption("--judgekit-update-baseline")),
                    n_bootstrap=int(config.getini("judgekit_bootstrap")), seed=seed, problems=problems,
                    _judge_values=values)
        if gate.update_baseline:
            _write_baseline(path, gate)
        config.stash.setdefault(_gates_key, []).append((request.node.nodeid, gate))
        return gate

    return make



def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    gates = config.stash.get(_gates_key, [])
    if not gates:
        return
    tr = terminalreporter
    tr.section("judgekit scores")
    for nodeid, gate in gates:
        tr.write_line(f"{gate.name} [{gate.status}] {gate.n_items} items ({nodeid})")
        shown = [ln.metric for ln in gate.lines]
        base = [k for k in ("bleu-4", "rouge-l") if k in gate.scores and k not in shown]
        base += [k for k in gate.scores if k.startswith("judge:") and k not in shown]
        for ln in gate.lines:
            tr.write_line(f"  {ln.metric:<14} {_fmt(ln.value):>10}  {ln.check}: {ln.detail}")
        for k in base:
            tr.write_line(f"  {k:<14} {_fmt(gate.scores[k]):>10}")
        if gate.update_baseline:
            tr.write_line(f"  baseline written to {gate.baseline_path}")
