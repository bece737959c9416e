"""Orchestration: items -> messages -> cache / requests -> parsed scores.

``judge()`` is the one-call API; ``Judge`` holds the same settings for
repeated use (and for ``judgekit.evaluate(..., judge=Judge(...))``).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import os
import statistics
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from urllib.parse import urlparse

from .._compat import renamed
from .._version import __version__
from ..scores import MeanReducer, Scores
from ..signature import Signature
from ..errors import InputError, ReplayMissError
from ._client import Budget, Engine, EngineConfig, Failure, Request
from ._reply import MAX_BODY_BYTES, strip_url_credentials
from .cache import JudgeCache, KeyMaker
from .parse import PARSER_VERSION, expected_scores, parse_reply
from .dialect import Dialect, strip_reasoning
from .render import render_messages, response_format
from .rubric import Rubric, load_rubric

DEFAULT_BASE_URL = "https://api.openai.com/v1"
AGGREGATES = ("mean", "median", "majority")


@dataclass
class JudgeResult:
    """Per-item scores (``per_item``, a DataFrame), a ``summary`` and a
    ``signature``; ``dimensions`` and their ``levels`` (the rubric's scale).
    ``to_scores()`` gives the ``judgekit.Scores`` that the other packages
    take."""

    per_item: Any
    summary: dict[str, Any]
    signature: Signature
    dimensions: list[str] = field(default_factory=list)
    levels: dict[str, tuple] = field(default_factory=dict)
    # with samples > 1: dimension -> per item, each sample's value (None where
    # that sample was not read), for self-consistency across repeats
    sample_values: dict[str, list[list[Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.signature = Signature(self.signature)
        if not self.dimensions:
            self.dimensions = dimension_columns(self.per_item.columns)

    def to_scores(self, prefix: str = "judge:") -> Scores:
        """Scores keyed by item id: ``<prefix><dim>`` per dimension (NaN
        where unscored; corpus value the mean over scored items, resampled
        as such) and ``<prefix>status``."""
        df = self.per_item
        status = df["status"].to_numpy(dtype=object)
        cols: dict[str, Any] = {}
        for d in self.dimensions:
            v = pd_numeric(df[d])
            v[status != "scored"] = float("nan")
            cols[f"{prefix}{d}"] = v
        names = list(cols)
        cols[f"{prefix}status"] = status
        return Scores(df["id"].astype(str).tolist(), cols, signature=self.signature, reducer=MeanReducer(names),
                      levels={f"{prefix}{d}": v for d, v in self.levels.items() if d in self.dimensions})

    def to_dict(self) -> dict[str, Any]:
        rows = json.loads(self.per_item.to_json(orient="records", force_ascii=False))
        return {"signature": str(self.signature), "summary": self.summary, "per_item": rows}

    def to_json(self, **kwargs: Any) -> str:
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self) -> str:
        s = self.summary
        means = ", ".join(f"{k}={v:.3f}" if v == v else f"{k}=nan" for k, v in s["means"].items())
        return f"<JudgeResult {s['n_scored']}/{s['n_items']} scored; {means}; {self.signature}>"


# Columns of a judge's per-item table that describe an item, not a
# dimension; "<dim>_sd" (several samples) and "<dim>_expected" (logprobs)
# describe a dimension.  The one place that tells dimensions apart.
META_COLUMNS = ("id", "status", "reason", "raw", "prompt_tokens", "completion_tokens", "cached", "samples_scored",
                "signature")


def dimension_columns(columns: Any) -> list[str]:
    """The dimension columns of a judge's per-item table."""
    return [str(c) for c in columns if c not in META_COLUMNS and not str(c).endswith(("_sd", "_expected"))]


def pd_numeric(series: Any) -> Any:
    import numpy as np
    import pandas as pd

    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, copy=True) if series.dtype == object \
        else np.array(series, dtype=float)


