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
    "agreement": "judgekit.human._agreement",
    "panel_agreement": "judgekit.human._agreement",
    "AgreementReport": "judgekit.human._agreement",
    "PanelReport": "judgekit.human._agreement",
    "human_ceiling": "judgekit.human.ceiling",
    "CeilingReport": "judgekit.human.ceiling",
    "calibrate": "judgekit.human._calibrate",
    "Calibrator": "judgekit.human._calibrate",
    "CalibrationReport": "judgekit.human._calibrate",
    "study": "judgekit.human._study",
    "StudyReport": "judgekit.human._study",
    "read_welivita": "judgekit.human._load_welivita",
    "download_welivita": "judgekit.human._load_welivita",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        # Bind every public name of that module: importing a submodule would
        # otherwise leave the *module* where a function of the same name belongs.
        for public, home in _LAZY.items():
            if home == _LAZY[name]:
                globals()[public] = getattr(module, public)
        return globals()[name]
    raise AttributeError(f"module 'judgekit.human' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
