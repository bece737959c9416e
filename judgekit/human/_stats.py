"""Agreement statistics as functions of bootstrap weights.

Every function takes ``W`` of shape (b, n): how many times each of the n
items is drawn in each of b resamples (a row of ones is the full sample).
Resampling items then becomes matrix algebra, so 1,000 resamples over
thousands of items take a fraction of a second.  The reported point
estimates come from scipy / krippendorff (see ``agreement.py``); the tests
check that these functions give the same numbers on a row of ones.
"""
from __future__ import annotations

import numpy as np

_CHUNK = 256


def boot_weights(n: int, n_boot: int, seed: int):
    """Yield weight chunks (b, n) of a seeded item bootstrap (same draws for the same n, n_boot, seed)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(_CHUNK, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        W = np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        yield W.astype(float)
        done += b


def run_bootstrap(n: int, n_boot: int, seed: int, fn) -> dict[str, np.ndarray]:
    """Apply ``fn(W) -> {name: (b,) array}`` to every chunk; concatenate per name."""
    out: dict[str, list[np.ndarray]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for W in boot_weights(n, n_boot, seed):
            for k, v in fn(W).items():
                out.setdefault(k, []).append(np.asarray(v, float))
    return {k: np.concatenate(v) for k, v in out.items()}


def interval(boot: np.ndarray, estimate: float, level: float = 0.95, method: str = "percentile") -> tuple[float, float, int]:
    """Bootstrap CI; returns (low, high, number of resamples where the statistic was undefined)."""
    finite = boot[np.isfinite(boot)]
    undefined = int(boot.size - finite.size)
    if finite.size == 0 or not np.isfinite(estimate):
        return float("nan"), float("nan"), undefined
    a = (1 - level) / 2
    lo, hi = np.quantile(finite, [a, 1 - a])
    if method == "basic":
        lo, hi = 2 * estimate - hi, 2 * estimate - lo
    elif method != "percentile":
        raise ValueError(method)
    # The point estimate and the resamples come from two float paths (the
    # plain statistic and its weighted form): on a perfect correlation one
    # gives 0.9999999999999999 and the other 1.0.  A bound that misses the
    # estimate by rounding alone is moved onto it.
    tol = 1e-12 * max(1.0, abs(estimate))
    if estimate < lo <= estimate + tol:
        lo = estimate
    if estimate - tol <= hi < estimate:
        hi = estimate
    return float(lo), float(hi), undefined


# ---------------------------------------------------------------- helpers

def codes(x: np.ndarray, levels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Category codes of x and the sorted levels (observed values unless given)."""
    if levels is None:
        levels, c = np.unique(x, return_inverse=True)
        return c.ravel(), levels
    levels = np.asarray(levels, float)
    c = np.searchsorted(levels, x)
    c = np.clip(c, 0, len(levels) - 1)
    if not np.all(levels[c] == x):
        raise ValueError("value outside the given levels")
    return c, levels


