"""The issue-10 AOT ops (SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, ABS, PRELU,
MEAN / SUM / REDUCE_MAX / REDUCE_MIN over any axes, ARG_MAX, ARG_MIN, TRANSPOSE, SLICE,
STRIDED_SLICE, GATHER) against TFLM, bit by bit.

Each case is a small seeded Keras model (random shapes, broadcasts on either
operand, constants and pooled tensors as second operands, differing input
scales), really converted to int8. On the host the model goes through
``tinykit verify`` (generated C, gcc, TFLM reference) on random inputs plus
every int8 value at every input position (all 256 inputs of a table op); on
QEMU Cortex-M4 the generated C is linked bare-metal and its UART output
compared with TFLM (emu tier).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aot_helpers import (
    aot_graph,
    check,
    check_c_program,
    check_on_qemu,
    quantized,
    sweep,  # noqa: F401 (imported from here by test_kernels_normalization, test_float_islands)
)

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

Builder = Callable[[Any, Any], Any]
Case = Callable[[random.Random], tuple[Builder, tuple[int, ...]]]


def _shape(r: random.Random) -> tuple[int, ...]:
    return r.choice([(r.randint(2, 5), r.randint(2, 5), r.randint(1, 6)),
                     (r.randint(2, 9), r.randint(1, 7)), (r.randint(3, 17),)])


def _const(r: random.Random, n: int, bound: float = 1.5) -> np.ndarray:
    return np.asarray([r.uniform(-bound, bound) for _ in range(n)], dtype=np.float32)


def _sub(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """x - tanh(x) (same shape, differing scales), x - c[C] with a fused ReLU,
    c[C] - x (first operand broadcast) and x - x / 4."""
    shape = _shape(r)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        c = _const(r, shape[-1], 0.4)  # the ReLU output keeps a range
        a = L.Subtract()([x, L.Activation("tanh")(x)])
        b = L.ReLU()(L.Lambda(lambda t: t - c)(a))
        d = L.Lambda(lambda t: c[::-1] - t * 0.5)(b)
        return L.Subtract()([d, L.Lambda(lambda t: t * 0.25)(x)])

    return build, shape


def _sub_pooled(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """GlobalAveragePooling2D(keepdims) - x and x - pooled: a [1,1,1,C] operand
    broadcast over H and W on either side."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(1, 9))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        p = L.GlobalAveragePooling2D(keepdims=True)(x)
        return L.Subtract()([L.Subtract()([p, x]), L.Activation("tanh")(p)])

    return build, shape


