"""TRANSPOSE_CONV at generation time (unit tier: no TF, no compiler): the support
check's reasons, and the gather form's phase layout and folded bias computing
exactly TFLM's scatter accumulator on random geometries (numpy twins of both)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import AOT_OPS, SPECS, TFLM_OPS, tflm_resolver, unsupported_reason
from tinykit.ops.tflm import TFLM_ONLY
from tinykit.ops.transpose_conv import geometry, phase_filter, phase_taps

pytestmark = pytest.mark.unit


def graph(x: tuple[int, ...] = (1, 3, 4, 2), w: tuple[int, ...] = (5, 3, 2, 2),
          y: tuple[int, ...] = (1, 6, 8, 5), *, options: dict | None = None, bias: str = "int32",
          filter_const: bool = True, x_dtype: str = "int8", shape: tuple[int, ...] | None = None,
          seed: int = 0) -> Graph:
    rng = np.random.default_rng(seed)
    q = Quant((0.05,), (3,))
    wq = Quant(tuple(float(s) for s in rng.uniform(0.01, 0.02, w[0])), (0,) * w[0])
    wdata = rng.integers(-127, 128, w, dtype=np.int8).tobytes() if filter_const else None
    ts = [Tensor(0, "shape", (4,), "int32", None, np.asarray(shape or y, np.int32).tobytes()),
          Tensor(1, "w", w, "int8", wq, wdata),
          Tensor(2, "x", x, x_dtype, q if x_dtype == "int8" else None),
          Tensor(3, "y", y, "int8", Quant((0.1,), (-5,)))]
    inputs: tuple[int, ...] = (0, 1, 2)
    if bias:
        dt = np.int32 if bias == "int32" else np.int64
        ts.append(Tensor(4, "b", (w[0],), bias, None,
                         rng.integers(-999, 999, w[0]).astype(dt).tobytes()))
        inputs = (0, 1, 2, 4)
    opts = {"padding": "SAME", "stride_h": 2, "stride_w": 2, "fused_activation_function": "NONE"}
    opts.update(options or {})
    op = Op(0, "TRANSPOSE_CONV", 4, inputs, (3,), opts)
    return Graph("g", tuple(ts), (op,), (2,), (3,), 0)


def reason(g: Graph) -> str | None:
    return unsupported_reason("aot", g.ops[0], g)


def test_registered_for_both_runtimes() -> None:
    assert AOT_OPS["TRANSPOSE_CONV"] == 4 and TFLM_OPS["TRANSPOSE_CONV"] == 4
    assert "TRANSPOSE_CONV" not in TFLM_ONLY
    assert tflm_resolver("TRANSPOSE_CONV") == "AddTransposeConv"
    assert SPECS["TRANSPOSE_CONV"].kernels == ("tk_transpose_conv_s8",)


def test_check_accepts_bias_present_absent_or_omitted() -> None:
    assert reason(graph()) is None
    assert reason(graph(bias="")) is None  # 3 inputs
    g = graph()
    op = g.ops[0]
    omitted = Op(0, op.kind, op.version, (*op.inputs[:3], -1), op.outputs, op.options)
    assert reason(Graph("g", g.tensors, (omitted,), g.inputs, g.outputs, 0)) is None


@pytest.mark.parametrize(("kw", "why"), [
    ({"options": {"fused_activation_function": "TANH"}}, "fused activation TANH is not supported"),
    ({"filter_const": False}, "needs constant int8 weights"),
    ({"bias": "int64"}, "needs a constant int32 bias"),
    ({"x_dtype": "float32"}, "needs quantized int8 tensors (got float32)"),
    ({"shape": (1, 6, 9, 5)}, "the output-shape input does not match the output tensor"),
    ({"w": (5, 3, 2, 3)}, "filter, input and output channels or batches do not match"),
    ({"options": {"stride_h": 0}}, "needs strides, kernel sizes and dimensions of at least 1"),
])
def test_check_reasons(kw: dict, why: str) -> None:
    assert reason(graph(**kw)) == why


def scatter(x: np.ndarray, w: np.ndarray, g: dict[str, int], in_zp: int) -> np.ndarray:
    """TFLM's reference accumulator: every input pixel scattered into the output."""
    n, ih, iw, ic = x.shape
    acc = np.zeros((n, g["out_h"], g["out_w"], g["out_c"]), np.int64)
    xs = x.astype(np.int64) - in_zp
    for iy in range(ih):
        for ix in range(iw):
            for ky in range(g["k_h"]):
                for kx in range(g["k_w"]):
                    oy = iy * g["stride_h"] - g["pad_h"] + ky
                    ox = ix * g["stride_w"] - g["pad_w"] + kx
                    if 0 <= oy < g["out_h"] and 0 <= ox < g["out_w"]:
                        acc[:, oy, ox, :] += xs[:, iy, ix, :] @ w[:, ky, kx, :].T.astype(np.int64)
    return acc


