"""RSQRT int8 as a 256-entry table (C: kernels/tk_lut.c through
:func:`tinykit.ops.lut.lut_emitter`), computed with TFLM's RsqrtEvalQuantized:
the input's integer distance from its zero point goes through
GetInvSqrtQuantizedMultiplierExp (gemmlowp fixed-point Newton-Raphson), is scaled
by 2^20, then requantized by 1 / (sqrt(s_in) * s_out). TFLM fails at run time on an
input below the zero point ("Rsqrt is only defined for positive values"), so the AOT
runtime takes RSQRT only where no int8 value lies below it (input zero point -128,
what TF gives a non-negative calibrated range, e.g. LayerNormalization's variance)."""

from __future__ import annotations

import math

import numpy as np

from tinykit.graph import Graph, Op
from tinykit.ops._common import all_int8, first, per_output_element, qparams
from tinykit.ops.fixedpoint_lut import sat_shift_left
from tinykit.ops.lut import lut_emitter
from tinykit.ops.quant import (
    _wrap32,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    sat_rounding_doubling_high_mul,
)
from tinykit.ops.spec import OpSpec, always

_f32 = np.float32
INT32_MAX = (1 << 31) - 1
RSQRT_SHIFT = 20  # TFLM's kShift: keeps the inverse square root an integer


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    """TFLite GetInvSqrtQuantizedMultiplierExp(value, reverse_shift=-1): 1/sqrt(value)
    as (Q31 multiplier, left shift).

    >>> inv_sqrt_multiplier_exp(1)
    (2147483647, 0)
    >>> m, s = inv_sqrt_multiplier_exp(100)
    >>> round(m * 2.0 ** (s - 31), 6)  # 1 / sqrt(100)
    0.1
    """
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    max_left_shift_bits = (32 - value.bit_length()) - 1  # clz - 1
    left_pairs = max_left_shift_bits // 2 - 1
    shift -= left_pairs
    value <<= 2 * left_pairs
    half_input = rounding_divide_by_pot(value >> 1, 1)  # F3, halved
    half_three = (1 << 28) + (1 << 27)  # 1.5 in F3
    x = 1 << 28  # F3 one
    mul = sat_rounding_doubling_high_mul
    for _ in range(5):
        x3 = sat_shift_left(mul(mul(x, x), x), 6)  # Rescale<3> of an F9
        x = sat_shift_left(_wrap32(mul(half_three, x) - mul(half_input, x3)), 3)
    x = mul(x, 1518500250)  # * sqrt(2) / 2 (F0)
    if shift < 0:
        x = _wrap32(x << -shift)
        shift = 0
    return x, -shift


def rsqrt_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """TFLM's int8 RSQRT for every int8 input (127 for the input at the zero point,
    and below it, where TFLM stops with an error).

    >>> lut = rsqrt_lut(1 / 64, -128, 1 / 16, -128)
    >>> lut[0], lut[64], lut[255]  # x = 0, 1, 255/64 -> 1/sqrt(x) = inf, 1, 0.5
    (127, -112, -120)
    """
    mult, shift = quantize_multiplier(1.0 / (math.sqrt(float(_f32(in_scale))) *
                                             float(_f32(out_scale))))

    def one(q: int) -> int:
        value = q - in_zp
        if value <= 0:
            return 127
        inv_m, inv_s = inv_sqrt_multiplier_exp(value)
        data = multiply_by_quantized_multiplier(1, inv_m, inv_s + RSQRT_SHIFT)
        out = multiply_by_quantized_multiplier(data, mult, shift - RSQRT_SHIFT) + out_zp
        return max(-128, min(127, out))

    return [one(q) for q in range(-128, 128)]


def _check_zero_point(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    assert x is not None
    if qparams(x)[1] != -128:
        return ("RSQRT needs the input zero point -128 (TFLM fails on inputs below the zero "
                "point)")
    return None


SPECS = (
    OpSpec("RSQRT", 2, lut_emitter(lambda x, y, op: rsqrt_lut(*qparams(x), *qparams(y))),
           ("tk_lut_s8",), per_output_element, tflm="AddRsqrt", tflm_version=2,
           check=first(all_int8, _check_zero_point), inplace=always),
)
