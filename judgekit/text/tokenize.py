"""Tokenizers: how a text becomes the tokens that every metric counts.

Each tokenizer has a ``signature()`` that records everything that decides a
token boundary (segmenter and version, dictionary hash, HMM flag, whitespace
policy, normalization), because the same pair of texts scores several BLEU
points apart under different tokenizations.
"""
from __future__ import annotations

import contextvars
import re
import unicodedata
from typing import Callable, Sequence

from .._progress import bar as progress_bar
from ..errors import InputError

__all__ = ["Tokenizer", "make_tokenizer", "TOKENIZERS", "NORMALIZATIONS", "WHITESPACE_POLICIES"]

NORMALIZATIONS = ("none", "nfkc", "lower", "nfkc+lower")
_HAS_SPACE = re.compile(r"\s").search
WHITESPACE_POLICIES = ("drop", "keep")
TOKENIZERS = ("jieba", "char", "zh", "13a", "intl", "whitespace")

# Set by ``evaluate(progress=True)``: large tokenization jobs show a bar on stderr.
SHOW_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("judgekit_show_progress", default=False)
_PROGRESS_MIN = 2000
_CHUNK = 1000

# Token lists of recently seen texts, per tokenizer signature: references
# shared by several systems (a leaderboard) are segmented once per process.
# Bounded by tokens (about 90 bytes each), so that streaming a large file of
# distinct texts keeps memory flat: when full, it keeps what it has and adds
# nothing more (the texts seen first are the ones a leaderboard repeats).
_CACHE: dict[str, dict[str, list[str]]] = {}
_CACHE_SIZE: dict[str, int] = {}
CACHE_MAX_TOKENS = 1_500_000


def clear_cache() -> None:
    """Forget every cached token list, and the texts that the compiled
    segmenters kept for their id path."""
    from .segment import clear_caches

    _CACHE.clear()
    _CACHE_SIZE.clear()
    clear_caches()


def _normalizer(name: str) -> Callable[[str], str] | None:
    if name == "none":
        return None
    if name == "nfkc":
        return lambda s: unicodedata.normalize("NFKC", s)
    if name == "lower":
        return str.lower
    if name == "nfkc+lower":
        return lambda s: unicodedata.normalize("NFKC", s).lower()
    raise InputError(f"unknown normalization {name!r}; choose one of {', '.join(NORMALIZATIONS)}")


