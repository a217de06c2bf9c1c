"""Where the device is: ``--port`` as given, else the port of a ``--board``: the
emulator of an emulated board (:func:`tinykit.pio.qemu.port_for_board`), or the serial
port whose USB VID:PID is one of a real board's ``platformio.hwids``, found with pyserial's
``list_ports`` as ``pio device list`` finds it. The serial stage only opens URLs;
``tinykit flash``, ``run`` and ``test`` resolve them here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tinykit.boards import Board
from tinykit.errors import DeviceError


def _vid_pid(vid: int, pid: int) -> str:
    """
    >>> _vid_pid(0x303A, 0x1001)
    '303A:1001'
    """
    return f"{vid:04X}:{pid:04X}"


def _system_ports() -> list[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def find_board_port(board: Board, comports: Callable[[], Iterable[Any]] = _system_ports) -> str:
    """The serial port of a plugged-in real ``board``: the one port whose USB VID:PID is
    in the profile's ``hwids``. DeviceError (one line) for none or several, listing them."""
    wanted = set(board.platformio.hwids)
    expected = " or ".join(_vid_pid(v, p) for v, p in board.platformio.hwids)
    if not wanted:
        raise DeviceError(f"board {board.id} has no USB VID:PID in its profile (platformio.hwids)",
                          hint="give --port PORT")
    ports = list(comports())
    found = sorted((p for p in ports if (p.vid, p.pid) in wanted), key=lambda p: p.device)
    if len(found) == 1:
        return str(found[0].device)
    if not found:
        seen = ", ".join(f"{p.device} ({_vid_pid(p.vid, p.pid)})" for p in ports if p.vid is not None)
        raise DeviceError(
            f"no serial port with the USB VID:PID of {board.id} ({expected})"
            + (f"; USB serial ports here: {seen}" if seen else "; no USB serial port found"),
            hint="plug the board in (`pio device list` shows the ports), or give --port PORT")
    listed = ", ".join(f"{p.device} ({_vid_pid(p.vid, p.pid)}, {p.description})" for p in found)
    raise DeviceError(f"{len(found)} serial ports match board {board.id}: {listed}",
                      hint="choose one with --port PORT")


def resolve_port(port: str | None, board: str | None,
                 comports: Callable[[], Iterable[Any]] = _system_ports) -> str:
    """The serial URL to open: ``port`` when given, else the running emulator of an
    emulated ``board``, else the port of a real ``board`` found by its USB VID:PID.
    DeviceError (one line) when neither finds a device."""
    if port:
        return port
    if not board:
        raise DeviceError("no device given", hint="give --port PORT, or --board qemu-m4")
    from tinykit.boards import resolve

    b = resolve(board)
    if b.emulated:
        from tinykit.pio.qemu import port_for_board

        return port_for_board(b)
    return find_board_port(b, comports)
