"""The leaderboard as a LaTeX table for a paper, laid out as sacreBLEU's
multi-system ``-f latex`` (booktabs rules; one row per system, the baseline
first and named so; each score with its 95% CI as "± half width", as
sacreBLEU prints its bootstrap CI) plus what papers add: the best score of
each column in bold and a dagger where every paired test finds the system
different from the baseline.  Paper-ready at any column count: more than
``WIDE`` columns make a ``table*`` (the full text width of a two-column
paper), and a table wider than the line is scaled down to it
(``\\resizebox``, never up).  Needs ``\\usepackage{booktabs}`` and
``\\usepackage{graphicx}``.

Every piece of user text (system names, metric names, notes, the judge's
model and rubric) is escaped: LaTeX's ten special characters become
commands that print them, and line breaks become spaces, so a hostile name
can neither break the table nor run a command.
"""
from __future__ import annotations

import math
from typing import Any

from ._render import fmt_for, judge_summary, scale_of

WIDE = 5  # columns beyond which the table spans the page (table*)

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}


def escape(text: Any) -> str:
    """``text`` as LaTeX that prints it literally, on one line."""
    out = "".join(_SPECIAL.get(ch, ch) for ch in str(text))
    return " ".join(out.split())  # newlines, tabs, runs of spaces: one space (no paragraph break)


def _best(lb: Any, c: str) -> float | None:
    vals = [float(lb.scores.at[s, c]) for s in lb.systems]
    vals = [v for v in vals if math.isfinite(v)]
    if not vals:
        return None
    if c.startswith("len-"):  # no better direction for lengths (len-ratio: nearest 1 is not "best")
        return None
    return max(vals)


def latex_table(lb: Any, *, caption: str | None = None, label: str = "tab:leaderboard") -> str:
    cols = lb.columns
    fmts = {c: fmt_for(lb.scores[c].tolist(), c, scale_of(lb)) for c in cols}
    best = {c: _best(lb, c) for c in cols}
    env = "table*" if len(cols) > WIDE else "table"
    lines = ["% judgekit leaderboard; needs \\usepackage{booktabs} and \\usepackage{graphicx} (\\resizebox)",
             *[f"% {escape(k)}: {escape(v)}" for k, v in lb.signatures.items()],
             f"\\begin{{{env}}}[t]", "\\centering", "\\small", "\\setlength{\\tabcolsep}{4pt}",
             # scaled down to the line width when wider, never up
             "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%",
             "\\begin{tabular}{@{}l" + "r" * len(cols) + "@{}}", "\\toprule",
             "System & " + " & ".join(escape(c) for c in cols) + " \\\\", "\\midrule"]
    order = [lb.baseline] + [s for s in lb.systems if s != lb.baseline]
    for s in order:
        cells = []
        for c in cols:
            v = float(lb.scores.at[s, c])
            if not math.isfinite(v):
                cells.append("--")
                continue
            text = fmts[c].format(v)
            if best[c] is not None and text == fmts[c].format(best[c]):
                text = f"\\textbf{{{text}}}"
            if lb.significant(s, c):
                text += "$^\\dagger$"
            lo, hi = lb.ci.get((s, c), (math.nan, math.nan))
            if math.isfinite(lo) and math.isfinite(hi):
                text += f" {{\\scriptsize$\\pm${fmts[c].format((hi - lo) / 2)}}}"
            cells.append(text)
        name = f"{escape(s)} (baseline)" if s == lb.baseline else escape(s)
        lines.append(f"{name} & " + " & ".join(cells) + " \\\\")
        if s == lb.baseline and len(order) > 1:
            lines.append("\\midrule")
    lines += ["\\bottomrule", "\\end{tabular}}"]
    if caption is None:
        tests = lb.signatures.get("tests")
        parts = tests.parts if tests is not None and hasattr(tests, "parts") else {}
        what = {"bs": f"paired bootstrap ({parts.get('bs', '?')} resamples)",
                "ar": f"approximate randomization ({parts.get('ar', '?')} trials)"}
        used = [what[t] for t in str(parts.get("tests", "")).split("+") if t in what]
        caption = (f"{lb.n_items} items. Bold: best in the column. $^\\dagger$: $p < {lb.alpha:g}$ versus "
                   f"{escape(lb.baseline)} in every test ({escape('; '.join(used) or 'none')}). "
                   "$\\pm$: half width of the 95\\% confidence interval (bootstrap over items; Distinct-n: "
                   "over random halves of the items), absent where none was computed.")
        for line in judge_summary(lb):
            caption += f" {escape(line[0].upper() + line[1:])}."
    lines += [f"\\caption{{{caption}}}", f"\\label{{{escape(label)}}}", f"\\end{{{env}}}"]
    return "\n".join(lines) + "\n"
