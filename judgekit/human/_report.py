"""Shared pieces of the human-rating reports: a figure with its interval, JSON, text tables."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

LABELS = {
    "kappa": "Cohen's kappa (unweighted)",
    "kappa_linear": "Cohen's kappa (linear)",
    "kappa_quadratic": "Cohen's kappa (quadratic)",
    "spearman": "Spearman rho",
    "kendall_tau_b": "Kendall tau-b",
    "pearson": "Pearson r",
    "exact_accuracy": "exact accuracy",
    "within_one_accuracy": "within-one accuracy",
    "mae": "mean absolute error",
    "bias": "mean bias (a - b)",
    "fleiss_kappa": "Fleiss' kappa",
    "alpha_nominal": "Krippendorff alpha (nominal)",
    "alpha_ordinal": "Krippendorff alpha (ordinal)",
    "alpha_interval": "Krippendorff alpha (interval)",
    "alpha_ratio": "Krippendorff alpha (ratio)",
}


@dataclass
class Figure:
    """One statistic: point estimate, bootstrap interval, items used and missing."""

    name: str
    estimate: float
    ci_low: float
    ci_high: float
    n_items: int
    n_missing: int
    n_boot_undefined: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("estimate", "ci_low", "ci_high"):
            d[k] = _num(d[k])
        d["extra"] = {k: _num(v) if isinstance(v, float) else v for k, v in d["extra"].items()}
        return d


def _num(v: float) -> float | None:
    """JSON has no NaN: undefined figures are written as null."""
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)


def fmt(v: float, digits: int = 3) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def p_value(p: float | None) -> str:
    """A p-value the one way every report prints it: 'p=0.042', 'p<.001', 'p=n/a'."""
    if p is None or not math.isfinite(p):
        return "p=n/a"
    return "p<.001" if p < 0.001 else f"p={p:.3f}"


def figure_table(figures: list[Figure], *, level: float, show_n: bool = True) -> list[str]:
    pct = f"{round(level * 100):d}% CI"
    head = f"  {'statistic':<30} {'estimate':>9}   {pct:<17}"
    if show_n:
        head += f" {'items':>6} {'missing':>7}"
    lines = [head]
    for f in figures:
        ci = f"[{fmt(f.ci_low)}, {fmt(f.ci_high)}]" if math.isfinite(f.ci_low) else "n/a"
        row = f"  {LABELS.get(f.name, f.name):<30} {fmt(f.estimate):>9}   {ci:<17}"
        if show_n:
            row += f" {f.n_items:>6} {f.n_missing:>7}"
        lines.append(row)
    return lines


class ReportMixin:
    """``to_json`` and ``__str__`` from ``to_dict`` and ``_lines``; ``report[name]`` finds a figure."""

    figures: list[Figure]

    def __getitem__(self, name: str) -> Figure:
        for f in getattr(self, "figures", []):
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("indent", 2)
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, **kwargs)

    def _lines(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __str__(self) -> str:
        return "\n".join(line.rstrip() for line in self._lines())
