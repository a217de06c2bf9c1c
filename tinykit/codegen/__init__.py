"""Codegen stage: a parsed int8 graph -> interpreter-less C (``model.c``, ``model.h``).

API: :func:`generate` -> :class:`GeneratedModel`, :func:`write_files`,
:func:`unsupported_ops`. The ops' emitters live in :mod:`tinykit.ops`, the arena
plan in :mod:`tinykit.plan`."""

from __future__ import annotations

from tinykit.codegen.api import GeneratedModel, generate, unsupported_ops, write_files

__all__ = ["GeneratedModel", "generate", "unsupported_ops", "write_files"]
