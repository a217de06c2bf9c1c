"""Test rig for the serial protocol: the host-built device and a fault proxy.

* :func:`build_host_device` compiles ``tests/c`` (host HAL over TCP + the TEST
  DOUBLE model) with the real protocol C, ``-Wall -Wextra -Werror``.
* :class:`HostDevice` runs it as a process ("the board"): it prints its port,
  waits for a connection, prints the boot banner, serves. Always killed on exit.
* :class:`FaultProxy` is a loopback TCP proxy (127.0.0.1 only) between the
  client and the device that drops, corrupts (flips one bit) and delays bytes
  with a seeded RNG and a bounded number of faults, can inject raw bytes either
  way, and can move to a new device (a reset: the client's link stays up, as a
  USB-serial adapter's does when the board reboots).
* :func:`double_expected` is the test double's function, recomputed in Python.
"""

from __future__ import annotations

import random
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
C_DIR = REPO / "tests" / "c"
FW_LINK = REPO / "firmware" / "src" / "link"  # protocols + CRC (no kernels needed)
FW_INC = REPO / "firmware" / "include"
LINK_SOURCES = sorted(FW_LINK.glob("*.c"))
HOST_SOURCES = [
    C_DIR / "host_hal.c",
    C_DIR / "double_model.c",
    C_DIR / "host_main.c",
    *LINK_SOURCES,
]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]

# The test double's contract (tests/c/double_model.c).
DOUBLE_NAME = "test-double"
DOUBLE_HASH = "7e57d0b1e5eed001"
DOUBLE_IN_SHAPE = (1, 49, 10)
DOUBLE_OUT_SHAPE = (1, 12)
DOUBLE_IN_QUANT = (0.1, 2)
DOUBLE_OUT_QUANT = (0.5, -3)


def double_expected(x: np.ndarray) -> np.ndarray:
    """out[j] = clamp(floor(sum of rows i % 12 == j) / 8), -128, 127) as int8."""
    rows = x.reshape(49, 10).astype(np.int64).sum(axis=1)
    sums = np.array([rows[j::12].sum() for j in range(12)])
    return np.clip(sums >> 3, -128, 127).astype(np.int8).reshape(DOUBLE_OUT_SHAPE)


def build_host_device(out_dir: Path, *, trace: bool = True) -> Path:
    """Compile the host device; ``trace`` makes the double log each invoke on stderr."""
    exe = out_dir / "host_device"
    cmd = ["gcc", *CFLAGS, f"-I{FW_INC}", f"-I{FW_LINK}", f"-I{C_DIR}"]
    if trace:
        cmd.append("-DTK_DOUBLE_TRACE")
    subprocess.run([*cmd, *map(str, HOST_SOURCES), "-o", str(exe)], check=True)
    return exe


class HostDevice:
    """The host-built firmware as a process; a context manager that always kills it."""

    def __init__(self, exe: Path, *, eembc: bool = False, board: str = "host-test",
                 log: Path | None = None, eembc_task: str | None = None) -> None:
        args = [str(exe), "--board", board] + (["--eembc"] if eembc else [])
        args += ["--eembc-task", eembc_task] if eembc_task else []
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.kill()
            raise RuntimeError(f"host device did not print its port: {line!r}")
        self.port = int(line)
        self.addr = ("127.0.0.1", self.port)
        self.url = f"socket://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        if hasattr(self._log, "close"):
            self._log.close()

    def __enter__(self) -> HostDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


