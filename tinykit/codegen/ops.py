"""The AOT op table: op kind -> :class:`OpRule` (emitter, in-place and scratch
rules, support check). Core ops live here; element-wise ops come from
``ops_elementwise.RULES`` when that module exists. Each emitter computes at
generation time everything TFLM computes in Prepare."""

from __future__ import annotations

import dataclasses

import numpy as np

from tinykit.analyze.planner import NO_COPY_OPS
from tinykit.codegen.c import c_array
from tinykit.codegen.emit import EmitContext, Emitted, OpRule
from tinykit.codegen.growth import choose_growth
from tinykit.codegen.params import (
    act_range,
    c_struct_init,
    channel_multipliers,
    out_size,
    pad_before,
)
from tinykit.codegen.quant import quantize_multiplier
from tinykit.codegen.softmax import exp_lut
from tinykit.graph import Graph, Op, Tensor

# --- shared checks -------------------------------------------------------------


def _q(t: Tensor) -> tuple[float, int]:
    assert t.quant is not None
    return t.quant.scale[0], t.quant.zero_point[0]


def _int8_io(graph: Graph, op: Op, n_act_inputs: int = 1) -> str | None:
    """Reason string unless the first inputs and the output are quantized int8."""
    tensors = [t for t in graph.op_inputs(op)[:n_act_inputs]] + graph.op_outputs(op)[:1]
    for t in tensors:
        if t is None or t.dtype != "int8" or t.quant is None:
            kind = "missing" if t is None else t.dtype
            return f"needs quantized int8 tensors (got {kind})"
    return None


def _dies_here(graph: Graph, op: Op) -> bool:
    """Whether op's first input is read by no later op, is no graph boundary and is
    not itself a no-copy alias (then the planner may put the output over it)."""
    src = op.inputs[0]
    if src in graph.inputs or src in graph.outputs or op.outputs[0] in graph.outputs:
        return False
    producer = graph.producers.get(src)
    if producer is not None and producer.kind in NO_COPY_OPS:
        return False
    return not any(src in later.inputs for later in graph.ops[op.index + 1:])


def _nhwc(t: Tensor) -> tuple[int, int, int, int]:
    n, h, w, c = t.shape
    return n, h, w, c


def _with_fused(check_fn):  # noqa: ANN001, ANN202 - small decorator
    def check(graph: Graph, op: Op) -> str | None:
        act = op.options.get("fused_activation_function", "NONE")
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            return f"fused activation {act} is not supported"
        return check_fn(graph, op)
    return check


# --- CONV_2D / DEPTHWISE_CONV_2D -----------------------------------------------


def _conv_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op)
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
    return None


def _conv_geometry(graph: Graph, op: Op) -> dict[str, int]:
    inp, filt = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    n, ih, iw, ic = _nhwc(inp)
    _, oh, ow, oc = _nhwc(out)
    kh, kw = filt.shape[1], filt.shape[2]
    o = op.options
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    padding = o.get("padding", "VALID")
    if (out_size(padding, ih, kh, sh, dh), out_size(padding, iw, kw, sw, dw)) != (oh, ow):
        raise ValueError("output shape does not match the padding")
    return {
        "batches": n, "in_h": ih, "in_w": iw, "in_c": ic, "out_h": oh, "out_w": ow, "out_c": oc,
        "k_h": kh, "k_w": kw, "stride_h": sh, "stride_w": sw, "dil_h": dh, "dil_w": dw,
        "pad_h": pad_before(sh, dh, ih, kh, oh), "pad_w": pad_before(sw, dw, iw, kw, ow),
    }


def _conv_inplace(graph: Graph, op: Op) -> bool:
    """Whether the kernel can write this conv's output over its input."""
    if _conv_check(graph, op) or not _dies_here(graph, op):
        return False
    g = _conv_geometry(graph, op)
    same = (g["batches"] == 1 and g["stride_h"] == g["stride_w"] == 1
            and (g["out_h"], g["out_w"]) == (g["in_h"], g["in_w"]))
    if op.kind == "DEPTHWISE_CONV_2D":
        return same and g["out_c"] == g["in_c"]
    pointwise = g["k_h"] == g["k_w"] == 1 and g["pad_h"] == g["pad_w"] == 0
    return same and (g["out_c"] <= g["in_c"] or pointwise)