def _minmax(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Maximum/Minimum of x and tanh(x) (the converter requantizes to one scale),
    of x and a per-channel constant, and of x and its pooled mean (broadcast)."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(1, 9))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        c = _const(r, shape[-1])
        a = L.Maximum()([x, L.Activation("tanh")(x)])
        b = L.Lambda(lambda t: tf.minimum(t, c))(a)
        p = L.GlobalAveragePooling2D(keepdims=True)(x)
        d = L.Maximum()([b, p])
        return L.Minimum()([L.Lambda(lambda t: tf.maximum(t, c[::-1]))(d), x])

    return build, shape


def _squared_difference(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """(x - c[C])^2 and (x - mean(x))^2 with a [1,1,1,C] operand."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(1, 9))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        c = _const(r, shape[-1])
        a = L.Lambda(lambda t: tf.math.squared_difference(t, c))(x)
        p = L.GlobalAveragePooling2D(keepdims=True)(x)
        b = L.Lambda(lambda ts: tf.math.squared_difference(ts[0], ts[1]))([x, p])
        return L.Lambda(lambda ts: tf.math.squared_difference(ts[0], ts[1]))([a, b])

    return build, shape


def _abs(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """|x| (rescaled: the output scale differs) and |x - 1| (zero point shifted)."""
    shape = _shape(r)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.Lambda(lambda t: tf.abs(tf.abs(t) - 1.0))(x)

    return build, shape


def _prelu(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """PReLU with alpha per position (no broadcast) then per channel (shared over
    H and W), random alphas of both signs."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(1, 9))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        init = tf.keras.initializers.RandomUniform(-0.8, 1.2, seed=r.randint(0, 999))
        a = L.PReLU(alpha_initializer=init)(x)
        return L.PReLU(alpha_initializer=init, shared_axes=[1, 2])(L.Dense(r.randint(1, 7))(a))

    return build, shape


def _reduce(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """MEAN and SUM (keepdims) over random axes of a 4-D tensor, broadcast back
    through SUB, then REDUCE_MAX - REDUCE_MIN over random axes with or without keepdims."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(2, 7))
    mean_axes = r.choice([[1], [2], [3], [1, 3], [2, 3], [-1], [1, 2]])
    sum_axes = r.choice([[1], [2], [3], [2, 1], [1, 3]])
    max_axes = r.choice([[1], [3], [1, 2], [2, 3], [-2]])
    keep = r.choice([True, False])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        a = L.Lambda(lambda t: tf.reduce_mean(t, axis=mean_axes, keepdims=True))(x)
        b = L.Lambda(lambda t: tf.reduce_sum(t, axis=sum_axes, keepdims=True))(x)
        y = L.Subtract()([L.Subtract()([x, a]), L.Lambda(lambda t: t * 0.125)(b)])
        hi = L.Lambda(lambda t: tf.reduce_max(t, axis=max_axes, keepdims=keep))(y)
        lo = L.Lambda(lambda t: tf.reduce_min(t, axis=max_axes, keepdims=keep))(y)
        return L.Subtract()([hi, lo])

    return build, shape


def _conv1d_gap(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Conv1D + GlobalAveragePooling1D (MEAN over axis 1 of a 3-D tensor) + Dense,
    and the mean over both axes of a 3-D tensor."""
    shape = (r.randint(8, 20), r.randint(1, 4))

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        h = L.Conv1D(r.randint(3, 9), 3, activation="relu")(x)
        g = L.Dense(r.randint(2, 6))(L.GlobalAveragePooling1D()(h))
        m = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(h)
        return L.Subtract()([g, L.Flatten()(m)])

    return build, shape


def _arg(kind: str) -> Case:
    def case(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
        """ARG_MAX / ARG_MIN (int32 indices) along a random axis of a dense output."""
        shape = r.choice([(r.randint(2, 6), r.randint(2, 6), r.randint(2, 9)), (r.randint(3, 30),)])
        axis = r.choice(range(-1, -len(shape) - 1, -1))
        fn = "argmax" if kind == "ARG_MAX" else "argmin"

        def build(tf, x):  # noqa: ANN001, ANN202
            L = tf.keras.layers
            h = L.Dense(r.randint(2, 9))(x)
            return L.Lambda(lambda t: getattr(tf.math, fn)(t, axis=axis, output_type=tf.int32))(h)

        return build, shape

    return case


def _transpose(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """TRANSPOSE by a random permutation of a 4-D tensor (batch kept), then a
    per-channel SUB on the transposed layout."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(2, 7))
    rest = list(range(1, len(shape) + 1))
    while rest == sorted(rest):
        r.shuffle(rest)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        t = L.Lambda(lambda v: tf.transpose(v, [0, *rest]))(L.Activation("tanh")(x))
        c = _const(r, shape[rest[-1] - 1], 0.5)
        return L.Lambda(lambda v: v - c)(t)

    return build, shape


def _slice(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """STRIDED_SLICE with steps, a reversed axis and a shrunk axis, SLICE with a
    size of -1, their outputs flattened and concatenated."""
    shape = (r.randint(3, 7), r.randint(3, 7), r.randint(2, 5))
    step = r.choice([2, 3])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        t = L.Activation("tanh")(x)
        a = L.Lambda(lambda v: v[:, 1:, ::step, :])(t)
        b = L.Lambda(lambda v: tf.slice(v, [0, 0, 1, 0], [-1, 2, -1, 1]))(t)
        c = L.Lambda(lambda v: v[:, ::-1, -1, 1:])(t)
        return L.Concatenate()([L.Flatten()(a), L.Flatten()(b), L.Flatten()(c)])

    return build, shape


def _gather(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """GATHER by constant indices (repeats, reordering) along a random axis."""
    shape = (r.randint(2, 6), r.randint(2, 6), r.randint(2, 7))
    axis = r.choice([1, 2, 3])
    idx = [r.randrange(shape[axis - 1]) for _ in range(r.randint(1, 6))]

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        return L.Lambda(lambda t: tf.gather(t, idx, axis=axis))(L.Activation("tanh")(x))

    return build, shape


CASES: dict[str, Case] = {"sub": _sub, "sub_pooled": _sub_pooled, "minmax": _minmax,
                          "squared_difference": _squared_difference, "abs": _abs,
                          "prelu": _prelu, "reduce": _reduce, "conv1d_gap": _conv1d_gap,
                          "argmax": _arg("ARG_MAX"), "argmin": _arg("ARG_MIN"),
                          "transpose": _transpose, "slice": _slice, "gather": _gather}
# ops each case must contain (so a converter change cannot hide an op)
EXPECT = {"sub": {"SUB"}, "sub_pooled": {"SUB", "MEAN"}, "minmax": {"MAXIMUM", "MINIMUM"},
          "squared_difference": {"SQUARED_DIFFERENCE"}, "abs": {"ABS"}, "prelu": {"PRELU"},
          "reduce": {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"}, "conv1d_gap": {"CONV_2D", "MEAN"},
          "argmax": {"ARG_MAX"}, "argmin": {"ARG_MIN"},
          "transpose": {"TRANSPOSE", "SUB"}, "slice": {"SLICE", "STRIDED_SLICE"},
          "gather": {"GATHER"}}
SEEDS = (0, 1, 2)


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"{name}-{seed}")
    build, shape = CASES[name](r)
    return quantized(build, shape, 2000 + seed)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    tflite = model(name, seed)
    aot_graph(tflite, name, EXPECT[name])
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
  static const TkAddParams add = {{1, 1, 1, 1, 4}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}, 0,
                                  0, 0, 20, 1 << 30, 0, 1 << 30, 0, 1 << 30, -19, 0, -128, 127};
  static const TkMinMaxParams mm = {{1, 1, 1, 1, 4}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}, 0};
  static const TkPreluParams pr = {{1, 1, 1, 1, 4}, {0, 0, 0, 0, 1}, {0, 0, 0, 0, 1}, 0,
                                   0, 0, 0, 1 << 30, 1, 1 << 30, 0};
  static const TkReduceParams rd = {{1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}, {1, 1, 1, 1, 4},
                                    {0, 0, 0, 0, 1}, 4, 0, 0, 1 << 30, -1};
  static const TkArgParams ar = {1, 4, 1};
  static const TkStridedCopyParams sc = {{1, 1, 1, 1, 4}, {0, 0, 0, 0, 1}};
  int8_t a[4] = {1, -2, 3, -4}, b[4] = {0, 0, 0, 0}, y[4];
  int32_t idx[1];
  int bad = 0;
  bad += tk_sub_s8(NULL, a, b, y) != TK_BAD_ARGUMENT;
  bad += tk_sub_s8(&add, a, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_squared_difference_s8(&add, a, b, NULL) != TK_BAD_ARGUMENT;
  bad += tk_maximum_s8(&mm, NULL, b, y) != TK_BAD_ARGUMENT;
  bad += tk_minimum_s8(NULL, a, b, y) != TK_BAD_ARGUMENT;
  bad += tk_prelu_s8(&pr, a, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_reduce_sum_s8(&rd, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_reduce_max_s8(NULL, a, y) != TK_BAD_ARGUMENT;
  bad += tk_reduce_min_s8(&rd, a, NULL) != TK_BAD_ARGUMENT;
  bad += tk_arg_max_s8(&ar, NULL, idx) != TK_BAD_ARGUMENT;
  bad += tk_arg_min_s8(NULL, a, idx) != TK_BAD_ARGUMENT;
  bad += tk_strided_copy_s8(&sc, a, NULL) != TK_BAD_ARGUMENT;
  bad += tk_gather_s8(NULL, a, y) != TK_BAD_ARGUMENT;
  /* and the valid calls work */
  bad += tk_maximum_s8(&mm, a, b, y) != TK_OK || y[0] != 1 || y[1] != 0;
  bad += tk_arg_max_s8(&ar, a, idx) != TK_OK || idx[0] != 2;
  bad += tk_arg_min_s8(&ar, a, idx) != TK_OK || idx[0] != 3;
  bad += tk_reduce_max_s8(&rd, a, y) != TK_OK || y[0] != 3;
  bad += tk_reduce_min_s8(&rd, a, y) != TK_OK || y[0] != -4;
  bad += tk_strided_copy_s8(&sc, a, y) != TK_OK || y[3] != -4;
  printf("%d\n", bad);
  return bad != 0;
}
"""


def test_kernels_refuse_null_arguments(tmp_path: Path) -> None:
    """Every new kernel through its C API: NULL pointers give TK_BAD_ARGUMENT before
    anything is written; small valid calls give the expected values."""
    check_c_program(NULL_C, tmp_path)
