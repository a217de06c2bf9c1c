"""CONV_2D and DEPTHWISE_CONV_2D (C: kernels/tk_conv.c, kernels/tk_depthwise.c).

The input zero point is folded into the bias at generation time
(``bias_folded = bias - in_zp * sum(filter of that channel)``), so a window that
lies inside the input is a pure int8 dot product. In place (stride 1, same H and
W): a depthwise conv works one channel plane or a ring of input rows at a time, a
conv keeps a small ring of output pixels; their scratch sizes are
:func:`scratch_bytes`, the twin of the C functions ``tk_conv_inplace_scratch_bytes``
and ``tk_depthwise_inplace_scratch_bytes`` (a host test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import const_params, dies_here, fused, int8_io, nhwc, out_elements, qparams, with_fused
from tinykit.ops.quant import activation_range, out_size, pad_before, quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec


def check(graph: Graph, op: Op) -> str | None:
    reason = int8_io(graph, op)
    if reason:
        return reason
    filt = graph.op_inputs(op)[1]
    if filt is None or filt.dtype != "int8" or not filt.is_const or filt.quant is None:
        return "needs constant int8 weights"
    if any(z != 0 for z in filt.quant.zero_point):
        return "needs symmetric weights (zero point 0)"
    ins = graph.op_inputs(op)
    if len(ins) > 2 and ins[2] is not None and (ins[2].dtype != "int32" or not ins[2].is_const):
        return "needs a constant int32 bias"
    if len(graph.op_inputs(op)[0].shape) != 4:  # type: ignore[union-attr]
        return "needs a 4-D NHWC input"
    if len(filt.shape) != 4 or len(graph.op_outputs(op)[0].shape) != 4:
        return "needs a 4-D filter and a 4-D NHWC output"
    try:
        geometry(graph, op)
    except ValueError as exc:
        return str(exc)
    return None


def geometry(graph: Graph, op: Op) -> dict[str, int]:
    """Shapes, strides, dilations and leading padding: the TkConvParams geometry."""
    inp, filt = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    n, ih, iw, ic = nhwc(inp)
    _, oh, ow, oc = nhwc(out)
    kh, kw = filt.shape[1], filt.shape[2]
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    padding = o.get("padding", "VALID")
    if min(sh, sw, dh, dw, kh, kw) < 1:
        raise ValueError("needs strides, dilations and kernel sizes of at least 1")
    if (out_size(padding, ih, kh, sh, dh), out_size(padding, iw, kw, sw, dw)) != (oh, ow):
        raise ValueError("output shape does not match the padding")
    return {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": sh, "stride_w": sw, "dil_h": dh, "dil_w": dw,
        "pad_h": pad_before(sh, dh, ih, kh, oh), "pad_w": pad_before(sw, dw, iw, kw, ow),
    }


def inplace(graph: Graph, op: Op) -> bool:
    """Whether the kernel can write this conv's output over its input."""
    if check(graph, op) or not dies_here(graph, op):
        return False
    g = geometry(graph, op)
    same = (g["batches"] == 1 and g["stride_h"] == g["stride_w"] == 1
            and (g["out_h"], g["out_w"]) == (g["in_h"], g["in_w"]))
    if op.kind == "DEPTHWISE_CONV_2D":
        return same and g["out_c"] == g["in_c"]
    pointwise = g["k_h"] == g["k_w"] == 1 and g["pad_h"] == g["pad_w"] == 0
    return same and (g["out_c"] <= g["in_c"] or pointwise)


def scratch_bytes(kind: str, g: dict[str, int]) -> int:
    """Scratch of the in-place kernel for geometry ``g`` (TkConvParams fields).

    >>> g = dict(in_h=25, in_w=5, in_c=64, out_h=25, out_w=5, out_c=64, pad_h=1, pad_w=1)
    >>> scratch_bytes("DEPTHWISE_CONV_2D", g), scratch_bytes("CONV_2D", g)
    (640, 448)
    """
    if kind == "DEPTHWISE_CONV_2D":
        # one channel plane (Cortex-M DSP path, other than 3x3 over channels in fours) or a
        # ring of pad_h + 1 input rows (the 3x3 DSP path and elsewhere)
        return max(g["out_h"] * g["out_w"], (g["pad_h"] + 1) * g["in_w"] * g["in_c"])
    return (g["pad_h"] * g["in_w"] + g["pad_w"] + 1) * g["out_c"]


def scratch(graph: Graph, op: Op) -> int:
    return scratch_bytes(op.kind, geometry(graph, op)) if inplace(graph, op) else 0


def channel_multipliers(inp: Tensor, filt: Tensor, out: Tensor, channels: int
                        ) -> tuple[list[int], list[int]]:
    """Per-output-channel (multiplier, shift), in double from the float32 scales, as
    TFLite's PopulateConvolutionQuantizationParams (per-tensor: one scale repeated)."""
    assert inp.quant and filt.quant and out.quant
    s_in, s_out = inp.quant.scale[0], out.quant.scale[0]
    scales = filt.quant.scale
    if len(scales) not in (1, channels):
        raise ValueError(f"{len(scales)} filter scales for {channels} channels")
    mults, shifts = [], []
    for c in range(channels):
        m, s = quantize_multiplier(s_in * scales[c if len(scales) > 1 else 0] / s_out)
        mults.append(m)
        shifts.append(s)
    return mults, shifts


