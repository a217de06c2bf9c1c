"""UNIDIRECTIONAL_SEQUENCE_LSTM (C: kernels/tk_lstm.c): TFLM's fused integer LSTM, the
"8x8->16" path (int8 input, hidden state and weights, int32 biases, int16 gates and
int16 cell state with a power-of-two scale), as TF 2.21 converts a Keras 2 (tf_keras)
LSTM with batch 1. Peephole, projection, layer-norm and CIFG variants are refused
(TF does not emit them for a Keras LSTM; TFLM's kernel refuses them too).

What TFLM's Prepare computes (lstm_eval.cc, PrepareGateParametersInteger) is computed
here: per gate, the input and recurrent FULLY_CONNECTED multipliers into Q3.12
(scale 2^-12), the three inter-gate Mul multipliers (the gate outputs are Q0.15, scale
2^-15), the quantized cell clip and the cell's tanh input rescale; the zero points are
folded into the biases; TFLite's 256-entry sigmoid table (samples of the sigmoid at k/24
nudged by half the linear interpolation error) is emitted as data.

State: the hidden and cell state are the model's VARIABLE tensors; the kernel resets
them (hidden = its zero point, cell = 0, TFLM's ResetVariableTensors) at the start of
every invoke, so each inference is one independent sequence. tinykit's TFLM reference
resets them before every sample too (tinykit/reference/_worker.py)."""

from __future__ import annotations

import numpy as np

from tinykit.cgen import c_array, c_struct_init
from tinykit.graph import Graph, Op, Tensor
from tinykit.ops._common import const_params, qparams
from tinykit.ops.quant import quantize_multiplier
from tinykit.ops.spec import EmitContext, Emitted, OpCost, OpSpec

_f32 = np.float32
GATE_INPUT_SCALE = float(_f32(0.00024414062))  # 2^-12, Q3.12 (TFLM's literal)
# 2^-15 exactly: with the float32 of TFLM source's literal 0.00003051757 (a hair under 2^-15)
# the cell update rounds differently from the TFLM build tinykit runs against (measured: 1-step
# cell states differ on .5 boundaries); with exactly 2^-15 they agree on every input tried.
GATE_OUTPUT_SCALE = 2.0 ** -15
# (input weights, recurrent weights, bias) positions per gate, in TkLstmParams' order
GATES = {"input": (1, 5, 12), "forget": (2, 6, 13), "cell": (3, 7, 14), "output": (4, 8, 15)}
HIDDEN, CELL = 18, 19
VARIANT_INPUTS = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection",
                  17: "projection", 20: "layer norm", 21: "layer norm", 22: "layer norm",
                  23: "layer norm"}


def sigmoid_table() -> np.ndarray:
    """TFLite's ``sigmoid_table_uint16``: 65536 * sigmoid(k/24), k = 0..255, each sample
    raised by half the error of linear interpolation there (h^2/16 * |sigmoid''|),
    rounded; the last entry 65535.

    >>> t = sigmoid_table()
    >>> t[:6].tolist(), t[-2:].tolist()
    ([32768, 33451, 34133, 34813, 35493, 36169], [65534, 65535])
    """
    h = 1.0 / 24.0
    s = 1.0 / (1.0 + np.exp(-np.arange(256) * h))
    second = s * (1.0 - s) * (1.0 - 2.0 * s)
    table = np.round(65536.0 * (s - h * h / 16.0 * second)).astype(np.int64)
    table[255] = 65535
    return table.astype(np.uint16)


def cell_power(cell_scale: float) -> int:
    """log2 of the cell state's scale (TFLM's CheckedLog2, float32).

    >>> cell_power(2.0 ** -14), cell_power(2.0 ** -11)
    (-14, -11)
    """
    return int(round(float(np.log(_f32(cell_scale)) * (_f32(1.0) / np.log(_f32(2.0))))))


