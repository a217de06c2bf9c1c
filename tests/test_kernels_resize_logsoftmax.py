"""RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR and LOG_SOFTMAX against TFLM, bit by bit.

Each case is a small seeded Keras model really converted to int8: Keras
UpSampling2D(interpolation="bilinear") and Resizing, tf.image.resize (nearest
and bilinear, half_pixel_centers), tf.compat.v1 resizes with align_corners and
with neither flag, up and down to random sizes; tf.nn.log_softmax over the last
axis of a dense and of a 4-D tensor. On the host each goes through ``tinykit
verify`` (generated C, gcc, TFLM reference) on random inputs plus every int8
value at every input position; on QEMU Cortex-M4 the generated C is linked
bare-metal and its UART output compared with TFLM (emu tier).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aot_helpers import aot_graph, check, check_c_program, check_on_qemu, quantized

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

Builder = Callable[[Any, Any], Any]
Case = Callable[[random.Random], tuple[Builder, tuple[int, ...]]]


def _image(r: random.Random) -> tuple[int, int, int]:
    return r.randint(1, 6), r.randint(1, 6), r.randint(1, 5)


def _size(r: random.Random, h: int, w: int) -> tuple[int, int]:
    """A random output size: up, down or mixed."""
    return r.randint(1, 3 * h + 2), r.randint(1, 3 * w + 2)


def _upsampling_bilinear(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Keras UpSampling2D(bilinear) by a random factor after tanh (half_pixel_centers)."""
    shape = _image(r)
    factor = (r.randint(1, 4), r.randint(2, 4))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.UpSampling2D(factor, interpolation="bilinear")(L.Activation("tanh")(x))

    return build, shape


