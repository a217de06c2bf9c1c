"""Issue 10, Embedding: a Keras Embedding on an int32 token input, quantized by
``tinykit quantize`` with int32 calibration ids, runs bit-exact on the AOT runtime.
Its ops: int32 LESS, ADD, SELECT (negative ids wrap: idx < 0 ? idx + n : idx) and
GATHER by computed indices (tinykit/ops/index_math.py, gather.py).

The reference: TFLM has no SELECT (v1) kernel and its SELECT_V2 takes no int32, so
a model holding one runs in TFLite's reference kernels (tinykit.reference.engine);
the int32 ADD alone is checked against TFLM. The C kernels are also called directly
(broadcasting, out-of-range indices) and, on QEMU Cortex-M4 (emu), linked bare-metal.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from aot_helpers import check, check_c_program
from embedding_models import embedding_tflite, save_embedding_model

from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tinykit", *args], capture_output=True,
                          text=True, timeout=600)


def test_quantize_and_verify_embedding_model_cli(tmp_path):
    keras, ids = save_embedding_model(tmp_path)
    out = tmp_path / "emb.tflite"
    r = _cli("quantize", str(keras), "--data", str(ids), "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["calibration_samples"] + result["holdout_samples"] == 64
    assert result["agreement"]["cosine"] > 0.99, result
    graph = parse_tflite(out.read_bytes(), "emb")
    assert graph.input_tensors[0].dtype == "int32"
    assert [op.kind for op in graph.ops][:4] == ["LESS", "ADD", "SELECT", "GATHER"]
    # random ids in [-50, 50) (negatives wrap) plus the calibration ids
    r = _cli("verify", str(out), "--data", str(ids), "--samples", "40", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["bit_exact"] and report["samples"] == 104, report


def test_quantize_refuses_ids_outside_the_vocabulary(tmp_path):
    keras, _ = save_embedding_model(tmp_path)
    np.save(bad := tmp_path / "bad.npy", np.full((4, 8), 50, np.int32))
    r = _cli("quantize", str(keras), "--data", str(bad), "-o", str(tmp_path / "x.tflite"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "outside the vocabulary [0, 50)" in r.stderr
    np.save(frac := tmp_path / "frac.npy", np.full((4, 8), 1.5, np.float32))
    r = _cli("quantize", str(keras), "--data", str(frac), "-o", str(tmp_path / "x.tflite"))
    assert r.returncode == 2 and "not a whole number" in r.stderr


@pytest.mark.parametrize("seed", range(3))
def test_embedding_randomized_bit_exact(tmp_path, seed):
    rng = random.Random(seed)
    kw = {"vocab": rng.randint(2, 300), "dim": rng.randint(1, 24), "seq": rng.randint(1, 20),
          "classes": rng.randint(2, 6), "seed": seed}
    tflite = embedding_tflite(tmp_path, **kw)
    report = check(tflite, tmp_path, f"emb{seed}", samples=30, seed=seed)
    assert report.reference == "tflite"


def test_add_int32_broadcast_bit_exact_with_tflm(tmp_path):
    """x + c on int32 (no quantization), c broadcast over the rows, against TFLM."""
    from tinykit.quantize import import_tf

    tf = import_tf()
    c = tf.constant(np.arange(-3, 3, dtype=np.int32).reshape(1, 1, 6))

    @tf.function(input_signature=[tf.TensorSpec((1, 4, 6), tf.int32)])
    def f(x):  # noqa: ANN001, ANN202
        return x + c

    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    tflite = bytes(conv.convert())
    assert [op.kind for op in parse_tflite(tflite).ops] == ["ADD"]
    report = check(tflite, tmp_path, "add32", samples=30)
    assert report.reference == "tflm"


KERNELS_C = r"""
#include <stdio.h>
#include "tk_kernels.h"

static const TkIndexParams bc = { /* (2,3) op (1,3) -> (2,3); select: cond (2,1) */
  .dims = {1, 1, 1, 2, 3}, .stride1 = {0, 0, 0, 3, 1}, .stride2 = {0, 0, 0, 0, 1},
  .stride3 = {0, 0, 0, 3, 1}, .broadcast = 1};
