"""A small Keras convolutional autoencoder with Conv2DTranspose decoders end to end on
qemu-m4 through the real parts: `tinykit build --compile` (pio, arm-none-eabi-gcc),
`tinykit flash` (QEMU), `tinykit test` over the serial link, bit-exact with TFLM."""

from __future__ import annotations

import json

import numpy as np
import pytest
from aot_helpers import quantized
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state, tinykit  # noqa: F401 (module fixture)

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def _autoencoder(tf, x):  # noqa: ANN001, ANN202
    """Encoder: two strided Conv2D; decoder: Conv2DTranspose stride 2 (BatchNormalization
    + ReLU folded and fused into it), Conv2DTranspose stride 2 with a non-square 3x2
    kernel, and a 'valid' 1x1 Conv2DTranspose back to one channel."""
    L = tf.keras.layers
    h = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    h = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    h = L.Conv2DTranspose(16, 3, strides=2, padding="same", use_bias=False)(h)
    h = L.ReLU()(L.BatchNormalization(beta_initializer="random_uniform")(h))
    h = L.Conv2DTranspose(8, (3, 2), strides=2, padding="same", activation="relu")(h)
    return L.Conv2DTranspose(1, 1, padding="valid", activation="sigmoid")(h)


def test_conv2d_transpose_autoencoder_bit_exact_on_qemu_m4(tmp_path):
    tflite = quantized(_autoencoder, (16, 16, 1), 11)
    graph = parse_tflite(tflite)
    tconv = [op for op in graph.ops if op.kind == "TRANSPOSE_CONV"]
    assert len(tconv) == 3, [op.kind for op in graph.ops]
    assert graph.output_tensors[0].shape == (1, 16, 16, 1)
    (model := tmp_path / "autoencoder.tflite").write_bytes(tflite)
    hil_bit_exact(model, np.random.default_rng(4).integers(-128, 128, (8, 16, 16, 1), dtype=np.int8))
    # no int32 scratch of the output's size: the whole AOT RAM (arena + measured stack)
    # stays below the arena TFLM itself reports for the model
    mem = json.loads(tinykit("analyze", str(model), "--board", "qemu-m4", "--json").stdout)["memory"]
    assert mem["ram_bytes"] < mem["tflm_arena_bytes"] / 2, mem
