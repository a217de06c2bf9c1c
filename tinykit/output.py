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


def to_json(report: dict[str, Any]) -> str:
    return json.dumps({"tinykit_version": __version__, **report}, indent=2, default=_default)


def print_json(report: dict[str, Any]) -> None:
    click.echo(to_json(report))


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
