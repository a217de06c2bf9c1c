"""Which ops each runtime runs. Adding an op to the AOT runtime is adding an
entry here (and its emitter in the codegen op table)."""

from __future__ import annotations

# AOT (tinykit's interpreter-less C): op -> highest op version supported.
AOT_OPS: dict[str, int] = {
    "CONV_2D": 6,
    "DEPTHWISE_CONV_2D": 7,
    "FULLY_CONNECTED": 12,
    "ADD": 5,
    "MUL": 7,
    "AVERAGE_POOL_2D": 3,
    "MAX_POOL_2D": 3,
    "MEAN": 3,
    "RESHAPE": 2,
    "SQUEEZE": 2,
    "SOFTMAX": 3,
    "LOGISTIC": 3,
    "TANH": 3,
    "RELU": 3,
    "RELU6": 3,
    "LEAKY_RELU": 2,
    "HARD_SWISH": 1,
    "CONCATENATION": 4,
    "PAD": 4,
    "PADV2": 4,
    "QUANTIZE": 3,
    "DEQUANTIZE": 5,
}
