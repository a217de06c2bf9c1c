"""TRANSPOSE_CONV (Keras Conv2DTranspose) against TFLM, bit by bit.

Each case is a seeded Keras model with random geometry (strides 1..3 per axis,
non-square kernels 1..5, SAME/VALID, 1..9 channels, with or without bias, an
output padding, a fused ReLU from BatchNormalization + ReLU, a separate ReLU6),
really converted to int8 by TF 2.21. On the host the model goes through
``tinykit verify`` (generated C, gcc, TFLM reference); on QEMU Cortex-M4 (with the
DSP path and with -DTK_NO_DSP) and Cortex-M33 the generated C is linked bare-metal
and its UART output compared with TFLM (emu tier).
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aot_helpers import aot_graph, check, check_c_program, check_on_qemu, quantized
from arm_harness import disassembly
from test_kernels_arm import DSP_INSTRUCTIONS

from tinykit.codegen.api import generate
from tinykit.graph import parse_tflite

pytestmark = pytest.mark.host  # TF conversion + gcc; the QEMU runs are marked emu

SEEDS = tuple(range(12))


def case(seed: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The random geometry of case ``seed`` (seed 0..2 pinned: stride 2 'same' 3x3,
    stride 3 'valid' 2x4 without bias, and a window over the kernel's stack buffer)."""
    r = random.Random(f"tconv-{seed}")
    cfg: dict[str, Any] = {
        "filters": r.randint(1, 9), "kernel": (r.randint(1, 5), r.randint(1, 5)),
        "strides": (r.randint(1, 3), r.randint(1, 3)), "padding": r.choice(["same", "valid"]),
        "bias": r.random() < 0.7, "tail": r.choice(["none", "bn_relu", "relu6", "relu"]),
        "output_padding": r.random() < 0.2,
    }
    shape = (r.randint(1, 6), r.randint(1, 6), r.randint(1, 9))
    pinned = {0: ({"filters": 8, "kernel": (3, 3), "strides": (2, 2), "padding": "same",
                   "bias": True, "tail": "none", "output_padding": False}, (5, 4, 6)),
              1: ({"filters": 5, "kernel": (2, 4), "strides": (3, 3), "padding": "valid",
                   "bias": False, "tail": "bn_relu", "output_padding": False}, (3, 4, 3)),
              2: ({"filters": 6, "kernel": (5, 5), "strides": (1, 1), "padding": "same",
                   "bias": True, "tail": "none", "output_padding": False}, (4, 4, 48))}
    return pinned.get(seed, (cfg, shape))


@cache
def model(seed: int) -> bytes:
    cfg, shape = case(seed)

    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        extra = {}
        if cfg["output_padding"]:
            extra["output_padding"] = tuple(s - 1 for s in cfg["strides"])
        init = tf.keras.initializers.RandomUniform(-0.5, 0.5, seed=seed)
        h = L.Conv2DTranspose(cfg["filters"], cfg["kernel"], strides=cfg["strides"],
                              padding=cfg["padding"], use_bias=cfg["bias"],
                              bias_initializer=init, **extra)(x)
        if cfg["tail"] == "bn_relu":
            bn = L.BatchNormalization(beta_initializer=init, gamma_initializer="ones")
            h = L.ReLU()(bn(h))
        elif cfg["tail"] in ("relu", "relu6"):
            h = L.Activation(cfg["tail"])(h)
        return h

    return quantized(build, shape, 3000 + seed)


def _op(graph: Any) -> Any:
    return next(op for op in graph.ops if op.kind == "TRANSPOSE_CONV")


