"""Chinese-correct ROUGE-1/2/L for Hugging Face ``evaluate``, computed by
judgekit on jieba words (rouge-score semantics with a tokenizer that keeps
Chinese), deterministic (no bootstrap median), with judgekit's signature.
Loads offline from this folder: ``evaluate.load("metrics/judgekit_chinese_rouge")``;
needs ``pip install judgekit-empathy``.
From an install: ``evaluate.load(judgekit.hf.metric_path("judgekit_chinese_rouge"))`` (the copy shipped
in the package).
"""
from __future__ import annotations

import evaluate

from judgekit.hf import compute_ngram, rouge_metric_names, text_pair_features

_CITATION = """\
@misc{judgekit, title={judgekit: evaluation for empathetic and supportive dialogue systems}}
"""

_DESCRIPTION = """\
ROUGE-1, ROUGE-2 and ROUGE-L F (with -p precision and -r recall), clipped counts, mean over items,
best-F reference when there are several, on jieba-segmented Chinese (English: sacreBLEU 13a
tokens), as judgekit.evaluate computes it. evaluate's own `rouge` scores Chinese as 0 (its
tokenizer keeps only [a-z0-9]) and reports a bootstrap median; this one is exact and records the
segmentation in `signature`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of strings.
    references: list of strings, or list of lists of strings (several references per item).
    lang: "auto" (default), "zh" or "en".
    tokenizer: "jieba" (default for Chinese), "char", "zh", "13a", "intl", "whitespace".
    preset: re-enact a pipeline: "chatglm", "llamafactory", "glm4", "rouge-score", "rouge-chinese", "pltrdy-rouge".
    scale: 100 (default) or 1 (evaluate's `rouge` reports 0-1).
    rouge_types: as evaluate's `rouge` ("rouge1", "rouge3", "rougeL", "rougeLsum") or judgekit's names.
    use_stemmer: evaluate's `rouge` option (judgekit `stemmer`: preset "rouge-score", tokenizer "default").
    use_aggregator: True (default): the mean over items; False: per-item lists, as evaluate's `rouge`.
    Other judgekit.evaluate options pass through.
Returns:
    rouge-1, rouge-2, rouge-l (and -p, -r, and the types asked for), n_items, signature.
Examples:
    >>> rouge = evaluate.load("metrics/judgekit_chinese_rouge")
    >>> rouge.compute(predictions=["我理解你的感受"], references=["我能理解你的感受"])["rouge-l"]  # doctest: +SKIP
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JudgekitChineseRouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=text_pair_features(),
            reference_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions, references, rouge_types=None, use_stemmer=False, use_aggregator=True, **options):
        if rouge_types is not None:
            options["metrics"] = rouge_metric_names(rouge_types)
        if use_stemmer:
            options["stemmer"] = True
        return compute_ngram("rouge", predictions, references, per_item=not use_aggregator, **options)
