"""MAXIMUM and MINIMUM with broadcasting (C: kernels/tk_minmax.c, over the one
broadcast helper in kernels/tk_broadcast.c). TFLM compares the raw int8 values,
which is right only when both inputs and the output share one quantization (the
converter gives them one); other models are refused rather than run wrong."""

from __future__ import annotations

from tinykit.graph import Graph, Op
from tinykit.ops._common import (
    all_int8,
    binary_cost,
    broadcast_fields,
    check_broadcast,
    first,
    first_input_is_output_shape,
    params_call,
    qparams,
)
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _same_quant(graph: Graph, op: Op) -> str | None:
    tensors = [*graph.op_inputs(op)[:2], graph.op_outputs(op)[0]]
    params = {qparams(t) for t in tensors if t is not None}
    if len(params) > 1:
        return (f"{op.kind} needs both inputs and the output quantized alike "
                "(TFLM compares raw int8 values)")
    return None


check = first(all_int8, check_broadcast, _same_quant)


def inplace(graph: Graph, op: Op) -> bool:
    return first_input_is_output_shape(graph, op)


def _emitter(kernel: str):  # noqa: ANN202
    def emit(ctx: EmitContext, op: Op) -> Emitted:
        return params_call(ctx, op, "TkMinMaxParams", broadcast_fields(ctx.graph, op), kernel,
                           ctx.ptr(op.inputs[0]), ctx.ptr(op.inputs[1]), ctx.ptr(op.outputs[0]))

    return emit


SPECS = (
    OpSpec("MAXIMUM", 4, _emitter("tk_maximum_s8"), ("tk_maximum_s8",), binary_cost,
           tflm="AddMaximum", tflm_version=4, check=check, inplace=inplace, code_bytes=512),
    OpSpec("MINIMUM", 4, _emitter("tk_minimum_s8"), ("tk_minimum_s8",), binary_cost,
           tflm="AddMinimum", tflm_version=4, check=check, inplace=inplace, code_bytes=512),
)
