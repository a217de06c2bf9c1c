"""Emitters of the element-wise, table-lookup, concatenation, pad and
(de)quantize ops of the AOT runtime (C kernels in firmware/src/tk_elementwise.c).

Every unary int8 -> int8 op (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU,
HARD_SWISH, int8 requantize QUANTIZE) becomes a 256-entry table computed here
with TFLM's reference integer arithmetic, so the C kernel is one lookup per
element. The ``*_lut`` functions are pure: quantization parameters in, the
table (int8 values for inputs -128..127) out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinykit.codegen import fixedpoint_lut
from tinykit.codegen.c import c_array, c_literal
from tinykit.codegen.emit import EmitContext, Emitted, OpRule, always
from tinykit.codegen.quant import multiply_by_quantized_multiplier, quantize_multiplier
from tinykit.graph import Graph, Op, Tensor

MAX_DIMS = 5  # TK_EW_DIMS
_f32 = np.float32


# ---- pure table builders ----------------------------------------------------

def _round_half_away(x: float) -> int:
    """std::round.

    >>> _round_half_away(2.5), _round_half_away(-2.5), _round_half_away(0.49)
    (3, -3, 0)
    """
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


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
    six = _clamp8(_round_half_away(float(_f32(6.0) / _f32(in_scale))) + in_zp)
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


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite CalculateActivationRangeQuantized for int8 (float32 division, roundf).

    >>> activation_range("RELU6", 0.1, -10)
    (-10, 50)
    >>> activation_range("NONE", 0.1, 0)
    (-128, 127)
    """
    def quant(f: float) -> int:
        return zero_point + _round_half_away(float(_f32(f) / _f32(scale)))

    if activation == "RELU":
        return max(-128, quant(0.0)), 127
    if activation == "RELU6":
        return max(-128, quant(0.0)), min(127, quant(6.0))
    if activation == "RELU_N1_TO_1":
        return max(-128, quant(-1.0)), min(127, quant(1.0))
    return -128, 127


# ---- support checks -----------------------------------------------------------

def _qparams(t: Tensor) -> tuple[float, int]:
    assert t.quant is not None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def _per_tensor_int8(t: Tensor | None) -> str | None:
    if t is None:
        return "a required input is missing"
    if t.dtype != "int8":
        return f"tensor {t.name!r} is {t.dtype}; only int8 is supported"
    if t.quant is None or not t.quant.scale:
        return f"tensor {t.name!r} has no quantization parameters"
    if t.quant.per_channel:
        return f"tensor {t.name!r} is quantized per channel; only per-tensor is supported"
    return None


def _check_all_int8(graph: Graph, op: Op) -> str | None:
    for t in [*graph.op_inputs(op), *graph.op_outputs(op)]:
        if (why := _per_tensor_int8(t)) is not None:
            return why
    return None


def _first(*checks: Callable[[Graph, Op], str | None]) -> Callable[[Graph, Op], str | None]:
    def check(graph: Graph, op: Op) -> str | None:
        for c in checks:
            if (why := c(graph, op)) is not None:
                return why
        return None
    return check


def _unary_io(graph: Graph, op: Op) -> tuple[Tensor, Tensor]:
    x = graph.op_inputs(op)[0]
    assert x is not None
    return x, graph.op_outputs(op)[0]


def _check_output_quant(scale: float, zero_point: int) -> Callable[[Graph, Op], str | None]:
    def check(graph: Graph, op: Op) -> str | None:
        y = graph.op_outputs(op)[0]
        if y.quant is None or y.quant.zero_point[0] != zero_point or \
                abs(y.quant.scale[0] - scale) > 1e-6 * scale:
            return f"{op.kind} int8 needs output scale {scale:g} and zero point {zero_point}"
        return None
    return check


# ---- emitters -----------------------------------------------------------------

LutFn = Callable[[Tensor, Tensor, Op], list[int]]


