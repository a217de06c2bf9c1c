"""PRELU with a broadcast (per-channel, per-position or scalar) alpha (C:
kernels/tk_prelu.c, over the one broadcast helper in kernels/tk_broadcast.c), as
TFLM's BroadcastPrelu4DSlow: two multipliers, s_in / s_out for x >= 0 and
s_in * s_alpha / s_out for x * alpha below zero (double Prepare)."""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.ops._common import (
    all_int8,
    binary_cost,
    broadcast_fields,
    check_broadcast,
    first,
    first_input_is_output_shape,
    params_call,
    qparams,
)
from tinykit.ops.quant import quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def prelu_multipliers(s_in: float, s_alpha: float, s_out: float) -> tuple[tuple[int, int], ...]:
    """(x >= 0, x < 0) multipliers of TFLM's int8 PRELU.

    >>> prelu_multipliers(0.5, 0.5, 0.5)
    ((1073741824, 1), (1073741824, 0))
    """
    return quantize_multiplier(s_in / s_out), quantize_multiplier(s_in * s_alpha / s_out)


def _output_is_input_shape(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    y = graph.op_outputs(op)[0]
    if x is None or x.shape != y.shape or len(y.shape) > 4:
        return "PRELU needs an input of at most 4 dimensions with the output's shape (as TFLM)"
    return None


check = first(all_int8, check_broadcast, _output_is_input_shape)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    x, alpha = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert x is not None and alpha is not None
    (s_in, z_in), (s_a, z_a), (s_out, z_out) = qparams(x), qparams(alpha), qparams(y)
    (m1, sh1), (m2, sh2) = prelu_multipliers(s_in, s_a, s_out)
    fields = broadcast_fields(graph, op)
    fields.update({"input_offset": -z_in, "alpha_offset": -z_a, "output_offset": z_out,
                   "mult_pos": m1, "shift_pos": sh1, "mult_neg": m2, "shift_neg": sh2})
    return params_call(ctx, op, "TkPreluParams", fields, "tk_prelu_s8", ctx.ptr(x.index),
                       ctx.ptr(alpha.index), ctx.ptr(y.index))


SPECS = (
    OpSpec("PRELU", 1, emit, ("tk_prelu_s8",), binary_cost, tflm="AddPrelu", tflm_version=1,
           check=check, inplace=first_input_is_output_shape, code_bytes=768),
)