def _conv_scratch(graph: Graph, op: Op) -> int:
    if not _conv_inplace(graph, op):
        return 0
    g = _conv_geometry(graph, op)
    if op.kind == "DEPTHWISE_CONV_2D":
        # one channel plane (Cortex-M DSP path) or a ring of pad_h + 1 input rows (elsewhere)
        return max(g["out_h"] * g["out_w"], (g["pad_h"] + 1) * g["in_w"] * g["in_c"])
    return (g["pad_h"] * g["in_w"] + g["pad_w"] + 1) * g["out_c"]


def _emit_conv(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    ins = graph.op_inputs(op)
    inp, filt = ins[0], ins[1]
    bias_t = ins[2] if len(ins) > 2 else None
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    g = _conv_geometry(graph, op)
    depthwise = op.kind == "DEPTHWISE_CONV_2D"
    oc = g["out_c"]
    w = filt.array().astype(np.int64)
    sums = w.reshape(-1, oc).sum(axis=0) if depthwise else w.reshape(oc, -1).sum(axis=1)
    bias = (bias_t.array().astype(np.int64) if bias_t is not None
            else np.zeros(oc, dtype=np.int64))
    in_scale, in_zp = _q(inp)
    _, out_zp = _q(out)
    mults, shifts = channel_multipliers(inp, filt, out, oc)
    lo, hi = act_range(op.options.get("fused_activation_function", "NONE"), out)
    names = {f: ctx.sym(op, f) for f in ("filter", "bias", "bias_folded", "mult", "shift",
                                         "params")}
    decls = [
        c_array(names["filter"], filt.array(), "int8_t", align=4),
        c_array(names["bias"], bias, "int32_t"),
        c_array(names["bias_folded"], bias - in_zp * sums, "int32_t"),
        c_array(names["mult"], mults, "int32_t"),
        c_array(names["shift"], shifts, "int32_t"),
    ]
    fields: dict[str, object] = dict(g)
    fields.update(depth_multiplier=int(op.options.get("depth_multiplier", 1)) if depthwise else 1,
                  input_offset=-in_zp, output_offset=out_zp, act_min=lo, act_max=hi,
                  filter=names["filter"], bias=names["bias"],
                  bias_folded=names["bias_folded"], mult=names["mult"], shift=names["shift"])
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


# --- FULLY_CONNECTED -----------------------------------------------------------


def _fc_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op)
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


def _emit_fc(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    ins = graph.op_inputs(op)
    inp, filt = ins[0], ins[1]
    bias_t = ins[2] if len(ins) > 2 else None
    out = graph.op_outputs(op)[0]
    assert inp is not None and filt is not None
    out_depth, in_depth = filt.shape
    w = filt.array().astype(np.int64)
    bias = (bias_t.array().astype(np.int64) if bias_t is not None
            else np.zeros(out_depth, dtype=np.int64))
    _, in_zp = _q(inp)
    _, out_zp = _q(out)
    mults, shifts = channel_multipliers(inp, filt, out, out_depth)
    lo, hi = act_range(op.options.get("fused_activation_function", "NONE"), out)
    names = {f: ctx.sym(op, f) for f in ("filter", "bias_folded", "mult", "shift", "params")}
    decls = [
        c_array(names["filter"], filt.array(), "int8_t", align=4),
        c_array(names["bias_folded"], bias - in_zp * w.sum(axis=1), "int32_t"),
        c_array(names["mult"], mults, "int32_t"),
        c_array(names["shift"], shifts, "int32_t"),
        c_struct_init(names["params"], "TkFullyConnectedParams", {
            "batches": inp.size // in_depth, "in_depth": in_depth, "out_depth": out_depth,
            "output_offset": out_zp, "act_min": lo, "act_max": hi, "filter": names["filter"],
            "bias_folded": names["bias_folded"], "mult": names["mult"], "shift": names["shift"],
        }, f"{op.kind} {graph.layer_name(op)}"),
    ]
    call = (f"TK_TRY(tk_fully_connected_s8(&{names['params']}, {ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.outputs[0])}));")
    return Emitted(call, tuple(decls))


# --- pooling and MEAN ----------------------------------------------------------


def _pool_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op)
    if reason:
        return reason
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    if len(inp.shape) != 4:
        return "needs a 4-D NHWC input"
    if _q(inp) != _q(out):
        return "needs the same input and output quantization"
    return None


