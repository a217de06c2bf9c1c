"""The ops tinykit knows: one module per op family, each exporting ``SPECS``
(see :class:`~tinykit.ops.spec.OpSpec`), and :mod:`tinykit.ops.tflm` for the ops
only TFLM runs. Everything else is derived here: the AOT support table, the
support check with its one message, MACs and params, TFLM resolver methods and
code-size estimates. Adding an op is one module here, one C file under
``firmware/src/kernels/``, and their tests.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass

from tinykit.graph import Graph, Op
from tinykit.ops._common import data_movement
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec
from tinykit.ops.tflm import TFLM_ONLY

# Modules of this package that are helpers, not op families.
_HELPERS = frozenset({"spec", "quant", "fixedpoint_lut", "tflm"})


def _families() -> list[str]:
    """Every op-family module of this package (any module with ``SPECS``), by name."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
             and m.name not in _HELPERS]
    return sorted(names)


def _collect() -> dict[str, OpSpec]:
    specs: dict[str, OpSpec] = {}
    for name in _families():
        for spec in importlib.import_module(f"tinykit.ops.{name}").SPECS:
            if spec.kind in specs:
                raise RuntimeError(f"op {spec.kind} has two specs (tinykit.ops.{name})")
            specs[spec.kind] = spec
    return specs


SPECS: dict[str, OpSpec] = _collect()

# AOT: op -> highest op version supported.
AOT_OPS: dict[str, int] = {kind: spec.version for kind, spec in SPECS.items()}
# TFLM: op -> highest op version TFLM handles (a spec without a resolver method, TILE:
# TFLM has no kernel).
TFLM_OPS: dict[str, int] = {**{k: t.version for k, t in TFLM_ONLY.items()},
                            **{k: s.tflm_version for k, s in SPECS.items() if s.tflm}}
RUNTIME_OPS: dict[str, dict[str, int]] = {"aot": AOT_OPS, "tflm": TFLM_OPS}
RUNTIMES = tuple(RUNTIME_OPS)
ALIAS_KINDS = frozenset(kind for kind, spec in SPECS.items() if spec.alias)


def unsupported_reason(runtime: str, op: Op, graph: Graph | None = None) -> str | None:
    """Why ``runtime`` cannot run ``op``, or None when it can. With ``graph``, the
    AOT runtime's own check (shapes, quantization, fused activations) runs too.

    >>> unsupported_reason("aot", Op(0, "DEPTH_TO_SPACE", 1, (), ()))
    'the aot runtime has no DEPTH_TO_SPACE kernel'
    >>> unsupported_reason("aot", Op(0, "CONV_2D", 9, (), ()))
    'the aot runtime supports CONV_2D up to version 6, the model has version 9'
    >>> unsupported_reason("tflm", Op(0, "DEPTH_TO_SPACE", 2, (), ())) is None
    True
    """
    table = RUNTIME_OPS[runtime]
    if op.kind not in table:
        return f"the {runtime} runtime has no {op.kind} kernel"
    if op.version > table[op.kind]:
        return (f"the {runtime} runtime supports {op.kind} up to version {table[op.kind]}, "
                f"the model has version {op.version}")
    if runtime == "aot" and graph is not None:
        try:
            return SPECS[op.kind].check(graph, op)
        except (ValueError, KeyError, IndexError, AssertionError) as exc:
            return f"cannot be read ({type(exc).__name__}: {exc})"
    if runtime == "tflm" and graph is not None:
        return _tflm_dtype_reason(graph, op)
    return None


def _tflm_dtype_reason(graph: Graph, op: Op) -> str | None:
    """Why TFLM's kernel refuses this op's dtype (``OpSpec.tflm_dtypes``), or None."""
    spec = SPECS.get(op.kind)
    if spec is None or not spec.tflm_dtypes or not op.outputs:
        return None
    dtype = graph.op_outputs(op)[0].dtype
    if dtype in spec.tflm_dtypes:
        return None
    return (f"TFLM's {op.kind} kernel runs {'/'.join(spec.tflm_dtypes)} only, "
            f"the model's is {dtype}")


@dataclass(frozen=True)
class Unsupported:
    """One op a runtime cannot run (:func:`unsupported_reason` says why)."""

    layer: str
    op: str
    version: int
    reason: str
    index: int = -1  # the op's index in the graph

    def __str__(self) -> str:
        """
        >>> str(Unsupported("model/up", "TILE", 1, "the aot runtime has no TILE kernel", 4))
        "layer 4 'model/up': TILE v1 (the aot runtime has no TILE kernel)"
        """
        return f"layer {self.index} {self.layer!r}: {self.op} v{self.version} ({self.reason})"


