"""FULLY_CONNECTED (C: kernels/tk_fully_connected.c): int8 weights
``[out_depth][in_depth]`` (in the channel-pair layout of :func:`tinykit.ops.conv.pack_pairs`
where it applies), the input zero point folded into the bias."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import const_params, int8_io, out_elements, with_fused
from tinykit.ops.conv import pack_pairs, weighted
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    ins = graph.op_inputs(op)
    filt = ins[1]
    if filt is None or filt.dtype != "int8" or not filt.is_const or filt.quant is None:
        return "needs constant int8 weights"
    if any(z != 0 for z in filt.quant.zero_point):
        return "needs symmetric weights (zero point 0)"
    if op.options.get("weights_format", 0) not in (0, "DEFAULT"):
        return "needs the default weights format"
    if len(ins) > 2 and ins[2] is not None and (ins[2].dtype != "int32" or not ins[2].is_const):
        return "needs a constant int32 bias"
    return None


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    out_depth, in_depth = graph.tensor(op.inputs[1]).shape
    x = weighted(graph, op, out_depth)
    w = x.filt.array().astype(np.int64)
    names = {f: ctx.sym(op, f) for f in ("filter", "bias_folded", "mult", "shift", "params")}
    packed = pack_pairs(w)
    decls = [
        c_array(names["filter"], x.filt.array() if packed is None else packed, "int8_t", align=4),
        c_array(names["bias_folded"], x.bias - x.in_zp * w.sum(axis=1), "int32_t"),
        c_array(names["mult"], x.mults, "int32_t"),
        c_array(names["shift"], x.shifts, "int32_t"),
        c_struct_init(names["params"], "TkFullyConnectedParams", {
            "batches": x.inp.size // in_depth, "in_depth": in_depth, "out_depth": out_depth,
            "output_offset": x.out_zp, "act_min": x.act[0], "act_max": x.act[1],
            "filter": names["filter"],
            "bias_folded": names["bias_folded"], "mult": names["mult"], "shift": names["shift"],
            **({"packed": 1} if packed is not None else {}),
        }, f"{op.kind} {graph.layer_name(op)}"),
    ]
    call = (f"TK_TRY(tk_fully_connected_s8(&{names['params']}, {ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.outputs[0])}));")
    return Emitted(call, tuple(decls))


def cost(graph: Graph, op: Op) -> OpCost:
    # weights [units, in]: every output element is a dot product of length `in`
    depth = graph.tensor(op.inputs[1]).shape[-1]
    return OpCost(out_elements(graph, op) * depth, const_params(graph, op, (1, 2)))


SPECS = (
    OpSpec("FULLY_CONNECTED", 12, emit, ("tk_fully_connected_s8",), cost,
           tflm="AddFullyConnected", tflm_version=12, check=with_fused(check),
           code_bytes=2048, tflm_code_bytes=6 * 1024),
)
