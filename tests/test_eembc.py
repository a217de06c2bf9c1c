"""MLPerf Tiny (EEMBC runner) mode: the host client drives the firmware's text
protocol (tk_eembc.c + host HAL + TEST DOUBLE model) through
name / profile / timestamp / db load / db / infer / results, and the edge cases
the reference firmwares define (infer before a complete load, extra hex in the
last chunk, infer without arguments, help, db print). The tasks' real models
on QEMU: tests/test_eembc_conformance.py."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from faultproxy import DOUBLE_NAME, DOUBLE_OUT_QUANT, HostDevice, build_host_device, double_expected

from tinykit.errors import DeviceError
from tinykit.serial.client import Device
from tinykit.serial.eembc import DB_CHUNK, EembcDevice, hex_chunks

pytestmark = pytest.mark.host  # the host device is built with gcc


@pytest.fixture(scope="module")
def device_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_device(tmp_path_factory.mktemp("eembc_dev"))


@pytest.fixture()
def device(device_exe: Path, tmp_path: Path):
    with HostDevice(device_exe, eembc=True, board="qemu-m4", log=tmp_path / "dev.log") as dev:
        yield dev


@pytest.fixture()
def kws_device(device_exe: Path, tmp_path: Path):
    """The double as the kws01 task: int8 db bytes in a buffer of their own."""
    with HostDevice(device_exe, eembc=True, board="qemu-m4", eembc_task="kws01",
                    log=tmp_path / "dev.log") as dev:
        yield dev


def _dequantized(x: np.ndarray) -> list[float]:
    scale, zp = DOUBLE_OUT_QUANT
    return [round(scale * (int(q) - zp), 3) for q in double_expected(x).reshape(-1)]


def test_boot_lines(device: HostDevice) -> None:
    with socket.create_connection(device.addr, timeout=2.0) as s:
        text = b""
        while not text.endswith(b"m-ready\r\n"):
            text += s.recv(256)
    lines = text.decode().split("\r\n")
    assert lines[0] == "m-timestamp-mode-performance"
    assert lines[1].startswith("m-lap-us-") and lines[2:4] == ["m-init-done", "m-ready"]


def test_name_profile_timestamp(device: HostDevice) -> None:
    with EembcDevice.open(device.url) as dev:
        assert dev.name() == "tinykit-qemu-m4"
        assert dev.profile() == ("tinykit 0.1.0", DOUBLE_NAME)
        t0 = dev.timestamp()
        t1 = dev.timestamp()
        assert (t1 - t0) % (1 << 32) < 60_000_000  # same clock, moving forward


@pytest.mark.parametrize("chunk", [DB_CHUNK, 32])  # the runner sends 31 bytes per db command
def test_load_infer_results_match_the_double(device: HostDevice, chunk: int) -> None:
    assert DB_CHUNK == 31
    rng = np.random.default_rng(11)
    with EembcDevice.open(device.url) as dev:
        for _ in range(3):
            x = rng.integers(-128, 128, size=(1, 49, 10), dtype=np.int8)
            dev.load(x.tobytes(), chunk)
            results, us = dev.infer(5, 2)
            assert results == pytest.approx(_dequantized(x), abs=1e-6)
            assert us >= 0
            assert dev.results() == results
        lines = dev.log
    assert "m-warmup-start-2" in lines and "m-infer-start-5" in lines and "m-infer-done" in lines


def test_errors_are_e_lines(device: HostDevice) -> None:
    with EembcDevice.open(device.url) as dev:
        with pytest.raises(DeviceError, match="Unknown command: bogus"):
            dev.command("bogus")
        with pytest.raises(DeviceError, match="db load"):
            dev.command("db 0011")  # no db load first
        with pytest.raises(DeviceError, match=r"db load N: N must be 1\.\.490"):
            dev.command("db load 100000")
        with pytest.raises(DeviceError, match="no inference yet"):
            dev.results()
        with pytest.raises(DeviceError, match="too long"):
            dev.command("db " + "00" * 200)
        assert dev.name() == "tinykit-qemu-m4"  # still answering
        with pytest.raises(DeviceError, match="odd number of hex digits"):
            dev.command("db load 2")
            dev.command("db 001")
        with pytest.raises(DeviceError, match="bad hex digit"):
            dev.command("db 0g")
        assert "m-load-done" in dev.command("db 0102")  # the refused commands consumed nothing
        assert dev.db_print() == b"\x01\x02"


def test_task_key_and_buffer(kws_device: HostDevice) -> None:
    """m-model is the runner's key (main.py picks its test script by it); the
    loaded bytes survive repeated inferences (they live in the db buffer)."""
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 49, 10), dtype=np.int8)
    with EembcDevice.open(kws_device.url) as dev:
        assert dev.profile() == ("tinykit 0.1.0", "kws01")
        dev.load(x.tobytes())
        first, _ = dev.infer(1, 0)
        again, _ = dev.infer(4, 3)
    assert first == again == pytest.approx(_dequantized(x), abs=1e-6)


def test_uint8_task_subtracts_128(device_exe: Path, tmp_path: Path) -> None:
    """ic01/vww01: the runner sends the dataset's uint8 pixels; the reference
    firmware feeds byte - 128 to the int8 model, and so does tinykit's."""
    u = np.random.default_rng(5).integers(0, 256, size=(1, 49, 10), dtype=np.uint8)
    with HostDevice(device_exe, eembc=True, board="qemu-m4", eembc_task="ic01",
                    log=tmp_path / "dev.log") as host, EembcDevice.open(host.url) as dev:
        assert dev.profile()[1] == "ic01"
        dev.load(u.tobytes())
        results, _ = dev.infer(1, 0)
        assert dev.db_print() == u.tobytes()  # the raw bytes are kept, not shifted
    shifted = (u.astype(np.int16) - 128).astype(np.int8)
    assert results == pytest.approx(_dequantized(shifted), abs=1e-6)
    assert results != pytest.approx(_dequantized(u.view(np.int8)), abs=1e-6)


