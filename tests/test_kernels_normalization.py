"""RSQRT int8 (tinykit/ops/rsqrt.py: a 256-entry table of TFLM's RsqrtEvalQuantized)
and the normalization layers that need it, against TFLM bit by bit.

TF 2.21 converts Keras ``LayerNormalization(rms_scaling=True)`` and a hand-written
RMS norm to full int8 (MEAN, SQUARED_DIFFERENCE, ADD, RSQRT, MUL); a plain
``LayerNormalization`` keeps one float NEG (-mean) and ``RMSNormalization`` one
float SQUARE between a DEQUANTIZE and a QUANTIZE, which tinykit folds into an int8
table (tinykit/graph/islands.py; asserted below, so a converter change shows; end to
end in tests/test_float_islands.py). Models are seeded with random shapes and constants; on the host each
goes through ``tinykit verify`` on random inputs plus every int8 value at every
input position; on QEMU Cortex-M4 the generated C is linked bare-metal and its
UART output compared with TFLM (emu tier).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aot_helpers import aot_graph, check, check_on_qemu, quantized

from tinykit.graph import parse_tflite
from tinykit.graph.islands import ISLAND, fold_islands
from tinykit.ops import find_unsupported

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

Builder = Callable[[Any, Any], Any]
Case = Callable[[random.Random], tuple[Builder, tuple[int, ...]]]


def _rsqrt(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """rsqrt((x + 2) * a + c) (x is calibrated on [-2, 2]): every int8 value reaches
    the table, input zero point -128; random a and c (tiny c: the saturated end)."""
    a, c = r.uniform(0.2, 4.0), r.choice([1e-3, r.uniform(0.01, 1.0)])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.Lambda(lambda t: tf.math.rsqrt((t + 2.0) * a + c))(x)

    return build, (r.randint(8, 40),)


def _rms_layer(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Dense + Keras LayerNormalization(rms_scaling=True) over the last axis."""
    width = r.randint(3, 24)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.LayerNormalization(rms_scaling=True)(L.Dense(width)(x))

    return build, (r.randint(1, 8), r.randint(2, 12))


def _rms_manual(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """x * rsqrt(mean(x^2) + eps) * g: an RMS norm written with tf ops."""
    width = r.randint(2, 20)
    g = np.asarray([r.uniform(0.5, 1.5) for _ in range(width)], np.float32)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.Lambda(lambda t: t * tf.math.rsqrt(
            tf.reduce_mean(t * t, axis=-1, keepdims=True) + 1e-3) * g)(x)

    return build, (r.randint(1, 8), width)


CASES: dict[str, Case] = {"rsqrt": _rsqrt, "rms_layer": _rms_layer, "rms_manual": _rms_manual}
EXPECT = {"rsqrt": {"RSQRT"}, "rms_layer": {"RSQRT", "MEAN", "MUL"},
          "rms_manual": {"RSQRT", "MEAN", "MUL"}}
SEEDS = (0, 1, 2)


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"norm-{name}-{seed}")
    build, shape = CASES[name](r)
    return quantized(build, shape, 4000 + seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    tflite = model(name, seed)
    aot_graph(tflite, name, EXPECT[name])
    check(tflite, tmp_path, name, samples=60, seed=seed, sweep_inputs=True)


@pytest.mark.parametrize(("layer", "float_op"), [("LayerNormalization", "NEG"),
                                                  ("RMSNormalization", "SQUARE")])
def test_normalization_layers_that_keep_a_float_op(layer: str, float_op: str,
                                                   tmp_path: Path) -> None:
    """TF 2.21 leaves LayerNormalization's -mean (NEG) and RMSNormalization's x^2
    (SQUARE) in float, between DEQUANTIZE and QUANTIZE (TFLM runs both in float
    only); that op is the only one the AOT runtime lacks as it stands, the chain folds
    into one int8 table, and the model is then bit-exact (RSQRT and the rest are int8
    kernels)."""
    def build(tf, x):  # noqa: ANN001, ANN202
        return getattr(tf.keras.layers, layer)()(tf.keras.layers.Dense(16)(x))

    tflite = quantized(build, (8, 16), 5)
    graph = parse_tflite(tflite, layer)
    kinds = [op.kind for op in graph.ops]
    assert {"RSQRT", "MEAN", "DEQUANTIZE", float_op, "QUANTIZE"} <= set(kinds), kinds
    op = next(op for op in graph.ops if op.kind == float_op)
    assert graph.tensor(op.inputs[0]).dtype == "float32"
    assert [u.op for u in find_unsupported("aot", graph)] == [float_op]
    folded = fold_islands(graph)
    assert [o.options["chain"] for o in folded.ops if o.kind == ISLAND] == [
        ("DEQUANTIZE", float_op, "QUANTIZE")]
    assert find_unsupported("aot", folded) == []
    check(tflite, tmp_path, layer, samples=40, seed=0, sweep_inputs=True)


@pytest.mark.emu
@pytest.mark.parametrize("name", sorted(CASES))
def test_cortex_m4_bit_exact(name: str, tmp_path: Path) -> None:
    """Generated C linked bare-metal for Cortex-M4 (mps2-an386), -O2, on QEMU: every
    int8 value at every position and 4 random inputs."""
    check_on_qemu(model(name, 0), tmp_path, name)