def _emit_pool(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    n, ih, iw, c = _nhwc(inp)
    _, oh, ow, _ = _nhwc(out)
    o = op.options
    kh, kw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    lo, hi = act_range(o.get("fused_activation_function", "NONE"), out)
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


def _mean_axes(graph: Graph, op: Op) -> set[int] | None:
    inp, axis = graph.op_inputs(op)[:2]
    if inp is None or axis is None or not axis.is_const:
        return None
    return {int(a) % len(inp.shape) for a in axis.array().reshape(-1)}


def _mean_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op)
    if reason:
        return reason
    inp = graph.op_inputs(op)[0]
    assert inp is not None
    if len(inp.shape) != 4 or _mean_axes(graph, op) != {1, 2}:
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


def _emit_mean(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp, out = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert inp is not None
    n, h, w, c = _nhwc(inp)
    in_scale, in_zp = _q(inp)
    out_scale, out_zp = _q(out)
    mult, shift = mean_multiplier(in_scale, out_scale, h * w)
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkMeanParams", {
        "batches": n, "h": h, "w": w, "channels": c, "input_zp": in_zp, "output_zp": out_zp,
        "mult": mult, "shift": shift,
    }, f"{op.kind} {graph.layer_name(op)}")
    call = f"TK_TRY(tk_mean_hw_s8(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, (decl,))


# --- ADD -----------------------------------------------------------------------


def _add_shapes(graph: Graph, op: Op) -> tuple[list[int], list[int], list[int]] | None:
    a, b = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert a is not None and b is not None
    if max(len(a.shape), len(b.shape), len(out.shape)) > 4:
        return None

    def pad4(s: tuple[int, ...]) -> list[int]:
        return [1] * (4 - len(s)) + list(s)

    sa, sb, so = pad4(a.shape), pad4(b.shape), pad4(out.shape)
    for x, y, z in zip(sa, sb, so, strict=True):
        if max(x, y) != z or x not in (1, z) or y not in (1, z):
            return None
    return sa, sb, so


def _add_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op, 2)
    if reason:
        return reason
    if _add_shapes(graph, op) is None:
        return "needs broadcast-compatible shapes of at most 4 dimensions"
    return None


def _strides(shape: list[int], out: list[int]) -> list[int]:
    """Element strides of a broadcast input over the output dims.

    >>> _strides([1, 1, 1, 8], [1, 4, 4, 8])
    [0, 0, 0, 1]
    """
    strides, step = [0] * 4, 1
    for i in range(3, -1, -1):
        strides[i] = step if shape[i] == out[i] and out[i] > 1 else 0
        step *= shape[i]
    return strides


def _add_inplace(graph: Graph, op: Op) -> bool:
    if _add_check(graph, op) or not _dies_here(graph, op):
        return False
    a = graph.op_inputs(op)[0]
    return a is not None and a.shape == graph.op_outputs(op)[0].shape


def _emit_add(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    a, b = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    assert a is not None and b is not None
    shapes = _add_shapes(graph, op)
    assert shapes is not None
    sa, sb, so = shapes
    s1, z1 = _q(a)
    s2, z2 = _q(b)
    s_out, z_out = _q(out)
    left_shift = 20
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * s_out))
    lo, hi = act_range(op.options.get("fused_activation_function", "NONE"), out)
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkAddParams", {
        "dims": so, "stride1": _strides(sa, so), "stride2": _strides(sb, so),
        "broadcast": int(sa != so or sb != so),
        "input1_offset": -z1, "input2_offset": -z2, "left_shift": left_shift,
        "input1_mult": m1, "input1_shift": sh1, "input2_mult": m2, "input2_shift": sh2,
        "output_mult": mo, "output_shift": sho, "output_offset": z_out,
        "act_min": lo, "act_max": hi,
    }, f"{op.kind} {graph.layer_name(op)}")
    call = (f"TK_TRY(tk_add_s8(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, "
            f"{ctx.ptr(op.outputs[0])}));")
    return Emitted(call, (decl,))


# --- SOFTMAX -------------------------------------------------------------------


def _softmax_check(graph: Graph, op: Op) -> str | None:
    reason = _int8_io(graph, op)
    if reason:
        return reason
    out = graph.op_outputs(op)[0]
    if _q(out) != (1.0 / 256, -128):
        return "needs the int8 output quantization scale 1/256, zero point -128"
    return None


