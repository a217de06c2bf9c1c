"""A small Keras model made of the issue-10 ops end to end on qemu-m4 through the
real parts: `tinykit build --compile` (pio, arm-none-eabi-gcc), `tinykit flash`
(QEMU), `tinykit test` over the serial link, bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _build(tf, x):  # noqa: ANN001, ANN202
    """Conv1D + GlobalAveragePooling1D (MEAN over time) and a max over time
    (REDUCE_MAX), their difference (SUB), Maximum with a dense branch, PReLU, |.|."""
    L = tf.keras.layers
    h = L.Conv1D(8, 3, activation="relu")(x)
    avg = L.GlobalAveragePooling1D()(h)
    peak = L.Lambda(lambda t: tf.reduce_max(t, axis=1))(h)
    d = L.Subtract()([peak, avg])
    m = L.Maximum()([d, L.Dense(8)(avg)])
    p = L.PReLU()(L.Dense(6)(m))
    return L.Dense(4)(L.Lambda(lambda t: tf.abs(t))(p))


def test_issue10_ops_model_bit_exact_on_qemu_m4(tmp_path):
    tflite = quantized(_build, (32, 3), 7)
    kinds = {op.kind for op in parse_tflite(tflite).ops}
    assert {"MEAN", "REDUCE_MAX", "SUB", "MAXIMUM", "PRELU", "ABS"} <= kinds, kinds
    (model := tmp_path / "issue10.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (12, 32, 3), dtype=np.int8))
