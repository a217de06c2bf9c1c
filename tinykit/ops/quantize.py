"""QUANTIZE (float32 -> int8, or an int8 requantize table) and DEQUANTIZE
(int8 -> float32) (C: kernels/tk_quantize.c, kernels/tk_lut.c)."""

from __future__ import annotations

from tinykit.cgen import c_literal, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import data_movement, per_tensor_int8, qparams
from tinykit.ops.lut import lut_emitter, requantize_lut, unary_io
from tinykit.ops.spec import EmitContext, Emitted, OpSpec, always


def check_quantize(graph: Graph, op: Op) -> str | None:
    x, y = unary_io(graph, op)
    if (why := per_tensor_int8(y)) is not None:
        return why
    if x.dtype not in ("float32", "int8"):
        return f"QUANTIZE from {x.dtype} is not supported (float32 or int8 only)"
    return None if x.dtype == "float32" else per_tensor_int8(x)


def _params(ctx: EmitContext, op: Op, x: Tensor, q: Tensor) -> tuple[str, str]:
    """(name, declaration) of the TkQuantizeParams: x's size, q's scale and zero point."""
    scale, zp = qparams(q)
    name = ctx.sym(op, "params")
    return name, c_struct_init(name, "TkQuantizeParams", {
        "size": x.size, "scale": c_literal(scale, "float"), "zero_point": zp,
    }, f"{op.kind} {ctx.graph.layer_name(op)}")


def _requantize(x: Tensor, y: Tensor, op: Op) -> list[int]:
    return requantize_lut(*qparams(x), *qparams(y))


def emit_quantize(ctx: EmitContext, op: Op) -> Emitted:
    x, y = unary_io(ctx.graph, op)
    if x.dtype == "int8":
        return lut_emitter(_requantize)(ctx, op)
    name, decl = _params(ctx, op, x, y)
    call = (f"TK_TRY(tk_quantize_f32_s8(&{name}, (const float *)(const void *)"
            f"({ctx.ptr(x.index)}), {ctx.ptr(y.index)}));")
    return Emitted(call=call, decls=(decl,))


def check_dequantize(graph: Graph, op: Op) -> str | None:
    x, y = unary_io(graph, op)
    if y.dtype != "float32":
        return f"DEQUANTIZE to {y.dtype} is not supported (float32 only)"
    return per_tensor_int8(x)


def emit_dequantize(ctx: EmitContext, op: Op) -> Emitted:
    x, y = unary_io(ctx.graph, op)
    name, decl = _params(ctx, op, x, x)
    call = (f"TK_TRY(tk_dequantize_s8_f32(&{name}, {ctx.ptr(x.index)}, "
            f"(float *)(void *)({ctx.ptr(y.index)})));")
    return Emitted(call=call, decls=(decl,))


SPECS = (
    OpSpec("QUANTIZE", 3, emit_quantize, ("tk_quantize_f32_s8", "tk_lut_s8"), data_movement,
           tflm="AddQuantize", tflm_version=3, check=check_quantize, inplace=always),
    OpSpec("DEQUANTIZE", 5, emit_dequantize, ("tk_dequantize_s8_f32",), data_movement,
           tflm="AddDequantize", tflm_version=5, check=check_dequantize, inplace=always,
           tflm_code_bytes=3 * 1024),
)
