"""The byte link under the serial protocol clients.

:class:`Link` is what :class:`tinykit.serial.client.Device` and
:class:`tinykit.serial.eembc.EembcDevice` talk through; :func:`open_link`
opens one by URL with pyserial:

- a tty path: ``/dev/ttyACM0``, ``COM3``
- ``socket://host:port``: a raw TCP socket (the QEMU UART); Nagle's algorithm
  is turned off here, for every client
- ``rfc2217://host:port``: a remote serial port (and pyserial's other URL
  handlers, e.g. ``spy://`` to log the traffic)

pyserial's exceptions stay in this module: opening raises a one-line
:class:`~tinykit.errors.DeviceError`, a failed read or write raises
:class:`LinkLost` (a DeviceError).

Example::

    with open_link("socket://127.0.0.1:4321") as link:
        link.write(b"name%")
        link.flush()
        data = link.read(256)
"""

from __future__ import annotations

import re
import socket
from types import TracebackType
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from tinykit.errors import DeviceError

READ_TIMEOUT_S = 0.05  # default read timeout: clients poll and check their own deadlines
OPEN_HINT = "check --port (a tty path or socket://host:port) and that no other program holds it"
LOST_HINT = "the device or emulator stopped; restart it (tinykit flash) and run again"
_TCP_SCHEMES = ("socket", "rfc2217")


@runtime_checkable
class Link(Protocol):
    """A byte stream to one device.

    ``read(n)`` returns up to n bytes: it waits at most :attr:`timeout` seconds
    for the first byte, then returns what has already arrived (``b""`` on a
    timeout). Errors of an open link raise :class:`LinkLost`.
    """

    url: str

    @property
    def timeout(self) -> float:
        """Seconds :meth:`read` waits for the first byte."""
        ...

    @timeout.setter
    def timeout(self, seconds: float) -> None: ...

    def read(self, n: int) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class LinkLost(DeviceError):
    """A read or write failed on an open link (unplugged, emulator stopped)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"lost the connection to the device at {url} ({reason})", hint=LOST_HINT)
        self.url = url
        self.reason = reason


class SerialLink:
    """A :class:`Link` over a pyserial port. Use :func:`open_link`."""

    def __init__(self, port, url: str) -> None:  # noqa: ANN001 - a pyserial SerialBase
        self._port = port
        self.url = url

    @property
    def timeout(self) -> float:
        return self._port.timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self._call(setattr, self._port, "timeout", seconds)

    def read(self, n: int) -> bytes:
        if n <= 0:
            return b""
        data = self._call(self._port.read, 1)
        while data and len(data) < n:
            # pyserial's socket:// reports 1 when anything is waiting, a tty the real count
            waiting = self._call(lambda: self._port.in_waiting)
            if not waiting:
                break
            data += self._call(self._port.read, min(waiting, n - len(data)))
        return data

    def write(self, data: bytes) -> None:
        self._call(self._port.write, data)

    def flush(self) -> None:
        self._call(self._port.flush)

    def reset_input_buffer(self) -> None:
        self._call(self._port.reset_input_buffer)

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:  # noqa: BLE001 - closing a broken link must not hide the real error
            pass

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SerialLink({self.url!r})"

    def _call(self, fn, *args):  # noqa: ANN001, ANN202
        import serial

        try:
            return fn(*args)
        except (serial.SerialException, OSError) as e:
            raise LinkLost(self.url, str(e) or type(e).__name__) from None


def open_link(url: str, *, baudrate: int = 115200, timeout: float = READ_TIMEOUT_S) -> SerialLink:
    """Open a tty path or pyserial URL. DeviceError (one line) when it cannot be opened."""
    import serial

    _check_url(url)
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    except ValueError as e:
        raise DeviceError(f"cannot open serial port {url}: {_value_reason(url, e)}", hint=OPEN_HINT) from None
    except (serial.SerialException, OSError) as e:
        raise DeviceError(f"cannot open serial port {url}: {_open_reason(url, e)}", hint=OPEN_HINT) from None
    _no_delay(port)
    return SerialLink(port, url)


def _no_delay(port: object) -> None:
    """Frames are small request/reply pairs: turn off Nagle's algorithm on a TCP
    link (pyserial leaves it on), or each reply can wait for a delayed ACK (~40 ms)."""
    sock = getattr(port, "_socket", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def _check_url(url: str) -> None:
    """host:port URLs are checked here: pyserial's errors for them are cryptic."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _TCP_SCHEMES:
        return
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise DeviceError(f"cannot open serial port {url}: no host and port",
                          hint=f"give {scheme}://host:port, e.g. {scheme}://127.0.0.1:4321")


def _value_reason(url: str, e: ValueError) -> str:
    if "://" in url and "not known" in str(e):
        return f"unknown URL scheme {url.split('://', 1)[0]!r} (tty path, socket://, rfc2217://)"
    return str(e)


def _open_reason(url: str, e: Exception) -> str:
    """pyserial's message without its own "could not open port URL:" prefix."""
    reason = str(e) or type(e).__name__
    prefix = re.compile(r"^(\[Errno -?\d+\] )?could not open port " + re.escape(url) + r": ", re.IGNORECASE)
    return prefix.sub("", reason) or reason
