"""Glue for training frameworks: consumers of ``judgekit.evaluate``.

Each module here works on what its framework hands over (token ids, a
tokenizer) and imports nothing of the framework at ``import judgekit`` time:
``judgekit.integrations.transformers.compute_metrics`` for transformers'
``Trainer`` / ``Seq2SeqTrainer`` and the loops built on them (ChatGLM's
ptuning ``main.py``, LLaMA-Factory).
"""
