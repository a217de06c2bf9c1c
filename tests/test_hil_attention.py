"""A tiny transformer block end to end on qemu-m4 through the real parts: Keras
MultiHeadAttention (seq 8, width 16, 2 heads) with a residual ADD and an RMS
LayerNormalization, converted to full int8 by `tinykit quantize` (no float op
left), then `tinykit build --compile` (pio, arm-none-eabi-gcc), `tinykit flash`
(QEMU), `tinykit test` over the serial link, bit-exact with TFLM."""

from __future__ import annotations

import numpy as np
import pytest
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state, tinykit  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # TF, PlatformIO + QEMU


def _keras_model(path):  # noqa: ANN001, ANN202
    from tinykit.quantize import import_tf

    tf = import_tf()
    tf.keras.utils.set_random_seed(11)
    L = tf.keras.layers
    x = tf.keras.Input((8, 16))
    h = L.Dense(16)(x)
    a = L.MultiHeadAttention(num_heads=2, key_dim=8)(h, h)
    y = L.LayerNormalization(rms_scaling=True)(L.Add()([h, a]))
    out = L.Dense(4)(L.GlobalAveragePooling1D()(y))
    tf.keras.Model(x, out).save(path)


def test_attention_block_quantizes_to_int8_and_runs_bit_exact_on_qemu_m4(tmp_path):
    _keras_model(keras := tmp_path / "attn.keras")
    np.save(calib := tmp_path / "calib.npy",
            np.random.default_rng(0).uniform(-2, 2, (64, 8, 16)).astype(np.float32))
    model = tmp_path / "attn.tflite"
    r = tinykit("quantize", str(keras), "--data", str(calib), "-o", str(model), "--json")
    assert r.returncode == 0, r.stdout + r.stderr  # full int8: no float island
    kinds = {op.kind for op in parse_tflite(model.read_bytes()).ops}
    assert {"BATCH_MATMUL", "SOFTMAX", "TRANSPOSE", "RSQRT", "MEAN"} <= kinds, kinds
    assert not kinds & {"DEQUANTIZE", "QUANTIZE"}, kinds
    hil_bit_exact(model, np.random.default_rng(3).integers(-128, 128, (12, 8, 16), dtype=np.int8))
