"""One error base and the exit codes every verb shares.

Exit codes (as in ruff, grep, diff):
  0  ok
  1  the check failed: over budget, not bit-exact, HIL mismatch
  2  error: bad input, usage, missing tool, device not answering
"""

from __future__ import annotations

import enum
import sys

import click


class ExitCode(enum.IntEnum):
    OK = 0
    CHECK_FAILED = 1
    ERROR = 2


class TinykitError(click.ClickException):
    """A known error: printed as one line on stderr, exit code 2.

    The message says what is wrong; ``hint`` says how to fix it.
    """

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def format_message(self) -> str:
        msg = " ".join(self.message.split())  # always one line
        if self.hint:
            msg += f" ({' '.join(self.hint.split())})"
        return msg

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"tinykit: error: {self.format_message()}", file=file or sys.stderr)


class CheckFailed(TinykitError):
    """The check ran and failed (exit 1): over budget, not bit-exact, mismatch."""

    exit_code = ExitCode.CHECK_FAILED


class BoardError(TinykitError):
    """Unknown board id or malformed board profile."""


class ModelError(TinykitError):
    """A model file that cannot be read, parsed, or used."""


class DataError(TinykitError):
    """Calibration, input or label data that cannot be used."""


class QuantizeError(TinykitError):
    """Conversion to int8 failed."""


class UnsupportedError(TinykitError):
    """The model uses an op, version or type the chosen runtime cannot run."""


class ReferenceError_(TinykitError):
    """The TFLM reference interpreter failed (crashed, refused the model)."""


class CodegenError(TinykitError):
    """C generation or the host compile failed."""


class ToolError(TinykitError):
    """An external tool is missing or failed (gcc, PlatformIO, QEMU)."""


class ProjectError(TinykitError):
    """A firmware project could not be rendered."""


class DeviceError(TinykitError):
    """The device (or emulator) did not answer as expected."""
