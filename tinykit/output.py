"""Data to stdout, talk to stderr. One report dict per verb, shown as
JSON (``--json``) or as rich tables."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from tinykit import __version__

# Tables and data go to stdout; progress and notes go to stderr.
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


# The keys every verb's --json report starts with (README "JSON output").
COMMON_KEYS = ("tinykit_version", "model", "model_hash", "ok", "exit_code")

_PRINTED = "tinykit.json_printed"  # in click's ctx.meta: the verb printed its report


def _mark_printed(value: bool | None = None) -> bool:
    """Whether this invocation printed its JSON report (an error after it prints no
    second object); kept in click's context, shared by the root and the verb."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    if value is not None:
        ctx.meta[_PRINTED] = value
    return bool(ctx.meta.get(_PRINTED, False))


def report_dict(report: dict[str, Any], *, model: Any = None, model_hash: str | None = None,
                ok: bool | None = None, exit_code: int | None = None) -> dict[str, Any]:
    """``report`` under the common keys; each falls back to the report's own value.

    >>> d = report_dict({"ok": False, "x": 1}, model="m.tflite")
    >>> [k for k in d][:6], d["exit_code"]
    (['tinykit_version', 'model', 'model_hash', 'ok', 'exit_code', 'x'], 1)
    """
    ok = bool(report.get("ok", True)) if ok is None else ok
    if exit_code is None:
        exit_code = int(report.get("exit_code", 0 if ok else 1))
    head = {"tinykit_version": __version__,
            "model": report.get("model") if model is None else model,
            "model_hash": report.get("model_hash") if model_hash is None else model_hash,
            "ok": ok, "exit_code": int(exit_code)}
    return {**head, **{k: v for k, v in report.items() if k not in head}}


def to_json(report: dict[str, Any], **common: Any) -> str:
    return json.dumps(report_dict(report, **common), indent=2, default=_default)


def print_json(report: dict[str, Any], **common: Any) -> None:
    """Print the verb's one JSON report (common keys first, see :func:`report_dict`)."""
    click.echo(to_json(report, **common))
    _mark_printed(True)


def file_hash(path: Any) -> str | None:
    """The model hash (:func:`tinykit.graph.model_hash`) of a file, None when unreadable."""
    from tinykit.graph import model_hash

    try:
        with open(path, "rb") as f:
            return model_hash(f.read())
    except OSError:
        return None


def json_requested(args: list[str]) -> bool:
    """Whether a command line asks for ``--json`` (options end at ``--``).

    >>> json_requested(["analyze", "m.tflite", "--json"]), json_requested(["--", "--json"])
    (True, False)
    """
    for a in args:
        if a == "--":
            return False
        if a == "--json" or a.startswith("--json="):
            return True
    return False


def error_dict(exc: click.ClickException) -> dict[str, Any]:
    """The JSON error object printed instead of a report when a verb under ``--json`` fails."""
    hint = getattr(exc, "hint", None)
    message = exc.message if hasattr(exc, "hint") else exc.format_message()
    message = " ".join(message.split())
    return report_dict({"error": {"type": type(exc).__name__, "message": message, "hint": hint}},
                       ok=False, exit_code=exc.exit_code)


def print_error_json(exc: click.ClickException) -> None:
    """The error as one JSON object on stdout, unless the verb already printed its report."""
    if not _mark_printed():
        click.echo(json.dumps(error_dict(exc), indent=2, default=_default))
        _mark_printed(True)


def note(message: str) -> None:
    """A line for the person (stderr), never mixed into data."""
    err.print(message)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}")


def human_bytes(n: int | float) -> str:
    """
    >>> human_bytes(512)
    '512 B'
    >>> human_bytes(2048)
    '2.0 KiB'
    >>> human_bytes(3 * 1024 * 1024)
    '3.0 MiB'
    """
    if n < 1024:
        return f"{int(n)} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def is_tty() -> bool:
    return sys.stderr.isatty()