@pytest.mark.parametrize("seed", SEEDS)
def test_host_bit_exact(seed: int, tmp_path: Path) -> None:
    tflite = model(seed)
    graph = aot_graph(tflite, f"tconv{seed}", {"TRANSPOSE_CONV"})
    op = _op(graph)
    cfg, _ = case(seed)
    assert (op.options["stride_h"], op.options["stride_w"]) == cfg["strides"]
    if cfg["tail"] == "bn_relu":  # TF 2.21 fuses the ReLU after a folded BatchNormalization
        assert op.options["fused_activation_function"] == "RELU" and op.version == 4
    gen = generate(graph, tflite)  # gather form: no scratch, the arena is input + output
    assert gen.scratch_bytes == 0
    assert gen.arena_bytes <= sum(-(-t.nbytes // 16) * 16 for t in graph.activations)
    check(tflite, tmp_path, samples=40, seed=seed)


def test_cases_cover_the_geometry() -> None:
    """The random cases reach every stride, both paddings, a missing bias, a kernel
    smaller than its stride (pixels no tap reaches) and a fused activation."""
    cfgs = [case(s)[0] for s in SEEDS]
    assert {s for c in cfgs for s in c["strides"]} == {1, 2, 3}
    assert {c["padding"] for c in cfgs} == {"same", "valid"}
    assert any(not c["bias"] for c in cfgs) and any(c["tail"] == "bn_relu" for c in cfgs)
    assert any(k < s for c in cfgs for k, s in zip(c["kernel"], c["strides"], strict=True))
    assert any(c["kernel"][0] != c["kernel"][1] for c in cfgs)


@pytest.mark.emu
@pytest.mark.parametrize(("cpu", "dsp"), [("cortex-m4", True), ("cortex-m4", False),
                                          ("cortex-m33", True)],
                         ids=["m4_dsp", "m4_no_dsp", "m33_dsp"])
def test_cortex_m_bit_exact(cpu: str, dsp: bool, tmp_path: Path) -> None:
    """Generated C of several cases linked bare-metal, -O2, on QEMU: Cortex-M4
    (mps2-an386) with the DSP path (SXTB16/SMLAD in the ELF) and with -DTK_NO_DSP, and
    the Cortex-M33's DSP path."""
    for seed in (0, 1, 2, 3, 4, 5):
        tflite = model(seed)
        shape = parse_tflite(tflite).input_tensors[0].shape[1:]
        x = np.random.default_rng(seed).integers(-128, 128, (6, *shape), dtype=np.int8)
        x[0] = -128
        x[1] = 127
        elf = check_on_qemu(tflite, tmp_path / str(seed), f"tconv{seed}", x, cpu=cpu,
                            defines=() if dsp else ("TK_NO_DSP",))
        asm = disassembly(elf)
        assert all(i in asm for i in DSP_INSTRUCTIONS) == dsp


NULL_C = r"""
#include <stdio.h>
#include "tk_kernels.h"
int main(void) {
  /* 1x1 input, 2x2 kernel, stride 2: four phases of one tap each */
  static const int32_t taps[2] = {1, 1}, offs[4] = {0, 1, 2, 3}, bf[4] = {0, 0, 0, 100};
  static const int32_t mult[1] = {1 << 30}, shift[1] = {0};
  static const int8_t filt[4] = {1, 2, 3, 4};
  static const TkTransposeConvParams p = {1, 1, 1, 1, 2, 2, 1, 2, 2, 0, 0, 0, 0, -128, 127,
                                          taps, taps, filt, offs, bf, mult, shift};
  TkTransposeConvParams bad_stride = p;
  int8_t x[1] = {10}, y[4] = {0, 0, 0, 0};
  int bad = 0;
  bad_stride.stride_h = 0;
  bad += tk_transpose_conv_s8(NULL, x, y) != TK_BAD_ARGUMENT;
  bad += tk_transpose_conv_s8(&p, NULL, y) != TK_BAD_ARGUMENT;
  bad += tk_transpose_conv_s8(&p, x, NULL) != TK_BAD_ARGUMENT;
  bad += tk_transpose_conv_s8(&bad_stride, x, y) != TK_BAD_ARGUMENT;
  bad += y[0] != 0;
  /* y = (10 * w + bias) / 2 */
  bad += tk_transpose_conv_s8(&p, x, y) != TK_OK;
  bad += y[0] != 5 || y[1] != 10 || y[2] != 15 || y[3] != 70;
  printf("%d\n", bad);
  return bad != 0;
}
"""


def test_kernel_refuses_null_arguments(tmp_path: Path) -> None:
    """The C API: NULL pointers and a zero stride give TK_BAD_ARGUMENT before anything
    is written; a hand-computed 1x1 -> 2x2 case gives the expected values."""
    check_c_program(NULL_C, tmp_path)
