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
  scores instead, at the end of the run and only when every test passed
  (merged into the file under a lock, replaced atomically; under
  pytest-xdist the workers hand their gates to the controller, which
  writes once).  A baseline scored differently (what changes the numbers:
  tokenizer, preset, ...) is refused; provenance such as the compiled or
  pure-Python segmenter is not compared.

A gate name keys the baseline, so it is used once per session, across
xdist workers too.  A failing gate prints which metric moved and by how
much, and the items that moved most (against the baseline's per-item
values when it has them, else the items with the lowest scores).

Judges (``judge={"rubric": ..., "model": ..., "cache": ...}``) run in
replay-only mode when ``$CI`` is set (no network, no API key: answers come
from the committed cache) unless ``--judgekit-live``; ``--judgekit-replay-only``
forces it anywhere.  The end of the run lists every gate's scores.

pytest imports this module in every session once judgekit is installed, so
it imports nothing heavy at module level and does nothing unless a test
uses ``judgekit_gate``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pytest

DEFAULT_BASELINE = "judgekit-baseline.json"
N_MOVED = 5  # items listed under a failing metric
_gates_key = pytest.StashKey[list]()  # (nodeid, Gate) of every gate made in this process
_remote_key = pytest.StashKey[list]()  # what each xdist worker handed back (controller)
_claims_key = pytest.StashKey[str]()  # the session's folder of claimed gate names (xdist)
_outcome_key = pytest.StashKey[list]()  # lines for the summary: baseline written / not written / errors
_WORKER_KEY = "judgekit"  # in xdist's workeroutput
_CLAIMS_INPUT = "judgekit_claims"  # in xdist's workerinput


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
    item_ids: list[str] | None = None  # the items' ids (``ids=``, else "0", "1", ...)
    _judge_values: dict[str, Any] = field(default_factory=dict, repr=False)
    _judge_items: dict[str, tuple[list[str], Any]] = field(default_factory=dict, repr=False)  # metric -> (ids, values)
    _checked: list[str] = field(default_factory=list, repr=False)  # metrics named by check()
    _stored: dict[str, Any] = field(default_factory=dict, repr=False)  # the baseline entry compared with
    _ci_cache: dict[tuple[str, float], tuple[float, float]] = field(default_factory=dict, repr=False)

    def item_values(self, metric: str) -> tuple[list[str], list[float]] | None:
        """Per-item values of ``metric`` with their ids (sentence-level
        values for corpus metrics; judge scores, NaN where unscored), or
        None when the metric has none."""
        if metric in self._judge_items:
            ids, values = self._judge_items[metric]
            return list(ids), [float(v) for v in values]
        if self.result is not None and metric in getattr(self.result, "column_names", ()):
            ids = self.item_ids if self.item_ids is not None else list(self.result.ids)
            return list(ids), [float(v) for v in self.result.column(metric)]
        return None

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
        named = [*(min or {}), *(ci_lower or {}), *(max_drop if isinstance(max_drop, Mapping) else {})]
        self._checked += [m for m in named if m not in self._checked]
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
                notes.append(f"baseline not compared: --judgekit-update-baseline writes {self.baseline_path} at the "
                             "end of the run if every test passed")
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
        self._stored = entry
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
        seen: set[str] = set()
        for ln in failed:
            if ln.metric not in seen:
                seen.add(ln.metric)
                out += self._moved(ln.metric, ln.check.startswith("baseline"))
        out += [f"  {p}" for p in problems]
        out += [f"  note: {n}" for n in notes]
        out.append(f"  signature: {self.signature}")
        return "\n".join(out)

    def _moved(self, metric: str, against_baseline: bool) -> list[str]:
        """The items behind a failing metric: against the baseline's
        per-item values (same ids), those that fell most; otherwise those
        with the lowest scores now."""
        now = self.item_values(metric)
        if now is None:
            return []
        ids, values = now
        base = (self._stored.get("per_item") or {}) if against_baseline else {}
        if base.get("ids") == ids and isinstance(base.get(metric), list) and len(base[metric]) == len(ids):
            pairs = [(i, b, v) for i, b, v in zip(ids, base[metric], values)
                     if b is not None and math.isfinite(v) and v < b - 1e-9 * max(1.0, abs(b))]
            pairs.sort(key=lambda x: (x[2] - x[1], x[0]))
            if not pairs:
                return [f"  {metric}: no item fell against the baseline's per-item values"]
            head = f"  {metric}: the {len(pairs[:N_MOVED])} items that fell most (id: baseline -> now):"
            return [head] + [f"    {i!r}: {_fmt(b)} -> {_fmt(v)} ({v - b:+.4g})" for i, b, v in pairs[:N_MOVED]]
        scored = sorted(((v, i) for i, v in zip(ids, values) if math.isfinite(v)), key=lambda x: (x[0], x[1]))
        if not scored:
            return []
        what = "per-sentence scores" if metric not in self._judge_items else "judge scores"
        head = f"  {metric}: the {len(scored[:N_MOVED])} items with the lowest {what} (id: score):"
        return [head] + [f"    {i!r}: {_fmt(v)}" for v, i in scored[:N_MOVED]]

    def baseline_entry(self) -> dict[str, Any]:
        """What --judgekit-update-baseline stores for this gate: the
        signature, the scores and, for the metrics the checks name (else
        bleu-4, rouge-l and the judge's), the per-item values."""
        entry: dict[str, Any] = {"signature": str(self.signature), "n_items": self.n_items,
                                 "scores": {k: v for k, v in self.scores.items() if math.isfinite(v)}}
        metrics = self._checked or [k for k in self.scores if k in ("bleu-4", "rouge-l") or k.startswith("judge:")]
        per_item: dict[str, Any] = {}
        for m in metrics:
            got = self.item_values(m)
            if got is None:
                continue
            ids, values = got
            if "ids" in per_item and per_item["ids"] != ids:
                continue
            per_item["ids"] = ids
            per_item[m] = [v if math.isfinite(v) else None for v in values]
        if len(per_item) > 1:
            entry["per_item"] = per_item
        return entry


