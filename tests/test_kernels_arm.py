"""The Cortex-M kernel paths (SXTB16/SMLAD dot products, per-channel-plane
in-place depthwise, tk_dw_channel rows) compared with TFLM bit by bit on QEMU.

Small seeded multi-layer models (a few TF conversions instead of one per op)
hit each path and its fallback: pointwise convs in place (64->64, growing,
shrinking), 3x3 same, strided, dilated and 5x5 convs, windows over the 1024-byte
im2col buffer, full-width kernels; depthwise with multiplier 1 in place (3x3,
5x5 pad 2, dilated), stride 2, multipliers 2-3, more than 64 taps and rows over
the 1024-byte row buffer; dense layers with odd and multiple-of-4 widths. Each
model's generated C is linked bare-metal for cortex-m4 (mps2-an386),
cortex-m7 (mps2-an500) and cortex-m33 (mps2-an505, Armv8-M Mainline with the DSP
extension), runs random int8 inputs baked into the image, prints
every output byte over the UART and exits through semihosting. Two of them are
also built with ``-DTK_NO_DSP`` for cortex-m4, so the portable paths run on the
DSP core (the disassembly shows no SXTB16/SMLAD). The same models go through
``tinykit verify`` on the host (int16 windows, row-ring in-place depthwise with
odd channel counts and pad_h >= 2). tests/test_kernels_c.py calls the kernels
directly, without the generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aot_helpers import check, quantized
from arm_harness import CORES, build_elf, disassembly, main_c, parse_outputs, run_qemu

from tinykit import reference
from tinykit.codegen.api import generate, write_files
from tinykit.graph import parse_tflite

pytestmark = pytest.mark.emu  # QEMU; the host verify of the same models: host

SAMPLES = 6

Builder = Callable[[Any, Any], Any]


def _conv_pointwise(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """1x1 convs: growing 8->16->64 (in place where the planner picks it), 64->64 in
    place, shrinking to odd counts; windows straight from the input."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(8, 1)(x)
        x = L.Conv2D(16, 1, activation="relu")(x)
        x = L.Conv2D(64, 1)(x)
        x = L.Conv2D(64, 1, activation=r.choice([None, "relu"]))(x)
        x = L.Conv2D(r.choice([13, 17, 31]), 1)(x)
        x = L.Conv2D(r.choice([3, 5]), 1, activation="relu6")(x)
        return L.Conv2D(r.choice([4, 7]), 1)(x)

    return build, (r.randint(4, 7), r.randint(4, 7), r.choice([3, 5]))


