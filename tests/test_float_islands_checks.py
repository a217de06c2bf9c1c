"""Float islands on hand-built graphs (tinykit/graph/islands.py): which chains
DEQUANTIZE -> float ops -> QUANTIZE fold into one int8 table, the folded graph, the
table's arithmetic (TFLM's Dequantize / AffineQuantize), and the float check that
still refuses what does not fold. Unit tier: no TF, no compiler."""

from __future__ import annotations

import numpy as np
import pytest

from tinykit.analyze.api import float_message, float_op_advice, float_ops
from tinykit.graph import Graph, Op, Quant, Tensor
from tinykit.graph.islands import (
    EXACT_UNARY,
    ISLAND,
    find_islands,
    fold_islands,
    island_table,
    quantize_s8,
    round_to_nearest,
)
from tinykit.ops import SPECS, find_unsupported

pytestmark = pytest.mark.unit

Q_IN, Q_OUT = Quant((0.05,), (3,)), Quant((0.1,), (-2,))


def _graph(ops: list[tuple[str, tuple[int, ...], tuple[int, ...]]], dtypes: dict[int, str],
           outputs: tuple[int, ...]) -> Graph:
    """Tensor i is int8 (quantized) unless ``dtypes`` says float32; tensor 0 is the input."""
    n = 1 + max(max(o) for _, _, o in ops)
    tensors = tuple(Tensor(i, f"t{i}", (1, 4), dtypes.get(i, "int8"),
                           None if dtypes.get(i) == "float32" else (Q_IN if i == 0 else Q_OUT))
                    for i in range(n))
    return Graph("g", tensors, tuple(Op(k, kind, 1, ins, outs) for k, (kind, ins, outs)
                                     in enumerate(ops)), (0,), outputs, 0)


F = "float32"


def _chain(*middle: str) -> Graph:
    """x (int8) -> DEQUANTIZE -> the middle ops (float) -> QUANTIZE -> int8 RELU."""
    ops = [("DEQUANTIZE", (0,), (1,))]
    for k, kind in enumerate(middle):
        ops.append((kind, (1 + k,), (2 + k,)))
    last = 1 + len(middle)
    ops += [("QUANTIZE", (last,), (last + 1,)), ("RELU", (last + 1,), (last + 2,))]
    return _graph(ops, {i: F for i in range(1, last + 1)}, (last + 2,))


@pytest.mark.parametrize("middle", [("NEG",), ("SQUARE",), ("NEG", "ABS", "RELU6"), ("RELU",), (),
                                    ("FLOOR",), ("CEIL",), ("ROUND",), ("NEG", "ROUND"), ("SIGN",)])
def test_an_exact_unary_chain_folds_into_one_int8_op(middle: tuple[str, ...]) -> None:
    graph = _chain(*middle)
    assert float_message(graph) is not None  # refused as it stands
    folded = fold_islands(graph)
    assert [op.kind for op in folded.ops] == [ISLAND, "RELU"]
    assert [op.index for op in folded.ops] == [0, 1]  # renumbered in execution order
    island = folded.ops[0]
    assert island.inputs == (0,) and island.outputs == (len(middle) + 2,)
    assert island.options["chain"] == ("DEQUANTIZE", *middle, "QUANTIZE")
    assert island.options["folded"] == tuple(range(len(middle) + 2))
    names = island.options["names"]  # the ops' layer names; the island is named after its op
    assert names[-1] == graph.layer_name(graph.ops[-2])
    assert folded.layer_name(island) == (names[-2] if middle else names[-1])
    assert float_message(folded) is None
    assert find_unsupported("aot", folded) == []
    assert SPECS[ISLAND].inplace(folded, island)
    assert all(t.dtype == "int8" for t in folded.activations)


def _two_readers() -> Graph:  # the NEG output also read by a second QUANTIZE
    return _graph([("DEQUANTIZE", (0,), (1,)), ("NEG", (1,), (2,)), ("QUANTIZE", (2,), (3,)),
                   ("QUANTIZE", (2,), (4,)), ("ADD", (3, 4), (5,))], {1: F, 2: F}, (5,))


def _binary() -> Graph:  # a float MUL of two dequantized int8 tensors
    return _graph([("DEQUANTIZE", (0,), (1,)), ("DEQUANTIZE", (0,), (2,)), ("MUL", (1, 2), (3,)),
                   ("QUANTIZE", (3,), (4,))], {1: F, 2: F, 3: F}, (4,))


def _not_exact() -> Graph:  # SIN: libm, not reproducible bit for bit
    return _graph([("DEQUANTIZE", (0,), (1,)), ("SIN", (1,), (2,)), ("QUANTIZE", (2,), (3,))],
                  {1: F, 2: F}, (3,))


def _float_output() -> Graph:  # the NEG's float result is a model output: nothing to requantize
    return _graph([("DEQUANTIZE", (0,), (1,)), ("NEG", (1,), (2,)), ("RELU", (0,), (3,))],
                  {1: F, 2: F}, (2, 3))


def _neg_read_twice() -> Graph:  # the float tensor is both the NEG input and a model output
    return _graph([("DEQUANTIZE", (0,), (1,)), ("NEG", (1,), (2,)), ("QUANTIZE", (2,), (3,))],
                  {1: F, 2: F}, (3, 1))


@pytest.mark.parametrize(("build", "kind"), [(_two_readers, "NEG"), (_binary, "MUL"),
                                             (_not_exact, "SIN"), (_float_output, "NEG"),
                                             (_neg_read_twice, "NEG")])
