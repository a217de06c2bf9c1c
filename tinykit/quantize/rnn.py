"""What quantize says about recurrent layers (LSTM, GRU, SimpleRNN) that TF 2.21
cannot take to full-integer int8.

Measured here with TF 2.21 and Keras 3 (README "Recurrent layers"):

- rolled (``unroll=False``, the default), batch fixed to 1 (what quantize
  converts): the float conversion is a WHILE loop; the int8 calibrator segfaults
  (:mod:`tinykit.quantize.isolated` turns that into one line);
- rolled, batch open or a SavedModel: the converter fails with "'tf.TensorListReserve'
  op requires element_shape to be static" (:func:`conversion_failed`);
- ``unroll=True``: plain int8 ops (UNPACK, FULLY_CONNECTED, SPLIT, STRIDED_SLICE,
  ADD, SUB, MUL, LOGISTIC, TANH, PACK) that both runtimes run, except that the
  calibrator leaves an op in float when one of its outputs is never read
  (:func:`float_hint`): the first step of a GRU whose recurrent bias is all zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tinykit.errors import QuantizeError
from tinykit.graph import Graph, Op

# MLIR diagnostics: "<unknown>:0: error: loc(callsite(...)): MESSAGE", or without the loc.
_ERROR = re.compile(r"error: (?:loc\(.*\): (?:error: )?)?(.+)")
# A TensorList or While op's location: fused["TensorListReserve:", "model/lstm/TensorArrayV2_1@fn"]
_LOOP_LOC = re.compile(r'fused\["(?:TensorList\w*|While|StatelessWhile):", "([^"@]+)')


def converter_error(text: str) -> str:
    """The first error of a converter exception, without MLIR's location prefix.

    >>> converter_error('<unknown>:0: error: loc(callsite(fused["A:", "m/x"] at '
    ...                 'fused["B:", "y"])): \\'tf.TensorListReserve\\' op requires '
    ...                 'element_shape to be static\\n<unknown>:0: note: called from')
    "'tf.TensorListReserve' op requires element_shape to be static"
    >>> converter_error("something else went wrong\\nsecond line")
    'something else went wrong'
    """
    for line in text.splitlines():
        m = _ERROR.search(line)
        if m:
            return m.group(1).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "unknown converter error"


def loop_layers(text: str) -> list[str]:
    """Names of the layers whose ops are TensorList/While loops in a converter
    error (the path segment before the op's own name), in order, once each.

    >>> loop_layers('fused["TensorListReserve:", "functional_1/lstm_1/TensorArrayV2_1@f_5"] '
    ...             'fused["TensorListReserve:", "functional_1/lstm_1/TensorArrayV2_1@f_5"]')
    ['lstm_1']
    >>> loop_layers('fused["Conv2D:", "model/conv/Conv2D@f"]')
    []
    """
    found: list[str] = []
    for path in _LOOP_LOC.findall(text):
        parts = path.split("/")
        name = parts[-2] if len(parts) >= 2 else parts[0]
        if name not in found:
            found.append(name)
    return found


def conversion_failed(exc: BaseException, layers: Sequence[tuple[str, str]]) -> QuantizeError:
    """The one line for a converter that raised (rather than crashed): its first
    error without MLIR's locations, and, for a recurrent loop, the layers and
    ``unroll=True``.

    >>> e = conversion_failed(ValueError("x"), [("d", "Dense")])
    >>> e.message, e.hint
    ('TFLite conversion failed: x', None)
    >>> e = conversion_failed(ValueError(
    ...     'error: loc(fused["TensorListReserve:", "m/gru_1/TensorArrayV2@f"]): '
    ...     "'tf.TensorListReserve' op requires element_shape to be static"), [("t", "TFSMLayer")])
    >>> print(e.message)  # doctest: +NORMALIZE_WHITESPACE
    TFLite conversion failed: 'tf.TensorListReserve' op requires element_shape to be static;
    a recurrent loop (TensorList/While ops) in layer 'gru_1'
    >>> print(e.hint)  # doctest: +NORMALIZE_WHITESPACE
    rebuild the recurrent layers (LSTM, GRU, SimpleRNN) with unroll=True (fixed sequence
    length) and save again, or replace them with Conv1D
    """
    from tinykit.quantize.isolated import RNN_CLASSES, workaround

    text = str(exc)
    why = converter_error(text)
    rnn = [(n, c) for n, c in layers if c in RNN_CLASSES]
    looped = loop_layers(text)
    if rnn:
        who = ", ".join(f"layer {n!r} ({c})" for n, c in rnn)
        return QuantizeError(f"TFLite conversion failed: {why}; likely responsible: {who}",
                             hint=workaround(rnn).removeprefix("workaround: "))
    if looped or "TensorList" in text:
        where = f" in layer {', '.join(repr(n) for n in looped)}" if looped else ""
        return QuantizeError(
            f"TFLite conversion failed: {why}; a recurrent loop (TensorList/While ops){where}",
            hint="rebuild the recurrent layers (LSTM, GRU, SimpleRNN) with unroll=True (fixed "
                 "sequence length) and save again, or replace them with Conv1D")
    return QuantizeError(f"TFLite conversion failed: {why}")


def unread(graph: Graph, ops: Sequence[Op]) -> list[Op]:
    """The ops with an output that no op reads and that is no graph output."""
    read = {i for op in graph.ops for i in op.inputs} | set(graph.outputs)
    return [op for op in ops if any(i not in read for i in op.outputs)]


def _float_ops(tflite: bytes) -> tuple[Graph, list[Op]] | None:
    from tinykit.analyze.api import float_ops
    from tinykit.errors import TinykitError
    from tinykit.graph import parse_tflite

    try:
        graph = parse_tflite(tflite, "converted")
    except TinykitError:  # quantize's own checks report it
        return None
    return graph, float_ops(graph)


def left_in_float(tflite: bytes) -> bool:
    """Whether TF left any op of this .tflite in float."""
    found = _float_ops(tflite)
    return bool(found and found[1])


def lost_unread_output(tflite: bytes) -> bool:
    """Whether TF left an op in float that has an output no op reads.

    TF 2.21's MLIR quantizer does that at random (about one process in two, the
    same model and data; not PYTHONHASHSEED) to a SPLIT whose part is never read:
    the first step of an unrolled LSTM (its forget gate multiplies the zero initial
    cell state) or of a GRU with an all-zero recurrent bias. TF's older quantizer
    (``experimental_new_quantizer = False``) quantizes it every time, and the AOT C
    is bit-exact with TFLM on its output: :func:`tinykit.quantize.convert.convert_int8`
    converts again with it.
    """
    found = _float_ops(tflite)
    return bool(found and unread(*found))


def float_hint(graph: Graph, float_ops: Sequence[Op]) -> str | None:
    """Why TF left these ops in float when one of them has an output no op reads
    (when even the older quantizer, :func:`lost_unread_output`, left it in float)."""
    for op in unread(graph, float_ops):
        why = (f"TensorFlow's quantizer leaves {op.kind} in float because one of its outputs "
               "is never read")
        if any(k in graph.layer_name(op).lower() for k in ("gru", "lstm", "rnn")):
            return (f"{why} (TF's older quantizer too): the first step of an unrolled "
                    "recurrent layer (an LSTM's forget gate, or a GRU's reset gate with an "
                    "all-zero recurrent bias); quantize the trained model")
        return f"{why}; remove the unused output from the model"
    return None
