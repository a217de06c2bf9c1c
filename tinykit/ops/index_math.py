"""int32 index arithmetic (C: kernels/tk_index_math.c): LESS, SELECT and SELECT_V2
on int32 tensors, and the int32 path of ADD (its spec lives in :mod:`tinykit.ops.add`).
A Keras Embedding on an int32 input lowers to them before its GATHER:
``idx < 0 ? idx + n : idx``. No quantization: TFLM's reference kernels compare,
add and select the integers as they are; broadcasting as theirs (leading 1s, one
operand repeated over a dim)."""

from __future__ import annotations

from tinykit.cgen import c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import MAX_DIMS, broadcast_strides, fused, padded, per_output_element
from tinykit.ops.spec import EmitContext, Emitted, OpSpec


def _shapes(tensors: list[Tensor | None], out: Tensor) -> list[list[int]] | None:
    """Padded shapes of the operands, or None when one does not broadcast to ``out``."""
    if any(t is None for t in tensors) or len(out.shape) > MAX_DIMS:
        return None
    so = padded(out.shape)
    shapes = []
    for t in tensors:
        assert t is not None
        if len(t.shape) > MAX_DIMS:
            return None
        s = padded(t.shape)
        if any(d not in (1, o) for d, o in zip(s, so, strict=True)):
            return None
        shapes.append(s)
    return shapes


def _typed(graph: Graph, op: Op, ins: tuple[str, ...], out: str) -> str | None:
    tensors = graph.op_inputs(op)
    if len(tensors) != len(ins) or any(t is None for t in tensors):
        return f"{op.kind} needs {len(ins)} inputs"
    for t, want in zip(tensors, ins, strict=True):
        assert t is not None
        if t.dtype != want:
            return f"{op.kind} runs on {'/'.join(ins)} inputs here (got {t.dtype})"
    y = graph.op_outputs(op)[0]
    if y.dtype != out:
        return f"{op.kind} needs a {out} output (got {y.dtype})"
    if _shapes(list(tensors), y) is None:
        return f"needs broadcast-compatible shapes of at most {MAX_DIMS} dimensions"
    return None


def check_less(graph: Graph, op: Op) -> str | None:
    return _typed(graph, op, ("int32", "int32"), "bool")


def check_add_s32(graph: Graph, op: Op) -> str | None:
    """The int32 ADD (no quantization); fused activations are refused."""
    if fused(op) != "NONE":
        return f"int32 ADD with fused activation {fused(op)} is not supported"
    return _typed(graph, op, ("int32", "int32"), "int32")


def check_select(graph: Graph, op: Op) -> str | None:
    if op.kind == "SELECT":  # v1: no broadcasting (a rank-1 condition picks rows)
        shapes = {tuple(t.shape) for t in graph.op_inputs(op) if t is not None}
        if len(shapes) != 1:
            return "SELECT needs the condition and both values of one shape (use SELECT_V2)"
    return _typed(graph, op, ("bool", "int32", "int32"), "int32")


def index_params(ctx: EmitContext, op: Op) -> tuple[str, str]:
    """The TkIndexParams of an int32 LESS / ADD / SELECT: (name, declaration)."""
    graph = ctx.graph
    out = graph.op_outputs(op)[0]
    shapes = _shapes(list(graph.op_inputs(op)), out)
    assert shapes is not None
    so = padded(out.shape)
    strides = [broadcast_strides(s, so) for s in shapes] + [[0] * MAX_DIMS] * (3 - len(shapes))
    name = ctx.sym(op, "params")
    decl = c_struct_init(name, "TkIndexParams", {
        "dims": so, "stride1": strides[0], "stride2": strides[1], "stride3": strides[2],
        "broadcast": int(any(s != so for s in shapes)),
    }, f"{op.kind} {graph.layer_name(op)}")
    return name, decl


def _emitter(kernel: str):  # noqa: ANN202
    def emit(ctx: EmitContext, op: Op) -> Emitted:
        name, decl = index_params(ctx, op)
        args = ", ".join(ctx.ptr(i) for i in (*op.inputs, op.outputs[0]))
        return Emitted(f"TK_TRY({kernel}(&{name}, {args}));", (decl,))

    return emit


emit_less = _emitter("tk_less_s32")
emit_add_s32 = _emitter("tk_add_s32")
emit_select = _emitter("tk_select_s32")

SPECS = (
    OpSpec("LESS", 2, emit_less, ("tk_less_s32",), per_output_element, tflm="AddLess",
           tflm_version=2, check=check_less, code_bytes=384),
    # TFLM has no SELECT (v1) kernel: TFLite's reference interpreter is the reference for
    # a model with one (tinykit.reference.engine). TFLM's SELECT_V2 runs int8/int16/float
    # only ("Does not support type other than int8|int16|float32"): tflm_dtypes makes an
    # int32 one unsupported by the tflm runtime, and TFLite the reference for its model.
    OpSpec("SELECT", 1, emit_select, ("tk_select_s32",), per_output_element, tflm="",
           tflm_version=0, check=check_select, code_bytes=384),
    OpSpec("SELECT_V2", 2, emit_select, ("tk_select_s32",), per_output_element,
           tflm="AddSelectV2", tflm_version=2, check=check_select, code_bytes=384,
           tflm_dtypes=("int8", "int16", "float32")),
)
