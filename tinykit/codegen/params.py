"""Generation-time parameters shared by the core op emitters: padding,
activation clamp ranges, per-channel multipliers, and C struct literals."""

from __future__ import annotations

import numpy as np

from tinykit.codegen.c import assert_valid_identifier, c_comment
from tinykit.codegen.quant import _round_half_away, quantize_multiplier
from tinykit.graph import Tensor

INT8_MIN, INT8_MAX = -128, 127


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


def act_range(activation: str, out: Tensor) -> tuple[int, int]:
    """Clamp range of a fused activation in the output's int8 domain, as TFLite's
    CalculateActivationRangeQuantized (float32 division, round half away)."""
    assert out.quant is not None
    scale = np.float32(out.quant.scale[0])
    zp = int(out.quant.zero_point[0])

    def q(f: float) -> int:
        return zp + _round_half_away(float(np.float32(f) / scale))

    if activation == "RELU":
        return max(INT8_MIN, q(0.0)), INT8_MAX
    if activation == "RELU6":
        return max(INT8_MIN, q(0.0)), min(INT8_MAX, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(INT8_MIN, q(-1.0)), min(INT8_MAX, q(1.0))
    return INT8_MIN, INT8_MAX


def channel_multipliers(inp: Tensor, filt: Tensor, out: Tensor, channels: int
                        ) -> tuple[list[int], list[int]]:
    """Per-output-channel (multiplier, shift), in double from the float32 scales, as
    TFLite's PopulateConvolutionQuantizationParams (per-tensor: one scale repeated)."""
    assert inp.quant and filt.quant and out.quant
    s_in, s_out = inp.quant.scale[0], out.quant.scale[0]
    scales = filt.quant.scale
    if len(scales) not in (1, channels):
        raise ValueError(f"{len(scales)} filter scales for {channels} channels")
    mults, shifts = [], []
    for c in range(channels):
        m, s = quantize_multiplier(s_in * scales[c if len(scales) > 1 else 0] / s_out)
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def c_struct_init(name: str, ctype: str, fields: dict[str, object], comment: str = "") -> str:
    """A ``static const`` struct with designated initializers; values are C text or ints.

    >>> print(c_struct_init("p", "TkPoolParams", {"k_h": 2, "dims": [1, 2]}, "pool */"))
    /* pool * / */
    static const TkPoolParams p = {
      .k_h = 2,
      .dims = {1, 2},
    };
    """
    assert_valid_identifier(name)
    assert_valid_identifier(ctype)
    lines = [f"/* {c_comment(comment)} */"] if comment else []
    lines.append(f"static const {ctype} {name} = {{")
    for key, value in fields.items():
        assert_valid_identifier(key)
        if isinstance(value, list | tuple):
            text = "{" + ", ".join(str(int(v)) for v in value) + "}"
        else:
            text = str(value)
        lines.append(f"  .{key} = {text},")
    lines.append("};")
    return "\n".join(lines)