def group_sum(W: np.ndarray, code: np.ndarray, size: int) -> np.ndarray:
    """(b, size): per-code sum of weights, i.e. W @ onehot(code) in O(b n)."""
    order = np.argsort(code, kind="stable")
    sc = code[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    sums = np.add.reduceat(W[:, order], starts, axis=1)
    out = np.zeros((W.shape[0], size))
    out[:, sc[starts]] = sums
    return out


def _wmean(W, v, s):
    return (W @ v) / s


# ---------------------------------------------------------------- pairwise

def confusion(W: np.ndarray, ca: np.ndarray, cb: np.ndarray, k: int) -> np.ndarray:
    return group_sum(W, ca * k + cb, k * k).reshape(-1, k, k)


def kappa_from_confusion(C: np.ndarray, positions: np.ndarray, weights: str | None) -> np.ndarray:
    """Cohen's kappa (b,) from confusion matrices (b, k, k); sklearn's definition."""
    k = C.shape[-1]
    if weights is None:
        D = 1.0 - np.eye(k)
    else:
        d = np.abs(positions[:, None] - positions[None, :])
        D = d if weights == "linear" else d ** 2
    N = C.sum(axis=(1, 2))
    E = np.einsum("bi,bj->bij", C.sum(2), C.sum(1)) / N[:, None, None]
    return 1.0 - (C * D).sum(axis=(1, 2)) / (E * D).sum(axis=(1, 2))


def pearson(W: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = W.sum(1)
    mx, my = _wmean(W, x, s), _wmean(W, y, s)
    xc = x[None, :] - mx[:, None]
    yc = y[None, :] - my[:, None]
    cov = (W * xc * yc).sum(1)
    return cov / np.sqrt((W * xc * xc).sum(1) * (W * yc * yc).sum(1))


def weighted_midranks(W: np.ndarray, c: np.ndarray, k: int) -> np.ndarray:
    """(b, n) midrank of each item's value within each resample."""
    cnt = group_sum(W, c, k)
    mid = np.cumsum(cnt, axis=1) - (cnt - 1) / 2
    return mid[:, c]


def spearman(W, cx, kx, cy, ky) -> np.ndarray:
    rx = weighted_midranks(W, cx, kx)
    ry = weighted_midranks(W, cy, ky)
    s = W.sum(1)
    mx = (W * rx).sum(1) / s
    my = (W * ry).sum(1) / s
    xc, yc = rx - mx[:, None], ry - my[:, None]
    return (W * xc * yc).sum(1) / np.sqrt((W * xc * xc).sum(1) * (W * yc * yc).sum(1))


def kendall_tau_b_table(T: np.ndarray) -> np.ndarray:
    """Kendall's tau-b (b,) from contingency tables (b, kx, ky) of ordered categories."""
    b, kx, ky = T.shape
    S = T[:, ::-1, ::-1].cumsum(1).cumsum(2)[:, ::-1, ::-1]      # sum over i'>=i, j'>=j
    A = np.zeros_like(T)
    A[:, :-1, :-1] = S[:, 1:, 1:]                                  # i'>i, j'>j
    U = T[:, ::-1, :].cumsum(1)[:, ::-1, :].cumsum(2)              # i'>=i, j'<=j
    D = np.zeros_like(T)
    D[:, :-1, 1:] = U[:, 1:, :-1]                                  # i'>i, j'<j
    P = (T * A).sum(axis=(1, 2))
    Q = (T * D).sum(axis=(1, 2))
    N = T.sum(axis=(1, 2))
    n0 = N * (N - 1) / 2
    r = T.sum(2)
    c = T.sum(1)
    tx = (r * (r - 1) / 2).sum(1)
    ty = (c * (c - 1) / 2).sum(1)
    return (P - Q) / np.sqrt((n0 - tx) * (n0 - ty))


def kendall(W, cx, kx, cy, ky) -> np.ndarray:
    if kx * ky <= 40_000:
        T = group_sum(W, cx * ky + cy, kx * ky).reshape(-1, kx, ky)
        return kendall_tau_b_table(T)
    from scipy.stats import kendalltau  # many distinct values: one resample at a time

    out = np.empty(W.shape[0])
    for i, w in enumerate(W):
        rep = np.repeat(np.arange(W.shape[1]), w.astype(int))
        out[i] = kendalltau(cx[rep], cy[rep]).statistic
    return out


def _table_stats(T: np.ndarray, lx: np.ndarray, ly: np.ndarray) -> dict[str, np.ndarray]:
    """Correlations and distances (b,) from contingency tables (b, kx, ky) of x values lx by y values ly."""
    N = T.sum(axis=(1, 2))
    r = T.sum(2)
    c = T.sum(1)

    def corr(ux, uy):       # ux (b, kx), uy (b, ky): weighted Pearson over the table
        mx = (r * ux).sum(1) / N
        my = (c * uy).sum(1) / N
        dx = ux - mx[:, None]
        dy = uy - my[:, None]
        cov = np.einsum("bij,bi,bj->b", T, dx, dy)
        return cov / np.sqrt((r * dx * dx).sum(1) * (c * dy * dy).sum(1))

    rx = np.cumsum(r, axis=1) - (r - 1) / 2
    ry = np.cumsum(c, axis=1) - (c - 1) / 2
    d = lx[:, None] - ly[None, :]
    return {
        "spearman": corr(rx, ry),
        "kendall_tau_b": kendall_tau_b_table(T),
        "pearson": corr(np.broadcast_to(lx, r.shape), np.broadcast_to(ly, c.shape)),
        "exact_accuracy": (T * (d == 0)).sum(axis=(1, 2)) / N,
        "within_one_accuracy": (T * (np.abs(d) <= 1)).sum(axis=(1, 2)) / N,
        "mae": (T * np.abs(d)).sum(axis=(1, 2)) / N,
        "bias": (T * d).sum(axis=(1, 2)) / N,
    }


def pairwise_boot(W, x, y, cx, cy, kx, ky, ca, cb, kk, positions, table_limit: int = 40_000) -> dict[str, np.ndarray]:
    """Every pairwise statistic (b,) for a chunk of resample weights.

    With few distinct values (rating scales) everything comes from one
    contingency table per resample, O(b * k^2) after a single O(b * n) pass.
    """
    C = confusion(W, ca, cb, kk)
    kappas = {
        "kappa": kappa_from_confusion(C, positions, None),
        "kappa_linear": kappa_from_confusion(C, positions, "linear"),
        "kappa_quadratic": kappa_from_confusion(C, positions, "quadratic"),
    }
    if kx * ky <= table_limit:
        lx = np.zeros(kx)
        lx[cx] = x
        ly = np.zeros(ky)
        ly[cy] = y
        T = group_sum(W, cx * ky + cy, kx * ky).reshape(-1, kx, ky)
        return {**kappas, **_table_stats(T, lx, ly)}
    s = W.sum(1)
    d = x - y
    return {
        **kappas,
        "spearman": spearman(W, cx, kx, cy, ky),
        "kendall_tau_b": kendall(W, cx, kx, cy, ky),
        "pearson": pearson(W, x, y),
        "exact_accuracy": _wmean(W, (d == 0).astype(float), s),
        "within_one_accuracy": _wmean(W, (np.abs(d) <= 1).astype(float), s),
        "mae": _wmean(W, np.abs(d), s),
        "bias": _wmean(W, d, s),
    }


# ---------------------------------------------------------------- panel

def fleiss_counts(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(n, k) number of raters choosing each level, from a complete (n, m) matrix."""
    c = np.searchsorted(levels, values)
    n, m = values.shape
    out = np.zeros((n, len(levels)))
    np.add.at(out, (np.repeat(np.arange(n), m), c.ravel()), 1)
    return out


def fleiss_kappa(W: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Fleiss' kappa (b,) from per-item category counts (n, k), equal raters per item."""
    m = counts.sum(1)[0]
    s = W.sum(1)
    Pi = ((counts ** 2).sum(1) - m) / (m * (m - 1))
    Pbar = (W @ Pi) / s
    pj = (W @ counts) / (s[:, None] * m)
    Pe = (pj ** 2).sum(1)
    return (Pbar - Pe) / (1 - Pe)


def coincidence_per_item(values: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-item coincidence matrices (n, k, k) for Krippendorff's alpha (NaN = missing).

    Items with fewer than two ratings contribute nothing (they are not pairable).
    """
    n, m = values.shape
    k = len(levels)
    ok = ~np.isnan(values)
    cnt = np.zeros((n, k))
    rows, cols = np.nonzero(ok)
    np.add.at(cnt, (rows, np.searchsorted(levels, values[rows, cols])), 1)
    mu = cnt.sum(1)
    pairable = mu >= 2
    o = np.einsum("ni,nj->nij", cnt, cnt)
    o[:, np.arange(k), np.arange(k)] -= cnt
    o[pairable] /= (mu[pairable] - 1)[:, None, None]
    o[~pairable] = 0
    return o, pairable


def alpha_from_coincidence(O: np.ndarray, levels: np.ndarray, level_of_measurement: str) -> np.ndarray:
    """Krippendorff's alpha (b,) from coincidence matrices (b, k, k) (krippendorff package's deltas)."""
    nc = O.sum(2)
    N = nc.sum(1)
    k = len(levels)
    if level_of_measurement == "nominal":
        delta = np.broadcast_to(1.0 - np.eye(k), O.shape)
    elif level_of_measurement == "interval":
        delta = np.broadcast_to((levels[:, None] - levels[None, :]) ** 2, O.shape)
    elif level_of_measurement == "ratio":
        s = levels[:, None] + levels[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(s == 0, 0.0, (levels[:, None] - levels[None, :]) / s)
        delta = np.broadcast_to(r ** 2, O.shape)
    elif level_of_measurement == "ordinal":
        cs = np.cumsum(nc, axis=1)                         # (b, k)
        i = np.arange(k)
        lo = np.minimum(i[:, None], i[None, :])
        hi = np.maximum(i[:, None], i[None, :])
        prev = np.concatenate([np.zeros((nc.shape[0], 1)), cs], axis=1)   # prev[:, j] = sum of n_g for g < j
        between = prev[:, hi + 1] - prev[:, lo]            # sum_{g=lo..hi} n_g
        delta = (between - (nc[:, lo] + nc[:, hi]) / 2) ** 2
    else:
        raise ValueError(level_of_measurement)
    Do = (O * delta).sum(axis=(1, 2))
    De = (np.einsum("bi,bj->bij", nc, nc) * delta).sum(axis=(1, 2))
    return 1.0 - (N - 1) * Do / De


def alpha(W: np.ndarray, o_items: np.ndarray, levels: np.ndarray, level_of_measurement: str) -> np.ndarray:
    n, k, _ = o_items.shape
    O = (W @ o_items.reshape(n, k * k)).reshape(-1, k, k)
    return alpha_from_coincidence(O, levels, level_of_measurement)


def kappa_fce(C: np.ndarray, positions: np.ndarray, weights: str | None) -> tuple[float, float]:
    """Large-sample standard error of (weighted) kappa (Fleiss, Cohen & Everitt 1969) and z.

    This is the non-null variance; Kumar et al.'s "Kappa Z-statistic" is kappa / SE.
    """
    k = C.shape[0]
    if weights is None:
        w = np.eye(k)
    else:
        d = np.abs(positions[:, None] - positions[None, :])
        d = d if weights == "linear" else d ** 2
        w = 1.0 - d / d.max() if d.max() > 0 else np.ones_like(d)
    n = C.sum()
    p = C / n
    pr, pc = p.sum(1), p.sum(0)
    po = (w * p).sum()
    pe = (w * np.outer(pr, pc)).sum()
    kap = (po - pe) / (1 - pe)
    wi = w @ pc
    wj = pr @ w
    var = ((p * (w - (wi[:, None] + wj[None, :]) * (1 - kap)) ** 2).sum() - (kap - pe * (1 - kap)) ** 2) / (n * (1 - pe) ** 2)
    se = float(np.sqrt(var)) if var > 0 else float("nan")
    return se, float(kap / se) if se and np.isfinite(se) else float("nan")
