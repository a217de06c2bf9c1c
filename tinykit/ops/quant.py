"""Generation-time quantization math (what TFLM computes in Prepare), kept
bit-identical to TFLite's reference: multipliers are computed in double from
the float32 scales stored in the model."""

from __future__ import annotations

import math

from tinykit.tensors import round_half_away


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
    q = round_half_away(fraction * (1 << 31))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:  # TFLite saturates very large multipliers
        return (1 << 31) - 1, 30
    return int(q), shift


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


# --- what TFLite's Prepare computes from scales and shapes ----------------------

INT8_MIN, INT8_MAX = -128, 127


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """Clamp range of a fused activation in the int8 domain, as TFLite's
    CalculateActivationRangeQuantized (float32 division, round half away).

    >>> activation_range("RELU6", 0.1, -10)
    (-10, 50)
    >>> activation_range("NONE", 0.1, 0)
    (-128, 127)
    """
    import numpy as np

    s = np.float32(scale)

    def q(f: float) -> int:
        return int(zero_point) + round_half_away(float(np.float32(f) / s))

    if activation == "RELU":
        return max(INT8_MIN, q(0.0)), INT8_MAX
    if activation == "RELU6":
        return max(INT8_MIN, q(0.0)), min(INT8_MAX, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(INT8_MIN, q(-1.0)), min(INT8_MAX, q(1.0))
    return INT8_MIN, INT8_MAX


def out_size(padding: str, size: int, k: int, stride: int, dilation: int = 1) -> int:
    """TFLite ComputeOutSize.

    >>> out_size("SAME", 49, 10, 2), out_size("VALID", 10, 3, 1, 2)
    (25, 6)
    """
    eff = (k - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == "SAME" else (size + stride - eff) // stride


def pad_before(stride: int, dilation: int, size: int, k: int, out: int) -> int:
    """TFLite ComputePaddingWithOffset: the leading (top or left) padding.

    >>> pad_before(2, 1, 49, 10, 25), pad_before(1, 1, 5, 3, 5), pad_before(1, 1, 5, 3, 3)
    (4, 1, 0)
    """
    eff = (k - 1) * dilation + 1
    return max(0, (out - 1) * stride + eff - size) // 2
