"""Silence TensorFlow: the converter and Keras print to Python's stdout
("Saved artifact at ...") and to the C-level stdout/stderr (absl, MLIR).
tinykit's stdout carries data (JSON), so both levels are redirected while
TensorFlow works."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator


def _flush_c_stdio() -> None:
    """Flush C stdio buffers, so C-level text written inside :func:`quiet`
    cannot reach the real stdout later."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Redirect Python-level and OS-level (fd 1 and 2) output to nowhere.

    Yields the captured Python-level text (for debugging); C-level text is dropped.

    >>> with quiet() as captured:
    ...     print("noise")
    >>> captured.getvalue()
    'noise\\n'
    """
    captured = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved: list[tuple[int, int]] = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
            except OSError:  # fd not open (a daemon): nothing to silence
                continue
            os.dup2(devnull, fd)
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            yield captured
    finally:
        _flush_c_stdio()
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
