"""MEAN over H and W of an NHWC tensor (C: kernels/tk_mean.c), with TFLM's
QuantizedMeanOrSum multiplier (the 1/count factor folded in)."""

from __future__ import annotations

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import elements, int8_io, nhwc, qparams
from tinykit.ops.quant import quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec


def _axes(graph: Graph, op: Op) -> set[int] | None:
    inp, axis = graph.op_inputs(op)[:2]
    if inp is None or axis is None or not axis.is_const:
        return None
    return {int(a) % len(inp.shape) for a in axis.array().reshape(-1)}


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    inp = graph.op_inputs(op)[0]
    assert inp is not None
    if len(inp.shape) != 4 or _axes(graph, op) != {1, 2}:
        return "only the mean over H and W of a 4-D NHWC tensor is supported"
    return None


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """TFLM's QuantizedMeanOrSum multiplier with the 1/count factor folded in.

    >>> mean_multiplier(0.5, 0.5, 4)
    (1073741824, -1)
    """
    mult, shift = quantize_multiplier(in_scale / out_scale)
    s = min(count.bit_length() - 1, 32, 31 + shift)  # 63 - clz64(count), clamped
    return int((mult << s) // count), shift - s


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    n, h, w, c = nhwc(inp)
    in_scale, in_zp = qparams(inp)
    out_scale, out_zp = qparams(out)
    mult, shift = mean_multiplier(in_scale, out_scale, h * w)
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkMeanParams", {
        "batches": n, "h": h, "w": w, "channels": c, "input_zp": in_zp, "output_zp": out_zp,
        "mult": mult, "shift": shift,
    }, f"{op.kind} {graph.layer_name(op)}")
    call = f"TK_TRY(tk_mean_hw_s8(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, (decl,))


def cost(graph: Graph, op: Op) -> OpCost:
    return OpCost(elements(graph.tensor(op.inputs[0]).shape), 0)


SPECS = (
    OpSpec("MEAN", 3, emit, ("tk_mean_hw_s8",), cost, tflm="AddMean", tflm_version=3,
           check=check, code_bytes=3 * 1024, tflm_code_bytes=6 * 1024),
)
