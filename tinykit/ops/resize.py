"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of int8 NHWC tensors (C:
kernels/tk_resize.c), as TFLM's reference ResizeNearestNeighbor and
ResizeBilinearInteger, with the align_corners and half_pixel_centers variants.

Everything that depends only on the shapes is computed here: for each output row
and column, the input row and column it reads (nearest: TFLM's float32
GetNearestNeighbor, emulated in numpy float32) or the two it blends and the
blend weight in 1/1024 (bilinear: TFLM's integer ComputeInterpolationValuesInteger).
Neither op requantizes, so input and output must share one quantization (the
converter gives them one)."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import data_int8, data_movement, first, per_output_element, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

ONE_10 = 1 << 10  # TFLM's bilinear weights are in 1/1024


def _flags(op: Op) -> tuple[bool, bool]:
    return bool(op.options.get("align_corners", False)), bool(op.options.get("half_pixel_centers", False))


def nearest_index(out_size: int, in_size: int, align_corners: bool,
                  half_pixel_centers: bool) -> list[int]:
    """The input index each output index reads, as TFLM's GetNearestNeighbor
    (float32 scale, floor, or round half away from zero with align_corners).

    >>> nearest_index(4, 2, False, False), nearest_index(4, 2, False, True)
    ([0, 0, 1, 1], [0, 0, 1, 1])
    >>> nearest_index(5, 3, True, False), nearest_index(3, 5, False, True)
    ([0, 1, 1, 2, 2], [0, 2, 4])
    """
    f = np.float32
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half_pixel_centers else f(0.0)
    out = []
    for i in range(out_size):
        v = f(f(i) + offset) * scale
        k = int(np.copysign(np.floor(abs(v) + 0.5), v)) if align_corners else int(np.floor(v))
        k = min(k, in_size - 1)
        out.append(max(k, 0) if half_pixel_centers else k)
    return out


def bilinear_scale_10(out_size: int, in_size: int, align_corners: bool) -> int:
    """TFLM's ResizeBilinearInteger scale in 1/1024, rounded.

    >>> bilinear_scale_10(8, 4, False), bilinear_scale_10(7, 4, True), bilinear_scale_10(3, 4, False)
    (512, 512, 1365)
    """
    if align_corners and out_size > 1:
        return (ONE_10 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    return (ONE_10 * in_size + out_size // 2) // out_size


def _trunc_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def bilinear_table(out_size: int, in_size: int, align_corners: bool,
                   half_pixel_centers: bool) -> list[tuple[int, int, int]]:
    """(lower index, upper index, weight of the upper in 1/1024) of each output
    index, as TFLM's ComputeInterpolationValuesInteger.

    >>> bilinear_table(4, 2, False, False)
    [(0, 0, 0), (0, 1, 512), (1, 1, 0), (1, 1, 512)]
    >>> bilinear_table(4, 2, False, True)[:2]
    [(0, 0, -256), (0, 1, 256)]
    """
    scale = bilinear_scale_10(out_size, in_size, align_corners)
    rows = []
    for i in range(out_size):
        v = i * scale + _trunc_div(scale, 2) - (1 << 9) if half_pixel_centers else i * scale
        lo = max(_trunc_div(v, ONE_10), 0)
        hi = min(_trunc_div(v + ONE_10 - 1, ONE_10), in_size - 1)
        rows.append((lo, hi, v - ONE_10 * lo))
    return rows


# --- checks -----------------------------------------------------------------------


def _check(graph: Graph, op: Op) -> str | None:
    x, size = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    assert x is not None
    if len(x.shape) != 4 or len(y.shape) != 4:
        return f"{op.kind} needs 4-D NHWC tensors"
    if size is None or not size.is_const or size.dtype != "int32":
        return f"{op.kind} needs a constant int32 output size"
    hw = [int(v) for v in size.array().reshape(-1)]
    if hw != list(y.shape[1:3]) or x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        return f"{op.kind} output shape {y.shape} does not match its size {hw}"
    if min(x.shape) < 1 or min(y.shape) < 1:
        return f"{op.kind} of an empty tensor is not supported"
    align, half = _flags(op)
    if align and half:
        return f"{op.kind} with both align_corners and half_pixel_centers is not supported"
    if qparams(x) != qparams(y):
        return f"{op.kind} needs the input and output quantized alike"
    if op.kind == "RESIZE_BILINEAR":
        for out_n, in_n in ((y.shape[1], x.shape[1]), (y.shape[2], x.shape[2])):
            for lo, hi, w in bilinear_table(out_n, in_n, align, half):
                # TFLM would read out of bounds; |weights| must keep the sum in int32
                if not (0 <= lo < in_n and 0 <= hi < in_n and -ONE_10 < w <= 2 * ONE_10):
                    return f"{op.kind} from {in_n} to {out_n} reads outside the input"
    return None


check = first(data_int8, _check)


# --- emit --------------------------------------------------------------------------


def _emit(ctx: EmitContext, op: Op, rows: list[int], cols: list[int], fn: str) -> Emitted:
    graph = ctx.graph
    x = graph.op_inputs(op)[0]
    y = graph.op_outputs(op)[0]
    assert x is not None
    r, c, name = ctx.sym(op, "rows"), ctx.sym(op, "cols"), ctx.sym(op, "params")
    decls = (
        c_array(r, np.asarray(rows, np.int32), "int32_t"),
        c_array(c, np.asarray(cols, np.int32), "int32_t"),
        c_struct_init(name, "TkResizeParams", {
            "batches": x.shape[0], "in_h": x.shape[1], "in_w": x.shape[2], "depth": x.shape[3],
            "out_h": y.shape[1], "out_w": y.shape[2], "rows": r, "cols": c,
        }, f"{op.kind} {graph.layer_name(op)}"),
    )
    return Emitted(f"TK_TRY({fn}(&{name}, {ctx.ptr(x.index)}, {ctx.ptr(op.outputs[0])}));", decls)


def emit_nearest(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    y = ctx.graph.op_outputs(op)[0]
    assert x is not None
    align, half = _flags(op)
    rows = nearest_index(y.shape[1], x.shape[1], align, half)
    cols = nearest_index(y.shape[2], x.shape[2], align, half)
    return _emit(ctx, op, rows, cols, "tk_resize_nearest_s8")


def emit_bilinear(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    y = ctx.graph.op_outputs(op)[0]
    assert x is not None
    align, half = _flags(op)
    rows = [v for t in bilinear_table(y.shape[1], x.shape[1], align, half) for v in t]
    cols = [v for t in bilinear_table(y.shape[2], x.shape[2], align, half) for v in t]
    return _emit(ctx, op, rows, cols, "tk_resize_bilinear_s8")


SPECS = (
    OpSpec("RESIZE_NEAREST_NEIGHBOR", 3, emit_nearest, ("tk_resize_nearest_s8",), data_movement,
           tflm="AddResizeNearestNeighbor", tflm_version=4, check=check, code_bytes=256,
           tflm_code_bytes=1024),
    OpSpec("RESIZE_BILINEAR", 3, emit_bilinear, ("tk_resize_bilinear_s8",), per_output_element,
           tflm="AddResizeBilinear", tflm_version=4, check=check, code_bytes=512,
           tflm_code_bytes=2048),
)