def load_results(source: Any, *, rubric: Any = None) -> JudgeResult:
    """A judge's results as a ``JudgeResult``: one as it is, its
    ``per_item`` DataFrame, or the per-item JSONL that ``judgekit judge
    --output`` writes (dimensions from the columns; levels from ``rubric``
    when given)."""
    import pandas as pd

    from ..io import read_records

    if isinstance(source, JudgeResult):
        return source
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):
        for key in ("id", "status"):
            if key not in source.columns:
                raise InputError(f"judge results have no {key!r} column")
        rows = source.to_dict(orient="records")
        path = "the judge results"
    elif isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        rows, path = [], source
        for where, rec in read_records(source, id_fields=("id",)):
            for key in ("id", "status"):
                if key not in rec:
                    raise InputError(f"{where}: judge result row without {key!r} (expected the output of "
                                     "`judgekit judge --output`)")
            rows.append(rec)
    else:
        raise InputError(f"judge results: expected a JudgeResult, a DataFrame or a JSONL path, not "
                         f"{type(source).__name__}")
    for rec in rows:
        if rec["status"] not in ("scored", "unscored"):
            raise InputError(f"{path}: unknown status value {rec['status']!r} (id {rec['id']!r}); expected "
                             "scored/unscored")
        rec["id"] = str(rec["id"])
    frame = pd.DataFrame(rows)
    dup = frame["id"][frame["id"].duplicated()].tolist()
    if dup:
        raise InputError(f"{path}: repeat id(s) {', '.join(map(repr, dup[:10]))}")
    recorded = _recorded_signature(frame, path)
    frame = frame.drop(columns=["signature"], errors="ignore")
    dims = dimension_columns(frame.columns)
    levels: dict[str, tuple] = {}
    signature: Any = recorded or ()
    if rubric is not None:
        r = load_rubric(rubric)
        levels = {d.name: d.values for d in r.dimensions if d.name in dims}
        signature = recorded or [("rubric", r.ref)]
    n_scored = int((frame["status"] == "scored").sum())
    summary = {"n_items": len(frame), "n_scored": n_scored, "n_unscored": len(frame) - n_scored,
               "means": {d: float(pd.to_numeric(frame.loc[frame["status"] == "scored", d], errors="coerce").mean())
                         for d in dims}}
    return JudgeResult(frame, summary, Signature(signature), dims, levels)


def _recorded_signature(frame: Any, path: Any) -> Signature | None:
    """The judge signature that ``judgekit judge --output`` writes on each
    row (model, rubric, ...), or None for files written without one; rows
    of different judge runs in one file are an error, not a mixed score."""
    if "signature" not in frame.columns:
        return None
    seen = [v for v in dict.fromkeys(frame["signature"].tolist()) if isinstance(v, str) and v]
    if not seen:
        return None
    if len(seen) > 1:
        raise InputError(f"{path}: rows carry {len(seen)} different judge signatures (e.g. {seen[0]!r} and "
                         f"{seen[1]!r}); give one judge run per file")
    try:
        return Signature(seen[0])
    except ValueError as exc:
        raise InputError(f"{path}: unreadable judge signature {seen[0]!r}: {exc}") from None


def _looks_like_json(text: Any) -> bool:
    """A reply that follows a JSON response format: an object, once
    reasoning and a code fence are taken off."""
    t = (strip_reasoning(text) or "").strip() if isinstance(text, str) else ""
    if t.startswith("```"):
        t = t.strip("`").partition("\n")[2].strip()
    return t.startswith("{") and t.rstrip().endswith("}")


def _read(rep: Mapping[str, Any], rubric: Rubric) -> Any:
    """The parsed reply; whatever it holds, scores or unscored with a reason."""
    from .parse import Parsed

    if rep.get("error"):
        return Parsed(None, str(rep["error"]))
    try:
        return parse_reply(strip_reasoning(rep.get("text")), rubric, refusal=rep.get("refusal"),
                           finish_reason=rep.get("finish_reason"))
    except RecursionError:
        return Parsed(None, "unreadable reply (nested too deeply)")
    except Exception as exc:  # a reply no rule foresaw: unscored, the run goes on
        return Parsed(None, f"unreadable reply ({type(exc).__name__}: {str(exc)[:200]})")


