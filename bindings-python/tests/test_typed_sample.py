"""The typed sample (bindings-python/typecheck/uses_every_export.py, checked with
``mypy --strict`` by scripts/python.sh) uses every name of every public module's ``__all__``."""

from __future__ import annotations

import ast
import importlib
import pathlib

SAMPLE = pathlib.Path(__file__).resolve().parents[1] / "typecheck" / "uses_every_export.py"


def _public_modules() -> list[str]:
    """Every public module of the package, subpackages included (a new one must be used
    by the sample too)."""
    package = pathlib.Path(importlib.import_module("authcore").__file__).parent
    public = {"authcore"}
    for p in package.rglob("*.py"):
        parts = p.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and not any(x.startswith("_") for x in parts):
            public.add("authcore." + ".".join(parts))
    return sorted(public)


MODULES = _public_modules()


def _used() -> dict[str, set[str]]:
    tree = ast.parse(SAMPLE.read_text(encoding="utf-8"))
    alias: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                alias[a.asname or a.name] = a.name
    used: dict[str, set[str]] = {m: set() for m in MODULES}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in alias:
            used.setdefault(alias[node.value.id], set()).add(node.attr)
    return used


def test_every_public_module_is_imported_by_the_sample():
    used = _used()
    assert set(MODULES) <= set(used), sorted(set(MODULES) - set(used))


def test_the_sample_uses_every_export():
    used = _used()
    missing = {}
    for name in MODULES:
        exported = set(importlib.import_module(name).__all__)
        gap = exported - used[name]
        if gap:
            missing[name] = sorted(gap)
    assert not missing, f"add these to {SAMPLE.name}: {missing}"

