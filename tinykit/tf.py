"""TensorFlow, imported lazily (~3 s, 600 MB) and kept quiet.

TensorFlow writes to the OS-level stdout/stderr from C++ (absl, MLIR, oneDNN):
``WARNING: All log messages before absl::InitializeLog() is called are written to
STDERR`` and ``I0000 ... oneDNN custom operations are on ...`` are printed at import,
before ``TF_CPP_MIN_LOG_LEVEL`` is ever read, so no environment variable silences
them. Keras and the converter also print to Python's stdout ("Saved artifact at
..."). tinykit's stdout carries data (JSON) and its stderr one-line errors, so
:func:`quiet` captures fd 1 and fd 2 (and ``sys.stdout``/``sys.stderr``) in a
temporary file around the import and every TensorFlow call; :func:`import_tf`
imports inside it.

``TF_ENABLE_ONEDNN_OPTS`` is left alone: turning oneDNN off changes the float
model's outputs (other summation orders), so the noise is captured instead.

When the work fails, what TensorFlow said is kept (without the noise lines, see
:func:`is_tf_noise`): a tinykit error carries it as an exception note (its message
stays one line); any other exception (a bug) prints it on stderr before the
traceback. Nothing is printed when the work succeeds.

Leaf module: imports only the standard library and :mod:`tinykit.errors`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tinykit.errors import TinykitError, ToolError

# "1" in a process whose fd 1 and 2 already go to a log file (tinykit.quantize's
# isolated worker): quiet() captures nothing, so a native crash's last words stay in the log
PASSTHROUGH_ENV = "TINYKIT_TF_PASSTHROUGH"

# set before TensorFlow is imported (no effect once it is): C++ logs after absl's init
TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}

_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "  # absl/glog INFO lines (oneDNN, cpu guard)
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: I \S+:\d+\] "  # older TF's INFO format
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate"
    r" compiler flags\.$"  # second line of the cpu_feature_guard INFO
    r")"
)


def is_tf_noise(line: str) -> bool:
    """True for TensorFlow's informational chatter (never a diagnostic): absl's
    pre-init banner and INFO lines. Warnings and errors (``W``/``E``/``F``) are kept.

    >>> is_tf_noise("WARNING: All log messages before absl::InitializeLog() is called "
    ...             "are written to STDERR")
    True
    >>> is_tf_noise("I0000 00:00:1795914376.129134    4928 port.cc:153] oneDNN custom "
    ...             "operations are on. You may see slightly different numerical results")
    True
    >>> is_tf_noise("E0000 00:00:1795914376.129134    4928 convert.cc:9] op not supported")
    False
    >>> is_tf_noise("Traceback (most recent call last):")
    False
    """
    return bool(_NOISE.match(line.strip()))


def diagnostics(text: str) -> str:
    """``text`` without the noise lines and blank lines.

    >>> diagnostics("I0101 10:00:00.5 7 port.cc:1] oneDNN on\\n\\nreal problem\\n")
    'real problem'
    """
    return "\n".join(ln.rstrip() for ln in text.splitlines() if ln.strip() and not is_tf_noise(ln))


@dataclass
class Captured:
    """What was written while :func:`quiet` was active."""

    python: io.StringIO = field(default_factory=io.StringIO)  # sys.stdout / sys.stderr
    os_level: str = ""  # fd 1 and fd 2 (C, C++, and Python's own streams); set on exit

    def text(self) -> str:
        return self.os_level + self.python.getvalue()

    def diagnostics(self) -> str:
        """The captured text without TensorFlow's noise (see :func:`is_tf_noise`)."""
        return diagnostics(self.text())


def _flush_all() -> None:
    """Flush Python's and C's stdio buffers, so text written inside :func:`quiet`
    lands in the capture and text written before it does not."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def quiet() -> Iterator[Captured]:
    """Capture Python-level and OS-level (fd 1 and 2) output while TensorFlow works.

    With ``TINYKIT_TF_PASSTHROUGH=1`` (:data:`PASSTHROUGH_ENV`, set for tinykit's
    isolated quantize worker, whose streams are a log file) nothing is captured.

    On success the capture is dropped. On an exception its :meth:`Captured.diagnostics`
    are added to a :class:`~tinykit.errors.TinykitError` as a note, or written to
    stderr before any other exception propagates.

    >>> with quiet() as captured:
    ...     print("noise")
    >>> captured.text()
    'noise\\n'
    """
    captured = Captured()
    if os.environ.get(PASSTHROUGH_ENV) == "1":  # an isolated worker: its streams are a log file
        yield captured
        return
    _flush_all()
    saved: list[tuple[int, int]] = []
    with tempfile.TemporaryFile() as sink:
        try:
            for fd in (1, 2):
                try:
                    saved.append((fd, os.dup(fd)))
                except OSError:  # fd not open (a daemon): nothing to capture
                    continue
                os.dup2(sink.fileno(), fd)
            with contextlib.redirect_stdout(captured.python), contextlib.redirect_stderr(captured.python):
                yield captured
        except BaseException as exc:
            _restore(saved, sink, captured)
            said = captured.diagnostics()
            if said and isinstance(exc, TinykitError):
                exc.add_note(f"TensorFlow said:\n{said}")
            elif said and isinstance(exc, Exception):
                with contextlib.suppress(Exception):
                    sys.stderr.write(f"TensorFlow said:\n{said}\n")
                    sys.stderr.flush()
            raise
        finally:
            _restore(saved, sink, captured)


def _restore(saved: list[tuple[int, int]], sink: Any, captured: Captured) -> None:
    """Point fd 1 and 2 back at the real streams (once) and read the capture."""
    if not saved:
        return
    _flush_all()
    while saved:
        fd, copy = saved.pop()
        os.dup2(copy, fd)
        os.close(copy)
    with contextlib.suppress(OSError):
        sink.seek(0)
        captured.os_level = sink.read().decode("utf-8", "replace")


def import_tf() -> Any:
    """The ``tensorflow`` module, imported quietly (see :func:`quiet`); a one-line
    :class:`~tinykit.errors.ToolError` when it is not installed."""
    if "tensorflow" not in sys.modules:  # the first import prints: set the env, capture
        for key, value in TF_ENV.items():
            os.environ.setdefault(key, value)
        with quiet():
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                raise ToolError("TensorFlow is not installed; it is needed only to quantize",
                                hint="pip install tensorflow-cpu (Linux/Windows) or "
                                "tensorflow (macOS)") from None
    tf: Any = sys.modules["tensorflow"]
    tf.get_logger().setLevel("ERROR")
    return tf
