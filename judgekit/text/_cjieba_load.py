"""Feeding the compiled segmenter from the installed jieba package.

Nothing of jieba's data lives in judgekit: the dictionary (``dict.txt``) and
the HMM tables (``finalseg/prob_*.py``) are read from the installed jieba at
load time.  ``import jieba`` itself is avoided when it is not already loaded
(it costs ~0.1-0.2 s, mostly pkg_resources), so that import + first call stays
well under half a second.

User dictionaries follow ``Tokenizer.load_userdict`` line by line (binary
lines, ``strip``, UTF-8, BOM, the ``re_userdict`` pattern) and words without a
frequency get ``suggest_freq(word, False)``, computed on the segmenter's state
at that moment, exactly as jieba's ``add_word`` does.  The same parser feeds
the pure-Python fallback, so both paths read a user dictionary identically.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
from functools import lru_cache
from typing import Any, NamedTuple

# jieba.re_userdict (jieba/__init__.py, 0.42.1); tests check it is unchanged.
RE_USERDICT = re.compile("^(.+?)( [0-9]+)?( [a-z]+)?$", re.U)


@lru_cache(maxsize=None)
def jieba_dir() -> str:
    """The installed jieba package folder, found without importing jieba."""
    mod = sys.modules.get("jieba")
    if mod is not None and getattr(mod, "__file__", None):
        return os.path.dirname(os.path.abspath(mod.__file__))
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jieba is not installed")
    return os.path.abspath(list(spec.submodule_search_locations)[0])


def dict_path() -> str:
    return os.path.join(jieba_dir(), "dict.txt")


@lru_cache(maxsize=None)
def jieba_version() -> str:
    """``jieba.__version__`` without importing jieba (read from its source)."""
    mod = sys.modules.get("jieba")
    if mod is not None and getattr(mod, "__version__", None):
        return str(mod.__version__)
    with open(os.path.join(jieba_dir(), "__init__.py"), encoding="utf-8") as f:
        head = f.read(4096)
    m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", head, re.M)
    if not m:
        raise ImportError("cannot read jieba.__version__")
    return m.group(1)


def _load_table(name: str) -> Any:
    """``jieba.finalseg.<name>.P`` loaded from its file (its cached bytecode
    when present) under a private module name, so jieba is not imported."""
    path = os.path.join(jieba_dir(), "finalseg", name + ".py")
    loader = importlib.machinery.SourceFileLoader(f"_judgekit_jieba_finalseg_{name}", path)
    spec = importlib.util.spec_from_file_location(loader.name, path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.P


@lru_cache(maxsize=None)
def _hmm_tables_from_files() -> tuple[Any, Any, Any]:
    return _load_table("prob_start"), _load_table("prob_trans"), _load_table("prob_emit")


def hmm_tables() -> tuple[Any, Any, Any]:
    """(start_P, trans_P, emit_P) of jieba.finalseg: the live objects when
    jieba is already imported, else the same files read directly."""
    fs = sys.modules.get("jieba.finalseg")
    if fs is not None:
        return fs.start_P, fs.trans_P, fs.emit_P
    return _hmm_tables_from_files()


class UserWord(NamedTuple):
    lineno: int
    word: str
    freq: int | None
    tag: str | None


def read_userdict(path: str) -> list[UserWord]:
    """The entries of a user dictionary as ``Tokenizer.load_userdict`` reads
    them; a line that is not UTF-8 raises InputError naming file and line."""
    from ..errors import InputError

    entries: list[UserWord] = []
    with open(path, "rb") as f:
        for lineno, ln in enumerate(f, 1):
            raw = ln.strip()
            try:
                line = raw.decode("utf-8").lstrip("\ufeff")
            except UnicodeDecodeError as exc:
                raise InputError(f"user dictionary {path!r} line {lineno}: not UTF-8 ({exc.reason})") from None
            if not line:
                continue
            word, freq, tag = RE_USERDICT.match(line).groups()  # type: ignore[union-attr]
            entries.append(
                UserWord(lineno, word, int(freq.strip()) if freq is not None else None, tag.strip() if tag is not None else None)
            )
    return entries


def suggest_freq(seg: Any, word: str) -> int:
    """``Tokenizer.suggest_freq(word, tune=False)`` on the compiled segmenter,
    with jieba's float operations in jieba's order."""
    total = seg.total
    ftotal = float(total)
    freq: float = 1
    for piece in seg.cut(word, False):
        f = seg.get_freq(piece)
        freq *= (1 if f is None else f) / ftotal
    f_word = seg.get_freq(word)
    return max(int(freq * total) + 1, 1 if f_word is None else f_word)


def add_userdict(seg: Any, path: str) -> None:
    from ..errors import InputError

    for e in read_userdict(path):
        freq = e.freq if e.freq is not None else suggest_freq(seg, e.word)
        try:
            seg.add_word(e.word, freq)
        except OverflowError as exc:
            raise InputError(f"user dictionary {path!r} line {e.lineno}: {exc}") from None


def build_native(native: Any, user_dicts: tuple[str, ...] = ()) -> Any:
    """A compiled segmenter loaded with jieba's dictionary, HMM tables and the
    user dictionaries in order."""
    with open(dict_path(), "rb") as f:
        data = f.read()
    start, trans, emit = hmm_tables()
    seg = native.Segmenter(data, start, trans, emit)
    for p in user_dicts:
        add_userdict(seg, p)
    return seg
