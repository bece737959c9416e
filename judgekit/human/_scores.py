"""Human ratings as ``judgekit.Scores``: one column per rated dimension,
one row per item (the raters combined per item), so that ratings join a
judge's or a metric's scores by item id and resample like them."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..scores import MeanReducer, Scores
from ._table import aggregate as combine
from ._table import integer_levels, resolve_raters, scale_of


def rating_scores(table: pd.DataFrame, raters: str | Sequence[str] = "expert", *, framework: str | None = None,
                  dimensions: Sequence[str] | None = None, aggregate: str = "median",
                  prefix: str = "rating:") -> Scores:
    """The ratings of ``raters`` (a rater, a kind such as ``"expert"``, or
    a list) on one framework, as Scores keyed by item id: a column
    ``<prefix><dimension>`` per dimension holding the raters' ``aggregate``
    (median, as Kumar et al.; or mean) per item, NaN where nobody rated the
    item; corpus values the means; levels the declared integer scale."""
    if not isinstance(table, pd.DataFrame) or "item" not in table.columns:
        raise InputError("expected a rating table from judgekit.human.load_ratings (or read_table)")
    frameworks = sorted(set(table["framework"]))
    if framework is None:
        if len(frameworks) != 1:
            raise InputError(f"the table holds several frameworks {frameworks}: choose one with framework=...")
        framework = frameworks[0]
    elif framework not in frameworks:
        raise InputError(f"unknown framework {framework!r}; available: {frameworks}")
    t = table[table["framework"] == framework]
    who = resolve_raters(t, raters)
    t = t[t["rater"].isin(who)]
    dims = list(dict.fromkeys(t["dimension"])) if dimensions is None else list(dimensions)
    unknown = [d for d in dims if d not in set(t["dimension"])]
    if unknown:
        raise InputError(f"framework {framework!r} has no dimension(s) {unknown} rated by {who}; "
                         f"available: {sorted(set(t['dimension']))}")
    ids = list(dict.fromkeys(t["item"].astype(str)))
    cols: dict[str, Any] = {}
    levels: dict[str, tuple] = {}
    for d in dims:
        td = t[t["dimension"] == d]
        w = td.pivot(index="item", columns="rater", values="score").reindex(columns=who)
        w.index = w.index.astype(str)
        cols[prefix + d] = combine(w, aggregate).reindex(ids).to_numpy(dtype=float)
        scale = scale_of(td)
        lv = integer_levels(*scale) if scale is not None else None
        if lv is not None:
            levels[prefix + d] = tuple(int(x) for x in lv)
    signature = [("ratings", str(table.attrs.get("dataset", "table"))), ("framework", framework),
                 ("raters", ",".join(who)), ("aggregate", aggregate)]
    return Scores(ids, {k: np.asarray(v) for k, v in cols.items()}, signature=signature,
                  reducer=MeanReducer(cols), levels=levels)
