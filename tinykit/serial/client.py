"""Host client of the tinykit serial protocol (layout in :mod:`tinykit.serial.protocol`).

Example::

    with Device.open("socket://127.0.0.1:4321") as dev:
        dev.expect_model(model_hash(tflite_bytes), "ds_cnn")
        result = dev.infer(x_int8)

The client talks through a :class:`~tinykit.serial.link.Link`: :meth:`Device.open`
opens one by URL (a tty path like ``/dev/ttyACM0``, ``socket://host:port`` for
the QEMU UART, ``rfc2217://``) and closes it after; ``Device(link)`` uses a link
the caller opened (and closes). Every request is retried (same seq) on a
timeout or a damaged frame; the device replays its cached reply to a retry, so
an inference never runs twice. A boot banner seen after the first answer means
the device reset: that is an error, the results received so far stay in
:attr:`Device.results`.
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from tinykit.errors import DataError, DeviceError
from tinykit.serial.link import Link, LinkLost, open_link
from tinykit.serial.protocol import (
    INVOKE_HEAD,
    MAX_PAYLOAD,
    REPLY,
    RETRYABLE,
    BadFrame,
    Decoder,
    ErrorCode,
    Frame,
    MsgType,
    TensorSpec,
    TextLine,
    encode,
    unpack_str,
    unpack_tensor,
)

BANNER_PREFIX = "tinykit "
# Lines only an MLPerf Tiny mode firmware (--protocol eembc) prints: its boot lines,
# and its answers to the probe below (a '%' ends a command there, then name%).
EEMBC_LINES = ("m-timestamp-mode-", "m-init-done", "m-ready", "m-name-", "e-[Unknown command")
EEMBC_PROBE = b"%name%"
READ_SLICE_S = 0.05  # link read timeout: how often the deadline is checked
READ_CHUNK = 4096  # most bytes taken per link read


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    hash: str
    runtime: str
    board: str
    firmware: str
    arena_bytes: int
    n_layers: int
    input: TensorSpec
    output: TensorSpec
    protocol: int
    max_payload: int


@dataclass(frozen=True)
class InferResult:
    output: np.ndarray  # typed and shaped as the device's output tensor
    device_us: int  # tk_model_invoke time measured on the device


@dataclass
class LinkStats:
    """Counters of one session (what the link cost, what went wrong)."""

    requests: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    retries: int = 0
    timeouts: int = 0
    bad_frames: int = 0
    error_replies: int = 0
    stale_frames: int = 0


@dataclass
class _Session:
    synced: bool = False  # a reply arrived: later banners mean a reset
    probed: bool = False  # EEMBC_PROBE was sent (once, after the first unanswered request)
    text_lines: list[str] = field(default_factory=list)


def parse_info(payload: bytes) -> DeviceInfo:
    try:
        proto, max_payload, arena, n_layers = struct.unpack_from("<BHII", payload, 0)
        inp, off = unpack_tensor(payload, 11)
        out, off = unpack_tensor(payload, off)
        strings = []
        for _ in range(5):
            s, off = unpack_str(payload, off)
            strings.append(s)
    except (struct.error, ValueError, IndexError) as e:
        raise DeviceError(f"malformed INFO reply from the device: {e}") from None
    name, hash_, runtime, board, firmware = strings
    return DeviceInfo(name, hash_, runtime, board, firmware, arena, n_layers, inp, out, proto, max_payload)


def quantize_input(x: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """Float data -> the device's integer input type with its scale/zero point.

    >>> spec = TensorSpec((1, 3), "int8", 3, 0.5, -1)
    >>> quantize_input(np.array([0.0, 1.0, 100.0]), spec).tolist()
    [-1, 1, 127]
    """
    from tinykit.graph import Quant
    from tinykit.tensors import quantize_array

    if spec.scale == 0:
        raise DataError(f"the device input is {spec.dtype} without a scale: give {spec.dtype} data")
    return quantize_array(x, Quant((spec.scale,), (spec.zero_point,)), spec.dtype)


def input_bytes(x: bytes | bytearray | memoryview | np.ndarray, spec: TensorSpec) -> bytes:
    """Raw input bytes, checked against the device's input tensor."""
    if isinstance(x, np.ndarray):
        if x.dtype != np.dtype(spec.dtype):
            raise DataError(
                f"input is {x.dtype}, the device wants {spec.dtype}",
                hint="quantize float data with quantize_input() first",
            )
        data = np.ascontiguousarray(x).tobytes()
    else:
        data = bytes(x)
    if len(data) != spec.bytes:
        raise DataError(
            f"input has {len(data)} bytes, the device's input {list(spec.shape)} {spec.dtype} has {spec.bytes}"
        )
    return data


