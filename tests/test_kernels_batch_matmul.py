"""BATCH_MATMUL int8 (tinykit/ops/batch_matmul.py, kernels/tk_batch_matmul.c) against
TFLM, bit by bit.

Each case is a small seeded Keras model really converted to int8 by TF: two
activations multiplied with adj_y (Q K^T) and adj_x, a pooled operand broadcast
over a batch dimension, a constant rhs (stored transposed at generation time)
and a constant lhs with adj_x, and a Keras MultiHeadAttention (random sequence,
width and heads: TRANSPOSE + BATCH_MATMUL + MUL + SOFTMAX + BATCH_MATMUL).
Shapes are random, including odd column counts (the kernel's 4-column tails).
On the host each model goes through ``tinykit verify`` (generated C, gcc, TFLM
reference) on random inputs plus every int8 value at every input position; on
QEMU Cortex-M4 (SXTB16/SMLAD dot products) the generated C is linked bare-metal
and its UART output compared with TFLM (emu tier).
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

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

Builder = Callable[[Any, Any], Any]
Case = Callable[[random.Random], tuple[Builder, tuple[int, ...]]]


def _dims(r: random.Random) -> tuple[int, int, int]:
    """(batch, rows, depth): odd and multiple-of-4 sizes, depth over 4 and under."""
    return r.randint(1, 3), r.randint(1, 9), r.choice([r.randint(1, 6), r.randint(7, 21)])


def _activations(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """a b^T (adj_y: both operands read along the depth) then y^T a (adj_x), two
    activations with differing scales and zero points."""
    shape = _dims(r)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        a = L.Activation("tanh")(x)
        b = L.Lambda(lambda t: t * 0.5 + 0.3)(x)
        y = L.Lambda(lambda ts: tf.matmul(ts[0], ts[1], transpose_b=True))([a, b])
        return L.Lambda(lambda ts: tf.matmul(ts[0], ts[1], transpose_a=True))([y, a])

    return build, shape


def _plain(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """a @ b without adj (rhs read across its rows: the attention layout), b the
    input's tanh reshaped from [B, M, K] to [B, K, M] (no transpose to fold into adj_y)."""
    shape = _dims(r)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        b = L.Reshape((shape[0], shape[2], shape[1]))(L.Activation("tanh")(x))
        return L.Lambda(lambda ts: tf.matmul(ts[0], ts[1]))([x, b])

    return build, shape


def _broadcast(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """x [1, B, M, K] times its mean over B ([1, 1, M, K], broadcast over B), on
    each side, summed."""
    shape = (r.randint(2, 4), *_dims(r)[1:])

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        p = L.Lambda(lambda t: tf.reduce_mean(t, axis=1, keepdims=True))(x)
        mm = L.Lambda(lambda ts: tf.matmul(ts[0], ts[1], transpose_b=True))
        return L.Add()([mm([p, x]), mm([x, p])])

    return build, shape


def _const_rhs(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """x @ C with a constant C [B, K, N] (transposed at generation time), then a
    constant lhs with adj_x: C2^T @ y."""
    b, m, k = _dims(r)
    n, m2 = r.randint(1, 9), r.randint(1, 7)
    rng = np.random.default_rng(r.randint(0, 999))
    c = rng.uniform(-1, 1, (b, k, n)).astype(np.float32)
    c2 = rng.uniform(-1, 1, (b, m, m2)).astype(np.float32)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        y = L.Lambda(lambda t: tf.matmul(t, c))(x)
        return L.Lambda(lambda t: tf.matmul(c2, t, transpose_a=True))(y)

    return build, (b, m, k)


def _attention(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Keras MultiHeadAttention (self-attention), random sequence, width and heads."""
    seq, heads = r.randint(2, 10), r.randint(1, 3)
    key_dim, width = r.randint(2, 9), r.randint(3, 17)

    def build(tf, x):  # noqa: ANN001, ANN202
        return tf.keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)(x, x)

    return build, (seq, width)


CASES: dict[str, Case] = {"activations": _activations, "plain": _plain, "broadcast": _broadcast,
                          "const": _const_rhs, "attention": _attention}
EXPECT = {"activations": {"BATCH_MATMUL"}, "plain": {"BATCH_MATMUL", "TANH"},
          "broadcast": {"BATCH_MATMUL", "MEAN", "ADD"}, "const": {"BATCH_MATMUL"},
          "attention": {"BATCH_MATMUL", "SOFTMAX", "TRANSPOSE", "FULLY_CONNECTED"}}
SEEDS = (0, 1, 2)


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"bmm-{name}-{seed}")
    build, shape = CASES[name](r)
    return quantized(build, shape, 3000 + seed)


def _adj_seen(graph: Any) -> set[tuple[bool, bool]]:
    return {(bool(op.options.get("adj_x")), bool(op.options.get("adj_y"))) for op in graph.ops
            if op.kind == "BATCH_MATMUL"}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    tflite = model(name, seed)
    graph = aot_graph(tflite, name, EXPECT[name])
    if name == "activations":
        assert _adj_seen(graph) == {(False, True), (True, False)}
    if name in ("plain", "attention"):
        assert _adj_seen(graph) == {(False, False)}
    if name == "const":  # both operands constant once, rhs without adj_y, lhs with adj_x
        consts = {i for op in graph.ops if op.kind == "BATCH_MATMUL"
                  for i, t in enumerate(op.inputs) if graph.tensor(t).is_const}
        assert consts == {0, 1}, consts
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
  /* [2][3] @ [3][2] with zero points 1 (lhs) and -1 (rhs), output scale 1 */
  static const TkBatchMatMulParams p = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, 2, 2, 3,
                                        3, 1, 1, 2, -1, 1, 0, 1 << 30, 1};
  static const TkBatchMatMulParams empty = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, 2, 2, 0,
                                            3, 1, 1, 2, -1, 1, 0, 1 << 30, 1};
  const int8_t a[6] = {2, 3, 4, 1, 1, 1}, b[6] = {0, 1, 2, -1, 0, 1};
  int8_t y[4] = {9, 9, 9, 9};
  int bad = 0;
  bad += tk_batch_matmul_s8(NULL, a, b, y) != TK_BAD_ARGUMENT;
  bad += tk_batch_matmul_s8(&p, NULL, b, y) != TK_BAD_ARGUMENT;
  bad += tk_batch_matmul_s8(&p, a, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_batch_matmul_s8(&p, a, b, NULL) != TK_BAD_ARGUMENT;
  bad += tk_batch_matmul_s8(&empty, a, b, y) != TK_BAD_ARGUMENT || y[0] != 9;
  /* (a - 1) = [[1 2 3] [0 0 0]], (b + 1) = [[1 2] [3 0] [1 2]] -> [[10 8] [0 0]] */
  bad += tk_batch_matmul_s8(&p, a, b, y) != TK_OK;
  bad += y[0] != 10 || y[1] != 8 || y[2] != 0 || y[3] != 0;
  printf("%d\n", bad);
  return bad != 0;
}
"""


def test_kernel_refuses_null_and_computes(tmp_path: Path) -> None:
    """The C API directly: NULL pointers and an empty depth give TK_BAD_ARGUMENT
    before anything is written; a hand-computed 2x3 @ 3x2 with both zero points."""
    check_c_program(NULL_C, tmp_path, "bmm")
