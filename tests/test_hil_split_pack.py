"""Two small Keras models made of the data-movement ops end to end on qemu-m4 through
the real parts: `tinykit build --compile` (pio, arm-none-eabi-gcc), `tinykit flash`
(QEMU), `tinykit test` over the serial link, bit-exact with the reference:
UpSampling2D (RESHAPE + TILE; TFLM has no TILE kernel, the reference is TFLite's
reference kernels) and split / unstack / stack (SPLIT, SPLIT_V, UNPACK, PACK)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _upsampling(tf, x):  # noqa: ANN001, ANN202
    """Conv2D, UpSampling2D (2, 2), Conv2D, pooled to a small dense head."""
    L = tf.keras.layers
    h = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = L.Conv2D(3, 3, padding="same")(L.UpSampling2D()(h))
    return L.Dense(4)(L.Flatten()(L.MaxPooling2D(2)(h)))


def _split_stack(tf, x):  # noqa: ANN001, ANN202
    """tf.split (SPLIT), tf.split by sizes (SPLIT_V), tf.unstack / tf.stack (UNPACK,
    PACK) of a Conv1D feature map, recombined into a dense head."""
    L = tf.keras.layers
    h = L.Conv1D(6, 3, activation="relu")(x)
    a, b = L.Lambda(lambda t: tf.split(t, 2, axis=-1))(h)
    c, d = L.Lambda(lambda t: tf.split(t, [2, 4], axis=1))(h)
    steps = L.Lambda(lambda t: tf.unstack(t, axis=1))(L.Maximum()([a, b]))
    s = L.Lambda(lambda ts: tf.stack(ts[::-1], axis=2))(steps)
    return L.Dense(4)(L.Concatenate()([L.Flatten()(s), L.Flatten()(c), L.Flatten()(d)]))


def test_upsampling2d_model_bit_exact_on_qemu_m4(tmp_path: Path) -> None:
    tflite = quantized(_upsampling, (6, 6, 2), 7)
    assert "TILE" in {op.kind for op in parse_tflite(tflite).ops}
    (model := tmp_path / "upsampling.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (10, 6, 6, 2), dtype=np.int8))


def test_split_stack_model_bit_exact_on_qemu_m4(tmp_path: Path) -> None:
    tflite = quantized(_split_stack, (8, 3), 7)
    kinds = {op.kind for op in parse_tflite(tflite).ops}
    assert {"SPLIT", "SPLIT_V", "UNPACK", "PACK"} <= kinds, kinds
    (model := tmp_path / "split_stack.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (10, 8, 3), dtype=np.int8))
