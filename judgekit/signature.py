"""``Signature``: how a number was made, one type everywhere.

A signature is an ordered list of ``key:value`` parts, printed
sacreBLEU-style on one line (``judgekit:0.1.0|preset:chatglm|...``).  A value
is text or a nested signature, printed in brackets
(``judge:[model:gpt-4o-mini|rubric:empathy-3pt@2+...]``), so the parts of
an evaluation (text, n-gram, judge, tests) nest without clashing names.

It *is* its short printed form (a ``str`` subclass: quote it, compare it,
store it) and keeps its structure: ``sig["tok"]``, ``sig.parts``,
``sig.long()`` (one part per line, nested parts indented) and
``Signature.parse`` reads back either form.

``same_numbers`` separates what changes numbers from provenance that
cannot: the segmenter backend (``seg.c`` compiled, ``seg.py`` jieba itself)
gives identical tokens, so two signatures differing only there describe the
same numbers.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Mapping, Union

__all__ = ["Signature", "PROVENANCE"]

Value = Union[str, "Signature"]

# '+'-joined fragments of a value that say how a value was computed, never
# what it is: the segmenter backend (c or py, identical tokens).  One rule,
# declared here; ``Signature.numbers_only`` drops them.
PROVENANCE = re.compile(r"\+seg\.(?:c|py)(?=[+,|\]]|$)")

_SPECIAL = set("|[]\\")


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _escape(text: str) -> str:
    """Values print verbatim unless they would not read back: a '|' at the
    top level, unbalanced brackets, a leading '[' or a backslash get
    backslash escapes."""
    if not (set(text) & _SPECIAL) or ("|" not in _top_level(text) and _balanced(text) and "\\" not in text
                                      and not text.startswith("[")):
        return text
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


def _top_level(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


class Signature(str):
    """Ordered ``key:value`` parts; a value is text or a nested Signature.

    ``Signature({"preset": "chatglm", "scale": "100"})`` or
    ``Signature([("judge", Signature(...)), ...])``; a string is parsed.
    Immutable: ``with_part`` / ``without`` return new signatures.
    """

    _parts: dict[str, Value]

    def __new__(cls, parts: Mapping[str, Any] | Iterable[tuple[str, Any]] | str | None = None) -> "Signature":
        if isinstance(parts, Signature):
            return parts
        if isinstance(parts, str):
            return cls.parse(parts)
        items = list(parts.items()) if isinstance(parts, Mapping) else list(parts or ())
        clean: dict[str, Value] = {}
        for key, value in items:
            key = str(key)
            if not key or set(key) & (_SPECIAL | {":"}) or "\n" in key or key != key.strip():
                raise ValueError(f"signature key {key!r}: must be non-empty, without ':', '|', '[', ']', '\\' "
                                 "or surrounding spaces")
            if key in clean:
                raise ValueError(f"signature key {key!r} given twice")
            if isinstance(value, Mapping) and not isinstance(value, Signature):
                value = Signature(value)
            elif not isinstance(value, Signature):
                value = str(value)
                if "\n" in value:
                    raise ValueError(f"signature value of {key!r} has a line break")
            clean[key] = value
        text = "|".join(f"{k}:[{v}]" if isinstance(v, Signature) else f"{k}:{_escape(v)}" for k, v in clean.items())
        self = super().__new__(cls, text)
        self._parts = clean
        return self

    # -- structure ---------------------------------------------------------
    @property
    def parts(self) -> dict[str, Value]:
        """The parts in order (a copy)."""
        return dict(self._parts)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return self._parts[key]
            except KeyError:
                raise KeyError(f"signature has no part {key!r}; parts: {', '.join(self._parts)}") from None
        return str.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self._parts.get(key, default)

    def keys(self) -> Iterator[str]:
        return iter(list(self._parts))

    def items(self) -> Iterator[tuple[str, Value]]:
        return iter(list(self._parts.items()))

    def has(self, key: str) -> bool:
        """Whether ``key`` is a part (``in`` tests the printed text, as for
        any string)."""
        return key in self._parts

    def with_part(self, key: str, value: Any) -> "Signature":
        """A copy with ``key`` set (replaced in place, or appended)."""
        parts = dict(self._parts)
        parts[key] = value
        return Signature(parts)

    def without(self, *keys: str) -> "Signature":
        return Signature({k: v for k, v in self._parts.items() if k not in keys})

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dicts (for JSON)."""
        return {k: v.to_dict() if isinstance(v, Signature) else v for k, v in self._parts.items()}

    # -- forms -------------------------------------------------------------
    def short(self) -> str:
        """The one-line form (the string itself)."""
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Signature({str.__repr__(self)})"

    def long(self, indent: str = "  ") -> str:
        """One part per line (``key: value``), nested parts indented under
        their ``key:``; ends with a newline, which marks the long form."""
        lines: list[str] = []

        def walk(sig: Signature, depth: int) -> None:
            for k, v in sig._parts.items():
                if isinstance(v, Signature):
                    lines.append(f"{indent * depth}{k}:")
                    walk(v, depth + 1)
                else:
                    lines.append(f"{indent * depth}{k}: {v}")

        walk(self, 0)
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str, form: str = "auto") -> "Signature":
        """Read back the short (one-line) or the long form; ``auto`` takes
        text with a line break for the long form."""
        if not isinstance(text, str):
            raise TypeError(f"Signature.parse takes a string, not {type(text).__name__}")
        if isinstance(text, Signature):
            return text
        if form not in ("auto", "short", "long"):
            raise ValueError(f"form must be auto, short or long, not {form!r}")
        if form == "long" or (form == "auto" and "\n" in text):
            return cls._parse_long(text)
        if not text:
            return cls(())
        sig, end = cls._parse_short(text, 0)
        if end != len(text):
            raise ValueError(f"signature {text!r}: unexpected {text[end]!r} at column {end + 1}")
        return sig

    @classmethod
    def _parse_short(cls, text: str, pos: int) -> tuple["Signature", int]:
        parts: list[tuple[str, Value]] = []
        n = len(text)
        if pos < n and text[pos] == "]":  # an empty nested part
            return cls(()), pos
        while True:
            colon = text.find(":", pos)
            if colon < 0:
                raise ValueError(f"signature {text!r}: part at column {pos + 1} has no ':'")
            key = text[pos:colon]
            pos = colon + 1
            if pos < n and text[pos] == "[":
                value, pos = cls._parse_short(text, pos + 1)
                if pos >= n or text[pos] != "]":
                    raise ValueError(f"signature {text!r}: '[' of part {key!r} is not closed")
                pos += 1
                parts.append((key, value))
            else:
                out, depth = [], 0
                while pos < n:
                    ch = text[pos]
                    if ch == "\\" and pos + 1 < n:
                        out.append(text[pos + 1])
                        pos += 2
                        continue
                    if ch == "|" and depth == 0:
                        break
                    if ch == "[":
                        depth += 1
                    elif ch == "]":
                        if depth == 0:
                            break  # closes the enclosing nested part
                        depth -= 1
                    out.append(ch)
                    pos += 1
                parts.append((key, "".join(out)))
            if pos < n and text[pos] == "|":
                pos += 1
                continue
            return cls(parts), pos

    @classmethod
    def _parse_long(cls, text: str) -> "Signature":
        lines = [ln for ln in text.split("\n") if ln]
        pos = 0

        def block(depth_ws: int) -> Signature:
            nonlocal pos
            parts: list[tuple[str, Value]] = []
            while pos < len(lines):
                line = lines[pos]
                ws = len(line) - len(line.lstrip(" "))
                if ws < depth_ws:
                    break
                if ws > depth_ws:
                    raise ValueError(f"signature line {pos + 1}: unexpected indentation")
                key, sep, value = line[ws:].partition(":")
                if not sep:
                    raise ValueError(f"signature line {pos + 1}: no ':' in {line.strip()!r}")
                pos += 1
                if value == "":  # "key:" opens a nested part; "key: " is an empty value
                    nxt = lines[pos] if pos < len(lines) else ""
                    inner = len(nxt) - len(nxt.lstrip(" "))
                    parts.append((key, block(inner) if nxt and inner > ws else cls(())))
                else:
                    parts.append((key, value[1:] if value.startswith(" ") else value))
            return cls(parts)

        return block(0)

    # -- comparison --------------------------------------------------------
    def numbers_only(self) -> "Signature":
        """This signature without provenance (see ``PROVENANCE``)."""
        return Signature({k: v.numbers_only() if isinstance(v, Signature) else PROVENANCE.sub("", v)
                          for k, v in self._parts.items()})

    def same_numbers(self, other: Any) -> bool:
        """Whether ``other`` describes the same numbers (it may differ in
        provenance only)."""
        return str(self.numbers_only()) == str(Signature(other).numbers_only())

    def differences(self, other: Any) -> list[str]:
        """The parts that change numbers and differ, as ``key: this != other``
        lines (nested keys joined with '.')."""
        a, b = self.numbers_only(), Signature(other).numbers_only()
        out: list[str] = []

        def walk(x: Signature, y: Signature, prefix: str) -> None:
            for k in list(dict.fromkeys([*x._parts, *y._parts])):
                vx, vy = x._parts.get(k), y._parts.get(k)
                if isinstance(vx, Signature) and isinstance(vy, Signature):
                    walk(vx, vy, f"{prefix}{k}.")
                elif str(vx) != str(vy):
                    out.append(f"{prefix}{k}: {'(absent)' if vx is None else vx} != "
                               f"{'(absent)' if vy is None else vy}")

        walk(a, b, "")
        return out

    def __reduce__(self) -> tuple:
        return (Signature.parse, (str(self),))
