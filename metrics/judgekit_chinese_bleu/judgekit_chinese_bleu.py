"""Chinese-correct corpus BLEU-1..4 for Hugging Face ``evaluate``, computed
by judgekit (jieba words by default; characters, sacreBLEU ``zh`` and the
ChatGLM / LLaMA-Factory presets on request), with judgekit's signature in
the output.  Loads offline from this folder:
``evaluate.load("metrics/judgekit_chinese_bleu")``; needs ``pip install judgekit-empathy``.
From an install: ``evaluate.load(judgekit.hf.metric_path("judgekit_chinese_bleu"))`` (the copy shipped
in the package).
"""
from __future__ import annotations

import evaluate

from judgekit.hf import compute_ngram, text_pair_features

_CITATION = """\
@misc{judgekit, title={judgekit: evaluation for empathetic and supportive dialogue systems}}
"""

_DESCRIPTION = """\
Corpus BLEU-1..4 (cumulative, sacreBLEU arithmetic, exp smoothing, effective order) and the
individual-order BLEU-n on jieba-segmented Chinese (English: sacreBLEU 13a), as judgekit.evaluate
computes it. Unlike evaluate's `bleu`/`sacrebleu` with default settings, Chinese is not scored 0
or on characters by accident: the segmentation is chosen explicitly and recorded in `signature`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of strings.
    references: list of strings, or list of lists of strings (several references per item).
    lang: "auto" (default), "zh" or "en".
    tokenizer: "jieba" (default for Chinese), "char", "zh", "13a", "intl", "whitespace".
    preset: re-enact a pipeline: "chatglm", "llamafactory", "glm4", "sacrebleu".
    scale: 100 (default) or 1.
    smoothing: sacreBLEU's "none", "exp" (default), "floor", "add-k", nltk's "method0".."method7";
        a value after a colon: "floor:0.5", "add-k:2", "method1:0.2" (epsilon), "method4:3" (k).
    bleu_order: BLEU-1..n for this n (default 4; sacreBLEU's max_ngram_order).
    bleu_weights: with an nltk smoothing, a weight vector or a list of them (bleu-w1, bleu-w2, ...).
    auto_reweigh: nltk's auto_reweigh.
    Other judgekit.evaluate options (aggregate, effective_order, normalize, user_dicts, hmm, ...) pass through.
Returns:
    bleu-1 .. bleu-n (and bleu-n-ind, bleu-w*), n_items, signature.
Examples:
    >>> bleu = evaluate.load("metrics/judgekit_chinese_bleu")
    >>> bleu.compute(predictions=["我理解你的感受"], references=["我能理解你的感受"])["bleu-1"]  # doctest: +SKIP
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class JudgekitChineseBleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=text_pair_features(),
            reference_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(self, predictions, references, **options):
        return compute_ngram("bleu", predictions, references, **options)
