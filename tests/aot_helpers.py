"""Test helpers for the AOT code generator: quantize a small Keras model with the
real converter, then compare the generated C (host gcc) with TFLM bit by bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tinykit.quantize import convert_int8, import_tf
from tinykit.verify.api import VerifyConfig, VerifyReport, verify


def quantized(build: Any, shape: tuple[int, ...], seed: int) -> bytes:
    """Build ``build(tf, keras_input)`` -> output, quantize on random calibration data."""
    tf = import_tf()
    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input(shape)
    model = tf.keras.Model(inp, build(tf, inp))
    rng = np.random.default_rng(seed)
    calib = (rng.random((32, *shape), dtype=np.float32) * 4 - 2).astype(np.float32)
    return convert_int8(model, calib)


def check(tflite: bytes, tmp: Path, name: str = "m", samples: int = 20) -> VerifyReport:
    path = tmp / f"{name}.tflite"
    path.write_bytes(tflite)
    report = verify(VerifyConfig(path, samples=samples, seed=1, measure=False))
    assert report.samples == samples
    assert report.bit_exact, (f"{report.mismatches} differ (max {report.max_abs_diff}), "
                              f"first at {report.first_diff_layer}")
    return report
