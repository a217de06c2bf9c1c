"""AVERAGE_POOL_2D and MAX_POOL_2D (C: kernels/tk_pool.c); input and output
share their quantization."""

from __future__ import annotations

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op
from tinykit.ops._common import fused, int8_io, nhwc, out_elements, qparams, with_fused
from tinykit.ops.quant import activation_range, out_size, pad_before
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    if len(inp.shape) != 4:
        return "needs a 4-D NHWC input"
    if qparams(inp) != qparams(out):
        return "needs the same input and output quantization"
    o = op.options
    kh, kw = int(o.get("filter_height", 0)), int(o.get("filter_width", 0))
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    if min(kh, kw, sh, sw) < 1:
        return "needs filter sizes and strides of at least 1"
    padding = o.get("padding", "VALID")
    if len(out.shape) != 4 or (out_size(padding, inp.shape[1], kh, sh),
                               out_size(padding, inp.shape[2], kw, sw)) != out.shape[1:3]:
        return "output shape does not match the padding"
    return None


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    n, ih, iw, c = nhwc(inp)
    _, oh, ow, _ = nhwc(out)
    o = op.options
    kh, kw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    lo, hi = activation_range(fused(op), *qparams(out))
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkPoolParams", {
        "batches": n, "in_h": ih, "in_w": iw, "channels": c, "out_h": oh, "out_w": ow,
        "k_h": kh, "k_w": kw, "stride_h": sh, "stride_w": sw,
        "pad_h": pad_before(sh, 1, ih, kh, oh), "pad_w": pad_before(sw, 1, iw, kw, ow),
        "act_min": lo, "act_max": hi,
    }, f"{op.kind} {graph.layer_name(op)}")
    kernel = "tk_avg_pool_s8" if op.kind == "AVERAGE_POOL_2D" else "tk_max_pool_s8"
    call = f"TK_TRY({kernel}(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, (decl,))


def cost(graph: Graph, op: Op) -> OpCost:
    window = op.options.get("filter_height", 1) * op.options.get("filter_width", 1)
    return OpCost(out_elements(graph, op) * window, 0)


SPECS = (
    OpSpec("AVERAGE_POOL_2D", 3, emit, ("tk_avg_pool_s8",), cost, tflm="AddAveragePool2D",
           tflm_version=3, check=with_fused(check), tflm_code_bytes=4 * 1024),
    OpSpec("MAX_POOL_2D", 3, emit, ("tk_max_pool_s8",), cost, tflm="AddMaxPool2D",
           tflm_version=3, check=with_fused(check), tflm_code_bytes=4 * 1024),
)