def gather(x: np.ndarray, w: np.ndarray, g: dict[str, int], in_zp: int) -> np.ndarray:
    """The C kernel's accumulator (tk_transpose_conv.c) from the generated tables:
    window with zero-point padding, phase filter block, folded bias (bias 0)."""
    sh, sw, c, oc = g["stride_h"], g["stride_w"], g["in_c"], g["out_c"]
    flat, offsets = phase_filter(w, sh, sw)
    th, tw = phase_taps(g["k_h"], sh), phase_taps(g["k_w"], sw)
    padded = np.full((x.shape[0], g["in_h"] + 20, g["in_w"] + 20, c), in_zp, np.int64)
    padded[:, 10:10 + g["in_h"], 10:10 + g["in_w"]] = x
    acc = np.zeros((x.shape[0], g["out_h"], g["out_w"], oc), np.int64)
    for oy in range(g["out_h"]):
        py, nty = (oy + g["pad_h"]) % sh, th[(oy + g["pad_h"]) % sh]
        iy0 = (oy + g["pad_h"]) // sh - nty + 1
        for ox in range(g["out_w"]):
            px, ntx = (ox + g["pad_w"]) % sw, tw[(ox + g["pad_w"]) % sw]
            ix0 = (ox + g["pad_w"]) // sw - ntx + 1
            k = nty * ntx * c
            block = flat[offsets[py * sw + px]:][:oc * k].reshape(oc, k).astype(np.int64)
            taps = w[:, py::sh, px::sw, :].astype(np.int64).reshape(oc, -1)
            folded = -in_zp * taps.sum(axis=1)
            win = padded[:, 10 + iy0:10 + iy0 + nty, 10 + ix0:10 + ix0 + ntx].reshape(len(x), -1)
            acc[:, oy, ox] = win @ block.T + folded
    return acc


@pytest.mark.parametrize("seed", range(40))
def test_gather_tables_equal_tflm_scatter(seed: int) -> None:
    r = random.Random(seed)
    kh, kw, sh, sw = r.randint(1, 5), r.randint(1, 5), r.randint(1, 3), r.randint(1, 3)
    ih, iw, ic, oc = r.randint(1, 5), r.randint(1, 5), r.randint(1, 4), r.randint(1, 4)
    padding = r.choice(["SAME", "VALID"])
    if padding == "SAME":
        oh, ow = ih * sh, iw * sw
    else:  # Keras VALID: (i - 1) * s + max(k, s)
        oh = (ih - 1) * sh + max(kh, sh)
        ow = (iw - 1) * sw + max(kw, sw)
    g = graph((2, ih, iw, ic), (oc, kh, kw, ic), (2, oh, ow, oc), bias="",
              options={"padding": padding, "stride_h": sh, "stride_w": sw}, seed=seed)
    geo = geometry(g, g.ops[0])
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (2, ih, iw, ic), dtype=np.int8)
    w = g.tensor(1).array()
    in_zp = int(rng.integers(-128, 128))
    np.testing.assert_array_equal(gather(x, w, geo, in_zp), scatter(x, w, geo, in_zp))
