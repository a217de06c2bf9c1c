"""Unary int8 -> int8 ops as 256-entry tables (C: kernels/tk_lut.c): LOGISTIC,
TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH (and the int8 requantize of QUANTIZE and
CONCATENATION). Each table is computed here with TFLM's reference integer
arithmetic, so the C kernel is one lookup per element. The ``*_lut`` functions are
pure: quantization parameters in, the table (int8 values for inputs -128..127) out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops import fixedpoint_lut
from tinykit.ops._common import all_int8, first, per_output_element, qparams
from tinykit.ops.quant import multiply_by_quantized_multiplier, quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpSpec, always
from tinykit.tensors import round_half_away

_f32 = np.float32


def _clamp8(x: int) -> int:
    return max(-128, min(127, x))


def _table(fn: Callable[[int], int]) -> list[int]:
    return [fn(q) for q in range(-128, 128)]


def requantize_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """TFLM's int8 -> int8 Requantize (QUANTIZE, and concatenation rescaling).

    >>> requantize_lut(0.5, 0, 0.5, 0)[128 + 7]
    7
    >>> requantize_lut(1.0, 0, 0.5, 10)[128 + 100]
    127
    """
    m, s = quantize_multiplier(float(in_scale) / float(out_scale))
    return _table(lambda q: _clamp8(multiply_by_quantized_multiplier(q - in_zp, m, s) + out_zp))


def relu_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """TFLM ReluQuantized: rescale, then clamp at the output's zero.

    >>> relu_lut(0.1, 0, 0.1, -128)[128 - 5], relu_lut(0.1, 0, 0.1, -128)[128 + 5]
    (-128, -123)
    """
    m, s = quantize_multiplier(float(in_scale) / float(out_scale))
    act_min = max(-128, out_zp)  # zero_point + round(0 / scale)
    return _table(lambda q: max(act_min, _clamp8(out_zp + multiply_by_quantized_multiplier(q - in_zp, m, s))))


def relu6_lut(in_scale: float, in_zp: int) -> list[int]:
    """TFLM Relu6Quantized: clamp to [zero_point, quantized 6.0] on the input's scale.

    >>> relu6_lut(0.1, 0)[0], relu6_lut(0.1, 0)[128 + 30], relu6_lut(0.1, 0)[255]
    (0, 30, 60)
    """
    six = _clamp8(round_half_away(float(_f32(6.0) / _f32(in_scale))) + in_zp)
    lo = in_zp
    return _table(lambda q: six if q > six else (lo if q < lo else q))


def leaky_relu_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int,
                   alpha: float) -> list[int]:
    """TFLM QuantizeLeakyRelu: identity and alpha multipliers (float32 math in Prepare).

    >>> lut = leaky_relu_lut(0.1, 0, 0.1, 0, 0.5)
    >>> lut[128 + 10], lut[128 - 10]
    (10, -5)
    """
    m_alpha, s_alpha = quantize_multiplier(float(_f32(in_scale) * _f32(alpha) / _f32(out_scale)))
    m_id, s_id = quantize_multiplier(float(_f32(in_scale) / _f32(out_scale)))

    def one(q: int) -> int:
        x = q - in_zp
        m, s = (m_id, s_id) if x >= 0 else (m_alpha, s_alpha)
        return _clamp8(out_zp + multiply_by_quantized_multiplier(x, m, s))

    return _table(one)


def _srdhm16(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul for int16."""
    if a == b == -32768:
        return 32767
    ab = a * b
    num = ab + ((1 << 14) if ab >= 0 else 1 - (1 << 14))
    q = abs(num) >> 15
    return _wrap16(q if num >= 0 else -q)


def _sdhm16(a: int, b: int) -> int:
    """TFLite SaturatingDoublingHighMul for int16 (rounds toward zero)."""
    if a == b == -32768:
        return 32767
    ab = a * b
    q = abs(ab) >> 15
    return _wrap16(q if ab >= 0 else -q)


def _wrap16(x: int) -> int:
    x &= 0xFFFF
    return x - 0x10000 if x >= 0x8000 else x


def _sat_left16(x: int, amount: int) -> int:
    return max(-32768, min(32767, x * (1 << amount)))