def _emit_softmax(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp = graph.op_inputs(op)[0]
    assert inp is not None
    depth = inp.shape[-1]
    lut, name = ctx.sym(op, "exp_lut"), ctx.sym(op, "params")
    decls = (
        c_array(lut, exp_lut(float(np.float32(op.options.get("beta", 1.0))), _q(inp)[0]),
                "int32_t"),
        c_struct_init(name, "TkSoftmaxParams", {
            "outer": inp.size // depth, "depth": depth, "exp_lut": lut,
        }, f"{op.kind} {graph.layer_name(op)}"),
    )
    call = f"TK_TRY(tk_softmax_s8(&{name}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.outputs[0])}));"
    return Emitted(call, decls)


def _softmax_inplace(graph: Graph, op: Op) -> bool:
    return _softmax_check(graph, op) is None and _dies_here(graph, op)


# --- RESHAPE / SQUEEZE: the planner aliases the output to the input ------------


def _alias_check(graph: Graph, op: Op) -> str | None:
    inp = graph.op_inputs(op)[0]
    if inp is None or inp.is_const:
        return "needs an activation input"
    return None


def _emit_alias(ctx: EmitContext, op: Op) -> Emitted:
    src, dst = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0])
    if src != dst:
        raise ValueError(f"{op.kind} output is not aliased to its input")
    return Emitted("/* no copy: the output aliases the input */")


def _always(graph: Graph, op: Op) -> bool:
    return True


CORE_RULES: dict[str, OpRule] = {
    "CONV_2D": OpRule(_emit_conv, _conv_inplace, _conv_scratch, _with_fused(_conv_check)),
    "DEPTHWISE_CONV_2D": OpRule(_emit_conv, _conv_inplace, _conv_scratch,
                                _with_fused(_conv_check)),
    "FULLY_CONNECTED": OpRule(_emit_fc, check=_with_fused(_fc_check)),
    "AVERAGE_POOL_2D": OpRule(_emit_pool, check=_with_fused(_pool_check)),
    "MAX_POOL_2D": OpRule(_emit_pool, check=_with_fused(_pool_check)),
    "MEAN": OpRule(_emit_mean, check=_mean_check),
    "ADD": OpRule(_emit_add, _add_inplace, check=_with_fused(_add_check)),
    "SOFTMAX": OpRule(_emit_softmax, _softmax_inplace, check=_softmax_check),
    "RESHAPE": OpRule(_emit_alias, _always, check=_alias_check),
    "SQUEEZE": OpRule(_emit_alias, _always, check=_alias_check),
}


def _all_rules() -> dict[str, OpRule]:
    rules = dict(CORE_RULES)
    try:
        from tinykit.codegen.ops_elementwise import RULES as ELEMENTWISE
    except ImportError:
        return rules
    for kind, rule in ELEMENTWISE.items():
        rules.setdefault(kind, rule)
    return rules


# What each kernel can do: run in place, and the scratch it then needs.
KERNEL_RULES: dict[str, OpRule] = _all_rules()


# --- in-place choice for ops that grow their tensor -------------------------------


def _grows(graph: Graph, op: Op) -> bool:
    if not op.inputs or not op.outputs or op.inputs[0] < 0:
        return False
    return graph.tensor(op.outputs[0]).nbytes > graph.tensor(op.inputs[0]).nbytes


def _inplace_if(graph: Graph, op: Op, allowed: frozenset[int]) -> bool:
    """The kernels' in-place rules when exactly the growing ops in ``allowed`` grow in place."""
    rule = KERNEL_RULES.get(op.kind)
    if rule is None or not rule.inplace(graph, op):
        return False
    return op.index in allowed or not _grows(graph, op)


def _scratch_if(graph: Graph, op: Op, allowed: frozenset[int]) -> int:
    return KERNEL_RULES[op.kind].scratch(graph, op) if _inplace_if(graph, op, allowed) else 0


def _chosen_growth(graph: Graph) -> frozenset[int]:
    growing = [op.index for op in graph.ops if _grows(graph, op) and op.kind in KERNEL_RULES
               and KERNEL_RULES[op.kind].inplace(graph, op)]
    return choose_growth(graph, growing, _inplace_if, _scratch_if)


def _planned(rule: OpRule) -> OpRule:
    """The rule the planner and the emitters use: in place when the kernel can, except an
    op growing its tensor where that makes the arena bigger (:mod:`tinykit.codegen.growth`);
    scratch only when in place."""

    def inplace(graph: Graph, op: Op) -> bool:
        if not rule.inplace(graph, op):
            return False
        return not _grows(graph, op) or op.index in _chosen_growth(graph)

    def scratch(graph: Graph, op: Op) -> int:
        return rule.scratch(graph, op) if inplace(graph, op) else 0

    return dataclasses.replace(rule, inplace=inplace, scratch=scratch)


RULES: dict[str, OpRule] = {kind: _planned(rule) for kind, rule in KERNEL_RULES.items()}