def tanh_rescale(power: int) -> tuple[int, int]:
    """(multiplier, right shift) of reference_integer_ops::Tanh's input for a Q(-power)
    value, as TFLM's lstm_internal::Tanh sets them up (the x3 of the table included).

    >>> tanh_rescale(-12), tanh_rescale(-14), tanh_rescale(-11)
    ((3, 0), (3, 2), (6, 0))
    """
    shift = 15 + power - 3
    if shift < 0:
        return 3, -shift
    return 3 << shift, 0


def quantized_cell_clip(cell_clip: float, cell_scale: float) -> int:
    """TFLM's CreateLstmCellStateInfo: clip / scale in double, saturated, truncated.

    >>> quantized_cell_clip(10.0, 2.0 ** -14), quantized_cell_clip(0.5, 2.0 ** -14)
    (32767, 8192)
    >>> quantized_cell_clip(0.0, 2.0 ** -14)
    0
    """
    if cell_clip <= 0:
        return 0
    return int(min(max(float(_f32(cell_clip)) / cell_scale, -32768.0), 32767.0))


def mul_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """TFLM's CreateInterGateMulParams: s1 * s2 / s_out in double.

    >>> mul_multiplier(GATE_OUTPUT_SCALE, 2.0 ** -14, 2.0 ** -14)
    (1073741824, -14)
    >>> mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, 2.0 ** -14)
    (1073741824, -15)
    """
    return quantize_multiplier(float(s1) * float(s2) / float(s_out))


def _variant(graph: Graph, op: Op) -> str | None:
    for pos, what in VARIANT_INPUTS.items():
        if pos < len(op.inputs) and op.inputs[pos] >= 0:
            return what
    if op.inputs[GATES["input"][0]] < 0:
        return "CIFG (no input gate)"
    return None


def check(graph: Graph, op: Op) -> str | None:
    if len(op.inputs) != 24:
        return f"needs 24 inputs (got {len(op.inputs)})"
    if (what := _variant(graph, op)) is not None:
        return f"the {what} LSTM variant is not supported (a Keras LSTM has none)"
    if op.options.get("time_major"):
        return "time-major input is not supported (a Keras LSTM is batch-major)"
    if str(op.options.get("fused_activation_function", "TANH")) != "TANH":
        return "needs tanh as the cell activation"
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    hidden, cell = graph.tensor(op.inputs[HIDDEN]), graph.tensor(op.inputs[CELL])
    if any(t.dtype != "int8" or t.quant is None for t in (inp, out, hidden)):
        return "needs int8 input, output and hidden state (the 8x8->16 integer LSTM)"
    if cell.dtype != "int16" or cell.quant is None:
        return f"needs an int16 cell state (got {cell.dtype})"
    if len(inp.shape) != 3 or inp.shape[0] != 1:
        return f"needs a (1, steps, features) input (got {inp.shape}); convert with batch 1"
    if 2.0 ** cell_power(qparams(cell)[0]) != float(_f32(qparams(cell)[0])):
        return "needs a power-of-two cell state scale"
    for wi, wr, b in GATES.values():
        for pos in (wi, wr):
            w = graph.tensor(op.inputs[pos])
            if w.dtype != "int8" or not w.is_const or w.quant is None or len(w.quant.scale) != 1 \
                    or w.quant.zero_point[0] != 0:
                return "needs constant per-tensor symmetric int8 weights"
        bias = graph.tensor(op.inputs[b])
        if bias.dtype != "int32" or not bias.is_const:
            return "needs constant int32 biases"
    if hidden.is_const or cell.is_const or op.inputs[HIDDEN] in graph.producers \
            or op.inputs[CELL] in graph.producers:
        return "needs the hidden and cell state as variable tensors"
    return None