class Tokenizer:
    """Base class: subclasses implement ``_tokenize_many`` on normalized text."""

    name = "base"

    def __init__(self, normalize: str = "none"):
        self.normalize = normalize
        self._norm = _normalizer(normalize)

    def _tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:  # pragma: no cover
        raise NotImplementedError

    def _spec(self) -> str:
        return self.name

    def signature(self) -> str:
        return f"{self._spec()}+norm.{self.normalize}"

    def tokenize(self, text: str) -> list[str]:
        return self.tokenize_many([text])[0]

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokenize each distinct text once; equal texts share one token list."""
        if self._norm is not None:
            texts = [self._norm(t) for t in texts]
        sig = self.signature()
        cache = _CACHE.setdefault(sig, {})
        index: dict[str, int] = {}
        unique: list[str] = []
        for t in texts:
            if t not in index and t not in cache:
                index[t] = len(unique)
                unique.append(t)
        if SHOW_PROGRESS.get() and len(unique) >= _PROGRESS_MIN:
            done = []
            with progress_bar(len(unique), f"tokenizing ({self.name})", "text", show=True, leave=False) as bar:
                for k in range(0, len(unique), _CHUNK):
                    part = unique[k: k + _CHUNK]
                    done += self._tokenize_many(part)
                    bar.update(len(part))
        else:
            done = self._tokenize_many(unique)
        fresh = dict(zip(unique, done))
        out = [fresh[t] if t in fresh else cache[t] for t in texts]
        added = sum(map(len, done))
        if _CACHE_SIZE.get(sig, 0) + added <= CACHE_MAX_TOKENS:
            cache.update(fresh)
            _CACHE_SIZE[sig] = _CACHE_SIZE.get(sig, 0) + added
        return out

    @property
    def has_ids(self) -> bool:
        """Whether ``ids_many`` gives ids (the compiled segmenter is in use)."""
        return False

    def ids_many(self, texts: Sequence[str], threads: int = 1) -> tuple[bytes, bytes, list[str]] | None:
        """The tokens of ``tokenize_many`` as (ids, offsets, vocabulary), for
        callers that only count tokens (see ``JiebaSegmenter.encode_many``);
        None when this tokenizer has no such path (the caller then uses
        ``tokenize_many``)."""
        return None

    def __repr__(self) -> str:
        return f"<Tokenizer {self.signature()}>"


class JiebaTokenizer(Tokenizer):
    """jieba words.  ``whitespace="keep"`` keeps jieba's whitespace tokens
    (' ', '\\n', '\\r\\n' ...) verbatim, as pipelines that call
    ``list(jieba.cut(text))`` do; ``"drop"`` removes them."""

    name = "jieba"

    def __init__(self, whitespace: str = "drop", user_dicts: Sequence[str] = (), hmm: bool = True, normalize: str = "none"):
        super().__init__(normalize)
        if whitespace not in WHITESPACE_POLICIES:
            raise InputError(f"unknown whitespace policy {whitespace!r}; choose 'drop' or 'keep'")
        from .segment import get_segmenter

        self.whitespace = whitespace
        self.segmenter = get_segmenter(user_dicts, hmm)

    def _spec(self) -> str:
        return f"{self.segmenter.signature()}+ws.{self.whitespace}"

    @property
    def has_ids(self) -> bool:
        return self.segmenter.backend == "c"

    def ids_many(self, texts: Sequence[str], threads: int = 1) -> tuple[bytes, bytes, list[str]] | None:
        if not self.has_ids:
            return None
        if self._norm is not None:
            texts = [self._norm(t) for t in texts]
        drop = self.whitespace == "drop"
        if not (SHOW_PROGRESS.get() and len(texts) >= _PROGRESS_MIN):
            return self.segmenter.encode_many(texts, drop_space=drop, threads=threads)
        with progress_bar(len(texts), f"tokenizing ({self.name})", "text", show=True, leave=False) as bar:
            return self.segmenter.encode_many(texts, drop_space=drop, threads=threads,
                                              progress=lambda done: bar.update(done - bar.n))

    def _tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        out = self.segmenter.cut_many(texts)
        if self.whitespace == "drop":
            # jieba emits whitespace only as tokens of its own: filter only
            # the texts that have any.
            out = [[t for t in toks if not t.isspace()] if _HAS_SPACE(text) else toks
                   for text, toks in zip(texts, out)]
        return out


class CharTokenizer(Tokenizer):
    """Characters.  ``whitespace="keep"`` is ``list(text)`` (the ChatGLM
    recipe); ``"drop"`` removes whitespace characters (sacreBLEU ``char``)."""

    name = "char"

    def __init__(self, whitespace: str = "drop", normalize: str = "none"):
        super().__init__(normalize)
        if whitespace not in WHITESPACE_POLICIES:
            raise InputError(f"unknown whitespace policy {whitespace!r}; choose 'drop' or 'keep'")
        self.whitespace = whitespace

    def _spec(self) -> str:
        return f"char+ws.{self.whitespace}"

    def _tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        if self.whitespace == "keep":
            return [list(t) for t in texts]
        return [[c for c in t if not c.isspace()] for t in texts]


class _ZhTable(dict):
    """str.translate table: a character sacreBLEU's ``zh`` tokenizer counts
    as Chinese becomes " c ", any other maps to itself; decided once per
    distinct character by sacreBLEU's own ``_is_chinese_char`` (range quirks
    included), after which lookups stay in C."""

    def __init__(self, is_chinese):
        super().__init__()
        self._is_chinese = is_chinese

    def __missing__(self, code: int) -> str:
        c = chr(code)
        value = f" {c} " if self._is_chinese(c) else c
        self[code] = value
        return value


class _FastPost:
    """sacreBLEU's 13a post-tokenizer (``TokenizerRegexp``) with its first
    rule, "space around every character of one ASCII class", done by
    ``str.translate``; the table is built from sacreBLEU's own compiled
    regex, and the other rules run as sacreBLEU runs them.  The first rule
    matches every space, so after ``zh`` puts spaces around each Chinese
    character it dominates sacreBLEU's time."""

    def __init__(self, post):
        first, repl = post._re[0]
        if repl != r" \1 ":  # pragma: no cover - a future sacreBLEU changed the rule
            raise ValueError("unexpected sacreBLEU post-tokenizer")
        self.table = _IdentityTable({c: f" {chr(c)} " for c in range(128) if first.fullmatch(chr(c))})
        if any(first.search(chr(c)) for c in range(128, 0x3000)):  # pragma: no cover
            raise ValueError("unexpected sacreBLEU post-tokenizer class")
        # The other rules can only match where their characters occur.
        (self.rx_before, self.rep_before), (self.rx_after, self.rep_after), (self.rx_dash, self.rep_dash) = post._re[1:]

    def __call__(self, line: str) -> list[str]:
        """The tokens (sacreBLEU returns them joined by single spaces)."""
        line = line.translate(self.table)
        if "." in line or "," in line:
            line = self.rx_before.sub(self.rep_before, line)
            line = self.rx_after.sub(self.rep_after, line)
        if "-" in line:
            line = self.rx_dash.sub(self.rep_dash, line)
        return line.split()


