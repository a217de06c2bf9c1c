"""Support checks and generation-time tables of RESIZE_NEAREST_NEIGHBOR,
RESIZE_BILINEAR and LOG_SOFTMAX, without TF or a compiler: what each check
refuses (as TFLM's Prepare would, or where its int8 arithmetic would be wrong),
and the index/weight tables walked on seeded random sizes against their closed
forms."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS, unsupported_reason
from tinykit.ops.log_softmax import log_softmax_params, log_softmax_tables
from tinykit.ops.resize import bilinear_scale_10, bilinear_table, nearest_index
from tinykit.ops.tflm import TFLM_ONLY

pytestmark = pytest.mark.unit

NEW = ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "LOG_SOFTMAX")


def _t(i: int, shape: tuple[int, ...], q: tuple[float, int] | None = (0.1, 0),
       data: np.ndarray | None = None, dtype: str = "int8") -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def _check(kind: str, tensors: list[Tensor], options: dict | None = None) -> str | None:
    n_in = len(tensors) - 1
    op = Op(0, kind, 1, tuple(range(n_in)), (n_in,), options or {})
    return SPECS[kind].check(Graph("g", tuple(tensors), (op,), (0,), (n_in,), 0), op)


def _size(h: int, w: int, const: bool = True) -> Tensor:
    return _t(1, (2,), None, np.asarray([h, w], np.int32) if const else None, "int32")


def test_new_ops_are_aot_specs_and_still_tflm_ops() -> None:
    for kind in NEW:
        assert kind in SPECS and kind in TFLM_OPS and kind not in TFLM_ONLY
        assert unsupported_reason("aot", Op(0, kind, 1, (), ())) is None
    # half_pixel_centers is version 3 (both resizes), int16 is version 4: AOT stops at 3
    assert SPECS["RESIZE_BILINEAR"].version == SPECS["RESIZE_NEAREST_NEIGHBOR"].version == 3
    assert "up to version 3" in str(unsupported_reason("aot", Op(0, "RESIZE_BILINEAR", 4, (), ())))
    assert unsupported_reason("tflm", Op(0, "RESIZE_BILINEAR", 4, (), ())) is None


@pytest.mark.parametrize("kind", ["RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"])
def test_resize_checks(kind: str) -> None:
    x, y = _t(0, (1, 3, 4, 2)), _t(2, (1, 6, 8, 2))
    assert _check(kind, [x, _size(6, 8), y]) is None
    assert _check(kind, [x, _size(6, 8), y], {"align_corners": True}) is None
    assert _check(kind, [x, _size(6, 8), y], {"half_pixel_centers": True}) is None
    both = {"align_corners": True, "half_pixel_centers": True}
    assert "both align_corners" in str(_check(kind, [x, _size(6, 8), y], both))
    assert "constant int32" in str(_check(kind, [x, _size(6, 8, const=False), y]))
    assert "does not match" in str(_check(kind, [x, _size(6, 7), y]))
    assert "quantized alike" in str(_check(kind, [x, _size(6, 8), _t(2, (1, 6, 8, 2), (0.2, 0))]))
    assert "4-D" in str(_check(kind, [_t(0, (3, 4, 2)), _size(6, 8), _t(2, (6, 8, 2))]))
    assert "int8" in str(_check(kind, [_t(0, (1, 3, 4, 2), dtype="float32"), _size(6, 8), y]))


def test_log_softmax_checks() -> None:
    x = _t(0, (1, 10), (0.2, -3))
    assert _check("LOG_SOFTMAX", [x, _t(1, (1, 10), (16 / 256, 127))]) is None
    # TFLM's Prepare insists on scale 16/256, zero point 127
    assert "16/256" in str(_check("LOG_SOFTMAX", [x, _t(1, (1, 10), (16 / 256, 0))]))
    assert "16/256" in str(_check("LOG_SOFTMAX", [x, _t(1, (1, 10), (1 / 256, 127))]))
    assert "int8" in str(_check("LOG_SOFTMAX", [_t(0, (1, 10), None, dtype="float32"),
                                                _t(1, (1, 10), (16 / 256, 127))]))


def test_index_tables_on_random_sizes() -> None:
    """Integer factors give the textbook indices; every table stays inside the
    input and matches TFLM's integer definition (scaled = 1024 * lower + weight)."""
    r = random.Random(10)
    for _ in range(300):
        n_in, k = r.randint(1, 12), r.randint(1, 5)
        assert nearest_index(n_in * k, n_in, False, False) == [i // k for i in range(n_in * k)]
        assert nearest_index(n_in * k, n_in, False, True) == [i // k for i in range(n_in * k)]
        n_out = r.randint(1, 40)
        for align, half in ((False, False), (True, False), (False, True)):
            idx = nearest_index(n_out, n_in, align, half)
            assert all(0 <= i < n_in for i in idx) and idx == sorted(idx)
            scale = bilinear_scale_10(n_out, n_in, align)
            for i, (lo, hi, w) in enumerate(bilinear_table(n_out, n_in, align, half)):
                scaled = i * scale + (scale // 2 - 512 if half else 0)
                assert 0 <= lo <= hi < n_in
                assert scaled == 1024 * lo + w and -512 < w <= 1024 + scale
        if n_out > 1 and n_in > 1:  # align_corners: the first corner exactly, the last
            table = bilinear_table(n_out, n_in, True, False)  # within the scale's rounding
            assert table[0] == (0, 0, 0) and table[-1][1] == n_in - 1
            assert abs(1024 * table[-1][0] + table[-1][2] - 1024 * (n_in - 1)) <= n_out


def test_log_softmax_tables_follow_the_float_definition() -> None:
    for scale in (1 / 16, 0.02, 0.1, 0.37, 1.5):
        p = log_softmax_params(scale)
        exp_lut, diff_q5 = log_softmax_tables(scale)
        assert exp_lut[0] == 1 << 19  # exp(0) = 1 in Q12.19
        assert all(a >= b for a, b in zip(exp_lut, exp_lut[1:], strict=False))
        for d in range(256):
            if -d < p["diff_min"]:  # TFLM reads neither entry there (the Q5.26 value wraps)
                assert exp_lut[d] == 0
            else:
                assert abs(diff_q5[d] / 2**26 + d * scale) <= 1e-6 * max(1.0, d * scale)
                assert abs(exp_lut[d] / 2**19 - math.exp(-d * scale)) < 2e-5
        # the reverse divisor undoes the input multiplier
        rev = p["reverse_mult"] * 2.0 ** (p["reverse_shift"] - 31)
        assert abs(rev * p["input_mult"] * 2.0 ** (p["input_shift"] - 31) - 1) < 1e-6