def _resizing(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Keras Resizing (bilinear) and tf.image.resize(nearest) to random sizes."""
    shape = _image(r)
    a, b = _size(r, *shape[:2]), _size(r, *shape[:2])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        t = L.Activation("tanh")(x)
        return L.Concatenate()([
            L.Flatten()(L.Resizing(*a)(t)),
            L.Flatten()(L.Lambda(lambda v: tf.image.resize(v, b, method="nearest"))(t))])

    return build, shape


def _v1(align: bool) -> Case:
    def case(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
        """tf.compat.v1 resize_bilinear and resize_nearest_neighbor (align_corners
        or neither flag) to random sizes."""
        shape = _image(r)
        a, b = _size(r, *shape[:2]), _size(r, *shape[:2])

        def build(tf, x):  # noqa: ANN001, ANN202
            L = tf.keras.layers
            img = tf.compat.v1.image
            t = L.Activation("tanh")(x)
            bil = L.Lambda(lambda v: img.resize_bilinear(v, a, align_corners=align))(t)
            nn = L.Lambda(lambda v: img.resize_nearest_neighbor(v, b, align_corners=align))(t)
            return L.Concatenate()([L.Flatten()(bil), L.Flatten()(nn)])

        return build, shape

    return case


def _log_softmax(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """log_softmax over the last axis of a dense output (random width and input
    scale) and of a 4-D conv output."""
    shape = (r.randint(2, 5), r.randint(2, 5), r.randint(1, 4))
    gain = r.choice([0.5, 2.0, 8.0])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        d = L.Dense(r.randint(2, 40))(L.Flatten()(x))
        a = L.Lambda(lambda t: tf.nn.log_softmax(t * gain))(d)
        c = L.Lambda(lambda t: tf.nn.log_softmax(t))(L.Conv2D(r.randint(1, 9), 1)(x))
        return L.Concatenate()([a, L.Flatten()(c)])

    return build, shape


CASES: dict[str, Case] = {"upsampling_bilinear": _upsampling_bilinear, "resizing": _resizing,
                          "v1_align_corners": _v1(True), "v1_plain": _v1(False),
                          "log_softmax": _log_softmax}
# op -> (align_corners, half_pixel_centers) each case must contain, so that a
# converter change cannot hide a variant
EXPECT: dict[str, set[tuple[str, bool, bool]]] = {
    "upsampling_bilinear": {("RESIZE_BILINEAR", False, True)},
    "resizing": {("RESIZE_BILINEAR", False, True), ("RESIZE_NEAREST_NEIGHBOR", False, True)},
    "v1_align_corners": {("RESIZE_BILINEAR", True, False), ("RESIZE_NEAREST_NEIGHBOR", True, False)},
    "v1_plain": {("RESIZE_BILINEAR", False, False), ("RESIZE_NEAREST_NEIGHBOR", False, False)},
    "log_softmax": {("LOG_SOFTMAX", False, False)},
}
SEEDS = (0, 1, 2, 3)


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"{name}-{seed}")
    build, shape = CASES[name](r)
    return quantized(build, shape, 3000 + seed)


def _variants(tflite: bytes) -> set[tuple[str, bool, bool]]:
    return {(op.kind, bool(op.options.get("align_corners", False)),
             bool(op.options.get("half_pixel_centers", False)))
            for op in parse_tflite(tflite).ops}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    tflite = model(name, seed)
    aot_graph(tflite, name)
    assert EXPECT[name] <= _variants(tflite), _variants(tflite)
    check(tflite, tmp_path, name, samples=40, seed=seed, sweep_inputs=True)


@pytest.mark.emu
@pytest.mark.parametrize("name", sorted(CASES))
def test_cortex_m4_bit_exact(name: str, tmp_path: Path) -> None:
    """Generated C linked bare-metal for Cortex-M4 (mps2-an386), -O2, on QEMU."""
    check_on_qemu(model(name, 0), tmp_path, name)


NULL_C = r"""
#include <stdio.h>
#include "tk_kernels.h"
int main(void) {
  static const int32_t rows[2] = {0, 0}, cols[2] = {1, 0};
  static const int32_t brows[6] = {0, 0, 0, 0, 0, 0}, bcols[6] = {0, 1, 256, 0, 1, 768};
  static const TkResizeParams nn = {1, 1, 2, 1, 2, 2, rows, cols};
  static const TkResizeParams bl = {1, 1, 2, 1, 2, 2, brows, bcols};
  static const TkResizeParams no_table = {1, 1, 2, 1, 2, 2, 0, cols};
  static int32_t lut[256], q5[256];
  static const TkLogSoftmaxParams ls = {1, 2, -248, 1 << 30, -22, lut, q5};
  static const TkLogSoftmaxParams ls_no_lut = {1, 2, -248, 1 << 30, -22, 0, q5};
  int8_t a[2] = {10, 50}, y[4] = {7, 7, 7, 7};
  int bad = 0;
  bad += tk_resize_nearest_s8(NULL, a, y) != TK_BAD_ARGUMENT;
  bad += tk_resize_nearest_s8(&no_table, a, y) != TK_BAD_ARGUMENT;
  bad += tk_resize_bilinear_s8(&bl, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_resize_bilinear_s8(&bl, a, NULL) != TK_BAD_ARGUMENT;
  bad += tk_log_softmax_s8(NULL, a, y) != TK_BAD_ARGUMENT;
  bad += tk_log_softmax_s8(&ls_no_lut, a, y) != TK_BAD_ARGUMENT;
  bad += y[0] != 7; /* nothing written */
  /* and the valid calls work: out[x] = in[cols[x]]; rows copy */
  bad += tk_resize_nearest_s8(&nn, a, y) != TK_OK || y[0] != 50 || y[1] != 10 || y[2] != 50;
  /* 10 * 0.75 + 50 * 0.25 = 20, 10 * 0.25 + 50 * 0.75 = 40 */
  bad += tk_resize_bilinear_s8(&bl, a, y) != TK_OK || y[0] != 20 || y[1] != 40 || y[3] != 40;
  /* two equal logits: log(1/2) = -0.693 = 127 - 11 steps of 1/16, in place */
  lut[0] = 1 << 19; /* exp(0) in Q12.19 */
  a[0] = a[1] = 5;
  bad += tk_log_softmax_s8(&ls, a, a) != TK_OK || a[0] != 116 || a[1] != 116;
  printf("%d\n", bad);
  return bad != 0;
}
"""


def test_kernels_refuse_null_arguments(tmp_path: Path) -> None:
    """The new kernels through their C API: NULL pointers and tables give
    TK_BAD_ARGUMENT before anything is written; small valid calls give the
    expected values."""
    check_c_program(NULL_C, tmp_path)
