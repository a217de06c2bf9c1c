"""Build and flash firmware projects with PlatformIO; emulated boards in QEMU.

Public API (in :mod:`tinykit.pio.api`, re-exported here on first use):
``build``, ``upload``, ``BuildResult``, ``UploadResult``, ``pio_command``,
``pio_env``, ``platform_dir``, ``qemu_upload_command``, ``read_project``.
Emulators: :mod:`tinykit.pio.qemu` (``start``, ``running``, ``port_for_board``, ``stop``,
``stop_all``).

The names are loaded lazily so that ``python -m tinykit.pio.qemu`` (the
upload command) does not import this package's API first.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BuildResult",
    "UploadResult",
    "build",
    "pio_command",
    "pio_env",
    "platform_dir",
    "qemu_upload_command",
    "read_project",
    "upload",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tinykit.pio import api

        return getattr(api, name)
    raise AttributeError(f"module 'tinykit.pio' has no attribute {name!r}")
