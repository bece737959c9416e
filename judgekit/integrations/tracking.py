"""Log judgekit's results to the experiment trackers people already run.

``log_mlflow(obj)`` and ``log_wandb(obj)`` take a ``Result`` (any
``judgekit.Scores``, or a judge's ``JudgeResult``), a ``Leaderboard`` or a
meta-evaluation card (``MetaEvalReport``) and write, through the tracker's
own client:

- metrics: flat floats, named as in judgekit with ``:`` written ``/``
  (``judge:empathy`` -> ``judge/empathy``: MLflow on Windows refuses ``:``,
  and both trackers group on ``/``); a leaderboard's as
  ``<system>/<metric>``, a card's as ``<rater>/<figure>``;
- parameters: the signature (one line) and each of its parts
  (``signature.tok``, nested parts joined by ``.``), the item count;
- tables: the tidy frames (``to_frame()``) as CSV artifacts (MLflow) or
  ``wandb.Table`` s; for MLflow also the report's JSON (and Markdown).

Neither tracker is a dependency: ``pip install 'judgekit-empathy[mlflow]'``
or ``'judgekit-empathy[wandb]'``; they are imported only when called.
``record(obj)`` is what both write, without a tracker.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["Record", "record", "log_mlflow", "log_wandb"]

_BAD = re.compile(r"[^\w.\- /]")  # what MLflow refuses in a name (everywhere: Windows refuses ':')


@dataclass
class Record:
    """What a tracker receives: ``metrics`` name -> float, ``params`` name
    -> text, ``tables`` name -> DataFrame, ``texts`` file name -> text."""

    kind: str
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def _name(*parts: Any) -> str:
    """A tracker-safe name: ``:`` -> ``/``, other refused characters -> ``_``."""
    return "/".join(_BAD.sub("_", str(p).replace(":", "/")) for p in parts)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _add(out: dict[str, Any], seen: dict[str, str], key: str, value: Any, original: str) -> None:
    if key in seen and seen[key] != original:
        raise InputError(f"{original!r} and {seen[key]!r} both become the tracker name {key!r}; rename one")
    seen[key] = original
    out[key] = value


def _signature_params(signature: Any, prefix: str = "signature") -> dict[str, str]:
    from ..signature import Signature

    sig = Signature(signature) if signature else Signature()
    out = {prefix: str(sig)} if prefix == "signature" else {}
    for key, value in sig.items():
        name = f"{prefix}.{_name(key)}"
        if isinstance(value, Signature):
            out.update(_signature_params(value, name))
        else:
            out[name] = str(value)
    return out


def _from_scores(obj: Any) -> Record:
    rec = Record("result")
    seen: dict[str, str] = {}
    for k, v in obj.scores.items():
        f = _float(v)
        if f is not None:
            _add(rec.metrics, seen, _name(k), f, k)
    rec.params.update(_signature_params(obj.signature))
    rec.params["n_items"] = str(obj.n_items)
    rec.tables["per_item"] = obj.to_frame().reset_index()
    if hasattr(obj, "to_json"):
        rec.texts["result.json"] = obj.to_json(indent=2)
    return rec


def _from_leaderboard(lb: Any) -> Record:
    rec = Record("leaderboard")
    seen: dict[str, str] = {}
    frame = lb.to_frame()
    for row in frame.itertuples(index=False):
        f = _float(row.value)
        if f is not None:
            _add(rec.metrics, seen, _name(row.system, row.metric), f, f"{row.system} {row.metric}")
    rec.params.update({"baseline": str(lb.baseline), "n_items": str(lb.n_items), "alpha": f"{lb.alpha:g}"})
    for what, sig in lb.signatures.items():
        rec.params[_name("signature", what).replace("/", ".")] = str(sig)
    rec.tables["leaderboard"] = frame
    rec.texts["leaderboard.md"] = lb.to_markdown()
    return rec


def _from_card(card: Any) -> Record:
    rec = Record("meta_eval")
    seen: dict[str, str] = {}
    board = card.leaderboard()  # one row per rater, in ``card.raters`` order (labelled "(simulated)" there)
    for rater, (_, row) in zip(card.raters, board.iterrows()):
        for col, v in row.items():
            f = _float(v)
            if f is not None:
                _add(rec.metrics, seen, _name(rater, col), f, f"{rater} {col}")
    figures = card.to_frame()
    for row in figures.itertuples(index=False):
        for col in ("qwk", "spearman"):
            f = _float(getattr(row, col))
            if f is not None:
                _add(rec.metrics, seen, _name(row.rater, row.framework, row.dimension, col), f,
                     f"{row.rater} {row.framework} {row.dimension} {col}")
    rec.params.update({"dataset": card.dataset, "judge": card.judge, "humans": ",".join(card.humans),
                       "simulated": str(card.simulated), "signature": str(card.signature)})
    rec.tables["evaluator_leaderboard"] = board.reset_index()
    rec.tables["figures"] = figures
    rec.texts["meta_eval.json"] = card.to_json(indent=2)
    rec.texts["meta_eval.md"] = card.to_markdown()
    return rec


def record(obj: Any) -> Record:
    """What ``log_mlflow`` / ``log_wandb`` write for ``obj``."""
    from ..metaeval import MetaEvalReport
    from ..report import Leaderboard
    from ..scores import Scores

    if hasattr(obj, "to_scores") and not isinstance(obj, Scores):  # a JudgeResult
        obj = obj.to_scores()
    if isinstance(obj, Scores):
        return _from_scores(obj)
    if isinstance(obj, Leaderboard):
        return _from_leaderboard(obj)
    if isinstance(obj, MetaEvalReport):
        return _from_card(obj)
    raise InputError(f"cannot log a {type(obj).__name__}: give a Result (or other Scores, or a JudgeResult), "
                     "a Leaderboard or a MetaEvalReport")


def _need(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"logging to {extra} needs its client: pip install 'judgekit-empathy[{extra}]' "
                          f"({e})") from e


def _prefixed(prefix: str, rec: Record) -> Record:
    if not prefix:
        return rec
    p = _name(prefix)
    return Record(rec.kind, {f"{p}/{k}": v for k, v in rec.metrics.items()},
                  {f"{p}.{k}": v for k, v in rec.params.items()},
                  {f"{p}/{k}": v for k, v in rec.tables.items()},
                  {f"{p}/{k}": v for k, v in rec.texts.items()})


def log_mlflow(obj: Any, *, run_id: str | None = None, experiment: str | None = None, run_name: str | None = None,
               tracking_uri: str | None = None, prefix: str = "", artifact_dir: str = "judgekit") -> str:
    """Log ``obj`` to an MLflow run and return the run's id.

    The run: ``run_id`` if given, else the active run (``mlflow.start_run``;
    left open) when no ``tracking_uri`` is given, else a new run in
    ``experiment`` (default: MLflow's default experiment) that is ended
    here.  ``tracking_uri``: default MLflow's own setting.
    ``prefix`` keeps two objects logged to one run apart (MLflow's
    parameters cannot change once set).  Tables and texts go under
    ``artifact_dir``.
    """
    mlflow = _need("mlflow", "mlflow")
    from mlflow.entities import Metric, Param, RunTag

    rec = _prefixed(prefix, record(obj))
    client = mlflow.tracking.MlflowClient(tracking_uri)
    own = False
    if run_id is None:
        active = mlflow.active_run()
        if active is not None and tracking_uri is None:
            run_id = active.info.run_id
        else:
            exp_id = "0"
            if experiment is not None:
                found = client.get_experiment_by_name(experiment)
                exp_id = found.experiment_id if found is not None else client.create_experiment(experiment)
            run_id = client.create_run(exp_id, run_name=run_name).info.run_id
            own = True
    status = "FAILED"
    try:
        import time

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, 0) for k, v in rec.metrics.items()]
        params = [Param(k, v) for k, v in rec.params.items()]
        for a in range(0, len(metrics), 1000):  # MLflow's batch limits
            client.log_batch(run_id, metrics=metrics[a:a + 1000])
        for a in range(0, len(params), 100):
            client.log_batch(run_id, params=params[a:a + 100])
        client.log_batch(run_id, tags=[RunTag("judgekit.kind", rec.kind)])
        for name, frame in rec.tables.items():
            client.log_text(run_id, frame.to_csv(index=False), f"{artifact_dir}/{name}.csv")
        for name, text in rec.texts.items():
            client.log_text(run_id, text, f"{artifact_dir}/{name}")
        status = "FINISHED"
    finally:
        if own:
            client.set_terminated(run_id, status)
    return run_id


def log_wandb(obj: Any, *, run: Any = None, prefix: str = "", **init: Any) -> Any:
    """Log ``obj`` to a Weights & Biases run and return the run.

    The run: ``run`` if given, else the active ``wandb.run``, else
    ``wandb.init(**init)`` (finished here).  Metrics go to the run's
    summary (and one history step), parameters to its config, tables as
    ``wandb.Table`` s (the JSON and Markdown texts go to MLflow only); with ``WANDB_MODE=offline`` everything stays in
    ``WANDB_DIR`` (``wandb sync`` uploads it later).
    """
    wandb = _need("wandb", "wandb")
    rec = _prefixed(prefix, record(obj))
    own = False
    if run is None:
        run = wandb.run
        if run is None:
            run = wandb.init(**init)
            own = True
    try:
        run.config.update(rec.params, allow_val_change=True)
        logged: dict[str, Any] = dict(rec.metrics)
        for name, frame in rec.tables.items():  # missing values as null, not NaN
            logged[name] = wandb.Table(dataframe=frame.astype(object).where(frame.notna(), None))
        run.log(logged)
    finally:
        if own:
            run.finish()
    return run
