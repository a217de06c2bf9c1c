"""Support checks and generation-time math of the issue-10 ops, without TF or a
compiler: what each check refuses (as TFLM would, or where TFLM's raw-int8
arithmetic would be wrong), and the reduction's shape collapse walked in Python
against numpy on seeded random shapes and axes."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS, unsupported_reason
from tinykit.ops.mean import reduce_groups
from tinykit.ops.slice import strided_walk
from tinykit.ops.transpose import transpose_params

pytestmark = pytest.mark.unit

NEW = ("SUB", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "PRELU", "ABS", "MEAN", "SUM",
       "REDUCE_MAX", "REDUCE_MIN", "ARG_MAX", "ARG_MIN", "TRANSPOSE", "SLICE", "STRIDED_SLICE",
       "GATHER")


def _t(i: int, shape: tuple[int, ...], q: tuple[float, int] | None = (0.1, 0),
       data: np.ndarray | None = None, dtype: str = "int8") -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def _graph(kind: str, tensors: list[Tensor], n_in: int, options: dict | None = None) -> tuple[Graph, Op]:
    op = Op(0, kind, 1, tuple(range(n_in)), (n_in,), options or {})
    return Graph("g", tuple(tensors), (op,), (0,), (n_in,), 0), op


def _check(kind: str, tensors: list[Tensor], n_in: int, options: dict | None = None) -> str | None:
    g, op = _graph(kind, tensors, n_in, options)
    return SPECS[kind].check(g, op)


def test_new_ops_are_aot_specs_and_still_tflm_ops() -> None:
    for kind in NEW:
        assert kind in SPECS and kind in TFLM_OPS
        assert unsupported_reason("aot", Op(0, kind, 1, (), ())) is None


def test_minmax_and_reduce_max_refuse_differing_quantization() -> None:
    same = [_t(0, (1, 4, 3)), _t(1, (3,), data=np.zeros(3, np.int8)), _t(2, (1, 4, 3))]
    assert _check("MAXIMUM", same, 2) is None
    other = [*same[:2], _t(2, (1, 4, 3), (0.2, 0))]
    assert "quantized alike" in str(_check("MINIMUM", other, 2))
    axes = _t(1, (1,), None, np.asarray([1], np.int32), "int32")
    assert _check("REDUCE_MAX", [_t(0, (1, 4, 3)), axes, _t(2, (1, 3))], 2) is None
    assert "quantized alike" in str(_check("REDUCE_MAX", [_t(0, (1, 4, 3)), axes,
                                                           _t(2, (1, 3), (0.1, 5))], 2))


def test_reductions_refuse_what_tflm_cannot_run() -> None:
    x = _t(0, (1, 2, 3, 4))
    three = _t(1, (3,), None, np.asarray([1, 2, 3], np.int32), "int32")
    assert "at most 2 axes" in str(_check("MEAN", [x, three, _t(2, (1, 1, 1, 1))], 2))
    five = _t(0, (1, 2, 3, 4, 5))
    one = _t(1, (1,), None, np.asarray([1], np.int32), "int32")
    assert "at most 4 dimensions" in str(_check("SUM", [five, one, _t(2, (1, 3, 4, 5))], 2))
    dynamic = _t(1, (1,), None, None, "int32")
    assert "constant axes" in str(_check("MEAN", [x, dynamic, _t(2, (1, 3, 4))], 2))


def test_other_refusals() -> None:
    axis = _t(1, (1,), None, np.asarray([-1], np.int32), "int32")
    assert _check("ARG_MAX", [_t(0, (1, 5)), axis, _t(2, (1,), None, dtype="int32")], 2) is None
    assert "int32 indices" in str(_check("ARG_MAX", [_t(0, (1, 5)), axis,
                                                      _t(2, (1,), None, dtype="int64")], 2))
    b5 = [_t(0, (2, 1, 3, 4, 5)), _t(1, (5,), data=np.zeros(5, np.int8)), _t(2, (2, 1, 3, 4, 5))]
    assert "4 dimensions" in str(_check("SQUARED_DIFFERENCE", b5, 2))
    assert _check("SUB", b5, 2) is None  # SUB broadcasts over 5 dims in TFLM
    assert "fused activation" in str(_check("SUB", b5, 2, {"fused_activation_function": "TANH"}))
    alpha = _t(1, (3, 4, 5), data=np.zeros(60, np.int8))
    assert "at most 4 dimensions" in str(_check("PRELU", [b5[0], alpha, b5[2]], 2))
    perm = _t(1, (3,), None, np.asarray([0, 2, 1], np.int32), "int32")
    assert _check("TRANSPOSE", [_t(0, (1, 4, 3)), perm, _t(2, (1, 3, 4))], 2) is None
    assert "quantized alike" in str(_check("TRANSPOSE", [_t(0, (1, 4, 3)), perm,
                                                          _t(2, (1, 3, 4), (0.3, 1))], 2))
    idx = _t(1, (2,), None, np.asarray([2, 0], np.int32), "int32")
    assert _check("GATHER", [_t(0, (1, 4, 3)), idx, _t(2, (1, 2, 3))], 2, {"axis": 1}) is None
    out_of_range = _t(1, (2,), None, np.asarray([4, 0], np.int32), "int32")
    assert "[0, 4)" in str(_check("GATHER", [_t(0, (1, 4, 3)), out_of_range, _t(2, (1, 2, 3))], 2,
                                  {"axis": 1}))
    assert "batch_dims" in str(_check("GATHER", [_t(0, (1, 4, 3)), idx, _t(2, (1, 2, 3))], 2,
                                      {"axis": 1, "batch_dims": 1}))
    per_channel = Tensor(0, "x", (1, 4), "int8", Quant((0.1, 0.2, 0.1, 0.1), (0, 0, 0, 0), 1), None)
    assert "per channel" in str(_check("ABS", [per_channel, _t(1, (1, 4))], 1))


def _walk(outer: list[int], ostride: list[int], inner: list[int], istride: list[int],
          x: np.ndarray, fn) -> list[int]:  # noqa: ANN001
    """The C kernel's walk (tk_reduce.c) in Python."""
    flat = x.reshape(-1)
    out = []
    for jo in itertools.product(*(range(d) for d in outer)):
        base = sum(j * s for j, s in zip(jo, ostride, strict=True))
        vals = [flat[base + sum(i * s for i, s in zip(ii, istride, strict=True))]
                for ii in itertools.product(*(range(d) for d in inner))]
        out.append(fn(vals))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_reduce_groups_walk_matches_numpy(seed: int) -> None:
    r = random.Random(seed)
    shape = tuple(r.choice([1, 1, 2, 3, 4]) for _ in range(r.randint(1, 4)))
    axes = set(r.sample(range(len(shape)), r.randint(1, min(2, len(shape)))))
    x = np.random.default_rng(seed).integers(-128, 128, shape)
    got = _walk(*reduce_groups(shape, axes), x, sum)
    assert got == np.sum(x, axis=tuple(sorted(axes))).reshape(-1).tolist()
    got = _walk(*reduce_groups(shape, axes), x, max)
    assert got == np.max(x, axis=tuple(sorted(axes))).reshape(-1).tolist()


