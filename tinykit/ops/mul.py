"""MUL with broadcasting (C: kernels/tk_mul.c, over the one broadcast helper in
kernels/tk_broadcast.c): one multiplier ``s1 * s2 / s_out``."""

from __future__ import annotations

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import (
    all_int8,
    binary_cost,
    broadcast_fields,
    check_broadcast,
    first,
    first_input_is_output_shape,
    fused,
    qparams,
)
from tinykit.ops.quant import activation_range, quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

check = first(all_int8, check_broadcast)


def inplace(graph: Graph, op: Op) -> bool:
    return first_input_is_output_shape(graph, op)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    a, b = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert a is not None and b is not None
    (sa, za), (sb, zb), (sy, zy) = qparams(a), qparams(b), qparams(y)
    mult, shift = quantize_multiplier(float(sa) * float(sb) / float(sy))
    lo, hi = activation_range(fused(op), sy, zy)
    name = ctx.sym(op, "params")
    fields = broadcast_fields(graph, op)
    fields.update({
        "input1_offset": -za, "input2_offset": -zb, "output_offset": zy,
        "output_mult": mult, "output_shift": shift, "act_min": lo, "act_max": hi,
    })
    decl = c_struct_init(name, "TkMulParams", fields, f"{op.kind} {graph.layer_name(op)}")
    call = f"TK_TRY(tk_mul_s8(&{name}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)}));"
    return Emitted(call, (decl,))


SPECS = (
    OpSpec("MUL", 7, emit, ("tk_mul_s8",), binary_cost, tflm="AddMul", tflm_version=7,
           check=check, inplace=inplace),
)
