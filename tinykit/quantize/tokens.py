"""Models whose input is integer token ids (a Keras ``Embedding`` on an ``int32``
input): the calibration data is fed in the input's own dtype, checked to be whole
numbers inside the vocabulary. Integer inputs are never quantized, whatever
``--io`` says (it applies to float inputs and to the output)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinykit.errors import DataError


def input_dtype(model: Any) -> str:
    """The Keras model's (first) input dtype as a numpy name: ``float32``, ``int32``..."""
    dtype = getattr(model.inputs[0], "dtype", "float32")
    return str(getattr(dtype, "name", dtype))


def vocabulary(model: Any) -> int | None:
    """The smallest ``input_dim`` of the model's Embedding layers (None without one):
    every token id must be below it."""
    sizes = []

    def walk(layer: Any) -> None:
        if type(layer).__name__ == "Embedding" and getattr(layer, "input_dim", None):
            sizes.append(int(layer.input_dim))
        for inner in getattr(layer, "layers", None) or ():
            walk(inner)

    for layer in getattr(model, "layers", ()):
        walk(layer)
    return min(sizes) if sizes else None


def check_ids(data: np.ndarray, vocab: int | None, what: str, dtype: str = "int32") -> np.ndarray:
    """Token ids as ``dtype``: whole numbers in ``[0, vocab)``, else a one-line error.

    >>> check_ids(np.array([[0, 49]]), 50, "ids.npy")
    array([[ 0, 49]], dtype=int32)
    >>> check_ids(np.array([[3, 50]]), 50, "ids.npy")
    Traceback (most recent call last):
    ...
    tinykit.errors.DataError: ids.npy: token id 50 at index (0, 1) is outside the vocabulary [0, 50)
    """
    from tinykit.tensors import integral

    ids = integral(data, what, dtype)
    if vocab is not None and ids.size:
        bad = (ids < 0) | (ids >= vocab)
        if bool(bad.any()):
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(f"{what}: token id {ids[at]} at index {at} is outside the vocabulary "
                            f"[0, {vocab})", hint=f"give ids from 0 to {vocab - 1} (the Embedding's "
                            "input_dim)")
    return ids


def calibration_batch(data: np.ndarray, model: Any, what: str) -> np.ndarray:
    """``data`` in the model input's dtype: float32, or checked token ids."""
    dtype = input_dtype(model)
    if np.issubdtype(np.dtype(dtype), np.integer):
        return check_ids(data, vocabulary(model), what, dtype)
    return np.asarray(data, np.float32)
