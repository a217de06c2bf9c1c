"""The tinykit serial protocol: frames, payload layouts, a streaming decoder.

The device side is ``firmware/src/link/tk_protocol.c``; both follow this layout.

Frame (integers little-endian)::

    offset  size  field
    0       2     sync: 0xA5 0x5A
    2       1     type (request; reply = type | 0x80; error reply = 0xFF)
    3       1     seq: chosen by the host, echoed in the reply
    4       2     len: payload bytes, 0..MAX_PAYLOAD (256)
    6       len   payload
    6+len   4     CRC-32 (zlib.crc32) over bytes 2 .. 6+len-1

Requests and their replies' payloads:

=================  ==================  ============================================
type               request payload     reply payload
=================  ==================  ============================================
0x01 INFO          (none)              u8 proto, u16 max_payload, u32 arena_bytes,
                                       u32 n_layers, tensor in, tensor out, then
                                       strings name, hash, runtime, board, firmware
0x02 SET_INPUT     u32 offset, data    u32 offset + len(data)
0x03 INVOKE        (none)              u8 status, u32 device_us, u32 out_bytes,
                                       u8 inline, [output when inline = 1]
0x04 GET_OUTPUT    u32 offset, u16 n   u32 offset, data
0x05 LAYER_TIMES   u16 first           u16 first, u16 n_layers, u32 us[...] (<= 63)
0xFF error         -                   u8 code, u8 request type
=================  ==================  ============================================

A tensor is ``u8 type, u8 rank, i32 dims[5], u32 bytes, f32 scale, i32 zero_point``
(34 bytes); a string is ``u8 n`` + n bytes (n <= 32). The INVOKE reply carries
the output when it fits (<= 246 bytes); otherwise the host reads it with
GET_OUTPUT chunks.

The device answers a bad CRC or a bad length with an error frame, rescans from
the byte after the sync, drops a partial frame that stays quiet for 100 ms, and
replays its last reply (without running anything again) for a request with the
same seq and CRC as the last one: a host retry is safe, an INVOKE never runs
twice. Text lines outside frames (the boot banner) are skipped by both sides;
the host decoder reports them.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass

SYNC = b"\xa5\x5a"
HEADER = 6
CRC_BYTES = 4
MAX_PAYLOAD = 256
MAX_TEXT_LINE = 512
PROTOCOL_VERSION = 1
TENSOR_STRUCT = struct.Struct("<BB5iIfi")
INVOKE_HEAD = struct.Struct("<BIIB")


class MsgType(enum.IntEnum):
    INFO = 0x01
    SET_INPUT = 0x02
    INVOKE = 0x03
    GET_OUTPUT = 0x04
    LAYER_TIMES = 0x05
    ERROR = 0xFF


REPLY = 0x80


class ErrorCode(enum.IntEnum):
    BAD_CRC = 1
    UNKNOWN_TYPE = 2
    BAD_LENGTH = 3
    BAD_OFFSET = 4
    NOT_READY = 5
    INVOKE_FAILED = 6


# Errors caused by the line, not by the request: the host sends the request again.
RETRYABLE = frozenset({ErrorCode.BAD_CRC, ErrorCode.BAD_LENGTH})

# TkType (tinykit.h) -> numpy dtype name
TK_TYPES: dict[int, str] = {0: "int8", 1: "float32", 2: "int32", 3: "int16", 4: "uint8"}


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes


@dataclass(frozen=True)
class BadFrame:
    """A frame whose CRC did not match (seq and type may be corrupted too)."""

    type: int
    seq: int


@dataclass(frozen=True)
class TextLine:
    """Bytes outside any frame, up to a newline (a banner, a log line, noise)."""

    text: str


Event = Frame | BadFrame | TextLine


def crc32(data: bytes) -> int:
    """CRC-32 as the device computes it (tk_crc32).

    >>> hex(crc32(b"123456789"))
    '0xcbf43926'
    """
    return zlib.crc32(data) & 0xFFFFFFFF


def encode(type_: int, seq: int, payload: bytes = b"") -> bytes:
    """One frame.

    >>> f = encode(MsgType.INFO, 7)
    >>> f[:6].hex(), len(f)
    ('a55a01070000', 10)
    """
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes > {MAX_PAYLOAD}")
    body = struct.pack("<BBH", type_, seq & 0xFF, len(payload)) + payload
    return SYNC + body + struct.pack("<I", crc32(body))


class Decoder:
    """Streaming frame decoder: feed it bytes, get frames, bad frames and the
    text lines it skipped.

    >>> d = Decoder()
    >>> d.feed(b"tinykit 0.1.0 model=x\\r\\n" + encode(0x81, 3, b"hi")[:5])
    [TextLine(text='tinykit 0.1.0 model=x')]
    >>> d.feed(encode(0x81, 3, b"hi")[5:] + b"\\x00junk")
    [Frame(type=129, seq=3, payload=b'hi')]
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._text = bytearray()

    def drop_partial(self) -> None:
        """Forget a partly received frame (before a retry)."""
        if self._buf[:1] == SYNC[:1]:
            self._buf.clear()

    def feed(self, data: bytes) -> list[Event]:
        self._buf += data
        events: list[Event] = []
        buf = self._buf
        while buf:
            if buf[0] != SYNC[0] or (len(buf) >= 2 and buf[1] != SYNC[1]):
                self._skip(buf[0], events)
                del buf[0]
                continue
            if len(buf) < HEADER:
                break
            (length,) = struct.unpack_from("<H", buf, 4)
            if length > MAX_PAYLOAD:
                self._skip(buf[0], events)
                del buf[0]
                continue
            total = HEADER + length + CRC_BYTES
            if len(buf) < total:
                break
            (want,) = struct.unpack_from("<I", buf, HEADER + length)
            if crc32(bytes(buf[2 : HEADER + length])) != want:
                events.append(BadFrame(buf[2], buf[3]))
                self._skip(buf[0], events)
                del buf[0]
                continue
            self._flush_text(events)
            events.append(Frame(buf[2], buf[3], bytes(buf[HEADER : HEADER + length])))
            del buf[:total]
        return events

    def _skip(self, byte: int, events: list[Event]) -> None:
        if byte == 0x0A or len(self._text) >= MAX_TEXT_LINE:
            self._flush_text(events)
        elif byte != 0x0D:
            self._text.append(byte)

    def _flush_text(self, events: list[Event]) -> None:
        if self._text:
            events.append(TextLine(self._text.decode("ascii", "replace")))
            self._text.clear()


# ---- payload helpers (shared by client and tests) ---------------------------------


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str  # "int8", "float32", ...
    bytes: int
    scale: float
    zero_point: int


def unpack_tensor(payload: bytes, offset: int) -> tuple[TensorSpec, int]:
    type_, rank, *rest = TENSOR_STRUCT.unpack_from(payload, offset)
    dims, nbytes, scale, zero_point = rest[:5], rest[5], rest[6], rest[7]
    if type_ not in TK_TYPES or not 0 <= rank <= 5:
        raise ValueError(f"bad tensor description (type {type_}, rank {rank})")
    spec = TensorSpec(tuple(dims[:rank]), TK_TYPES[type_], nbytes, scale, zero_point)
    return spec, offset + TENSOR_STRUCT.size


def unpack_str(payload: bytes, offset: int) -> tuple[str, int]:
    n = payload[offset]
    end = offset + 1 + n
    if end > len(payload):
        raise ValueError("string runs past the payload")
    return payload[offset + 1 : end].decode("utf-8", "replace"), end
