"""Float islands that fold into one int8 lookup table.

TF 2.21 leaves some element-wise ops in float in a full-int8 conversion (the NEG of
``-x`` and of LayerNormalization's -mean, the SQUARE of RMSNormalization, FLOOR, CEIL,
ROUND and SIGN of ``tf.math.floor/ceil/round/sign``), between a
DEQUANTIZE and a QUANTIZE. When such a chain reads one int8 tensor, applies only
unary float ops whose float32 result is exactly reproducible (:data:`EXACT_UNARY`),
and ends in a QUANTIZE to int8 with no other reader of the float tensors, each int8
output is a function of one int8 input: 256 values, computed here with TFLM's own
arithmetic (:func:`island_table`).

:func:`fold_islands` returns the graph with each such chain replaced by one op of kind
:data:`ISLAND` (int8 in, int8 out; ``tinykit.ops.float_island`` runs it as a table),
ops renumbered in execution order. The folded op keeps the chain in its options:
``chain`` (the op kinds), ``folded`` (their indices in the .tflite) and ``names``
(their layer names); its output tensor takes the last float op's name (TF names the
QUANTIZE's "tfl.quantize"), unless it is a model output. A chain that does not fold
stays as it is, so the float check (:func:`tinykit.analyze.api.float_message`) still
names it with the same one line.

Leaf module: imports numpy and :mod:`tinykit.graph` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from tinykit.graph import Graph, Op, Tensor

ISLAND = "FLOAT_ISLAND"

_f32 = np.float32

# Unary float32 ops whose TFLM float kernels compute an exactly reproducible result:
# a sign flip, one IEEE multiply, a comparison, or rounding to an integer (exact in
# float32: no library approximation, no reassociation).
EXACT_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "NEG": lambda x: -x,  # TFLM elementwise/neg: -input
    "SQUARE": lambda x: x * x,  # TFLM elementwise: x * x in float
    "ABS": np.abs,  # std::abs
    "RELU": lambda x: np.maximum(x, _f32(0.0)),  # ReluFloat: val < 0 ? 0 : val
    "RELU6": lambda x: np.minimum(np.maximum(x, _f32(0.0)), _f32(6.0)),  # Relu6Float
    "FLOOR": np.floor,  # TFLM floor.cc: std::floor
    "CEIL": np.ceil,  # TFLM ceil.cc: std::ceil
    "ROUND": np.rint,  # TFLM round.cc: RoundToNearest, halves to even (see round_to_nearest)
    # TFLite sign.cc: (0 < x) - (x < 0). TFLM has no SIGN kernel: a model holding one is
    # checked against TFLite's reference kernels (tinykit.reference.engine).
    "SIGN": np.sign,
}


def round_to_nearest(v: float) -> float:
    """TFLM's ``reference_ops::RoundToNearest`` on one float32, step by step: floor,
    then up when the rest is over a half, or exactly a half and the floor odd. It equals
    ``np.rint`` (halves to even): tests/test_float_islands_checks.py compares them.

    >>> [round_to_nearest(v) for v in (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.25, -0.75)]
    [-2.0, -2.0, 0.0, 0.0, 2.0, 2.0, 2.0, -1.0]
    """
    value = _f32(v)
    floor_val = np.floor(value)
    diff = _f32(value - floor_val)
    if diff < _f32(0.5) or (diff == _f32(0.5) and int(floor_val) % 2 == 0):
        return float(floor_val)
    return float(_f32(floor_val + _f32(1.0)))


def _per_tensor_int8(t: Tensor) -> bool:
    return t.dtype == "int8" and t.quant is not None and len(t.quant.scale) == 1


def _chain_from(graph: Graph, dq: Op, readers: dict[int, list[Op]]) -> list[Op] | None:
    """The foldable chain that starts at DEQUANTIZE ``dq``, or None."""
    src = graph.tensor(dq.inputs[0])
    if len(dq.outputs) != 1 or not _per_tensor_int8(src):
        return None
    chain, cur = [dq], dq.outputs[0]
    while True:
        t = graph.tensor(cur)
        users = readers.get(cur, [])
        if t.dtype != "float32" or cur in graph.outputs or len(users) != 1:
            return None
        op = users[0]
        if [i for i in op.inputs if i >= 0] != [cur] or len(op.outputs) != 1:
            return None  # a binary op, or the tensor read twice
        if op.kind == "QUANTIZE":
            return [*chain, op] if _per_tensor_int8(graph.tensor(op.outputs[0])) else None
        if op.kind not in EXACT_UNARY:
            return None
        chain.append(op)
        cur = op.outputs[0]


def find_islands(graph: Graph) -> list[list[Op]]:
    """Every foldable chain DEQUANTIZE -> exact unary float ops -> QUANTIZE, in graph order."""
    readers: dict[int, list[Op]] = {}
    for op in graph.ops:
        for i in set(op.inputs):
            if i >= 0:
                readers.setdefault(i, []).append(op)
    found = []
    for op in graph.ops:
        if op.kind == "DEQUANTIZE" and op.inputs:
            chain = _chain_from(graph, op, readers)
            if chain is not None:
                found.append(chain)
    return found


def fold_islands(graph: Graph) -> Graph:
    """``graph`` with each foldable island as one :data:`ISLAND` op (the same object
    when there is none). The folded op sits where the island's QUANTIZE was."""
    islands = find_islands(graph)
    if not islands:
        return graph
    folded: dict[int, Op] = {}  # QUANTIZE index -> the island's op
    dropped: set[int] = set()
    tensors = list(graph.tensors)
    for chain in islands:
        dq, q = chain[0], chain[-1]
        out = q.outputs[0]
        if len(chain) > 2 and out not in graph.outputs:  # "tfl.quantize": name it after the op
            tensors[out] = replace(tensors[out], name=graph.layer_name(chain[-2]))
        options = {"chain": tuple(op.kind for op in chain),
                   "folded": tuple(op.index for op in chain),
                   "names": tuple(graph.layer_name(op) for op in chain)}
        folded[q.index] = Op(q.index, ISLAND, 1, (dq.inputs[0],), (q.outputs[0],), options)
        dropped |= {op.index for op in chain[:-1]}
    ops: list[Op] = []
    for op in graph.ops:
        if op.index in dropped:
            continue
        op = folded.get(op.index, op)
        ops.append(Op(len(ops), op.kind, op.version, op.inputs, op.outputs, op.options,
                      op.custom_code))
    return Graph(graph.name, tuple(tensors), tuple(ops), graph.inputs, graph.outputs,
                 graph.model_bytes, graph.description)


