"""Issue 10, Embedding end to end on qemu-m4: an Embedding model (int32 token input,
quantized with int32 calibration ids) through `tinykit build --compile`, `tinykit
flash` (QEMU) and `tinykit test` over the serial link (int32 input bytes, little
endian), bit-exact with the reference, negative ids included."""

from __future__ import annotations

import numpy as np
import pytest
from embedding_models import embedding_tflite
from hil_helpers import hil_bit_exact
from test_hil_qemu import emulator_state  # noqa: F401 (module fixture)

pytestmark = pytest.mark.emu  # PlatformIO + QEMU


def test_embedding_model_bit_exact_on_qemu_m4(tmp_path):
    tflite = embedding_tflite(tmp_path, vocab=50, dim=8, seq=8, classes=4, seed=0)
    (model := tmp_path / "emb.tflite").write_bytes(tflite)
    ids = np.random.default_rng(3).integers(-50, 50, (12, 8), dtype=np.int32)
    hil_bit_exact(model, ids)
