"""A small model with Keras LayerNormalization (TF 2.21 leaves its -mean as a float
NEG, folded into an int8 table) end to end on qemu-m4 through the real parts:
`tinykit build --compile` (pio, arm-none-eabi-gcc), `tinykit flash` (QEMU),
`tinykit test` over the serial link, bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite
from tinykit.graph.islands import ISLAND, fold_islands

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _build(tf, x):  # noqa: ANN001, ANN202
    L = tf.keras.layers
    return L.Dense(4)(L.Flatten()(L.LayerNormalization()(L.Dense(12)(x))))


def test_layernorm_model_bit_exact_on_qemu_m4(tmp_path):
    tflite = quantized(_build, (6, 8), 13)
    graph = parse_tflite(tflite)
    assert "NEG" in {op.kind for op in graph.ops}
    assert ISLAND in {op.kind for op in fold_islands(graph).ops}
    (model := tmp_path / "layernorm.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (12, 6, 8), dtype=np.int8))
