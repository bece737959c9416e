"""Bridges to other tools: consumers of ``judgekit.evaluate`` and the reports.

Each module imports its tool only when called, never at ``import judgekit``
time: ``transformers.compute_metrics`` for transformers' ``Trainer`` /
``Seq2SeqTrainer`` and the loops built on them (ChatGLM's ptuning
``main.py``, LLaMA-Factory); ``tracking.log_mlflow`` / ``log_wandb`` for
experiment trackers.
"""
