"""The Cortex-M fast paths of issue 9 compared with TFLM bit by bit on QEMU.

- 3x3 depthwise, four channels at a time straight from NHWC memory
  (tk_dw3x3_row_dsp in tk_depthwise.c: SMLABB/SMLATT per lane, border taps
  reading the input zero point, in place with the row ring): channel counts
  that are multiples of 4, stride 1 and 2, SAME and VALID padding, odd widths
  (the last strided window ends on the border), fused ReLU/ReLU6.
- 1x1 convs over pixel pairs (tk_conv_pair_dsp in tk_conv.c: both input pixels
  widened onto the stack, 2 pixels x 2 channels per asm step over the
  channel-pair weights, written straight over the input in place): 8->16 growing
  in place (pairs in decreasing order), 16->12 shrinking, 12->5 (odd channel
  count), odd pixel counts (a last single pixel through the ring).
- the packed conv window loop of tk_dot.h (tk_dot4p_s8): the 1->8 pointwise conv
  (3 input channels, rows rounded up to 4) and every single leftover pixel
  (tests/test_kernels_packed.py covers the packed paths on random shapes;
  tk_conv_group4_dsp now runs only unpacked filters, tests/test_kernels_c.py).
- the fused requantization (tk_requant_s8: the rounding right shift folded into
  the one 64-bit multiply-accumulate) on every output of these models.
- the average pool over channels in fours (SXTB16 + SADD16 sums, tk_pool.c),
  with windows cut by the SAME padding.

Each model runs on cortex-m4 and cortex-m7 with the DSP paths and on cortex-m4
with ``-DTK_NO_DSP``. Proof that the fast paths ran: SMLATT is emitted only by
tk_dw3x3_row_dsp, and ``tk_conv_group4_dsp`` and ``tk_conv_pair_dsp`` are
symbols only in the DSP build; the TK_NO_DSP build has none of them; and the committed DS-CNN and ResNet
fixtures, timed per layer on the emulated Cortex-M4 (``-icount shift=0``), stay
within instruction budgets only the fast paths meet (the old kernels: 18.3
instructions per MAC for the depthwise layers, 3.05 for the 1x1 convs, 143 per
element for the ADD, 14.5 per input element for the average pool). The existing
channel counts of tests/test_kernels_arm.py (5, 13, 19, 37) keep covering the
other paths. tk_mul_q31 (the fused
requantization) is compared with TFLM's MultiplyByQuantizedMultiplier on the
host over seeded random and edge-case operands.
"""

from __future__ import annotations

import random
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from aot_helpers import check, quantized
from arm_harness import SEMIHOST_EXIT_C, build_elf, disassembly, run_qemu
from test_kernels_arm import main_c, parse_outputs

from tinykit import reference
from tinykit.codegen.api import generate, write_files
from tinykit.graph import parse_tflite
from tinykit.toolchain import runtime_include_dirs

pytestmark = pytest.mark.emu  # QEMU; the host verify of the same models: host

SAMPLES = 4


def _build(r: random.Random):  # noqa: ANN202
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(8, 1)(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)  # in place, ring
        x = L.DepthwiseConv2D(3, strides=2, padding="same")(x)  # stride 2, out of place
        x = L.Conv2D(16, 1, activation=r.choice([None, "relu"]))(x)  # 8 -> 16
        x = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)  # in place
        x = L.DepthwiseConv2D(3, padding="valid")(x)  # no padding, out of place
        x = L.Conv2D(12, 1)(x)
        x = L.DepthwiseConv2D(3, strides=2, padding="valid")(x)
        x = L.AveragePooling2D(2, strides=1, padding="same")(x)  # SIMD sums, border counts
        return L.Conv2D(5, 1)(x)

    return build


@cache
def model(seed: int) -> bytes:
    r = random.Random(f"dsp-fast-{seed}")
    shape = (r.choice([13, 15]), r.choice([11, 17]), 3)
    return quantized(_build(r), shape, 2000 + seed)


