"""``tinykit.tensors``: one quantization and one classifier rule, used by every verb."""

from __future__ import annotations

import numpy as np
import pytest

from tinykit.errors import DataError
from tinykit.graph import Quant
from tinykit.quantize.api import compare
from tinykit.serial.client import quantize_input
from tinykit.serial.protocol import TensorSpec
from tinykit.tensors import dequantize_array, is_classifier, quantize_array, round_half_away, top1

pytestmark = pytest.mark.unit


def test_quantize_rounds_like_tflite() -> None:
    """TFLite's QUANTIZE: float32 x / scale, std::round (halves away from zero), + zero point."""
    q = Quant((0.5,), (3,))
    x = np.array([0.25, -0.25, 0.75, -0.75, 1000.0, -1000.0], np.float32)
    want = [round_half_away(float(np.float32(v) / np.float32(0.5))) + 3 for v in x]
    assert quantize_array(x, q).tolist() == [min(127, max(-128, w)) for w in want] == [4, 2, 5, 1, 127, -128]
    assert quantize_array(x, q, "int16").tolist()[-2:] == [2003, -1997]


def test_round_trip_within_half_a_step() -> None:
    q = Quant((0.02,), (-5,))
    x = np.random.default_rng(0).uniform(-2.4, 2.4, 1000).astype(np.float32)
    back = dequantize_array(quantize_array(x, q), q)
    assert back.dtype == np.float32 and np.max(np.abs(back - x)) <= 0.01 + 1e-6


def test_serial_client_quantizes_with_the_shared_rule() -> None:
    spec = TensorSpec((1, 4), "int8", 4, 0.5, 3)
    x = np.array([0.25, -0.25, 0.75, 9.0], np.float32)
    np.testing.assert_array_equal(quantize_input(x, spec), quantize_array(x, Quant((0.5,), (3,))))


def test_one_classifier_rule() -> None:
    softmax = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])
    logits = np.array([[1.5, -0.3, 2.0], [0.1, 0.2, 0.3]])
    assert is_classifier(softmax) and not is_classifier(logits)
    assert top1(softmax).tolist() == [1, 0] and top1(logits) is None
    assert compare(softmax, softmax).kind == "top1"
    assert compare(logits, logits).kind == "regression"
    # int8 softmax output (scale 1/256, zero point -128), dequantized: off by up to a step each
    q = Quant((1 / 256,), (-128,))
    real = dequantize_array(quantize_array(softmax, q), q)
    assert top1(real, step=1 / 256).tolist() == [1, 0]


def test_run_reports_a_class_only_for_probabilities() -> None:
    from tinykit.serial.run import _read_output

    def info(scale: float, zp: int):  # noqa: ANN202 - the fields _read_output reads
        from types import SimpleNamespace

        return SimpleNamespace(output=TensorSpec((1, 3), "int8", 3, scale, zp))

    probs = quantize_array(np.array([[0.1, 0.7, 0.2]]), Quant((1 / 256,), (-128,)))
    real, cls = _read_output(probs, info(1 / 256, -128))  # type: ignore[arg-type]
    assert cls == 1 and real is not None and abs(float(real.sum()) - 1.0) < 3 / 256
    _, cls = _read_output(np.array([[10, -3, 40]], np.int8), info(0.1, 0))  # type: ignore[arg-type]
    assert cls is None  # a regression (or logits): no class


def test_hil_labels_need_a_classifier(ds_cnn, autoencoder) -> None:  # noqa: ANN001
    from tinykit.graph import parse_tflite
    from tinykit.hil.api import _is_classifier
    from tinykit.reference import run

    g = parse_tflite(ds_cnn.tflite, "ds_cnn")
    x = quantize_array(ds_cnn.calib[:4], g.input_tensors[0].quant)
    assert _is_classifier(run(ds_cnn.tflite, x).outputs, g, labelled=True)
    g = parse_tflite(autoencoder.tflite, "autoencoder")
    x = quantize_array(autoencoder.calib[:4], g.input_tensors[0].quant)
    out = run(autoencoder.tflite, x).outputs
    assert not _is_classifier(out, g, labelled=False)
    with pytest.raises(DataError, match="not class probabilities"):
        _is_classifier(out, g, labelled=True)
