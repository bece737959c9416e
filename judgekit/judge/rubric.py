"""Rubrics: YAML files validated on load, with errors naming file and field.

A rubric says what a judge needs (its inputs), what it rates (dimensions,
each with an ordered integer scale of anchored levels) and the task text in
each language it supports.  Built-in rubrics ship in the wheel as
``judgekit/_rubrics``; source checkouts read the repository's ``rubrics/``.
Users pass their own files by path.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .._compat import renamed
from ..errors import InputError

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INPUT_KINDS = ("text", "dialogue")
_TOP_FIELDS = {
    "id", "version", "languages", "description", "source", "inputs", "dimensions",
    "prompt", "roles", "human_ratings", "notes",
}


@dataclass(frozen=True)
class Level:
    value: int
    label: Mapping[str, str]
    anchor: Mapping[str, str]
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dimension:
    name: str
    description: Mapping[str, str]
    scale: tuple[Level, ...]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(level.value for level in self.scale)

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class InputSpec:
    name: str
    required: bool
    kind: str
    description: Mapping[str, str]


@dataclass(frozen=True)
class Rubric:
    """A validated rubric.  ``ref`` (``id@version+hash``) names it in signatures."""

    id: str
    version: str
    languages: tuple[str, ...]
    description: Mapping[str, str]
    inputs: tuple[InputSpec, ...]
    dimensions: tuple[Dimension, ...]
    prompt: Mapping[str, str]
    roles: Mapping[str, Mapping[str, str]]
    source: str = ""
    human_ratings: Mapping[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    path: str = ""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}+{self.content_hash[:12]}"

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs if i.required)

    def dimension(self, name: str) -> Dimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(name)

    @renamed(language="lang")
    def describe(self, lang: str | None = None) -> str:
        """Human-readable summary in ``lang`` (default: the first of
        ``languages``; ``language=`` is its deprecated old name), used by
        ``judgekit rubrics show``."""
        lang = lang or self.languages[0]
        lines = [f"{self.id} (version {self.version}, content {self.content_hash[:12]})",
                 f"languages: {', '.join(self.languages)}",
                 f"{_pick(self.description, lang)}"]
        if self.source:
            lines.append(f"source: {self.source}")
        lines.append("inputs:")
        for i in self.inputs:
            req = "required" if i.required else "optional"
            lines.append(f"  {i.name} ({i.kind}, {req}): {_pick(i.description, lang)}")
        lines.append("dimensions:")
        for d in self.dimensions:
            lines.append(f"  {d.name} [{d.minimum}-{d.maximum}]: {_pick(d.description, lang)}")
            for lv in d.scale:
                lines.append(f"    {lv.value} {_pick(lv.label, lang)}: {_pick(lv.anchor, lang)}")
        if self.human_ratings:
            lines.append("human ratings: " + json.dumps(dict(self.human_ratings), ensure_ascii=False))
        return "\n".join(lines)


def _pick(text: Mapping[str, str], lang: str) -> str:
    if lang in text:
        return text[lang]
    return next(iter(text.values()), "")


class _Checker:
    """Collects the location of every field so that errors name it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> InputError:
        return InputError(f"rubric {self.origin}: field '{where}': {message}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__}")
        return value

    def seq(self, value: Any, where: str, nonempty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list, got {type(value).__name__}")
        if nonempty and not value:
            raise self.fail(where, "must not be empty")
        return value

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be a non-empty string")
        return value.strip()

    def text(self, value: Any, where: str, languages: tuple[str, ...]) -> dict[str, str]:
        """A plain string (same in every language) or a language -> string map."""
        if isinstance(value, bool):
            raise self.fail(where, f"must be text, got the YAML boolean {str(value).lower()}: quote it "
                                   f"({where.rsplit('.', 1)[-1]}: \"{str(value).lower()}\")")
        if isinstance(value, str):
            s = self.string(value, where)
            return {lang: s for lang in languages}
        m = self.mapping(value, where)
        out: dict[str, str] = {}
        for lang in languages:
            if lang not in m:
                raise self.fail(where, f"missing text for language {lang!r} (rubric declares {list(languages)})")
            out[lang] = self.string(m[lang], f"{where}.{lang}")
        extra = set(m) - set(languages)
        if extra:
            raise self.fail(where, f"text for undeclared language(s) {sorted(extra)}")
        return out


def parse_rubric(data: Any, origin: str = "<memory>") -> Rubric:
    """Validate a parsed YAML mapping and build a Rubric."""
    c = _Checker(origin)
    top = c.mapping(data, "<top>")
    unknown = set(top) - _TOP_FIELDS
    if unknown:
        raise c.fail(sorted(unknown)[0], f"unknown field (allowed: {sorted(_TOP_FIELDS)})")
    for req in ("id", "version", "languages", "description", "inputs", "dimensions", "prompt"):
        if req not in top:
            raise c.fail(req, "is required")
    rid = c.string(top["id"], "id")
    if not _ID_RE.match(rid):
        raise c.fail("id", f"{rid!r} must be lower-case letters, digits, '-', '_' or '.'")
    version = top["version"]
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        raise c.fail("version", "must be a string or number")
    version = str(version).strip()
    if not version:
        raise c.fail("version", "must not be empty")
    langs_raw = c.seq(top["languages"], "languages")
    languages = tuple(c.string(x, f"languages[{i}]") for i, x in enumerate(langs_raw))
    for lang in languages:
        if lang not in ("en", "zh"):
            raise c.fail("languages", f"unsupported language {lang!r} (en, zh)")
    if len(set(languages)) != len(languages):
        raise c.fail("languages", "duplicate language")
    description = c.text(top["description"], "description", languages)

    inputs: list[InputSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(c.seq(top["inputs"], "inputs")):
        where = f"inputs[{i}]"
        m = c.mapping(raw, where)
        bad = set(m) - {"name", "required", "kind", "description"}
        if bad:
            raise c.fail(f"{where}.{sorted(bad)[0]}", "unknown field")
        name = c.string(m.get("name"), f"{where}.name")
        if not _NAME_RE.match(name) or name == "id":
            raise c.fail(f"{where}.name", f"{name!r} must be an identifier other than 'id'")
        if name in seen:
            raise c.fail(f"{where}.name", f"duplicate input {name!r}")
        seen.add(name)
        required = m.get("required", True)
        if not isinstance(required, bool):
            raise c.fail(f"{where}.required", "must be true or false")
        kind = m.get("kind", "text")
        if kind not in INPUT_KINDS:
            raise c.fail(f"{where}.kind", f"must be one of {list(INPUT_KINDS)}")
        desc = c.text(m.get("description", name), f"{where}.description", languages)
        inputs.append(InputSpec(name, required, kind, desc))
    if not any(i.required for i in inputs):
        raise c.fail("inputs", "at least one input must be required")

    dims: list[Dimension] = []
    dseen: set[str] = set()
    for i, raw in enumerate(c.seq(top["dimensions"], "dimensions")):
        where = f"dimensions[{i}]"
        m = c.mapping(raw, where)
        bad = set(m) - {"name", "description", "scale"}
        if bad:
            raise c.fail(f"{where}.{sorted(bad)[0]}", "unknown field")
        name = c.string(m.get("name"), f"{where}.name")
        if not _NAME_RE.match(name):
            raise c.fail(f"{where}.name", f"{name!r} must be an identifier")
        if name in dseen or name in seen or name in ("id", "status", "reason", "raw"):
            raise c.fail(f"{where}.name", f"{name!r} clashes with another dimension, an input or a result column")
        dseen.add(name)
        desc = c.text(m.get("description"), f"{where}.description", languages)
        levels: list[Level] = []
        for j, lraw in enumerate(c.seq(m.get("scale"), f"{where}.scale")):
            lw = f"{where}.scale[{j}]"
            lm = c.mapping(lraw, lw)
            bad = set(lm) - {"value", "label", "anchor", "examples"}
            if bad:
                raise c.fail(f"{lw}.{sorted(bad)[0]}", "unknown field")
            value = lm.get("value")
            if isinstance(value, bool) or not isinstance(value, int):
                raise c.fail(f"{lw}.value", f"must be an integer, got {value!r}")
            label = c.text(lm.get("label"), f"{lw}.label", languages)
            anchor = c.text(lm.get("anchor"), f"{lw}.anchor", languages)
            examples_raw = lm.get("examples", [])
            examples = tuple(c.string(e, f"{lw}.examples[{k}]") for k, e in enumerate(c.seq(examples_raw, f"{lw}.examples", nonempty=False)))
            levels.append(Level(value, label, anchor, examples))
        if len(levels) < 2:
            raise c.fail(f"{where}.scale", "needs at least two levels")
        values = [lv.value for lv in levels]
        if values != sorted(values) or len(set(values)) != len(values):
            raise c.fail(f"{where}.scale", f"values must be strictly increasing, got {values}")
        for lang in languages:
            labels = [lv.label[lang].casefold() for lv in levels]
            if len(set(labels)) != len(labels):
                raise c.fail(f"{where}.scale", f"duplicate level label in {lang!r}")
        dims.append(Dimension(name, desc, tuple(levels)))

    prompt_m = top["prompt"]
    if isinstance(prompt_m, str):   # one prompt for every language, as any other text field may be
        prompt_m = {lang: prompt_m for lang in languages}
    prompt_m = c.mapping(prompt_m, "prompt")
    prompt: dict[str, str] = {}
    for lang in languages:
        if lang not in prompt_m:
            raise c.fail("prompt", f"missing prompt text for language {lang!r}")
        prompt[lang] = c.string(prompt_m[lang], f"prompt.{lang}")
    extra = set(prompt_m) - set(languages)
    if extra:
        raise c.fail("prompt", f"prompt for undeclared language(s) {sorted(extra)}")

    roles: dict[str, dict[str, str]] = {}
    default_roles = {"user": {"en": "User", "zh": "用户"}, "assistant": {"en": "Counsellor", "zh": "心理咨询师"}}
    roles_raw = top.get("roles") or {}
    c.mapping(roles_raw, "roles")
    bad = set(roles_raw) - {"user", "assistant"}
    if bad:
        raise c.fail(f"roles.{sorted(bad)[0]}", "unknown role (user, assistant)")
    for role in ("user", "assistant"):
        if role in roles_raw:
            roles[role] = c.text(roles_raw[role], f"roles.{role}", languages)
        else:
            roles[role] = {lang: default_roles[role][lang] for lang in languages}

    source = top.get("source", "")
    if source and not isinstance(source, str):
        raise c.fail("source", "must be a string")
    human = top.get("human_ratings") or {}
    c.mapping(human, "human_ratings")

    canonical = json.dumps(_plain(top), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    content_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Rubric(
        id=rid, version=version, languages=languages, description=description,
        inputs=tuple(inputs), dimensions=tuple(dims), prompt=prompt, roles=roles,
        source=str(source).strip(), human_ratings=dict(human), content_hash=content_hash,
        path=origin,
    )


def _plain(obj: Any) -> Any:
    """YAML may give dates or other scalars: make everything JSON-able, stably."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def load_rubric_file(path: str | os.PathLike[str]) -> Rubric:
    """Load and validate one YAML rubric file."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"rubric file {str(p)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"rubric {p}: not UTF-8 text ({exc})") from None
    try:
        data = yaml.load(text, Loader=_yaml12_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"rubric {p}:{where} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_rubric(data, origin=str(p))


_LOADER: Any = None


def _yaml12_loader() -> Any:
    """PyYAML's safe loader with YAML 1.2 booleans: only true / false.
    YAML 1.1 also reads an unquoted ``No``, ``Yes``, ``On``, ``Off`` as a
    boolean, so ``label: No`` would arrive as False; here it is the text."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        Loader.yaml_implicit_resolvers = {
            k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
            for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
        Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                     list("tTfF"))
        _LOADER = Loader
    return _LOADER


def builtin_dir() -> Path:
    """Folder of the built-in rubrics: the wheel's ``judgekit/_rubrics``, else
    the source checkout's ``rubrics/``."""
    import importlib.resources

    import judgekit

    try:
        res = importlib.resources.files("judgekit") / "_rubrics"
        if res.is_dir():
            return Path(str(res))
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):  # pragma: no cover
        pass
    return Path(judgekit.__file__).resolve().parent.parent / "rubrics"


_BUILTIN_CACHE: dict[str, Rubric] = {}


def builtin_ids() -> list[str]:
    d = builtin_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def load_rubric(rubric: "str | os.PathLike[str] | Rubric | Mapping[str, Any]") -> Rubric:
    """A Rubric from a built-in id, a file path, a parsed mapping or a Rubric."""
    if isinstance(rubric, Rubric):
        return rubric
    if isinstance(rubric, Mapping):
        return parse_rubric(rubric)
    text = os.fspath(rubric)
    looks_like_path = text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text
    if looks_like_path:
        return load_rubric_file(text)
    if text in _BUILTIN_CACHE:
        return _BUILTIN_CACHE[text]
    path = builtin_dir() / f"{text}.yaml"
    if not path.is_file():
        raise InputError(f"unknown rubric {text!r}: built-in rubrics are {builtin_ids()}; pass a .yaml path for your own")
    r = load_rubric_file(path)
    if r.id != text:
        raise InputError(f"rubric {path}: field 'id': {r.id!r} does not match the file name {text!r}")
    _BUILTIN_CACHE[text] = r
    return r


def rubric_yaml(rubric: "str | os.PathLike[str]") -> str:
    """The YAML text of a built-in rubric (by id) or a rubric file, as
    written: the starting point for a rubric of one's own."""
    load_rubric(rubric)   # validated; an unknown id is an InputError listing the built-ins
    text = os.fspath(rubric)
    if text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text:
        return Path(text).read_text(encoding="utf-8")
    return (builtin_dir() / f"{text}.yaml").read_text(encoding="utf-8")


def list_rubrics() -> list[Rubric]:
    """Every built-in rubric, validated."""
    return [load_rubric(i) for i in builtin_ids()]
