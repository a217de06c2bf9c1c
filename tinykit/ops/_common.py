"""Helpers shared by the op modules: quantization parameters, the common support
checks, cost helpers and broadcast strides. Nothing here knows a particular op."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops.spec import EmitContext, Emitted, OpCost

MAX_DIMS = 5  # TK_MAX_DIMS in firmware/include/tinykit.h
ALIAS_KINDS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})  # the specs with alias=True

Check = Callable[[Graph, Op], str | None]



def params_call(ctx: EmitContext, op: Op, c_type: str, fields: Mapping[str, object], kernel: str,
                *args: str) -> Emitted:
    """The usual emission: one const ``c_type`` params struct named after the op (commented
    with the op and its layer) and one ``TK_TRY(kernel(&params, args...))`` call."""
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, c_type, fields, f"{op.kind} {ctx.graph.layer_name(op)}")
    return Emitted(f"TK_TRY({kernel}(&{name}, {', '.join(args)}));", (decl,))


# --- quantization parameters -------------------------------------------------------


def qparams(t: Tensor) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized tensor."""
    assert t.quant is not None
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def fused(op: Op) -> str:
    return str(op.options.get("fused_activation_function", "NONE"))


# --- support checks -------------------------------------------------------------------


def int8_io(graph: Graph, op: Op, n_act_inputs: int = 1) -> str | None:
    """Reason string unless the first inputs and the output are quantized int8."""
    tensors = list(graph.op_inputs(op)[:n_act_inputs]) + graph.op_outputs(op)[:1]
    for t in tensors:
        if t is None or t.dtype != "int8" or t.quant is None:
            kind = "missing" if t is None else t.dtype
            return f"needs quantized int8 tensors (got {kind})"
    return None


def per_tensor_int8(t: Tensor | None) -> str | None:
    if t is None:
        return "a required input is missing"
    if t.dtype != "int8":
        return f"tensor {t.name!r} is {t.dtype}; only int8 is supported"
    if t.quant is None or not t.quant.scale:
        return f"tensor {t.name!r} has no quantization parameters"
    if t.quant.per_channel:
        return f"tensor {t.name!r} is quantized per channel; only per-tensor is supported"
    return None


def data_int8(graph: Graph, op: Op) -> str | None:
    """Reason unless the data input (the first) and the output are per-tensor int8."""
    return per_tensor_int8(graph.op_inputs(op)[0]) or per_tensor_int8(graph.op_outputs(op)[0])


def all_int8(graph: Graph, op: Op) -> str | None:
    for t in [*graph.op_inputs(op), *graph.op_outputs(op)]:
        if (why := per_tensor_int8(t)) is not None:
            return why
    return None


def first(*checks: Check) -> Check:
    """A check that returns the first reason of ``checks``."""

    def check(graph: Graph, op: Op) -> str | None:
        for c in checks:
            if (why := c(graph, op)) is not None:
                return why
        return None

    return check


def with_fused(check_fn: Check) -> Check:
    """``check_fn`` after refusing fused activations the kernels do not clamp."""

    def check(graph: Graph, op: Op) -> str | None:
        act = fused(op)
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            return f"fused activation {act} is not supported"
        return check_fn(graph, op)

    return check


def dies_here(graph: Graph, op: Op) -> bool:
    """Whether op's first input is read by no later op, is no graph boundary and is
    not itself a no-copy alias (then the planner may put the output over it)."""
    src = op.inputs[0]
    if src in graph.inputs or src in graph.outputs or op.outputs[0] in graph.outputs:
        return False
    producer = graph.producers.get(src)
    if producer is not None and producer.kind in ALIAS_KINDS:
        return False
    return not any(src in later.inputs for later in graph.ops[op.index + 1:])


def nhwc(t: Tensor) -> tuple[int, int, int, int]:
    n, h, w, c = t.shape
    return n, h, w, c


# --- cost --------------------------------------------------------------------------


