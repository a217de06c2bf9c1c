"""The framed protocol itself: the C compiles everywhere it must, the C and
Python CRCs agree, the decoder resynchronises, and the device answers raw
frames (errors, retry cache, partial-frame timeout) as documented."""

from __future__ import annotations

import random
import socket
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from faultproxy import C_DIR, CFLAGS, FW_INC, FW_LINK, LINK_SOURCES, HostDevice, build_host_device
from polling import wait_for

from tinykit.serial.protocol import (
    REPLY,
    BadFrame,
    Decoder,
    ErrorCode,
    Frame,
    MsgType,
    TextLine,
    crc32,
    encode,
)

pytestmark = pytest.mark.host  # the host device is built with gcc; the decoder tests: unit

FIRMWARE_C = LINK_SOURCES


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_device(tmp_path_factory.mktemp("protocol_dev"))


@pytest.fixture()
def raw(device_exe: Path, tmp_path: Path):
    """(device, connected socket with the banner already read, stderr log path)."""
    log = tmp_path / "device.log"
    with HostDevice(device_exe, log=log) as dev:
        sock = socket.create_connection(dev.addr)
        sock.settimeout(2.0)
        try:
            banner = b""
            while not banner.endswith(b"\n"):
                banner += sock.recv(1)
            yield dev, sock, banner.decode(), log
        finally:
            sock.close()


def _reply(sock: socket.socket) -> Frame:
    d = Decoder()
    while True:
        for ev in d.feed(sock.recv(4096)):
            assert isinstance(ev, Frame), ev
            return ev


