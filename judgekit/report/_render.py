"""Markdown rendering of a leaderboard (plain text, no dependencies)."""
from __future__ import annotations

import math
import re
from typing import Any


RATIOS = ("len-ratio", "pairwise:win_rate")  # ratios whatever the metrics' scale


def fmt_for(values: Any, name: str = "", scale: Any = None) -> str:
    """Decimals per column, from what it holds, never from the board's
    other columns or systems: judge means three; ratios (``len-ratio``, a
    win rate) four; metrics on the signature's ``scale`` 100 two, on 1
    four; without a scale (or a length total), two when a value passes 1,
    else four."""
    name = str(name)
    if name.startswith("judge:"):
        return "{:.3f}"
    if name in RATIOS:
        return "{:.4f}"
    if str(scale) in ("1", "100") and not name.startswith("len-"):
        return "{:.2f}" if str(scale) == "100" else "{:.4f}"
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return "{:.2f}" if finite and max(finite) > 1.0 else "{:.4f}"


def scale_of(lb: Any) -> Any:
    """The metrics' scale (1 or 100) in the board's n-gram signature, or None."""
    sig = lb.signatures.get("ngram") if hasattr(lb, "signatures") else None
    return sig.get("scale") if sig is not None and hasattr(sig, "get") else None


def cell(v: float, fmt: str) -> str:
    return "–" if v is None or not math.isfinite(v) else fmt.format(v)


def delta_cell(tests: dict | None, fmt: str) -> tuple[float, str, str] | None:
    """(delta, delta text, "p_bs / p_ar") of one comparison, or None."""
    if not tests:
        return None
    d = next(iter(tests.values())).delta
    ps = " / ".join(f"{tests[k].p_value:.4f}" for k in ("bs", "ar") if k in tests)
    return d, f"{d:+.{int(fmt[3])}f}", ps  # as many decimals as the column


# every Markdown character that could start markup gets one backslash (CommonMark's escape for any ASCII
# punctuation), "<" and ">" too: no HTML tag, autolink or quote, and one visible style (\<\|im_start\|\>)
_MD_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "[": "\\[", "]": "\\]", "`": "\\`", "*": "\\*",
                             "<": "\\<", ">": "\\>", "\n": " ", "\r": " ", "\t": " "})
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # what would be read as a character reference


