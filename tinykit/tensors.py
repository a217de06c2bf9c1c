"""Values across a quantized model's edges, computed one way for every verb.

* :func:`round_half_away`: ``std::round``, the rounding of TFLite's kernels and of
  every generation-time constant (Python's ``round`` and ``np.round`` round halves
  to even).
* :func:`quantize_array` / :func:`dequantize_array`: float <-> integer with a
  tensor's scale and zero point, as TFLite's QUANTIZE / DEQUANTIZE compute them.
* :func:`to_model_input` / :func:`to_real`: data for a model's input tensor, and its
  output tensor as float.
* :func:`is_classifier` / :func:`top1`: the one rule deciding whether outputs are
  class probabilities (``quantize`` agreement, ``predict``, ``run``, ``test``).

Leaf module: imports only numpy, :mod:`tinykit.graph` and :mod:`tinykit.errors`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from tinykit.errors import DataError, UnsupportedError
from tinykit.graph import Quant, Tensor

INTEGER_TYPES = ("int8", "int16")  # integer I/O tensors tinykit quantizes to and from
INDEX_TYPES = ("int32",)  # integer inputs taken as they are (token ids), never quantized
PROBABILITY_ATOL = 1e-3  # sum/range tolerance of float probabilities


def round_half_away(x: float) -> int:
    """``std::round``: halves away from zero.

    >>> round_half_away(2.5), round_half_away(-2.5), round_half_away(0.49), round_half_away(-0.5)
    (3, -3, 0, -1)
    """
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def _round_half_away_array(x: np.ndarray) -> np.ndarray:
    """:func:`round_half_away` element-wise.

    >>> _round_half_away_array(np.array([2.5, -2.5, 0.49, -0.5, 1.5])).tolist()
    [3.0, -3.0, 0.0, -1.0, 2.0]
    """
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_array(x: ArrayLike, quant: Quant, dtype: str = "int8") -> np.ndarray:
    """Real values -> integers as TFLite's QUANTIZE: ``round(x / scale) + zero_point``
    (float32 division, halves away from zero), saturated to ``dtype``. Per-tensor
    quantization (the first scale and zero point).

    >>> quantize_array(np.array([0.0, 0.5, 1.0, 9.0]), Quant((1 / 128,), (-128,)))
    array([-128,  -64,    0,  127], dtype=int8)
    >>> quantize_array([0.25, -0.25], Quant((0.5,), (0,))).tolist()  # halves away from 0
    [1, -1]
    """
    info = np.iinfo(np.dtype(dtype))
    scaled = np.asarray(x, np.float32) / np.float32(quant.scale[0])
    q = _round_half_away_array(scaled.astype(np.float64)) + quant.zero_point[0]
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_array(q: ArrayLike, quant: Quant) -> np.ndarray:
    """Integers -> real values as TFLite's DEQUANTIZE: ``scale * (q - zero_point)``
    in double, returned as float32.

    >>> dequantize_array(np.array([-128, 0], np.int8), Quant((0.5,), (-128,)))
    array([ 0., 64.], dtype=float32)
    """
    return (quant.scale[0] * (np.asarray(q, np.float64) - quant.zero_point[0])).astype(np.float32)


def integral(data: np.ndarray, what: str, dtype: str = "int32") -> np.ndarray:
    """Integer data (token ids) as ``dtype``: integer arrays, or float arrays that hold
    only whole numbers; a one-line error names the first value that is not one.

    >>> integral(np.array([[1.0, 2.0]]), "ids.npy")
    array([[1, 2]], dtype=int32)
    >>> integral(np.array([0.5, 1.0]), "ids.npy")
    Traceback (most recent call last):
    ...
    tinykit.errors.DataError: ids.npy: value 0.5 at index (0,) is not a whole number; the model takes int32 token ids
    """
    data = np.asarray(data)
    info = np.iinfo(np.dtype(dtype))
    if np.issubdtype(data.dtype, np.floating):
        bad = data != np.round(data)
        if bool(bad.any()):
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(f"{what}: value {data[at]:g} at index {at} is not a whole number; "
                            f"the model takes {dtype} token ids",
                            hint=f"save the ids as integers: numpy.save(path, ids.astype('{dtype}'))")
    elif not np.issubdtype(data.dtype, np.integer):
        raise DataError(f"{what}: has dtype {data.dtype}; the model takes {dtype} token ids")
    if data.size and (data.min() < info.min or data.max() > info.max):
        raise DataError(f"{what}: values reach [{data.min()}, {data.max()}], outside {dtype}")
    return data.astype(dtype)


class ModelInput(NamedTuple):
    array: np.ndarray  # in the input tensor's dtype
    quantized: bool  # True when float data was quantized here


def to_model_input(data: np.ndarray, tensor: Tensor, what: str) -> ModelInput:
    """Data for the model's input tensor (``what`` names the data in errors).

    Integer input: data of that dtype is used as is; float data is quantized with the
    tensor's scale/zero point. Float input: float data is used as is.
    """
    if tensor.dtype in INTEGER_TYPES:
        if data.dtype == np.dtype(tensor.dtype):
            return ModelInput(data, False)
        if np.issubdtype(data.dtype, np.floating):
            if tensor.quant is None:
                raise UnsupportedError(f"input tensor {tensor.name!r} is {tensor.dtype} "
                                       "without quantization parameters")
            return ModelInput(quantize_array(data, tensor.quant, tensor.dtype), True)
        raise DataError(f"{what}: has dtype {data.dtype}; the model takes {tensor.dtype}",
                        hint=f"give {tensor.dtype} (already quantized) or float samples")
    if tensor.dtype in INDEX_TYPES:  # token ids (Embedding): never quantized
        return ModelInput(integral(data, what, tensor.dtype), False)
    if tensor.dtype == "float32":
        if np.issubdtype(data.dtype, np.floating):
            return ModelInput(data.astype(np.float32), False)
        raise DataError(f"{what}: has dtype {data.dtype}; the model takes float32 input",
                        hint="give float samples")
    raise UnsupportedError(f"input tensor {tensor.name!r} has type {tensor.dtype}; "
                           "tinykit handles int8, int32 (token ids) and float32 inputs")


def to_real(outputs: np.ndarray, tensor: Tensor) -> np.ndarray:
    """The model's outputs as float32 (dequantized when the output is an integer tensor)."""
    if tensor.dtype in INTEGER_TYPES and tensor.quant is not None:
        return dequantize_array(outputs, tensor.quant)
    return np.asarray(outputs, np.float32)


