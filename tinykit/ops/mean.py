"""MEAN, SUM, REDUCE_MAX and REDUCE_MIN over constant axes (C: kernels/tk_mean.c for the 4-D
mean over H and W, kernels/tk_reduce.c for every other case), with TFLM's
QuantizedMeanOrSum arithmetic: the sum of (x - input zero point) requantized by
s_in / s_out, with the 1/count factor folded into the multiplier for MEAN.
REDUCE_MAX / REDUCE_MIN compare raw int8 values (TFLM requires one quantization). As TFLM,
at most 2 distinct axes of an input of at most 4 dimensions."""

from __future__ import annotations

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import MAX_DIMS, elements, int8_io, nhwc, qparams
from tinykit.ops.quant import quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec

MAX_AXES = 2  # TFLM's kMaxNumberOfReducedAxis
MAX_RANK = 4  # TFLM's kMaxNumberOfAxis


def _axes(graph: Graph, op: Op) -> set[int] | None:
    inp, axis = graph.op_inputs(op)[:2]
    if inp is None or axis is None or not axis.is_const:
        return None
    return {int(a) % max(len(inp.shape), 1) for a in axis.array().reshape(-1)}


def _hw_mean(graph: Graph, op: Op) -> bool:
    """The 4-D NHWC mean over H and W (kernels/tk_mean.c)."""
    inp = graph.op_inputs(op)[0]
    return op.kind == "MEAN" and inp is not None and len(inp.shape) == 4 and \
        _axes(graph, op) == {1, 2}


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    inp = graph.op_inputs(op)[0]
    assert inp is not None
    axes = _axes(graph, op)
    if axes is None:
        return f"{op.kind} needs constant axes"
    if not 1 <= len(inp.shape) <= MAX_RANK or len(axes) > MAX_AXES:
        return (f"{op.kind} reduces at most {MAX_AXES} axes of a tensor of at most {MAX_RANK} "
                "dimensions (as TFLM)")
    if op.kind in ("REDUCE_MAX", "REDUCE_MIN") and qparams(inp) != qparams(graph.op_outputs(op)[0]):
        return f"{op.kind} needs the input and output quantized alike (as TFLM)"
    return None


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """TFLM's QuantizedMeanOrSum multiplier with the 1/count factor folded in.

    >>> mean_multiplier(0.5, 0.5, 4)
    (1073741824, -1)
    """
    mult, shift = quantize_multiplier(in_scale / out_scale)
    s = min(count.bit_length() - 1, 32, 31 + shift)  # 63 - clz64(count), clamped
    return int((mult << s) // count), shift - s


def reduce_groups(shape: tuple[int, ...], axes: set[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(outer dims, outer strides, inner dims, inner strides): the shape collapsed
    into runs of kept and of reduced dims (size-1 dims dropped), padded with
    leading 1s (stride 0) to MAX_DIMS; strides in input elements.

    >>> reduce_groups((1, 5, 7, 3), {1, 2})
    ([1, 1, 1, 1, 3], [0, 0, 0, 0, 1], [1, 1, 1, 1, 35], [0, 0, 0, 0, 3])
    >>> reduce_groups((2, 4, 6), {0, 2})
    ([1, 1, 1, 1, 4], [0, 0, 0, 0, 6], [1, 1, 1, 2, 6], [0, 0, 0, 24, 1])
    """
    groups: list[list[int]] = []  # [reduced?, size, stride of its innermost dim]
    stride = 1
    for d in range(len(shape) - 1, -1, -1):
        size, red = shape[d], int(d in axes)
        if size != 1:
            if groups and groups[-1][0] == red and groups[-1][2] * groups[-1][1] == stride:
                groups[-1][1] *= size
            else:
                groups.append([red, size, stride])
        stride *= size
    groups.reverse()

    def pad(red: int) -> tuple[list[int], list[int]]:
        g = [(size, st) for r, size, st in groups if r == red]
        assert len(g) <= MAX_DIMS
        g = [(1, 0)] * (MAX_DIMS - len(g)) + g
        return [size for size, _ in g], [st for _, st in g]

    return (*pad(0), *pad(1))


def _count(inp: Tensor, axes: set[int]) -> int:
    n = 1
    for a in axes:
        n *= inp.shape[a]
    return n


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    in_scale, in_zp = qparams(inp)
    out_scale, out_zp = qparams(out)
    name = ctx.sym(op, "params")
    src, dst = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    note = f"{op.kind} {graph.layer_name(op)}"
    if _hw_mean(graph, op):  # the original H,W kernel, unchanged
        n, h, w, c = nhwc(inp)
        mult, shift = mean_multiplier(in_scale, out_scale, h * w)
        decl = c_struct_init(name, "TkMeanParams", {
            "batches": n, "h": h, "w": w, "channels": c, "input_zp": in_zp, "output_zp": out_zp,
            "mult": mult, "shift": shift,
        }, note)
        return Emitted(f"TK_TRY(tk_mean_hw_s8(&{name}, {src}, {dst}));", (decl,))
    axes = _axes(graph, op)
    assert axes is not None
    count = _count(inp, axes)
    if op.kind == "MEAN":
        mult, shift = mean_multiplier(in_scale, out_scale, count)
    else:
        mult, shift = quantize_multiplier(in_scale / out_scale)
    outer, outer_stride, inner, inner_stride = reduce_groups(inp.shape, axes)
    decl = c_struct_init(name, "TkReduceParams", {
        "outer": outer, "outer_stride": outer_stride, "inner": inner,
        "inner_stride": inner_stride, "count": count, "input_zp": in_zp, "output_zp": out_zp,
        "mult": mult, "shift": shift,
    }, note)
    kernel = {"REDUCE_MAX": "tk_reduce_max_s8", "REDUCE_MIN": "tk_reduce_min_s8"}.get(
        op.kind, "tk_reduce_sum_s8")
    return Emitted(f"TK_TRY({kernel}(&{name}, {src}, {dst}));", (decl,))


def cost(graph: Graph, op: Op) -> OpCost:
    return OpCost(elements(graph.tensor(op.inputs[0]).shape), 0)


SPECS = (
    OpSpec("MEAN", 3, emit, ("tk_mean_hw_s8", "tk_reduce_sum_s8"), cost, tflm="AddMean",
           tflm_version=3, check=check, code_bytes=3 * 1024, tflm_code_bytes=6 * 1024),
    OpSpec("SUM", 2, emit, ("tk_reduce_sum_s8",), cost, tflm="AddSum", tflm_version=2,
           check=check, code_bytes=1024, tflm_code_bytes=6 * 1024),
    OpSpec("REDUCE_MAX", 3, emit, ("tk_reduce_max_s8",), cost, tflm="AddReduceMax",
           tflm_version=3, check=check, code_bytes=1024, tflm_code_bytes=6 * 1024),
    OpSpec("REDUCE_MIN", 3, emit, ("tk_reduce_min_s8",), cost, tflm="AddReduceMin",
           tflm_version=3, check=check, code_bytes=1024, tflm_code_bytes=6 * 1024),
)
