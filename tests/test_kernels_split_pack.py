"""SPLIT, SPLIT_V, UNPACK, PACK and TILE (Keras 3's UpSampling2D) against the
reference, bit by bit: TFLM, or TFLite's reference kernels for a model with TILE
(TFLM has no TILE kernel; :mod:`tinykit.reference`).

Each case is a small seeded Keras model (random shapes, axes, split sizes and
multiples), really converted to int8: on the host through ``tinykit verify``
(generated C, gcc) on random inputs plus every int8 value at every input
position; on QEMU Cortex-M4 the generated C is linked bare-metal and its UART
output compared with the reference (emu tier). An unrolled SimpleRNN (UNPACK,
PACK) runs end to end too (an unrolled LSTM's gate SPLIT is left in float by the
converter in some runs: the RNN work covers it).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aot_helpers import aot_graph, check, check_c_program, check_on_qemu, quantized

from tinykit import reference
from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

Builder = Callable[[Any, Any], Any]
Case = Callable[[random.Random], tuple[Builder, tuple[int, ...]]]


def _shape(r: random.Random) -> tuple[int, ...]:
    return (r.randint(2, 5), r.randint(2, 5), r.randint(2, 6))


def _split(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """tf.split into equal parts along a random axis, the parts recombined in
    reverse order (each output read by a different op)."""
    shape = list(_shape(r))
    axis = r.randint(1, 3)
    n = r.choice([2, 3])
    shape[axis - 1] = n * r.randint(1, 3)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        parts = L.Lambda(lambda t: tf.split(t, n, axis=axis))(L.Activation("tanh")(x))
        return L.Concatenate()([L.Flatten()(p) for p in parts[::-1]])

    return build, tuple(shape)


def _split_v(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """tf.split by random sizes along a random axis, one part through tanh (every part
    is used: the converter may leave an op with an unused output in float)."""
    shape = list(_shape(r))
    axis = r.randint(1, 3)
    shape[axis - 1] = r.randint(3, 7)
    cut = sorted(r.sample(range(1, shape[axis - 1]), 2))
    sizes = [cut[0], cut[1] - cut[0], shape[axis - 1] - cut[1]]

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        a, b, c = L.Lambda(lambda t: tf.split(t, sizes, axis=axis))(L.Activation("tanh")(x))
        return L.Concatenate()([L.Flatten()(c), L.Flatten()(L.Activation("tanh")(a)),
                                L.Flatten()(b)])

    return build, tuple(shape)


def _unstack_stack(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """tf.unstack along a random axis, the slices stacked back in reverse order along
    another random axis."""
    shape = _shape(r)
    axis, to = r.randint(1, 3), r.randint(1, 3)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        parts = L.Lambda(lambda t: tf.unstack(t, axis=axis))(L.Activation("tanh")(x))
        return L.Lambda(lambda ts: tf.stack(ts[::-1], axis=to))(parts)

    return build, shape


def _upsampling(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Conv2D, UpSampling2D (nearest, RESHAPE + TILE) by random factors, Conv2D."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(1, 4))
    size = (r.randint(1, 3), r.randint(2, 3))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        h = L.Conv2D(r.randint(2, 5), 3, padding="same", activation="relu")(x)
        return L.Conv2D(2, 3, padding="same")(L.UpSampling2D(size)(h))

    return build, shape


def _tile(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """tf.tile by random multiples (batch kept) of a 3-D or 4-D tensor."""
    shape = r.choice([_shape(r), (r.randint(2, 6), r.randint(1, 5))])
    mult = [1] + [r.randint(1, 3) for _ in shape]

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.Lambda(lambda t: tf.tile(t, mult))(L.Activation("tanh")(x))

    return build, shape


def _simple_rnn(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """SimpleRNN(unroll=True, return_sequences=True): UNPACK over time, PACK back."""
    shape = (r.randint(3, 6), r.randint(2, 4))

    def build(tf, x):  # noqa: ANN001, ANN202
        return tf.keras.layers.SimpleRNN(r.randint(3, 8), unroll=True, return_sequences=True)(x)

    return build, shape


CASES: dict[str, Case] = {"split": _split, "split_v": _split_v, "unstack_stack": _unstack_stack,
                          "upsampling": _upsampling, "tile": _tile, "simple_rnn": _simple_rnn}
EXPECT = {"split": {"SPLIT"}, "split_v": {"SPLIT_V"}, "unstack_stack": {"UNPACK", "PACK"},
          "upsampling": {"TILE"}, "tile": {"TILE"}, "simple_rnn": {"UNPACK", "PACK"}}
SEEDS = (0, 1, 2)


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"{name}-{seed}")
    build, shape = CASES[name](r)
    return quantized(build, shape, 3000 + seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    tflite = model(name, seed)
    graph = aot_graph(tflite, name, EXPECT[name])
    kinds = {op.kind for op in graph.ops}
    assert reference.engine(tflite) == ("tflite" if "TILE" in kinds else "tflm")
    check(tflite, tmp_path, name, samples=40, seed=seed, sweep_inputs=True)


def test_tflite_reference_tile_is_numpy_tile() -> None:
    """The reference for TILE (TFLite's reference kernel) is checked against np.tile on
    every TILE of an UpSampling2D model, so a bit-exact verify means the right bytes."""
    tflite = model("upsampling", 1)
    graph = parse_tflite(tflite)
    x = np.random.default_rng(0).integers(-128, 128, graph.input_tensors[0].shape, dtype=np.int8)
    tensors = reference.run_tensors(tflite, x)
    tiles = [op for op in graph.ops if op.kind == "TILE"]
    assert tiles
    for op in tiles:
        mult = graph.tensor(op.inputs[1]).array()
        assert np.array_equal(tensors[op.outputs[0]], np.tile(tensors[op.inputs[0]], mult))


@pytest.mark.emu
@pytest.mark.parametrize("name", sorted(CASES))
def test_cortex_m4_bit_exact(name: str, tmp_path: Path) -> None:
    """Generated C linked bare-metal for Cortex-M4 (mps2-an386), -O2, on QEMU."""
    check_on_qemu(model(name, 0), tmp_path, name)


NULL_C = r"""
#include <stdio.h>
#include "tk_kernels.h"
int main(void) {
  static const TkStridedStoreParams st = {{1, 1, 1, 2, 2}, {0, 0, 0, 4, 1}};
  int8_t a[4] = {1, -2, 3, -4}, y[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int bad = 0;
  bad += tk_strided_store_s8(NULL, a, y) != TK_BAD_ARGUMENT;
  bad += tk_strided_store_s8(&st, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_strided_store_s8(&st, a, NULL) != TK_BAD_ARGUMENT;
  bad += y[0] != 0; /* nothing written */
  /* PACK of two [2][2] inputs on axis 1: a lands at rows 0 and 2 of y */
  bad += tk_strided_store_s8(&st, a, y) != TK_OK || y[0] != 1 || y[1] != -2 || y[4] != 3 ||
         y[5] != -4 || y[2] != 0;
  printf("%d\n", bad);
  return bad != 0;
}
"""


def test_strided_store_refuses_null_arguments(tmp_path: Path) -> None:
    """tk_strided_store_s8 through its C API: NULL pointers give TK_BAD_ARGUMENT before
    anything is written; a small PACK-shaped call writes the expected bytes."""
    check_c_program(NULL_C, tmp_path)
