"""Generation-time quantization math (what TFLM computes in Prepare), kept
bit-identical to TFLite's reference: multipliers are computed in double from
the float32 scales stored in the model."""

from __future__ import annotations

import math


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A real multiplier as (Q31 significand, power-of-two shift), as TFLite's
    QuantizeMultiplier: real ~= significand * 2^(shift - 31).

    >>> quantize_multiplier(0.5)
    (1073741824, 0)
    >>> quantize_multiplier(0.25)
    (1073741824, -1)
    >>> quantize_multiplier(0.0)
    (0, 0)
    >>> quantize_multiplier(3.0)
    (1610612736, 2)
    """
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)  # real = fraction * 2^shift, fraction in [0.5, 1)
    q = _round_half_away(fraction * (1 << 31))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:  # TFLite saturates very large multipliers
        return (1 << 31) - 1, 30
    return int(q), shift


def _round_half_away(x: float) -> int:
    """std::round: halves away from zero (Python's round() is banker's)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """Python twin of tk_multiply_by_quantized_multiplier (for generating LUTs).

    >>> multiply_by_quantized_multiplier(100, *quantize_multiplier(0.5))
    50
    >>> multiply_by_quantized_multiplier(-3, *quantize_multiplier(0.5))
    -1
    """
    left = max(shift, 0)
    right = max(-shift, 0)
    shifted = _wrap32(x << left)
    return rounding_divide_by_pot(sat_rounding_doubling_high_mul(shifted, multiplier), right)


def _wrap32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= (1 << 31) else x


def sat_rounding_doubling_high_mul(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    # C integer division truncates toward zero
    num = ab + nudge
    q = abs(num) >> 31
    return _wrap32(q if num >= 0 else -q)


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)
