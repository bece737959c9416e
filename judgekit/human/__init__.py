"""Released human ratings, agreement statistics, the human ceiling, judge calibration
and study statistics.

Public API:

- ``load_ratings(name, data_dir=None, **opts)``: a tidy long table
  (item, framework, dimension, rater, rater_kind, score, scale_min, scale_max, ...).
- ``agreement(...)`` -> ``AgreementReport``; ``panel_agreement(...)`` -> ``PanelReport``.
- ``human_ceiling(...)`` -> ``CeilingReport``.
- ``Calibrator``, ``calibrate(...)`` -> ``CalibrationReport``.
- ``study(...)`` -> ``StudyReport``; ``read_welivita(path)``, ``download_welivita(dest_dir)``.
- Files: ``read_table(path)`` (a tidy rating table, validated), ``read_scores(path,
  score_field=...)`` (judge scores by item id); both read through ``judgekit.io``.
- ``judge_items(name, framework=None)`` -> ``[JudgeItems]``: the released items as
  judge inputs (rating-table ids, the matching built-in rubric's input fields).
- ``ceiling_summary(...)`` -> ``CeilingSummary``: the ceiling of every dimension, one line each.
- Table helpers: ``validate_table(table)``, ``select_ratings(table, framework=, dimension=)``,
  ``resolve_raters(table, spec)`` (names from a rater, a kind or a list),
  ``rater_matrix(table, raters)`` (items x raters), ``combine_raters(matrix, how)``
  (median or mean per item), ``rating_scale(table)`` (the declared (min, max) or None).

Modules load on first use so that ``import judgekit`` stays fast.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "load_ratings", "agreement", "panel_agreement", "human_ceiling", "calibrate", "Calibrator",
    "study", "read_welivita", "download_welivita",
    "AgreementReport", "PanelReport", "CeilingReport", "CalibrationReport", "StudyReport",
    "read_table", "read_scores", "ceiling_summary", "CeilingSummary", "rating_scores",
    "validate_table", "select_ratings", "resolve_raters", "rater_matrix", "combine_raters", "rating_scale",
    "judge_items", "JudgeItems",
]

# public name -> (module, name in that module)
_LAZY = {
    "load_ratings": ("judgekit.human.datasets", "load_ratings"),
    "agreement": ("judgekit.human._agreement", "agreement"),
    "panel_agreement": ("judgekit.human._agreement", "panel_agreement"),
    "AgreementReport": ("judgekit.human._agreement", "AgreementReport"),
    "PanelReport": ("judgekit.human._agreement", "PanelReport"),
    "human_ceiling": ("judgekit.human.ceiling", "human_ceiling"),
    "CeilingReport": ("judgekit.human.ceiling", "CeilingReport"),
    "ceiling_summary": ("judgekit.human.ceiling", "ceiling_summary"),
    "CeilingSummary": ("judgekit.human.ceiling", "CeilingSummary"),
    "calibrate": ("judgekit.human._calibrate", "calibrate"),
    "Calibrator": ("judgekit.human._calibrate", "Calibrator"),
    "CalibrationReport": ("judgekit.human._calibrate", "CalibrationReport"),
    "study": ("judgekit.human._study", "study"),
    "StudyReport": ("judgekit.human._study", "StudyReport"),
    "read_welivita": ("judgekit.human._load_welivita", "read_welivita"),
    "download_welivita": ("judgekit.human._load_welivita", "download_welivita"),
    "read_table": ("judgekit.human._files", "read_table"),
    "rating_scores": ("judgekit.human._scores", "rating_scores"),
    "read_scores": ("judgekit.human._files", "read_scores"),
    "validate_table": ("judgekit.human._table", "validate_table"),
    "select_ratings": ("judgekit.human._table", "select"),
    "resolve_raters": ("judgekit.human._table", "resolve_raters"),
    "rater_matrix": ("judgekit.human._table", "wide"),
    "combine_raters": ("judgekit.human._table", "aggregate"),
    "rating_scale": ("judgekit.human._table", "scale_of"),
    "judge_items": ("judgekit.human._items", "judge_items"),
    "JudgeItems": ("judgekit.human._items", "JudgeItems"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        home = _LAZY[name][0]
        module = importlib.import_module(home)
        # Bind every public name of that module: importing a submodule would
        # otherwise leave the *module* where a function of the same name belongs.
        for public, (where, attr) in _LAZY.items():
            if where == home:
                globals()[public] = getattr(module, attr)
        return globals()[name]
    raise AttributeError(f"module 'judgekit.human' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
