"""RESHAPE and SQUEEZE: no kernel and no copy; the planner places the output
at the input's bytes (``OpSpec.alias``)."""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.ops._common import data_movement
from tinykit.ops.spec import EmitContext, Emitted, OpSpec, always


def check(graph: Graph, op: Op) -> str | None:
    inp = graph.op_inputs(op)[0]
    if inp is None or inp.is_const:
        return "needs an activation input"
    return None


def emit(ctx: EmitContext, op: Op) -> Emitted:
    src, dst = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    if src != dst:
        raise ValueError(f"{op.kind} output is not aliased to its input")
    return Emitted("/* no copy: the output aliases the input */")


SPECS = (
    OpSpec("RESHAPE", 2, emit, (), data_movement, tflm="AddReshape", tflm_version=2,
           check=check, inplace=always, alias=True, code_bytes=0, tflm_code_bytes=1024),
    OpSpec("SQUEEZE", 2, emit, (), data_movement, tflm="AddSqueeze", tflm_version=2,
           check=check, inplace=always, alias=True, code_bytes=0, tflm_code_bytes=1024),
)
