"""What one op is to tinykit: an :class:`OpSpec`.

Each module of :mod:`tinykit.ops` exports ``SPECS``, a tuple of specs, one per
TFLite builtin op it implements. A spec says everything every stage needs:

- ``kind``, ``version``: the builtin op and the highest version the AOT runtime runs;
- ``check``: the support check beyond kind and version, a user-facing reason or None;
- ``cost``: MACs and parameter count (``tinykit analyze``);
- ``inplace``, ``scratch``, ``alias``: what the memory planner may do with the op;
- ``emit`` and ``kernels``: the C emitter and the C kernel symbols it calls
  (declared in ``firmware/src/kernels/tk_kernels.h``, defined under
  ``firmware/src/kernels/``);
- ``tflm``, ``tflm_version``: the TFLM op-resolver method and TFLM's highest version;
- ``tflm_dtypes``: the output dtypes TFLM's kernel runs, when fewer than the AOT
  runtime's (SELECT_V2: no int32). A model with an op TFLM cannot run this way is
  checked against TFLite's reference kernels instead (:func:`tinykit.reference.engine`).

An emitter sees the graph only through an :class:`EmitContext` and returns C text
pieces; it computes at generation time everything TFLM computes in Prepare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tinykit.graph import Graph, Op


@dataclass(frozen=True)
class Emitted:
    call: str  # C statement(s) placed in tk_model_invoke(), in op order
    decls: tuple[str, ...] = ()  # file-scope declarations: static const params, LUTs


class EmitContext(Protocol):
    graph: Graph

    def sym(self, op: Op, field: str) -> str:
        """A unique, valid C identifier for one of this op's generated objects."""
        ...

    def ptr(self, tensor_index: int) -> str:
        """A C expression pointing at a tensor's data: into the arena for
        activations (``int8_t *``), or a const array for constant tensors
        (typed by the tensor's dtype, e.g. ``const int32_t *`` for biases)."""
        ...

    def scratch(self) -> str:
        """A C expression (``int8_t *``) for the shared scratch area, holding at
        least ``OpSpec.scratch(graph, op)`` bytes while the op runs."""
        ...


@dataclass(frozen=True)
class OpCost:
    macs: int
    params: int


def never(graph: Graph, op: Op) -> bool:
    return False


def always(graph: Graph, op: Op) -> bool:
    return True


def no_scratch(graph: Graph, op: Op) -> int:
    return 0


def no_check(graph: Graph, op: Op) -> str | None:
    return None


@dataclass(frozen=True)
class OpSpec:
    kind: str  # TFLite builtin op, e.g. "CONV_2D"
    version: int  # highest op version the AOT runtime runs
    emit: Callable[[EmitContext, Op], Emitted]
    kernels: tuple[str, ...]  # C kernel symbols the emitter calls (none for a no-copy op)
    cost: Callable[[Graph, Op], OpCost]
    tflm: str  # TFLM MicroMutableOpResolver method, e.g. "AddConv2D"
    tflm_version: int  # highest op version TFLM runs
    check: Callable[[Graph, Op], str | None] = no_check
    # The kernel is correct when its output buffer starts at its first input's
    # buffer. The planner then gives the pair one shared base; each member uses
    # only its own size during its own lifetime.
    inplace: Callable[[Graph, Op], bool] = never
    # Bytes of scratch the kernel needs while it runs in place.
    scratch: Callable[[Graph, Op], int] = no_scratch
    alias: bool = False  # the output IS the input's bytes (no copy: RESHAPE)
    code_bytes: int = 2048  # estimated kernel code, Cortex-M -Os (AOT)
    tflm_code_bytes: int = 4096  # estimated TFLM kernel code
    # Output dtypes TFLM's kernel runs; empty: every dtype the AOT check accepts.
    tflm_dtypes: tuple[str, ...] = ()
