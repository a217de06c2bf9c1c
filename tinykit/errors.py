"""One error base and the exit codes every verb shares.

Exit codes (as in ruff, grep, diff):
  0  ok
  1  the check failed: over budget, not bit-exact, HIL mismatch
  2  error: bad input, usage, missing tool, device not answering
  130  interrupted (Ctrl-C); what was measured so far is kept
"""

from __future__ import annotations

import enum
import sys

import click


class ExitCode(enum.IntEnum):
    OK = 0
    CHECK_FAILED = 1
    ERROR = 2
    INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


def help_epilog(examples: list[str], check: str | None, error: str, extra: str = "") -> str:
    """The end of every verb's ``--help``: examples, then the exit codes (``check``:
    what exit 1 means for this verb, None when the verb has no check).

    >>> print(help_epilog(["tinykit boards"], None, "unknown board"))
    \b
    Example:
      tinykit boards
    <BLANKLINE>
    \b
    Exit codes:
      0    ok
      2    error (unknown board)
      130  interrupted (Ctrl-C)
    <BLANKLINE>
    """
    head = "Example:" if len(examples) == 1 else "Examples:"
    lines = ["\b", head, *(f"  {e}" for e in examples), ""]
    if extra:
        lines += ["\b", *extra.strip("\n").splitlines(), ""]
    lines += ["\b", "Exit codes:", "  0    ok"]
    if check:
        lines.append(f"  1    {check}")
    lines += [f"  2    error ({error})", "  130  interrupted (Ctrl-C)", ""]
    return "\n".join(lines)


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

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"tinykit: check failed: {self.format_message()}", file=file or sys.stderr)


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


class UnsupportedOpError(CheckFailed, UnsupportedError):
    """The chosen runtime cannot run an op of the model: the support check failed
    (exit 1) in every verb that checks it (see :func:`tinykit.ops.unsupported_message`)."""


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
