"""Where tinykit's data folders are: inside the installed wheel
(``tinykit/_data/<name>``) or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of a data folder: ``boards``, ``templates`` or ``firmware``."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tinykit data folder {name!r} is missing; reinstall tinykit")


def boards_dir() -> Path:
    return data_dir("boards")


def templates_dir() -> Path:
    return data_dir("templates")


def firmware_dir() -> Path:
    return data_dir("firmware")
