"""Host client of the MLPerf Tiny (EEMBC runner) "performance mode" text protocol.

Commands are ASCII ending in ``%``; the device answers ``m-...`` lines and ends
each command with ``m-ready``; ``e-[...]`` lines are errors. The device side is
``firmware/src/link/tk_eembc.c`` (its header comment lists the replies). Any device
that speaks this protocol works, not only tinykit firmware. The client talks
through a :class:`~tinykit.serial.link.Link`: :meth:`EembcDevice.open` opens one
by URL; ``EembcDevice(link)`` uses a link the caller opened. What the ``db`` bytes
are for each MLPerf Tiny task (int8, uint8 pixels, float32 windows) and what
``m-results`` then holds: :mod:`tinykit.project.eembc` (``TASKS[key].encode``).

>>> parse_results("m-results-[0.000,-1.500,2.250]")
[0.0, -1.5, 2.25]
>>> hex_chunks(bytes(range(5)), 2)
['0001', '0203', '04']
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tinykit.errors import DeviceError
from tinykit.serial.link import Link, open_link

READY = "m-ready"
READ_SLICE_S = 0.05  # link read timeout: how often deadlines are checked
READ_CHUNK = 4096  # most bytes taken per link read
# Bytes per "db <hex>%" command: the runner's DUT class sends 31 (62 hex digits; 26
# when a power manager is attached, in energy mode). The reference firmware's
# command buffer holds 80 characters, tinykit's 128.
DB_CHUNK = 31
_RESULTS = re.compile(r"m-results-\[([^\]]*)\]")
_LAP = re.compile(r"m-lap-us-(\d+)")
_NAME = re.compile(r"m-name-dut-\[(.*)\]")
_BRACKET = re.compile(r"m-(profile|model)-\[(.*)\]")
_BUFFER = re.compile(r"m-buffer-([0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2})*)$")


def parse_results(line: str) -> list[float]:
    m = _RESULTS.search(line)
    if m is None:
        raise DeviceError(f"not an m-results line: {line!r}")
    body = m.group(1).strip()
    try:
        return [float(v) for v in body.split(",")] if body else []
    except ValueError:
        raise DeviceError(f"malformed m-results line: {line!r}") from None


def hex_chunks(data: bytes, chunk: int = DB_CHUNK) -> list[str]:
    return [data[i : i + chunk].hex() for i in range(0, len(data), chunk)]


class EembcDevice:
    """A device in MLPerf Tiny mode over a :class:`Link`. :meth:`open` opens one by URL."""

    def __init__(self, link: Link, *, timeout: float = 10.0) -> None:
        link.timeout = READ_SLICE_S
        self.link = link
        self.url = link.url
        self.timeout = timeout  # seconds for each command to end with m-ready
        self._buf = bytearray()
        self.log: list[str] = []  # every line received

    @classmethod
    @contextmanager
    def open(
        cls, url: str, *, baud: int = 115200, timeout: float = 10.0, settle: float = 0.3
    ) -> Iterator[EembcDevice]:
        """Open ``url`` (a tty path or pyserial URL) and skip the boot lines
        (quiet for ``settle`` seconds); the link is closed after."""
        link = open_link(url, baudrate=baud, timeout=READ_SLICE_S)
        try:
            dev = cls(link, timeout=timeout)
            dev.drain(settle)
            yield dev
        finally:
            link.close()

    # ---- commands ------------------------------------------------------------------

    def name(self) -> str:
        return self._match(self.command("name"), _NAME).group(1)

    def profile(self) -> tuple[str, str]:
        """(firmware profile, model)."""
        lines = self.command("profile")
        found = {m.group(1): m.group(2) for m in map(_BRACKET.search, lines) if m}
        if "profile" not in found or "model" not in found:
            raise DeviceError(f"malformed profile reply: {lines}")
        return found["profile"], found["model"]

    def timestamp(self) -> int:
        return int(self._match(self.command("timestamp"), _LAP).group(1))

    def load(self, data: bytes, chunk: int = DB_CHUNK) -> None:
        """``db load N`` then ``db <hex>`` commands of ``chunk`` bytes; the device
        confirms m-load-done."""
        lines = self.command(f"db load {len(data)}")
        if not any(f"Expecting {len(data)} bytes" in ln for ln in lines):
            raise DeviceError(f"the device did not accept db load {len(data)}: {lines}")
        done = False
        for part in hex_chunks(data, chunk):
            done = any("m-load-done" in ln for ln in self.command(f"db {part}"))
        if not done:
            raise DeviceError("the device did not confirm the load (no m-load-done)")

    def infer(self, n: int = 1, warmup: int = 10) -> tuple[list[float], float]:
        """(results, microseconds per inference) of n timed runs after warmup runs."""
        lines = self.command(f"infer {n} {warmup}")
        laps = [int(m.group(1)) for m in map(_LAP.search, lines) if m]
        results = [ln for ln in lines if "m-results-" in ln]
        if len(laps) < 2 or not results:
            raise DeviceError(f"malformed infer reply: {lines}")
        elapsed = (laps[-1] - laps[-2]) % (1 << 32)
        return parse_results(results[-1]), elapsed / n

    def db_print(self) -> bytes:
        """The bytes announced by the last ``db load N`` (``db print%``)."""
        found = [m.group(1) for m in map(_BUFFER.search, self.command("db print")) if m]
        return bytes.fromhex("".join(found).replace("-", ""))

    def help(self) -> list[str]:
        return self.command("help")

    def results(self) -> list[float]:
        lines = [ln for ln in self.command("results") if "m-results-" in ln]
        if not lines:
            raise DeviceError("no m-results line in the reply to results%")
        return parse_results(lines[-1])

    def command(self, cmd: str) -> list[str]:
        """Send ``cmd%``; the lines up to m-ready. DeviceError on an e-[...] line."""
        self._write(f"{cmd}%".encode("ascii"))
        lines: list[str] = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            line = self._readline(deadline)
            if line is None:
                break
            if line == READY:
                errors = [ln for ln in lines if ln.startswith("e-")]
                if errors:
                    raise DeviceError(f"the device refused {cmd!r}: {errors[0]}")
                return lines
            lines.append(line)
        raise DeviceError(
            f"the device at {self.url} did not finish {cmd!r} with m-ready "
            f"within {self.timeout:g} s (got {lines})",
            hint="check the port and that the firmware was built in MLPerf Tiny mode",
        )

    # ---- the link -------------------------------------------------------------------

    @staticmethod
    def _match(lines: list[str], pattern: re.Pattern[str]) -> re.Match[str]:
        for ln in lines:
            m = pattern.search(ln)
            if m:
                return m
        raise DeviceError(f"unexpected reply: {lines}")

    def _write(self, data: bytes) -> None:
        self.link.write(data)  # a broken link raises LinkLost, a DeviceError
        self.link.flush()

    def _read(self) -> bytes:
        return self.link.read(READ_CHUNK)

    def _readline(self, deadline: float) -> str | None:
        while b"\n" not in self._buf:
            if time.monotonic() >= deadline:
                return None
            self._buf += self._read()
        raw, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        line = raw.decode("ascii", "replace").strip()
        self.log.append(line)
        return line

    def drain(self, settle: float = 0.3) -> None:
        """Drop what the device prints until it is quiet for ``settle`` seconds
        (the boot lines)."""
        quiet_until = time.monotonic() + settle
        while time.monotonic() < quiet_until:
            data = self._read()
            if data:
                self._buf += data
                quiet_until = time.monotonic() + settle
        self._buf.clear()