def _gate_fields(graph: Graph, op: Op, ctx: EmitContext) -> tuple[dict[str, list[object]], list[str]]:
    s_in, z_in = qparams(graph.tensor(op.inputs[0]))
    s_h, z_h = qparams(graph.tensor(op.inputs[HIDDEN]))
    fields: dict[str, list[object]] = {k: [] for k in ("w_in", "w_rec", "b_in", "b_rec", "m_in",
                                                       "s_in", "m_rec", "s_rec")}
    decls = []
    for gate, (wi, wr, b) in GATES.items():
        w_in: Tensor = graph.tensor(op.inputs[wi])
        w_rec: Tensor = graph.tensor(op.inputs[wr])
        names = {f: ctx.sym(op, f"{gate}_{f}") for f in ("w_in", "w_rec", "b_in", "b_rec")}
        a_in, a_rec = w_in.array().astype(np.int64), w_rec.array().astype(np.int64)
        bias = graph.tensor(op.inputs[b]).array().astype(np.int64)
        decls += [c_array(names["w_in"], w_in.array(), "int8_t", align=4),
                  c_array(names["w_rec"], w_rec.array(), "int8_t", align=4),
                  c_array(names["b_in"], bias - z_in * a_in.sum(axis=1), "int32_t"),
                  c_array(names["b_rec"], -z_h * a_rec.sum(axis=1), "int32_t")]
        m_in = quantize_multiplier(s_in * float(w_in.quant.scale[0]) / GATE_INPUT_SCALE)  # type: ignore[union-attr]
        m_rec = quantize_multiplier(s_h * float(w_rec.quant.scale[0]) / GATE_INPUT_SCALE)  # type: ignore[union-attr]
        for key, value in (("w_in", names["w_in"]), ("w_rec", names["w_rec"]), ("b_in", names["b_in"]),
                           ("b_rec", names["b_rec"]), ("m_in", m_in[0]), ("s_in", m_in[1]),
                           ("m_rec", m_rec[0]), ("s_rec", m_rec[1])):
            fields[key].append(value)
    return fields, decls


def emit(ctx: EmitContext, op: Op) -> Emitted:
    graph = ctx.graph
    inp = graph.tensor(op.inputs[0])
    s_h, z_h = qparams(graph.tensor(op.inputs[HIDDEN]))
    s_c = qparams(graph.tensor(op.inputs[CELL]))[0]
    n_cell = graph.tensor(op.inputs[GATES["forget"][0]]).shape[0]
    fields, decls = _gate_fields(graph, op, ctx)
    table, params = ctx.sym(op, "sigmoid_table"), ctx.sym(op, "params")
    mult, shift = tanh_rescale(cell_power(s_c))
    m_f = mul_multiplier(GATE_OUTPUT_SCALE, s_c, s_c)
    m_i = mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, s_c)
    m_h = mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, s_h)
    decls += [
        c_array(table, sigmoid_table(), "uint16_t"),
        c_struct_init(params, "TkLstmParams", {
            "steps": inp.shape[1], "n_input": inp.shape[2], "n_cell": n_cell, "hidden_zp": z_h,
            "cell_clip": quantized_cell_clip(float(op.options.get("cell_clip", 0.0)), s_c),
            "cell_tanh_mult": mult, "cell_tanh_shift": shift,
            **{k: "{" + ", ".join(str(v) for v in vals) + "}" for k, vals in fields.items()},
            "m_forget": m_f[0], "s_forget": m_f[1], "m_input": m_i[0], "s_input": m_i[1],
            "m_hidden": m_h[0], "s_hidden": m_h[1], "table": table,
        }, f"{op.kind} {graph.layer_name(op)}"),
    ]
    call = (f"TK_TRY(tk_lstm_s8(&{params}, {ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[HIDDEN])}, "
            f"{ctx.ptr(op.inputs[CELL])}, {ctx.ptr(op.outputs[0])}));")
    return Emitted(call, tuple(decls))


def cost(graph: Graph, op: Op) -> OpCost:
    inp = graph.tensor(op.inputs[0])
    steps, n_input = (inp.shape[1], inp.shape[2]) if len(inp.shape) == 3 else (1, inp.shape[-1])
    n_cell = graph.tensor(op.inputs[GATES["forget"][0]]).shape[0] if op.inputs[2] >= 0 else 0
    return OpCost(steps * 4 * n_cell * (n_input + n_cell), const_params(graph, op, tuple(range(1, 16))))


SPECS = (
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", 1, emit, ("tk_lstm_s8",), cost,
           tflm="AddUnidirectionalSequenceLSTM", tflm_version=1, check=check,
           code_bytes=1536, tflm_code_bytes=8 * 1024),
)