def find_unsupported(runtime: str, graph: Graph) -> list[Unsupported]:
    """Every op of ``graph`` that ``runtime`` cannot run, in graph order."""
    found = []
    for op in graph.ops:
        reason = unsupported_reason(runtime, op, graph)
        if reason:
            found.append(Unsupported(graph.layer_name(op), op.kind, op.version, reason, op.index))
    return found


def unsupported_message(runtime: str, problems: Sequence[Unsupported]) -> str:
    """The one line every verb (analyze, build, verify, quantize) gives for ops the
    runtime cannot run: a failed check (exit 1), never an error.

    >>> unsupported_message("aot", [Unsupported("m/up", "TILE", 1, "no kernel", 3)])
    "1 op(s) not supported by the aot runtime: layer 3 'm/up': TILE v1 (no kernel)"
    """
    return (f"{len(problems)} op(s) not supported by the {runtime} runtime: "
            + "; ".join(str(p) for p in problems))


def unsupported_hint(runtime: str, ops: Sequence[Op]) -> str:
    """What to do about ops ``runtime`` cannot run (``ops``: the model's): TFLM only
    where TFLM can run the whole model, and never on the emulated boards (no TFLM build).

    >>> unsupported_hint("aot", [Op(0, "GELU", 1, (), ())])
    "replace the layer with one the runtime supports (README 'Ops')"
    >>> unsupported_hint("tflm", [Op(0, "TILE", 3, (), ())]).split(":")[0]
    'Keras 3 lowers UpSampling2D to TILE'
    """
    if runtime == "aot" and not any(unsupported_reason("tflm", op) for op in ops):
        return ("TFLM can run every op: build with --runtime tflm for a real board (the qemu "
                "boards have no TFLM), or replace the layer")
    advice = sorted({OP_ADVICE[op.kind] for op in ops
                     if op.kind in OP_ADVICE and unsupported_reason(runtime, op)})
    return "; ".join(advice) or "replace the layer with one the runtime supports (README 'Ops')"


# What to use instead of an op that neither runtime runs, named by the Keras layer behind it.
OP_ADVICE: dict[str, str] = {
    "TILE": ("Keras 3 lowers UpSampling2D to TILE: TFLM has no TILE kernel; build with the aot "
             "runtime, or use UpSampling2D(interpolation='bilinear') (RESIZE_BILINEAR) or "
             "Conv2DTranspose(strides=2)"),
}


def cost(graph: Graph, op: Op) -> OpCost:
    """MACs and params of one op (see each op's ``cost``)."""
    if op.kind in SPECS:
        return SPECS[op.kind].cost(graph, op)
    if op.kind in TFLM_ONLY:
        return TFLM_ONLY[op.kind].cost(graph, op)
    return data_movement(graph, op)


def tflm_resolver(kind: str) -> str | None:
    """The TFLM MicroMutableOpResolver method that registers ``kind``."""
    if kind in SPECS:
        return SPECS[kind].tflm or None
    return TFLM_ONLY[kind].resolver if kind in TFLM_ONLY else None


# --- flash estimates (approximate, Cortex-M, -Os; NOT measured) -------------------

# TFLM: interpreter, allocator, flatbuffer reader, op resolver and error reporting.
TFLM_CORE_CODE_BYTES = 40 * 1024
# AOT: tinykit's generated invoke function and fixed-point helpers (+ one kernel per op kind).
AOT_CORE_CODE_BYTES = 1536
DEFAULT_CODE_BYTES = {"aot": 2048, "tflm": 4096}


def code_bytes_estimate(runtime: str, kinds: set[str]) -> int:
    """Estimated runtime code (flash) for a runtime running these op kinds.

    >>> code_bytes_estimate("aot", {"CONV_2D", "RESHAPE"})
    5632
    >>> code_bytes_estimate("tflm", {"CONV_2D"}) == 50 * 1024
    True
    """
    total = AOT_CORE_CODE_BYTES if runtime == "aot" else TFLM_CORE_CODE_BYTES
    for kind in kinds:
        spec = SPECS.get(kind)
        if spec is not None:
            total += spec.code_bytes if runtime == "aot" else spec.tflm_code_bytes
        elif runtime == "tflm" and kind in TFLM_ONLY:
            total += TFLM_ONLY[kind].code_bytes
        else:
            total += DEFAULT_CODE_BYTES[runtime]
    return total


__all__ = ["ALIAS_KINDS", "AOT_OPS", "RUNTIMES", "RUNTIME_OPS", "SPECS", "TFLM_OPS", "EmitContext",
           "Emitted", "OpCost", "OpSpec", "Unsupported", "code_bytes_estimate", "cost",
           "find_unsupported", "tflm_resolver", "unsupported_hint", "unsupported_message",
           "unsupported_reason"]
