"""Support checks and generation-time math of BATCH_MATMUL and RSQRT, without TF or a
compiler: what the checks refuse (as TFLM would), the kernel geometry for each
adj_x / adj_y and broadcast, constant operands stored transposed, and the
inverse-square-root twin of TFLite's GetInvSqrtQuantizedMultiplierExp against
math on every int8 distance and on large values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS, unsupported_reason
from tinykit.ops.batch_matmul import geometry
from tinykit.ops.rsqrt import inv_sqrt_multiplier_exp, rsqrt_lut

pytestmark = pytest.mark.unit


def _t(i: int, shape: tuple[int, ...], q: tuple[float, int] | None = (0.1, 0),
       data: np.ndarray | None = None, dtype: str = "int8") -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def _bmm(a: tuple[int, ...], b: tuple[int, ...], out: tuple[int, ...], adj_x: bool = False,
         adj_y: bool = False, **kw: object) -> tuple[Graph, Op]:
    ts = (_t(0, a, **kw), _t(1, b, **kw), _t(2, out, **kw))  # type: ignore[arg-type]
    op = Op(0, "BATCH_MATMUL", 2, (0, 1), (2,), {"adj_x": adj_x, "adj_y": adj_y})
    return Graph("g", ts, (op,), (0,), (2,), 0), op


def _check(*args: object, **kw: object) -> str | None:
    g, op = _bmm(*args, **kw)  # type: ignore[arg-type]
    return SPECS["BATCH_MATMUL"].check(g, op)


def test_ops_are_aot_specs_and_still_tflm_ops() -> None:
    for kind in ("BATCH_MATMUL", "RSQRT"):
        assert kind in SPECS and kind in TFLM_OPS
        assert unsupported_reason("aot", Op(0, kind, 2, (), ())) is None


def test_batch_matmul_geometry() -> None:
    g, op = _bmm((1, 2, 3, 5), (1, 1, 5, 4), (1, 2, 3, 4))  # rhs broadcast over dim 1
    geo = geometry(g, op)
    assert geo == {"batch": [1, 1, 2], "lhs_batch_stride": [0, 0, 15],
                   "rhs_batch_stride": [0, 0, 0], "rows": 3, "cols": 4, "depth": 5,
                   "adj_x": False, "adj_y": False}
    g, op = _bmm((2, 5, 3), (5, 4), (2, 3, 4), adj_x=True)  # rank 3 x rank 2
    geo = geometry(g, op)
    assert isinstance(geo, dict)
    assert (geo["rows"], geo["cols"], geo["depth"], geo["batch"]) == (3, 4, 5, [1, 1, 2])
    g, op = _bmm((3, 1, 2, 6), (4, 3, 6), (3, 4, 2, 3), adj_y=True)  # both broadcast
    geo = geometry(g, op)
    assert isinstance(geo, dict)
    assert geo["lhs_batch_stride"] == [0, 12, 0] and geo["rhs_batch_stride"] == [0, 0, 18]


def test_batch_matmul_refusals() -> None:
    assert _check((1, 3, 5), (1, 5, 4), (1, 3, 4)) is None
    assert "do not broadcast" in str(_check((2, 3, 5), (3, 5, 4), (3, 3, 4)))
    assert "depths differ" in str(_check((1, 3, 5), (1, 4, 4), (1, 3, 4)))
    assert "depths differ" in str(_check((1, 3, 5), (1, 5, 4), (1, 3, 4), adj_y=True))
    assert "output shape" in str(_check((1, 3, 5), (1, 5, 4), (1, 4, 3)))
    assert "2 to 5 dimensions" in str(_check((5,), (5, 4), (4,)))
    assert "int16" in str(_check((1, 3, 5), (1, 5, 4), (1, 3, 4), dtype="int16"))


def test_batch_matmul_stores_a_constant_rhs_transposed() -> None:
    """The emitter's C: a constant rhs without adj_y becomes [cols][depth]; the
    original array is not emitted (it would be an unused static const)."""
    from tinykit.codegen.api import generate

    rhs = np.arange(-6, 6, dtype=np.int8).reshape(1, 3, 4)
    ts = (_t(0, (1, 2, 3)), _t(1, (1, 3, 4), data=rhs), _t(2, (1, 2, 4)))
    op = Op(0, "BATCH_MATMUL", 2, (0, 1), (2,), {"adj_x": False, "adj_y": False})
    g = Graph("g", ts, (op,), (0,), (2,), 0)
    c = generate(g, b"model").files["model.c"]
    assert "tk_l0_rhs_t[12]" in c and "tk_t1[" not in c
    body = c.split("tk_l0_rhs_t[12]")[1].split("};")[0]
    assert [int(v) for v in body.split("{")[1].replace("\n", "").split(",") if v.strip()] == \
        rhs[0].T.reshape(-1).tolist()
    assert ".rhs_col_step = 3" in c and ".rhs_depth_step = 1" in c


def test_inv_sqrt_twin_is_close_to_math() -> None:
    for v in [*range(2, 300), 1 << 20, (1 << 29) + 7, (1 << 31) - 1]:
        m, s = inv_sqrt_multiplier_exp(v)
        assert 0 < m < 1 << 31
        assert abs(m * 2.0 ** (s - 31) * math.sqrt(v) - 1) < 1e-5, v


def test_rsqrt_table_and_its_check() -> None:
    lut = rsqrt_lut(0.02, -128, 0.05, -128)
    x = (np.arange(-128, 128) + 128) * 0.02
    want = np.clip(np.round(1 / np.sqrt(x[1:]) / 0.05) - 128, -128, 127)
    assert lut[0] == 127 and np.abs(np.asarray(lut[1:]) - want).max() <= 1
    ts = [_t(0, (4,), (0.02, -128)), _t(1, (4,), (0.05, -128))]
    op = Op(0, "RSQRT", 2, (0,), (1,))
    assert SPECS["RSQRT"].check(Graph("g", tuple(ts), (op,), (0,), (1,), 0), op) is None
    ts[0] = _t(0, (4,), (0.02, -100))
    why = SPECS["RSQRT"].check(Graph("g", tuple(ts), (op,), (0,), (1,), 0), op)
    assert "zero point -128" in str(why)
