"""An LLM empathy judge for Hugging Face ``evaluate``: judgekit's rubric
judges (default ``empathy-3pt``) on any OpenAI-compatible server, with its
SQLite cache and replay-only mode.  Unscored items are counted, never
turned into a score.  Loads offline from this folder:
``evaluate.load("metrics/judgekit_empathy_judge")``; needs ``pip install judgekit-empathy``.
From an install: ``evaluate.load(judgekit.hf.metric_path("judgekit_empathy_judge"))`` (the copy shipped
in the package).
"""
from __future__ import annotations

import datasets
import evaluate

_CITATION = """\
@misc{judgekit, title={judgekit: evaluation for empathetic and supportive dialogue systems}}
"""

_DESCRIPTION = """\
Rates each reply with a rubric-driven LLM judge (judgekit.judge) and returns, per rubric dimension,
the mean over the scored replies, with the counts of scored and unscored replies and the judge's
signature (model, host, rubric id@version+hash, parser, sampling). The API key is read from
$OPENAI_API_KEY (or api_key_env) and never appears in the output.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of replies to rate (the rubric's `response` input).
    contexts: list of what each reply answers (the rubric's `context` or `dialogue` input).
    model: the judge model as the server knows it (required unless replay_only with a filled cache).
    rubric: a built-in rubric id or a .yaml path (default "empathy-3pt").
    base_url: OpenAI-compatible base URL (default $OPENAI_BASE_URL or OpenAI).
    cache: SQLite cache file; replay_only=True answers from it alone (no network).
    Other judgekit.judge.Judge settings (language, temperature, samples, ...) pass through.
Returns:
    one mean per dimension, n_scored, n_unscored, unscored_ids, per_item (id, status, scores), signature.
Examples:
    >>> judge = evaluate.load("metrics/judgekit_empathy_judge")
    >>> judge.compute(predictions=["听起来你很难过。"], contexts=["我失恋了。"], model="gpt-4o-mini")  # doctest: +SKIP
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JudgekitEmpathyJudge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "contexts": datasets.Value("string")}),
        )

    def _compute(self, predictions, contexts, rubric="empathy-3pt", **settings):
        import json

        from judgekit.judge import Judge

        result = Judge(rubric=rubric, **settings).score_pairs(list(predictions), None, list(contexts))
        summary = result.summary
        frame = result.per_item
        dims = [d for d in summary["means"]]
        out = {d: (float(v) if v == v else None) for d, v in summary["means"].items()}
        out["n_scored"] = int(summary["n_scored"])
        out["n_unscored"] = int(summary["n_unscored"])
        out["unscored_ids"] = frame.loc[frame["status"] != "scored", "id"].tolist()
        out["per_item"] = json.loads(frame[["id", "status", *dims]].to_json(orient="records", force_ascii=False))
        out["signature"] = str(result.signature)
        return out
