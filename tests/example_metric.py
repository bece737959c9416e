"""A small metric family of one's own, written against
``judgekit.ngram.Metric`` (the example of docs/architecture.md): token
precision, recall and F over the corpus from per-item clipped token
matches.  Registering it is one line: ``register_metric(TokenOverlap())``."""
from __future__ import annotations

from collections import Counter

import numpy as np


class TokenOverlap:
    family = "token-overlap"
    names = ("token-p", "token-r", "token-f")

    def stats(self, hyps, refs):
        # per item: clipped matches against the best reference, and the lengths
        m, h, r = [], [], []
        for hyp, rs in zip(hyps, refs):
            hc = Counter(hyp)
            best = max(rs, key=lambda ref: (sum((hc & Counter(ref)).values()), -len(ref)))
            m.append(sum((hc & Counter(best)).values()))
            h.append(len(hyp))
            r.append(len(best))
        return {"match": np.array(m, dtype=np.int64), "hyp": np.array(h, dtype=np.int64),
                "ref": np.array(r, dtype=np.int64)}

    @staticmethod
    def _prf(m, h, r):
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(h > 0, m / np.where(h > 0, h, 1), 0.0)
            rec = np.where(r > 0, m / np.where(r > 0, r, 1), 0.0)
            f = np.where(p + rec > 0, 2 * p * rec / np.where(p + rec > 0, p + rec, 1), 0.0)
        return p, rec, f

    def sentence(self, stats):
        p, r, f = self._prf(stats["match"], stats["hyp"], stats["ref"])
        return {"token-p": p, "token-r": r, "token-f": f}

    def corpus(self, stats):
        p, r, f = self._prf(*(np.array([stats[k].sum()]) for k in ("match", "hyp", "ref")))
        return {"token-p": float(p[0]), "token-r": float(r[0]), "token-f": float(f[0])}

    def signature(self):
        return "clip.best-ref,agg.corpus-sum"
