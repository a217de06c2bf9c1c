"""BATCH_MATMUL int8 (C: kernels/tk_batch_matmul.c), as TFLM's EvalInt8 over
reference_ops::BatchMatMul: per-tensor quantization, both zero points, one output
multiplier ``float32(s_lhs * s_rhs) / s_out`` (TFLM's GetQuantizedConvolutionMultipler
without bias), the int8 range (no fused activation), adj_x / adj_y, batch
dimensions broadcast (ranks 2 to 5). Either operand may be an activation or a
constant; a constant operand the kernel would walk across its depth (rhs without
adj_y, lhs with adj_x) is transposed here, once, so the kernel reads it along
the depth."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import all_int8, const_params, first, out_elements, qparams
from tinykit.ops.quant import quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec

_f32 = np.float32


def _adj(op: Op) -> tuple[bool, bool]:
    return bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))


def extended(shape: tuple[int, ...], rank: int = 5) -> list[int]:
    """
    >>> extended((2, 3)), extended((4, 2, 3), 4)
    ([1, 1, 1, 2, 3], [1, 4, 2, 3])
    """
    return [1] * (rank - len(shape)) + list(shape)


def batch_extents(shape: list[int]) -> list[int]:
    """TFLM's per-batch-dim element strides of a 5-D shape: 0 where the dim is 1.

    >>> batch_extents([1, 2, 3, 4, 5]), batch_extents([2, 1, 3, 4, 5])
    ([0, 60, 20], [60, 0, 20])
    """
    out = []
    for d in range(3):
        out.append(0 if shape[d] == 1 else int(np.prod(shape[d + 1:], dtype=np.int64)))
    return out


def matmul_multiplier(s_lhs: float, s_rhs: float, s_out: float) -> tuple[int, int]:
    """TFLM's Prepare: the scale product in float32, divided in double.

    >>> matmul_multiplier(0.5, 0.5, 0.5)
    (1073741824, 0)
    """
    return quantize_multiplier(float(_f32(s_lhs) * _f32(s_rhs)) / float(_f32(s_out)))


def geometry(graph: Graph, op: Op) -> dict[str, object] | str:
    """Shapes and steps of the kernel (TkBatchMatMulParams), or why TFLM would refuse."""
    lhs, rhs = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert lhs is not None and rhs is not None
    if not (2 <= len(lhs.shape) <= 5 and 2 <= len(rhs.shape) <= 5):
        return "BATCH_MATMUL operands need 2 to 5 dimensions (as TFLM)"
    adj_x, adj_y = _adj(op)
    rank = max(len(lhs.shape), len(rhs.shape))
    el, er = extended(lhs.shape, rank), extended(rhs.shape, rank)
    for a, b in zip(el[:-2], er[:-2], strict=True):
        if a != b and 1 not in (a, b):
            return f"BATCH_MATMUL batch dimensions {lhs.shape} and {rhs.shape} do not broadcast"
    rows, depth = (el[-1], el[-2]) if adj_x else (el[-2], el[-1])
    rdepth, cols = (er[-1], er[-2]) if adj_y else (er[-2], er[-1])
    if depth != rdepth:
        return f"BATCH_MATMUL depths differ ({depth} and {rdepth})"
    batch = [max(a, b) for a, b in zip(el[:-2], er[:-2], strict=True)]
    if list(out.shape) != [*batch, rows, cols]:
        return f"BATCH_MATMUL output shape {out.shape} is not {(*batch, rows, cols)}"
    if min(rows, cols, depth) < 1:
        return "BATCH_MATMUL needs non-empty matrices"
    e5l, e5r = extended(lhs.shape), extended(rhs.shape)
    return {"batch": extended(tuple(batch), 3), "lhs_batch_stride": batch_extents(e5l),
            "rhs_batch_stride": batch_extents(e5r), "rows": rows, "cols": cols, "depth": depth,
            "adj_x": adj_x, "adj_y": adj_y}


def _check_shapes(graph: Graph, op: Op) -> str | None:
    g = geometry(graph, op)
    return g if isinstance(g, str) else None


check = first(all_int8, _check_shapes)


def _swap_last(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(np.swapaxes(t.array().astype(np.int8), -1, -2))


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    lhs, rhs = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert lhs is not None and rhs is not None
    g = geometry(graph, op)
    assert isinstance(g, dict)
    adj_x, adj_y = bool(g.pop("adj_x")), bool(g.pop("adj_y"))
    decls: list[str] = []
    # a constant read across its depth is stored transposed (last two dims swapped)
    if lhs.is_const and adj_x:
        lptr, adj_x = ctx.sym(op, "lhs_t"), False
        decls.append(c_array(lptr, _swap_last(lhs), "int8_t", align=4))
    else:
        lptr = ctx.ptr(lhs.index)
    if rhs.is_const and not adj_y:
        rptr, adj_y = ctx.sym(op, "rhs_t"), True
        decls.append(c_array(rptr, _swap_last(rhs), "int8_t", align=4))
    else:
        rptr = ctx.ptr(rhs.index)
    rows, cols, depth = int(g["rows"]), int(g["cols"]), int(g["depth"])  # type: ignore[call-overload]
    (sl, zl), (sr, zr), (so, zo) = qparams(lhs), qparams(rhs), qparams(out)
    mult, shift = matmul_multiplier(sl, sr, so)
    name = ctx.sym(op, "params")
    g.update({
        "lhs_row_step": 1 if adj_x else depth, "lhs_depth_step": rows if adj_x else 1,
        "rhs_col_step": depth if adj_y else 1, "rhs_depth_step": 1 if adj_y else cols,
        "lhs_offset": -zl, "rhs_offset": -zr, "output_offset": zo,
        "output_mult": mult, "output_shift": shift,
    })
    decls.append(c_struct_init(name, "TkBatchMatMulParams", g, f"{op.kind} {graph.layer_name(op)}"))
    call = f"TK_TRY(tk_batch_matmul_s8(&{name}, {lptr}, {rptr}, {ctx.ptr(out.index)}));"
    return Emitted(call, tuple(decls))


def cost(graph: Graph, op: Op) -> OpCost:
    """One MAC per output element and depth step; constant operands are params."""
    lhs = graph.tensor(op.inputs[0])
    depth = lhs.shape[-2] if _adj(op)[0] else lhs.shape[-1]
    return OpCost(out_elements(graph, op) * max(depth, 1), const_params(graph, op, (0, 1)))


SPECS = (
    OpSpec("BATCH_MATMUL", 4, emit, ("tk_batch_matmul_s8",), cost, tflm="AddBatchMatMul",
           tflm_version=4, check=check, code_bytes=1536, tflm_code_bytes=6 * 1024),
)
