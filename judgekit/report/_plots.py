"""Plots of a leaderboard with matplotlib (the optional ``plot`` extra,
imported only here and only when a plot is asked for):

- ``metrics.png``: one panel per metric, a bar per system with its 95%
  bootstrap interval, the baseline hatched and significant systems starred;
- ``levels-<dim>.png``: Bad / Okay / Good stacked bars per system for each
  3-level judge dimension;
- ``emotions.png``: a per-emotion heatmap (systems x emotions).

Each as PNG (300 dpi in files, 100 inlined in the page), SVG and PDF; a
bar without an interval is labelled "no CI" instead of drawing none.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

from ..errors import MissingPlotExtra


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingPlotExtra("plots need matplotlib: pip install 'judgekit-empathy[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    _cjk_font(matplotlib)
    return plt


def _cjk_font(matplotlib: Any) -> None:
    """Use an installed CJK font when there is one, so Chinese labels
    (system names, emotions) do not show as boxes."""
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Source Han Sans SC",
              "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC")
    have = {f.name for f in font_manager.fontManager.ttflist}
    if not any(w in have for w in wanted):
        # matplotlib's font cache predates fonts installed later: add CJK files
        for path in font_manager.findSystemFonts():
            low = path.lower()
            if any(k in low for k in ("wqy", "notosanscjk", "noto-cjk", "sourcehansans", "simhei", "msyh")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        have = {f.name for f in font_manager.fontManager.ttflist}
    found = [w for w in wanted if w in have]
    if found:
        matplotlib.rcParams["font.sans-serif"] = found + list(matplotlib.rcParams["font.sans-serif"])


def _short(name: Any, width: int = 18) -> str:
    text = str(name)
    return text if len(text) <= width else text[: width - 1] + "…"


def _metrics_figure(plt: Any, lb: Any) -> Any:
    cols = lb.columns
    ncols = min(4, len(cols))
    nrows = math.ceil(len(cols) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.8 * nrows), squeeze=False)
    x = list(range(len(lb.systems)))
    for ax, c in zip(axes.ravel(), cols):
        vals = [float(lb.scores.at[s, c]) for s in lb.systems]
        lo = [lb.ci.get((s, c), (math.nan, math.nan))[0] for s in lb.systems]
        hi = [lb.ci.get((s, c), (math.nan, math.nan))[1] for s in lb.systems]
        err = [[max(0.0, v - a) if math.isfinite(a) else 0.0 for v, a in zip(vals, lo)],
               [max(0.0, b - v) if math.isfinite(b) else 0.0 for v, b in zip(vals, hi)]]
        bars = ax.bar(x, [v if math.isfinite(v) else 0.0 for v in vals], yerr=err, capsize=3,
                      color=["#bbbbbb" if s == lb.baseline else "#4c72b0" for s in lb.systems])
        for b, s, v, top in zip(bars, lb.systems, vals, hi):
            if (s, c) not in lb.ci and math.isfinite(v):  # no interval: say so, not a zero-width bar
                ax.annotate("no CI", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=6,
                            color="#555555")
            if lb.significant(s, c):
                y = top if math.isfinite(top) else v
                ax.annotate("*", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=12,
                            color="#b00000")
        # headroom above the highest whisker for the "*" and "no CI" marks, so they stay under the title
        tops = [t for t in (*vals, *hi) if math.isfinite(t)]
        bottom, _ = ax.get_ylim()
        if tops and max(tops) > bottom:
            ax.set_ylim(bottom, max(tops) + 0.18 * (max(tops) - bottom))
        ax.set_title(c, fontsize=9)
        ax.set_xticks(x)
        ax.set_xticklabels([_short(s) for s in lb.systems], rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes.ravel()[len(cols):]:
        ax.set_visible(False)
    fig.suptitle(f"95% bootstrap CIs; * differs from {_short(lb.baseline)}", fontsize=9)
    fig.tight_layout()
    return fig


def _levels_figure(plt: Any, dim: str, table: Any) -> Any:
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(table), 3.2))
    bottom = [0.0] * len(table)
    colors = {"Bad": "#d9534f", "Okay": "#f0ad4e", "Good": "#5cb85c"}
    names = [_short(s) for s in table.index]
    for level in table.columns:
        vals = [100 * (v if math.isfinite(v) else 0.0) for v in table[level]]
        ax.bar(names, vals, bottom=bottom, label=level, color=colors.get(level))
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_ylabel("% of scored items")
    ax.set_ylim(0, 100)
    ax.set_title(dim, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def _emotions_figure(plt: Any, lb: Any) -> Any:
    t = lb.emotions
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * t.shape[1], 1.2 + 0.5 * t.shape[0]))
    im = ax.imshow(t.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(t.shape[1]))
    ax.set_xticklabels([_short(c) for c in t.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(t.shape[0]))
    ax.set_yticklabels([_short(s) for s in t.index], fontsize=8)
    ax.set_title(f"{lb.emotion_metric} per emotion", fontsize=9)
    values = t.to_numpy(dtype=float)
    if values.size <= 400:  # small enough to read the numbers in the cells
        lo, hi = (float(values[values == values].min()), float(values[values == values].max())) \
            if (values == values).any() else (0.0, 0.0)
        digits = 1 if max(abs(lo), abs(hi)) > 5 else 2
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                if v == v:
                    dark = hi > lo and (v - lo) / (hi - lo) < 0.5
                    ax.text(j, i, f"{v:.{digits}f}", ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def _figures(lb: Any):
    plt = _pyplot()
    yield "metrics", plt, _metrics_figure(plt, lb)
    for dim, table in lb.levels.items():
        yield f"levels-{dim}", plt, _levels_figure(plt, dim, table)
    if lb.emotions is not None and lb.emotions.size:
        yield "emotions", plt, _emotions_figure(plt, lb)


PRINT_DPI = 300  # PNG files for print; the page inlines 100 dpi


def render(lb: Any, formats: tuple[str, ...] = ("png",), dpi: int = 100) -> list[tuple[str, str, bytes]]:
    """(figure name, format, bytes) of every figure in every format: vector
    SVG (text kept as text) and PDF, raster PNG at ``dpi``."""
    _pyplot()  # the extra's clear error when matplotlib is missing
    import matplotlib

    out = []
    with matplotlib.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42}):
        for name, plt, fig in _figures(lb):
            for fmt in formats:
                buf = io.BytesIO()
                fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
                out.append((name, fmt, buf.getvalue()))
            plt.close(fig)
    return out


def render_pngs(lb: Any) -> list[tuple[str, bytes]]:
    return [(name, data) for name, _fmt, data in render(lb)]


def write_plots(lb: Any, outdir: Any, formats: Any = ("png",)) -> list[str]:
    from ._leaderboard import out_folder

    out = Path(outdir)
    out_folder(out)
    written = []
    for name, fmt, data in render(lb, tuple(formats), dpi=PRINT_DPI):
        path = out / (re.sub(r"[^\w.-]+", "_", name) + "." + fmt)
        path.write_bytes(data)
        written.append(str(path))
    return written
