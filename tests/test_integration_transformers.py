"""``judgekit.integrations.transformers.compute_metrics`` inside a real
``Seq2SeqTrainer``: a tiny T5 built here (no download), trained for a few
seconds on real SmileChat text so that its generations differ in length
(the Trainer then pads the *predictions* with -100), with a BertTokenizer
from a vocabulary written here (it decodes Chinese with a space between
characters: the BERT-style case)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import judgekit  # noqa: E402
from judgekit.errors import InputError  # noqa: E402
from judgekit.integrations.transformers import compute_metrics, join_cjk_spaces  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ALPHABET = "我理解你的是感受。，！？正常"  # in the vocabulary whatever the data holds


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(tokenizer, Seq2SeqTrainer) on 12 SmileChat items (context -> a
    prefix of the reply), trained enough to end its replies at different
    lengths."""
    from transformers import (BertTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments,
                              T5Config, T5ForConditionalGeneration)

    rows = [json.loads(line) for line in open(ROOT / "examples" / "smilechat-100.jsonl", encoding="utf-8")][:12]
    contexts = [r["context"][:16] for r in rows]
    replies = [r["ref"][: 3 + i % 8] for i, r in enumerate(rows)]
    chars = sorted(set("".join(contexts + replies)) | set(ALPHABET))
    d = tmp_path_factory.mktemp("tiny")
    (d / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n",
                                 encoding="utf-8")
    tok = BertTokenizer(str(d / "vocab.txt"))
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1,
                      num_heads=2, pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id,
                      decoder_start_token_id=tok.pad_token_id)
    model = T5ForConditionalGeneration(config)
    model.generation_config.max_length = 6       # shorter batches are padded to 6 with [PAD],
    model.generation_config.max_new_tokens = 12  # longer ones to 13: concatenated, -100 fills the gap
    data = [{"input_ids": tok(c)["input_ids"],
             "labels": tok(r, add_special_tokens=False)["input_ids"] + [tok.sep_token_id]}
            for c, r in zip(contexts, replies)]
    args = Seq2SeqTrainingArguments(output_dir=str(d / "out"), per_device_train_batch_size=6,
                                    per_device_eval_batch_size=1, num_train_epochs=25, learning_rate=2e-2,
                                    predict_with_generate=True, report_to=[], use_cpu=True, logging_strategy="no",
                                    save_strategy="no", disable_tqdm=True, seed=0)
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=data, eval_dataset=data,
                             data_collator=DataCollatorForSeq2Seq(tok, model=model), processing_class=tok)
    trainer.train()
    return tok, trainer


def _run(trainer, metric_fn):
    """``trainer.evaluate()`` with ``metric_fn``, and the arrays it was given."""
    seen = {}

    def wrapped(eval_preds):
        seen["preds"], seen["labels"] = np.array(eval_preds.predictions), np.array(eval_preds.label_ids)
        return metric_fn(eval_preds)

    trainer.compute_metrics = wrapped
    try:
        return trainer.evaluate(), seen
    finally:
        trainer.compute_metrics = None


def _decode_by_hand(tok, ids):
    """The reference decoding: -100 -> [PAD], special tokens skipped, the
    BERT-style spaces removed (the vocabulary is Chinese characters only)."""
    ids = np.where(ids != -100, ids, tok.pad_token_id)
    return ["".join(t.split()) for t in tok.batch_decode(ids, skip_special_tokens=True)]


def test_seq2seq_trainer_logs_judgekit_metrics_equal_to_evaluate(trained):
    tok, trainer = trained
    logs: list[str] = []
    cm = compute_metrics(tok, log=logs.append)
    metrics, seen = _run(trainer, cm)
    # the case the usual glue crashes on: -100 in the predictions, not only the labels
    assert (seen["preds"] == -100).any() and (seen["labels"] == -100).any()
    with pytest.raises(OverflowError):
        tok.batch_decode(np.where(seen["labels"] != -100, seen["labels"], tok.pad_token_id), skip_special_tokens=True)
        tok.batch_decode(seen["preds"], skip_special_tokens=True)
    preds, refs = _decode_by_hand(tok, seen["preds"]), _decode_by_hand(tok, seen["labels"])
    assert cm.texts == (preds, refs)
    assert sum(map(bool, preds)) >= 6 and all(refs)  # real text was scored
    expected = judgekit.evaluate(preds, refs)
    assert {"eval_bleu-4", "eval_rouge-l", "eval_bleu-1", "eval_rouge-1", "eval_rouge-2", "eval_distinct-1"} <= set(metrics)
    for name, value in expected.scores.items():
        assert metrics[f"eval_{name}"] == value, name      # exactly: same text, same numbers
        assert type(metrics[f"eval_{name}"]) is float
    assert metrics["eval_rouge-1"] > 0
    # the signature, logged once, says how the text was decoded
    assert cm.result.signature["decode"] == "skip-special+join-cjk+drop.-100"
    assert cm.result.signature.without("decode") == expected.signature
    sig_lines = [line for line in logs if "signature:" in line]
    assert len(sig_lines) == 1 and str(cm.result.signature) in sig_lines[0]
    _run(trainer, cm)
    assert len([line for line in logs if "signature:" in line]) == 1  # not again on the next evaluation
    assert not any("space-separated" in w for w in cm.result.warnings)


def test_the_signature_goes_to_stderr_by_default(trained, capsys):
    tok, _ = trained
    ids = np.array([tok("我是你的", add_special_tokens=False)["input_ids"]])
    cm = compute_metrics(tok)
    cm((ids, ids))
    cm((ids, ids))
    out = capsys.readouterr()
    assert out.out == "" and out.err == f"judgekit: 1 item, signature: {cm.result.signature}\n"
    quiet = compute_metrics(tok, log=False)
    quiet((ids, ids))
    assert capsys.readouterr().err == ""


