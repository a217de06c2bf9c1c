"""ARG_MAX and ARG_MIN of an int8 tensor along one constant axis (C:
kernels/tk_argmax.c), as TFLM's reference ArgMinMax: raw int8 values compared
(the order of the real values, the scale being positive), ties keep the first
index, int32 indices out."""

from __future__ import annotations

import numpy as np

from tinykit.graph import Graph, Op
from tinykit.ops._common import elements, params_call, per_tensor_int8
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec


def _axis(graph: Graph, op: Op) -> int | None:
    x, axis = graph.op_inputs(op)[:2]
    if x is None or axis is None or not axis.is_const or axis.size != 1:
        return None
    return int(axis.array().reshape(-1)[0]) % max(len(x.shape), 1)


def check(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    if (why := per_tensor_int8(x)) is not None:
        return why
    y = graph.op_outputs(op)[0]
    if y.dtype != "int32":
        return f"{op.kind} output is {y.dtype}; only int32 indices are supported (output_type=tf.int32)"
    if _axis(graph, op) is None:
        return f"{op.kind} needs one constant axis"
    return None


def arg_shape(shape: tuple[int, ...], axis: int) -> dict[str, int]:
    """[outer][axis_size][inner] of a shape around ``axis``.

    >>> arg_shape((1, 5, 7, 3), 2)
    {'outer': 5, 'axis_size': 7, 'inner': 3}
    """
    return {"outer": int(np.prod(shape[:axis], dtype=np.int64)), "axis_size": shape[axis],
            "inner": int(np.prod(shape[axis + 1:], dtype=np.int64))}


def _emitter(kernel: str):  # noqa: ANN202
    def emit(ctx: EmitContext, op: Op) -> Emitted:
        graph = ctx.graph
        x = graph.op_inputs(op)[0]
        axis = _axis(graph, op)
        assert x is not None and axis is not None
        return params_call(ctx, op, "TkArgParams", arg_shape(x.shape, axis), kernel,
                           ctx.ptr(x.index), ctx.ptr(op.outputs[0]))

    return emit


def cost(graph: Graph, op: Op) -> OpCost:
    return OpCost(elements(graph.tensor(op.inputs[0]).shape), 0)


SPECS = (
    OpSpec("ARG_MAX", 3, _emitter("tk_arg_max_s8"), ("tk_arg_max_s8",), cost, tflm="AddArgMax",
           tflm_version=3, check=check, code_bytes=256),
    OpSpec("ARG_MIN", 3, _emitter("tk_arg_min_s8"), ("tk_arg_min_s8",), cost, tflm="AddArgMin",
           tflm_version=3, check=check, code_bytes=256),
)
