"""TRANSPOSE_CONV (Keras Conv2DTranspose; C: kernels/tk_transpose_conv.c), bit-exact with
TFLM's reference_integer_ops::TransposeConv, in gather form.

TFLM scatters every input pixel times the filter into an int32 buffer of the
output's size (4 bytes per output element of arena), then adds the bias and
requantizes. tinykit computes each output pixel on its own instead: output row
``oy`` is reached by the filter rows ``ky`` with ``ky = (oy + pad_h) mod stride_h``
(its *phase*) plus multiples of the stride, from the input rows ``(oy + pad_h - ky) /
stride_h``, consecutive ones. So every output pixel is a dot product of a
``taps_h x taps_w x in_c`` input window (consecutive input pixels) with the
filter taps of its phase. The filter is re-laid out here, once, phase by phase,
each phase's taps in the order of its window (reversed: the highest tap meets
the lowest input row), so the kernel walks it contiguously with the SMLAD dot
products of the conv; window positions outside the input read the input zero
point, which the folded per-phase bias (``bias - in_zp * sum(phase taps)``)
cancels exactly. No int32 scratch, every integer sum exact: the same int32
accumulator as TFLM, whatever the order.
"""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import const_params, fused, nhwc, qparams, with_fused
from tinykit.ops.conv import channel_multipliers
from tinykit.ops.quant import activation_range, out_size, pad_before
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec

# inputs: output shape (const int32), filter [out_c, k_h, k_w, in_c], input, bias (optional)
SHAPE, FILTER, INPUT, BIAS = 0, 1, 2, 3


def _bias(graph: Graph, op: Op) -> Tensor | None:
    ins = graph.op_inputs(op)
    return ins[BIAS] if len(ins) > BIAS else None


def check(graph: Graph, op: Op) -> str | None:
    ins = graph.op_inputs(op)
    inp, filt = (ins[INPUT], ins[FILTER]) if len(ins) > INPUT else (None, None)
    if inp is None or filt is None:
        return "needs an output shape, a filter and an input"
    out = graph.op_outputs(op)[0]
    for t in (inp, out):
        if t.dtype != "int8" or t.quant is None:
            return f"needs quantized int8 tensors (got {t.dtype})"
    if filt.dtype != "int8" or not filt.is_const or filt.quant is None:
        return "needs constant int8 weights"
    if any(z != 0 for z in filt.quant.zero_point):
        return "needs symmetric weights (zero point 0)"
    bias = _bias(graph, op)
    if bias is not None and (bias.dtype != "int32" or not bias.is_const):
        return "needs a constant int32 bias"
    shape = ins[SHAPE]
    if shape is not None and shape.is_const and tuple(int(v) for v in shape.array().reshape(-1)) != out.shape:
        return "the output-shape input does not match the output tensor"
    if len(inp.shape) != 4 or len(filt.shape) != 4 or len(out.shape) != 4:
        return "needs a 4-D NHWC input and output and a 4-D filter"
    try:
        geometry(graph, op)
    except ValueError as exc:
        return str(exc)
    return None


def geometry(graph: Graph, op: Op) -> dict[str, int]:
    """Shapes, strides and leading padding: the TkTransposeConvParams geometry. The
    padding is TFLM's: that of a conv from the output's size back to the input's.

    >>> from tinykit.graph import Tensor
    >>> ts = (Tensor(0, "s", (4,), "int32", None), Tensor(1, "w", (5, 3, 3, 2), "int8", None),
    ...       Tensor(2, "x", (1, 4, 5, 2), "int8", None), Tensor(3, "y", (1, 8, 10, 5), "int8", None))
    >>> g = Graph("g", ts, (), (2,), (3,), 0)
    >>> o = Op(0, "TRANSPOSE_CONV", 4, (0, 1, 2), (3,), {"padding": "SAME", "stride_h": 2, "stride_w": 2})
    >>> geo = geometry(g, o)
    >>> geo["pad_h"], geo["pad_w"], geo["k_h"], geo["out_c"]
    (0, 0, 3, 5)
    """
    ins = graph.op_inputs(op)
    inp, filt = ins[INPUT], ins[FILTER]
    assert inp is not None and filt is not None
    n, ih, iw, ic = nhwc(inp)
    on, oh, ow, oc = nhwc(graph.op_outputs(op)[0])
    foc, kh, kw, fic = filt.shape
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    padding = str(o.get("padding", "VALID"))
    if min(sh, sw, kh, kw, ih, iw, oh, ow, ic, oc) < 1:
        raise ValueError("needs strides, kernel sizes and dimensions of at least 1")
    if (foc, fic, on) != (oc, ic, n):
        raise ValueError("filter, input and output channels or batches do not match")
    pad_h = pad_before(sh, 1, oh, kh, out_size(padding, oh, kh, sh))
    pad_w = pad_before(sw, 1, ow, kw, out_size(padding, ow, kw, sw))
    return {"batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow,
            "out_c": oc, "k_h": kh, "k_w": kw, "stride_h": sh, "stride_w": sw,
            "pad_h": pad_h, "pad_w": pad_w}