@dataclass(frozen=True)
class Weighted:
    """What a conv or fully connected op's params are made of (computed as TFLite's Prepare)."""

    inp: Tensor
    filt: Tensor
    out: Tensor
    bias: np.ndarray  # raw int32 bias as int64, zeros when the model has none
    in_zp: int
    out_zp: int
    mults: list[int]  # per output channel
    shifts: list[int]
    act: tuple[int, int]  # clamp range of the fused activation


def weighted(graph: Graph, op: Op, channels: int) -> Weighted:
    ins = graph.op_inputs(op)
    inp, filt = ins[0], ins[1]
    bias_t = ins[2] if len(ins) > 2 else None
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    bias = (bias_t.array().astype(np.int64) if bias_t is not None
            else np.zeros(channels, dtype=np.int64))
    mults, shifts = channel_multipliers(inp, filt, out, channels)
    return Weighted(inp, filt, out, bias, qparams(inp)[1], qparams(out)[1], mults, shifts,
                    activation_range(fused(op), *qparams(out)))


def pack_pairs(w: np.ndarray) -> np.ndarray | None:
    """Weight matrix ``w`` [rows][k] in the channel-pair layout of the kernels (tk_dot.h),
    or None where it does not apply (k not a multiple of 4, fewer than 2 rows, or a value
    out of int16 range). Rows 2j and 2j + 1 become k int16 values ``256 * w[2j + 1] +
    w[2j]``, each block of 4 inputs in the order 0, 2, 1, 3; an odd last row stays; the
    size is unchanged.

    >>> w = np.array([[1, -2, 3, -4], [5, 6, 7, 8], [9, 10, 11, 12]])
    >>> pack_pairs(w).tolist()
    [1, 5, 3, 7, -2, 5, -4, 7, 9, 10, 11, 12]
    >>> pack_pairs(np.array([[-1], [-128]])) is None
    True
    """
    rows, k = w.shape
    if rows < 2 or k % 4:
        return None
    n = rows - rows % 2
    v = w[1:n:2].astype(np.int64) * 256 + w[0:n:2]
    if v.min() < -32768:
        return None
    v = v.reshape(n // 2, k // 4, 4)[:, :, [0, 2, 1, 3]]
    pairs = np.ascontiguousarray(v, dtype="<i2").view(np.int8).reshape(-1)
    return np.concatenate([pairs, w[n:].reshape(-1).astype(np.int8)])


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    g = geometry(graph, op)
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    oc = g["out_c"]
    x = weighted(graph, op, oc)
    w = x.filt.array().astype(np.int64)
    sums = w.reshape(-1, oc).sum(axis=0) if depthwise else w.reshape(oc, -1).sum(axis=1)
    names = {f: ctx.sym(op, f) for f in ("filter", "bias", "bias_folded", "mult", "shift",
                                         "params")}
    # CONV_2D: rows in the channel-pair layout, rounded up to 4 weights (zeros)
    packed = None if depthwise else pack_pairs(np.pad(w.reshape(oc, -1),
                                                      ((0, 0), (0, -w[0].size % 4))))
    decls = [
        c_array(names["filter"], x.filt.array() if packed is None else packed, "int8_t", align=4),
        c_array(names["bias"], x.bias, "int32_t"),
        c_array(names["bias_folded"], x.bias - x.in_zp * sums, "int32_t"),
        c_array(names["mult"], x.mults, "int32_t"),
        c_array(names["shift"], x.shifts, "int32_t"),
    ]
    fields: dict[str, object] = dict(g)
    fields.update(depth_multiplier=int(op.options.get("depth_multiplier", 1)) if depthwise else 1,
                  input_offset=-x.in_zp, output_offset=x.out_zp, act_min=x.act[0], act_max=x.act[1],
                  filter=names["filter"], bias=names["bias"],
                  bias_folded=names["bias_folded"], mult=names["mult"], shift=names["shift"])
    if packed is not None:
        fields["packed"] = 1
    decls.append(c_struct_init(names["params"], "TkConvParams", fields,
                               f"{op.kind} {graph.layer_name(op)}"))
    src, dst = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    kernel = "tk_depthwise" if depthwise else "tk_conv"
    p = "&" + names["params"]
    if src == dst:
        call = f"TK_TRY({kernel}_inplace_s8({p}, {dst}, {ctx.scratch()}));"
    else:
        call = f"TK_TRY({kernel}_s8({p}, {src}, {dst}));"
    return Emitted(call, tuple(decls))


def conv_cost(graph: Graph, op: Op) -> OpCost:
    # filter [out_ch, kh, kw, in_ch per group]
    _, kh, kw, cin = graph.tensor(op.inputs[1]).shape
    return OpCost(out_elements(graph, op) * kh * kw * cin, const_params(graph, op, (1, 2)))


def depthwise_cost(graph: Graph, op: Op) -> OpCost:
    # filter [1, kh, kw, out_ch]: one kh*kw window per output element
    _, kh, kw, _ = graph.tensor(op.inputs[1]).shape
    return OpCost(out_elements(graph, op) * kh * kw, const_params(graph, op, (1, 2)))


SPECS = (
    OpSpec("CONV_2D", 6, emit, ("tk_conv_s8", "tk_conv_inplace_s8"), conv_cost,
           tflm="AddConv2D", tflm_version=8, check=with_fused(check), inplace=inplace,
           scratch=scratch, code_bytes=4096, tflm_code_bytes=10 * 1024),
    OpSpec("DEPTHWISE_CONV_2D", 7, emit, ("tk_depthwise_s8", "tk_depthwise_inplace_s8"),
           depthwise_cost, tflm="AddDepthwiseConv2D", tflm_version=7, check=with_fused(check),
           inplace=inplace, scratch=scratch, code_bytes=4096, tflm_code_bytes=10 * 1024),
)