def _invocations(log: Path) -> int:
    return log.read_text().count("invoke ")


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
def test_firmware_c_compiles_for_arm(cpu: str, tmp_path: Path) -> None:
    for src in FIRMWARE_C:
        subprocess.run(
            ["arm-none-eabi-gcc", f"-mcpu={cpu}", "-mthumb", *CFLAGS, "-Os", f"-I{FW_INC}",
             f"-I{FW_LINK}", "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
            check=True,
        )


def test_c_crc_matches_python(tmp_path: Path) -> None:
    main = tmp_path / "crc_main.c"
    main.write_text(
        '#include <stdio.h>\n#include "tk_crc.h"\n'
        "int main(void) {\n  unsigned char buf[4096]; size_t n = fread(buf, 1, sizeof buf, stdin);\n"
        "  uint32_t a = tk_crc32(0u, buf, n / 3);\n"
        '  printf("%lu\\n", (unsigned long)tk_crc32(a, buf + n / 3, n - n / 3));\n  return 0;\n}\n'
    )
    exe = tmp_path / "crc"
    subprocess.run(["gcc", *CFLAGS, f"-I{FW_LINK}", str(main), str(FW_LINK / "tk_crc.c"), "-o",
                    str(exe)], check=True)
    rng = random.Random(1)
    for n in (0, 1, 9, 255, 1000):
        data = bytes(rng.randrange(256) for _ in range(n))
        got = subprocess.run([str(exe)], input=data, capture_output=True, check=True).stdout
        assert int(got) == crc32(data)


@pytest.mark.unit
def test_decoder_skips_text_and_garbage_and_splits() -> None:
    frames = [encode(0x81, i, bytes([i]) * i) for i in range(5)]
    stream = b"tinykit 0.1.0 model=m\r\n\x00\xff\xa5" + frames[0] + b"noise\n" + b"".join(frames[1:])
    d = Decoder()
    events = []
    for i in range(0, len(stream), 3):  # 3 bytes at a time
        events += d.feed(stream[i : i + 3])
    got = [e for e in events if isinstance(e, Frame)]
    assert [(f.seq, f.payload) for f in got] == [(i, bytes([i]) * i) for i in range(5)]
    texts = [e.text for e in events if isinstance(e, TextLine)]
    assert "tinykit 0.1.0 model=m" in texts and "noise" in texts


@pytest.mark.unit
def test_decoder_finds_a_frame_swallowed_by_a_damaged_one() -> None:
    good = encode(0x83, 9, b"payload")
    damaged = bytearray(encode(0x81, 8, b"x" * 40))
    del damaged[20:]  # truncated: its length field now swallows the good frame
    events = Decoder().feed(bytes(damaged) + good + b"\x00" * 40)
    assert any(isinstance(e, BadFrame) for e in events)
    assert Frame(0x83, 9, b"payload") in events


def test_banner_line(raw) -> None:
    _, _, banner, _ = raw
    assert banner == "tinykit 0.1.0 model=test-double hash=7e57d0b1e5eed001 runtime=aot board=host-test\r\n"


@pytest.mark.parametrize(
    ("type_", "payload", "code"),
    [
        (0x42, b"", ErrorCode.UNKNOWN_TYPE),
        (MsgType.SET_INPUT, struct.pack("<I", 480) + b"\x00" * 11, ErrorCode.BAD_OFFSET),
        (MsgType.SET_INPUT, b"\x00\x00", ErrorCode.BAD_LENGTH),
        (MsgType.INVOKE, b"\x00", ErrorCode.BAD_LENGTH),
        (MsgType.GET_OUTPUT, struct.pack("<IH", 0, 12), ErrorCode.NOT_READY),
        (MsgType.GET_OUTPUT, struct.pack("<IH", 8, 5), ErrorCode.BAD_OFFSET),
        (MsgType.LAYER_TIMES, struct.pack("<H", 0), ErrorCode.NOT_READY),
    ],
)
def test_error_frames(raw, type_: int, payload: bytes, code: ErrorCode) -> None:
    _, sock, _, _ = raw
    sock.sendall(encode(type_, 5, payload))
    reply = _reply(sock)
    assert (reply.type, reply.seq, reply.payload) == (MsgType.ERROR, 5, bytes([code, type_]))


def test_bad_crc_is_answered_and_the_next_frame_still_works(raw) -> None:
    _, sock, _, _ = raw
    bad = bytearray(encode(MsgType.INFO, 3))
    bad[-1] ^= 0x10
    sock.sendall(bytes(bad) + encode(MsgType.INFO, 4))
    d, events = Decoder(), []
    while len(events) < 2:
        events += d.feed(sock.recv(4096))
    assert events[0] == Frame(MsgType.ERROR, 3, bytes([ErrorCode.BAD_CRC, MsgType.INFO]))
    assert isinstance(events[1], Frame) and events[1].type == MsgType.INFO | REPLY


def test_retried_invoke_is_answered_from_the_cache_not_run_again(raw) -> None:
    _, sock, _, log = raw
    x = np.arange(490, dtype=np.int64).astype(np.int8).tobytes()
    for off in (0, 252):
        sock.sendall(encode(MsgType.SET_INPUT, 10 + off % 3, struct.pack("<I", off) + x[off:off + 252]))
        assert _reply(sock).type == MsgType.SET_INPUT | REPLY
    invoke = encode(MsgType.INVOKE, 77)
    sock.sendall(invoke)
    first = _reply(sock)
    sock.sendall(invoke)  # the host did not hear the answer and asks again
    again = _reply(sock)
    assert again == first
    # the double logs (and flushes) "invoke N" before it replies: wait for the log line, then count
    wait_for(lambda: _invocations(log) >= 1, what="the first invoke in the device log")
    assert _invocations(log) == 1
    sock.sendall(encode(MsgType.INVOKE, 78))  # a new request runs again
    assert _reply(sock).seq == 78
    wait_for(lambda: _invocations(log) >= 2, what="the second invoke in the device log")
    assert _invocations(log) == 2


def test_partial_frame_is_dropped_after_a_quiet_gap(raw) -> None:
    _, sock, _, _ = raw
    partial = encode(MsgType.SET_INPUT, 1, struct.pack("<I", 0) + b"\x01" * 200)[:60]
    sock.sendall(partial)
    time.sleep(0.3)  # the behaviour under test: a quiet gap > TK_PROTO_FRAME_TIMEOUT_US (100 ms)
    sock.sendall(encode(MsgType.INFO, 2))
    reply = _reply(sock)  # without the timeout the INFO would be swallowed as payload
    assert (reply.type, reply.seq) == (MsgType.INFO | REPLY, 2)


def test_oversized_length_is_rejected(raw) -> None:
    _, sock, _, _ = raw
    sock.sendall(b"\xa5\x5a\x02\x06\xff\x7f" + encode(MsgType.INFO, 7))
    d, events = Decoder(), []
    while len(events) < 2:
        events += d.feed(sock.recv(4096))
    assert events[0] == Frame(MsgType.ERROR, 6, bytes([ErrorCode.BAD_LENGTH, 2]))
    assert isinstance(events[1], Frame) and (events[1].type, events[1].seq) == (0x81, 7)


def test_host_hal_and_double_compile_clean(tmp_path: Path) -> None:
    for src in (C_DIR / "host_hal.c", C_DIR / "double_model.c", C_DIR / "host_main.c"):
        subprocess.run(["gcc", *CFLAGS, "-pedantic", f"-I{FW_INC}", f"-I{C_DIR}", "-c", str(src),
                        "-o", str(tmp_path / (src.stem + ".o"))], check=True)