static const TkIndexParams sel = {
  .dims = {1, 1, 1, 2, 3}, .stride1 = {0, 0, 0, 1, 0}, .stride2 = {0, 0, 0, 3, 1},
  .stride3 = {0, 0, 0, 0, 1}, .broadcast = 1};
static const TkIndexParams flat = {.dims = {1, 1, 1, 1, 4}, .broadcast = 0};

int main(void) {
  int fails = 0, k;
  const int32_t a[6] = {-5, 0, 7, 2147483647, -1, 3};
  const int32_t b[3] = {0, 1, 7};
  const int32_t want_add[6] = {-5, 1, 14, 2147483647, 0, 10};
  const uint8_t want_less[6] = {1, 1, 0, 0, 1, 1};
  const uint8_t cond[2] = {1, 0};
  const int32_t want_sel[6] = {-5, 0, 7, 0, 1, 7};
  const int32_t wrap_a[4] = {2147483647, -2147483647 - 1, 5, -5};
  const int32_t wrap_b[4] = {1, -1, 6, 5};
  const int32_t want_wrap[4] = {-2147483647 - 1, 2147483647, 11, 0};
  int32_t out[6];
  uint8_t lo[6];
  const int8_t table[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const TkGatherParams g = {.outer = 1, .axis_size = 4, .inner = 3, .n_idx = 2, .idx = 0};
  const int32_t good[2] = {3, 0}, bad[2] = {1, 4}, neg[2] = {-1, 0};
  int8_t got[6] = {0};
  if (tk_add_s32(&bc, a, b, out) != TK_OK) ++fails;
  for (k = 0; k < 6; ++k) fails += out[k] != want_add[k];
  if (tk_less_s32(&bc, a, b, lo) != TK_OK) ++fails;
  for (k = 0; k < 6; ++k) fails += lo[k] != want_less[k];
  if (tk_select_s32(&sel, cond, a, b, out) != TK_OK) ++fails;
  for (k = 0; k < 6; ++k) fails += out[k] != want_sel[k];
  if (tk_add_s32(&flat, wrap_a, wrap_b, out) != TK_OK) ++fails;
  for (k = 0; k < 4; ++k) fails += out[k] != want_wrap[k];
  if (tk_gather_idx_s8(&g, table, good, got) != TK_OK) ++fails;
  fails += got[0] != 9 || got[2] != 11 || got[3] != 0 || got[5] != 2;
  fails += tk_gather_idx_s8(&g, table, bad, got) != TK_BAD_ARGUMENT;
  fails += tk_gather_idx_s8(&g, table, neg, got) != TK_BAD_ARGUMENT;
  fails += tk_gather_idx_s8(&g, table + 1, good, got) != TK_OK; /* unaligned: memcpy rows */
  fails += got[0] != 10 || got[5] != 3;
  printf("%d\n", fails);
  return 0;
}
"""


def test_index_kernels_broadcast_wrap_and_range_in_c(tmp_path):
    check_c_program(KERNELS_C, tmp_path, "index_kernels")


@pytest.mark.emu
def test_embedding_bit_exact_on_qemu_m4(tmp_path):
    """The generated C of an Embedding model linked bare-metal (-O2, Cortex-M4) on QEMU:
    every output byte equal to the reference's, negative ids included."""
    from arm_harness import build_elf, main_c, parse_outputs, run_qemu

    from tinykit import reference
    from tinykit.codegen.api import generate, write_files

    tflite = embedding_tflite(tmp_path, vocab=37, dim=6, seq=5, classes=3, seed=4)
    graph = parse_tflite(tflite, "emb")
    write_files(generate(graph, tflite, model_file="emb.tflite"), tmp_path / "gen")
    x = np.random.default_rng(5).integers(-37, 37, (24, 5), dtype=np.int32)
    want = np.ascontiguousarray(reference.run(tflite, x).outputs.reshape(len(x), -1)).view(np.int8)
    elf = build_elf(tmp_path / "gen", tmp_path, main_c(x.view(np.int8).reshape(len(x), -1)),
                    cpu="cortex-m4", opt="-O2")
    got = parse_outputs(run_qemu(elf, "cortex-m4", icount=False, timeout=120), len(x), want.shape[1])
    bad = [i for i in range(len(x)) if not np.array_equal(got[i], want[i])]
    assert not bad, f"samples {bad} differ from the reference"
