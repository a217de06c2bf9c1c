"""A stand-in for the official MLPerf Tiny runner (mlcommons/tiny benchmark/runner),
written from a reading of its main.py, device_under_test.py, serial_device.py,
script.py, datasets.py and tests_*.yaml, for the conformance tests. It talks to the
device the way the runner does, in its order and chunking:

* the serial reader keeps every character except CR and NUL, cuts lines at LF and
  drops empty ones; a command is its text plus the '%' terminator, its reply is
  every line up to one containing "m-ready" (5 s per line);
* identify (main.init_dut): ``name``, then ``profile``; the ``m-model-[...]`` key
  picks the test script (an unknown key crashes the real runner);
* ``download`` (script._ScriptDownloadStep + DUT.load): ``db load N`` with the
  whole file, then ``db <hex>`` commands of 31 bytes (26 with a power manager);
  ad01 files are cut into ``bytes_to_send``-byte segments every ``stride`` bytes
  (2560 and 512 in y_labels.csv): accuracy mode sends every segment, performance
  mode only the first;
* ``infer N W`` (script._ScriptInferStep): the last ``m-results-[...]`` line and
  the first two ``m-lap-us-`` lines; ``e-`` lines are ignored, as the runner does
  (the tests check for them separately).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from tinykit.serial.link import Link

# tests_performance.yaml / tests_accuracy.yaml: (iterations, warmups) of each task's infer step.
PERFORMANCE = {"kws01": (70, 10), "ic01": (20, 5), "vww01": (20, 5), "ad01": (1500, 10)}
ACCURACY = {task: (1, 0) for task in PERFORMANCE}
AD_SEGMENT, AD_STRIDE = 2560, 512  # ad01 y_labels.csv: bytes_to_send, stride
MAX_BYTES = 31  # DUT._max_bytes without a power manager

_NAME = re.compile(r"^m-(name)-dut-\[([^]]+)]$")
_PROFILE = re.compile(r"^m-(model|profile)-\[([^]]+)]$")
_RESULTS = re.compile(r"^m-results-\[([^]]+)\]$")
_LAP = re.compile(r"^m-lap-us-([0-9]+)$")


@dataclass
class InferResult:
    results: list[float]
    elapsed_us: int | None
    lines: list[str]


@dataclass
class RunnerDut:
    link: Link
    line_timeout: float = 5.0
    max_bytes: int = MAX_BYTES
    log: list[tuple[str, list[str]]] = field(default_factory=list)  # (command, reply lines)
    _pending: str = ""
    _lines: list[str] = field(default_factory=list)

    def send_command(self, command: str) -> list[str]:
        self.link.write((command + "%").encode())
        self.link.flush()
        lines: list[str] = []
        while True:
            line = self._read_line()
            if line:
                lines.append(line)
            if "m-ready" in line:
                break
        self.log.append((command, lines))
        return lines

    def _read_line(self) -> str:
        deadline = time.monotonic() + self.line_timeout
        while not self._lines:
            if time.monotonic() > deadline:
                raise TimeoutError("no response to the command (the runner raises RuntimeError)")
            for ch in self.link.read(4096).decode("ascii", "replace"):
                if ch == "\n":
                    self._lines.append(self._pending)
                    self._pending = ""
                elif ch not in "\r\0":
                    self._pending += ch
        return self._lines.pop(0)

    def drain(self, settle: float = 1.0) -> None:
        """Forget what the device printed before (the runner's reader thread starts
        with the port; boot lines never reach a command's reply)."""
        quiet_until = time.monotonic() + settle
        while time.monotonic() < quiet_until:
            if self.link.read(4096):
                quiet_until = time.monotonic() + settle
        self._pending, self._lines = "", []

    # ---- main.init_dut -------------------------------------------------------------

    def identify(self) -> dict[str, str]:
        """``name`` then ``profile``, each tried up to 3 times until its line matches
        (DUT._retry)."""
        found: dict[str, str] = {}
        for command, pattern, key in (("name", _NAME, "name"), ("profile", _PROFILE, "model")):
            for _ in range(3):
                for line in self.send_command(command):
                    m = pattern.match(line)
                    if m:
                        found[m.group(1)] = m.group(2)
                if key in found:
                    break
        return found

    # ---- script steps --------------------------------------------------------------

    def load(self, data: bytes) -> list[str]:
        self.send_command(f"db load {len(data)}")
        reply: list[str] = []
        for i in range(0, len(data), self.max_bytes):
            reply = self.send_command("db " + "".join(f"{d:02x}" for d in data[i : i + self.max_bytes]))
        return reply

    def infer(self, iterations: int, warmups: int) -> InferResult:
        lines = self.send_command(f"infer {iterations} {warmups}")
        results: list[float] = []
        laps: list[int] = []
        for line in lines:
            m = _RESULTS.match(line)
            if m:
                results = [float(x) for x in m.group(1).split(",") if x.strip()]
                continue
            m = _LAP.match(line)
            if m:
                laps.append(int(m.group(1)))
        elapsed = laps[1] - laps[0] if len(laps) >= 2 else None
        return InferResult(results, elapsed, lines)


def segments(task: str, data: bytes, mode: str) -> list[bytes]:
    """What one ``download`` step sends of a dataset file, per load."""
    if task != "ad01":
        return [data]
    cut = [data[s : s + AD_SEGMENT] for s in range(0, len(data) - AD_SEGMENT + 1, AD_STRIDE)]
    return cut[:1] if mode == "p" else cut


def errors(dut: RunnerDut) -> list[str]:
    """Every e- line the device sent (the runner would not notice them)."""
    return [ln for _, lines in dut.log for ln in lines if ln.startswith("e-")]
