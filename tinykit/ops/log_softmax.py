"""LOG_SOFTMAX int8 -> int8 over the last dimension (C: kernels/tk_log_softmax.c).
The generation-time twin of TFLM's int8 LOG_SOFTMAX Prepare
(PreprocessLogSoftmaxScalingExp, CalculateInputRadius) plus two tables indexed
by max - x: the Q5.26 scaled difference and its exp() rescaled to Q12.19, as
LogSoftmaxQuantized computes them per element (the exp() is
:func:`tinykit.ops.fixedpoint_lut.exp_on_negative_values`, shared with SOFTMAX).
The log of each row's sum depends on the data and runs in C."""

from __future__ import annotations

from tinykit.cgen import c_array
from tinykit.graph import Graph, Op
from tinykit.ops._common import first, int8_io, per_output_element, qparams
from tinykit.ops.fixedpoint_lut import exp_on_negative_values
from tinykit.ops.quant import multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot
from tinykit.ops.softmax import SCALED_DIFF_INTEGER_BITS, emit_rows, inplace_when, output_quant, softmax_params
from tinykit.ops.spec import EmitContext, Emitted, OpSpec

ACCUM_INTEGER_BITS = 12
OUTPUT_QUANT = (16.0 / 256, 127)  # TFLM requires it exactly


def log_softmax_params(input_scale: float) -> dict[str, int]:
    """TFLM's LOG_SOFTMAX int8 Prepare (beta 1): input multiplier and left shift,
    diff_min, and the reverse scaling divisor as a (multiplier, shift) pair.

    >>> p = log_softmax_params(0.1)
    >>> p["input_shift"], p["diff_min"], p["reverse_shift"]
    (23, -248, -22)
    """
    mult, shift, diff_min = softmax_params(1.0, input_scale)
    reverse = (1 << (31 - shift)) / float(mult)
    rev_mult, rev_shift = quantize_multiplier(reverse)
    return {"input_mult": mult, "input_shift": shift, "diff_min": diff_min,
            "reverse_mult": rev_mult, "reverse_shift": rev_shift}


def log_softmax_tables(input_scale: float) -> tuple[list[int], list[int]]:
    """(exp_lut, diff_q5) for differences 0, -1, ..., -255: exp() in Q12.19 (0
    below diff_min, where TFLM skips the term) and the Q5.26 scaled difference.

    >>> e, q = log_softmax_tables(1 / 16)
    >>> e[0], q[0], q[16]  # exp(0) = 1 in Q12.19; -1.0 in Q5.26
    (524288, 0, -67108864)
    """
    p = log_softmax_params(input_scale)
    exp_lut, diff_q5 = [], []
    for d in range(256):
        q5 = multiply_by_quantized_multiplier(-d, p["input_mult"], p["input_shift"])
        diff_q5.append(q5)
        if -d < p["diff_min"]:
            exp_lut.append(0)
        else:
            exp_lut.append(rounding_divide_by_pot(
                exp_on_negative_values(q5, SCALED_DIFF_INTEGER_BITS), ACCUM_INTEGER_BITS))
    return exp_lut, diff_q5


def _same_shape(graph: Graph, op: Op) -> str | None:
    x, y = graph.op_inputs(op)[0], graph.op_outputs(op)[0]
    assert x is not None
    if x.shape != y.shape or not x.shape:
        return "LOG_SOFTMAX needs input and output of one shape"
    return None


check = first(int8_io, _same_shape, output_quant(OUTPUT_QUANT, "16/256"))
inplace = inplace_when(check)


def emit(ctx: EmitContext, op: Op) -> Emitted:
    x = ctx.graph.op_inputs(op)[0]
    assert x is not None
    p = log_softmax_params(qparams(x)[0])
    exp_lut, diff_q5 = log_softmax_tables(qparams(x)[0])
    e, q = ctx.sym(op, "exp_lut"), ctx.sym(op, "diff_q5")
    return emit_rows(ctx, op, "TkLogSoftmaxParams", "tk_log_softmax_s8", {
        "diff_min": p["diff_min"], "reverse_mult": p["reverse_mult"],
        "reverse_shift": p["reverse_shift"], "exp_lut": e, "diff_q5": q,
    }, (c_array(e, exp_lut, "int32_t"), c_array(q, diff_q5, "int32_t")))


SPECS = (
    OpSpec("LOG_SOFTMAX", 2, emit, ("tk_log_softmax_s8",), per_output_element,
           tflm="AddLogSoftmax", tflm_version=2, check=check, inplace=inplace,
           code_bytes=3 * 1024, tflm_code_bytes=4096),
)