class Device:
    """A tinykit firmware over a :class:`Link`. :meth:`open` opens one by URL."""

    def __init__(self, link: Link, *, timeout: float = 2.0, retries: int = 3) -> None:
        link.timeout = READ_SLICE_S  # reads return this often, to check the request deadline
        self.link = link
        self.url = link.url
        self.timeout = timeout  # seconds to wait for each reply
        self.retries = retries
        self.stats = LinkStats()
        self.results: list[InferResult] = []  # every result of this session, in order
        self._decoder = Decoder()
        self._session = _Session()
        self._seq = random.randrange(256)
        self._info: DeviceInfo | None = None

    @classmethod
    @contextmanager
    def open(cls, url: str, *, baud: int = 115200, timeout: float = 2.0, retries: int = 3) -> Iterator[Device]:
        """A Device on a new link to ``url`` (a tty path or pyserial URL), closed after."""
        link = open_link(url, baudrate=baud, timeout=READ_SLICE_S)
        try:
            yield cls(link, timeout=timeout, retries=retries)
        finally:
            link.close()

    @property
    def text_lines(self) -> list[str]:
        """Text lines the device printed outside frames (banner, logs, noise)."""
        return self._session.text_lines

    # ---- requests -------------------------------------------------------------------

    def info(self) -> DeviceInfo:
        if self._info is None:
            self._info = parse_info(self._request(MsgType.INFO).payload)
        return self._info

    def expect_model(self, hash_: str, name: str | None = None) -> DeviceInfo:
        """DeviceError unless the device runs the model with this hash."""
        info = self.info()
        if info.hash != hash_:
            expected = f"{name} (hash {hash_})" if name else f"hash {hash_}"
            raise DeviceError(
                f"the device runs model {info.name} (hash {info.hash}), expected {expected}",
                hint="build and flash the firmware for this model (tinykit build, tinykit flash)",
            )
        return info

    def infer(self, x: bytes | bytearray | memoryview | np.ndarray) -> InferResult:
        """One inference: send the input, run, read the output."""
        info = self.info()
        data = input_bytes(x, info.input)
        chunk = min(info.max_payload, MAX_PAYLOAD) - 4
        for off in range(0, len(data), chunk):
            part = data[off : off + chunk]
            reply = self._request(MsgType.SET_INPUT, struct.pack("<I", off) + part)
            if reply.payload != struct.pack("<I", off + len(part)):
                raise DeviceError(f"the device acknowledged the wrong input chunk at {off}")
        reply = self._request(MsgType.INVOKE)
        if len(reply.payload) < INVOKE_HEAD.size:
            raise DeviceError("malformed INVOKE reply from the device")
        status, device_us, out_bytes, inline = INVOKE_HEAD.unpack_from(reply.payload)
        if status != 0:
            raise DeviceError(f"the inference failed on the device (TkStatus {status})")
        if out_bytes != info.output.bytes:
            raise DeviceError(f"the device returned {out_bytes} output bytes, its INFO said {info.output.bytes}")
        out = reply.payload[INVOKE_HEAD.size :] if inline else self._read_output(out_bytes, chunk)
        if len(out) != out_bytes:
            raise DeviceError("malformed INVOKE reply from the device (output length)")
        arr = np.frombuffer(out, dtype=info.output.dtype).reshape(info.output.shape).copy()
        result = InferResult(arr, device_us)
        self.results.append(result)
        return result

    def infer_many(
        self,
        inputs: Iterable[bytes | np.ndarray],
        on_result: Callable[[int, InferResult], None] | None = None,
    ) -> list[InferResult]:
        """Inferences in order. On a DeviceError the results so far are on the
        exception as ``partial`` (and in :attr:`results`)."""
        done: list[InferResult] = []
        for i, x in enumerate(inputs):
            try:
                r = self.infer(x)
            except DeviceError as e:
                lost = DeviceError(f"{e.message} (after {len(done)} inferences)", hint=e.hint)
                lost.partial = done  # type: ignore[attr-defined]
                raise lost from None
            done.append(r)
            if on_result is not None:
                on_result(i, r)
        return done

    def layer_times(self) -> tuple[int, ...]:
        """Per-layer microseconds of the last inference."""
        times: list[int] = []
        while True:
            reply = self._request(MsgType.LAYER_TIMES, struct.pack("<H", len(times)))
            first, total = struct.unpack_from("<HH", reply.payload, 0)
            k = (len(reply.payload) - 4) // 4
            if first != len(times) or (k == 0 and len(times) < total):
                raise DeviceError("malformed LAYER_TIMES reply from the device")
            times += struct.unpack_from(f"<{k}I", reply.payload, 4)
            if len(times) >= total:
                return tuple(times[:total])

    def _read_output(self, n: int, chunk: int) -> bytes:
        out = b""
        while len(out) < n:
            want = min(chunk, n - len(out))
            reply = self._request(MsgType.GET_OUTPUT, struct.pack("<IH", len(out), want))
            if reply.payload[:4] != struct.pack("<I", len(out)) or len(reply.payload) != 4 + want:
                raise DeviceError("malformed GET_OUTPUT reply from the device")
            out += reply.payload[4:]
        return out

    # ---- the link ---------------------------------------------------------------------

    def _request(self, type_: MsgType, payload: bytes = b"") -> Frame:
        self._seq = (self._seq + 1) & 0xFF
        seq = self._seq
        frame = encode(type_, seq, payload)
        self.stats.requests += 1
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
                self._decoder.drop_partial()
            self._write(frame)
            reply = self._await_reply(type_, seq)
            if reply is not None:
                return reply
            if not self._session.synced and not self._session.probed:
                self._session.probed = True  # silent from the start: maybe MLPerf Tiny firmware
                self._write(EEMBC_PROBE, frame_count=False)
        raise DeviceError(
            f"the device at {self.url} did not answer {type_.name} after {self.retries + 1} attempts",
            hint="check the port, the baud rate and that the board runs tinykit firmware "
            "(the boot banner starts with 'tinykit')",
        )

    def _await_reply(self, type_: MsgType, seq: int) -> Frame | None:
        """The reply, or None when the request should be sent again."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            again = False
            for ev in self._decoder.feed(self._read()):
                if isinstance(ev, TextLine):
                    self._on_text(ev.text)
                elif isinstance(ev, BadFrame):
                    self.stats.bad_frames += 1
                    again = True  # damaged on the way back (or noise): ask again
                elif ev.seq != seq or ev.type not in (MsgType.ERROR, type_ | REPLY):
                    self.stats.stale_frames += 1  # a late answer to an earlier attempt
                elif ev.type == MsgType.ERROR:
                    self.stats.frames_received += 1
                    self.stats.error_replies += 1
                    code = ev.payload[0] if ev.payload else 0
                    if code not in RETRYABLE:
                        raise DeviceError(
                            f"the device refused {type_.name}: {_error_name(code)}",
                            hint="the firmware and tinykit may speak different protocol versions",
                        )
                    again = True
                else:
                    self.stats.frames_received += 1
                    self._session.synced = True
                    return ev
            if again:
                return None
        self.stats.timeouts += 1
        return None

    def _on_text(self, text: str) -> None:
        self._session.text_lines.append(text)
        if not self._session.synced and text.strip().startswith(EEMBC_LINES):
            raise DeviceError(
                f"the device at {self.url} runs MLPerf Tiny mode firmware (built with --protocol eembc): "
                "it answers in the MLPerf Tiny runner's text protocol (m-... lines), not tinykit's",
                hint="drive it with the MLPerf Tiny runner or tinykit.serial.eembc.EembcDevice; for "
                "tinykit run/test, rebuild without --protocol eembc and flash again",
            )
        if self._session.synced and text.startswith(BANNER_PREFIX):
            raise DeviceError(
                f"the device reset during the run (boot banner seen again: {text!r}); "
                f"{len(self.results)} results were received before the reset",
                hint="check the power supply, a watchdog or a crash in the firmware",
            )

    def _write(self, frame: bytes, *, frame_count: bool = True) -> None:
        try:
            self.link.write(frame)
            self.link.flush()
        except LinkLost as e:
            raise self._lost(e) from None
        if frame_count:
            self.stats.frames_sent += 1

    def _read(self) -> bytes:
        try:
            return self.link.read(READ_CHUNK)
        except LinkLost as e:
            raise self._lost(e) from None

    def _lost(self, e: LinkLost) -> DeviceError:
        return DeviceError(f"{e.message}; {len(self.results)} results were received before", hint=e.hint)


def _error_name(code: int) -> str:
    try:
        return ErrorCode(code).name.lower().replace("_", " ")
    except ValueError:
        return f"error code {code}"
