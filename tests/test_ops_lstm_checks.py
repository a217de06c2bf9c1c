"""UNIDIRECTIONAL_SEQUENCE_LSTM on the AOT runtime without TF or a compiler: what the
support check refuses (the LSTM variants TF does not emit for a Keras LSTM, other
dtypes, batch > 1, time-major, a cell scale that is no power of two) and the
generation-time math (TFLM's Prepare) pinned on hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS, unsupported_reason
from tinykit.ops.lstm import (
    cell_power,
    mul_multiplier,
    quantized_cell_clip,
    sigmoid_table,
    tanh_rescale,
)

pytestmark = pytest.mark.unit

STEPS, N_IN, N_CELL = 10, 4, 8


def _t(i: int, shape: tuple[int, ...], dtype: str = "int8", scale: float = 0.01, zp: int = 0,
       const: bool = False) -> Tensor:
    data = np.zeros(shape, {"int8": np.int8, "int16": np.int16, "int32": np.int32}[dtype]).tobytes() \
        if const else None
    return Tensor(i, f"t{i}", shape, dtype, Quant((scale,), (zp,), 0), data)


def _lstm(*, drop: tuple[int, ...] = (), add: tuple[int, ...] = (), cell_dtype: str = "int16",
          cell_scale: float = 2.0 ** -14, batch: int = 1, options: dict | None = None
          ) -> tuple[Graph, Op]:
    """A Keras-shaped fused LSTM (inputs as TF 2.21 writes them), edited by the arguments."""
    tensors: list[Tensor] = [_t(0, (batch, STEPS, N_IN), scale=0.03, zp=15)]
    inputs = [0]
    for pos in range(1, 24):
        idx = len(tensors)
        if pos in (1, 2, 3, 4):
            t = _t(idx, (N_CELL, N_IN), const=True)
        elif pos in (5, 6, 7, 8):
            t = _t(idx, (N_CELL, N_CELL), const=True)
        elif pos in (12, 13, 14, 15):
            t = _t(idx, (N_CELL,), "int32", const=True)
        elif pos == 18:
            t = _t(idx, (batch, N_CELL), scale=0.005, zp=-6)
        elif pos == 19:
            t = _t(idx, (batch, N_CELL), cell_dtype, scale=cell_scale)
        elif pos in add:
            t = _t(idx, (N_CELL,), "int16", const=True)
        else:
            inputs.append(-1)
            continue
        if pos in drop:
            inputs.append(-1)
            continue
        tensors.append(t)
        inputs.append(idx)
    out = len(tensors)
    tensors.append(_t(out, (batch, STEPS, N_CELL), scale=0.005, zp=-6))
    opts = {"fused_activation_function": "TANH", "cell_clip": 10.0, "time_major": False,
            **(options or {})}
    op = Op(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", 1, tuple(inputs), (out,), opts)
    return Graph("g", tuple(tensors), (op,), (0,), (out,), 0), op


def _check(**kw: object) -> str | None:
    g, op = _lstm(**kw)  # type: ignore[arg-type]
    return SPECS["UNIDIRECTIONAL_SEQUENCE_LSTM"].check(g, op)


def test_lstm_is_an_aot_spec_and_a_tflm_op() -> None:
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in SPECS and "UNIDIRECTIONAL_SEQUENCE_LSTM" in TFLM_OPS
    assert unsupported_reason("aot", Op(0, "UNIDIRECTIONAL_SEQUENCE_LSTM", 1, (), ())) is None
    assert _check() is None


@pytest.mark.parametrize(("kw", "why"), [
    ({"add": (9, 10, 11)}, "peephole"),
    ({"add": (16,)}, "projection"),
    ({"add": (20, 21, 22, 23)}, "layer norm"),
    ({"drop": (1, 5, 12)}, "CIFG"),
    ({"cell_dtype": "int8"}, "int16 cell state"),
    ({"cell_scale": 0.0001}, "power-of-two"),
    ({"batch": 2}, "batch 1"),
    ({"options": {"time_major": True}}, "time-major"),
    ({"options": {"fused_activation_function": "RELU"}}, "tanh"),
])
def test_check_refuses_what_the_kernel_does_not_run(kw: dict, why: str) -> None:
    reason = _check(**kw)
    assert reason is not None and why in reason, reason


def test_sigmoid_table_is_tflites() -> None:
    """256 entries from 0.5 to 1.0 in 0.16, increasing, its known first and last values."""
    t = sigmoid_table().astype(int)
    assert t.shape == (256,) and t[0] == 32768 and t[-1] == 65535
    assert (np.diff(t) >= 0).all()
    assert t[:10].tolist() == [32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841]


def test_prepare_math() -> None:
    assert cell_power(2.0 ** -15) == -15
    assert tanh_rescale(-15) == (3, 3) and tanh_rescale(-10) == (12, 0)
    assert quantized_cell_clip(10.0, 2.0 ** -11) == 20480
    assert quantized_cell_clip(-1.0, 2.0 ** -11) == 0
    # hidden: Q0.15 x Q0.15 -> an int8 scale of 0.0047
    m, s = mul_multiplier(2.0 ** -15, 2.0 ** -15, 0.0047)
    assert abs(m * 2.0 ** (s - 31) - 2.0 ** -30 / 0.0047) < 1e-15
