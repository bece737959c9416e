"""The reference pipelines, run as each one runs them: the oracles of the
differential tests.  Test-only: nltk, rouge-chinese and rouge-score are test
extras, never runtime dependencies of judgekit."""
from __future__ import annotations

import warnings

import numpy as np

warnings.filterwarnings("ignore", message=".*counts of .*-gram overlaps.*")


def _jieba():
    import jieba

    jieba.setLogLevel(60)
    return jieba


def chatglm(preds, refs, guard=False):
    """ChatGLM-6B ptuning compute_metrics; guard=True is LLaMA-Factory's."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge_chinese import Rouge

    jieba = _jieba()
    score = {"rouge-1": [], "rouge-2": [], "rouge-l": [], "bleu-4": []}
    for pred, label in zip(preds, refs):
        hyp, ref = list(jieba.cut(pred)), list(jieba.cut(label))
        if guard and (len(" ".join(hyp).split()) == 0 or len(" ".join(ref).split()) == 0):
            result = {"rouge-1": {"f": 0.0}, "rouge-2": {"f": 0.0}, "rouge-l": {"f": 0.0}}
        else:
            result = Rouge().get_scores(" ".join(hyp), " ".join(ref))[0]
        for k, v in result.items():
            score[k].append(round(v["f"] * 100, 4))
        b = sentence_bleu([list(label)], list(pred), smoothing_function=SmoothingFunction().method3)
        score["bleu-4"].append(round(b * 100, 4))
    return {k: float(np.mean(v)) for k, v in score.items()}


def glm4(preds, refs):
    """ChatGLM3 finetune_hf.py / GLM-4 finetune.py compute_metrics."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge_chinese import Rouge

    jieba = _jieba()
    d = {"rouge-1": [], "rouge-2": [], "rouge-l": [], "bleu-4": []}
    for pred, label in zip(preds, refs):
        p, l = pred.strip(), label.strip()
        pt, lt = list(jieba.cut(p)), list(jieba.cut(l))
        s = Rouge().get_scores(" ".join(pt), " ".join(lt))[0]
        for k, v in s.items():
            d[k].append(round(v["f"] * 100, 4))
        d["bleu-4"].append(sentence_bleu([lt], pt, smoothing_function=SmoothingFunction().method3))
    return {k: float(np.mean(v)) for k, v in d.items()}


def sacrebleu_corpus(preds, refs, tokenize="zh"):
    """Cumulative corpus BLEU-1..4; refs: a list of references per item."""
    from sacrebleu.metrics import BLEU

    nref = max(len(r) for r in refs)
    streams = [[rs[i] if i < len(rs) else None for rs in refs] for i in range(nref)]
    return {f"bleu-{n}": BLEU(tokenize=tokenize, max_ngram_order=n).corpus_score(list(preds), streams).score
            for n in range(1, 5)}


class _Tok:
    def __init__(self, fn):
        self.fn = fn

    def tokenize(self, text):
        return self.fn(text)


def rouge_score_mean(preds, refs, tokenize=None):
    """rouge-score rouge1/2/L, mean P/R/F; refs: lists; score_multi for >1."""
    from rouge_score import rouge_scorer

    types = ["rouge1", "rouge2", "rougeL"]
    sc = rouge_scorer.RougeScorer(types, tokenizer=_Tok(tokenize) if tokenize else None)
    acc = {}
    for p, rs in zip(preds, refs):
        s = sc.score_multi(rs, p) if len(rs) > 1 else sc.score(rs[0], p)
        for t, name in zip(types, ["1", "2", "l"]):
            acc.setdefault(f"rouge-{name}", []).append(s[t].fmeasure)
            acc.setdefault(f"rouge-{name}-p", []).append(s[t].precision)
            acc.setdefault(f"rouge-{name}-r", []).append(s[t].recall)
    return {k: float(np.mean(v)) for k, v in acc.items()}


def jieba_tokens(text):
    return list(_jieba().cut(text))


def nltk_sentence_mean(hyps, refs, weights, smoothing):
    """Mean of nltk sentence_bleu over pre-tokenized items (one call per item
    with a list of weight vectors)."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    sf = getattr(SmoothingFunction(), smoothing)
    acc = np.zeros(len(weights))
    rows = []
    for h, rs in zip(hyps, refs):
        v = sentence_bleu(rs, h, weights=weights, smoothing_function=sf)
        rows.append(v)
        acc += np.array(v)
    return acc / len(hyps), rows


def nltk_corpus(hyps, refs, weights, smoothing):
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    sf = getattr(SmoothingFunction(), smoothing)
    v = corpus_bleu(refs, hyps, weights=weights, smoothing_function=sf)
    return v if isinstance(v, list) else [v]


def rouge_chinese_scores(hyp_tokens, ref_tokens):
    """rouge-chinese r/p/f for one pair of token lists (raises on empty)."""
    from rouge_chinese import Rouge

    return Rouge().get_scores(" ".join(hyp_tokens), " ".join(ref_tokens))[0]
