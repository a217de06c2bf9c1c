"""Python twins of the gemmlowp fixed-point functions TFLM's int8 LOGISTIC and
TANH reference kernels use, so that their 256-entry lookup tables can be
computed at generation time bit-exactly (plain ints, int32 wrap-around where
the C++ wraps).

Raw values are int32 fixed-point numbers with ``ib`` integer bits: real =
raw / 2^(31 - ib).
"""

from __future__ import annotations

from collections.abc import Callable

from tinykit.ops.quant import (
    _wrap32,
    multiply_by_quantized_multiplier,
    rounding_divide_by_pot,
    sat_rounding_doubling_high_mul,
)
from tinykit.tensors import round_half_away

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
ONE_Q0 = INT32_MAX  # FixedPoint<int32, 0>::One() saturates


def _mul(a: int, b: int) -> int:
    return sat_rounding_doubling_high_mul(a, b)


def sat_shift_left(x: int, exponent: int) -> int:
    """gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent.

    >>> sat_shift_left(1 << 29, 2), sat_shift_left(-(1 << 29), 2), sat_shift_left(3, 2)
    (2147483647, -2147483648, 12)
    """
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def rounding_half_sum(a: int, b: int) -> int:
    """(a + b) / 2 rounded away from zero, C division semantics.

    >>> rounding_half_sum(3, 4), rounding_half_sum(-3, -4)
    (4, -4)
    """
    s = a + b
    s += 1 if s >= 0 else -1
    q = abs(s) // 2
    return q if s >= 0 else -q


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    constant_term = 1895147668  # exp(-1/8) in Q0.31
    constant_1_over_3 = 715827883
    x = _wrap32(a + (1 << 28))  # a + 1/8
    x2 = _mul(x, x)
    x3 = _mul(x2, x)
    x4 = _mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(_wrap32(_mul(_wrap32(x4_over_4 + x3), constant_1_over_3) + x2), 1)
    return _wrap32(constant_term + _mul(constant_term, _wrap32(x + poly)))


_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
           (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, ib: int) -> int:
    """exp(a) for a <= 0 with ib integer bits; result in Q0.31.

    >>> exp_on_negative_values(0, 4) == ONE_Q0
    True
    >>> round(exp_on_negative_values(-(1 << 27), 4) / 2**31, 5)  # exp(-1)
    0.36788
    """
    fb = 31 - ib
    one_quarter = 1 << (fb - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = _wrap32((a & mask) - one_quarter)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        sat_shift_left(a_mod_quarter_minus_one_quarter, ib) if ib > 0 else a_mod_quarter_minus_one_quarter)
    remainder = _wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in _BARREL:
        if ib > exponent:
            if remainder & (1 << (fb + exponent)):
                result = _mul(result, multiplier)
    if ib > 5:
        clamp = -(1 << (36 - ib))
        if a < clamp:
            result = 0
    if a == 0:
        result = ONE_Q0
    return result


def _newton_reciprocal_half(a: int) -> tuple[int, int]:
    """Shared Newton-Raphson core: (x in Q2.29 ~ 1/half_denominator, half_denominator)."""
    half_denominator = rounding_half_sum(a, ONE_Q0)
    constant_48_over_17 = 1515870810
    constant_neg_32_over_17 = -1010580540
    x = _wrap32(constant_48_over_17 + _mul(half_denominator, constant_neg_32_over_17))
    one_q2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = _mul(half_denominator, x)
        one_minus = _wrap32(one_q2 - half_denominator_times_x)
        x = _wrap32(x + sat_shift_left(_mul(x, one_minus), 2))
    return x, half_denominator


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """
    >>> round(one_over_one_plus_x_for_x_in_0_1(1 << 30) / 2**31, 6)  # 1/1.5
    0.666667
    """
    x, _ = _newton_reciprocal_half(a)
    return sat_shift_left(x, 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    """
    >>> round(one_minus_x_over_one_plus_x_for_x_in_0_1(1 << 30) / 2**31, 6)  # 0.5/1.5
    0.333333
    """
    x, _ = _newton_reciprocal_half(a)
    return sat_shift_left(_wrap32(x - (1 << 29)), 2)


def logistic(a: int, ib: int) -> int:
    """gemmlowp::logistic: Q(ib) input, Q0.31 output.

    >>> logistic(0, 4) == 1 << 30
    True
    >>> round(logistic(1 << 27, 4) / 2**31, 6)  # sigmoid(1)
    0.731059
    """
    if a == 0:
        return 1 << 30
    abs_a = a if a > 0 else _wrap32(-a)
    pos = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(_wrap32(-abs_a), ib))
    return pos if a > 0 else _wrap32(ONE_Q0 - pos)


def tanh(a: int, ib: int) -> int:
    """gemmlowp::tanh: Q(ib) input, Q0.31 output.

    >>> round(tanh(1 << 27, 4) / 2**31, 6)  # tanh(1)
    0.761594
    """
    if a == 0:
        return 0
    n = a if a < 0 else _wrap32(-a)
    t = exp_on_negative_values(n, ib + 1)  # ExactMulByPot<1>: same raw, one more integer bit
    y = one_minus_x_over_one_plus_x_for_x_in_0_1(t)
    return _wrap32(-y) if a < 0 else y


def input_params_q4(scale: float) -> tuple[int, int, int]:
    """TFLM's LOGISTIC/TANH int8 Prepare: (input_multiplier, input_left_shift,
    input_range_radius) for 4 input integer bits."""
    import math

    real = float(scale) * float(1 << (31 - 4))
    q, shift = math.frexp(real)
    multiplier = round_half_away(q * (1 << 31))
    max_rescaled = 1.0 * ((1 << 4) - 1) * (1 << (31 - 4)) / (1 << shift) if shift >= 0 else \
        1.0 * ((1 << 4) - 1) * (1 << (31 - 4)) * (1 << -shift)
    return multiplier, shift, int(math.floor(max_rescaled))


def _lut(fn: object) -> list[int]:
    return [fn(q) for q in range(-128, 128)]  # type: ignore[operator]


def _q4_function_lut(fn: Callable[[int, int], int], out_bits: int, out_offset: int, scale: float,
                     zero_point: int) -> list[int]:
    """TFLM's reference_integer_ops pattern for LOGISTIC and TANH: saturate
    outside the input radius, rescale to Q4, apply the gemmlowp function, round
    the Q0.31 result to ``out_bits`` fraction bits and add the output offset."""
    multiplier, shift, radius = input_params_q4(scale)

    def one(q: int) -> int:
        x = q - zero_point
        if x <= -radius:
            return -128
        if x >= radius:
            return 127
        x_q4 = multiply_by_quantized_multiplier(x, multiplier, shift)
        out = rounding_divide_by_pot(fn(x_q4, 4), 31 - out_bits) + out_offset
        return max(-128, min(127, out))

    return _lut(one)


def logistic_lut(scale: float, zero_point: int) -> list[int]:
    """TFLM reference_integer_ops::Logistic for every int8 input (output
    scale 1/256, zero point -128)."""
    return _q4_function_lut(logistic, 8, -128, scale, zero_point)


def tanh_lut(scale: float, zero_point: int) -> list[int]:
    """TFLM reference_integer_ops::Tanh for every int8 input (output scale
    1/128, zero point 0)."""
    return _q4_function_lut(tanh, 7, 0, scale, zero_point)