def _repr_without_credentials(obj: Any) -> str:
    """A dataclass's repr with ``base_url`` (and ``server``) stripped of ``user:password@``."""
    import dataclasses

    parts = []
    for f in dataclasses.fields(obj):
        if not f.repr:
            continue
        value = getattr(obj, f.name)
        if f.name in ("base_url", "server") and value is not None:
            value = strip_url_credentials(value) if isinstance(value, str) else [strip_url_credentials(str(u)) for u in value]
        parts.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def _host(url: str) -> str:
    """host[:port] of a URL, never its credentials."""
    p = urlparse(url)
    if not p.hostname:
        return url.split("@")[-1]
    return p.hostname + (f":{p.port}" if p.port else "")


def _resolve_base_url(base_url: "str | Sequence[str] | None") -> str:
    """The base URL, or several (replicas of one server) joined with commas."""
    if base_url is not None and not isinstance(base_url, str):
        urls = [str(u).rstrip("/") for u in base_url]
        if not urls or not all(urls):
            raise InputError("base_url: give a URL, or a non-empty list of replicas' URLs")
        if len(set(urls)) != len(urls):
            raise InputError(f"base_url lists a replica twice: {urls}")
        return ",".join(urls)
    url = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    return url.rstrip("/")


def _coerce_items(items: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(id, mapping) pairs; ids default to the row position, as strings."""
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            records = items.to_dict(orient="records")
            items = records
    except ImportError:  # pragma: no cover
        pass
    if isinstance(items, Mapping) or isinstance(items, (str, bytes)):
        raise InputError("items must be a list of mappings (one per item) or a DataFrame")
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if type(item) is not dict and not isinstance(item, Mapping):
            raise InputError(f"item {i}: must be a mapping of the rubric's input names, got {type(item).__name__}")
        raw_id = item.get("id", None)
        if raw_id is None or (isinstance(raw_id, float) and math.isnan(raw_id)):
            item_id = str(i)
        else:
            item_id = str(raw_id)
        if item_id in seen:
            raise InputError(f"item {i}: duplicate id {item_id!r} (first at item {seen[item_id]})")
        seen[item_id] = i
        out.append((item_id, item))
    return out


def _check_item(rubric: Rubric, i: int, item_id: str, item: Mapping[str, Any]) -> None:
    for spec in rubric.inputs:
        value = item.get(spec.name)
        if isinstance(value, float) and math.isnan(value):
            value = None
        if spec.required and value is None:
            optional = [s.name for s in rubric.inputs if not s.required]
            opt = f"; optional: {', '.join(optional)}" if optional else ""
            raise InputError(
                f"item {i} (id {item_id!r}): missing required field {spec.name!r} "
                f"(rubric {rubric.id} needs {', '.join(rubric.required_inputs)}{opt})"
            )


def _run_coro(coro: Any) -> Any:
    """asyncio.run, or in a worker thread when a loop already runs (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _aggregate(values: list[int], how: str) -> tuple[float | None, str | None]:
    if how == "mean":
        return float(statistics.fmean(values)), None
    if how == "median":
        return float(statistics.median(values)), None
    counts = Counter(values).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        tied = sorted(v for v, c in counts if c == counts[0][1])
        return None, f"no majority among samples (tie between {tied})"
    return float(counts[0][0]), None


def _input_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        content = value.get("content", value.get("text"))
        return [content] if isinstance(content, str) else []
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [t for turn in value for t in _input_texts(turn)]
    return []


def items_language(rubric: Rubric, items: Sequence[Mapping[str, Any]]) -> str:
    """The prompt language for these items: 'zh' or 'en' as detected once
    over their input texts (so Chinese items get the Chinese prompt without
    a flag), where the rubric has that language; else the rubric's first."""
    from ..text import detect_language

    texts = [t for item in items for spec in rubric.inputs for t in _input_texts(item.get(spec.name))]
    if texts:
        lang = detect_language(texts)
        if lang in rubric.languages:
            return lang
    return rubric.languages[0]


@dataclass
class Judge:
    """Settings for an LLM judge; ``run(items)`` judges, ``score_pairs`` adapts
    predictions/references/contexts to the rubric's inputs.

    ``lang`` is the prompt language (default: the items' language, Chinese
    or not, decided once over their input texts, where the rubric has it;
    else the rubric's first).
    ``language`` is its deprecated old name: given, it moves to ``lang``
    with a ``DeprecationWarning`` (giving both is an error) and reads back
    as None."""

    rubric: Any = "empathy-3pt"
    model: str = ""
    base_url: "str | list[str] | None" = None  # a list: replicas of one server, requests spread over them
    api_key_env: str = "OPENAI_API_KEY"
    cache: Any = None
    concurrency: int = 16
    samples: int = 1
    aggregate: str = "mean"
    replay_only: bool = False
    lang: str | None = None
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    structured: bool = True
    logprobs: bool = False
    top_logprobs: int = 5
    timeout: float = 60.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    rpm: float | None = None
    tpm: float | None = None
    max_total_tokens: int | None = None
    max_cost: float | None = None
    price_per_million_input: float = 0.0
    price_per_million_output: float = 0.0
    progress: bool = True
    lean_http: bool = True
    # one reply body, in bytes (8 MiB): a longer reply is cut off as it arrives and its item unscored
    max_reply_bytes: int = MAX_BODY_BYTES
    extra_params: dict[str, Any] = field(default_factory=dict)
    # the server's identity in cache keys (default: its base URL): set it to
    # replay a cache whichever way the server's URL is given
    server: str | None = None
    # force a dialect instead of learning it (keys of judgekit.judge.dialect.Dialect:
    # format, token_param, temperature, logprobs)
    dialect: dict[str, Any] | None = None
    language: str | None = None  # deprecated: the old name of ``lang``

    def __repr__(self) -> str:  # the base URL without credentials
        return _repr_without_credentials(self)

    def __post_init__(self) -> None:
        if self.language is not None:
            if self.lang is not None:
                raise InputError("Judge: give lang= only (language= is its old name)")
            warnings.warn("Judge: language= is renamed lang=", DeprecationWarning, stacklevel=3)
            self.lang, self.language = self.language, None

    # -- derived settings ---------------------------------------------------
    def _rubric(self) -> Rubric:
        return load_rubric(self.rubric)

    def _params(self, rubric: Rubric) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.structured:
            params["response_format"] = response_format(rubric)
        if self.logprobs:
            params["logprobs"] = True
            params["top_logprobs"] = self.top_logprobs
        params.update(self.extra_params)
        return params

    @renamed(language="lang")
    def signature(self, rubric: Rubric | None = None, lang: str | None = None,
                  dialect: Dialect | None = None) -> Signature:
        """What made the scores; ``format:`` is the dialect the server was
        spoken to in (learned, or json_schema before any run)."""
        rubric = rubric or self._rubric()
        lang = lang or self.lang or rubric.languages[0]
        parts = [
            ("model", self.model),
            ("host", self.server or ",".join(_host(u) for u in _resolve_base_url(self.base_url).split(","))),
            ("rubric", rubric.ref), ("parser", PARSER_VERSION),
            ("lang", lang), ("temp", f"{self.temperature:g}"), ("max_tokens", self.max_tokens),
            ("samples", self.samples), ("agg", self.aggregate),
            ("format", (dialect or self._forced_dialect()).describe() if self.structured else "text"),
        ]
        if self.seed is not None:
            parts.append(("seed", self.seed))
        if self.extra_params:
            parts.append(("extra", json.dumps(self.extra_params, sort_keys=True, separators=(",", ":"))))
        parts.append(("judgekit", __version__))
        return Signature(parts)

    def _validate(self) -> None:
        if not self.model:
            raise InputError("model is required (e.g. model='gpt-4o-mini' or the name your server serves)")
        if self.samples < 1:
            raise InputError(f"samples must be >= 1, got {self.samples}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)) \
                or not math.isfinite(self.temperature) or self.temperature < 0:
            raise InputError(f"temperature must be a finite number >= 0, got {self.temperature!r}")
        if self.aggregate not in AGGREGATES:
            raise InputError(f"aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")
        if self.concurrency < 1:
            raise InputError(f"concurrency must be >= 1, got {self.concurrency}")

    # -- preparing requests -------------------------------------------------
    def prepare(self, items: Any) -> tuple[Rubric, str, list[str], list[list[Request]]]:
        """Render every item and compute its cache keys (no network)."""
        self._validate()
        rubric = self._rubric()
        pairs = _coerce_items(items)
        lang = self.lang or items_language(rubric, [item for _, item in pairs])
        if lang not in rubric.languages:
            raise InputError(f"rubric {rubric.id} has no {lang!r} text (languages: {list(rubric.languages)})")
        base_url = _resolve_base_url(self.base_url)
        params = self._params(rubric)
        keys = KeyMaker(base_url=self._server_id(base_url), model=self.model, params=params, rubric_id=rubric.id,
                        rubric_version=rubric.version, rubric_hash=rubric.content_hash, parser_version=PARSER_VERSION)
        ids: list[str] = []
        reqs: list[list[Request]] = []
        for i, (item_id, item) in enumerate(pairs):
            _check_item(rubric, i, item_id, item)
            messages = render_messages(rubric, item, lang, where=f"item {i} (id {item_id!r})")
            est = sum(len(m["content"]) for m in messages) // 2 + self.max_tokens
            per = []
            for k in range(self.samples):
                key = keys.key(messages, k)
                per.append(Request(key=key, item=i, sample=k, messages=messages, params=params, est_tokens=est))
            ids.append(item_id)
            reqs.append(per)
        return rubric, lang, ids, reqs

    def _open_cache(self) -> JudgeCache | None:
        if self.cache is None:
            return None
        if isinstance(self.cache, JudgeCache):
            return self.cache
        return JudgeCache(self.cache)

    # -- running ------------------------------------------------------------
    def run(self, items: Any) -> JudgeResult:
        """Judge the items: answers from the cache first, then the server."""
        rubric, lang, ids, reqs = self.prepare(items)
        cache = self._open_cache()
        try:
            all_keys = [r.key for per in reqs for r in per]
            replies: dict[str, Any] = cache.get_many(all_keys) if cache is not None else {}
            from_cache = set(replies)
            missing = [r for per in reqs for r in per if r.key not in replies]
            stopped: str | None = None
            retries = 0
            budget = Budget(self.max_total_tokens, self.max_cost, self.price_per_million_input, self.price_per_million_output)
            if missing and self.replay_only:
                miss_ids = list(dict.fromkeys(ids[r.item] for r in missing))
                raise ReplayMissError(miss_ids, self._key_description(rubric))
            dialect = self._dialect(cache)
            notes: list[str] = []
            if missing:
                stopped, retries, notes = self._fetch(missing, replies, cache, rubric, budget, dialect)
            return self._build(rubric, lang, ids, reqs, replies, from_cache, budget, stopped, retries, dialect, notes)
        finally:
            if cache is not None and cache is not self.cache:
                cache.close()

    def _server_id(self, base_url: str | None = None) -> str:
        """The server's identity in cache keys: ``server``, else its URL
        (replicas: their URLs, sorted, so no key depends on which answered),
        without credentials (``user:password@``): they are no part of the
        identity and the identity is stored (the dialects table) and shown."""
        url = strip_url_credentials(base_url or _resolve_base_url(self.base_url))
        return self.server or (url if "," not in url else "replicas:" + ",".join(sorted(url.split(","))))

    def _forced_dialect(self) -> Dialect:
        try:
            return Dialect.from_dict(self.dialect) if self.dialect else Dialect()
        except TypeError as exc:
            raise InputError(f"dialect: {exc}") from None

    def _dialect(self, cache: JudgeCache | None) -> Dialect:
        """The dialect to start from: forced, else learned earlier for this
        server and model (kept in the cache), else the OpenAI default."""
        if self.dialect:
            return self._forced_dialect()
        if cache is not None:
            return Dialect.from_dict(cache.get_dialect(self._server_id(), self.model))
        return Dialect()

    def _key_description(self, rubric: Rubric) -> str:
        return (f"model {self.model!r}; server identity {self._server_id()!r} (the base URL, or server=/--server-id); "
                f"rubric {rubric.ref}; parser {PARSER_VERSION}; temperature {self.temperature:g}, max_tokens "
                f"{self.max_tokens}, seed {self.seed}, structured {self.structured}, logprobs {self.logprobs}, "
                f"extra {json.dumps(self.extra_params, sort_keys=True)}; samples {self.samples}; the language "
                "and the items' text")

    def _fetch(self, missing: list[Request], replies: dict[str, Any], cache: JudgeCache | None,
               rubric: Rubric, budget: Budget, dialect: Dialect) -> tuple[str | None, int, list[str]]:
        from .._progress import bar as progress_bar

        api_key = os.environ.get(self.api_key_env) or "EMPTY"
        config = EngineConfig(
            base_url=_resolve_base_url(self.base_url), model=self.model, api_key=api_key,
            concurrency=self.concurrency, rpm=self.rpm, tpm=self.tpm, timeout=self.timeout,
            max_retries=self.max_retries, backoff_base=self.backoff_base, backoff_max=self.backoff_max,
            budget=budget, lean_http=self.lean_http, dialect=dialect, max_reply_bytes=self.max_reply_bytes,
        )
        learned_from = dialect.copy()
        # progress=True: where someone watches (a terminal or a notebook)
        bar = progress_bar(len(missing), f"judge {rubric.id}", "req", show=None if self.progress else False)

        def on_result(req: Request, result: Any) -> None:
            if isinstance(result, Failure):
                replies[req.key] = result
            else:
                replies[req.key] = result
                if cache is not None:
                    cache.put_later(req.key, result, model=self.model, rubric=rubric.ref)
            bar.update(1)

        engine = Engine(config, on_result)
        if cache is not None:
            cache.start_writer()
        try:
            _run_coro(engine.run(missing))
        finally:
            bar.close()
            if cache is not None:
                cache.stop_writer()
                if dialect != learned_from and not self.dialect:
                    cache.put_dialect(self._server_id(), self.model, dialect.to_dict())
        for req in engine.not_started:
            replies[req.key] = Failure(f"not run: {engine.stopped}")
        skipped = getattr(cache, "skipped", None) if cache is not None else None
        if skipped:
            engine.notes.append(f"{len(skipped)} repl{'y' if len(skipped) == 1 else 'ies'} could not be cached "
                                f"(asked again next run): {skipped[0]}")
        return engine.stopped, engine.retries, list(dict.fromkeys(engine.notes))

    def _build(self, rubric: Rubric, lang: str, ids: list[str], reqs: list[list[Request]], replies: dict[str, Any],
               from_cache: set[str], budget: Budget, stopped: str | None, retries: int, dialect: Dialect,
               notes: list[str]) -> JudgeResult:
        import numpy as np
        import pandas as pd

        dims = rubric.dimension_names
        k = self.samples
        nan = float("nan")
        cols: dict[str, list[Any]] = {"id": ids, "status": [], "reason": [], "raw": []}
        for d in dims:
            cols[d] = []
            if k > 1:
                cols[f"{d}_sd"] = []
            if self.logprobs:
                cols[f"{d}_expected"] = []
        if k > 1:
            cols["samples_scored"] = []
        cols["prompt_tokens"], cols["completion_tokens"], cols["cached"] = [], [], []
        new_prompt = new_completion = 0
        not_json = 0
        reply_notes: Counter[str] = Counter()
        sample_values: dict[str, list[list[Any]]] = {}
        for per in reqs:
            parsed_samples: list[dict[str, int]] = []
            by_sample: list[dict[str, int] | None] = [None] * k
            reasons: list[str] = []
            raws: list[Any] = []
            expected: dict[str, list[float]] = {d: [] for d in dims}
            p_tok = c_tok = 0
            cached = True
            for r in per:
                rep = replies.get(r.key)
                if isinstance(rep, Failure) or rep is None:
                    reasons.append(rep.reason if isinstance(rep, Failure) else "no reply")
                    raws.append(None)
                    cached = False
                    continue
                if r.key not in from_cache:
                    cached = False
                    new_prompt += rep["usage"]["prompt_tokens"]
                    new_completion += rep["usage"]["completion_tokens"]
                p_tok += rep["usage"]["prompt_tokens"]
                c_tok += rep["usage"]["completion_tokens"]
                raws.append(rep.get("text"))
                for note in rep.get("notes") or ():
                    reply_notes[note] += 1
                parsed = _read(rep, rubric)
                if parsed.ok:
                    parsed_samples.append(parsed.scores)  # type: ignore[arg-type]
                    by_sample[r.sample] = parsed.scores
                    if self.structured and dialect.format != "text" and not _looks_like_json(rep.get("text")):
                        not_json += 1  # readable, but not in the form asked for
                    if self.logprobs:
                        for d, v in expected_scores(rep.get("logprobs"), rubric).items():
                            expected[d].append(v)
                else:
                    reasons.append(parsed.reason or "unparseable")
            status = "scored" if parsed_samples else "unscored"
            agg_reason = None
            values: dict[str, float] = {}
            if parsed_samples:
                for d in dims:
                    v, why = _aggregate([s[d] for s in parsed_samples], self.aggregate)
                    if why:
                        agg_reason = f"{d}: {why}"
                        status = "unscored"
                        break
                    values[d] = v  # type: ignore[assignment]
            for d in dims:
                cols[d].append(values.get(d, nan) if status == "scored" else nan)
                if k > 1:
                    vs = [s[d] for s in parsed_samples]
                    cols[f"{d}_sd"].append(float(np.std(vs)) if vs and status == "scored" else nan)
                if self.logprobs:
                    ev = expected[d]
                    cols[f"{d}_expected"].append(float(np.mean(ev)) if ev and status == "scored" else nan)
            if k > 1:
                cols["samples_scored"].append(len(parsed_samples))
            if status == "scored":
                note = None
                if reasons:
                    note = f"{len(parsed_samples)} of {k} samples scored; others: " + "; ".join(reasons)
                cols["reason"].append(note)
            else:
                cols["reason"].append(agg_reason or "; ".join(reasons) or "unscored")
            cols["status"].append(status)
            cols["raw"].append(raws[0] if k == 1 else json.dumps(raws, ensure_ascii=False))
            cols["prompt_tokens"].append(p_tok)
            cols["completion_tokens"].append(c_tok)
            cols["cached"].append(cached)
            if k > 1:
                for d in dims:
                    sample_values.setdefault(d, []).append([sv[d] if sv is not None else None for sv in by_sample])
        order = ["id", "status", *[c for d in dims for c in (d, f"{d}_sd", f"{d}_expected") if c in cols]]
        order += [c for c in ("samples_scored", "reason", "raw", "prompt_tokens", "completion_tokens", "cached") if c in cols]
        df = pd.DataFrame({c: cols[c] for c in order})
        scored = df["status"] == "scored"
        n_scored = int(scored.sum())
        means = {d: (float(df.loc[scored, d].mean()) if n_scored else nan) for d in dims}
        total_p = int(df["prompt_tokens"].sum())
        total_c = int(df["completion_tokens"].sum())
        summary: dict[str, Any] = {
            "rubric": rubric.ref,
            "model": self.model,
            "language": lang,
            "n_items": len(ids),
            "n_scored": n_scored,
            "n_unscored": len(ids) - n_scored,
            "means": means,
            "means_over": f"{n_scored} scored item(s); {len(ids) - n_scored} unscored left out",
            "requests_cached": sum(1 for per in reqs for r in per if r.key in from_cache),
            "requests_sent": sum(1 for per in reqs for r in per if r.key not in from_cache and not isinstance(replies.get(r.key), Failure)),
            "requests_failed": sum(1 for per in reqs for r in per if isinstance(replies.get(r.key), Failure)
                                   and not replies[r.key].reason.startswith("not run")),
            "requests_not_run": sum(1 for per in reqs for r in per if isinstance(replies.get(r.key), Failure)
                                    and replies[r.key].reason.startswith("not run")),
            "retries": retries,
            "tokens": {"prompt": total_p, "completion": total_c, "prompt_this_run": new_prompt, "completion_this_run": new_completion},
            "cost": budget.cost(total_p, total_c),
            "cost_this_run": budget.cost(new_prompt, new_completion),
            "stopped": stopped,
        }
        if stopped:
            done = len(ids) - int(df["reason"].fillna("").str.startswith("not run").sum())
            summary["stopped"] = f"{stopped}: {done} of {len(ids)} items reached the judge"
        if not_json:
            notes.append(f"the server took response_format {dialect.format} but {not_json} scored repl"
                         f"{'y is' if not_json == 1 else 'ies are'} not a JSON object: it may ignore the schema "
                         "(the tolerant parser read them; --format text says so in the signature)")
        if self.logprobs and n_scored:
            got = sum(int(df[f"{d}_expected"].notna().sum()) for d in dims)
            if got < n_scored * len(dims):
                notes.append(f"logprobs were asked for but {n_scored * len(dims) - got} of {n_scored * len(dims)} "
                             "expected score(s) are missing: the server sent no logprobs, or in a shape judgekit "
                             "does not read" + ("" if dialect.logprobs else " (it refused them)"))
        for note, n in reply_notes.items():
            notes.append(f"{n} repl{'y' if n == 1 else 'ies'}: {note}")
        summary["dialect"] = dialect.to_dict()
        summary["notes"] = notes
        for note in notes:
            warnings.warn(f"judge: {note}", stacklevel=3)
        return JudgeResult(df, summary, self.signature(rubric, lang, dialect), list(dims),
                           {d.name: d.values for d in rubric.dimensions}, sample_values)

    def score_pairs(self, preds: Sequence[str], refs: Sequence[str] | None = None, contexts: Sequence[Any] | None = None,
                    ids: Sequence[str] | None = None) -> JudgeResult:
        """Judge predictions: ``preds`` fill the rubric's ``response`` input,
        ``contexts`` its ``context`` or ``dialogue`` input and ``refs`` its
        ``reference`` input (when the rubric has one)."""
        rubric = self._rubric()
        names = {s.name for s in rubric.inputs}
        n = len(preds)
        for label, seq in (("refs", refs), ("contexts", contexts), ("ids", ids)):
            if seq is not None and len(seq) != n:
                raise InputError(f"{label} has {len(seq)} items but preds has {n}")
        if "response" not in names:
            raise InputError(f"rubric {rubric.id} has no 'response' input (inputs: {sorted(names)}); call run(items) instead")
        ctx_field = "context" if "context" in names else ("dialogue" if "dialogue" in names else None)
        items = []
        for i in range(n):
            item: dict[str, Any] = {"response": preds[i]}
            if ids is not None:
                item["id"] = ids[i]
            if contexts is not None and ctx_field:
                item[ctx_field] = contexts[i]
            if refs is not None and "reference" in names:
                item["reference"] = refs[i]
            items.append(item)
        return self.run(items)


@renamed(language="lang")
def judge(items: Any, rubric: Any = "empathy-3pt", model: str = "", base_url: str | None = None,
          api_key_env: str = "OPENAI_API_KEY", cache: Any = None, concurrency: int = 16, samples: int = 1,
          aggregate: str = "mean", replay_only: bool = False, **settings: Any) -> JudgeResult:
    """Judge ``items`` (mappings of the rubric's input names, optional ``id``)
    with an OpenAI-compatible model.  See ``Judge`` for every setting
    (``lang=`` the prompt language; ``language=`` is its deprecated old name)."""
    return Judge(rubric=rubric, model=model, base_url=base_url, api_key_env=api_key_env, cache=cache,
                 concurrency=concurrency, samples=samples, aggregate=aggregate, replay_only=replay_only,
                 **settings).run(items)
