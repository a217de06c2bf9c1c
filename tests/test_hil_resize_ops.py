"""A small Keras decoder with UpSampling2D(interpolation="bilinear") end to end on
qemu-m4 through the real parts: `tinykit build --compile` (pio,
arm-none-eabi-gcc), `tinykit flash` (QEMU), `tinykit test` over the serial link,
bit-exact with TFLM. A nearest resize (tf.image.resize) and a log_softmax head
ride along."""

from __future__ import annotations

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _build(tf, x):  # noqa: ANN001, ANN202
    """Conv -> UpSampling2D(2, bilinear) -> conv -> nearest resize to 12x12 ->
    a 1x1 conv to 4 classes per pixel -> log_softmax over the classes."""
    L = tf.keras.layers
    h = L.Conv2D(6, 3, padding="same", activation="relu")(x)
    h = L.UpSampling2D(2, interpolation="bilinear")(h)
    h = L.Conv2D(4, 3, padding="same", activation="relu")(h)
    h = L.Lambda(lambda t: tf.image.resize(t, (12, 12), method="nearest"))(h)
    return L.Lambda(lambda t: tf.nn.log_softmax(t))(L.Conv2D(4, 1)(h))


def test_upsampling_bilinear_model_bit_exact_on_qemu_m4(tmp_path):
    tflite = quantized(_build, (5, 5, 2), 11)
    ops = parse_tflite(tflite).ops
    assert {"RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "LOG_SOFTMAX"} <= {op.kind for op in ops}
    up = next(op for op in ops if op.kind == "RESIZE_BILINEAR")
    assert up.options.get("half_pixel_centers") and not up.options.get("align_corners")
    (model := tmp_path / "upsample.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (10, 5, 5, 2), dtype=np.int8))
