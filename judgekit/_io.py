"""Private, kept for old imports only: the file readers live in
:mod:`judgekit.io` (``iter_records`` is ``judgekit.io.read_records``)."""
from __future__ import annotations

from .io import iter_pairs
from .io import read_records as iter_records

__all__: list[str] = []
