"""Numeric data from ``.npy`` / ``.npz`` files: calibration sets, inputs.

Every problem is a one-line :class:`~tinykit.errors.DataError` naming the
file: missing, unreadable, empty, non-numeric, NaN/inf, wrong shape.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinykit.errors import DataError

SUFFIXES = (".npy", ".npz")


def shape_str(shape: Sequence[int | None]) -> str:
    """A shape as Python prints a tuple, ``None`` for a free dimension.

    >>> shape_str((49, 10, 1))
    '(49, 10, 1)'
    >>> shape_str([640])
    '(640,)'
    >>> shape_str((None, 3))
    '(None, 3)'
    """
    return str(tuple(None if d is None else int(d) for d in shape))


def load_data(path: str | Path) -> np.ndarray:
    """Read a numeric array from ``.npy`` or ``.npz`` (the key ``x``, or the only array).

    The array is validated with :func:`validate_data` and returned in its own dtype.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir() or p.suffix.lower() not in SUFFIXES:
        raise DataError(f"{p}: expected a .npy or .npz file",
                        hint="save the samples with numpy.save('data.npy', x)")
    try:
        if p.suffix.lower() == ".npy":
            data = np.load(p, allow_pickle=False)
        else:
            data = _from_npz(p)
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{p.name}: holds Python objects, not numbers",
                            hint="save a numeric array (float32 or int8)") from None
        raise DataError(f"{p.name}: not a valid numpy file ({_first_line(exc)})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{p.name}: cannot read ({_first_line(exc)})") from None
    return validate_data(data, p.name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _from_npz(p: Path) -> np.ndarray:
    with np.load(p, allow_pickle=False) as z:
        keys = list(z.files)
        if not keys:
            raise DataError(f"{p.name}: the archive holds no arrays")
        if "x" in keys:
            return z["x"]
        if len(keys) == 1:
            return z[keys[0]]
        raise DataError(f"{p.name}: holds {len(keys)} arrays ({', '.join(sorted(keys))}) and none "
                        "is named 'x'", hint="save the samples under the key x: "
                        "numpy.savez('data.npz', x=samples)")


def validate_data(data: np.ndarray, what: str) -> np.ndarray:
    """Reject empty, non-numeric and non-finite arrays; ``what`` names the source.

    >>> validate_data(np.zeros((2, 3), np.float32), "x.npy").shape
    (2, 3)
    >>> validate_data(np.array([1.0, np.nan, np.inf]), "x.npy")
    Traceback (most recent call last):
    ...
    tinykit.errors.DataError: x.npy: 2 of 3 values are not finite (1 NaN, 1 inf), first at index (1,)
    """
    data = np.asarray(data)
    if data.dtype == np.bool_ or not (np.issubdtype(data.dtype, np.integer)
                                      or np.issubdtype(data.dtype, np.floating)):
        raise DataError(f"{what}: has dtype {data.dtype}, expected numbers (float or int)",
                        hint="convert the samples to float32 first")
    if data.size == 0:
        raise DataError(f"{what}: is empty (shape {shape_str(data.shape)})",
                        hint="give at least one sample")
    if data.ndim == 0:
        raise DataError(f"{what}: is a single number, expected samples (an array)")
    if np.issubdtype(data.dtype, np.floating):
        bad = ~np.isfinite(data)
        n_bad = int(bad.sum())
        if n_bad:
            n_nan = int(np.isnan(data).sum())
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(f"{what}: {n_bad} of {data.size} values are not finite "
                            f"({n_nan} NaN, {n_bad - n_nan} inf), first at index {first}",
                            hint="clean or drop those samples")
    return data


def check_shape(data: np.ndarray, input_shape: Sequence[int | None], what: str) -> np.ndarray:
    """Return ``data`` as a batch ``(N, *input_shape)``; a single sample gets N=1.

    ``None`` in ``input_shape`` matches any size.

    >>> check_shape(np.zeros((5, 49, 10, 1)), (49, 10, 1), "calib.npy").shape
    (5, 49, 10, 1)
    >>> check_shape(np.zeros((640,)), (640,), "x.npy").shape
    (1, 640)
    >>> check_shape(np.zeros((5, 49, 10)), (49, 10, 1), "calib.npy")
    Traceback (most recent call last):
    ...
    tinykit.errors.DataError: calib.npy: samples have shape (49, 10), model input is (49, 10, 1)
    """
    def fits(shape: tuple[int, ...]) -> bool:
        return len(shape) == len(input_shape) and all(
            want is None or int(want) == got for want, got in zip(input_shape, shape, strict=True))

    data = np.asarray(data)
    if fits(data.shape[1:]):
        return data
    if fits(data.shape):
        return data[None, ...]
    got = (f"samples have shape {shape_str(data.shape[1:])}" if data.ndim >= 2
           else f"data has shape {shape_str(data.shape)}")
    raise DataError(f"{what}: {got}, model input is {shape_str(input_shape)}",
                    hint="reshape the data to (N, *input shape)")
