"""TRANSPOSE of an int8 tensor by a constant permutation (C: kernels/tk_strided_copy.c),
as TFLM's reference Transpose: a pure copy, so input and output must share one
quantization (the converter gives them one)."""

from __future__ import annotations

import numpy as np

from tinykit.graph import Graph, Op
from tinykit.ops._common import MAX_DIMS, data_int8, data_movement, first, params_call, qparams
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _perm(graph: Graph, op: Op) -> list[int] | None:
    x, perm = graph.op_inputs(op)[:2]
    if x is None or perm is None or not perm.is_const:
        return None
    p = [int(v) % max(len(x.shape), 1) for v in perm.array().reshape(-1)]
    return p if sorted(p) == list(range(len(x.shape))) else None


def _check(graph: Graph, op: Op) -> str | None:
    x = graph.op_inputs(op)[0]
    assert x is not None
    if len(x.shape) > MAX_DIMS:
        return f"TRANSPOSE of more than {MAX_DIMS} dimensions is not supported"
    if _perm(graph, op) is None:
        return "TRANSPOSE needs a constant permutation"
    if qparams(x) != qparams(graph.op_outputs(op)[0]):
        return "TRANSPOSE needs the input and output quantized alike"
    return None


check = first(data_int8, _check)


def transpose_params(shape: tuple[int, ...], perm: list[int]) -> dict[str, list[int]]:
    """Output dims and the input stride of each output dim, padded to MAX_DIMS.

    >>> transpose_params((2, 3, 4), [2, 0, 1])
    {'dims': [1, 1, 4, 2, 3], 'in_stride': [0, 0, 1, 12, 4]}
    """
    strides = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]
    pad = MAX_DIMS - len(shape)
    return {"dims": [1] * pad + [shape[p] for p in perm],
            "in_stride": [0] * pad + [strides[p] for p in perm]}


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    x = graph.op_inputs(op)[0]
    perm = _perm(graph, op)
    assert x is not None and perm is not None
    return params_call(ctx, op, "TkStridedCopyParams", transpose_params(x.shape, perm),
                       "tk_strided_copy_s8", ctx.ptr(x.index), ctx.ptr(op.outputs[0]))


SPECS = (
    OpSpec("TRANSPOSE", 6, emit, ("tk_strided_copy_s8",), data_movement, tflm="AddTranspose",
           tflm_version=6, check=check, code_bytes=512, tflm_code_bytes=2048),
)
