"""A self-contained HTML page for a leaderboard.

Every piece of text that comes from the user (system names, model outputs,
references, ids, emotion labels, signatures) goes through ``html.escape``;
nothing refers to an external URL; the only script is the inline sorter,
allowed by its hash in a Content-Security-Policy that forbids every other
script, so even a missed escape could not run code.
"""
from __future__ import annotations

import base64
import hashlib
import math
from html import escape
from typing import Any

from ._render import cell, delta_cell, example_cells, examples_title, fmt_for, judge_summary, scale_of

# Click a header to sort by that column (numbers by data-v, text otherwise);
# sets data-sortable="ready" so a test can see that this script ran; a
# "#sort=<column>[:asc]" fragment sorts on load (shareable links).
_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.setAttribute('data-sortable', 'ready');
  t.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.getAttribute('data-dir') === 'desc' ? 'asc' : 'desc';
      t.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', dir);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var u = parseFloat(x.getAttribute('data-v')), v = parseFloat(y.getAttribute('data-v'));
        var r = (!isNaN(u) && !isNaN(v)) ? u - v : x.textContent.localeCompare(y.textContent);
        return dir === 'asc' ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
// a link can carry the order: page.html#sort=bleu-4 (descending) or #sort=bleu-4:asc
(function () {
  var m = /^#sort=([^:]+)(?::(asc|desc))?$/.exec(decodeURIComponent(location.hash));
  var t = document.querySelector('table.sortable');
  if (!m || !t) { return; }
  t.querySelectorAll('th').forEach(function (th) {
    if (th.textContent === m[1]) { th.click(); if (m[2] === 'asc') { th.click(); } }
  });
})();
""".strip()

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
th[data-dir="asc"]::after { content: " \\25B2"; } th[data-dir="desc"]::after { content: " \\25BC"; }
td.name, td.text { text-align: left; } td.text { max-width: 28em; white-space: pre-wrap; }
tr.baseline td { background: #fffbe6; }
.sig { color: #b00; font-weight: bold; } .ci { color: #666; font-size: 0.85em; display: block; }
footer { margin-top: 2em; font-size: 0.8em; color: #555; } footer code { word-break: break-all; }
img { max-width: 100%; }
p.judge { background: #eef4fb; padding: 0.4em 0.8em; border-left: 4px solid #4c72b0; }
table.examples td, table.examples th { text-align: left; } table.examples th { cursor: default; }
table.examples td.out { max-width: 40em; white-space: pre-wrap; }
.scores { color: #444; font-size: 0.85em; display: block; margin-top: 0.3em; }
.said { color: #555; font-size: 0.85em; font-style: italic; display: block; margin-top: 0.3em; white-space: pre-wrap; }
""".strip()


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
            "base-uri 'none'; form-action 'none'")


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _table(headers: list[str], rows: list[list[str]], cls: str = "sortable", row_cls: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, r in enumerate(rows):
        c = f' class="{row_cls[i]}"' if row_cls and row_cls[i] else ""
        body.append(f"<tr{c}>" + "".join(r) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _num(v: float, fmt: str, extra: str = "") -> str:
    dv = f' data-v="{v!r}"' if v is not None and math.isfinite(v) else ""
    return f"<td{dv}>{_e(cell(v, fmt))}{extra}</td>"


def html_page(lb: Any, *, plots: bool | None = None, title: str = "judgekit leaderboard") -> str:
    cols = lb.columns
    fmts = {c: fmt_for(lb.scores[c].tolist(), c, scale_of(lb)) for c in cols}
    rows, row_cls = [], []
    for s in lb.systems:
        r = [f'<td class="name">{_e(s)}{" (baseline)" if s == lb.baseline else ""}</td>']
        for c in cols:
            v = lb.scores.at[s, c]
            mark = ' <span class="sig" title="significantly different from the baseline">*</span>' \
                if lb.significant(s, c) else ""
            lo, hi = lb.ci.get((s, c), (math.nan, math.nan))
            ci = f'<span class="ci">{_e(cell(lo, fmts[c]))}–{_e(cell(hi, fmts[c]))}</span>' if math.isfinite(lo) else ""
            r.append(_num(v, fmts[c], mark + ci))
        rows.append(r)
        row_cls.append("baseline" if s == lb.baseline else "")
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p>{lb.n_items} items; baseline <b>{_e(lb.baseline)}</b>. Click a column header to sort "
             "(or link to <code>#sort=COLUMN</code>). "
             "Under each score: its 95% bootstrap confidence interval.</p>",
             _table(["system"] + cols, rows, row_cls=row_cls)]
    parts[2:2] = [f'<p class="judge">{_e(x)}</p>' for x in judge_summary(lb)]
    parts += [f"<p>{_e(n)}</p>" for n in lb.notes]

    others = [s for s in lb.systems if s != lb.baseline]
    if others and lb.tests:
        trs = []
        for s in others:
            r = [f'<td class="name">{_e(s)}</td>']
            for c in cols:
                got = delta_cell(lb.tests.get((s, c)), fmts[c])
                r.append("<td>–</td>" if got is None else
                         f'<td data-v="{got[0]!r}">{_e(got[1])}<span class="ci">p {_e(got[2])}</span></td>')
            trs.append(r)
        parts += [f"<h2>Versus {_e(lb.baseline)}: difference, p-values (bootstrap / randomization)</h2>",
                  _table(["system"] + cols, trs)]
    if lb.judge_counts:
        parts += ["<h2>Judge coverage</h2>",
                  _table(["system", "scored", "unscored"],
                         [[f'<td class="name">{_e(s)}</td>', _num(c["scored"], "{:.0f}"), _num(c["unscored"], "{:.0f}")]
                          for s, c in lb.judge_counts.items()])]
    for dim, table in lb.levels.items():
        parts += [f"<h2>{_e(dim)}: share of Bad / Okay / Good</h2>",
                  _table(["system"] + list(table.columns),
                         [[f'<td class="name">{_e(s)}</td>'] + [_num(100 * v, "{:.1f}") for v in row]
                          for s, row in table.iterrows()])]
    if lb.emotions is not None:
        t = lb.emotions
        f = fmt_for(t.to_numpy().ravel().tolist(), lb.emotion_metric, scale_of(lb))
        parts += [f"<h2>{_e(lb.emotion_metric)} per emotion</h2>",
                  _table(["system"] + [str(c) for c in t.columns],
                         [[f'<td class="name">{_e(s)}</td>'] + [_num(v, f) for v in row] for s, row in t.iterrows()])]

    images = _images(lb, plots)
    if images:
        parts.append("<h2>Plots</h2>")
        parts += [f'<figure><img alt="{_e(name)}" src="data:image/png;base64,{data}"><figcaption>{_e(name)}'
                  "</figcaption></figure>" for name, data in images]

    if lb.examples is not None and len(lb.examples):
        parts += [f'<h2 id="examples">{_e(examples_title(lb))}</h2>', _examples(lb)]
    footer = "".join(f"<div>{_e(k)}: <code>{_e(v)}</code></div>" for k, v in lb.signatures.items())
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(parts)
            + f"<footer><h2>Signatures</h2>{footer}</footer><script>{_SCRIPT}</script></body></html>\n")


