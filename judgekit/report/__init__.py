"""Leaderboards and reports: several systems on the same items, with
confidence intervals and paired significance tests against a baseline, as
Markdown, CSV, a self-contained HTML page and plots.

Public API::

    from judgekit.report import leaderboard, compare, paired_bootstrap, paired_randomization, bootstrap_ci
    lb = leaderboard({"A": preds_a, "B": preds_b}, refs, baseline="A")   # texts: scored here first
    lb = compare({"A": scores_a, "B": scores_b}, baseline="A")          # or judgekit.Scores in, tables out
    lb.write("out/")          # leaderboard.md, .csv, .html, .tex and plots (PNG 300 dpi, SVG; PDF on request)
    lb.to_latex()             # the booktabs table alone, for a paper
"""
from __future__ import annotations

from ._leaderboard import Leaderboard, compare, leaderboard, score_systems
from .significance import AggregateScore, PairedTest, bootstrap_aggregate, bootstrap_ci, paired_bootstrap, \
    paired_randomization

__all__ = ["leaderboard", "compare", "score_systems", "Leaderboard", "paired_bootstrap", "paired_randomization",
           "bootstrap_ci", "bootstrap_aggregate", "AggregateScore", "PairedTest"]
