"""Welivita & Pu's framework for a new model, on judge ratings.

Welivita & Pu rate responses of humans and LLMs to 2,000 EmpatheticDialogues
prompts Bad / Okay / Good (one rater per response, between subjects) and
compare the groups with chi-square tests and the change in the share of
Good; they offer the design as a framework for assessing new LLMs without
re-running the human study.  ``judged_study`` runs it on a judge instead of
people, calibrated on the released human ratings:

1. ``welivita_prompts(path)``: the prompts of your copy of the released
   file, for ``judgekit generate`` (step 0: the new model's responses);
2. judge every system's responses, released and new, with ``empathy-3pt``;
3. fit the judge-to-human map on the released systems' human ratings
   (ordinal thresholds onto Bad / Okay / Good), evaluated k-fold: the
   released systems get their out-of-fold levels, new systems the map fitted
   on all released items;
4. the study on the calibrated ratings: distributions, chi-square over all
   systems and against the human baseline, the change in the share of Good
   in points and relative terms, per emotion and sentiment, with bootstrap
   CIs over dialogues;
5. the validity table: for the released systems, the judge's estimate of
   each change beside the human-rated one from the released file, and
   whether the CI covers it.

It sits above the producers (judge and human), like ``meta_eval``.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["judged_study", "welivita_prompts", "JudgedStudyReport"]

LEVELS = (1, 2, 3)


def welivita_prompts(path: Any) -> list[dict[str, Any]]:
    """The prompts of a Welivita & Pu file as generation items: ``id`` (the
    dialogue id), ``prompt`` (the speaker's utterance, what the study's
    systems answered), and ``situation`` / ``emotion`` for a system prompt
    that wants them."""
    from .human import read_welivita

    df = read_welivita(path)
    out = []
    for row in df.itertuples(index=False):
        r = row._asdict()
        out.append({"id": str(r["dialog_id"]), "prompt": str(r["speaker_uttr"]), "situation": str(r["situation"]),
                    "emotion": str(r["emotion"])})
    return out


@dataclass
class JudgedStudyReport:
    """The study on calibrated judge ratings, with its validity table."""

    study: Any                   # StudyReport on the calibrated judge ratings (released + new systems)
    human_study: Any             # StudyReport on the released human ratings
    calibration: Any             # CalibrationReport (k-fold, ordinal thresholds) on the released systems
    changes: pd.DataFrame        # per system: Good share change vs the baseline, points and relative, with CIs
    validity: pd.DataFrame       # per released system: judge estimate and CI beside the human-rated figure
    judge_signature: str
    unscored: dict[str, int]
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "judged_study", "simulated": self.simulated, "judge_signature": self.judge_signature,
                "study": self.study.to_dict(), "human_study": self.human_study.to_dict(),
                "calibration": {"method": self.calibration.method, "k": self.calibration.k,
                                "before": {f.name: f.to_dict() for f in self.calibration.before.figures},
                                "after": {f.name: f.to_dict() for f in self.calibration.after.figures}},
                "changes": json.loads(self.changes.reset_index().to_json(orient="records")),
                "validity": json.loads(self.validity.reset_index().to_json(orient="records")),
                "unscored": self.unscored, "settings": self.settings, "notes": self.notes}

    def to_json(self, **kw: Any) -> str:
        kw.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kw)

    def __str__(self) -> str:
        title = "Welivita & Pu's study on calibrated judge ratings" + (" (SIMULATED judge)" if self.simulated else "")
        c = self.calibration
        q0, q1 = c.before["kappa_quadratic"], c.after["kappa_quadratic"]
        lines = [title, "=" * len(title),
                 f"judge: {self.judge_signature}",
                 f"calibration on the released systems' human ratings ({c.method}, {c.k}-fold, held out): QWK "
                 f"{q0.estimate:.3f} [{q0.ci_low:.3f}, {q0.ci_high:.3f}] before, {q1.estimate:.3f} "
                 f"[{q1.ci_low:.3f}, {q1.ci_high:.3f}] after", ""]
        lines += str(self.study).splitlines()
        ci = round(self.settings["confidence"] * 100)
        lines += ["", f"change in the share of Good vs {self.study.baseline} ({ci}% CI over dialogues, "
                      f"{self.settings['n_bootstrap']} resamples):"]
        for s, r in self.changes.iterrows():
            lines.append(f"  {s:<22}{r['pp']:+7.1f} pp [{r['pp_low']:+.1f}, {r['pp_high']:+.1f}]   "
                         f"{r['relative'] * 100:+7.1f}% [{r['rel_low'] * 100:+.1f}%, {r['rel_high'] * 100:+.1f}%]"
                         + ("   (new)" if r["new"] else ""))
        lines += ["", "validity: the judge's estimate beside the human-rated figure of each released system:"]
        for s, r in self.validity.iterrows():
            lines.append(f"  {s:<22}human {r['human_pp']:+6.1f} pp ({r['human_relative'] * 100:+.1f}%)   judge "
                         f"{r['judge_pp']:+6.1f} pp [{r['pp_low']:+.1f}, {r['pp_high']:+.1f}]   "
                         f"{'covered' if r['covered'] else 'NOT covered'}")
        if self.unscored:
            lines.append("unscored by the judge (left out): " + ", ".join(f"{k} {v}" for k, v in self.unscored.items()))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _responses(spec: Any, name: str) -> dict[str, str]:
    """dialog id -> response: a mapping, or the JSONL of ``judgekit generate``
    (``id``, ``pred``; failed rows refused)."""
    if isinstance(spec, Mapping):
        return {str(k): str(v) for k, v in spec.items()}
    from .io import read_records

    out = {}
    for where, rec in read_records(spec, id_fields=("id",)):
        if rec.get("status", "ok") != "ok":
            raise InputError(f"{where}: system {name!r} has no response for id {rec.get('id')!r} "
                             f"({rec.get('reason', rec.get('status'))}); generate it again or drop the item")
        if not isinstance(rec.get("pred"), str):
            raise InputError(f"{where}: expected a 'pred' string (the output of `judgekit generate`)")
        out[str(rec["id"])] = rec["pred"]
    return out


def _change_cis(long: pd.DataFrame, systems: Sequence[str], baseline: str, n_bootstrap: int, seed: int,
                confidence: float) -> pd.DataFrame:
    """The Good share change of each system against the baseline, with
    percentile CIs over dialogues resampled (every system's response to a
    resampled dialogue comes along)."""
    top = float(max(LEVELS))
    dialogs = list(dict.fromkeys(long["dialog"]))
    pos = {d: i for i, d in enumerate(dialogs)}
    good = {s: np.full(len(dialogs), np.nan) for s in systems}
    for s in systems:
        part = long[long["system"] == s]
        good[s][[pos[d] for d in part["dialog"]]] = (part["score"].to_numpy(float) == top).astype(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(dialogs), size=(n_bootstrap, len(dialogs)))
    a = (1 - confidence) / 2
    rows = {}
    for s in systems:
        if s == baseline:
            continue
        b, v = good[baseline], good[s]
        share = lambda x: np.nanmean(x, axis=-1)  # noqa: E731
        pb, ps = share(b), share(v)
        bb, bs = share(b[idx]), share(v[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_boot = bs / bb - 1
        rows[s] = {"pp": (ps - pb) * 100, "pp_low": float(np.quantile((bs - bb) * 100, a)),
                   "pp_high": float(np.quantile((bs - bb) * 100, 1 - a)),
                   "relative": ps / pb - 1 if pb > 0 else math.nan,
                   "rel_low": float(np.nanquantile(rel_boot, a)), "rel_high": float(np.nanquantile(rel_boot, 1 - a))}
    return pd.DataFrame.from_dict(rows, orient="index")


def judged_study(path: Any, judge: Any, *, new: Mapping[str, Any] | None = None, baseline: str = "human",
                 k: int = 5, n_bootstrap: int = 1000, seed: int = 12345, confidence: float = 0.95,
                 by: Sequence[str] = ("sentiment", "emotion"), simulated: bool = False) -> JudgedStudyReport:
    """Welivita & Pu's study of ``new`` systems (name -> responses: a
    mapping dialogue id -> text, or the JSONL ``judgekit generate`` wrote)
    beside the released ones of the file at ``path``, on ratings of
    ``judge`` (a ``judgekit.judge.Judge``; its rubric becomes
    ``empathy-3pt``) calibrated on the released human ratings.  See the
    module for the steps."""
    from .human import calibrate, judge_items, read_welivita, study

    df = read_welivita(path)
    released = [c[7:] for c in df.columns if c.startswith("rating_") and f"response_{c[7:]}" in df.columns]
    if baseline not in released:
        raise InputError(f"baseline {baseline!r} is not a released system of {path}: {released}")
    new = dict(new or {})
    clash = [n for n in new if n in released]
    if clash:
        raise InputError(f"new system name(s) {clash} are released systems of the file; rename them")
    [items_set] = judge_items("welivita2024", path=path)
    items = list(items_set.items)
    meta = {str(r["dialog_id"]): r for r in df.to_dict(orient="records")}
    context = {str(it["id"]).rsplit("/", 1)[0]: (it["context"], it.get("emotion")) for it in items}
    for name, spec in new.items():
        resp = _responses(spec, name)
        missing = [d for d in meta if d not in resp]
        extra = [d for d in resp if d not in meta]
        if missing or extra:
            raise InputError(f"system {name!r}: {len(missing)} dialogue(s) without a response "
                             f"({', '.join(map(repr, missing[:5]))}) and {len(extra)} id(s) not in the file "
                             f"({', '.join(map(repr, extra[:5]))}); responses pair with the file by dialog_id")
        for d, text in resp.items():
            ctx, emo = context[d]
            items.append({"id": f"{d}/{name}", "context": ctx, "response": text, "emotion": emo,
                          "response_length": len(text)})
    j = dataclasses.replace(judge, rubric="empathy-3pt")
    jr = j.run(items)
    per = jr.per_item.set_index(jr.per_item["id"].astype(str))
    scored = per[per["status"] == "scored"]["empathy"].astype(float)
    system_of = {str(it["id"]): str(it["id"]).rsplit("/", 1)[1] for it in items}
    unscored = {}
    for s in [*released, *new]:
        n_un = int(sum(1 for i, st in per["status"].items() if system_of[i] == s and st != "scored"))
        if n_un:
            unscored[s] = n_un
    human = pd.Series({f"{d}/{s}": float(r[f"rating_{s}"]) for d, r in meta.items() for s in released})
    rel_ids = [i for i in scored.index if system_of[i] in released]
    cal = calibrate(scored[rel_ids].rename("judge"), human.rename("human"), "thresholds", k=k, scale=(1, 3),
                    levels=LEVELS, n_bootstrap=n_bootstrap, seed=seed, confidence=confidence)
    levels_of = dict(cal.oof_levels.items())
    new_ids = [i for i in scored.index if system_of[i] in new]
    if new_ids:
        levels_of.update(cal.calibrator.predict_levels(scored[new_ids]).items())
    systems = [*released, *new]
    rows = []
    for i, lv in levels_of.items():
        d, s = i.rsplit("/", 1)
        rows.append({"dialog": d, "system": s, "score": float(lv), "emotion": meta[d].get("emotion"),
                     "sentiment": meta[d].get("sentiment")})
    long = pd.DataFrame(rows)
    calibrated = study(long, systems, baseline, by=by)
    human_study = study(df, released, baseline, by=by)
    changes = _change_cis(long, systems, baseline, n_bootstrap, seed, confidence)
    changes["new"] = [s in new for s in changes.index]
    hp = {p["system"]: p for p in human_study.pairwise}
    vrows = {}
    for s in released:
        if s == baseline:
            continue
        c = changes.loc[s]
        vrows[s] = {"human_pp": hp[s]["top_change_pp"], "human_relative": hp[s]["top_change_relative"],
                    "judge_pp": c["pp"], "pp_low": c["pp_low"], "pp_high": c["pp_high"],
                    "judge_relative": c["relative"],
                    "covered": bool(c["pp_low"] <= hp[s]["top_change_pp"] <= c["pp_high"])}
    validity = pd.DataFrame.from_dict(vrows, orient="index")
    notes = list(jr.summary.get("notes", []))
    if unscored:
        notes.append("items the judge left unscored are left out of the study (never given a level)")
    settings = {"k": k, "n_bootstrap": n_bootstrap, "seed": seed, "confidence": confidence, "baseline": baseline,
                "calibration": "ordinal thresholds onto Bad/Okay/Good; released systems out of fold, new systems "
                               "with the map fitted on all released items"}
    return JudgedStudyReport(calibrated, human_study, cal, changes, validity, str(jr.signature), unscored, settings,
                             notes, simulated)