class _IdentityTable(dict):
    """A translate table that remembers the characters it leaves alone, so
    that every later lookup is a plain dict hit."""

    def __missing__(self, code: int) -> str:
        value = self[code] = chr(code)
        return value


class SacreTokenizer(Tokenizer):
    """sacreBLEU's ``zh``, ``13a``, ``intl`` or ``char`` tokenizer, applied as
    sacreBLEU applies it (``rstrip`` then tokenize then split on whitespace),
    so that token lists equal those behind sacreBLEU's own scores.  ``zh``
    and ``13a`` run as ``str.translate`` plus sacreBLEU's remaining regexes
    (the same strings, without its per-character Python work); tested equal
    to sacreBLEU's tokenizers."""

    def __init__(self, kind: str, normalize: str = "none"):
        super().__init__(normalize)
        import sacrebleu
        from sacrebleu.metrics.bleu import _get_tokenizer

        self.name = kind
        self.version = sacrebleu.__version__
        self._tok = _get_tokenizer(kind)()
        self._fast = None
        if kind in ("zh", "13a"):
            post = _FastPost(self._tok._post_tokenizer)
            if kind == "zh":
                from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

                table = _ZhTable(TokenizerZh._is_chinese_char)
                self._fast = lambda t: post(t.strip().translate(table))
            else:
                self._fast = lambda t: post(f" {_pre13a(t)} ")

    def _spec(self) -> str:
        return f"sacrebleu-{self.version}.{self.name}"

    def _tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        if self._fast is not None:
            fast = self._fast
            return [fast(t.rstrip()) for t in texts]
        tok = self._tok
        return [tok(t.rstrip()).split() for t in texts]


def _pre13a(line: str) -> str:
    """mteval-v13a's pre-processing, as sacreBLEU's ``Tokenizer13a``."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return line


class WhitespaceTokenizer(Tokenizer):
    """``text.split()``: for text that is already segmented."""

    name = "whitespace"

    def _tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        return [t.split() for t in texts]


def make_tokenizer(name: str | Tokenizer, **options) -> Tokenizer:
    """A tokenizer by name: jieba, char, zh, 13a, intl or whitespace.

    Options: ``whitespace`` (drop/keep; jieba and char), ``user_dicts`` and
    ``hmm`` (jieba), ``normalize`` (none/nfkc/lower/nfkc+lower).
    """
    if isinstance(name, Tokenizer):
        return name
    normalize = options.pop("normalize", "none")
    if name == "jieba":
        return JiebaTokenizer(normalize=normalize, **options)
    if name == "char":
        return CharTokenizer(normalize=normalize, **_only(options, "whitespace", name))
    if name in ("zh", "13a", "intl"):
        _only(options, None, name)
        return SacreTokenizer(name, normalize=normalize)
    if name == "whitespace":
        _only(options, None, name)
        return WhitespaceTokenizer(normalize=normalize)
    raise InputError(f"unknown tokenizer {name!r}; choose one of {', '.join(TOKENIZERS)}")


def _only(options: dict, allowed: str | None, name: str) -> dict:
    extra = [k for k in options if k != allowed]
    if extra:
        raise InputError(f"tokenizer {name!r} takes no option {', '.join(map(repr, extra))}")
    return options
