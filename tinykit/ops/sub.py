"""SUB and SQUARED_DIFFERENCE with broadcasting (C: kernels/tk_sub.c, over the one
broadcast helper in kernels/tk_broadcast.c). TFLM's int8 arithmetic, as ADD: both
inputs rescaled to twice the larger input scale after a left shift, then
subtracted (and squared) and requantized. TFLM computes SUB's multipliers in
float32 and SQUARED_DIFFERENCE's in double; both are reproduced here."""

from __future__ import annotations

import numpy as np

from tinykit.graph import Graph, Op
from tinykit.ops._common import (
    binary_cost,
    broadcast_shapes,
    check_broadcast,
    first,
    first_input_is_output_shape,
    fused,
    int8_io,
    qparams,
    with_fused,
)
from tinykit.ops.add import Multiplier, emit_rescaled
from tinykit.ops.quant import activation_range, quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

_f32 = np.float32
SUB_LEFT_SHIFT = 20
SQDIFF_LEFT_SHIFT = 7


def sub_multipliers(s1: float, s2: float, s_out: float) -> tuple[Multiplier, Multiplier, Multiplier]:
    """(input1, input2, output) multipliers of TFLM's int8 SUB (float32 Prepare).

    >>> sub_multipliers(0.5, 0.25, 0.5)
    ((1073741824, 0), (1073741824, -1), (1073741824, -18))
    """
    twice_max = _f32(2) * max(_f32(s1), _f32(s2))
    out = twice_max / (_f32(1 << SUB_LEFT_SHIFT) * _f32(s_out))
    return (quantize_multiplier(float(_f32(s1) / twice_max)),
            quantize_multiplier(float(_f32(s2) / twice_max)), quantize_multiplier(float(out)))


def squared_difference_multipliers(s1: float, s2: float, s_out: float
                                   ) -> tuple[Multiplier, Multiplier, Multiplier]:
    """(input1, input2, output) multipliers of TFLM's int8 SQUARED_DIFFERENCE (double Prepare).

    >>> squared_difference_multipliers(0.5, 0.5, 0.25)
    ((1073741824, 0), (1073741824, 0), (1073741824, -11))
    """
    twice_max = 2.0 * float(max(_f32(s1), _f32(s2)))
    denom = float(_f32(1 << (2 * SQDIFF_LEFT_SHIFT)) * _f32(s_out))
    return (quantize_multiplier(float(_f32(s1)) / twice_max),
            quantize_multiplier(float(_f32(s2)) / twice_max),
            quantize_multiplier(twice_max * twice_max / denom))


def _int8_pair(graph: Graph, op: Op) -> str | None:
    return int8_io(graph, op, 2)


def _check_4d_broadcast(graph: Graph, op: Op) -> str | None:
    """TFLM broadcasts SQUARED_DIFFERENCE over at most 4 dimensions."""
    shapes = broadcast_shapes(graph, op)
    if shapes is not None and shapes[0] != shapes[1] and len(graph.op_outputs(op)[0].shape) > 4:
        return "SQUARED_DIFFERENCE broadcasts over at most 4 dimensions (as TFLM)"
    return None


check_sub = with_fused(first(_int8_pair, check_broadcast))
check_sqdiff = first(_int8_pair, check_broadcast, _check_4d_broadcast)


def inplace(graph: Graph, op: Op) -> bool:
    return first_input_is_output_shape(graph, op)


def _emitter(kernel: str, squared: bool):  # noqa: ANN202
    def emit(ctx: EmitContext, op: Op) -> Emitted:
        graph = ctx.graph
        a, b = graph.op_inputs(op)[:2]
        assert a is not None and b is not None
        (s1, _), (s2, _), (so, zo) = qparams(a), qparams(b), qparams(graph.op_outputs(op)[0])
        if squared:
            return emit_rescaled(ctx, op, kernel, SQDIFF_LEFT_SHIFT,
                                 squared_difference_multipliers(s1, s2, so), (-128, 127))
        return emit_rescaled(ctx, op, kernel, SUB_LEFT_SHIFT, sub_multipliers(s1, s2, so),
                             activation_range(fused(op), so, zo))

    return emit


SPECS = (
    OpSpec("SUB", 5, _emitter("tk_sub_s8", False), ("tk_sub_s8",), binary_cost, tflm="AddSub",
           tflm_version=5, check=check_sub, inplace=inplace, code_bytes=1024),
    OpSpec("SQUARED_DIFFERENCE", 2, _emitter("tk_squared_difference_s8", True),
           ("tk_squared_difference_s8",), binary_cost, tflm="AddSquaredDifference",
           tflm_version=2, check=check_sqdiff, inplace=inplace, code_bytes=1024),
)
