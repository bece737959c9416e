"""The prediction/reference field options' help, from the one table of
recognised names (``judgekit.io.FIELD_NAMES``), for every command that
reads pairs."""
from __future__ import annotations

from ..io import FIELD_NAMES


def field_help(role: str) -> str:
    """``--pred-field`` / ``--ref-field`` help: the default and the other
    pipelines' names taken when exactly one is present."""
    own, *others = FIELD_NAMES[role]
    what = "prediction" if role == "pred" else "reference, a string or a list of strings"
    extra = ": LLaMA-Factory's generated_predictions.jsonl needs no flag" if role == "pred" else ""
    return f"field/column of the {what} (default: {own}, else the one of {', '.join(others)} present{extra})"