def test_a_chain_that_cannot_fold_stays_and_is_refused_as_before(build, kind: str) -> None:  # noqa: ANN001
    graph = build()
    assert find_islands(graph) == []
    assert fold_islands(graph) is graph
    message = float_message(graph)
    assert message is not None and f"{kind} v1" in message
    assert message.startswith("g: model is not int8-quantized: TensorFlow left ")
    assert kind in {op.kind for op in float_ops(graph)}


def test_neg_advice_only_for_a_neg_that_does_not_fold() -> None:
    graph = _two_readers()
    assert "0.0 - x" in (float_op_advice(float_ops(graph)) or "")
    assert float_ops(fold_islands(_chain("NEG"))) == []  # folded: nothing to advise


def test_table_restates_tflm_dequantize_and_affine_quantize() -> None:
    x = Tensor(0, "x", (4,), "int8", Quant((0.05,), (3,)))
    y = Tensor(1, "y", (4,), "int8", Quant((0.1,), (-2,)))
    q = np.arange(-128, 128)
    neg = island_table(x, y, ("DEQUANTIZE", "NEG", "QUANTIZE")).astype(int)
    real = -(np.float32(0.05) * (q - 3).astype(np.float32))
    want = np.clip(np.sign(real / np.float32(0.1)) * np.floor(np.abs(real / np.float32(0.1)) + 0.5)
                   - 2, -128, 127)
    assert neg.tolist() == want.astype(int).tolist()
    square = island_table(x, y, ("DEQUANTIZE", "SQUARE", "QUANTIZE")).astype(int)
    assert square.min() >= -2 and square[0] == 127  # x^2 >= 0; (-131 * 0.05)^2 saturates
    relu6 = island_table(x, x, ("DEQUANTIZE", "RELU6", "QUANTIZE")).astype(int)
    assert relu6[128 + 3] == 3 and relu6[0] == 3 and relu6[255] == 123  # 6.0 / 0.05 + 3


def test_affine_quantize_rounds_halves_away_from_zero_in_float32() -> None:
    halves = np.asarray([0.5, 1.5, 2.5, -0.5, -1.5, -2.5], np.float32)
    assert quantize_s8(halves, 1.0, 0).tolist() == [1, 2, 3, -1, -2, -3]  # not banker's
    # the largest float32 below 0.5 rounds to 0 (floor(x + 0.5) in float32 would give 1)
    below = np.nextafter(np.float32(0.5), np.float32(0.0))
    assert quantize_s8(np.asarray([below, -below], np.float32), 1.0, 0).tolist() == [0, 0]
    assert quantize_s8(np.asarray([np.inf, -np.inf, 1e30], np.float32), 0.1, 0).tolist() == \
        [127, -128, 127]


def test_round_is_tflm_round_to_nearest_halves_to_even() -> None:
    """EXACT_UNARY["ROUND"] (np.rint) against a step-by-step port of TFLM's RoundToNearest:
    every dequantized int8 value of 40 scales (halves among them), every half in
    [-300, 300], float32 edges and 20000 random float32 bit patterns."""
    rng = np.random.default_rng(0)
    parts = [np.arange(-300, 300, dtype=np.float32) + np.float32(0.5),
             np.asarray([0.0, -0.0, 2.0**23 + 1, -(2.0**23) - 1, 2.0**40, -1e-30,
                         np.nextafter(np.float32(0.5), np.float32(0))], np.float32)]
    for scale in [0.5, 0.25, 0.125, 1.5, 0.1, 0.05, *rng.uniform(1e-3, 2.0, 34)]:
        zp = int(rng.integers(-128, 128))
        parts.append(np.float32(scale) * (np.arange(-128, 128) - zp).astype(np.float32))
    bits = rng.integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    parts.append(bits[np.isfinite(bits) & (np.abs(bits) < 2.0**31)])
    v = np.concatenate(parts).astype(np.float32)
    want = [round_to_nearest(float(x)) for x in v]
    assert EXACT_UNARY["ROUND"](v).astype(np.float32).tolist() == want


def test_floor_ceil_round_tables() -> None:
    """Input scale 0.5, zero point 0: every int8 input is k/2, so ties are everywhere."""
    x = Tensor(0, "x", (4,), "int8", Quant((0.5,), (0,)))
    q = np.arange(-128, 128)
    real = q / 2
    for kind, fn in (("FLOOR", np.floor), ("CEIL", np.ceil), ("ROUND", np.rint)):
        got = island_table(x, x, ("DEQUANTIZE", kind, "QUANTIZE")).astype(int)
        assert got.tolist() == np.clip(2 * fn(real), -128, 127).astype(int).tolist(), kind
    rnd = island_table(x, x, ("DEQUANTIZE", "ROUND", "QUANTIZE")).astype(int)
    assert [rnd[128 + k] // 2 for k in (-5, -3, -1, 1, 3, 5)] == [-2, -2, 0, 0, 2, 2]  # to even


def test_sign_table() -> None:
    x = Tensor(0, "x", (4,), "int8", Quant((0.05,), (3,)))
    y = Tensor(1, "y", (4,), "int8", Quant((1 / 127,), (0,)))
    got = island_table(x, y, ("DEQUANTIZE", "SIGN", "QUANTIZE")).astype(int)
    want = np.sign(np.arange(-128, 128) - 3) * 127
    assert got.tolist() == want.tolist()  # the zero point gives 0 (np.sign(-0.0) too)
