"""Layering: no module outside a package imports that package's private
modules or names (``_``-prefixed), so packages meet only through public
names.  (``.ci/run`` also runs the import-linter contracts in
pyproject.toml: the one-way flow between packages.)"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"__future__", "__version__"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path):
    """(line, imported dotted name) for every import, relative ones resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                yield node.lineno, f"{mod}.{a.name}"


def _owner_of_private(dotted: str) -> str | None:
    """The package whose private part ``dotted`` reaches into, or None (a
    private name of a module belongs to that module's package)."""
    parts = dotted.split(".")
    for i, p in enumerate(parts):
        if p.startswith("_") and p not in ALLOWED and not (p.startswith("__") and p.endswith("__")):
            owner = parts[:i]
            while owner and not (ROOT.joinpath(*owner) / "__init__.py").exists():
                owner = owner[:-1]  # a module: its package owns the name
            return ".".join(owner)
    return None


def _sources():
    files = sorted((ROOT / "judgekit").rglob("*.py")) + sorted((ROOT / "metrics").rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def test_no_module_imports_another_packages_private_names():
    bad = []
    for path in _sources():
        me = _module_name(path)
        for line, dotted in _imports(path):
            if not dotted.startswith("judgekit"):
                continue
            owner = _owner_of_private(dotted)
            if owner is None:
                continue
            if not (me == owner or me.startswith(owner + ".")):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {dotted} (private to {owner})")
    assert not bad, "private imports across packages:\n" + "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path):
    """The rule itself: a report module reaching into ngram._stats is caught,
    one inside ngram is not."""
    assert _owner_of_private("judgekit.ngram._stats.BleuStats") == "judgekit.ngram"
    assert _owner_of_private("judgekit.ngram.suite.Partial") is None
    assert _owner_of_private("judgekit.human._table") == "judgekit.human"
    assert _owner_of_private("judgekit._version.__version__") == "judgekit"
    assert _owner_of_private("judgekit.judge.rubric._pick") == "judgekit.judge"
