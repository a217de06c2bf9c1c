"""The fast int8 kernel paths (tk_dot.h, im2col, per-channel padded depthwise rows)
and their fallbacks, compared with TFLM bit by bit; the fast requantization
compared with the reference fixed-point helper in C."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from aot_helpers import check, quantized

from tinykit.resources import firmware_dir

pytestmark = pytest.mark.host  # TF conversion + gcc

REQUANT_C = r"""
#include <stdio.h>
#include "tk_dot.h"
int main(void) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, 1 << 20, -(1 << 20), 2147483647,
                                  -2147483647 - 1, 1073741823, -1073741824, 12345, -98765};
  uint32_t s = 1u;
  long bad = 0, n = 0;
  int i, k;
  for (i = 0; i < 2000000; ++i) {
    int32_t acc, mult, shift;
    s = s * 1664525u + 1013904223u;
    acc = i < 13 * 13 ? edges[i % 13] : (int32_t)s >> (s & 15u);
    s = s * 1664525u + 1013904223u;
    mult = i < 13 * 13 ? (int32_t)(1073741824u + (uint32_t)edges[i / 13] % 1073741824u)
                       : (int32_t)(1073741824u | (s >> 2));
    if (i % 97 == 0) mult = 0;
    s = s * 1664525u + 1013904223u;
    shift = (int32_t)(s % 40u) - 31;
    for (k = 0; k < 2; ++k) {
      const int32_t lo = k ? -128 : -20, hi = k ? 127 : 90;
      const int32_t ref = tk_clamp_i32(
          tk_multiply_by_quantized_multiplier(acc, mult, (int)shift) + 3, lo, hi);
      ++n;
      if (tk_requant_s8(acc, mult, shift, 3, lo, hi) != (int8_t)ref) ++bad;
    }
  }
  printf("%ld %ld\n", n, bad);
  return 0;
}
"""


def test_fast_requant_matches_reference(tmp_path: Path) -> None:
    src = tmp_path / "rq.c"
    src.write_text(REQUANT_C)
    exe = tmp_path / "rq"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                    f"-I{firmware_dir() / 'src' / 'kernels'}", str(src), "-o", str(exe)], check=True)
    n, bad = map(int, subprocess.run([str(exe)], capture_output=True, text=True,
                                     check=True).stdout.split())
    assert n == 4_000_000 and bad == 0


@pytest.mark.parametrize("seed", range(4))
def test_pointwise_and_fc_channel_tails(seed: int, tmp_path: Path) -> None:
    """1x1 convs and dense layers with channel counts around multiples of 4 and
    depths around the 16-element blocks (dot4 + dot1 tails)."""
    r = random.Random(300 + seed)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(r.choice([3, 4, 5, 17]), 1, activation=r.choice([None, "relu"]))(x)
        x = L.Conv2D(r.choice([1, 7, 8, 33]), 1)(x)
        x = L.Flatten()(x)
        return L.Dense(r.choice([1, 5, 12, 16]), activation=r.choice([None, "relu6"]))(x)

    check(quantized(build, (r.randint(2, 6), r.randint(2, 6), r.choice([1, 15, 16, 31])), seed),
          tmp_path)


def test_conv_window_larger_than_im2col_buffer(tmp_path: Path) -> None:
    """3x3x128 = 1152 bytes > TK_CONV_COL_BYTES: border windows take the reference path."""
    def build(tf, x):  # noqa: ANN001, ANN202
        return tf.keras.layers.Conv2D(6, 3, padding="same")(x)

    check(quantized(build, (5, 6, 128), 7), tmp_path)


def test_depthwise_fallbacks(tmp_path: Path) -> None:
    """81 taps > TK_DW_MAX_TAPS and a 5-wide kernel (no 3-wide DSP rows)."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.DepthwiseConv2D(9, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D((3, 5), padding="same")(x)
        return L.DepthwiseConv2D(3, strides=2, padding="valid")(x)

    check(quantized(build, (11, 12, 5), 8), tmp_path)