def _rdbp(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def _int16_multiplier(m32: int) -> int:
    """TFLite DownScaleInt32ToInt16Multiplier."""
    if m32 >= (1 << 31) - 1 - (1 << 15):
        return 32767
    return (m32 + (1 << 15)) >> 16


def hard_swish_lut(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> list[int]:
    """TFLM's reference int8 HardSwish (16-bit fixed point, float32 Prepare).

    >>> lut = hard_swish_lut(0.05, 0, 0.05, 0)
    >>> lut[128 + 0], lut[128 + 100], lut[128 - 100]  # x = 0, 5, -5
    (0, 100, 0)
    """
    hires_input_scale = _f32(1.0 / 128.0) * _f32(in_scale)
    reluish_scale = _f32(3.0 / 32768.0)
    out_m32, out_exp = quantize_multiplier(float(hires_input_scale / _f32(out_scale)))
    rel_m32, rel_exp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    out_m16 = _int16_multiplier(out_m32)
    rel_m16 = _int16_multiplier(rel_m32)

    def one(q: int) -> int:
        x = _wrap16(q - in_zp)
        hires = _wrap16(x * 128)
        preshift = _srdhm16(hires, out_m16)
        reluish = hires
        if rel_exp > 0:
            reluish = _sat_left16(reluish, rel_exp - 1)
        reluish = _srdhm16(reluish, rel_m16)
        if rel_exp > 0:
            reluish = _sat_left16(reluish, 1)
        if rel_exp < 0:
            reluish = _rdbp(reluish, -rel_exp)
        reluish = (reluish + (1 << 15)) >> 1
        out = _rdbp(_sdhm16(reluish, preshift), -out_exp)
        return _clamp8(_wrap16(out + out_zp))

    return _table(one)


def logistic_lut(in_scale: float, in_zp: int) -> list[int]:
    """TFLM reference_integer_ops::Logistic (output scale 1/256, zero point -128).

    >>> lut = logistic_lut(0.1, 0)
    >>> lut[128], lut[0], lut[255]
    (0, -128, 127)
    """
    return fixedpoint_lut.logistic_lut(in_scale, in_zp)


def tanh_lut(in_scale: float, in_zp: int) -> list[int]:
    """TFLM reference_integer_ops::Tanh (output scale 1/128, zero point 0).

    >>> lut = tanh_lut(0.1, 0)
    >>> lut[128], lut[0], lut[255]
    (0, -128, 127)
    """
    return fixedpoint_lut.tanh_lut(in_scale, in_zp)



# ---- the ops -------------------------------------------------------------------

LutFn = Callable[[Tensor, Tensor, Op], list[int]]


def unary_io(graph: Graph, op: Op) -> tuple[Tensor, Tensor]:
    x = graph.op_inputs(op)[0]
    assert x is not None
    return x, graph.op_outputs(op)[0]


def lut_emitter(build: LutFn) -> Callable[[EmitContext, Op], Emitted]:
    """An emitter that stores ``build``'s table and calls tk_lut_s8."""

    def emit(ctx: EmitContext, op: Op) -> Emitted:
        x, y = unary_io(ctx.graph, op)
        lut, name = ctx.sym(op, "lut"), ctx.sym(op, "params")
        decls = (
            c_array(lut, np.asarray(build(x, y, op), dtype=np.int8), "int8_t"),
            c_struct_init(name, "TkLutParams", {"size": x.size, "lut": lut},
                          f"{op.kind} {ctx.graph.layer_name(op)}"),
        )
        call = f"TK_TRY(tk_lut_s8(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)}));"
        return Emitted(call=call, decls=decls)

    return emit


def _check_output_quant(scale: float, zero_point: int) -> Callable[[Graph, Op], str | None]:
    def check(graph: Graph, op: Op) -> str | None:
        y = graph.op_outputs(op)[0]
        if y.quant is None or y.quant.zero_point[0] != zero_point or \
                abs(y.quant.scale[0] - scale) > 1e-6 * scale:
            return f"{op.kind} int8 needs output scale {scale:g} and zero point {zero_point}"
        return None
    return check


def _check_hard_swish(graph: Graph, op: Op) -> str | None:
    x, y = unary_io(graph, op)
    hires = _f32(1.0 / 128.0) * _f32(qparams(x)[0])
    if quantize_multiplier(float(hires / _f32(qparams(y)[0])))[1] > 0:
        return "HARD_SWISH with an output scale below input scale / 128 is not supported (as TFLM)"
    return None


def _spec(kind: str, version: int, build: LutFn, tflm: str, tflm_version: int,
          *checks: Callable[[Graph, Op], str | None], tflm_code: int = 4096) -> OpSpec:
    return OpSpec(kind, version, lut_emitter(build), ("tk_lut_s8",), per_output_element,
                  tflm=tflm, tflm_version=tflm_version, check=first(all_int8, *checks),
                  inplace=always, tflm_code_bytes=tflm_code)


SPECS = (
    _spec("LOGISTIC", 3, lambda x, y, op: logistic_lut(*qparams(x)), "AddLogistic", 3,
          _check_output_quant(1.0 / 256.0, -128), tflm_code=3 * 1024),
    _spec("TANH", 3, lambda x, y, op: tanh_lut(*qparams(x)), "AddTanh", 3,
          _check_output_quant(1.0 / 128.0, 0), tflm_code=3 * 1024),
    _spec("RELU", 3, lambda x, y, op: relu_lut(*qparams(x), *qparams(y)), "AddRelu", 3),
    _spec("RELU6", 3, lambda x, y, op: relu6_lut(*qparams(x)), "AddRelu6", 3),
    _spec("LEAKY_RELU", 2, lambda x, y, op: leaky_relu_lut(*qparams(x), *qparams(y),
                                                           float(op.options.get("alpha", 0.2))),
          "AddLeakyRelu", 2),
    _spec("HARD_SWISH", 1, lambda x, y, op: hard_swish_lut(*qparams(x), *qparams(y)),
          "AddHardSwish", 1, _check_hard_swish),
)