def _load_baseline(path: Path) -> dict[str, Any]:
    """The gates of a baseline file ({} when absent); ValueError when the
    file is not a judgekit baseline."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"judgekit baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("gates", {}), dict):
        raise ValueError(f"judgekit baseline {path}: expected an object with a 'gates' mapping")
    return data.get("gates", {})


def _read_baseline(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return _load_baseline(path)
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)


@contextmanager
def _locked(path: Path, timeout: float = 120.0) -> Iterator[None]:
    """An exclusive lock beside ``path`` (``<path>.lock``, created with
    O_EXCL, removed after), so that concurrent sessions merge in turn."""
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                stale = time.time() - lock.stat().st_mtime > timeout
            except FileNotFoundError:
                continue
            if stale or time.monotonic() > deadline:  # left by a killed run
                try:
                    lock.unlink()
                except FileNotFoundError:
                    pass
                continue
            time.sleep(0.05)
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        try:
            lock.unlink()
        except FileNotFoundError:  # pragma: no cover
            pass


def _write_baseline(path: Path, entries: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge ``entries`` (gate name -> entry) into the baseline file: under
    the lock, read, update, write a temporary file beside it and replace
    the file atomically (a reader sees the old or the new file, whole)."""
    from judgekit import __version__

    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        gates = _load_baseline(path)
        gates.update(entries)
        data = {"judgekit": __version__, "gates": dict(sorted(gates.items()))}
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def _claim(config: Any, name: str, nodeid: str) -> str | None:
    """Claim a gate name for this session; the nodeid that holds it already,
    if any.  In one process the stash answers; under xdist a file per name
    in the session's claims folder, created atomically (link or O_EXCL)."""
    for other_nodeid, other in config.stash.get(_gates_key, []):
        if other.name == name:
            return other_nodeid
    folder = getattr(config, "workerinput", {}).get(_CLAIMS_INPUT)
    if not folder or not os.path.isdir(folder):
        return None
    target = os.path.join(folder, hashlib.sha256(name.encode("utf-8")).hexdigest())
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(nodeid)
    try:
        os.link(tmp, target)  # atomic, and the content is complete when it appears
        return None
    except FileExistsError:
        with open(target, encoding="utf-8") as f:
            return f.read() or "another test"
    except OSError:  # no hard links here: O_EXCL
        try:
            with open(target, "x", encoding="utf-8") as f:
                f.write(nodeid)
            return None
        except FileExistsError:
            time.sleep(0.05)
            with open(target, encoding="utf-8") as f:
                return f.read() or "another test"
    finally:
        os.unlink(tmp)


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

        holder = _claim(config, name, request.node.nodeid)
        if holder is not None:
            pytest.fail(f"judgekit gate name {name!r} is already used by {holder}; the name keys the baseline "
                        "file, so give each gate its own", pytrace=False)
        result = judgekit.evaluate(preds, refs, **evaluate_options)
        scores = {k: float(v) for k, v in result.scores.items()}
        signature = result.signature
        judge_result, values, items, problems = None, {}, {}, []
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
                items[k] = (j_scores.ids, v)
            if allow_unscored:
                problems = []
        path = Path(baseline) if baseline is not None else Path(config.rootpath) / config.getini("judgekit_baseline")
        if baseline is not None and not path.is_absolute():
            path = Path(config.rootpath) / path
        gate = Gate(name=name, scores=scores, signature=signature, n_items=len(result.per_item), result=result,
                    judge_result=judge_result, baseline_path=path,
                    update_baseline=bool(config.getoption("--judgekit-update-baseline")),
                    n_bootstrap=int(config.getini("judgekit_bootstrap")), seed=seed, problems=problems,
                    item_ids=[str(i) for i in ids] if ids is not None and len(ids) == len(result.per_item) else None,
                    _judge_values=values, _judge_items=items)
        config.stash.setdefault(_gates_key, []).append((request.node.nodeid, gate))
        return gate

    return make


