"""The contract between the code generator and each op's emitter.

The op table maps an op kind to an :class:`OpRule`; adding an op is adding an
entry. An emitter sees the graph only through an :class:`EmitContext` and
returns C text pieces; it computes at generation time everything TFLM
computes in Prepare (multipliers, shifts, folded zero-point terms, LUTs).
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
        least ``OpRule.scratch(graph, op)`` bytes while the op runs."""
        ...


def _never(graph: Graph, op: Op) -> bool:
    return False


def _none(graph: Graph, op: Op) -> int:
    return 0


@dataclass(frozen=True)
class OpRule:
    emit: Callable[[EmitContext, Op], Emitted]
    # The kernel is correct when its output buffer starts at its first input's
    # buffer. The planner then gives the pair one shared base; each member uses
    # only its own size during its own lifetime.
    inplace: Callable[[Graph, Op], bool] = _never
    # Bytes of scratch the kernel needs while it runs.
    scratch: Callable[[Graph, Op], int] = _none
    # Extra support check beyond op kind/version: a reason string when unsupported.
    check: Callable[[Graph, Op], str | None] = lambda g, op: None


def always(graph: Graph, op: Op) -> bool:
    return True