def _conv_spatial(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """3x3 same (im2col with zero-point padding, in place with a ring), strided,
    dilated, 5x5 pad 2, a 3x3x120 window (> 1024 bytes: reference path) and a
    full-width kernel (contiguous window)."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(13, 3, padding="same", activation="relu")(x)
        x = L.Conv2D(r.choice([5, 13]), 3, padding="same")(x)
        x = L.Conv2D(16, 3, strides=2, padding="same")(x)
        x = L.Conv2D(r.choice([3, 13]), 3, dilation_rate=2, padding="same")(x)
        x = L.Conv2D(5, 5, padding="same", activation="relu")(x)
        x = L.Conv2D(120, 1)(x)
        x = L.Conv2D(r.choice([3, 7]), 3, padding="same")(x)
        return L.Conv2D(r.choice([4, 5]), (2, int(x.shape[2])), padding="valid")(x)

    return build, (r.randint(8, 10), r.randint(8, 11), r.choice([1, 3]))


def _depthwise(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Multiplier 1 in place (3x3 and 5x3: SMLAD rows on Cortex-M; 5x5, 5x3 and
    dilated: pad 2; 4x4: asymmetric padding), stride 2 out of place, multipliers
    2-3 (reference), odd channel counts below and above the 16-channel blocks."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(r.choice([5, 13, 19, 37]), 1)(x)
        x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(5, padding="same")(x)
        x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu6")(x)
        x = L.DepthwiseConv2D((5, 3), padding="same")(x)
        x = L.DepthwiseConv2D(4, padding="same")(x)
        x = L.DepthwiseConv2D(r.choice([3, 5]), strides=2, padding="same")(x)
        x = L.DepthwiseConv2D(3, depth_multiplier=r.choice([2, 3]), padding="same")(x)
        return L.Conv2D(7, 1)(x)

    return build, (r.randint(9, 12), r.randint(9, 12), 3)


def _depthwise_fallbacks(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Wide rows: 9x9 (81 taps > TK_DW_MAX_TAPS) and 5x5 on > 200 columns (rows over
    TK_DW_ROWS_BYTES) fall back on Cortex-M; 3x3 in place still fits; a strided 5x5
    with multiplier 2."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Conv2D(r.choice([3, 5]), 1)(x)
        x = L.DepthwiseConv2D(9, padding="same")(x)
        x = L.DepthwiseConv2D(5, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same")(x)
        x = L.DepthwiseConv2D(5, strides=2, depth_multiplier=2, padding="valid")(x)
        return L.Conv2D(3, 1)(x)

    return build, (r.randint(5, 7), r.randint(200, 230), 2)


def _dense(r: random.Random) -> tuple[Builder, tuple[int, ...]]:
    """Dense layers: in_depth not a multiple of 4, odd and multiple-of-4 outputs."""
    def build(tf, x):  # noqa: ANN001, ANN202
        L = tf.keras.layers
        x = L.Dense(r.choice([64, 75]), activation="relu")(x)
        x = L.Dense(r.choice([12, 16]))(x)
        x = L.Dense(r.choice([7, 13]), activation="relu6")(x)
        x = L.Dense(r.choice([33, 20]))(x)
        return L.Dense(r.choice([5, 8]))(x)

    return build, (r.choice([29, 37, 45]),)


MODELS: dict[str, Callable[[random.Random], tuple[Builder, tuple[int, ...]]]] = {
    "conv_pointwise": _conv_pointwise, "conv_spatial": _conv_spatial,
    "depthwise": _depthwise, "depthwise_fallbacks": _depthwise_fallbacks, "dense": _dense,
}
# op kinds each model must consist of (the converter inserted nothing else)
KINDS = {"conv_pointwise": {"CONV_2D"}, "conv_spatial": {"CONV_2D"},
         "depthwise": {"CONV_2D", "DEPTHWISE_CONV_2D"},
         "depthwise_fallbacks": {"CONV_2D", "DEPTHWISE_CONV_2D"}, "dense": {"FULLY_CONNECTED"}}
# ops that must run in place (the in-place kernel paths are exercised)
INPLACE = {"conv_pointwise": {3, 4, 5}, "conv_spatial": {1, 3}, "depthwise": {1, 2, 3, 4, 5},
           "depthwise_fallbacks": {1, 2, 3}, "dense": set()}
CASES = [(name, seed) for name in MODELS for seed in range(2)]


@cache
def model(name: str, seed: int) -> bytes:
    r = random.Random(f"{name}-{seed}")
    build, shape = MODELS[name](r)
    return quantized(build, shape, 1000 + seed)


# emitted only by the DSP paths' inline assembly (tk_dot.h, tk_depthwise.c)
DSP_INSTRUCTIONS = ("sxtb16", "smlad")


def run_bit_exact(name: str, seed: int, cpu: str, tmp_path: Path, defines: tuple[str, ...] = ()) -> str:
    """Generate, link (with ``defines``) and run the model on QEMU; assert its outputs
    equal TFLM's; returns the ELF's disassembly."""
    tflite = model(name, seed)
    graph = parse_tflite(tflite, name)
    assert {op.kind for op in graph.ops} == KINDS[name]
    gen = generate(graph, tflite, model_file=f"{name}.tflite")
    assert INPLACE[name] <= set(gen.inplace_ops), f"in place: {gen.inplace_ops}"
    write_files(gen, tmp_path / "gen")
    inp = graph.input_tensors[0]
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (SAMPLES, *inp.shape[1:]), dtype=np.int8)
    want = reference.run(tflite, x).outputs.reshape(SAMPLES, -1)
    elf = build_elf(tmp_path / "gen", tmp_path, main_c(x), cpu=cpu, opt="-O2", defines=defines)
    got = parse_outputs(run_qemu(elf, cpu, icount=False, timeout=120), SAMPLES, want.shape[1])
    bad = [i for i in range(SAMPLES) if not np.array_equal(got[i], want[i])]
    diff = int(np.abs(got.astype(np.int32) - want.astype(np.int32)).max())
    assert not bad, f"{cpu} {' '.join(defines)}: samples {bad} differ from TFLM (max abs diff {diff})"
    return disassembly(elf)


@pytest.mark.parametrize("cpu", sorted(CORES))
@pytest.mark.parametrize(("name", "seed"), CASES)
def test_arm_bit_exact(name: str, seed: int, cpu: str, tmp_path: Path) -> None:
    code = run_bit_exact(name, seed, cpu, tmp_path)
    assert all(f"\t{i}" in code for i in DSP_INSTRUCTIONS), f"{cpu}: the DSP paths were not compiled in"


@pytest.mark.parametrize(("name", "seed"), [("conv_spatial", 0), ("depthwise", 1)])
def test_arm_no_dsp_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    """-DTK_NO_DSP on Cortex-M4 (a core with the DSP extension): the portable paths
    (int16 windows, row-ring in-place depthwise) run there and stay bit-exact; no
    SXTB16/SMLAD in the ELF proves the DSP paths were compiled out."""
    code = run_bit_exact(name, seed, "cortex-m4", tmp_path, defines=("TK_NO_DSP",))
    present = [i for i in DSP_INSTRUCTIONS if f"\t{i}" in code]
    assert not present, f"TK_NO_DSP build still contains {present}"


@pytest.mark.host
@pytest.mark.parametrize(("name", "seed"), CASES)
def test_host_bit_exact(name: str, seed: int, tmp_path: Path) -> None:
    check(model(name, seed), tmp_path, name, samples=10)
