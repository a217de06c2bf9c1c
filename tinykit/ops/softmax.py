"""SOFTMAX int8 -> int8 (C: kernels/tk_softmax.c). The generation-time twin of
TFLM's int8 SOFTMAX preparation: the input multiplier, diff_min, and exp() of
every possible input difference (gemmlowp fixed point, Q5.26 in, Q0.31 out), so
the C kernel needs only a LUT. The exp() itself is
:func:`tinykit.ops.fixedpoint_lut.exp_on_negative_values`, shared with the
LOGISTIC and TANH tables."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import Check, dies_here, first, int8_io, per_output_element, qparams
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


# --- ops over the rows of the last dimension (SOFTMAX, LOG_SOFTMAX) ---------------


def output_quant(quant: tuple[float, int], scale: str) -> Check:
    """A check: the output quantized as TFLM requires, ``quant`` (scale, zero point;
    ``scale`` is how the reason spells the scale)."""

    def check(graph: Graph, op: Op) -> str | None:
        if qparams(graph.op_outputs(op)[0]) != quant:
            return f"needs the int8 output quantization scale {scale}, zero point {quant[1]}"
        return None

    return check


def inplace_when(check: Check) -> Callable[[Graph, Op], bool]:
    """In place when ``check`` passes and the input dies at the op (a row is read
    whole before its outputs are written)."""

    def inplace(graph: Graph, op: Op) -> bool:
        return check(graph, op) is None and dies_here(graph, op)

    return inplace


def emit_rows(ctx: EmitContext, op: Op, c_type: str, fn: str, fields: dict[str, object],
              decls: tuple[str, ...]) -> Emitted:
    """``decls``, then the params ``c_type`` (``outer`` rows of ``depth``, the input's
    last dimension, then ``fields``), and the call ``fn(&params, input, output)``."""
    graph = ctx.graph
    x = graph.op_inputs(op)[0]
    assert x is not None
    depth = x.shape[-1]
    name = ctx.sym(op, "params")
    params = c_struct_init(name, c_type, {"outer": x.size // depth, "depth": depth, **fields},
                           f"{op.kind} {graph.layer_name(op)}")
    call = f"TK_TRY({fn}(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, (*decls, params))


# --- the op ---------------------------------------------------------------------


check = first(int8_io, output_quant((1.0 / 256, -128), "1/256"))
inplace = inplace_when(check)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    inp = ctx.graph.op_inputs(op)[0]
    assert inp is not None
    lut = ctx.sym(op, "exp_lut")
    beta = float(np.float32(op.options.get("beta", 1.0)))
    return emit_rows(ctx, op, "TkSoftmaxParams", "tk_softmax_s8", {"exp_lut": lut},
                     (c_array(lut, exp_lut(beta, qparams(inp)[0]), "int32_t"),))


SPECS = (
    OpSpec("SOFTMAX", 3, emit, ("tk_softmax_s8",), per_output_element, tflm="AddSoftmax",
           tflm_version=3, check=check, inplace=inplace, code_bytes=3 * 1024),
)
