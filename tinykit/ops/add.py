"""ADD with broadcasting (C: kernels/tk_add.c, over the one broadcast helper in
kernels/tk_broadcast.c), TFLM's int8 arithmetic: both inputs rescaled to twice
the larger input scale with a left shift of 20. An int32 ADD (index arithmetic)
runs in :mod:`tinykit.ops.index_math`."""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.ops._common import (
    binary_cost,
    broadcast_fields,
    check_broadcast,
    dies_here,
    first,
    first_input_is_output_shape,
    fused,
    int8_io,
    params_call,
    qparams,
    with_fused,
)
from tinykit.ops.index_math import check_add_s32, emit_add_s32
from tinykit.ops.quant import activation_range, quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

LEFT_SHIFT = 20


def _int8_pair(graph: Graph, op: Op) -> str | None:
    return int8_io(graph, op, 2)


_check_s8 = with_fused(first(_int8_pair, check_broadcast))


def _is_s32(graph: Graph, op: Op) -> bool:
    """An int32 ADD (index arithmetic, no quantization: tinykit.ops.index_math)."""
    return graph.op_outputs(op)[0].dtype == "int32"


def check(graph: Graph, op: Op) -> str | None:
    return check_add_s32(graph, op) if _is_s32(graph, op) else _check_s8(graph, op)


def inplace(graph: Graph, op: Op) -> bool:
    return (not _is_s32(graph, op) and check(graph, op) is None and dies_here(graph, op)
            and first_input_is_output_shape(graph, op))


Multiplier = tuple[int, int]


def emit_rescaled(ctx: EmitContext, op: Op, kernel: str, left_shift: int,
                  mults: tuple[Multiplier, Multiplier, Multiplier], act: tuple[int, int]) -> Emitted:
    """The TkAddParams call of a binary op that rescales both inputs to a common scale
    (ADD, SUB, SQUARED_DIFFERENCE): input and output multipliers, left shift, clamp."""
    graph = ctx.graph
    a, b = graph.op_inputs(op)[:2]
    assert a is not None and b is not None
    (_, z1), (_, z2), (_, z_out) = qparams(a), qparams(b), qparams(graph.op_outputs(op)[0])
    (m1, sh1), (m2, sh2), (mo, sho) = mults
    fields = broadcast_fields(graph, op)
    fields.update({
        "input1_offset": -z1, "input2_offset": -z2, "left_shift": left_shift,
        "input1_mult": m1, "input1_shift": sh1, "input2_mult": m2, "input2_shift": sh2,
        "output_mult": mo, "output_shift": sho, "output_offset": z_out,
        "act_min": act[0], "act_max": act[1],
    })
    return params_call(ctx, op, "TkAddParams", fields, kernel, ctx.ptr(op.inputs[0]),
                       ctx.ptr(op.inputs[1]), ctx.ptr(op.outputs[0]))


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    if _is_s32(graph, op):
        return emit_add_s32(ctx, op)
    a, b = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert a is not None and b is not None
    s1, s2 = qparams(a)[0], qparams(b)[0]
    s_out, z_out = qparams(out)
    twice_max = 2.0 * max(s1, s2)
    mults = (quantize_multiplier(s1 / twice_max), quantize_multiplier(s2 / twice_max),
             quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * s_out)))
    return emit_rescaled(ctx, op, "tk_add_s8", LEFT_SHIFT, mults,
                         activation_range(fused(op), s_out, z_out))


SPECS = (
    OpSpec("ADD", 5, emit, ("tk_add_s8", "tk_add_s32"), binary_cost, tflm="AddAdd", tflm_version=5,
           check=check, inplace=inplace, tflm_code_bytes=5 * 1024),
)