def _md_escape(text: str) -> str:
    """Text (a system name, a note) as inert Markdown: no HTML, no link, no
    code span, no emphasis, no table cell break, one line."""
    return _ENTITY.sub("&amp;", str(text)).translate(_MD_ESCAPES)


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    text = str(text).replace("\n", " ").replace("\r", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown(lb: Any) -> str:
    cols = lb.columns
    fmts = {c: fmt_for(lb.scores[c].tolist(), c, scale_of(lb)) for c in cols}
    lines = [f"# Leaderboard ({lb.n_items} items, baseline: {_md_escape(lb.baseline)})", ""]
    judges = judge_summary(lb)
    if judges:
        lines += [f"- {_md_escape(x)}" for x in judges] + [""]
    lines.append("| system | " + " | ".join(_md_escape(c) for c in cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    for s in lb.systems:
        cells = []
        for c in cols:
            text = cell(lb.scores.at[s, c], fmts[c])
            if lb.significant(s, c):
                text += "*"
            cells.append(text)
        name = f"**{_md_escape(s)}** (baseline)" if s == lb.baseline else _md_escape(s)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    # "\*": a mark, not a bullet (the escape makes it so)
    lines += [_md_escape(n) if n.startswith("*") else f"- {_md_escape(n)}" for n in lb.notes]
    lines += ["", "## 95% confidence intervals (bootstrap over items)", ""]
    lines.append("| system | " + " | ".join(_md_escape(c) for c in cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    for s in lb.systems:
        cells = []
        for c in cols:
            lo, hi = lb.ci.get((s, c), (math.nan, math.nan))
            cells.append("–" if not math.isfinite(lo) else f"{cell(lo, fmts[c])}–{cell(hi, fmts[c])}")
        lines.append(f"| {_md_escape(s)} | " + " | ".join(cells) + " |")
    others = [s for s in lb.systems if s != lb.baseline]
    if others and lb.tests:
        lines += ["", f"## Versus {_md_escape(lb.baseline)}: difference and p-values (bootstrap / randomization)", ""]
        lines.append("| system | " + " | ".join(_md_escape(c) for c in cols) + " |")
        lines.append("|---|" + "---:|" * len(cols))
        for s in others:
            cells = []
            for c in cols:
                got = delta_cell(lb.tests.get((s, c)), fmts[c])
                cells.append("–" if got is None else f"{got[1]} (p {got[2]})")
            lines.append(f"| {_md_escape(s)} | " + " | ".join(cells) + " |")
    if lb.judge_counts:
        lines += ["", "## Judge coverage", "", "| system | scored | unscored |", "|---|---:|---:|"]
        for s, c in lb.judge_counts.items():
            lines.append(f"| {_md_escape(s)} | {c['scored']} | {c['unscored']} |")
    for dim, table in lb.levels.items():
        lines += ["", f"## {_md_escape(dim)}: share of Bad / Okay / Good", "",
                  "| system | " + " | ".join(_md_escape(c) for c in table.columns) + " |",
                  "|---|" + "---:|" * len(table.columns)]
        for s, row in table.iterrows():
            lines.append(f"| {_md_escape(s)} | " + " | ".join(cell(100 * v, "{:.1f}%") for v in row) + " |")
    if lb.emotions is not None:
        t = lb.emotions
        f = fmt_for(t.to_numpy().ravel().tolist(), lb.emotion_metric, scale_of(lb))
        lines += ["", f"## {_md_escape(lb.emotion_metric)} per emotion", "",
                  "| system | " + " | ".join(_md_escape(c) for c in t.columns) + " |", "|---|" + "---:|" * len(t.columns)]
        for s, row in t.iterrows():
            lines.append(f"| {_md_escape(s)} | " + " | ".join(cell(v, f) for v in row) + " |")
    if lb.examples is not None and len(lb.examples):
        lines += ["", "## " + _md_escape(examples_title(lb)), ""]
        for _, row in lb.examples.iterrows():
            lines.append(f"### {_md_escape(row['id'])}")
            lines.append("")
            if "context" in row.index:
                lines.append(f"- context: {_md_escape(row['context'])}")
            lines.append(f"- reference: {_md_escape(row['reference'])}")
            for sname in lb.systems:
                out, scores, said = example_cells(lb, row, sname)
                sc = "; ".join(f"{_md_escape(m)} {v}" for m, v in scores)
                lines.append(f"- **{_md_escape(sname)}** ({sc}): {_md_escape(out)}")
                if said:
                    lines.append(f"  - judge: {_md_escape(said)}")
            lines.append("")
    lines += ["", "## Signatures", ""]
    lines += [f"- {_md_escape(k)}: {_code(v)}" for k, v in lb.signatures.items()]
    return "\n".join(lines) + "\n"


def judge_summary(lb: Any) -> list[str]:
    """One line per judge setup: its model and rubric (from the judge
    results' signature) and the systems it scored; a judged system whose
    results carry no signature (a bare JSONL file) is named as such."""
    by_setup: dict[tuple[str, str], list[str]] = {}
    bare = []
    for s in lb.judge_counts:
        sig = lb.signatures.get(f"judge:{s}")
        parts = sig.parts if sig is not None and hasattr(sig, "parts") else {}
        if parts.get("model") or parts.get("rubric"):
            by_setup.setdefault((str(parts.get("model", "?")), str(parts.get("rubric", "?"))), []).append(s)
        else:
            bare.append(s)
    lines = [f"judge of {', '.join(names)}: model {model}, rubric {rubric}" for (model, rubric), names in by_setup.items()]
    if bare:
        lines.append(f"judge of {', '.join(bare)}: model and rubric not recorded in the results given")
    return lines


def example_cells(lb: Any, row: Any, s: str) -> tuple[str, list[tuple[str, str]], str]:
    """(output, [(metric, value text)], what the judge said) of system ``s``
    on one row of ``lb.examples``."""
    item = str(row["id"])
    f = lb.per_item.get(s)
    scores = []
    for m in lb.example_metrics:
        v = f.at[item, m] if f is not None and m in f.columns and item in f.index else math.nan
        scores.append((m, cell(float(v), "{:.3g}" if m.startswith("judge:") else "{:.1f}")))
    return str(row[s]), scores, lb.reasons.get(s, {}).get(item, "")


def examples_title(lb: Any) -> str:
    metric = lb.examples.attrs.get("metric") if lb.examples is not None else None
    if metric and "spread" in lb.examples.columns:
        return f"Examples: the {len(lb.examples)} items where the systems differ most in {metric}"
    return f"Examples (first {len(lb.examples)} items)"
