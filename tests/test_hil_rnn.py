"""An unrolled recurrent net (issue 10 item 3) end to end on qemu-m4 through the
real parts: a Keras 3 LSTM with unroll=True really converted by TF 2.21 (UNPACK,
FULLY_CONNECTED, SPLIT, ADD, MUL, LOGISTIC, TANH, PACK), `tinykit build --compile`
(pio, arm-none-eabi-gcc), `tinykit flash` (QEMU), `tinykit test` over the serial
link: bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _build(tf, x):  # noqa: ANN001, ANN202
    """LSTM(8, unroll=True, return_sequences=True) over 10 steps, random nonzero
    weights (as after training), then a Dense on the last step's output."""
    L = tf.keras.layers
    lstm = L.LSTM(8, unroll=True, return_sequences=True)
    h = lstm(x)
    rng = np.random.default_rng(5)
    lstm.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                      for w in lstm.get_weights()])
    return L.Dense(3)(L.Lambda(lambda t: t[:, -1])(h))


def test_unrolled_lstm_bit_exact_on_qemu_m4(tmp_path):
    tflite = quantized(_build, (10, 4), 11)
    kinds = {op.kind for op in parse_tflite(tflite).ops}
    assert {"UNPACK", "SPLIT", "PACK", "FULLY_CONNECTED", "LOGISTIC", "TANH", "MUL"} <= kinds, kinds
    (model := tmp_path / "lstm.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (12, 10, 4), dtype=np.int8))