def _lut_emitter(build: LutFn) -> Callable[[EmitContext, Op], Emitted]:
    def emit(ctx: EmitContext, op: Op) -> Emitted:
        x, y = _unary_io(ctx.graph, op)
        lut = ctx.sym(op, "lut")
        decl = c_array(lut, np.asarray(build(x, y, op), dtype=np.int8), "int8_t")
        call = f"tk_lut_s8({ctx.ptr(x.index)}, {ctx.ptr(y.index)}, {x.size}, {lut});"
        return Emitted(call=call, decls=(decl,))
    return emit


def _lut_rule(build: LutFn, *checks: Callable[[Graph, Op], str | None]) -> OpRule:
    return OpRule(emit=_lut_emitter(build), inplace=always, check=_first(_check_all_int8, *checks))


def _lut_logistic(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return logistic_lut(*_qparams(x))


def _lut_tanh(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return tanh_lut(*_qparams(x))


def _lut_relu(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return relu_lut(*_qparams(x), *_qparams(y))


def _lut_relu6(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return relu6_lut(*_qparams(x))


def _lut_leaky(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return leaky_relu_lut(*_qparams(x), *_qparams(y), float(op.options.get("alpha", 0.2)))


def _lut_hard_swish(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return hard_swish_lut(*_qparams(x), *_qparams(y))


def _lut_requantize(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return requantize_lut(*_qparams(x), *_qparams(y))


def _check_hard_swish(graph: Graph, op: Op) -> str | None:
    x, y = _unary_io(graph, op)
    hires = _f32(1.0 / 128.0) * _f32(_qparams(x)[0])
    if quantize_multiplier(float(hires / _f32(_qparams(y)[0])))[1] > 0:
        return "HARD_SWISH with an output scale below input scale / 128 is not supported (as TFLM)"
    return None


def _padded(shape: tuple[int, ...]) -> list[int]:
    return [1] * (MAX_DIMS - len(shape)) + list(shape)


def _strides(shape: list[int], out: list[int]) -> list[int]:
    """Element strides of a padded shape broadcast to out (0 on broadcast dims).

    >>> _strides([1, 1, 1, 1, 3], [1, 1, 2, 2, 3])
    [0, 0, 0, 0, 1]
    >>> _strides([1, 1, 2, 1, 3], [1, 1, 2, 4, 3])
    [0, 0, 3, 0, 1]
    >>> _strides([1, 2, 1, 4, 3], [1, 2, 1, 4, 3])
    [0, 12, 0, 3, 1]
    """
    strides, acc = [0] * MAX_DIMS, 1
    for d in range(MAX_DIMS - 1, -1, -1):
        strides[d] = 0 if shape[d] == 1 else acc
        acc *= shape[d]
    return strides


def _c_ints(values: list[int]) -> str:
    return "{" + ", ".join(c_literal(v, "int32_t") for v in values) + "}"


def _struct(ctype: str, name: str, fields: dict[str, str]) -> str:
    body = ",\n".join(f"  .{k} = {v}" for k, v in fields.items())
    return f"static const {ctype} {name} = {{\n{body}\n}};"


def _check_mul(graph: Graph, op: Op) -> str | None:
    a, b = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert a is not None and b is not None
    if max(len(a.shape), len(b.shape), len(y.shape)) > MAX_DIMS:
        return f"MUL supports at most {MAX_DIMS} dimensions"
    try:
        bshape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return f"MUL input shapes {a.shape} and {b.shape} do not broadcast"
    if tuple(bshape) != tuple(y.shape):
        return f"MUL output shape {y.shape} is not the broadcast shape {tuple(bshape)}"
    return None


def _mul_inplace(graph: Graph, op: Op) -> bool:
    a = graph.op_inputs(op)[0]
    return a is not None and a.shape == graph.op_outputs(op)[0].shape


def emit_mul(ctx: EmitContext, op: Op) -> Emitted:
    a, b = ctx.graph.op_inputs(op)[:2]
    y = ctx.graph.op_outputs(op)[0]
    assert a is not None and b is not None
    (sa, za), (sb, zb), (sy, zy) = _qparams(a), _qparams(b), _qparams(y)
    mult, shift = quantize_multiplier(float(sa) * float(sb) / float(sy))
    act_min, act_max = activation_range(op.options.get("fused_activation_function", "NONE"), sy, zy)
    out = _padded(y.shape)
    pa, pb = _padded(a.shape), _padded(b.shape)
    name = ctx.sym(op, "params")
    decl = _struct("TkMulParams", name, {
        "in1_offset": c_literal(-za, "int32_t"), "in2_offset": c_literal(-zb, "int32_t"),
        "out_offset": c_literal(zy, "int32_t"), "multiplier": c_literal(mult, "int32_t"),
        "shift": c_literal(shift, "int32_t"), "act_min": c_literal(act_min, "int32_t"),
        "act_max": c_literal(act_max, "int32_t"), "broadcast": "1" if pa != pb else "0",
        "dims": _c_ints(out), "in1_strides": _c_ints(_strides(pa, out)),
        "in2_strides": _c_ints(_strides(pb, out)),
    })
    call = f"tk_mul_s8(&{name}, {ctx.ptr(a.index)}, {ctx.ptr(b.index)}, {ctx.ptr(y.index)});"
    return Emitted(call=call, decls=(decl,))


def _axis(op: Op, rank: int) -> int:
    axis = int(op.options.get("axis", 0))
    return axis + rank if axis < 0 else axis


def _check_concat(graph: Graph, op: Op) -> str | None:
    y = graph.op_outputs(op)[0]
    axis = _axis(op, len(y.shape))
    if not 0 <= axis < len(y.shape):
        return f"CONCATENATION axis {op.options.get('axis')} is out of range"
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        return "CONCATENATION with a fused activation is not supported"
    for t in graph.op_inputs(op):
        assert t is not None
        if len(t.shape) != len(y.shape) or any(
                t.shape[d] != y.shape[d] for d in range(len(y.shape)) if d != axis):
            return f"CONCATENATION input shape {t.shape} does not match output {y.shape}"
    return None


def emit_concat(ctx: EmitContext, op: Op) -> Emitted:
    y = ctx.graph.op_outputs(op)[0]
    ins = [t for t in ctx.graph.op_inputs(op) if t is not None]
    axis = _axis(op, len(y.shape))
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    decls: list[str] = []
    luts: list[str] = []
    for i, t in enumerate(ins):
        if _qparams(t) == _qparams(y):
            luts.append("NULL")
            continue
        name = ctx.sym(op, f"lut{i}")
        table = requantize_lut(*_qparams(t), *_qparams(y))
        decls.append(c_array(name, np.asarray(table, dtype=np.int8), "int8_t"))
        luts.append(name)
    inner = [int(np.prod(t.shape[axis:], dtype=np.int64)) for t in ins]
    n = len(ins)
    call = (
        "{\n"
        f"  const int8_t *const ins[{n}] = {{{', '.join(ctx.ptr(t.index) for t in ins)}}};\n"
        f"  static const int32_t inner[{n}] = {_c_ints(inner)};\n"
        f"  const int8_t *const luts[{n}] = {{{', '.join(luts)}}};\n"
        f"  tk_concat_s8({n}, ins, inner, luts, {outer}, {ctx.ptr(y.index)});\n"
        "}"
    )
    return Emitted(call=call, decls=tuple(decls))


def _paddings(graph: Graph, op: Op) -> np.ndarray | None:
    p = graph.op_inputs(op)[1]
    if p is None or not p.is_const or p.dtype not in ("int32", "int64"):
        return None
    return p.array().reshape(-1, 2).astype(np.int64)


def _check_pad(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    y = graph.op_outputs(op)[0]
    for t in (x, y):
        if (why := _per_tensor_int8(t)) is not None:
            return why
    assert x is not None
    pads = _paddings(graph, op)
    if pads is None:
        return f"{op.kind} needs constant int32 paddings"
    if len(x.shape) > MAX_DIMS or pads.shape[0] != len(x.shape) or (pads < 0).any():
        return f"{op.kind} paddings {pads.tolist()} do not fit input shape {x.shape}"
    if _qparams(x) != _qparams(y):
        return f"{op.kind} input and output quantization differ (TFLM does not rescale)"
    if op.kind == "PADV2":
        v = graph.op_inputs(op)[2] if len(op.inputs) > 2 else None
        if v is None or not v.is_const or v.dtype != "int8" or v.size != 1:
            return "PADV2 needs a constant int8 scalar padding value"
    return None


def emit_pad(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    y = ctx.graph.op_outputs(op)[0]
    assert x is not None
    pads = _paddings(ctx.graph, op)
    assert pads is not None
    lead = MAX_DIMS - len(x.shape)
    before = [0] * lead + [int(v) for v in pads[:, 0]]
    after = [0] * lead + [int(v) for v in pads[:, 1]]
    if op.kind == "PADV2":
        v = ctx.graph.op_inputs(op)[2]
        assert v is not None
        value = int(v.array().reshape(-1)[0])
    else:
        value = _qparams(y)[1]
    name = ctx.sym(op, "params")
    decl = _struct("TkPadParams", name, {
        "in_dims": _c_ints(_padded(x.shape)), "before": _c_ints(before),
        "after": _c_ints(after), "value": c_literal(value, "int32_t"),
    })
    return Emitted(call=f"tk_pad_s8(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(y.index)});",
                   decls=(decl,))


def _check_quantize(graph: Graph, op: Op) -> str | None:
    x, y = _unary_io(graph, op)
    if (why := _per_tensor_int8(y)) is not None:
        return why
    if x.dtype not in ("float32", "int8"):
        return f"QUANTIZE from {x.dtype} is not supported (float32 or int8 only)"
    return None if x.dtype == "float32" else _per_tensor_int8(x)


def emit_quantize(ctx: EmitContext, op: Op) -> Emitted:
    x, y = _unary_io(ctx.graph, op)
    if x.dtype == "int8":
        return _lut_emitter(_lut_requantize)(ctx, op)
    scale, zp = _qparams(y)
    call = (f"tk_quantize_f32_s8((const float *)(const void *)({ctx.ptr(x.index)}), "
            f"{ctx.ptr(y.index)}, {x.size}, {c_literal(scale, 'float')}, "
            f"{c_literal(zp, 'int32_t')});")
    return Emitted(call=call)


def _check_dequantize(graph: Graph, op: Op) -> str | None:
    x, y = _unary_io(graph, op)
    if y.dtype != "float32":
        return f"DEQUANTIZE to {y.dtype} is not supported (float32 only)"
    return _per_tensor_int8(x)


def emit_dequantize(ctx: EmitContext, op: Op) -> Emitted:
    x, y = _unary_io(ctx.graph, op)
    scale, zp = _qparams(x)
    call = (f"tk_dequantize_s8_f32({ctx.ptr(x.index)}, (float *)(void *)({ctx.ptr(y.index)}), "
            f"{x.size}, {c_literal(scale, 'float')}, {c_literal(zp, 'int32_t')});")
    return Emitted(call=call)


RULES: dict[str, OpRule] = {
    "LOGISTIC": _lut_rule(_lut_logistic, _check_output_quant(1.0 / 256.0, -128)),
    "TANH": _lut_rule(_lut_tanh, _check_output_quant(1.0 / 128.0, 0)),
    "RELU": _lut_rule(_lut_relu),
    "RELU6": _lut_rule(_lut_relu6),
    "LEAKY_RELU": _lut_rule(_lut_leaky),
    "HARD_SWISH": _lut_rule(_lut_hard_swish, _check_hard_swish),
    "MUL": OpRule(emit=emit_mul, inplace=_mul_inplace, check=_first(_check_all_int8, _check_mul)),
    "CONCATENATION": OpRule(emit=emit_concat, check=_first(_check_all_int8, _check_concat)),
    "PAD": OpRule(emit=emit_pad, check=_check_pad),
    "PADV2": OpRule(emit=emit_pad, check=_check_pad),
    "QUANTIZE": OpRule(emit=emit_quantize, inplace=always, check=_check_quantize),
    "DEQUANTIZE": OpRule(emit=emit_dequantize, inplace=always, check=_check_dequantize),
}