@pytest.mark.parametrize("loaded", [0, 31, 489])
def test_infer_before_a_complete_load_is_an_error(kws_device: HostDevice, loaded: int) -> None:
    """As the reference firmware: "Input db has N elemented, expected M", but as an
    e- line and without running on the stale bytes of an earlier load."""
    x = np.random.default_rng(1).integers(-128, 128, size=490, dtype=np.int8).tobytes()
    with EembcDevice.open(kws_device.url) as dev:
        dev.load(x)
        dev.infer(1, 0)  # a complete load runs
        dev.command("db load 490")
        for part in hex_chunks(x[:loaded]):
            dev.command(f"db {part}")
        with pytest.raises(DeviceError, match=f"Input db has {loaded} elemented, expected 490"):
            dev.command("infer 1 0")
        lines = dev.log
    since_reload = lines[len(lines) - lines[::-1].index("m-[Expecting 490 bytes]"):]
    assert not any(ln.startswith("m-warmup-start") for ln in since_reload)


def test_extra_hex_in_the_last_chunk_is_dropped(kws_device: HostDevice) -> None:
    x = np.random.default_rng(2).integers(-128, 128, size=490, dtype=np.int8).tobytes()
    with EembcDevice.open(kws_device.url) as dev:
        dev.command("db load 490")
        for part in hex_chunks(x[:465]):  # 15 commands of 31 bytes, then 25 + 6 extra
            assert dev.command(f"db {part}") == []
        assert dev.command(f"db {(x[465:] + bytes(6)).hex()}") == ["m-load-done"]
        assert dev.db_print() == x
        with pytest.raises(DeviceError, match="already arrived"):
            dev.command("db 00")
        results, _ = dev.infer(1, 0)
    assert results == pytest.approx(_dequantized(np.frombuffer(x, np.int8)), abs=1e-6)


def test_infer_defaults_and_bounds(kws_device: HostDevice) -> None:
    """``infer`` alone is 1 inference after 10 warmup runs, as the reference's."""
    with EembcDevice.open(kws_device.url) as dev:
        dev.load(bytes(490))
        lines = dev.command("infer")
        assert lines[:3] == ["m-warmup-start-10", "m-warmup-done", "m-infer-start-1"]
        assert "m-warmup-start-10" in dev.command("infer 2")
        with pytest.raises(DeviceError, match="iterations must be >0"):
            dev.command("infer 0")


def test_help_and_db_print(kws_device: HostDevice) -> None:
    with EembcDevice.open(kws_device.url) as dev:
        text = dev.help()
        for cmd in ("help", "name", "timestamp", "db SUBCMD", "load N", "print", "infer", "results"):
            assert any(ln.startswith((cmd, f"  {cmd}")) for ln in text), cmd
        assert not any(ln.startswith("e-") for ln in text)
        dev.command("db load 10")
        dev.command("db " + bytes(range(1, 11)).hex())
        lines = dev.command("db print")
    assert lines == ["m-buffer-01-02-03-04-05-06-07-08", "m-buffer-09-0a"]


def test_tinykit_client_names_mlperf_firmware(kws_device: HostDevice) -> None:
    """`tinykit run`/`test` speak tinykit's framed protocol: at an MLPerf Tiny mode
    firmware they say what it is after one unanswered request, not 4 retries."""
    with pytest.raises(DeviceError, match=r"MLPerf Tiny mode firmware .*--protocol eembc") as e:
        with Device.open(kws_device.url, timeout=1.0) as dev:
            dev.info()
    assert "EembcDevice" in (e.value.hint or "")