class FaultProxy:
    """client <-> 127.0.0.1:port <-> device, with seeded, bounded byte faults.

    Per byte and direction ("to_device", "to_host"), with probabilities ``drop``,
    ``flip`` (one random bit) and ``delay`` (sleep up to ``max_delay`` seconds)
    while fewer than ``max_faults`` faults were injected and ``enabled`` is set.
    """

    def __init__(self, upstream: tuple[str, int], *, seed: int = 0, drop: float = 0.0,
                 flip: float = 0.0, delay: float = 0.0, max_delay: float = 0.01,
                 max_faults: int = 100, directions: tuple[str, ...] = ("to_device", "to_host"),
                 enabled: bool = True) -> None:
        self._rng = random.Random(seed)
        self.drop, self.flip, self.delay, self.max_delay = drop, flip, delay, max_delay
        self.max_faults = max_faults
        self.directions = directions
        self.enabled = enabled
        self.counts = {"dropped": 0, "flipped": 0, "delayed": 0}
        self._upstream_addr = upstream
        self._lock = threading.Lock()
        self._inject: list[tuple[str, bytes]] = []
        self._new_upstream: tuple[str, int] | None = None
        self._stop = threading.Event()
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listen.bind(("127.0.0.1", 0))
        self._listen.listen(1)
        self.port = self._listen.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def faults(self) -> int:
        return sum(self.counts.values())

    def inject(self, direction: str, data: bytes) -> None:
        """Raw bytes to the device ("to_device") or the client ("to_host")."""
        with self._lock:
            self._inject.append((direction, data))

    def set_upstream(self, addr: tuple[str, int]) -> None:
        """Connect to a new device (the old one died or was restarted)."""
        with self._lock:
            self._new_upstream = addr

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listen.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the proxy thread -------------------------------------------------------------

    def _mangle(self, direction: str, data: bytes) -> list[tuple[float, bytes]]:
        """(sleep before, bytes) pieces after the faults."""
        if not self.enabled or direction not in self.directions:
            return [(0.0, data)]
        pieces: list[tuple[float, bytes]] = []
        cur = bytearray()
        for b in data:
            r = self._rng.random()
            if self.faults >= self.max_faults:
                cur.append(b)
            elif r < self.drop:
                self.counts["dropped"] += 1
            elif r < self.drop + self.flip:
                self.counts["flipped"] += 1
                cur.append(b ^ (1 << self._rng.randrange(8)))
            elif r < self.drop + self.flip + self.delay:
                self.counts["delayed"] += 1
                pieces.append((0.0, bytes(cur)))
                cur = bytearray([b])
                pieces.append((self._rng.uniform(0, self.max_delay), b""))
            else:
                cur.append(b)
        pieces.append((0.0, bytes(cur)))
        return pieces

    @staticmethod
    def _send(sock: socket.socket | None, pieces: list[tuple[float, bytes]]) -> None:
        for pause, data in pieces:
            if pause:
                time.sleep(pause)  # the injected delay fault itself (behaviour, not a wait)
            if data and sock is not None:
                try:
                    sock.sendall(data)
                except OSError:
                    return

    def _serve(self) -> None:
        client: socket.socket | None = None
        upstream: socket.socket | None = None
        try:
            while not self._stop.is_set() and client is None:
                if select.select([self._listen], [], [], 0.05)[0]:
                    client, _ = self._listen.accept()
                    upstream = socket.create_connection(self._upstream_addr)
            while not self._stop.is_set() and client is not None:
                with self._lock:
                    injects, self._inject = self._inject, []
                    new_addr, self._new_upstream = self._new_upstream, None
                if new_addr is not None:
                    if upstream is not None:
                        upstream.close()
                    upstream = socket.create_connection(new_addr)
                for direction, data in injects:
                    self._send(upstream if direction == "to_device" else client, [(0.0, data)])
                socks = [client] + ([upstream] if upstream is not None else [])
                ready = select.select(socks, [], [], 0.02)[0]
                if client in ready:
                    data = client.recv(4096)
                    if not data:
                        break  # the client left
                    self._send(upstream, self._mangle("to_device", data))
                if upstream is not None and upstream in ready:
                    data = upstream.recv(4096)
                    if not data:  # the device died: keep the client, wait for set_upstream
                        upstream.close()
                        upstream = None
                        continue
                    self._send(client, self._mangle("to_host", data))
        finally:
            for s in (client, upstream):
                if s is not None:
                    s.close()
