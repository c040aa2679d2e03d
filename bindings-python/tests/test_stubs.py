"""The hand-written `_native.pyi` matches the built module (names and class members)."""

from __future__ import annotations

import ast
import pathlib

import authcore
from authcore import _native

STUB = pathlib.Path(authcore.__file__).with_name("_native.pyi")


def _stub_names():
    tree = ast.parse(STUB.read_text())
    top, classes = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            top.add(node.name)  # a private test hook (`_panic_for_tests`) is stubbed for stubtest
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and not node.target.id.startswith("_"):
            top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    return top, classes


def test_stub_lists_exactly_the_module():
    top, classes = _stub_names()
    public = {n for n in dir(_native) if not n.startswith("_")} | {"__version__"}
    stubbed = top | {"__version__"}
    assert stubbed == public, (
        f"missing from _native.pyi: {sorted(public - stubbed)}; "
        f"not in the module: {sorted(stubbed - public)}"
    )
    for name, members in classes.items():
        real = {n for n in dir(getattr(_native, name)) if not n.startswith("_")}
        assert members == real, f"{name}: missing {sorted(real - members)}, extra {sorted(members - real)}"


def test_py_typed_marker_is_shipped():
    assert STUB.with_name("py.typed").exists()
