"""The data-movement ops of issue 10 item 3: SPLIT, SPLIT_V, UNPACK and TILE
through the one strided copy (C: kernels/tk_strided_copy.c), PACK through its
mirror, the strided store (same file), EXPAND_DIMS as a no-copy alias (as
RESHAPE). Every output of a multi-output op (SPLIT, SPLIT_V, UNPACK)
is its own arena buffer with its own lifetime, written by its own copy.

TFLM's reference Split, SplitV, Pack and Unpack copy raw int8 bytes; TFLite's
kernels also require one quantization for inputs and outputs, and the converter
always gives it: a model with differing quantization is refused (the raw copy
would be wrong). Axes and split sizes must be constant (TFLM refuses a
non-constant axis: no dynamic shapes). TFLM has no TILE kernel at all (Keras 3
lowers UpSampling2D to RESHAPE + TILE): for a model with TILE the reference is
TFLite's interpreter (:mod:`tinykit.reference`).

Every walk is computed at generation time and collapsed to at most
``MAX_DIMS`` dimensions (adjacent dims that are contiguous in the input merge);
a TILE whose walk needs more is refused.
"""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops import reshape
from tinykit.ops._common import MAX_DIMS, data_movement, per_tensor_int8, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec, always

# (dims, input strides, input offset) of one strided copy, outermost dim first
Walk = tuple[list[int], list[int], int]