def dequantize_f32(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM reference Dequantize: ``static_cast<float>(double scale * (q - zp))``.

    >>> dequantize_f32(np.array([-128, 0, 5]), 0.5, -128).tolist()
    [0.0, 64.0, 66.5]
    """
    exact = np.float64(_f32(scale)) * (q.astype(np.int64) - zero_point).astype(np.float64)
    return exact.astype(_f32)


def quantize_s8(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLM reference AffineQuantize to int8: ``round(val / (float)scale) + zp`` in
    float32, rounding halves away from zero (``TfLiteRound``), then clamped.

    >>> quantize_s8(np.array([0.25, -0.25, 0.75, 1e9], np.float32), 0.5, 0).tolist()
    [1, -1, 2, 127]
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = (x.astype(_f32) / _f32(scale)).astype(np.float64)  # the float32 quotient, exactly
    rounded = np.sign(r) * np.floor(np.abs(r) + 0.5)  # exact in float64 for a float32 r
    wide = np.clip(np.nan_to_num(rounded, nan=0.0), -2.0**31, 2.0**31 - 1)
    return np.clip(wide.astype(np.int64) + zero_point, -128, 127).astype(np.int8)


def island_table(x: Tensor, y: Tensor, chain: tuple[str, ...]) -> np.ndarray:
    """The 256 int8 outputs of a folded island (op kinds ``chain``, DEQUANTIZE first and
    QUANTIZE last) from int8 tensor ``x`` to int8 tensor ``y``, for inputs -128..127.

    >>> from tinykit.graph import Quant
    >>> x = Tensor(0, "x", (1,), "int8", Quant((0.5,), (0,)))
    >>> table = island_table(x, x, ("DEQUANTIZE", "NEG", "QUANTIZE"))
    >>> int(table[128 + 5]), int(table[0]), int(table[255])
    (-5, 127, -127)
    """
    assert x.quant is not None and y.quant is not None
    v = dequantize_f32(np.arange(-128, 128), x.quant.scale[0], x.quant.zero_point[0])
    for kind in chain[1:-1]:
        v = EXACT_UNARY[kind](v).astype(_f32)
    return quantize_s8(v, y.quant.scale[0], y.quant.zero_point[0])
