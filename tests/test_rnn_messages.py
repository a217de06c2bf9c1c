"""What quantize says about recurrent layers TF 2.21 cannot take to int8
(tinykit.quantize.rnn), on TF's real messages, without TF."""

from __future__ import annotations

import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.quantize.rnn import conversion_failed, converter_error, float_hint, loop_layers

pytestmark = pytest.mark.unit

# The converter's exception for a SavedModel of a rolled Keras 3 LSTM (TF 2.21), shortened.
LOC = ('loc(callsite(fused["TensorListReserve:", "functional_1/lstm_1/TensorArrayV2_1@'
       '__inference___call___510"] at callsite(fused["StatefulPartitionedCall:", '
       '"StatefulPartitionedCall@__inference_signature_wrapper___call___518"] at '
       'fused["StatefulPartitionedCall:", "StatefulPartitionedCall_1"])))')
SAVED_LSTM = "\n".join([
    f"<unknown>:0: error: {LOC}: 'tf.TensorListReserve' op requires element_shape to be "
    "static during TF Lite transformation pass",
    f"<unknown>:0: note: {LOC}: called from",
    "<unknown>:0: error: Lowering tensor list ops is failed. Please consider using Select TF "
    "ops and disabling `_experimental_lower_tensor_list_ops` flag in the TFLite converter object.",
])


def test_converter_error_drops_mlir_locations() -> None:
    assert converter_error(SAVED_LSTM) == ("'tf.TensorListReserve' op requires element_shape "
                                           "to be static during TF Lite transformation pass")


def test_loop_layers_names_the_recurrent_layer() -> None:
    assert loop_layers(SAVED_LSTM) == ["lstm_1"]


def test_savedmodel_loop_message_and_hint() -> None:
    e = conversion_failed(RuntimeError(SAVED_LSTM), [("input", "InputLayer"),
                                                     ("tfsm_layer", "TFSMLayer")])
    assert e.message == ("TFLite conversion failed: 'tf.TensorListReserve' op requires "
                         "element_shape to be static during TF Lite transformation pass; a "
                         "recurrent loop (TensorList/While ops) in layer 'lstm_1'")
    assert e.hint is not None and "unroll=True" in e.hint and "\n" not in e.format_message()


def test_keras_rnn_layers_are_named_with_the_workaround() -> None:
    e = conversion_failed(RuntimeError(SAVED_LSTM), [("gru", "GRU"), ("dense", "Dense")])
    assert e.message.endswith("likely responsible: layer 'gru' (GRU)")
    assert e.hint is not None and e.hint.startswith("build the GRU layers with unroll=True")


def test_other_failures_keep_their_first_error_only() -> None:
    e = conversion_failed(RuntimeError("error: 'tfl.gelu' op is neither a custom op nor a flex "
                                       "op\nnote: see current operation"), [("d", "Dense")])
    assert e.message == "TFLite conversion failed: 'tfl.gelu' op is neither a custom op nor a flex op"
    assert e.hint is None


def _gru_first_step(dead_output: bool) -> tuple[Graph, list[Op]]:
    """DEQUANTIZE -> float SPLIT into 3 -> QUANTIZE of z and h: the first step of an
    unrolled GRU with an all-zero recurrent bias (TF 2.21), the r part never read."""
    q = Quant((0.0134,), (-4,))
    t = [Tensor(0, "fc", (1, 24), "int8", q), Tensor(1, "axis", (), "int32", None, b"\1\0\0\0"),
         Tensor(2, "deq", (1, 24), "float32", None),
         *(Tensor(3 + i, f"gru_1/gru_cell_1/split_{i}", (1, 8), "float32", None) for i in range(3)),
         Tensor(6, "z", (1, 8), "int8", q), Tensor(7, "h", (1, 8), "int8", q),
         Tensor(8, "r", (1, 8), "int8", q)]
    ops = [Op(0, "DEQUANTIZE", 2, (0,), (2,)), Op(1, "SPLIT", 2, (1, 2), (3, 4, 5)),
           Op(2, "QUANTIZE", 1, (3,), (6,)), Op(3, "QUANTIZE", 1, (5,), (7,))]
    if not dead_output:
        ops.append(Op(4, "QUANTIZE", 1, (4,), (8,)))
    g = Graph("gru", tuple(t), tuple(ops), (0,), (6, 7) + (() if dead_output else (8,)), 0)
    return g, [ops[1]]


def test_float_hint_explains_a_gru_split_with_an_unread_output() -> None:
    g, ops = _gru_first_step(dead_output=True)
    hint = float_hint(g, ops)
    assert hint is not None and "one of its outputs is never read" in hint
    assert "all-zero recurrent bias" in hint and "trained model" in hint


def test_float_hint_is_none_when_every_output_is_read() -> None:
    g, ops = _gru_first_step(dead_output=False)
    assert float_hint(g, ops) is None
