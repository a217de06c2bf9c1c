"""Generation-time twin of TFLM's int8 SOFTMAX preparation: the input
multiplier, diff_min, and exp() of every possible input difference (gemmlowp
fixed point, Q5.26 in, Q0.31 out), so the C kernel needs only a LUT."""

from __future__ import annotations

import math

from tinykit.codegen.quant import (
    quantize_multiplier,
    rounding_divide_by_pot,
    sat_rounding_doubling_high_mul,
)

_I32_MAX = (1 << 31) - 1
_I32_MIN = -(1 << 31)
SCALED_DIFF_INTEGER_BITS = 5


def _wrap(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= (1 << 31) else x


def _sat_shift(x: int, e: int) -> int:
    """gemmlowp SaturatingRoundingMultiplyByPOT<e> for int32.

    >>> _sat_shift(3, 2), _sat_shift(1 << 30, 2), _sat_shift(-7, -1)
    (12, 2147483647, -4)
    """
    if e < 0:
        return rounding_divide_by_pot(x, -e)
    threshold = (1 << (31 - e)) - 1
    if x > threshold:
        return _I32_MAX
    if x < -threshold:
        return _I32_MIN
    return _wrap(x << e)


def _mul(a: int, b: int) -> int:
    return sat_rounding_doubling_high_mul(a, b)


def _exp_quarter(a: int) -> int:
    """exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    constant_term = 1895147668
    one_third = 715827883
    x = _wrap(a + (1 << 28))
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = _sat_shift(x4, -2)
    poly = _sat_shift(_wrap(_mul(_wrap(x4_over_4 + x3), one_third) + x2), -1)
    return _wrap(constant_term + _mul(constant_term, _wrap(x + poly)))


def exp_on_negative_values(a: int, integer_bits: int = SCALED_DIFF_INTEGER_BITS) -> int:
    """gemmlowp exp_on_negative_values: Q(integer_bits) raw in, Q0.31 raw out.

    >>> exp_on_negative_values(0)
    2147483647
    >>> abs(exp_on_negative_values(-(1 << 26)) / 2**31 - math.exp(-1)) < 1e-6
    True
    """
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod = _wrap((a & mask) - one_quarter)
    result = _exp_quarter(_sat_shift(a_mod, integer_bits))
    remainder = _wrap(a_mod - a)
    for exponent, multiplier in ((-2, 1672461947), (-1, 1302514674), (0, 790015084),
                                 (1, 290630308), (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent and remainder & (1 << (frac_bits + exponent)):
            result = _mul(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return _I32_MAX if a == 0 else result


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
    """
    mult, shift, diff_min = softmax_params(beta, input_scale)
    lut = []
    for d in range(256):
        diff = -d
        if diff < diff_min:
            lut.append(0)
            continue
        rescaled = _mul(_wrap(diff * (1 << shift)), mult)
        lut.append(exp_on_negative_values(rescaled))
    return lut
