"""The released datasets judgekit reads: where each comes from, under which
licence, how its folder must be laid out, and a check of a data folder.

judgekit downloads nothing at import or load time; the data folder
(``$JUDGEKIT_DATA_DIR``) holds one sub-folder per dataset, each a copy of
the upstream files at the pinned commit.  ``check_data`` says, per dataset,
whether a folder holds it (``found``), lacks it (``missing``: every dataset
is optional) or holds it in a shape the loaders cannot read (``malformed``,
naming the file and the problem).
"""
from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["RELEASED", "ReleasedData", "DataCheck", "check_data"]


@dataclass(frozen=True)
class ReleasedData:
    name: str                 # the name load_ratings takes ('' when no loader reads it)
    folder: str               # the sub-folder of the data folder (a file path for welivita2024)
    title: str
    source: str               # repository and commit the files are copied from
    licence: str
    files: tuple[str, ...]    # what must be there, relative to the folder
    used_for: str


RELEASED: tuple[ReleasedData, ...] = (
    ReleasedData(
        "kumar2025", "kumar2025-empathic-communication",
        "Kumar et al. 2025, When LLMs are Reliable for Judging Empathic Communication (replication data)",
        "github.com/aakriti1kumar/replication-data-and-code-when-LLMs-reliable-empathic-communication "
        "@ 713458108e28897fccf136a6337296b5199cb617 (Zenodo 10.5281/zenodo.17230987)",
        "MIT; the conversation texts come from EmpatheticDialogues (CC BY-NC 4.0) and EPITOME (Althoff "
        "academic licence): non-commercial research",
        ("annotations/<framework>/{expert1,expert2,expert3,crowd,gpt,claude,gemini}_ratings.csv "
         "for empatheticdialogues, epitome, perceived_empathy, lend_an_ear",
         "annotations/table_kappa.csv", "original_data/sample_*.csv (the rated conversations)"),
        "load_ratings('kumar2025'), agreement, meta-eval --dataset kumar2025"),
    ReleasedData(
        "epitome", "epitome-reddit",
        "EPITOME, Reddit portion (Sharma et al. 2020)",
        "github.com/behavioral-data/Empathy-Mental-Health @ 0e11f98901527550885dbf253bd2af92dbcec43b, dataset/",
        "Althoff academic licence (non-commercial research) or the attribution-only licence; cite the paper",
        ("emotional-reactions-reddit.csv", "interpretations-reddit.csv", "explorations-reddit.csv"),
        "load_ratings('epitome'), meta-eval --dataset epitome"),
    ReleasedData(
        "mentalalign", "mentalalign-70k",
        "MentalAlign-70k (Badawi et al. 2025); no response texts are released",
        "github.com/abeerbadawi/MentalBench-Align @ 03cfc4be2b7c181232652af304dc96d9bbcc5f8a, MentalAlign-70k/",
        "MIT",
        ("Human_Judge/Human_judge.xlsx", "LLMs_as_a_judge/{claude,gemini,gpt-4o,o4-mini}_llm_judge.xlsx"),
        "load_ratings('mentalalign') (needs openpyxl: the [xlsx] extra)"),
    ReleasedData(
        "", "smilechat-zh",
        "SmileChat (Qiu et al., SMILE), Chinese counselling dialogues; derived reply pairs",
        "github.com/qiuhuachuan/smile @ 9f8afc0b126049e0e8797d3719991e316dccd705, data/<n>.json",
        "CC0 1.0 (public domain dedication)",
        ("pairs.jsonl.gz: 20,000 rows {id, context, pred, ref}",
         "dialogues.jsonl.gz: 2,000 rows {id, turns: [{role, content}]}"),
        "the test suite's whole-corpus checks and benchmarks/ (examples/smilechat-100.jsonl is its first 100 rows)"),
    ReleasedData(
        "welivita2024", "welivita2024/dataset_and_ratings.csv",
        "Welivita & Pu 2024, Is ChatGPT More Empathetic than Humans? (ratings of 2,000 x 3 responses)",
        "github.com/anuradha1992/llm-empathy-evaluation (judgekit.human.download_welivita fetches the pinned file)",
        "no licence file upstream: not redistributed; bring your own copy",
        ("dataset_and_ratings.csv (dialog_id, emotion, sentiment, response_<system>, rating_<system>, ...)",),
        "load_ratings('welivita2024'), study, meta-eval --dataset welivita2024"),
)


@dataclass
class DataCheck:
    dataset: ReleasedData
    status: str               # found | missing | malformed
    detail: str

    def to_dict(self) -> dict[str, Any]:
        d = self.dataset
        return {"dataset": d.name or d.folder, "folder": d.folder, "status": self.status, "detail": self.detail}


def _check_jsonl_gz(path: Path, fields: tuple[str, ...]) -> str | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            first = f.readline()
        row = json.loads(first)
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        return f"{path.name}: not a gzipped JSONL file ({exc})"
    missing = [k for k in fields if k not in row]
    return f"{path.name}: the first row lacks {missing}" if missing else None


def _check_one(d: ReleasedData, root: Path) -> DataCheck:
    where = root / d.folder
    if not where.exists():
        return DataCheck(d, "missing", f"no {d.folder} under {root}")
    if d.name == "":   # smilechat-zh: read by the tests, not by a loader
        for name, fields in (("pairs.jsonl.gz", ("id", "context", "pred", "ref")), ("dialogues.jsonl.gz", ("id", "turns"))):
            if not (where / name).is_file():
                return DataCheck(d, "malformed", f"{d.folder}/{name} is missing")
            problem = _check_jsonl_gz(where / name, fields)
            if problem:
                return DataCheck(d, "malformed", f"{d.folder}/{problem}")
        return DataCheck(d, "found", f"{where}")
    from .datasets import load_ratings

    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # data issues a loader keeps are not a malformed folder
            table = load_ratings(d.name, data_dir=root)
    except InputError as exc:
        return DataCheck(d, "malformed", str(exc))
    except FileNotFoundError as exc:
        missing = os.path.relpath(exc.filename, root) if exc.filename else "a file"
        return DataCheck(d, "malformed", f"missing file {missing} (expected: {'; '.join(d.files)})")
    except (OSError, ValueError, KeyError) as exc:
        return DataCheck(d, "malformed", f"{type(exc).__name__}: {exc}")
    return DataCheck(d, "found", f"{len(table):,} ratings of {table['item'].nunique():,} items")


def check_data(data_dir: str | os.PathLike[str] | None = None) -> list[DataCheck]:
    """Check a data folder (default ``$JUDGEKIT_DATA_DIR``): per released
    dataset, found / missing / malformed, by loading it as judgekit does."""
    from .._settings import data_dir as _data_dir

    root = _data_dir(data_dir)
    return [_check_one(d, root) for d in RELEASED]
