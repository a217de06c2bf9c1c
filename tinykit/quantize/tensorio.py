"""Moving data across a quantized model's edges: float samples -> the input
tensor's dtype, the output tensor's dtype -> float. Shared by ``quantize``
(agreement) and ``predict``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinykit.errors import DataError, UnsupportedError
from tinykit.graph import Quant, Tensor

_INT_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}


def quantize_array(x: np.ndarray, quant: Quant, dtype: str = "int8") -> np.ndarray:
    """Real values -> integers: ``round(x / scale) + zero_point``, saturated.

    >>> quantize_array(np.array([0.0, 0.5, 1.0, 9.0]), Quant((1 / 128,), (-128,)))
    array([-128,  -64,    0,  127], dtype=int8)
    """
    lo, hi = _INT_RANGE[dtype]
    q = np.round(np.asarray(x, np.float64) / quant.scale[0]) + quant.zero_point[0]
    return np.clip(q, lo, hi).astype(dtype)


def dequantize_array(q: np.ndarray, quant: Quant) -> np.ndarray:
    """Integers -> real values: ``scale * (q - zero_point)``, float32.

    >>> dequantize_array(np.array([-128, 0], np.int8), Quant((0.5,), (-128,)))
    array([ 0., 64.], dtype=float32)
    """
    return (quant.scale[0] * (np.asarray(q, np.float64) - quant.zero_point[0])).astype(np.float32)


class ModelInput(NamedTuple):
    array: np.ndarray  # in the input tensor's dtype
    quantized: bool  # True when float data was quantized here


def to_model_input(data: np.ndarray, tensor: Tensor, what: str) -> ModelInput:
    """Data for the model's input tensor.

    int8 input: int8 data is used as is; float data is quantized with the tensor's
    scale/zero point. float input: float data is used as is.
    """
    if tensor.dtype in _INT_RANGE:
        if data.dtype == np.dtype(tensor.dtype):
            return ModelInput(data, False)
        if np.issubdtype(data.dtype, np.floating):
            if tensor.quant is None:
                raise UnsupportedError(f"input tensor {tensor.name!r} is {tensor.dtype} "
                                       "without quantization parameters")
            return ModelInput(quantize_array(data, tensor.quant, tensor.dtype), True)
        raise DataError(f"{what}: has dtype {data.dtype}; the model takes {tensor.dtype}",
                        hint=f"give {tensor.dtype} (already quantized) or float samples")
    if tensor.dtype == "float32":
        if np.issubdtype(data.dtype, np.floating):
            return ModelInput(data.astype(np.float32), False)
        raise DataError(f"{what}: has dtype {data.dtype}; the model takes float32 input",
                        hint="give float samples")
    raise UnsupportedError(f"input tensor {tensor.name!r} has type {tensor.dtype}; "
                           "tinykit handles int8 and float32 inputs")


def to_real(outputs: np.ndarray, tensor: Tensor) -> np.ndarray:
    """The model's outputs as float32 (dequantized when the output is an integer tensor)."""
    if tensor.dtype in _INT_RANGE and tensor.quant is not None:
        return dequantize_array(outputs, tensor.quant)
    return np.asarray(outputs, np.float32)


def is_probabilities(rows: np.ndarray, atol: float = 1e-3) -> bool:
    """The classifier rule: every sample's output is a vector of at least 2 values
    in [0, 1] that sums to 1 (within ``atol``), i.e. a softmax output.

    >>> is_probabilities(np.array([[0.2, 0.8], [0.5, 0.5]]))
    True
    >>> is_probabilities(np.array([[2.0, -1.0], [0.5, 0.5]]))
    False
    >>> is_probabilities(np.array([[0.3], [1.0]]))
    False
    """
    rows = np.asarray(rows, np.float64)
    if rows.ndim != 2 or rows.shape[1] < 2 or rows.shape[0] == 0:
        return False
    in_range = bool(np.all(rows >= -atol) and np.all(rows <= 1 + atol))
    return in_range and bool(np.all(np.abs(rows.sum(axis=1) - 1.0) <= atol))


def probability_atol(tensor: Tensor) -> float:
    """Sum tolerance for :func:`is_probabilities` on a dequantized output: each of the
    n values may be off by one quantization step."""
    if tensor.dtype in _INT_RANGE and tensor.quant is not None:
        n = tensor.shape[-1] if tensor.shape else 1
        return max(1e-3, n * tensor.quant.scale[0])
    return 1e-3