def _images(lb: Any, plots: bool | None) -> list[tuple[str, str]]:
    if plots is False:
        return []
    from ._plots import MissingPlotExtra, render_pngs

    try:
        return [(name, base64.b64encode(png).decode("ascii")) for name, png in render_pngs(lb)]
    except MissingPlotExtra:
        if plots:
            raise
        return []


def _examples(lb: Any) -> str:
    """One table per item: the client's turn and the reference, then each
    system's output with its per-item scores and what its judge said."""
    out = []
    for _, row in lb.examples.iterrows():
        head = f'<tr><th colspan="2">item {_e(row["id"])}'
        if "spread" in row.index and row["spread"] == row["spread"]:
            head += f' (spread {_e(cell(float(row["spread"]), "{:.3g}"))})'
        rows = [head + "</th></tr>"]
        if "context" in row.index:
            rows.append(f'<tr><td class="name">context</td><td class="out">{_e(row["context"])}</td></tr>')
        rows.append(f'<tr><td class="name">reference</td><td class="out">{_e(row["reference"])}</td></tr>')
        for s in lb.systems:
            text, scores, said = example_cells(lb, row, s)
            sc = "; ".join(f"{m} {v}" for m, v in scores)
            rows.append(f'<tr><td class="name">{_e(s)}</td><td class="out">{_e(text)}'
                        f'<span class="scores">{_e(sc)}</span>'
                        + (f'<span class="said">judge: {_e(said)}</span>' if said else "") + "</td></tr>")
        out.append(f'<table class="examples">{"".join(rows)}</table>')
    return "".join(out)
