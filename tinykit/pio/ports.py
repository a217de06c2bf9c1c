"""Where the device is: ``--port`` as given, or the port of a ``--board`` (the
emulator of an emulated board, :func:`tinykit.pio.qemu.port_for_board`). The serial
stage only opens URLs; ``tinykit test`` and ``tinykit run`` resolve them here."""

from __future__ import annotations

from tinykit.errors import DeviceError


def resolve_port(port: str | None, board: str | None) -> str:
    """The serial URL to open: ``port`` when given, else the running emulator of
    ``board``. DeviceError (one line) when neither finds a device."""
    if port:
        return port
    if not board:
        raise DeviceError("no device given", hint="give --port PORT, or --board qemu-m4")
    from tinykit.pio.qemu import port_for_board

    return port_for_board(board)
