"""The shape of the code: no import cycle between tinykit's packages, and every
op spec backed by its C kernel, its analyzer and its TFLM resolver name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS, cost, tflm_resolver

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
PKG = REPO / "tinykit"
KERNELS = REPO / "firmware" / "src" / "kernels"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every tinykit module a file imports: top-level, inside functions, relative,
    and ``importlib.import_module("...")`` string literals."""
    tree = ast.parse(path.read_text(), str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module",
                                                                                "__import__")):
            found.add(node.args[0].value)
    return {m for m in found if m == "tinykit" or m.startswith("tinykit.")}


def _unit(module: str) -> str:
    """The package (or top-level module) a module belongs to: tinykit.ops.conv -> tinykit.ops."""
    parts = module.split(".")
    if len(parts) >= 2 and (PKG / parts[1]).is_dir():
        return ".".join(parts[:2])
    if len(parts) >= 2 and (PKG / f"{parts[1]}.py").is_file():
        return ".".join(parts[:2])
    return "tinykit"


def package_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PKG.rglob("*.py"):
        if "_data" in path.parts:
            continue
        src = _unit(_module_name(path))
        for target in _imports(path):
            dst = _unit(target)
            if dst != src:
                edges.setdefault(src, set()).add(dst)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of nodes (first == last), or None.

    >>> find_cycle({"a": {"b"}, "b": {"c"}})
    >>> find_cycle({"a": {"b"}, "b": {"a"}})
    ['a', 'b', 'a']
    """
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_between_packages() -> None:
    edges = package_graph()
    assert "tinykit.ops" in edges and "tinykit.plan" in edges["tinykit.analyze"]
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])


def test_cycle_finder_sees_function_level_and_importlib_imports(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f():\n    import tinykit.codegen.api\n"
                 "importlib.import_module('tinykit.analyze.api')\n")
    assert {"tinykit.codegen.api", "tinykit.analyze.api"} <= _imports_at(f)


def _imports_at(path: Path) -> set[str]:
    fake = PKG / "_probe_for_test.py"
    fake.write_text(path.read_text())
    try:
        return _imports(fake)
    finally:
        fake.unlink()


def test_leaf_modules_import_no_stage() -> None:
    edges = package_graph()
    for leaf in ("tinykit.errors", "tinykit.cgen", "tinykit.tensors", "tinykit.graph", "tinykit.tf",
                 "tinykit.toolchain"):
        assert edges.get(leaf, set()) <= {"tinykit", "tinykit.errors", "tinykit.graph",
                                          "tinykit.resources"}, leaf


# --- op specs -----------------------------------------------------------------------

_HEADER = KERNELS / "tk_kernels.h"


def _declared() -> set[str]:
    return set(re.findall(r"\bTkStatus\s+(tk_\w+)\s*\(", _HEADER.read_text()))


def _defined() -> set[str]:
    names: set[str] = set()
    for c in KERNELS.glob("*.c"):
        names.update(re.findall(r"^TkStatus\s+(tk_\w+)\s*\([^;]*?\)\s*\{", c.read_text(), re.M | re.S))
    return names


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_spec_is_complete(kind: str) -> None:
    spec = SPECS[kind]
    assert spec.kind == kind and spec.version >= 1
    for symbol in spec.kernels:
        assert symbol in _declared(), f"{kind}: {symbol} is not declared in {_HEADER.name}"
        assert symbol in _defined(), f"{kind}: {symbol} is not defined under {KERNELS}"
    assert spec.kernels or spec.alias, f"{kind}: an op with no kernel must be a no-copy alias"
    if not spec.tflm:  # TILE: TFLM has no kernel (the reference is TFLite's, tinykit.reference)
        assert kind not in TFLM_OPS and tflm_resolver(kind) is None
        return
    assert re.fullmatch(r"Add[A-Z]\w+", tflm_resolver(kind) or ""), kind
    assert TFLM_OPS[kind] >= 1


def _tensor(i: int, shape: tuple[int, ...]) -> Tensor:
    return Tensor(i, f"t{i}", shape, "int8", Quant((0.1,), (0,)))


def test_every_op_has_a_cost_rule() -> None:
    """Unknown ops are the only ones that silently count 0 MACs."""
    g = Graph("g", (_tensor(0, (1, 4, 4, 8)), _tensor(1, (1, 4, 4, 8))), (), (0,), (1,), 0)
    for kind in ("RELU", "ADD", "LOGISTIC", "SUB", "MAXIMUM", "SQUARED_DIFFERENCE"):
        op = Op(0, kind, 1, (0, 0), (1,))
        assert cost(g, op).macs == 4 * 4 * 8, kind
    assert cost(g, Op(0, "RESHAPE", 1, (0,), (1,))).macs == 0


def test_an_op_is_described_in_one_place() -> None:
    """An op with an AOT spec carries its TFLM facts itself: no row left in ops/tflm.py."""
    from tinykit.ops.tflm import TFLM_ONLY

    assert not set(SPECS) & set(TFLM_ONLY)
