"""GATHER of int8 slices (C: kernels/tk_gather.c), as TFLM's reference Gather with
batch_dims 0: a pure copy, so input and output must share one quantization.
Constant indices are checked in range at generation time; int32 indices computed
at run time (an Embedding's token ids) by the kernel, which fails the op on one
out of range as TFLM does."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import data_int8, data_movement, first, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _axis(op: Op, rank: int) -> int:
    axis = int(op.options.get("axis", 0))
    return axis + rank if axis < 0 else axis


def _check(graph: Graph, op: Op) -> str | None:
    x, idx = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert x is not None
    if idx is None or idx.dtype not in ("int32", "int64") or (
            not idx.is_const and idx.dtype != "int32"):
        return "GATHER needs constant integer or computed int32 indices"
    if int(op.options.get("batch_dims", 0)) != 0:
        return "GATHER with batch_dims is not supported"
    axis = _axis(op, len(x.shape))
    if not 0 <= axis < len(x.shape):
        return f"GATHER axis {op.options.get('axis')} is out of range"
    values = idx.array().reshape(-1) if idx.is_const else np.zeros(0, np.int32)
    if values.size and (values.min() < 0 or values.max() >= x.shape[axis]):
        return f"GATHER indices must lie in [0, {x.shape[axis]})"
    if qparams(x) != qparams(y):
        return "GATHER needs the input and output quantized alike"
    want = (*x.shape[:axis], *idx.shape, *x.shape[axis + 1:])
    if tuple(y.shape) != want:
        return f"GATHER output shape {y.shape} is not {want}"
    return None


check = first(data_int8, _check)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    x, idx = graph.op_inputs(op)[:2]
    assert x is not None and idx is not None
    axis = _axis(op, len(x.shape))
    if not idx.is_const:
        return _emit_computed(ctx, op, axis)
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


def _emit_computed(ctx: EmitContext, op: Op, axis: int) -> Emitted:
    """Indices computed at run time (an Embedding's token ids): checked in range by the
    kernel, which fails the op as TFLM's Gather does."""
    graph = ctx.graph
    x, idx = graph.op_inputs(op)[:2]
    assert x is not None and idx is not None
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkGatherParams", {
        "outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "axis_size": x.shape[axis],
        "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64)),
        "n_idx": int(np.prod(idx.shape, dtype=np.int64)), "idx": "0",
    }, f"{op.kind} {graph.layer_name(op)}")
    return Emitted(f"TK_TRY(tk_gather_idx_s8(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(idx.index)}, "
                   f"{ctx.ptr(op.outputs[0])}));", (decl,))


SPECS = (
    OpSpec("GATHER", 6, emit, ("tk_gather_s8", "tk_gather_idx_s8"), data_movement, tflm="AddGather", tflm_version=6,
           check=check, code_bytes=256, tflm_code_bytes=2048),
)