def _run(seed: int, cpu: str, tmp_path: Path, defines: tuple[str, ...] = ()) -> str:
    tflite = model(seed)
    graph = parse_tflite(tflite, "dsp_fast")
    assert [op.kind for op in graph.ops].count("DEPTHWISE_CONV_2D") == 5
    gen = generate(graph, tflite, model_file="dsp_fast.tflite")
    assert {1, 4} <= set(gen.inplace_ops), f"in place: {gen.inplace_ops}"
    write_files(gen, tmp_path / "gen")
    inp = graph.input_tensors[0]
    x = np.random.default_rng(seed).integers(-128, 128, (SAMPLES, *inp.shape[1:]), dtype=np.int8)
    want = reference.run(tflite, x).outputs.reshape(SAMPLES, -1)
    elf = build_elf(tmp_path / "gen", tmp_path, main_c(x), cpu=cpu, opt="-Os", defines=defines)
    got = parse_outputs(run_qemu(elf, cpu, icount=False, timeout=120), SAMPLES, want.shape[1])
    bad = [i for i in range(SAMPLES) if not np.array_equal(got[i], want[i])]
    assert not bad, f"{cpu} {' '.join(defines)}: samples {bad} differ from TFLM"
    return disassembly(elf)


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
@pytest.mark.parametrize("seed", [0, 1])
def test_dsp_fast_paths_bit_exact(seed: int, cpu: str, tmp_path: Path) -> None:
    code = _run(seed, cpu, tmp_path)
    assert "\tsmlatt\t" in code, "the 3x3 depthwise fast path was not compiled in"
    assert "<tk_conv_group4_dsp>:" in code, "the asm conv loop was not compiled in"
    assert "<tk_conv_pair_dsp>:" in code, "the 1x1 pixel-pair path was not compiled in"


def test_no_dsp_build_takes_portable_paths(tmp_path: Path) -> None:
    code = _run(0, "cortex-m4", tmp_path, ("TK_NO_DSP",))
    assert "\tsmlatt\t" not in code and "<tk_conv_group4_dsp>:" not in code
    assert "<tk_conv_pair_dsp>:" not in code


@pytest.mark.host
@pytest.mark.parametrize("seed", [0, 1])
def test_dsp_fast_models_on_host(seed: int, tmp_path: Path) -> None:
    check(model(seed), tmp_path, f"dsp_fast_{seed}", samples=10)


LAYER_MAIN_C = SEMIHOST_EXIT_C + r"""
#include "model.h"

int main(void) {
  static uint32_t layer_us[TK_MODEL_N_LAYERS];
  uint8_t *in;
  uint32_t i, seed = 12345u;
  tk_hal_init();
  if (tk_model_init() != TK_OK) put("init failed\n");
  in = (uint8_t *)tk_model_input();
  for (i = 0; i < TK_MODEL_INPUT_BYTES; ++i) {
    seed = seed * 1103515245u + 12345u;
    in[i] = (uint8_t)(seed >> 16);
  }
  if (tk_model_invoke(layer_us) != TK_OK) put("invoke failed\n");
  for (i = 0; i < TK_MODEL_N_LAYERS; ++i) {
    put("layer "); put_u32(i); put(" "); put_u32(layer_us[i]); put("\n");
  }
  tk_semihost_exit();
  return 0;
}
"""

# (fixture, op kind, 1x1 only, budget): instructions per MAC (per output element for
# ADD, per input element for the pool) on the emulated Cortex-M4, -Os; measured 8.0 /
# 1.77 / 3.4 / 55 with the fast paths (the 1x1 budget only the pixel-pair path meets:
# the 4-channel asm loop alone measures 2.2)
BUDGETS = [("ds_cnn", "DEPTHWISE_CONV_2D", False, 9.5), ("ds_cnn", "CONV_2D", True, 2.0),
           ("ds_cnn", "AVERAGE_POOL_2D", False, 5.0), ("resnet", "ADD", False, 75.0)]


