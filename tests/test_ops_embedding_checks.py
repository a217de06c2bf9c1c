"""Support checks of the Embedding ops (int32 LESS, ADD, SELECT / SELECT_V2, GATHER
by computed indices), the token-id data checks and the int32 input handling,
without TF or a compiler."""

from __future__ import annotations

import numpy as np
import pytest

from tinykit.errors import DataError
from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.ops import SPECS, TFLM_OPS
from tinykit.quantize.tokens import check_ids
from tinykit.tensors import integral, to_model_input
from tinykit.verify.api import token_vocabulary

pytestmark = pytest.mark.unit


def _t(i: int, shape: tuple[int, ...], dtype: str = "int32", data: np.ndarray | None = None,
       q: tuple[float, int] | None = None) -> Tensor:
    quant = Quant((q[0],), (q[1],), 0) if q else None
    return Tensor(i, f"t{i}", shape, dtype, quant, None if data is None else data.tobytes())


def _check(kind: str, tensors: list[Tensor], n_in: int, options: dict | None = None) -> str | None:
    op = Op(0, kind, 1, tuple(range(n_in)), (n_in,), options or {})
    graph = Graph("g", tuple(tensors), (op,), (0,), (n_in,), 0)
    return SPECS[kind].check(graph, op)


def test_less_and_add_int32_with_broadcast() -> None:
    n = _t(1, (), data=np.asarray(50, np.int32))
    assert _check("LESS", [_t(0, (1, 8)), n, _t(2, (1, 8), "bool")], 2) is None
    assert _check("ADD", [_t(0, (1, 8)), n, _t(2, (1, 8))], 2) is None
    assert "int32" in str(_check("LESS", [_t(0, (1, 8), "int8", q=(0.1, 0)), n,
                                          _t(2, (1, 8), "bool")], 2))
    assert "bool output" in str(_check("LESS", [_t(0, (1, 8)), n, _t(2, (1, 8))], 2))
    assert "broadcast" in str(_check("ADD", [_t(0, (1, 8)), _t(1, (3,)), _t(2, (1, 8))], 2))
    assert "fused activation RELU" in str(_check("ADD", [_t(0, (1, 8)), n, _t(2, (1, 8))], 2,
                                                  {"fused_activation_function": "RELU"}))


def test_int8_add_keeps_its_own_check() -> None:
    q = (0.1, 0)
    ok = [_t(0, (1, 4), "int8", q=q), _t(1, (1, 4), "int8", q=q), _t(2, (1, 4), "int8", q=q)]
    assert _check("ADD", ok, 2) is None
    assert "int8" in str(_check("ADD", [_t(0, (1, 4), "int8", q=q), _t(1, (1, 4)),
                                        _t(2, (1, 4), "int8", q=q)], 2))


def test_select_shapes() -> None:
    same = [_t(0, (1, 8), "bool"), _t(1, (1, 8)), _t(2, (1, 8)), _t(3, (1, 8))]
    assert _check("SELECT", same, 3) is None and _check("SELECT_V2", same, 3) is None
    rows = [_t(0, (2,), "bool"), _t(1, (2, 3)), _t(2, (2, 3)), _t(3, (2, 3))]
    assert "one shape" in str(_check("SELECT", rows, 3))  # TFLite's rank-1 select: refused
    bc = [_t(0, (2, 1), "bool"), _t(1, (1, 3)), _t(2, (2, 3)), _t(3, (2, 3))]
    assert _check("SELECT_V2", bc, 3) is None
    assert "int32" in str(_check("SELECT_V2", [_t(0, (2, 3), "bool"), _t(1, (2, 3), "float32"),
                                               _t(2, (2, 3)), _t(3, (2, 3))], 3))


def test_gather_computed_int32_indices() -> None:
    table = _t(0, (50, 8), "int8", np.zeros((50, 8), np.int8), (0.1, 0))
    out = _t(2, (1, 8, 8), "int8", q=(0.1, 0))
    assert _check("GATHER", [table, _t(1, (1, 8)), out], 2) is None
    assert "int32 indices" in str(_check("GATHER", [table, _t(1, (1, 8), "int64"), out], 2))
    assert "shape" in str(_check("GATHER", [table, _t(1, (1, 7)), out], 2))


def test_tflm_runs_less_and_select_v2_but_not_select() -> None:
    assert "LESS" in TFLM_OPS and "SELECT_V2" in TFLM_OPS and "SELECT" not in TFLM_OPS


def test_token_vocabulary_from_the_gather() -> None:
    table = _t(0, (37, 4), "int8", np.zeros((37, 4), np.int8), (0.1, 0))
    op = Op(0, "GATHER", 1, (0, 1), (2,), {"axis": 0})
    graph = Graph("g", (table, _t(1, (1, 5)), _t(2, (1, 5, 4), "int8", q=(0.1, 0))), (op,), (1,),
                  (2,), 0)
    assert token_vocabulary(graph) == 37


def test_token_ids_checks() -> None:
    assert check_ids(np.array([[0.0, 49.0]]), 50, "ids.npy").dtype == np.int32
    with pytest.raises(DataError, match=r"token id -1 at index \(0, 1\) is outside"):
        check_ids(np.array([[3, -1]]), 50, "ids.npy")
    with pytest.raises(DataError, match="not a whole number"):
        integral(np.array([0.25]), "ids.npy")
    with pytest.raises(DataError, match="outside int32"):
        integral(np.array([2**40]), "ids.npy")


def test_int32_input_is_never_quantized() -> None:
    t = _t(0, (1, 3))
    got = to_model_input(np.array([[1, -2, 3]], np.int64), t, "x.npy")
    assert got.array.dtype == np.int32 and not got.quantized
    with pytest.raises(DataError, match="not a whole number"):
        to_model_input(np.array([[1.5, 0, 0]]), t, "x.npy")


def test_serial_run_sends_int32_ids_unquantized() -> None:
    from tinykit.serial.client import DeviceInfo, TensorSpec, input_bytes
    from tinykit.serial.run import prepare_input

    spec = TensorSpec((1, 3), "int32", 12, 0.0, 0)
    info = DeviceInfo("m", "h", "aot", "qemu-m4", "fw", 64, 7, spec,
                      TensorSpec((1, 4), "int8", 4, 1 / 256, -128), 1, 256)
    x, quantized = prepare_input(np.array([7, -1, 49], np.int64), info)  # numpy's default int
    assert x.dtype == np.int32 and not quantized
    assert input_bytes(x, spec) == bytes([7, 0, 0, 0, 255, 255, 255, 255, 49, 0, 0, 0])  # LE
    with pytest.raises(DataError, match="not a whole number"):
        prepare_input(np.array([0.5, 0, 0]), info)
