"""``compute_metrics`` for transformers' ``Trainer`` / ``Seq2SeqTrainer``:
the token ids of an evaluation decoded and scored by ``judgekit.evaluate``.

Why not the usual fifteen lines (ChatGLM's ptuning ``main.py``): they
replace the ignore index ``-100`` in the labels only, but the Trainer pads
the *predictions* with ``-100`` too when batches differ in length, and
decoding ``-100`` raises ``OverflowError``.  Here ``-100`` is dropped from
both (as LLaMA-Factory does), special tokens are skipped, and Chinese that a
BERT-style tokenizer decodes with a space between every character is joined
back before scoring (``join_cjk``).  The metrics are flat floats named as
``judgekit.evaluate`` names them (the Trainer logs ``eval_bleu-4``,
``eval_rouge-l``...); the signature, which says how they were made, is
logged once.

Nothing here imports transformers or torch: the function takes what the
Trainer passes (an ``EvalPrediction``, numpy arrays or tensors) and calls
the tokenizer's ``batch_decode``.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Sequence

from ..errors import InputError

__all__ = ["compute_metrics", "ComputeMetrics", "join_cjk_spaces"]

#: The label (and prediction padding) value the Trainer's loss ignores.
IGNORE_INDEX = -100

# Han characters and CJK / full-width punctuation: BERT's basic tokenizer
# cuts around each one, and its decode joins the pieces with spaces.
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BY_CJK = re.compile(f"(?<=[{_CJK}]) +| +(?=[{_CJK}])")
_SPACED_HAN = re.compile("[\u4e00-\u9fff] [\u4e00-\u9fff]")
_PROBE = "我的你是"  # common characters: in any Chinese vocabulary


def join_cjk_spaces(text: str) -> str:
    """``text`` without the spaces next to a Chinese character or Chinese
    punctuation: what BERT-style decoding inserts (``"你 好 ， gpt"`` ->
    ``"你好，gpt"``).  Spaces between Latin words stay; the case an uncased
    tokenizer lowered cannot come back."""
    return _SPACE_BY_CJK.sub("", text)


def compute_metrics(tokenizer: Any, *, preset: str | None = None, metrics: Sequence[str] | None = None,
                    join_cjk: bool | str = "auto", ignore_index: int = IGNORE_INDEX,
                    log: Callable[[str], Any] | bool | None = None, **options: Any) -> "ComputeMetrics":
    """A ``compute_metrics(eval_preds)`` for ``Trainer`` / ``Seq2SeqTrainer``
    (``predict_with_generate=True``) scoring with ``judgekit.evaluate``.

    ``preset`` / ``metrics`` / ``options`` go to ``judgekit.evaluate``
    (``preset="chatglm"`` reproduces ChatGLM's ``compute_metrics`` numbers,
    ``"llamafactory"`` LLaMA-Factory's; none: the default suite); they are
    checked here (an unknown option, preset or smoothing is an
    ``InputError`` now, not after the first training epoch).
    ``ignore_index`` (``-100``) is dropped from predictions and labels;
    special tokens are skipped.  ``join_cjk``: ``"auto"`` joins Chinese back
    when the tokenizer decodes it space-separated (a probe of common
    characters, decoded once), ``True`` always, ``False`` never (then
    ``judgekit.evaluate`` warns about space-separated Chinese).  ``log``
    receives the signature once and each evaluation's warnings (default: a
    line on stderr; ``False``: silent; only the process of rank 0 logs).  Also takes
    ``compute_result`` (``batch_eval_metrics=True``): batches are decoded as
    they come and scored together on the last one.
    """
    if join_cjk not in ("auto", True, False):
        raise InputError(f"join_cjk must be 'auto', True or False, not {join_cjk!r}")
    if not hasattr(tokenizer, "batch_decode"):
        raise InputError(f"compute_metrics needs a tokenizer with batch_decode, not {type(tokenizer).__name__}")
    _check_options(preset, metrics, options)
    return ComputeMetrics(tokenizer, preset=preset, metrics=metrics, join_cjk=join_cjk, ignore_index=ignore_index,
                          log=_to_stderr if log is None or log is True else (log or None), options=options)


# a pair every metric and smoothing can score (n-grams of every order match)
_DUMMY = "the cat sat on the mat and looked at the small dog for a long time"
_NOT_DRY = ("judge", "contexts", "ids", "n_jobs", "progress")  # not run on the dry pair (a judge calls a server)


def _check_options(preset: str | None, metrics: Sequence[str] | None, options: dict[str, Any]) -> None:
    """The options checked now, through ``evaluate`` on one dummy pair, not
    at the first evaluation after a training epoch."""
    import inspect

    from .. import evaluate

    known = set(inspect.signature(evaluate).parameters) - {"preds", "refs", "preset", "metrics"}
    unknown = sorted(set(options) - known - {"tokenize", "aggregation"})  # (evaluate's old names)
    if unknown:
        raise InputError(f"compute_metrics got unknown option(s) {', '.join(unknown)}; it takes judgekit.evaluate's: "
                         f"{', '.join(sorted(known))}")
    dry = {k: v for k, v in options.items() if k not in _NOT_DRY}
    evaluate([_DUMMY], [_DUMMY], preset=preset, metrics=metrics, **dry)


class ComputeMetrics:
    """The callable :func:`compute_metrics` returns.  After a call:
    ``result`` (the ``judgekit.Result``, its signature with a ``decode``
    part), ``texts`` (the decoded predictions and labels that were scored)."""

    def __init__(self, tokenizer: Any, *, preset: str | None, metrics: Sequence[str] | None, join_cjk: bool | str,
                 ignore_index: int, log: Callable[[str], Any] | None, options: dict[str, Any]) -> None:
        self.tokenizer = tokenizer
        self.preset = preset
        self.metrics = list(metrics) if metrics is not None else None
        self.join_cjk = join_cjk
        self.ignore_index = ignore_index
        self.log = log
        self.options = options
        self.result: Any = None
        self.texts: tuple[list[str], list[str]] | None = None
        self._pending: tuple[list[str], list[str]] = ([], [])
        self._logged: str | None = None

    def __call__(self, eval_preds: Any, compute_result: bool = True) -> dict[str, float]:
        preds, labels = _split(eval_preds)
        p = self.decode(preds, "predictions")
        r = self.decode(labels, "labels")
        if len(p) != len(r):
            raise InputError(f"compute_metrics: {len(p)} predictions but {len(r)} labels")
        self._pending[0].extend(p)
        self._pending[1].extend(r)
        if not compute_result:  # batch_eval_metrics: score on the last batch
            return {}
        p, r = self._pending
        self._pending = ([], [])
        return self.score(p, r)

    def score(self, preds: list[str], refs: list[str]) -> dict[str, float]:
        """``judgekit.evaluate`` on decoded text, as flat floats."""
        from .. import evaluate

        result = evaluate(preds, refs, preset=self.preset, metrics=self.metrics, **self.options)
        result.signature = result.signature.with_part("decode", self._decode_signature())
        self.result, self.texts = result, (preds, refs)
        self._report(result)
        return {k: float(v) for k, v in result.scores.items()}

    # -- decoding -------------------------------------------------------------
    def decode(self, ids: Any, what: str) -> list[str]:
        """Token ids (one row per item; ``ignore_index`` dropped) to text,
        special tokens skipped, Chinese joined back when ``join_cjk``."""
        rows = _rows(ids, what, self.ignore_index)
        texts = list(self.tokenizer.batch_decode(rows, skip_special_tokens=True))
        if self._joins():
            texts = [join_cjk_spaces(t) for t in texts]
        return texts

    def _joins(self) -> bool:
        if self.join_cjk == "auto":
            self.join_cjk = _decodes_spaced(self.tokenizer)
        return bool(self.join_cjk)

    def _decode_signature(self) -> str:
        return "skip-special" + ("+join-cjk" if self._joins() else "") + f"+drop.{self.ignore_index}"

    def _report(self, result: Any) -> None:
        if self.log is None or os.environ.get("RANK", "0") not in ("", "0"):
            return
        sig = str(result.signature)
        if sig != self._logged:  # once (again only if the settings changed)
            self._logged = sig
            n = len(result.ids)
            self.log(f"judgekit: {n} item{'' if n == 1 else 's'}, signature: {sig}")
        for w in result.warnings:
            self.log(f"judgekit: warning: {w}")


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def _split(eval_preds: Any) -> tuple[Any, Any]:
    """(predictions, label ids) from an ``EvalPrediction`` or a pair."""
    if hasattr(eval_preds, "predictions") and hasattr(eval_preds, "label_ids"):
        preds, labels = eval_preds.predictions, eval_preds.label_ids
    else:
        try:
            preds, labels = eval_preds
        except (TypeError, ValueError):
            raise InputError("compute_metrics expects an EvalPrediction or a (predictions, labels) pair, not "
                             f"{type(eval_preds).__name__}") from None
    if labels is None:
        raise InputError("compute_metrics got no labels: the evaluation dataset needs a 'labels' column")
    if isinstance(preds, tuple):  # (generated ids, ...) from some models' outputs
        preds = preds[0]
    return preds, labels


def _rows(ids: Any, what: str, ignore_index: int) -> list[list[int]]:
    """One list of token ids per item, ``ignore_index`` dropped; a batch
    list (``eval_do_concat_batches=False``) flattened."""
    import numpy as np

    if isinstance(ids, list) and ids and all(hasattr(b, "shape") and len(b.shape) == 2 for b in ids):
        return [row for b in ids for row in _rows(b, what, ignore_index)]  # one array per batch
    if hasattr(ids, "detach"):  # a torch tensor (batch_eval_metrics)
        ids = ids.detach().cpu().numpy()
    if isinstance(ids, (list, tuple)) and ids and all(isinstance(r, (list, tuple)) for r in ids) \
            and len({len(r) for r in ids}) > 1:  # rows of different lengths, as lists
        return [_row(np.asarray(r), f"{what}[{i}]", ignore_index) for i, r in enumerate(ids)]
    try:
        a = np.asarray(ids)
    except ValueError:
        raise InputError(f"compute_metrics: {what} are ragged; expected one row of token ids per item") from None
    if a.dtype.kind == "f":
        if a.ndim == 3:
            raise InputError(f"compute_metrics: {what} are logits (shape {a.shape}), not token ids; set "
                             "predict_with_generate=True (Seq2SeqTrainingArguments) or return "
                             "logits.argmax(-1) from preprocess_logits_for_metrics")
        if not np.all(np.isfinite(a)) or not np.array_equal(a, np.round(a)):
            raise InputError(f"compute_metrics: {what} hold non-integer values; expected token ids")
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iu":
        raise InputError(f"compute_metrics: {what} have dtype {a.dtype}; expected integer token ids")
    if a.ndim != 2:
        raise InputError(f"compute_metrics: {what} have shape {a.shape}; expected (items, tokens)")
    return [_row(row, f"{what}[{i}]", ignore_index) for i, row in enumerate(a)]


def _row(row: Any, where: str, ignore_index: int) -> list[int]:
    if row.dtype.kind not in "iu" or row.ndim != 1:
        raise InputError(f"compute_metrics: {where} is not a row of integer token ids")
    row = row[row != ignore_index]
    if row.size and row.min() < 0:
        raise InputError(f"compute_metrics: {where} holds the negative token id {int(row.min())} "
                         f"(only the ignore index {ignore_index} is dropped)")
    return row.tolist()


def _decodes_spaced(tokenizer: Any) -> bool:
    """Whether ``tokenizer`` decodes Chinese with spaces between characters
    (BERT-style): common characters encoded and decoded once."""
    try:
        ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
        text = tokenizer.decode(ids, skip_special_tokens=True)
    except Exception:  # a tokenizer that cannot encode text: decide nothing
        return False
    return bool(_SPACED_HAN.search(text))
