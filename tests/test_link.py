"""tinykit.serial.link: open_link over real loopback TCP sockets (socket://),
TCP_NODELAY on the client side, bytes both ways, and the one-line errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tinykit.errors import DeviceError
from tinykit.serial.link import Link, LinkLost, SerialLink, open_link

pytestmark = pytest.mark.unit


class EchoServer:
    """One-connection TCP server on 127.0.0.1 that echoes every byte (and says
    what :meth:`say` is given)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.conn: socket.socket | None = None
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self.conn = conn
        self.connected.set()
        try:
            while data := conn.recv(4096):
                conn.sendall(data)
        except OSError:
            pass

    def say(self, data: bytes) -> None:
        """Send from the device side (after the client opened: pyserial drops what
        arrives while it opens)."""
        assert self.connected.wait(5)
        assert self.conn is not None
        self.conn.sendall(data)

    def drop(self) -> None:
        """Close the connection (the device goes away)."""
        assert self.connected.wait(5)
        assert self.conn is not None
        self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()

    def close(self) -> None:
        self._listener.close()
        if self.conn is not None:
            self.conn.close()
        self._thread.join(5)


@pytest.fixture()
def server() -> Iterator[EchoServer]:
    srv = EchoServer()
    yield srv
    srv.close()


def _read_exactly(link: Link, n: int, within: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + within
    while len(data) < n and time.monotonic() < deadline:
        data += link.read(n - len(data))
    return data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_socket_link_sets_tcp_nodelay_and_moves_bytes_both_ways(server: EchoServer) -> None:
    with open_link(server.url, timeout=0.2) as link:
        assert isinstance(link, Link) and isinstance(link, SerialLink)
        assert link.url == server.url
        sock = link._port._socket  # the client side of the TCP connection
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

        server.say(b"hello\n")
        assert _read_exactly(link, 6) == b"hello\n"  # device -> host
        payload = bytes(range(256)) * 8
        link.write(payload)  # host -> device -> host
        link.flush()
        assert _read_exactly(link, len(payload)) == payload

        link.timeout = 0.05  # nothing waiting: read returns b"" after the timeout
        assert link.timeout == 0.05
        t0 = time.monotonic()
        assert link.read(10) == b""
        assert time.monotonic() - t0 < 1.0


def test_read_returns_what_has_arrived_up_to_n(server: EchoServer) -> None:
    with open_link(server.url, timeout=1.0) as link:
        link.write(b"abcdefgh")
        time.sleep(0.2)  # all 8 bytes are back
        t0 = time.monotonic()
        first = link.read(5)
        assert first == b"abcde"
        assert link.read(100) == b"fgh"  # what is there, not a wait for 100 bytes
        assert time.monotonic() - t0 < 0.5
        link.write(b"stale")
        time.sleep(0.2)
        link.reset_input_buffer()
        link.timeout = 0.05
        assert link.read(10) == b""


def test_lost_connection_is_a_one_line_link_lost(server: EchoServer) -> None:
    link = open_link(server.url, timeout=0.1)
    try:
        link.write(b"ping")
        assert _read_exactly(link, 4) == b"ping"
        server.drop()
        with pytest.raises(LinkLost) as e:
            for _ in range(50):  # the read that sees the closed socket
                link.read(10)
    finally:
        link.close()
    link.close()  # closing twice is fine
    assert isinstance(e.value, DeviceError)
    msg = e.value.format_message()
    assert "\n" not in msg and f"lost the connection to the device at {server.url}" in msg


def test_refused_port_is_a_one_line_error() -> None:
    url = f"socket://127.0.0.1:{_free_port()}"
    with pytest.raises(DeviceError) as e:
        open_link(url)
    msg = e.value.format_message()
    assert "\n" not in msg
    assert msg.startswith(f"cannot open serial port {url}: ") and "refused" in msg.lower()
    assert msg.count("could not open port") + msg.count("Could not open port") == 0  # no pyserial echo
    assert "--port" in msg  # the hint


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("bogus://127.0.0.1:4321", "unknown URL scheme 'bogus'"),
        ("socket://127.0.0.1", "no host and port"),
        ("socket://:4321", "no host and port"),
        ("/dev/tinykit-no-such-tty", "No such file"),
    ],
)
def test_bad_urls_are_one_line_errors(url: str, words: str) -> None:
    with pytest.raises(DeviceError) as e:
        open_link(url)
    msg = e.value.format_message()
    assert "\n" not in msg and msg.startswith(f"cannot open serial port {url}: ") and words in msg


def test_device_takes_a_link(server: EchoServer) -> None:
    """The protocol clients run over any Link; they set its read timeout to their poll slice."""
    from tinykit.serial.client import READ_SLICE_S, Device
    from tinykit.serial.eembc import EembcDevice

    with open_link(server.url, timeout=1.0) as link:
        dev = Device(link, timeout=0.2, retries=0)
        assert dev.url == server.url and link.timeout == READ_SLICE_S
        with pytest.raises(DeviceError, match="did not answer INFO after 1 attempts"):
            dev.info()  # an echo server is no tinykit firmware
        eembc = EembcDevice(link, timeout=0.3)
        eembc.drain(0.1)
        with pytest.raises(DeviceError, match="did not finish 'x' with m-ready"):
            eembc.command("x")  # the echo "x%" is no MLPerf Tiny device


def test_the_serial_stage_does_not_know_the_emulators() -> None:
    """Finding an emulator's port is tinykit.pio's (tinykit.pio.ports): the serial
    stage's library only opens URLs; only its thin CLI resolves --board to a URL."""
    import re
    from pathlib import Path

    import tinykit.serial

    pkg = Path(tinykit.serial.__file__).parent
    pio = re.compile(r"tinykit\.pio\b|from tinykit import pio")
    library = [f for f in sorted(pkg.glob("*.py")) if f.name != "cli.py"]
    assert [f.name for f in library if pio.search(f.read_text())] == []
