"""GATHER of int8 slices by constant indices (C: kernels/tk_gather.c), as TFLM's
reference Gather with batch_dims 0: a pure copy, so input and output must share
one quantization; indices are checked in range at generation time."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import data_movement, first, per_tensor_int8, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _axis(op: Op, rank: int) -> int:
    axis = int(op.options.get("axis", 0))
    return axis + rank if axis < 0 else axis


def _int8_data(graph: Graph, op: Op) -> str | None:
    return per_tensor_int8(graph.op_inputs(op)[0]) or per_tensor_int8(graph.op_outputs(op)[0])


def _check(graph: Graph, op: Op) -> str | None:
    x, idx = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert x is not None
    if idx is None or not idx.is_const or idx.dtype not in ("int32", "int64"):
        return "GATHER needs constant integer indices"
    if int(op.options.get("batch_dims", 0)) != 0:
        return "GATHER with batch_dims is not supported"
    axis = _axis(op, len(x.shape))
    if not 0 <= axis < len(x.shape):
        return f"GATHER axis {op.options.get('axis')} is out of range"
    values = idx.array().reshape(-1)
    if values.size and (values.min() < 0 or values.max() >= x.shape[axis]):
        return f"GATHER indices must lie in [0, {x.shape[axis]})"
    if qparams(x) != qparams(y):
        return "GATHER needs the input and output quantized alike"
    want = (*x.shape[:axis], *idx.shape, *x.shape[axis + 1:])
    if tuple(y.shape) != want:
        return f"GATHER output shape {y.shape} is not {want}"
    return None


check = first(_int8_data, _check)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    x, idx = graph.op_inputs(op)[:2]
    assert x is not None and idx is not None
    axis = _axis(op, len(x.shape))
    values = idx.array().reshape(-1).astype(np.int32)
    table, name = ctx.sym(op, "idx"), ctx.sym(op, "params")
    decls = (
        c_array(table, values, "int32_t"),
        c_struct_init(name, "TkGatherParams", {
            "outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "axis_size": x.shape[axis],
            "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64)), "n_idx": int(values.size),
            "idx": table,
        }, f"{op.kind} {graph.layer_name(op)}"),
    )
    return Emitted(f"TK_TRY(tk_gather_s8(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(op.outputs[0])}));",
                   decls)


SPECS = (
    OpSpec("GATHER", 6, emit, ("tk_gather_s8",), data_movement, tflm="AddGather", tflm_version=6,
           check=check, code_bytes=256, tflm_code_bytes=2048),
)