def test_preset_chatglm_in_the_trainer(trained):
    tok, trainer = trained
    cm = compute_metrics(tok, preset="chatglm", log=False)
    metrics, seen = _run(trainer, cm)
    preds, refs = _decode_by_hand(tok, seen["preds"]), _decode_by_hand(tok, seen["labels"])
    expected = judgekit.evaluate(preds, refs, preset="chatglm").scores
    assert sorted(k for k in metrics if k.startswith("eval_") and k[5:] in expected) == \
        ["eval_bleu-4", "eval_rouge-1", "eval_rouge-2", "eval_rouge-l"]
    assert {k: metrics[f"eval_{k}"] for k in expected} == expected


def test_batch_eval_metrics_gives_the_same_numbers(trained):
    tok, trainer = trained
    whole = compute_metrics(tok, log=False)
    metrics, _ = _run(trainer, whole)
    batched = compute_metrics(tok, log=False)
    old = trainer.args.batch_eval_metrics
    trainer.args.batch_eval_metrics = True
    trainer.compute_metrics = batched
    try:
        per_batch = trainer.evaluate()
    finally:
        trainer.args.batch_eval_metrics = old
        trainer.compute_metrics = None
    assert batched.texts == whole.texts
    assert {k: v for k, v in per_batch.items() if k[5:] in whole.result.scores} == \
        {k: v for k, v in metrics.items() if k[5:] in whole.result.scores}


def test_join_cjk_false_warns_and_auto_leaves_sentencepiece_alone(trained):
    tok, _ = trained
    ids = np.array([tok("我是你的我是你的", add_special_tokens=False)["input_ids"]] * 5)
    logs: list[str] = []
    kept = compute_metrics(tok, join_cjk=False, log=logs.append)
    kept((ids, ids))
    assert kept.texts[0][0] == "我 是 你 的 我 是 你 的"
    assert any("space-separated" in w for w in kept.result.warnings)
    assert any("warning:" in line and "space-separated" in line for line in logs)
    assert kept.result.signature["decode"] == "skip-special+drop.-100"

    class Joined:  # a tokenizer that decodes Chinese without spaces (sentencepiece, BPE)
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": tok(text, add_special_tokens=False)["input_ids"]}

        def decode(self, ids, skip_special_tokens=True):
            return "".join(tok.decode(ids, skip_special_tokens=skip_special_tokens).split())

        def batch_decode(self, rows, skip_special_tokens=True):
            return [self.decode(r) + " ok" for r in rows]

    auto = compute_metrics(Joined(), log=False)
    auto((ids, ids))
    assert auto.texts[0][0] == "我是你的我是你的 ok" and auto.join_cjk is False


@given(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=30).map("".join),
       st.lists(st.integers(0, 40), max_size=5))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_bert_decoding_joined_back_and_ignore_index_anywhere(trained, text, holes):
    """Chinese decoded by the BERT tokenizer and joined equals the text; -100
    anywhere in the ids changes nothing."""
    tok, _ = trained
    ids = [tok.cls_token_id, *tok(text, add_special_tokens=False)["input_ids"], tok.sep_token_id]
    assert join_cjk_spaces(tok.decode(ids, skip_special_tokens=True)) == text
    holed = list(ids)
    for h in holes:
        holed.insert(h % (len(holed) + 1), -100)
    cm = compute_metrics(tok, log=False)
    assert cm.decode(np.array([holed]), "predictions") == [text]


def test_join_cjk_spaces():
    assert join_cjk_spaces("你 好 ， gpt - 4 写 了 ！ ok fine") == "你好，gpt - 4写了！ok fine"
    assert join_cjk_spaces("I love  北京 .") == "I love北京."
    assert join_cjk_spaces("no chinese here") == "no chinese here"


def test_bad_predictions_are_named(trained):
    tok, _ = trained
    cm = compute_metrics(tok, log=False)
    labels = np.array([[5, 6, 3]])
    with pytest.raises(InputError, match="logits"):
        cm((np.zeros((1, 3, 7), dtype=np.float32), labels))
    with pytest.raises(InputError, match=r"predictions\[1\] holds the negative token id -1"):
        cm((np.array([[5, 6], [5, -1]]), np.array([[5, 6], [5, 6]])))
    with pytest.raises(InputError, match="no labels"):
        cm((labels, None))
    with pytest.raises(InputError, match="2 predictions but 1 labels"):
        cm((np.array([[5], [6]]), labels))
    with pytest.raises(InputError, match="join_cjk"):
        compute_metrics(tok, join_cjk="yes")
    # tuples (ids, ...) and float-typed ids as numpy may carry them
    out = cm(((np.array([[5.0, 6.0, -100.0]]), None), labels))
    assert cm.texts == ([tok.decode([5, 6]).replace(" ", "")], [tok.decode([5, 6]).replace(" ", "")])
    assert out["bleu-4"] == judgekit.evaluate(*cm.texts).scores["bleu-4"] == pytest.approx(100)
    # one array per batch (eval_do_concat_batches=False) and rows as lists of different lengths
    batches = [np.array([[5, 6, -100]]), np.array([[6, 5]])]
    cm((batches, [[5, 6], [6, 5, 3]]))
    whole = tok.batch_decode([[5, 6], [6, 5]])
    assert cm.texts == ([t.replace(" ", "") for t in whole], [t.replace(" ", "") for t in whole])
    with pytest.raises(InputError, match=r"labels\[1\] holds the negative token id -7"):
        cm((batches, [[5, 6], [-7, 5, 3]]))


def test_import_judgekit_loads_no_transformers():
    code = ("import sys, judgekit, judgekit.integrations.transformers as t; "
            "print(sorted(m for m in ('transformers', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip() == "[]"
