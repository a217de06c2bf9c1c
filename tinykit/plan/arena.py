"""The AOT runtime's arena: the op specs' in-place and scratch rules, with the
growth policy applied, placed by the greedy planner. ``tinykit analyze`` reports
exactly the plan the code generator emits, also for a model with unsupported ops
(their outputs are planned as plain buffers)."""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.ops import SPECS, unsupported_reason
from tinykit.plan.growth import choose_growth
from tinykit.plan.planner import Buffer, GreedyPlanner, MemoryPlan, lifetimes

ALIGNMENT = 16  # arena alignment of the AOT runtime's buffers


def _grows(graph: Graph, op: Op) -> bool:
    if not op.inputs or not op.outputs or op.inputs[0] < 0:
        return False
    return graph.tensor(op.outputs[0]).nbytes > graph.tensor(op.inputs[0]).nbytes


def _kernel_inplace(graph: Graph, op: Op) -> bool:
    """The kernel can write its output over its input (no policy applied). An op the
    AOT runtime cannot run (no spec, or its check fails) never runs in place."""
    spec = SPECS.get(op.kind)
    return spec is not None and unsupported_reason("aot", op, graph) is None and spec.inplace(graph, op)


def _inplace_if(graph: Graph, op: Op, allowed: frozenset[int]) -> bool:
    """The kernels' in-place rules when exactly the growing ops in ``allowed`` grow in place."""
    if not _kernel_inplace(graph, op):
        return False
    return op.index in allowed or not _grows(graph, op)


def _scratch_if(graph: Graph, op: Op, allowed: frozenset[int]) -> int:
    return SPECS[op.kind].scratch(graph, op) if _inplace_if(graph, op, allowed) else 0


def chosen_growth(graph: Graph) -> frozenset[int]:
    """The growing ops that run in place (see :mod:`tinykit.plan.growth`)."""
    growing = [op.index for op in graph.ops if _grows(graph, op) and _kernel_inplace(graph, op)]
    return choose_growth(graph, growing, _inplace_if, _scratch_if, ALIGNMENT)


def inplace(graph: Graph, op: Op) -> bool:
    """In place when the kernel can, except an op growing its tensor where that makes
    the arena bigger. An op without a spec (unsupported) never runs in place."""
    if not _kernel_inplace(graph, op):
        return False
    return not _grows(graph, op) or op.index in chosen_growth(graph)


def scratch(graph: Graph, op: Op) -> int:
    """Scratch bytes of an op: only when it runs in place."""
    return SPECS[op.kind].scratch(graph, op) if inplace(graph, op) else 0


def plan_arena(graph: Graph) -> tuple[list[Buffer], MemoryPlan]:
    """The buffers and the greedy plan of the AOT arena."""
    buffers = lifetimes(graph, inplace=inplace, scratch=scratch)
    return buffers, GreedyPlanner().plan(buffers, ALIGNMENT)
