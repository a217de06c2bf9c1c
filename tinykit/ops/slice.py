"""SLICE and STRIDED_SLICE of an int8 tensor with constant bounds (C: the strided
copy of kernels/tk_strided_copy.c, as TRANSPOSE), as TFLM's reference Slice and
StridedSlice: start and stop per axis with TFLM's StartForAxis / StopForAxis
(begin and end masks, negative indices, clamping, shrink_axis_mask); the walk is
checked against the output tensor's shape at generation time. Ellipsis and
new-axis masks and ``offset`` are refused."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import MAX_DIMS, data_int8, data_movement, first, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

BIG = 1 << 40  # numeric_limits lowest()/max() stand-ins: clamped away below


def _const(t: Tensor | None) -> list[int] | None:
    if t is None or not t.is_const:
        return None
    return [int(v) for v in t.array().reshape(-1)]


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def strided_walk(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                 begin_mask: int = 0, end_mask: int = 0, shrink_mask: int = 0
                 ) -> tuple[list[int], list[int], list[int]]:
    """(start, count, step) per axis, as TFLM's StartForAxis / StopForAxis.

    >>> strided_walk((4, 6), [1, -1], [3, 0], [1, -2])
    ([1, 5], [2, 3], [1, -2])
    >>> strided_walk((4, 6), [0, 2], [0, 0], [1, 1], begin_mask=1, end_mask=3, shrink_mask=0)
    ([0, 2], [4, 4], [1, 1])
    >>> strided_walk((4, 6), [-1, 0], [0, 6], [1, 1], shrink_mask=1)
    ([3, 0], [1, 6], [1, 1])
    """
    starts, counts = [], []
    for axis, size in enumerate(shape):
        step = strides[axis]
        start = begin[axis]
        if begin_mask & (1 << axis):
            start = -BIG if step > 0 else BIG
        if start < 0:
            start += size
        start = _clamp(start, 0, size) if step > 0 else _clamp(start, -1, size - 1)
        if shrink_mask & (1 << axis):
            stop = start + 1
        else:
            stop = end[axis]
            if end_mask & (1 << axis):
                stop = BIG if step > 0 else -BIG
            if stop < 0:
                stop += size
            stop = _clamp(stop, 0, size) if step > 0 else _clamp(stop, -1, size - 1)
        span = stop - start if step > 0 else start - stop
        starts.append(start)
        counts.append(max(0, -(-span // abs(step))))
    return starts, counts, list(strides)


def _walk(graph: Graph, op: Op) -> tuple[list[int], list[int], list[int]] | None:
    """(start, count, step) per axis of the op, or None when it cannot be read."""
    ins = graph.op_inputs(op)
    x = ins[0]
    if x is None:
        return None
    rank = len(x.shape)
    if op.kind == "SLICE":
        begin, size = _const(ins[1]), _const(ins[2])
        if begin is None or size is None or len(begin) != rank or len(size) != rank:
            return None
        counts = [x.shape[d] - begin[d] if size[d] == -1 else size[d] for d in range(rank)]
        return begin, counts, [1] * rank
    begin, end, strides = _const(ins[1]), _const(ins[2]), _const(ins[3])
    if begin is None or end is None or strides is None or \
            not len(begin) == len(end) == len(strides) == rank or 0 in strides:
        return None
    o = op.options
    return strided_walk(x.shape, begin, end, strides, int(o.get("begin_mask", 0)),
                        int(o.get("end_mask", 0)), int(o.get("shrink_axis_mask", 0)))


def _check(graph: Graph, op: Op) -> str | None:
    x, y = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert x is not None
    if x.is_const:
        return f"{op.kind} needs an activation input"
    if len(x.shape) > MAX_DIMS:
        return f"{op.kind} of more than {MAX_DIMS} dimensions is not supported"
    o = op.options
    if int(o.get("ellipsis_mask", 0)) or int(o.get("new_axis_mask", 0)) or o.get("offset"):
        return f"{op.kind} with an ellipsis or new-axis mask or offset is not supported"
    shrink = int(o.get("shrink_axis_mask", 0))
    strides = _const(graph.op_inputs(op)[3]) if op.kind == "STRIDED_SLICE" else None
    if shrink and strides and any(shrink & (1 << d) and st < 0 for d, st in enumerate(strides)):
        return "STRIDED_SLICE shrinking an axis with a negative stride is not supported"
    if qparams(x) != qparams(y):
        return f"{op.kind} needs the input and output quantized alike"
    walk = _walk(graph, op)
    if walk is None:
        return f"{op.kind} needs constant bounds of the input's rank"
    starts, counts, _ = walk
    kept = [c for d, c in enumerate(counts) if not shrink & (1 << d)]
    if tuple(kept) != tuple(y.shape) or any(
            c > 0 and not 0 <= s < x.shape[d] for d, (s, c) in enumerate(zip(starts, counts, strict=True))):
        return f"{op.kind} bounds do not give the output shape {y.shape}"
    return None


check = first(data_int8, _check)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    x = graph.op_inputs(op)[0]
    walk = _walk(graph, op)
    assert x is not None and walk is not None
    starts, counts, steps = walk
    in_strides = [int(np.prod(x.shape[d + 1:], dtype=np.int64)) for d in range(len(x.shape))]
    base = sum(s * st for s, st in zip(starts, in_strides, strict=True))
    pad = MAX_DIMS - len(counts)
    fields = {"dims": [1] * pad + counts,
              "in_stride": [0] * pad + [st * step for st, step in zip(in_strides, steps, strict=True)]}
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkStridedCopyParams", fields, f"{op.kind} {graph.layer_name(op)}")
    src = f"({ctx.ptr(x.index)} + {base})" if base else ctx.ptr(x.index)
    return Emitted(f"TK_TRY(tk_strided_copy_s8(&{name}, {src}, {ctx.ptr(op.outputs[0])}));", (decl,))


SPECS = (
    OpSpec("SLICE", 5, emit, ("tk_strided_copy_s8",), data_movement, tflm="AddSlice",
           tflm_version=5, check=check, code_bytes=512, tflm_code_bytes=2048),
    OpSpec("STRIDED_SLICE", 6, emit, ("tk_strided_copy_s8",), data_movement,
           tflm="AddStridedSlice", tflm_version=6, check=check, code_bytes=512,
           tflm_code_bytes=3 * 1024),
)