def _layer_instructions(tflite: bytes, name: str, tmp_path: Path) -> list[int]:
    graph = parse_tflite(tflite, name)
    gen = generate(graph, tflite, model_file=f"{name}.tflite")
    write_files(gen, tmp_path / "gen")
    elf = build_elf(tmp_path / "gen", tmp_path, LAYER_MAIN_C, cpu="cortex-m4", opt="-Os")
    out = run_qemu(elf, "cortex-m4", icount=True, timeout=300)
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("layer ")]
    assert len(rows) == len(graph.ops), out[-2000:]
    return [int(r[2]) * 1000 for r in rows]  # 1 us = 1000 instructions under -icount 0


@pytest.mark.parametrize("fixture", ["ds_cnn", "resnet"])
def test_fast_paths_meet_instruction_budgets(fixture: str, request: pytest.FixtureRequest,
                                             tmp_path: Path) -> None:
    fm = request.getfixturevalue(fixture)
    graph = parse_tflite(fm.tflite, fm.name)
    instr = _layer_instructions(fm.tflite, fm.name, tmp_path)
    checked = 0
    for name, kind, pointwise, budget in BUDGETS:
        if name != fixture:
            continue
        for op in graph.ops:
            if op.kind != kind:
                continue
            inputs = graph.op_inputs(op)
            out = graph.op_outputs(op)[0].shape
            elems = int(np.prod(out))
            if kind == "ADD":
                work = elems
            elif kind == "AVERAGE_POOL_2D":
                work = int(np.prod(inputs[0].shape))  # type: ignore[union-attr]
            else:
                _, kh, kw, cin = inputs[1].shape  # type: ignore[union-attr]
                if pointwise != (kh == kw == 1):
                    continue
                work = elems * kh * kw * (1 if kind == "DEPTHWISE_CONV_2D" else cin)
            per = instr[op.index] / work
            assert per <= budget, f"{fixture} layer {op.index} {kind}: {per:.2f} > {budget}"
            checked += 1
    assert checked >= 3 if fixture == "ds_cnn" else checked >= 1


FUSED_REQUANT_C = r"""
#include <stdio.h>
#include "tk_dot.h"

static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }

int main(void) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, 3, -3, 1 << 20, -(1 << 20), 2147483647,
                                  -2147483647 - 1, 1073741824, -1073741824, 255 << 20};
  long bad = 0, n;
  for (n = 0; n < 4000000L; ++n) {
    const uint32_t k = rnd() % 8u, km = rnd() % 10u;
    int32_t acc, m, sh;
    if (k == 0) acc = edges[rnd() % (sizeof edges / sizeof edges[0])];
    else if (k < 3) acc = (int32_t)rnd();
    else if (k < 6) acc = (int32_t)(rnd() % 200001u) - 100000;
    else acc = (int32_t)(rnd() % 21u) - 10;
    m = km == 0 ? 0 : km == 1 ? (1 << 30) : km == 2 ? (int32_t)(rnd() % 0x40000000u)
                                                      : (int32_t)(0x40000000u + rnd() % 0x40000000u);
    sh = (int32_t)(rnd() % 40u) - 31;
    if (sh > 8) sh -= 8;
    if (sh > 0) acc >>= 12;
    if (tk_mul_q31(acc, m, sh) != tk_multiply_by_quantized_multiplier(acc, m, sh)) {
      if (bad < 5) printf("acc=%ld m=%ld shift=%ld\n", (long)acc, (long)m, (long)sh);
      ++bad;
    }
  }
  printf("mismatches %ld of %ld\n", bad, n);
  return bad != 0;
}
"""


@pytest.mark.host
def test_fused_requant_matches_tflm_arithmetic(tmp_path: Path) -> None:
    src = tmp_path / "fused.c"
    src.write_text(FUSED_REQUANT_C)
    exe = tmp_path / "fused"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
                    *(f"-I{d}" for d in runtime_include_dirs()), str(src), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert "mismatches 0 of 4000000" in done.stdout
