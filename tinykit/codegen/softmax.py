"""Generation-time twin of TFLM's int8 SOFTMAX preparation: the input
multiplier, diff_min, and exp() of every possible input difference (gemmlowp
fixed point, Q5.26 in, Q0.31 out), so the C kernel needs only a LUT. The
exp() itself is :func:`tinykit.codegen.fixedpoint_lut.exp_on_negative_values`,
shared with the LOGISTIC and TANH tables."""

from __future__ import annotations

import math

from tinykit.codegen.fixedpoint_lut import exp_on_negative_values
from tinykit.codegen.quant import _wrap32, quantize_multiplier, sat_rounding_doubling_high_mul

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