def phase_taps(k: int, stride: int) -> list[int]:
    """Taps of each phase p < stride: the filter positions p, p + stride, ... < k.

    >>> phase_taps(3, 2), phase_taps(2, 3), phase_taps(5, 1)
    ([2, 1], [1, 1, 0], [5])
    """
    return [max(0, (k - p + stride - 1) // stride) for p in range(stride)]


def phase_filter(w: np.ndarray, stride_h: int, stride_w: int) -> tuple[np.ndarray, list[int]]:
    """The filter [out_c, k_h, k_w, in_c] re-laid out phase by phase (py, px) in
    raster order, each phase [out_c][taps_h][taps_w][in_c] with its taps reversed
    (window row j meets filter row py + (taps_h - 1 - j) * stride_h); and the
    offset of each phase in the flat result.

    >>> w = np.arange(6).reshape(1, 3, 2, 1)
    >>> flat, offsets = phase_filter(w, 2, 1)
    >>> flat.tolist(), offsets
    ([5, 4, 1, 0, 3, 2], [0, 4])
    """
    blocks, offsets, at = [], [], 0
    for py in range(stride_h):
        for px in range(stride_w):
            block = w[:, py::stride_h, px::stride_w, :][:, ::-1, ::-1, :]
            offsets.append(at)
            at += block.size
            blocks.append(block.reshape(-1))
    return np.concatenate(blocks), offsets


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    g = geometry(graph, op)
    ins = graph.op_inputs(op)
    inp, filt = ins[INPUT], ins[FILTER]
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    oc, sh, sw = g["out_c"], g["stride_h"], g["stride_w"]
    bias_t = _bias(graph, op)
    bias = (bias_t.array().astype(np.int64).reshape(-1) if bias_t is not None
            else np.zeros(oc, dtype=np.int64))
    in_zp, (out_scale, out_zp) = qparams(inp)[1], qparams(out)
    mults, shifts = channel_multipliers(inp, filt, out, oc)
    act = activation_range(fused(op), out_scale, out_zp)
    w = filt.array()
    flat, offsets = phase_filter(w, sh, sw)
    folded = []
    for py in range(sh):
        for px in range(sw):
            taps = w[:, py::sh, px::sw, :].astype(np.int64)
            folded.append(bias - in_zp * taps.reshape(oc, -1).sum(axis=1))
    names = {f: ctx.sym(op, f) for f in ("filter", "filter_offset", "taps_h", "taps_w",
                                         "bias_folded", "mult", "shift", "params")}
    decls = [
        c_array(names["filter"], flat, "int8_t", align=4),
        c_array(names["filter_offset"], offsets, "int32_t"),
        c_array(names["taps_h"], phase_taps(g["k_h"], sh), "int32_t"),
        c_array(names["taps_w"], phase_taps(g["k_w"], sw), "int32_t"),
        c_array(names["bias_folded"], np.concatenate(folded), "int32_t"),
        c_array(names["mult"], mults, "int32_t"),
        c_array(names["shift"], shifts, "int32_t"),
    ]
    fields: dict[str, object] = {k: v for k, v in g.items() if k not in ("k_h", "k_w")}
    fields.update(input_zp=in_zp, output_offset=out_zp, act_min=act[0], act_max=act[1],
                  taps_h=names["taps_h"], taps_w=names["taps_w"], filter=names["filter"],
                  filter_offset=names["filter_offset"], bias_folded=names["bias_folded"],
                  mult=names["mult"], shift=names["shift"])
    decls.append(c_struct_init(names["params"], "TkTransposeConvParams", fields,
                               f"{op.kind} {graph.layer_name(op)}"))
    call = (f"TK_TRY(tk_transpose_conv_s8(&{names['params']}, {ctx.ptr(op.inputs[INPUT])}, "
            f"{ctx.ptr(op.outputs[0])}));")
    return Emitted(call, tuple(decls))


def cost(graph: Graph, op: Op) -> OpCost:
    """MACs: every input element meets k_h * k_w * out_c filter values (TFLM's count;
    the gather form skips the products that fall outside the output)."""
    out_c, kh, kw, _ = graph.tensor(op.inputs[FILTER]).shape
    x = graph.tensor(op.inputs[INPUT])
    n = int(np.prod([max(d, 1) for d in x.shape]))
    return OpCost(n * kh * kw * out_c, const_params(graph, op, (FILTER, BIAS)))


SPECS = (
    OpSpec("TRANSPOSE_CONV", 4, emit, ("tk_transpose_conv_s8",), cost, tflm="AddTransposeConv",
           tflm_version=4, check=with_fused(check), code_bytes=2048, tflm_code_bytes=4096),
)
