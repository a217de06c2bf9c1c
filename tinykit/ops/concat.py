"""CONCATENATION (C: kernels/tk_concat.c): each input is viewed as
``[outer][inner_i]``; an input whose quantization differs from the output's is
rescaled through a requantize table."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import all_int8, data_movement, first, fused, qparams
from tinykit.ops.lut import requantize_lut
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _axis(op: Op, rank: int) -> int:
    axis = int(op.options.get("axis", 0))
    return axis + rank if axis < 0 else axis


def _check(graph: Graph, op: Op) -> str | None:
    y = graph.op_outputs(op)[0]
    axis = _axis(op, len(y.shape))
    if not 0 <= axis < len(y.shape):
        return f"CONCATENATION axis {op.options.get('axis')} is out of range"
    if fused(op) != "NONE":
        return "CONCATENATION with a fused activation is not supported"
    for t in graph.op_inputs(op):
        assert t is not None
        if len(t.shape) != len(y.shape) or any(
                t.shape[d] != y.shape[d] for d in range(len(y.shape)) if d != axis):
            return f"CONCATENATION input shape {t.shape} does not match output {y.shape}"
    return None


def emit(ctx: EmitContext, op: Op) -> Emitted:
    y = ctx.graph.op_outputs(op)[0]
    ins = [t for t in ctx.graph.op_inputs(op) if t is not None]
    axis = _axis(op, len(y.shape))
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    decls: list[str] = []
    luts: list[str] = []
    for i, t in enumerate(ins):
        if qparams(t) == qparams(y):
            luts.append("NULL")
            continue
        name = ctx.sym(op, f"lut{i}")
        decls.append(c_array(name, np.asarray(requantize_lut(*qparams(t), *qparams(y)),
                                              dtype=np.int8), "int8_t"))
        luts.append(name)
    inner = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in ins]
    n = len(ins)
    inner_name, luts_name, params = (ctx.sym(op, f) for f in ("inner", "luts", "params"))
    decls.append(c_array(inner_name, inner, "int32_t"))
    decls.append(f"static const int8_t *const {luts_name}[{n}] = {{{', '.join(luts)}}};")
    decls.append(c_struct_init(params, "TkConcatParams", {
        "n_inputs": n, "outer": outer, "inner": inner_name, "luts": luts_name,
    }, f"{op.kind} {ctx.graph.layer_name(op)}"))
    call = (
        "{\n"
        f"  const int8_t *const ins[{n}] = {{{', '.join(ctx.ptr(t.index) for t in ins)}}};\n"
        f"  TK_TRY(tk_concat_s8(&{params}, ins, {ctx.ptr(y.index)}));\n"
        "}"
    )
    return Emitted(call=call, decls=tuple(decls))


SPECS = (
    OpSpec("CONCATENATION", 4, emit, ("tk_concat_s8",), data_movement,
           tflm="AddConcatenation", tflm_version=4, check=first(all_int8, _check),
           tflm_code_bytes=3 * 1024),
)