# -- the session: xdist hand-over, the baseline write, the summary ----------

def _is_worker(config: Any) -> bool:
    return hasattr(config, "workerinput")


def _report(nodeid: str, gate: Gate) -> dict[str, Any]:
    """What the summary and the baseline need of a gate, as plain data (an
    xdist worker sends it to the controller)."""
    shown = [ln.metric for ln in gate.lines]
    base = [k for k in ("bleu-4", "rouge-l") if k in gate.scores and k not in shown]
    base += [k for k in gate.scores if k.startswith("judge:") and k not in shown]
    lines = [f"  {ln.metric:<14} {_fmt(ln.value):>10}  {ln.check}: {ln.detail}" for ln in gate.lines]
    lines += [f"  {k:<14} {_fmt(gate.scores[k]):>10}" for k in base]
    return {"nodeid": nodeid, "name": gate.name, "status": gate.status, "n_items": gate.n_items, "lines": lines,
            "baseline": str(gate.baseline_path), "update": gate.update_baseline,
            "entry": gate.baseline_entry() if gate.update_baseline else None}


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: every worker gets the session's claims folder."""
    config = node.config
    if _claims_key not in config.stash:
        config.stash[_claims_key] = tempfile.mkdtemp(prefix="judgekit-gates-")
    node.workerinput[_CLAIMS_INPUT] = config.stash[_claims_key]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist controller: collect a finished worker's gates."""
    payload = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if payload:
        node.config.stash.setdefault(_remote_key, []).extend(json.loads(payload))


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    local = [_report(nodeid, gate) for nodeid, gate in config.stash.get(_gates_key, [])]
    if _is_worker(config):  # hand over; the controller decides and writes
        if local:
            config.workeroutput[_WORKER_KEY] = json.dumps(local, ensure_ascii=False)
        return
    reports = local + config.stash.get(_remote_key, [])
    config.stash[_remote_key] = reports
    outcome: list[str] = []
    config.stash[_outcome_key] = outcome
    by_name: dict[str, list[str]] = {}
    for r in reports:
        by_name.setdefault(r["name"], []).append(r["nodeid"])
    dups = {n: ids for n, ids in by_name.items() if len(ids) > 1}
    for n, ids in sorted(dups.items()):
        outcome.append(f"error: judgekit gate name {n!r} is used by {len(ids)} tests ({', '.join(sorted(ids))})")
    updates = [r for r in reports if r["update"] and r["entry"] is not None]
    if not config.getoption("--judgekit-update-baseline") or not updates:
        if dups:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    failed = session.testsfailed or int(exitstatus) != 0 or bool(dups)
    if failed:
        why = f"{session.testsfailed} test(s) failed" if session.testsfailed else \
            ("duplicate gate names" if dups else f"exit status {int(exitstatus)}")
        outcome.append(f"baseline NOT written ({why}): a failing update run leaves the baseline as it was")
        if dups:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    paths: dict[str, dict[str, Any]] = {}
    for r in updates:
        paths.setdefault(r["baseline"], {})[r["name"]] = r["entry"]
    for path, entries in sorted(paths.items()):
        try:
            _write_baseline(Path(path), entries)
        except (OSError, ValueError) as exc:
            outcome.append(f"error: baseline {path} not written: {exc}")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            continue
        outcome.append(f"baseline written to {path} ({len(entries)} gate(s))")


def pytest_unconfigure(config) -> None:
    folder = config.stash.get(_claims_key, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)



def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _is_worker(config):
        return
    reports = config.stash.get(_remote_key, [])
    outcome = config.stash.get(_outcome_key, [])
    if not reports and not outcome:
        return
    tr = terminalreporter
    tr.section("judgekit scores")
    for r in sorted(reports, key=lambda r: (r["nodeid"], r["name"])):
        tr.write_line(f"{r['name']} [{r['status']}] {r['n_items']} items ({r['nodeid']})")
        for line in r["lines"]:
            tr.write_line(line)
    for line in outcome:
        tr.write_line(line, red=line.startswith(("error", "baseline NOT")), bold=line.startswith("error"))
