"""ABS int8 as a 256-entry table (C: kernels/tk_lut.c): TFLM's AbsEvalQuantized
is a pure function of the int8 input, |q - zero point| rescaled to the output."""

from __future__ import annotations

from tinykit.graph import Tensor
from tinykit.ops._common import all_int8, per_output_element, qparams
from tinykit.ops.lut import lut_emitter
from tinykit.ops.quant import multiply_by_quantized_multiplier, quantize_multiplier
from tinykit.ops.spec import OpSpec, always


def abs_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """TFLM's int8 ABS: no rescale when the (float32) scales are equal.

    >>> lut = abs_lut(0.1, -3, 0.1, -128)
    >>> lut[128 - 3], lut[128 + 7], lut[128 - 13], lut[255]
    (-128, -118, -118, 2)
    >>> abs_lut(0.1, 0, 0.2, -128)[128 - 9]
    -123
    """
    rescale = in_scale != out_scale
    mult, shift = quantize_multiplier(in_scale / out_scale) if rescale else (0, 0)

    def one(q: int) -> int:
        v = abs(q - in_zp)
        r = multiply_by_quantized_multiplier(v, mult, shift) if rescale else v
        return max(-128, min(127, r + out_zp))

    return [one(q) for q in range(-128, 128)]


def _build(x: Tensor, y: Tensor, op: object) -> list[int]:
    return abs_lut(*qparams(x), *qparams(y))


SPECS = (
    OpSpec("ABS", 5, lut_emitter(_build), ("tk_lut_s8",), per_output_element, tflm="AddAbs",
           tflm_version=5, check=all_int8, inplace=always, code_bytes=256),
)
