"""Per-op tables: cost (MACs, params), runtime support, and code-size estimates.

Adding an op is adding entries here. Cost conventions:

- MACs: multiply-accumulates of the op (conv, depthwise, fully connected, pooling
  windows, mean); element-wise math (ADD, MUL, activations, SOFTMAX) counts one
  per output element; data movement (RESHAPE, PAD, CONCATENATION, QUANTIZE, ...)
  counts 0. Unknown ops count 0 (the support check flags them).
- params: element counts of the op's constant weights and bias (CONV_2D,
  DEPTHWISE_CONV_2D, FULLY_CONNECTED), and of constant operands of ADD and MUL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinykit.codegen.support import AOT_OPS
from tinykit.graph import Graph, Op, Tensor


@dataclass(frozen=True)
class OpCost:
    macs: int
    params: int


def _elements(shape: tuple[int, ...]) -> int:
    """
    >>> _elements((1, 4, 4, 8)), _elements(()), _elements((-1, 3))
    (128, 1, 3)
    """
    n = 1
    for d in shape:
        n *= max(d, 1)
    return n


def _out(graph: Graph, op: Op) -> int:
    return _elements(graph.tensor(op.outputs[0]).shape) if op.outputs else 0


def _const_params(graph: Graph, op: Op, positions: tuple[int, ...]) -> int:
    total = 0
    for pos in positions:
        if pos < len(op.inputs) and op.inputs[pos] >= 0:
            t = graph.tensor(op.inputs[pos])
            if t.is_const:
                total += _elements(t.shape)
    return total


def _input(graph: Graph, op: Op, pos: int) -> Tensor:
    return graph.tensor(op.inputs[pos])


def conv_2d(graph: Graph, op: Op) -> OpCost:
    # filter [out_ch, kh, kw, in_ch per group]
    _, kh, kw, cin = _input(graph, op, 1).shape
    return OpCost(_out(graph, op) * kh * kw * cin, _const_params(graph, op, (1, 2)))


def depthwise_conv_2d(graph: Graph, op: Op) -> OpCost:
    # filter [1, kh, kw, out_ch]: one kh*kw window per output element
    _, kh, kw, _ = _input(graph, op, 1).shape
    return OpCost(_out(graph, op) * kh * kw, _const_params(graph, op, (1, 2)))


def fully_connected(graph: Graph, op: Op) -> OpCost:
    # weights [units, in]: every output element is a dot product of length `in`
    depth = _input(graph, op, 1).shape[-1]
    return OpCost(_out(graph, op) * depth, _const_params(graph, op, (1, 2)))


def pool_2d(graph: Graph, op: Op) -> OpCost:
    window = op.options.get("filter_height", 1) * op.options.get("filter_width", 1)
    return OpCost(_out(graph, op) * window, 0)


def mean(graph: Graph, op: Op) -> OpCost:
    return OpCost(_elements(_input(graph, op, 0).shape), 0)


def binary(graph: Graph, op: Op) -> OpCost:
    return OpCost(_out(graph, op), _const_params(graph, op, (0, 1)))


def elementwise(graph: Graph, op: Op) -> OpCost:
    return OpCost(_out(graph, op), 0)


def data_movement(graph: Graph, op: Op) -> OpCost:
    return OpCost(0, 0)


ANALYZERS: dict[str, Callable[[Graph, Op], OpCost]] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "ADD": binary,
    "MUL": binary,
    "AVERAGE_POOL_2D": pool_2d,
    "MAX_POOL_2D": pool_2d,
    "MEAN": mean,
    "SOFTMAX": elementwise,
    "LOGISTIC": elementwise,
    "TANH": elementwise,
    "RELU": elementwise,
    "RELU6": elementwise,
    "LEAKY_RELU": elementwise,
    "HARD_SWISH": elementwise,
    "CONCATENATION": data_movement,
    "PAD": data_movement,
    "PADV2": data_movement,
    "QUANTIZE": data_movement,
    "DEQUANTIZE": data_movement,
    "RESHAPE": data_movement,
    "SQUEEZE": data_movement,
}


def cost(graph: Graph, op: Op) -> OpCost:
    """MACs and params of one op; unknown ops cost nothing here."""
    return ANALYZERS.get(op.kind, data_movement)(graph, op)


# --- runtime support ---------------------------------------------------------------

# TFLM builtin kernels commonly used by int8 CNNs/MLPs -> highest op version
# handled (from TFLite's op-version registry; TFLM's resolver matches by op code).
TFLM_OPS: dict[str, int] = {
    "ABS": 5, "ADD": 5, "ADD_N": 1, "ARG_MAX": 3, "ARG_MIN": 3, "AVERAGE_POOL_2D": 3,
    "BATCH_MATMUL": 4, "BATCH_TO_SPACE_ND": 4, "CAST": 6, "CEIL": 2, "CONCATENATION": 4,
    "CONV_2D": 8, "COS": 1, "CUMSUM": 1, "DEPTH_TO_SPACE": 2, "DEPTHWISE_CONV_2D": 7,
    "DEQUANTIZE": 5, "DIV": 2, "ELU": 1, "EQUAL": 4, "EXP": 2, "EXPAND_DIMS": 1, "FILL": 4,
    "FLOOR": 3, "FLOOR_DIV": 3, "FLOOR_MOD": 2, "FULLY_CONNECTED": 12, "GATHER": 6,
    "GATHER_ND": 4, "GREATER": 2, "GREATER_EQUAL": 2, "HARD_SWISH": 1, "L2_NORMALIZATION": 2,
    "L2_POOL_2D": 1, "LEAKY_RELU": 2, "LESS": 2, "LESS_EQUAL": 2, "LOG": 2, "LOGICAL_AND": 1,
    "LOGICAL_NOT": 1, "LOGICAL_OR": 1, "LOGISTIC": 3, "LOG_SOFTMAX": 2, "MAXIMUM": 4,
    "MAX_POOL_2D": 3, "MEAN": 3, "MINIMUM": 4, "MIRROR_PAD": 2, "MUL": 7, "NEG": 2,
    "NOT_EQUAL": 3, "PACK": 3, "PAD": 4, "PADV2": 4, "PRELU": 1, "QUANTIZE": 3,
    "REDUCE_MAX": 3, "REDUCE_MIN": 3, "RELU": 3, "RELU6": 3, "RESHAPE": 2,
    "RESIZE_BILINEAR": 4, "RESIZE_NEAREST_NEIGHBOR": 4, "ROUND": 2, "RSQRT": 2, "SELECT_V2": 2,
    "SHAPE": 1, "SIN": 1, "SLICE": 5, "SOFTMAX": 3, "SPACE_TO_BATCH_ND": 4,
    "SPACE_TO_DEPTH": 2, "SPLIT": 4, "SPLIT_V": 2, "SQRT": 2, "SQUARE": 2,
    "SQUARED_DIFFERENCE": 2, "SQUEEZE": 2, "STRIDED_SLICE": 6, "SUB": 5, "SUM": 2, "SVDF": 4,
    "TANH": 3, "TRANSPOSE": 6, "TRANSPOSE_CONV": 4, "UNPACK": 4, "ZEROS_LIKE": 1,
}

RUNTIME_OPS: dict[str, dict[str, int]] = {"aot": AOT_OPS, "tflm": TFLM_OPS}


def unsupported_reason(runtime: str, op: Op) -> str | None:
    """Why ``runtime`` cannot run ``op``, or None when it can.

    >>> unsupported_reason("aot", Op(0, "SUB", 2, (), ()))
    'the aot runtime has no SUB kernel'
    >>> unsupported_reason("aot", Op(0, "CONV_2D", 9, (), ()))
    'the aot runtime supports CONV_2D up to version 6, the model has version 9'
    >>> unsupported_reason("tflm", Op(0, "SUB", 2, (), ())) is None
    True
    """
    table = RUNTIME_OPS[runtime]
    if op.kind not in table:
        return f"the {runtime} runtime has no {op.kind} kernel"
    if op.version > table[op.kind]:
        return (f"the {runtime} runtime supports {op.kind} up to version {table[op.kind]}, "
                f"the model has version {op.version}")
    return None


# --- flash estimates (approximate, Cortex-M, -Os; NOT measured) -------------------

# TFLM: interpreter, allocator, flatbuffer reader, op resolver and error reporting.
TFLM_CORE_CODE_BYTES = 40 * 1024
# TFLM reference int8 kernel code per op kind (approximate); others default below.
TFLM_KERNEL_CODE_BYTES: dict[str, int] = {
    "CONV_2D": 10 * 1024, "DEPTHWISE_CONV_2D": 10 * 1024, "FULLY_CONNECTED": 6 * 1024,
    "ADD": 5 * 1024, "MUL": 4 * 1024, "AVERAGE_POOL_2D": 4 * 1024, "MAX_POOL_2D": 4 * 1024,
    "MEAN": 6 * 1024, "SOFTMAX": 4 * 1024, "LOGISTIC": 3 * 1024, "TANH": 3 * 1024,
    "CONCATENATION": 3 * 1024, "PAD": 3 * 1024, "QUANTIZE": 4 * 1024, "DEQUANTIZE": 3 * 1024,
    "RESHAPE": 1024, "SQUEEZE": 1024,
}
TFLM_KERNEL_DEFAULT_BYTES = 4 * 1024

# AOT: tinykit's generated invoke function and fixed-point helpers...
AOT_CORE_CODE_BYTES = 1536
# ...plus one reference kernel per distinct op kind (approximate, 2-4 KB).
AOT_KERNEL_CODE_BYTES: dict[str, int] = {
    "CONV_2D": 4 * 1024, "DEPTHWISE_CONV_2D": 4 * 1024, "FULLY_CONNECTED": 2 * 1024,
    "ADD": 2 * 1024, "MUL": 2 * 1024, "MEAN": 3 * 1024, "SOFTMAX": 3 * 1024,
    "RESHAPE": 0, "SQUEEZE": 0,
}
AOT_KERNEL_DEFAULT_BYTES = 2 * 1024


def code_bytes_estimate(runtime: str, kinds: set[str]) -> int:
    """Estimated runtime code (flash) for a runtime running these op kinds.

    >>> code_bytes_estimate("aot", {"CONV_2D", "RESHAPE"})
    5632
    >>> code_bytes_estimate("tflm", {"CONV_2D"}) == 50 * 1024
    True
    """
    if runtime == "aot":
        return AOT_CORE_CODE_BYTES + sum(AOT_KERNEL_CODE_BYTES.get(k, AOT_KERNEL_DEFAULT_BYTES)
                                         for k in kinds)
    return TFLM_CORE_CODE_BYTES + sum(TFLM_KERNEL_CODE_BYTES.get(k, TFLM_KERNEL_DEFAULT_BYTES)
                                      for k in kinds)
