"""Codegen stage: a parsed int8 graph -> interpreter-less C (``model.c``, ``model.h``).

API: :func:`generate` -> :class:`GeneratedModel`, :func:`write_files` (in
:mod:`tinykit.codegen.api`, imported on first use so that op modules can import
sibling helpers without cycles)."""

from __future__ import annotations

from typing import Any

_API = ("generate", "write_files", "GeneratedModel", "unsupported_ops")


def __getattr__(name: str) -> Any:
    if name in _API:
        from tinykit.codegen import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = list(_API)