def elements(shape: tuple[int, ...]) -> int:
    """
    >>> elements((1, 4, 4, 8)), elements(()), elements((-1, 3))
    (128, 1, 3)
    """
    n = 1
    for d in shape:
        n *= max(d, 1)
    return n


def out_elements(graph: Graph, op: Op) -> int:
    return elements(graph.tensor(op.outputs[0]).shape) if op.outputs else 0


def const_params(graph: Graph, op: Op, positions: tuple[int, ...]) -> int:
    """Elements of the op's constant inputs at ``positions``."""
    total = 0
    for pos in positions:
        if pos < len(op.inputs) and op.inputs[pos] >= 0:
            t = graph.tensor(op.inputs[pos])
            if t.is_const:
                total += elements(t.shape)
    return total


def per_output_element(graph: Graph, op: Op) -> OpCost:
    """Element-wise math: one MAC per output element."""
    return OpCost(out_elements(graph, op), 0)


def binary_cost(graph: Graph, op: Op) -> OpCost:
    """Element-wise binary math: one MAC per output element; constant operands are params."""
    return OpCost(out_elements(graph, op), const_params(graph, op, (0, 1)))


def data_movement(graph: Graph, op: Op) -> OpCost:
    """Copies, reshapes, (de)quantization: no MACs."""
    return OpCost(0, 0)


# --- broadcasting ----------------------------------------------------------------------


def padded(shape: tuple[int, ...] | list[int]) -> list[int]:
    """A shape with leading 1s up to MAX_DIMS.

    >>> padded((4, 8))
    [1, 1, 1, 4, 8]
    """
    return [1] * (MAX_DIMS - len(shape)) + list(shape)


def broadcast_strides(shape: list[int], out: list[int]) -> list[int]:
    """Element strides of a padded input shape over the padded output dims (0 on
    broadcast dims), as the C broadcast helper walks them.

    >>> broadcast_strides([1, 1, 1, 1, 3], [1, 1, 2, 2, 3])
    [0, 0, 0, 0, 1]
    >>> broadcast_strides([1, 1, 2, 1, 3], [1, 1, 2, 4, 3])
    [0, 0, 3, 0, 1]
    >>> broadcast_strides([1, 2, 1, 4, 3], [1, 2, 1, 4, 3])
    [0, 12, 0, 3, 1]
    """
    strides, acc = [0] * MAX_DIMS, 1
    for d in range(MAX_DIMS - 1, -1, -1):
        strides[d] = acc if shape[d] == out[d] and out[d] > 1 else 0
        acc *= shape[d]
    return strides


def broadcast_shapes(graph: Graph, op: Op) -> tuple[list[int], list[int], list[int]] | None:
    """Padded shapes (a, b, out) of a broadcasting binary op, or None when the inputs
    do not broadcast to the output within MAX_DIMS dimensions."""
    a, b = graph.op_inputs(op)[:2]
    out = graph.op_outputs(op)[0]
    if a is None or b is None or max(len(a.shape), len(b.shape), len(out.shape)) > MAX_DIMS:
        return None
    sa, sb, so = padded(a.shape), padded(b.shape), padded(out.shape)
    for x, y, z in zip(sa, sb, so, strict=True):
        if max(x, y) != z or x not in (1, z) or y not in (1, z):
            return None
    return sa, sb, so


def broadcast_fields(graph: Graph, op: Op) -> dict[str, object]:
    """The broadcast fields shared by TkAddParams and TkMulParams."""
    shapes = broadcast_shapes(graph, op)
    assert shapes is not None
    sa, sb, so = shapes
    return {"dims": so, "stride1": broadcast_strides(sa, so), "stride2": broadcast_strides(sb, so),
            "broadcast": int(sa != so or sb != so)}


def check_broadcast(graph: Graph, op: Op) -> str | None:
    if broadcast_shapes(graph, op) is None:
        return f"needs broadcast-compatible shapes of at most {MAX_DIMS} dimensions"
    return None


def first_input_is_output_shape(graph: Graph, op: Op) -> bool:
    a = graph.op_inputs(op)[0]
    return a is not None and a.shape == graph.op_outputs(op)[0].shape
