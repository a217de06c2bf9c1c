"""SOFTMAX int8 -> int8 (C: kernels/tk_softmax.c). The generation-time twin of
TFLM's int8 SOFTMAX preparation: the input multiplier, diff_min, and exp() of
every possible input difference (gemmlowp fixed point, Q5.26 in, Q0.31 out), so
the C kernel needs only a LUT. The exp() itself is
:func:`tinykit.ops.fixedpoint_lut.exp_on_negative_values`, shared with the
LOGISTIC and TANH tables."""

from __future__ import annotations

import math

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import dies_here, int8_io, per_output_element, qparams
from tinykit.ops.fixedpoint_lut import exp_on_negative_values
from tinykit.ops.quant import _wrap32, quantize_multiplier, sat_rounding_doubling_high_mul
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

SCALED_DIFF_INTEGER_BITS = 5


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(input_multiplier, input_left_shift, diff_min) as TFLM's CalculateSoftmaxParams."""
    real = min(beta * input_scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    mult, shift = quantize_multiplier(real)
    max_rescaled = (1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
                    * (1 << (31 - SCALED_DIFF_INTEGER_BITS)) / (1 << shift))
    return mult, shift, -math.floor(max_rescaled)


def exp_lut(beta: float, input_scale: float) -> list[int]:
    """exp() of input differences 0, -1, ..., -255 (Q0.31), 0 below diff_min.

    >>> lut = exp_lut(1.0, 0.1)
    >>> lut[0], lut[1] > lut[2] > 0
    (2147483647, True)
    >>> abs(exp_lut(1.0, 1 / 32)[32] / 2**31 - math.exp(-1)) < 1e-6
    True
    """
    mult, shift, diff_min = softmax_params(beta, input_scale)
    lut = []
    for d in range(256):
        diff = -d
        if diff < diff_min:
            lut.append(0)
            continue
        rescaled = sat_rounding_doubling_high_mul(_wrap32(diff * (1 << shift)), mult)
        lut.append(exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS))
    return lut


# --- the op ---------------------------------------------------------------------


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    out = graph.op_outputs(op)[0]
    if qparams(out) != (1.0 / 256, -128):
        return "needs the int8 output quantization scale 1/256, zero point -128"
    return None


def inplace(graph: Graph, op: Op) -> bool:
    return check(graph, op) is None and dies_here(graph, op)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp = graph.op_inputs(op)[0]
    assert inp is not None
    depth = inp.shape[-1]
    lut, name = ctx.sym(op, "exp_lut"), ctx.sym(op, "params")
    decls = (
        c_array(lut, exp_lut(float(np.float32(op.options.get("beta", 1.0))), qparams(inp)[0]),
                "int32_t"),
        c_struct_init(name, "TkSoftmaxParams", {
            "outer": inp.size // depth, "depth": depth, "exp_lut": lut,
        }, f"{op.kind} {graph.layer_name(op)}"),
    )
    call = f"TK_TRY(tk_softmax_s8(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, decls)


SPECS = (
    OpSpec("SOFTMAX", 3, emit, ("tk_softmax_s8",), per_output_element, tflm="AddSoftmax",
           tflm_version=3, check=check, inplace=inplace, code_bytes=3 * 1024),
)
