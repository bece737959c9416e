"""Released human ratings, agreement statistics, the human ceiling, judge calibration
and study statistics.

Public API:

- ``load_ratings(name, data_dir=None, **opts)``: a tidy long table
  (item, framework, dimension, rater, rater_kind, score, scale_min, scale_max, ...).
- ``agreement(...)`` -> ``AgreementReport``; ``panel_agreement(...)`` -> ``PanelReport``.
- ``human_ceiling(...)`` -> ``CeilingReport``.
- ``Calibrator``, ``calibrate(...)`` -> ``CalibrationReport``.
- ``study(...)`` -> ``StudyReport``; ``read_welivita(path)``, ``download_welivita(dest_dir)``.

Modules load on first use so that ``import judgekit`` stays fast.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "load_ratings", "agreement", "panel_agreement", "human_ceiling", "calibrate", "Calibrator",
    "study", "read_welivita", "download_welivita",
    "AgreementReport", "PanelReport", "CeilingReport", "CalibrationReport", "StudyReport",
]

_LAZY = {
    "load_ratings": "judgekit.human.datasets",
    "agreement": "judgekit.human.agreement",
    "panel_agreement": "judgekit.human.agreement",
    "AgreementReport": "judgekit.human.agreement",
    "PanelReport": "judgekit.human.agreement",
    "human_ceiling": "judgekit.human.ceiling",
    "CeilingReport": "judgekit.human.ceiling",
    "calibrate": "judgekit.human.calibrate",
    "Calibrator": "judgekit.human.calibrate",
    "CalibrationReport": "judgekit.human.calibrate",
    "study": "judgekit.human.study",
    "StudyReport": "judgekit.human.study",
    "read_welivita": "judgekit.human._load_welivita",
    "download_welivita": "judgekit.human._load_welivita",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'judgekit.human' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
