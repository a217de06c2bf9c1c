"""PAD and PADV2 with a constant value (C: kernels/tk_pad.c); input and output
share their quantization (TFLM does not rescale)."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import MAX_DIMS, data_movement, padded, per_tensor_int8, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _paddings(graph: Graph, op: Op) -> np.ndarray | None:
    p = graph.op_inputs(op)[1]
    if p is None or not p.is_const or p.dtype not in ("int32", "int64"):
        return None
    return p.array().reshape(-1, 2).astype(np.int64)


def check(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    y = graph.op_outputs(op)[0]
    for t in (x, y):
        if (why := per_tensor_int8(t)) is not None:
            return why
    assert x is not None
    pads = _paddings(graph, op)
    if pads is None:
        return f"{op.kind} needs constant int32 paddings"
    if len(x.shape) > MAX_DIMS or pads.shape[0] != len(x.shape) or (pads < 0).any():
        return f"{op.kind} paddings {pads.tolist()} do not fit input shape {x.shape}"
    if qparams(x) != qparams(y):
        return f"{op.kind} input and output quantization differ (TFLM does not rescale)"
    if op.kind == "PADV2":
        v = graph.op_inputs(op)[2] if len(op.inputs) > 2 else None
        if v is None or not v.is_const or v.dtype != "int8" or v.size != 1:
            return "PADV2 needs a constant int8 scalar padding value"
    return None


def emit(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    y = ctx.graph.op_outputs(op)[0]
    assert x is not None
    pads = _paddings(ctx.graph, op)
    assert pads is not None
    lead = MAX_DIMS - len(x.shape)
    before = [0] * lead + [int(v) for v in pads[:, 0]]
    after = [0] * lead + [int(v) for v in pads[:, 1]]
    if op.kind == "PADV2":
        v = ctx.graph.op_inputs(op)[2]
        assert v is not None
        value = int(v.array().reshape(-1)[0])
    else:
        value = qparams(y)[1]
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkPadParams", {
        "in_dims": padded(x.shape), "before": before, "after": after, "value": value,
    }, f"{op.kind} {ctx.graph.layer_name(op)}")
    return Emitted(call=f"TK_TRY(tk_pad_s8(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)}));",
                   decls=(decl,))


SPECS = (
    OpSpec("PAD", 4, emit, ("tk_pad_s8",), data_movement, tflm="AddPad", tflm_version=4,
           check=check, tflm_code_bytes=3 * 1024),
    OpSpec("PADV2", 4, emit, ("tk_pad_s8",), data_movement, tflm="AddPadV2", tflm_version=4,
           check=check, tflm_code_bytes=3 * 1024),
)