@pytest.mark.parametrize("seed", range(20))
def test_transpose_params_match_numpy(seed: int) -> None:
    r = random.Random(seed)
    shape = tuple(r.randint(1, 4) for _ in range(r.randint(1, 5)))
    perm = list(range(len(shape)))
    r.shuffle(perm)
    x = np.arange(int(np.prod(shape))).reshape(shape)
    p = transpose_params(shape, perm)
    got = _walk(p["dims"], p["in_stride"], [1] * 5, [0] * 5, x, lambda v: v[0])
    assert got == np.transpose(x, perm).reshape(-1).tolist()


@pytest.mark.parametrize("seed", range(60))
def test_strided_walk_matches_python_slicing(seed: int) -> None:
    """TFLM's start/stop rules (masks, negative indices, clamping, shrink) against
    Python's own slicing on seeded random bounds."""
    r = random.Random(seed)
    shape = tuple(r.randint(1, 6) for _ in range(r.randint(1, 4)))
    x = np.arange(int(np.prod(shape))).reshape(shape)
    begin, end, strides, bm, em, sm, index = [], [], [], 0, 0, 0, []
    for d, n in enumerate(shape):
        step = r.choice([1, 1, 2, 3, -1, -2])
        b, e = r.randint(-n - 2, n + 2), r.randint(-n - 2, n + 2)
        begin.append(b), end.append(e), strides.append(step)
        if r.random() < 0.2 and -n <= b < n:  # shrink (the converter's stride is 1 there)
            strides[-1] = 1
            sm |= 1 << d
            index.append(b)
            continue
        mb, me = r.random() < 0.3, r.random() < 0.3
        bm |= mb << d
        em |= me << d
        index.append(slice(None if mb else b, None if me else e, step))
    starts, counts, steps = strided_walk(shape, begin, end, strides, bm, em, sm)
    want = x[tuple(index)]
    kept = [c for d, c in enumerate(counts) if not sm & (1 << d)]
    assert tuple(kept) == want.shape
    flat = x.reshape(-1)
    in_strides = [int(np.prod(shape[d + 1:])) for d in range(len(shape))]
    got = [flat[sum((s + i * st) * k for s, i, st, k in zip(starts, ii, steps, in_strides, strict=True))]
           for ii in itertools.product(*(range(c) for c in counts))]
    assert got == want.reshape(-1).tolist()