def _prod(shape: tuple[int, ...] | list[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def collapse(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """The same walk in fewest dims: drop dims of size 1, merge a dim into the
    next inner one when stepping it equals walking the inner one to its end.

    >>> collapse([1, 4, 2, 5, 3], [0, 15, 0, 3, 1])
    ([4, 2, 15], [15, 0, 1])
    >>> collapse([2, 3, 4], [12, 4, 1])
    ([24], [1])
    >>> collapse([1, 1], [0, 0])
    ([1], [1])
    """
    out_d: list[int] = []
    out_s: list[int] = []
    for d, s in zip(dims, strides, strict=True):
        if d == 1:
            continue
        if out_d and out_s[-1] == s * d:
            out_d[-1] *= d
            out_s[-1] = s
        else:
            out_d.append(d)
            out_s.append(s)
    return (out_d, out_s) if out_d else ([1], [1])


def padded_walk(walk: Walk) -> dict[str, list[int]]:
    """TkStridedCopyParams fields of a walk (leading 1s up to MAX_DIMS)."""
    dims, strides, _ = walk
    dims, strides = collapse(dims, strides)
    pad = MAX_DIMS - len(dims)
    return {"dims": [1] * pad + dims, "in_stride": [0] * pad + strides}


def _axis(value: int, rank: int) -> int:
    return value + rank if value < 0 else value


def _const_ints(t: Tensor | None) -> list[int] | None:
    if t is None or not t.is_const or t.dtype not in ("int32", "int64"):
        return None
    return [int(v) for v in t.array().reshape(-1)]


# --- SPLIT, SPLIT_V, UNPACK: one strided copy per output -----------------------------


def _split_source(graph: Graph, op: Op) -> tuple[Tensor | None, list[int] | None]:
    """The data input and the constant axis (as a list) of a split-like op."""
    ins = graph.op_inputs(op)
    if op.kind == "SPLIT":
        return ins[1] if len(ins) > 1 else None, _const_ints(ins[0])
    if op.kind == "SPLIT_V":
        return ins[0], _const_ints(ins[2]) if len(ins) > 2 else None
    return ins[0], [int(op.options.get("axis", 0))]  # UNPACK


def split_walks(in_shape: tuple[int, ...], axis: int, sizes: list[int]) -> list[Walk]:
    """One walk per output of a split of ``in_shape`` along ``axis`` into ``sizes``
    (UNPACK: sizes of 1): the input viewed as [outer][axis][inner], output i reads
    the ``sizes[i]`` planes after the previous outputs'.

    >>> split_walks((2, 6, 3), 1, [2, 4])
    [([2, 6], [18, 1], 0), ([2, 12], [18, 1], 6)]
    """
    outer, inner = _prod(in_shape[:axis]), _prod(in_shape[axis + 1:])
    walks, start = [], 0
    for size in sizes:
        walks.append(([outer, size * inner], [in_shape[axis] * inner, 1], start * inner))
        start += size
    return walks


def _split_plan(graph: Graph, op: Op) -> tuple[int, list[int]] | str:
    """(axis, size along the axis per output) or the reason the op is refused."""
    x, axis_v = _split_source(graph, op)
    if x is None:
        return f"{op.kind} has no data input"
    if axis_v is None or len(axis_v) != 1:
        return f"{op.kind} needs a constant scalar axis"
    rank = len(x.shape)
    axis = _axis(axis_v[0], rank)
    if not 0 <= axis < rank:
        return f"{op.kind} axis {axis_v[0]} is out of range for rank {rank}"
    outs = graph.op_outputs(op)
    if op.kind == "UNPACK":
        want = (*x.shape[:axis], *x.shape[axis + 1:])
        if len(outs) != x.shape[axis] or any(tuple(y.shape) != want for y in outs):
            return f"UNPACK outputs do not match {x.shape[axis]} slices of shape {want}"
        return axis, [1] * len(outs)
    if op.kind == "SPLIT_V":
        sizes_v = _const_ints(graph.op_inputs(op)[1])
        if sizes_v is None:
            return "SPLIT_V needs constant split sizes"
        if len(sizes_v) != len(outs):
            return f"SPLIT_V has {len(sizes_v)} split sizes for {len(outs)} outputs"
        if -1 in sizes_v:  # one size inferred from the others
            sizes_v[sizes_v.index(-1)] = x.shape[axis] - (sum(sizes_v) + 1)
        if any(y.shape[axis:axis + 1] != (n,) for y, n in zip(outs, sizes_v, strict=True)):
            return f"SPLIT_V sizes {sizes_v} do not match its outputs"
    sizes = []
    for y in outs:
        if len(y.shape) != rank or any(y.shape[d] != x.shape[d] for d in range(rank) if d != axis):
            return f"{op.kind} output shape {y.shape} does not match input {x.shape} on axis {axis}"
        sizes.append(y.shape[axis])
    if sum(sizes) != x.shape[axis]:
        return f"{op.kind} outputs cover {sum(sizes)} of the {x.shape[axis]} planes on axis {axis}"
    return axis, sizes


def _same_quant(x: Tensor, others: list[Tensor], kind: str) -> str | None:
    for t in [x, *others]:
        if (why := per_tensor_int8(t)) is not None:
            return why
    if any(qparams(t) != qparams(x) for t in others):
        return f"{kind} needs all inputs and outputs quantized alike (TFLM copies raw bytes)"
    return None


def check_split(graph: Graph, op: Op) -> str | None:
    x, _ = _split_source(graph, op)
    if x is None:
        return f"{op.kind} has no data input"
    if (why := _same_quant(x, graph.op_outputs(op), op.kind)) is not None:
        return why
    if x.is_const:
        return f"{op.kind} needs an activation input"
    plan = _split_plan(graph, op)
    return plan if isinstance(plan, str) else None


def _strided_calls(ctx: EmitContext, op: Op, src: int, walks: list[tuple[Walk, int]]) -> Emitted:
    """One tk_strided_copy_s8 per (walk, output tensor); outputs with the same walk (all
    of UNPACK's, SPLIT's) share one params struct, only the input offset differs."""
    decls, calls = [], []
    names: dict[str, str] = {}
    for i, (walk, out) in enumerate(walks):
        fields = padded_walk(walk)
        name = names.get(key := repr(fields), "")
        if not name:
            name = names[key] = ctx.sym(op, f"params{len(names)}")
            decls.append(c_struct_init(name, "TkStridedCopyParams", fields,
                                       f"{op.kind} {ctx.graph.layer_name(op)} from output {i}"))
        base = f"({ctx.ptr(src)} + {walk[2]})" if walk[2] else ctx.ptr(src)
        calls.append(f"TK_TRY(tk_strided_copy_s8(&{name}, {base}, {ctx.ptr(out)}));")
    return Emitted("\n  ".join(calls), tuple(decls))


def emit_split(ctx: EmitContext, op: Op) -> Emitted:
    x, _ = _split_source(ctx.graph, op)
    plan = _split_plan(ctx.graph, op)
    assert x is not None and not isinstance(plan, str), plan
    axis, sizes = plan
    walks = split_walks(x.shape, axis, sizes)
    return _strided_calls(ctx, op, x.index, list(zip(walks, op.outputs, strict=True)))


# --- TILE: one strided copy with stride-0 repeat dims ---------------------------------


def tile_walk(in_shape: tuple[int, ...], multiples: list[int]) -> Walk:
    """The walk of TILE: per axis a repeat dim (stride 0) outside the axis itself.

    >>> collapse(*tile_walk((1, 4, 1, 5, 3), [1, 1, 2, 1, 1])[:2])
    ([4, 2, 15], [15, 0, 1])
    >>> collapse(*tile_walk((2, 3), [2, 2])[:2])
    ([2, 2, 2, 3], [0, 3, 0, 1])
    """
    dims, strides = [], []
    for d, (n, m) in enumerate(zip(in_shape, multiples, strict=True)):
        step = _prod(in_shape[d + 1:])
        dims += [m, n]
        strides += [0, step]
    return dims, strides, 0


def _multiples(graph: Graph, op: Op) -> list[int] | None:
    return _const_ints(graph.op_inputs(op)[1])


def check_tile(graph: Graph, op: Op) -> str | None:
    x, y = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert x is not None
    if (why := _same_quant(x, [y], "TILE")) is not None:
        return why
    if x.is_const:
        return "TILE needs an activation input"
    m = _multiples(graph, op)
    if m is None or len(m) != len(x.shape) or any(v < 1 for v in m):
        return "TILE needs constant positive multiples, one per input dimension"
    want = tuple(n * v for n, v in zip(x.shape, m, strict=True))
    if tuple(y.shape) != want:
        return f"TILE output shape {y.shape} is not {want}"
    dims, _ = collapse(*tile_walk(x.shape, m)[:2])
    if len(dims) > MAX_DIMS:
        return (f"TILE needs a {len(dims)}-dimensional walk; the AOT runtime walks at most "
                f"{MAX_DIMS}")
    return None


def emit_tile(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    m = _multiples(ctx.graph, op)
    assert x is not None and m is not None
    return _strided_calls(ctx, op, x.index, [(tile_walk(x.shape, m), op.outputs[0])])


# --- PACK: the concatenation copy of [outer][inner] views -----------------------------


def _pack_axis(op: Op, out_rank: int) -> int:
    return _axis(int(op.options.get("axis", 0)), out_rank)


def check_pack(graph: Graph, op: Op) -> str | None:
    ins = graph.op_inputs(op)
    y = graph.op_outputs(op)[0]
    if any(t is None for t in ins) or not ins:
        return "PACK has a missing input"
    x = ins[0]
    assert x is not None
    if (why := _same_quant(x, [t for t in [*ins[1:], y] if t is not None], "PACK")) is not None:
        return why
    axis = _pack_axis(op, len(y.shape))
    if not 0 <= axis < len(y.shape):
        return f"PACK axis {op.options.get('axis')} is out of range"
    want = (*x.shape[:axis], len(ins), *x.shape[axis:])
    if any(t is not None and t.shape != x.shape for t in ins) or tuple(y.shape) != want:
        return f"PACK of {len(ins)} inputs of shape {x.shape} does not give {y.shape}"
    return None


def pack_walk(in_shape: tuple[int, ...], axis: int, n: int) -> tuple[list[int], list[int]]:
    """(dims, output strides) of one input of a PACK of ``n`` inputs on ``axis``: the
    input viewed as [outer][inner] lands at every n-th block of ``inner`` bytes.

    >>> pack_walk((1, 4), 1, 3)
    ([1, 4], [12, 1])
    >>> pack_walk((2, 3), 2, 4)
    ([6, 1], [4, 1])
    """
    inner = _prod(in_shape[axis:])
    return [_prod(in_shape[:axis]), inner], [n * inner, 1]


def emit_pack(ctx: EmitContext, op: Op) -> Emitted:
    ins = [t for t in ctx.graph.op_inputs(op) if t is not None]
    y = ctx.graph.op_outputs(op)[0]
    axis = _pack_axis(op, len(y.shape))
    dims, strides = collapse(*pack_walk(ins[0].shape, axis, len(ins)))
    pad = MAX_DIMS - len(dims)
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkStridedStoreParams", {
        "dims": [1] * pad + dims, "out_stride": [0] * pad + strides}, f"PACK {ctx.graph.layer_name(op)}")
    inner = _prod(ins[0].shape[axis:])
    calls = [f"TK_TRY(tk_strided_store_s8(&{name}, {ctx.ptr(t.index)}, "
             + (f"({ctx.ptr(y.index)} + {i * inner})" if i else ctx.ptr(y.index)) + "));"
             for i, t in enumerate(ins)]
    return Emitted("\n  ".join(calls), (decl,))


# --- EXPAND_DIMS: no copy ---------------------------------------------------------------


SPECS = (
    OpSpec("SPLIT", 4, emit_split, ("tk_strided_copy_s8",), data_movement, tflm="AddSplit",
           tflm_version=4, check=check_split, code_bytes=256, tflm_code_bytes=1024),
    OpSpec("SPLIT_V", 2, emit_split, ("tk_strided_copy_s8",), data_movement, tflm="AddSplitV",
           tflm_version=2, check=check_split, code_bytes=256, tflm_code_bytes=1024),
    OpSpec("UNPACK", 4, emit_split, ("tk_strided_copy_s8",), data_movement, tflm="AddUnpack",
           tflm_version=4, check=check_split, code_bytes=256, tflm_code_bytes=1024),
    OpSpec("PACK", 3, emit_pack, ("tk_strided_store_s8",), data_movement, tflm="AddPack",
           tflm_version=3, check=check_pack, code_bytes=256, tflm_code_bytes=1024),
    # TFLM has no TILE kernel: no resolver method, version 0 (not a TFLM op).
    OpSpec("TILE", 3, emit_tile, ("tk_strided_copy_s8",), data_movement, tflm="",
           tflm_version=0, check=check_tile, code_bytes=256, tflm_code_bytes=0),
    OpSpec("EXPAND_DIMS", 1, reshape.emit, (), data_movement, tflm="AddExpandDims",
           tflm_version=1, check=reshape.check, inplace=always, alias=True,
           code_bytes=0, tflm_code_bytes=1024),
)