def output_step(tensor: Tensor) -> float:
    """The quantization step of an output tensor (0.0 for a float output): what
    :func:`is_classifier` allows per value on dequantized outputs."""
    if tensor.dtype in INTEGER_TYPES and tensor.quant is not None:
        return float(tensor.quant.scale[0])
    return 0.0


def is_classifier(real: ArrayLike, step: float = 0.0) -> bool:
    """The classifier rule: every sample's output (a row of ``real``, shape (N, ...))
    is a probability vector, i.e. a softmax output: at least 2 values, each in [0, 1],
    summing to 1. ``real`` holds float (dequantized) values; ``step`` is the output's
    quantization step (each value may be off by one step; 0.0 for float outputs).

    >>> is_classifier(np.array([[0.2, 0.8], [0.5, 0.5]]))
    True
    >>> is_classifier(np.array([[2.0, -1.0], [0.5, 0.5]]))  # logits: not probabilities
    False
    >>> is_classifier(np.array([[0.3], [1.0]]))  # one value per sample
    False
    >>> is_classifier(np.array([[0.0, 0.99609375]]), step=1 / 256)  # int8 softmax: 0, 255/256
    True
    """
    rows = np.asarray(real, np.float64)
    rows = rows.reshape(len(rows), -1) if rows.ndim >= 1 else rows
    if rows.ndim != 2 or rows.shape[1] < 2 or rows.shape[0] == 0:
        return False
    atol = max(PROBABILITY_ATOL, rows.shape[1] * step)
    value_atol = max(PROBABILITY_ATOL, step)
    in_range = bool(np.all(rows >= -value_atol) and np.all(rows <= 1 + value_atol))
    return in_range and bool(np.all(np.abs(rows.sum(axis=1) - 1.0) <= atol))


def top1(real: ArrayLike, step: float = 0.0) -> np.ndarray | None:
    """The class of each sample (argmax per row of ``real``, shape (N, ...)) when the
    outputs are class probabilities (:func:`is_classifier`), else None.

    >>> top1(np.array([[0.2, 0.8], [0.7, 0.3]])).tolist()
    [1, 0]
    >>> top1(np.array([[3.0, 1.0]])) is None
    True
    """
    rows = np.asarray(real)
    if not is_classifier(rows, step):
        return None
    return np.argmax(rows.reshape(len(rows), -1), axis=1)
